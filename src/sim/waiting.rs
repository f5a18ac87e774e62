//! Leechers waiting for a source, indexed by the blocks they wait for, so a
//! holder with a free slot touches only leechers it can serve.
//!
//! A leecher that finds no free holder for its blocks *waits*: it is put on
//! the queue of each block it lacks and has not requested (and, under the
//! end game, of each server block in flight that some peer holds), once per
//! block (a per-leecher bitset remembers which). A holder with a free slot
//! takes waiters from the queues of the blocks it holds, in key order,
//! first come first served; each serves its rarest block among the holder's.
//! Entries that no longer apply (the leecher got or requested the block,
//! stopped waiting, or left) are dropped as they are met, so every entry is
//! handled once and an offer's cost is the entries it meets.
//!
//! Under `peers.locality = "rack"` each key has a queue per rack, and a
//! holder serves its own rack's waiters first, then the other racks' in
//! rack order from its own (docs/model.md section 9). Otherwise there is
//! one rack of queues, and the order is first come, first served.

use super::fifo::Fifo;
use super::space::{clear_word_summarized, keys, set_summarized, set_word_summarized};
use super::state::{PeerId, PeerState};
use super::world::Sim;

/// The queues of waiting leechers per key.
#[derive(Default)]
pub(super) struct Waiting {
    /// Per peer: whether it waits now.
    waits: Vec<bool>,
    /// Per peer slot `p`, from `p * words`: the keys whose queue it is on
    /// (a bitset of the space), in one array so that a stale entry met in
    /// a queue costs one load, not two.
    queued: Vec<u64>,
    /// Words of a bitset of the space.
    words: usize,
    /// Per key and rack (`key * racks + rack`): waiting leechers, first
    /// come first.
    queues: Vec<Fifo<PeerId>>,
    /// Racks with queues of their own (1 without rack locality).
    racks: usize,
    /// Per peer: its rack's queue (0 without rack locality).
    rack_of: Vec<u32>,
    /// Keys whose queue may be non-empty (a bitset of the space), and how
    /// many they are: with none, an offer has nothing to look at.
    nonempty: Vec<u64>,
    nonempty_keys: usize,
    /// Words of `nonempty` that are not zero (a bitset of word indices):
    /// an offer skips the words of its image where no queue can serve,
    /// most of them on the paper's default.
    nonempty_words: Vec<u64>,
    /// Grows whenever queues go from empty to non-empty (once per word of
    /// such keys an `enqueue` meets): while it stays, queues only empty,
    /// so an offer knows where it is.
    fills: u64,
}

impl Waiting {
    /// No one waits, in a space of `n_keys` keys, with queues for each of
    /// `racks` racks (1: no rack locality).
    pub(super) fn new(n_keys: usize, racks: usize) -> Waiting {
        Waiting {
            waits: Vec::new(),
            queued: Vec::new(),
            words: n_keys.div_ceil(64),
            queues: vec![Fifo::default(); n_keys * racks],
            racks,
            rack_of: Vec::new(),
            nonempty: vec![0; n_keys.div_ceil(64)],
            nonempty_keys: 0,
            nonempty_words: vec![0; n_keys.div_ceil(64).div_ceil(64)],
            fills: 0,
        }
    }

    /// A new peer in `rack`, not waiting, in slot `p`: a new slot, or a
    /// departed peer's.
    pub(super) fn add_peer(&mut self, p: PeerId, rack: u32) {
        let rack = if self.racks > 1 { rack } else { 0 };
        let p = p as usize;
        if p == self.waits.len() {
            self.waits.push(false);
            self.queued.resize((p + 1) * self.words, 0);
            self.rack_of.push(rack);
        } else {
            self.waits[p] = false;
            self.queued_mut(p as PeerId).fill(0);
            self.rack_of[p] = rack;
        }
    }

    /// The bitset of the queues `p` is on.
    fn queued_mut(&mut self, p: PeerId) -> &mut [u64] {
        let start = p as usize * self.words;
        &mut self.queued[start..start + self.words]
    }

    /// Racks with queues of their own.
    pub(super) fn racks(&self) -> usize {
        self.racks
    }

    /// Whether `p` waits.
    pub(super) fn waits(&self, p: PeerId) -> bool {
        self.waits[p as usize]
    }

    /// `p` no longer waits (its queue entries go as they are met).
    pub(super) fn stop(&mut self, p: PeerId) {
        self.waits[p as usize] = false;
    }

