//! Rack locality (`peers.locality`, docs/model.md section 9): a leecher
//! prefers holders in its own rack, then any holder, as Facebook's tracker
//! and Dragonfly's parent scoring prefer nearby peers. Three places apply
//! the preference:
//!
//! * block choice: the leecher's rarest block among those some present
//!   host of its rack holds, and only when there is none, its rarest block
//!   among all (without this, the globally rarest block is almost never in
//!   the rack, and the source preference below would rarely apply);
//! * source choice: among the block's holders in the leecher's rack first,
//!   then among all of them;
//! * offers: a holder with a free slot serves the waiters of its own rack
//!   first (the waiting queues are per rack, see `waiting`).
//!
//! Holders are listed per key and per (key, rack), and each rack keeps how
//! many of its present hosts hold each key.

use crate::input::topology::Locality;

use super::holder_lists::HolderLists;
use super::holders::{Choice, Found};
use super::state::PeerId;
use super::world::Sim;

/// Holders by rack: per (key, rack) a holder list, and per rack how many
/// present hosts hold each key, with a bitset of the keys held.
#[derive(Debug, Clone, Default)]
pub(super) struct RackHolders {
    /// Holders per key and rack (`key * racks + rack`); departed peers are
    /// dropped lazily, as in the global lists.
    lists: HolderLists,
    /// Present holders per rack and key (`rack * keys + key`).
    count: Vec<u32>,
    /// Per rack, the keys some present host of it holds (`words` words each).
    held: Vec<u64>,
}

impl RackHolders {
    /// Empty, for `keys` keys (`words` bitset words) in `racks` racks.
    pub(super) fn new(keys: usize, words: usize, racks: usize) -> RackHolders {
        RackHolders {
            lists: HolderLists::new(keys * racks),
            count: vec![0; keys * racks],
            held: vec![0; words * racks],
        }
    }

    /// Keep only the entries of the peers `keep` accepts, in order.
    pub(super) fn retain(&mut self, keep: impl Fn(PeerId) -> bool) {
        self.lists.retain(keep);
    }

    /// Make room for peer slot `p` in the lists (see `holder_lists`).
    pub(super) fn make_room(&mut self, p: PeerId) {
        self.lists.make_room(p);
    }
}

impl Sim<'_> {
    /// Whether sources are chosen rack first.
    pub(super) fn rack_first(&self) -> bool {
        self.setup.peers.locality == Locality::Rack
    }

    /// Peer `p` now holds `key`: list it among the key's holders (and its
    /// rack's, under rack locality). Forced inline: once a delivery, and
    /// the call was about 15 of its 52 instructions (0.8% fewer a block on
    /// the paper's default, 1.4% on the 1,000-host crowd).
    #[inline(always)]
    pub(super) fn add_holder(&mut self, key: u32, p: PeerId) {
        self.holders.push_roomy(key as usize, p);
        self.holder_entries += 1;
        if self.rack_first() {
            let rack = self.racks.rack(p) as usize;
            let by = &mut self.by_rack;
            by.lists
                .push(key as usize * self.racks.count as usize + rack, p);
            let count = &mut by.count[rack * self.holders.count() + key as usize];
            *count += 1;
            if *count == 1 {
                by.held[rack * self.space.words + key as usize / 64] |= 1 << (key % 64);
            }
        }
    }

    /// Peer `p`, a holder of `key`, left: its rack counts one holder less.
    /// (Its entries in the holder lists go lazily, see `holders`.)
    pub(super) fn forget_rack_holder(&mut self, key: u32, p: PeerId) {
        if self.rack_first() {
            let rack = self.racks.rack(p) as usize;
            let by = &mut self.by_rack;
            let count = &mut by.count[rack * self.holders.count() + key as usize];
            *count -= 1;
            if *count == 0 {
                by.held[rack * self.space.words + key as usize / 64] &= !(1 << (key % 64));
            }
        }
    }

    /// The block leecher `p` asks a peer for, except `excluded`: rarest
    /// first (or random, sequential) among the blocks some present peer
    /// holds; under rack locality, among those a host of its rack holds
    /// first.
    pub(super) fn pick_request(&mut self, p: PeerId, excluded: &[u32]) -> Option<u32> {
        if self.rack_first() {
            self.set_candidates(p, None, excluded);
            self.keep_by_rack(p, true);
            // A block from the rack is not the rarest of all: no floor.
            if let Some(key) = self.pick_block(p, true) {
                return Some(key);
            }
        }
        let key = if excluded.is_empty() {
            self.pick_unrequested(p, true)
        } else {
            self.set_candidates(p, None, excluded);
            self.pick_block(p, true)
        };
        if let Some(key) = key
            && excluded.is_empty()
        {
            self.note_rarest(p, key);
        }
        key
    }

    /// Keep of the candidates those some host of `p`'s rack holds
    /// (`held`), or those no host of it holds.
    fn keep_by_rack(&mut self, p: PeerId, held: bool) {
        let words = self.space.words;
        let rack = self.racks.rack(p) as usize;
        let in_rack = &self.by_rack.held[rack * words..(rack + 1) * words];
        let flip = if held { 0 } else { u64::MAX };
        for [w, bits] in &mut self.candidates {
            *bits &= in_rack[*w as usize] ^ flip;
        }
        self.candidates.retain(|&[_, bits]| bits != 0);
    }

    /// The source of a request for `key` by `asker`, by the configured
    /// choice (see `holders`): among the holders in `asker`'s rack first
    /// under rack locality, then among all of them.
    pub(super) fn choose_source(&mut self, key: u32, asker: PeerId) -> Found {
        let peers = &self.setup.peers;
        let choice = Choice {
            uploaders: &self.uploaders,
            asker,
            slots: peers.upload_slots as usize,
            samples: peers.source_samples as usize,
        };
        let rule = peers.source_choice;
        if peers.locality == Locality::Rack && self.rack_holds(self.racks.rack(asker), key) {
            let i = key as usize * self.racks.count as usize + self.racks.rack(asker) as usize;
            let lists = &mut self.by_rack.lists;
            return choice.choose(lists, i, rule, &mut self.source_rng).0;
        }
        let (found, dropped) =
            choice.choose(&mut self.holders, key as usize, rule, &mut self.source_rng);
        // A choice drops the departed holders it meets.
        self.holder_entries -= dropped;
        self.stale_holders = self.stale_holders.saturating_sub(dropped);
        found
    }

    /// Whether some present host of `rack` holds `key` (always false
    /// without rack locality, which does not track it).
    pub(super) fn rack_holds(&self, rack: u32, key: u32) -> bool {
        self.rack_first()
            && self.by_rack.count[rack as usize * self.holders.count() + key as usize] > 0
    }

    /// Under rack locality, when holder `h` serves a waiter `l` of another
    /// rack, keep only the candidates `l`'s rack has no host holding: a
    /// block the rack holds comes from inside it.
    pub(super) fn keep_imports(&mut self, l: PeerId, h: PeerId) {
        if !self.rack_first() || !self.racks.crosses(h, l) {
            return;
        }
        self.keep_by_rack(l, false);
    }
}
