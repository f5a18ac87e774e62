//! The server: its groups' pushes, and the tick at which the policy's rule
//! re-sets every group's rate.

use crate::input::config::{Grouping, RuleKind};
use crate::policy::{GroupState, Snapshot, water_fill};

use super::metrics::TickRecord;
use super::space::keys;
use super::state::{Event, Flow, PeerId, PeerState, Source};
use super::world::Sim;

impl Sim<'_> {
    /// Push the next block of group `g` to leecher `p`, if the group has a
    /// rate, `p` has no server block of `g` in flight, and needs one.
    pub(super) fn start_server_flow(&mut self, p: PeerId, g: u32) {
        if self.has_server_flow(p, g) {
            return;
        }
        self.push_server_block(p, g);
    }

    /// Whether leecher `p` has a block of group `g` in flight.
    fn has_server_flow(&self, p: PeerId, g: u32) -> bool {
        let in_flight = &self.peers[p as usize].server_flows;
        in_flight.iter().any(|&(sg, _)| sg == g)
    }

    /// [`Sim::start_server_flow`] once `p` is known to have no block of
    /// `g` in flight, as when its flow of `g` has just been delivered (a
    /// leecher has at most one a group). That is most pushes, and the
    /// search of its flows in flight (about 10 under chunk groups on the
    /// paper's default) was 1.6% of cross-opt's instructions a block.
    pub(super) fn push_server_block(&mut self, p: PeerId, g: u32) {
        #[cfg(test)]
        assert!(
            !self.has_server_flow(p, g),
            "a second flow of group {g} to {p}"
        );
        if self.peers[p as usize].state != PeerState::Leecher
            || self.groups[g as usize].share.capacity_mbps() <= 0.0
        {
            return;
        }
        let key = match self.setup.policy.groups {
            Grouping::Image => self.pick_unrequested(p, false),
            Grouping::Chunk => {
                self.set_chunk_candidates(p, g);
                self.pick_block_in_chunk(p, g)
            }
        };
        let Some(key) = key else {
            return;
        };
        let size_mb = self.space.block_mb(key);
        let f = self.new_flow(Flow {
            receiver: p,
            source: Source::Server(g),
            key,
            size_mb,
        });
        self.holdings.set_pending(p, key, true);
        self.peers[p as usize].server_flows.push((g, f));
        if self.fabric.is_some() {
            self.net_start_server(f, g, p, size_mb);
        } else {
            let now = self.now();
            self.groups[g as usize].share.add(now, f, size_mb);
            self.note_group_flows_changed(g);
        }
    }

    /// `S^g`: Mb of group `g`'s remaining data in blocks no present peer
    /// holds (in flight from the server included, as in `R^g`).
    pub(super) fn server_only_mb(&self, g: u32) -> f64 {
        let mut total = 0.0;
        for &m in &self.groups[g as usize].members {
            let peer = &self.peers[m as usize];
            let image = peer.image as usize;
            let row = self.holdings.row(m);
            let unheld = |w: usize, bits: u64| (w, bits & !row.have(w));
            let missing: Box<dyn Iterator<Item = (usize, u64)>> = match self.setup.policy.groups {
                Grouping::Image => {
                    Box::new(self.space.image_keys(image).map(|(w, b)| unheld(w, b)))
                }
                Grouping::Chunk => Box::new(
                    self.space
                        .chunk_keys(g)
                        .iter()
                        .map(move |&(w, b)| unheld(w, b)),
                ),
            };
            let unheld = missing.map(|(w, bits)| (w, bits & self.rarity.unheld_word(w)));
            total += keys(unheld).map(|k| self.space.block_mb(k)).sum::<f64>();
        }
        total
    }

    /// How long group `g`'s earliest member has been downloading (s; 0
    /// without members).
    fn oldest_member_age_s(&self, g: u32) -> f64 {
        let members = &self.groups[g as usize].members;
        let joined = members
            .iter()
            .map(|&m| self.peers[m as usize].joined_s)
            .reduce(f64::min);
        joined.map_or(0.0, |t| (self.now() - t).max(0.0))
    }

    /// Re-set every group's rate by the policy's rule (docs/model.md section 5).
    pub(super) fn on_tick(&mut self) {
        let now = self.now();
        let tick_s = self.setup.server.tick_s;
        let u_s = self.setup.server.u_s_mbps;
        let mut sent = Vec::with_capacity(self.groups.len());
        let member_stats: Vec<(f64, f64)> = (0..self.groups.len() as u32)
            .map(|g| (self.server_only_mb(g), self.oldest_member_age_s(g)))
            .collect();
        let sent_total: Vec<f64> = (0..self.groups.len() as u32)
            .map(|g| self.group_sent_mb(g, now))
            .collect();
        let states: Vec<GroupState> = self
            .groups
            .iter_mut()
            .zip(member_stats.iter().zip(&sent_total))
            .map(|(g, (&(server_only_mb, oldest_leecher_age_s), &sent_mb))| {
                sent.push(sent_mb - g.sent_mb_at_tick);
                g.sent_mb_at_tick = sent_mb;
                GroupState {
                    remaining_mb: g.remaining_mb,
                    peer_upload_mbps: g.peer_mb_since_tick / tick_s,
                    popularity: g.popularity,
                    server_only_mb,
                    leechers: g.members.len(),
                    oldest_leecher_age_s,
                }
            })
            .collect();
        let snapshot = Snapshot {
            u_s_mbps: u_s,
            groups: &states,
        };
        let allocation = self.rule.allocate(&snapshot);
        let gap = (self.setup.policy.rule == RuleKind::Subgradient).then(|| {
            let (_, best) = water_fill(&snapshot);
            let m = snapshot.max_remaining_time_s(&allocation.rates_mbps);
            if best > 0.0 && best.is_finite() {
                (m - best) / best
            } else {
                0.0
            }
        });
        for (g, state) in states.iter().enumerate() {
            let group = &self.groups[g];
            let rate = allocation.rates_mbps[g];
            if !group.members.is_empty() || rate > 0.0 || sent[g] > 0.0 {
                self.ticks.push(TickRecord {
                    time_s: now,
                    group: g,
                    u_s_g_mbps: rate,
                    leechers: group.members.len(),
                    seeders: group.seeders,
                    remaining_mb: state.remaining_mb,
                    peer_upload_mbps: state.peer_upload_mbps,
                    server_only_mb: state.server_only_mb,
                    t_r_s: state.remaining_time_s(rate),
                    server_sent_mb: sent[g],
                    iterations: allocation.iterations,
                    gap,
                });
            }
        }
        self.apply_rates(&allocation.rates_mbps);
        self.engine.schedule(now + tick_s, Event::Tick);
    }

    /// Set each group's new rate. A group whose rate fell to zero drops its
    /// flows; one whose rate fell lets its waiting leechers look again for a
    /// faster peer (the end game); one that gets a rate again pushes to its
    /// members.
    fn apply_rates(&mut self, rates_mbps: &[f64]) {
        let now = self.now();
        if self.fabric.is_some() {
            // The network takes the new rates first, solved at once, so a
            // lowered rate is never exceeded; each group's FairShare then
            // only records its rate.
            self.net_set_group_rates(rates_mbps);
        }
        for (g, &rate) in rates_mbps.iter().enumerate() {
            let old = self.groups[g].share.capacity_mbps();
            self.groups[g].share.set_capacity(now, rate);
            self.groups[g].peer_mb_since_tick = 0.0;
            if rate <= 0.0 && old > 0.0 {
                self.preempt_group(g as u32);
            } else if rate > 0.0 && old <= 0.0 {
                let members = self.groups[g].members.clone();
                for m in members {
                    self.start_server_flow(m, g as u32);
                }
            } else if rate < old {
                let waiting: Vec<PeerId> = self.groups[g]
                    .members
                    .iter()
                    .copied()
                    .filter(|&m| self.waiting.waits(m))
                    .collect();
                for m in waiting {
                    self.fill_downloads(m);
                }
            }
            self.note_group_flows_changed(g as u32);
        }
    }

    /// A group whose rate fell to zero drops its flows: their blocks go back
    /// to the leechers' wants, so peers may serve them, and the partial data
    /// counts as waste.
    pub(super) fn preempt_group(&mut self, g: u32) {
        let drained = self.drain_group(g);
        let receivers: Vec<PeerId> = self.cut_flows(drained).iter().map(|f| f.receiver).collect();
        for r in receivers {
            self.refill(r, None);
        }
    }
}