    /// A peer completed or left: it will never wait again, and its entries
    /// go as they are met.
    pub(super) fn forget(&mut self, p: PeerId) {
        self.waits[p as usize] = false;
        self.queued_mut(p).fill(0);
    }

    /// Put `p` on the queues of the keys of `words` (`(word, bits)`) it is
    /// not on yet.
    fn enqueue(&mut self, p: PeerId, words: impl Iterator<Item = (usize, u64)>) {
        let rack = self.rack_of[p as usize] as usize;
        let start = p as usize * self.words;
        let queued = &mut self.queued[start..start + self.words];
        for (w, bits) in words {
            let fresh = bits & !queued[w];
            queued[w] |= fresh;
            for key in keys(std::iter::once((w, fresh))) {
                self.queues[key as usize * self.racks + rack].push_back(p);
            }
            // The word's keys whose queues were empty, all at once.
            let filled = fresh & !self.nonempty[w];
            if filled != 0 {
                self.fills += 1;
                self.nonempty_keys += filled.count_ones() as usize;
                set_word_summarized(&mut self.nonempty, &mut self.nonempty_words, w, filled);
            }
        }
    }

    /// Drop the entries of departed peers (`gone`) from every queue.
    pub(super) fn purge(&mut self, gone: impl Fn(&PeerId) -> bool) {
        for queue in &mut self.queues {
            queue.retain(|p| !gone(p));
        }
    }

    /// The first entry of `key`'s queue in `rack` whose leecher waits now,
    /// taken off it, and every entry before it dropped (their leechers
    /// stopped waiting: most entries an offer meets). One tight loop, as a
    /// leecher's first wait puts it on the queues of all its blocks.
    fn pop_waiting(&mut self, key: u32, rack: usize) -> Option<PeerId> {
        let queue = &mut self.queues[key as usize * self.racks + rack];
        let (w, bit) = (key as usize / 64, 1u64 << (key % 64));
        while let Some(p) = queue.pop_front() {
            self.queued[p as usize * self.words + w] &= !bit;
            if self.waits[p as usize] {
                return Some(p);
            }
        }
        None
    }

    /// Without rack locality: go through the queues of `bits` (keys of
    /// word `w`) in key order, dropping stale entries, until one whose
    /// leecher waits, which is taken off its queue and returned with its
    /// key. Also returns the keys whose queues it served empty on the way,
    /// for [`Waiting::emptied_keys`]. Most queues an offer visits hold
    /// stale entries alone, and this loop over them reads no state of the
    /// simulation but the queues'.
    fn sweep(&mut self, w: usize, mut bits: u64) -> (u64, Option<(u32, PeerId)>) {
        debug_assert_eq!(self.racks, 1);
        let mut served_empty = 0;
        while bits != 0 {
            let low = bits & bits.wrapping_neg();
            let key = (w * 64) as u32 + low.trailing_zeros();
            if let Some(p) = self.pop_waiting(key, 0) {
                return (served_empty, Some((key, p)));
            }
            served_empty |= low;
            bits ^= low;
        }
        (served_empty, None)
    }

    /// The queues of `keys` (of word `w`) were served until empty: no one
    /// waits for them. [`Waiting::emptied`] for many keys at once.
    fn emptied_keys(&mut self, w: usize, keys: u64) {
        let gone = keys & self.nonempty[w];
        if gone != 0 {
            self.nonempty_keys -= gone.count_ones() as usize;
            clear_word_summarized(&mut self.nonempty, &mut self.nonempty_words, w, gone);
        }
    }

    /// `key`'s queues were served until empty: no one waits for it.
    fn emptied(&mut self, key: u32) {
        if self.nonempty[key as usize / 64] & (1 << (key % 64)) != 0 {
            self.nonempty_keys -= 1;
            let (bitmap, summary) = (&mut self.nonempty, &mut self.nonempty_words);
            set_summarized(bitmap, summary, key as usize, false);
        }
    }

    /// The first word from `from` on, among the words set in `among` (a
    /// bitset of word indices), where some key's queue may be non-empty.
    fn next_word(&self, among: &[u64], from: usize) -> Option<usize> {
        let mut j = from / 64;
        let mut mask = u64::MAX << (from % 64);
        while j < among.len() {
            let found = among[j] & self.nonempty_words[j] & mask;
            if found != 0 {
                return Some(j * 64 + found.trailing_zeros() as usize);
            }
            j += 1;
            mask = u64::MAX;
        }
        None
    }
}

