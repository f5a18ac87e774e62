//! Peers: arrival, completion and departure, and the accounting of their
//! uploads.

use crate::input::config::Grouping;

use super::metrics::{Download, VmRecord};
use super::rarity::Floor;
use super::space::keys;
use super::state::{Event, Membership, Peer, PeerId, PeerState, Upload, Uploader};
use super::transfer::FairShare;

/// `Membership::index` of a group the peer is not a member of.
const NOT_MEMBER: u32 = u32::MAX;
use super::world::Sim;

impl Sim<'_> {
    /// A peer joins: in a new slot, or in a departed peer's that no list
    /// names any more (see `holders` and `Sim::reuses_slots`).
    pub(super) fn add_peer(
        &mut self,
        image: usize,
        upload_mbps: f64,
        vm: Option<usize>,
        lifetime_s: f64,
        counted: bool,
    ) -> PeerId {
        // Free slots exist only where slots are reused (`reuses_slots`).
        let reused = self.free_peers.pop();
        let id = reused.unwrap_or(self.peers.len() as PeerId);
        // Holder lists keep 16-bit slots until a slot needs more.
        self.holders.make_room(id);
        self.by_rack.make_room(id);
        if let Some(fab) = &mut self.fabric {
            fab.add_host(upload_mbps);
        }
        self.waiting.add_peer(id, self.racks.rack(id));
        self.holdings.clear(id, self.space.image_keys(image));
        let slots = if upload_mbps > 0.0 {
            self.setup.peers.upload_slots
        } else {
            0
        };
        let upload = Upload {
            share: FairShare::new(upload_mbps),
            event: None,
        };
        let peer = Peer {
            image: image as u32,
            upload_mbps,
            state: PeerState::Leecher,
            missing: self.space.image_blocks[image],
            peer_downloads: 0,
            floor: Floor::default(),
            membership: self.memberships_of_image(image),
            server_flows: Vec::new(),
            vm,
            lifetime_s,
            arrival_s: self.now(),
            joined_s: self.now(),
            completed_s: f64::NAN,
            sent_as_leecher_mb: 0.0,
            counted,
            from_server_mb: 0.0,
            from_peers_mb: 0.0,
        };
        match reused {
            Some(slot) => {
                let i = slot as usize;
                self.peers[i] = peer;
                self.uploaders[i] = Uploader::new(slots);
                self.uploads[i] = upload;
            }
            None => {
                self.peers.push(peer);
                self.uploaders.push(Uploader::new(slots));
                self.uploads.push(upload);
            }
        }
        self.present_peers += 1;
        id
    }

    /// The server groups a peer of `image` belongs to while it lacks their data.
    pub(super) fn groups_of_image(&self, image: usize) -> Vec<u32> {
        match self.setup.policy.groups {
            Grouping::Image => vec![image as u32],
            Grouping::Chunk => self.space.image_chunks[image].clone(),
        }
    }

    pub(super) fn group_of_key(&self, image: u32, key: u32) -> u32 {
        match self.setup.policy.groups {
            Grouping::Image => image,
            Grouping::Chunk => self.space.key_chunk[key as usize],
        }
    }

    /// A preheated seeder holds every block of its image from the start.
    pub(super) fn become_holder_of_all(&mut self, p: PeerId) {
        let image = self.peers[p as usize].image as usize;
        self.holdings.set_have_all(p, &self.space.image_mask[image]);
        let peer = &mut self.peers[p as usize];
        peer.missing = 0;
        peer.state = PeerState::Seeder;
        let held: Vec<u32> = keys(self.space.image_keys(image)).collect();
        for key in held {
            self.rarity.increment(key);
            self.add_holder(key, p);
        }
        for g in self.groups_of_image(image) {
            self.groups[g as usize].seeders += 1;
        }
    }

    /// Request `i` arrives (a streamed one is the one scheduled last; the
    /// next is drawn and scheduled now).
    pub(super) fn on_arrival(&mut self, i: usize) {
        let r = match self.next_request.take() {
            Some(r) => {
                self.schedule_next_arrival();
                r
            }
            None => self.setup.workload.requests[i],
        };
        let counted = r.arrival_s >= self.setup.workload.warmup_s;
        let p = self.add_peer(r.image, r.upload_mbps, Some(i), r.lifetime_s, counted);
        self.peers[p as usize].arrival_s = r.arrival_s;
        for g in self.groups_of_image(r.image) {
            let chunk_mb = match self.setup.policy.groups {
                Grouping::Image => self.image_mb(r.image),
                Grouping::Chunk => self.chunk_mb(g),
            };
            self.join_group(g, p);
            self.groups[g as usize].remaining_mb += chunk_mb;
            self.start_server_flow(p, g);
        }
        self.fill_downloads(p);
    }

    pub(super) fn image_mb(&self, image: usize) -> f64 {
        self.space.image_chunks[image]
            .iter()
            .map(|&c| self.chunk_mb(c))
            .sum()
    }

    pub(super) fn chunk_mb(&self, c: u32) -> f64 {
        self.space.chunk_blocks[c as usize] as f64 * self.space.chunk_block_mb[c as usize]
    }

    pub(super) fn on_departure(&mut self, p: PeerId) {
        let now = self.now();
        let image = self.peers[p as usize].image as usize;
        self.account_peer_upload(p, now);
        self.peers[p as usize].state = PeerState::Gone;
        self.uploaders[p as usize] = Uploader::GONE;
        // Uploads in flight are cut off: their receivers lose the partial block.
        let drained = self.drain_uploads(p);
        let cut = self.cut_flows(drained);
        if let Some(e) = self.uploads[p as usize].event.take() {
            self.engine.cancel(e);
        }
        self.stale_holders += self.rarity.decrement_all(self.space.image_keys(image));
        if self.rack_first() {
            let held: Vec<u32> = keys(self.space.image_keys(image)).collect();
            for key in held {
                self.forget_rack_holder(key, p);
            }
        }
        for g in self.groups_of_image(image) {
            self.groups[g as usize].seeders -= 1;
        }
        // A departed peer holds nothing: offers and the end game read its
        // bits until its slot is reused.
        self.holdings.clear(p, std::iter::empty());
        self.present_peers -= 1;
        self.after_departure(p);
        for flow in cut {
            let r = flow.receiver;
            let g = self.group_of_key(self.peers[r as usize].image, flow.key);
            self.refill(r, Some(g));
        }
    }

    /// Add a peer's capacity-time to the totals and check it never sent more
    /// than its upload allows.
    pub(super) fn account_peer_upload(&mut self, p: PeerId, now: f64) {
        let sent = self.upload_sent_mb(p, now);
        let peer = &mut self.peers[p as usize];
        let capacity = peer.upload_mbps * (now - peer.joined_s);
        self.counters.peer_sent_mb += sent;
        self.counters.peer_capacity_mb += capacity;
        if peer.counted && peer.state == PeerState::Seeder {
            self.counters.seeder_sent_mb += sent - peer.sent_as_leecher_mb;
            self.counters.seeder_capacity_mb += peer.upload_mbps * (now - peer.completed_s);
        }
        if capacity > 0.0 {
            self.counters.max_peer_utilisation =
                self.counters.max_peer_utilisation.max(sent / capacity);
        } else if sent > 0.0 {
            self.counters.max_peer_utilisation = f64::INFINITY;
        }
    }

    /// A leecher holds its whole image: it becomes a seeder for its lifetime.
    pub(super) fn complete(&mut self, p: PeerId) {
        let now = self.now();
        let image = self.peers[p as usize].image as usize;
        self.waiting.forget(p);
        let sent_mb = self.upload_sent_mb(p, now);
        self.holdings.clear_pending(p);
        let peer = &mut self.peers[p as usize];
        peer.state = PeerState::Seeder;
        peer.completed_s = now;
        peer.sent_as_leecher_mb = sent_mb;
        if peer.counted {
            self.counters.leecher_sent_mb += peer.sent_as_leecher_mb;
            self.counters.leecher_capacity_mb += peer.upload_mbps * (now - peer.joined_s);
        }
        if let Some(vm) = peer.vm {
            if peer.counted {
                self.downloads.push(Download {
                    image: image as u32,
                    download_s: now - peer.arrival_s,
                });
            }
            self.done.push(VmRecord {
                vm,
                image,
                arrival_s: peer.arrival_s,
                completion_s: now,
                from_server_mb: peer.from_server_mb,
                from_peers_mb: peer.from_peers_mb,
                uploaded_as_leecher_mb: peer.sent_as_leecher_mb,
                upload_mbps: peer.upload_mbps,
                counted: peer.counted,
            });
            self.completed += 1;
        }
        let lifetime = peer.lifetime_s;
        for g in self.groups_of_image(image) {
            self.leave_group(g, p);
            self.groups[g as usize].seeders += 1;
        }
        if lifetime.is_finite() {
            self.engine
                .schedule_late(now + lifetime, Event::Departure(p));
        }
    }

    /// A new peer's places in the groups of `image`: no member yet, and
    /// lacking every block.
    fn memberships_of_image(&self, image: usize) -> Vec<Membership> {
        let lacking = |g: u32| match self.setup.policy.groups {
            Grouping::Image => self.space.image_blocks[image],
            Grouping::Chunk => self.space.chunk_blocks[g as usize],
        };
        let groups = self.groups_of_image(image).into_iter();
        groups
            .map(|g| Membership {
                index: NOT_MEMBER,
                lacking: lacking(g),
            })
            .collect()
    }

    /// Under chunk groups: leecher `p` received a block of chunk `g`, new
    /// to it (`new`) or not; whether it now holds the whole chunk.
    pub(super) fn holds_chunk_after_delivery(&mut self, p: PeerId, g: u32, new: bool) -> bool {
        let slot = self.group_slot(p, g);
        let place = &mut self.peers[p as usize].membership[slot];
        if new {
            place.lacking -= 1;
        }
        let whole = place.lacking == 0;
        #[cfg(test)]
        assert_eq!(whole, self.holdings.holds_all(p, self.space.chunk_keys(g)));
        whole
    }

    /// Where peer `p` keeps its index in group `g`'s members: its image's
    /// one group, or the chunk's position in its image.
    fn group_slot(&self, p: PeerId, g: u32) -> usize {
        match self.setup.policy.groups {
            Grouping::Image => 0,
            Grouping::Chunk => {
                let image = self.peers[p as usize].image as usize;
                self.space.chunk_pos(image, g) as usize
            }
        }
    }

    /// Leecher `p` lacks data of group `g`: it joins the members.
    fn join_group(&mut self, g: u32, p: PeerId) {
        let slot = self.group_slot(p, g);
        let members = &mut self.groups[g as usize].members;
        self.peers[p as usize].membership[slot].index = members.len() as u32;
        members.push(p);
    }

    /// `p` leaves group `g`'s members, if it is one, in O(1): the last
    /// member takes its place.
    pub(super) fn leave_group(&mut self, g: u32, p: PeerId) {
        let slot = self.group_slot(p, g);
        let i = std::mem::replace(
            &mut self.peers[p as usize].membership[slot].index,
            NOT_MEMBER,
        );
        if i == NOT_MEMBER {
            return;
        }
        let members = &mut self.groups[g as usize].members;
        members.swap_remove(i as usize);
        if let Some(&moved) = members.get(i as usize) {
            let moved_slot = self.group_slot(moved, g);
            self.peers[moved as usize].membership[moved_slot].index = i;
        }
    }
}