impl Sim<'_> {
    /// Leecher `p` found no source: it waits for the blocks it lacks and
    /// has not requested, and for its server blocks a peer could take over.
    pub(super) fn wait(&mut self, p: PeerId) {
        let peer = &self.peers[p as usize];
        self.waiting.waits[p as usize] = true;
        self.waiting.enqueue(p, self.holdings.unrequested_words(p));
        if self.setup.peers.endgame == crate::input::config::Endgame::Switch {
            let (flows, rarity) = (&self.flows, &self.rarity);
            let in_flight = peer
                .server_flows
                .iter()
                .map(|&(_, f)| flows[f as usize].key)
                .filter(|&k| rarity.count(k) > 0)
                .map(|k| (k as usize / 64, 1u64 << (k % 64)));
            self.waiting.enqueue(p, in_flight);
        }
    }

    /// Holder `h` has a free slot or a new block: serve waiting leechers
    /// from the queues of the blocks it holds. Twice an event, and mostly
    /// with no one waiting or no slot free: that test is inline, the
    /// offer itself a call.
    #[inline]
    pub(super) fn offer(&mut self, h: PeerId) {
        if self.waiting.nonempty_keys != 0 && self.uploaders[h as usize].free_slots() != 0 {
            self.offer_to_waiting(h);
        }
    }

    /// [`Sim::offer`] once some leecher waits and `h` has a free slot.
    #[inline(never)]
    fn offer_to_waiting(&mut self, h: PeerId) {
        let image = self.peers[h as usize].image as usize;
        // The image's words in key order, each until `h` serves no queue
        // of it; words where every queue is empty are skipped. After each
        // queue served the search for the next word starts again from
        // `from`, in case serving filled an earlier queue. `again` is
        // that search's answer when it is known without searching: no
        // queue filled meanwhile, so the words before `w` are still
        // empty, and `w` has a queue left.
        let mut from = 0;
        let mut again = None;
        loop {
            if self.uploaders[h as usize].free_slots() == 0 {
                return;
            }
            let found = again.take().or_else(|| {
                self.waiting
                    .next_word(&self.space.image_word_set[image], from)
            });
            let Some(w) = found else {
                return;
            };
            let bits = self.holdings.have(h, w) & self.waiting.nonempty[w];
            if bits == 0 {
                from = w + 1;
            } else if self.serve_word(h, w, bits) {
                again = Some(w);
            }
        }
    }

    /// Serve the queues of `bits` (keys of word `w` that `h` holds, whose
    /// queues may be non-empty) in key order, until `h` is full or a queue
    /// fills; whether the word may still have queues to serve without a
    /// new search. While no queue fills, serving only empties queues, so
    /// the keys left in `bits` are the word's next ones: most queues an
    /// offer visits hold stale entries alone (cross-opt on the paper's
    /// default: 774,000 visits, 6,300 calls of `serve_one`), and the
    /// word's bits are read once rather than once a queue.
    #[inline(always)]
    fn serve_word(&mut self, h: PeerId, w: usize, mut bits: u64) -> bool {
        if self.waiting.racks() == 1 {
            return self.serve_word_one_rack(h, w, bits);
        }
        let fills = self.waiting.fills;
        // `space::keys`'s walk, written out: through `keys` the offer took
        // 0.1-0.3% more instructions a block (`icount.sh --quick`).
        while bits != 0 {
            let key = (w * 64) as u32 + bits.trailing_zeros();
            bits &= bits - 1;
            let full = self.serve_queue(h, key);
            if self.waiting.fills != fills {
                return false;
            }
            if full {
                return true;
            }
        }
        self.waiting.nonempty[w] != 0
    }

    /// [`Sim::serve_word`] without rack locality, in the same order: the
    /// queues of stale entries alone are swept by the waiting queues
    /// themselves ([`Waiting::sweep`]), and emptied a word at a time; a
    /// queue with a waiting leecher is served from `h` until empty or `h`
    /// is full, and only then is `fills` compared, as `serve_word` does
    /// after each queue.
    fn serve_word_one_rack(&mut self, h: PeerId, w: usize, mut bits: u64) -> bool {
        let fills = self.waiting.fills;
        loop {
            let (served_empty, found) = self.waiting.sweep(w, bits);
            self.waiting.emptied_keys(w, served_empty);
            bits &= !served_empty;
            let Some((key, l)) = found else {
                return self.waiting.nonempty[w] != 0;
            };
            self.serve_one(h, l, key);
            let full = self.uploaders[h as usize].free_slots() == 0 || !self.serve_rack(h, key, 0);
            if !full {
                self.waiting.emptied(key);
                bits &= !(1 << (key % 64));
            }
            if self.waiting.fills != fills {
                return false;
            }
            if full {
                return true;
            }
        }
    }

    /// Serve waiters of `key`'s queues from `h` until `h` is full or the
    /// queues are empty: `h`'s rack's queue first under rack locality.
    /// Whether `h` is full.
    fn serve_queue(&mut self, h: PeerId, key: u32) -> bool {
        let racks = self.waiting.racks();
        if racks == 1 {
            if !self.serve_rack(h, key, 0) {
                return true;
            }
            self.waiting.emptied(key);
            return false;
        }
        let home = self.racks.rack(h) as usize;
        for i in 0..racks {
            let rack = (home + i) % racks;
            // Rack locality: another rack's waiters are served only blocks
            // their rack has no host holding (see `locality`).
            if i > 0 && self.rack_holds(rack as u32, key) {
                continue;
            }
            if !self.serve_rack(h, key, rack) {
                return true;
            }
        }
        self.waiting.emptied(key);
        false
    }

    /// Serve waiters of `key`'s queue in `rack` from `h`; whether the
    /// queue was served empty (else `h` is full). Inlined into the offer's
    /// loop: a visit meets about 1.3 entries (cross-opt on the paper's
    /// default), so a call's register saves and loads of the queues'
    /// fields were a third of its cost. `h` has a free slot when called
    /// (the offer checks before each queue, and this returns true only
    /// while one is free), so the check follows each leecher served
    /// rather than preceding each entry met.
    #[inline(always)]
    fn serve_rack(&mut self, h: PeerId, key: u32, rack: usize) -> bool {
        debug_assert!(self.uploaders[h as usize].free_slots() > 0);
        while let Some(l) = self.waiting.pop_waiting(key, rack) {
            self.serve_one(h, l, key);
            if self.uploaders[h as usize].free_slots() == 0 {
                return false;
            }
        }
        true
    }

    /// Serve waiting leecher `l` of `key`'s queue from `h`, if it still
    /// applies. Not inlined: most entries an offer meets are stale, and
    /// `pop_waiting` drops those, so the loop that calls this runs far more
    /// often than it does (cross-opt on the paper's default: 774,000 queue
    /// visits, 6,300 calls), and stays small without it.
    #[inline(never)]
    fn serve_one(&mut self, h: PeerId, l: PeerId, key: u32) {
        if self.peers[l as usize].state != PeerState::Leecher {
            return;
        }
        if self.holdings.holds(l, key) {
            return;
        }
        if !self.holdings.awaits(l, key) {
            self.serve_waiter(l, h);
        } else {
            self.endgame_switch(l, Some(h));
        }
    }

    /// Give waiting leecher `l` its rarest blocks among those `h` holds,
    /// while both have room.
    fn serve_waiter(&mut self, l: PeerId, h: PeerId) {
        let max_downloads = self.setup.peers.max_downloads;
        loop {
            let leecher = &self.peers[l as usize];
            if leecher.peer_downloads >= max_downloads {
                self.waiting.stop(l);
                return;
            }
            if self.uploaders[h as usize].free_slots() == 0 {
                return;
            }
            self.set_candidates(l, Some(h), &[]);
            self.keep_imports(l, h);
            match self.pick_block(l, false) {
                Some(key) => self.start_peer_flow(l, h, key),
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enqueue_counts_each_key_with_a_queue_once() {
        let mut waiting = Waiting::new(64 * 3, 1);
        for p in 0..3 {
            waiting.add_peer(p, 0);
        }
        waiting.enqueue(0, [(0, 0b1011u64), (2, 1 << 63)].into_iter());
        waiting.enqueue(1, [(0, 0b0110u64), (1, 1)].into_iter());
        waiting.enqueue(2, [(0, 0b1011u64)].into_iter());
        // Again: already on those queues, so nothing changes.
        waiting.enqueue(0, [(0, 0b1011u64)].into_iter());
        // Keys 0, 1, 2, 3, 64 and 191 have queues.
        let set: u32 = waiting.nonempty.iter().map(|w| w.count_ones()).sum();
        assert_eq!(waiting.nonempty_keys, 6);
        assert_eq!(set, 6);
        assert_eq!(waiting.nonempty_words, vec![0b111]);
        let lengths: Vec<usize> = [0, 1, 2, 3, 64, 191]
            .iter()
            .map(|&k| waiting.queues[k].len())
            .collect();
        assert_eq!(lengths, vec![2, 3, 1, 2, 1, 1]);
    }

    #[test]
    fn sweep_drops_stale_entries_up_to_the_first_waiter() {
        let mut waiting = Waiting::new(128, 1);
        for p in 0..3 {
            waiting.add_peer(p, 0);
        }
        // Peer 0 stopped waiting; 1 and 2 wait. Keys 64, 65 and 67 have
        // only 0's entries; key 66 has 0's, then 2's, then 1's.
        waiting.enqueue(0, [(1, 0b1111u64)].into_iter());
        waiting.enqueue(2, [(1, 0b0100u64)].into_iter());
        waiting.enqueue(1, [(1, 0b0100u64)].into_iter());
        waiting.waits = vec![false, true, true];
        let (served_empty, found) = waiting.sweep(1, 0b1111);
        assert_eq!((served_empty, found), (0b0011, Some((66, 2))));
        // Met entries are off their queues; 1 still waits on key 66.
        assert_eq!(waiting.queued, vec![0, 0b1000, 0, 0b0100, 0, 0]);
        waiting.emptied_keys(1, served_empty);
        assert_eq!(waiting.nonempty, vec![0, 0b1100]);
        assert_eq!(waiting.nonempty_keys, 2);
        let (served_empty, found) = waiting.sweep(1, 0b1100);
        assert_eq!((served_empty, found), (0, Some((66, 1))));
        let (served_empty, found) = waiting.sweep(1, 0b1100);
        assert_eq!((served_empty, found), (0b1100, None));
        waiting.emptied_keys(1, served_empty);
        assert_eq!(
            (waiting.nonempty_keys, waiting.nonempty_words.clone()),
            (0, vec![0])
        );
        assert!(waiting.queues.iter().all(|q| q.is_empty()));
    }

    #[test]
    fn a_leecher_waiting_again_keeps_its_place_on_the_queues_it_is_still_on() {
        let mut waiting = Waiting::new(64, 1);
        for p in 0..2 {
            waiting.add_peer(p, 0);
        }
        waiting.waits = vec![true, true];
        waiting.enqueue(0, [(0, 0b11u64)].into_iter());
        waiting.enqueue(1, [(0, 0b11u64)].into_iter());
        // Peer 0 is served on key 0, then stops waiting, and waits again
        // before its entry on key 1 is met: that entry is not doubled,
        // and stays ahead of peer 1's.
        assert_eq!(waiting.pop_waiting(0, 0), Some(0));
        waiting.stop(0);
        waiting.waits[0] = true;
        waiting.enqueue(0, [(0, 0b11u64)].into_iter());
        assert_eq!(waiting.queues[1].len(), 2);
        assert_eq!(waiting.pop_waiting(1, 0), Some(0));
        assert_eq!(waiting.pop_waiting(1, 0), Some(1));
        // Back on key 0, where it had been taken off: behind peer 1.
        assert_eq!(waiting.pop_waiting(0, 0), Some(1));
        assert_eq!(waiting.pop_waiting(0, 0), Some(0));
        assert_eq!(waiting.pop_waiting(0, 0), None);
    }

    #[test]
    fn next_word_finds_the_words_with_waiters_in_key_order() {
        // 130 words of keys: three words of the word bitset.
        let mut waiting = Waiting::new(64 * 130, 1);
        waiting.add_peer(0, 0);
        waiting.enqueue(0, [(3, 1u64), (70, 1 << 5), (129, 1 << 63)].into_iter());
        let all = vec![u64::MAX; 3];
        assert_eq!(waiting.next_word(&all, 0), Some(3));
        assert_eq!(waiting.next_word(&all, 4), Some(70));
        assert_eq!(waiting.next_word(&all, 71), Some(129));
        assert_eq!(waiting.next_word(&all, 130), None);
        // Only the words of an image count.
        assert_eq!(waiting.next_word(&[0, 0, 1 << 1], 0), Some(129));
        assert_eq!(waiting.next_word(&[1 << 4, 0, 0], 0), None);
        // A word whose last queue is served empty is skipped.
        waiting.emptied(129 * 64 + 63);
        assert_eq!(waiting.next_word(&all, 71), None);
        assert_eq!(waiting.next_word(&all, 0), Some(3));
    }
}
