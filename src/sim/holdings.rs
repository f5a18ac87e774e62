//! What each peer holds and has in flight: two bitsets of the block space
//! per peer slot, in one flat array.
//!
//! Every event reads a peer's bits (a delivery, a request, an offer), and
//! with a million peers they are nowhere near the cache. Kept in one
//! array, a peer's words are found from its slot alone: the load does not
//! wait for the peer's record to arrive first, as it would behind a
//! pointer of the record's. The two sets are interleaved word by word, so
//! `have[w]` and `pending[w]`, read together, share a cache line.
//!
//! Every change of a slot's bits goes through here, so each slot's list of
//! unrequested words (`unrequested`) is kept with them.

use super::state::PeerId;
use super::unrequested;

/// The `have` and `pending` bitsets of every peer slot, and its list of
/// unrequested words.
#[derive(Debug, Default)]
pub(super) struct Holdings {
    /// Words of one bitset (the space's).
    words: usize,
    /// Words of a slot: its bitsets' and its list's.
    stride: usize,
    /// Per slot `p`, from `p * stride`: `have[w]` at `2w`, `pending[w]`
    /// at `2w + 1`; from `2 * words` on, its list of the words of its
    /// image with blocks neither held nor awaited (`unrequested`).
    bits: Vec<u64>,
}

impl Holdings {
    /// No slots, for bitsets of `words` words and images of at most
    /// `image_words` words.
    pub(super) fn new(words: usize, image_words: usize) -> Holdings {
        Holdings {
            words,
            stride: 2 * words + unrequested::region_words(image_words),
            bits: Vec::new(),
        }
    }

    /// Slot `p` holds and awaits nothing, and wants the keys of `wanted`
    /// (`(word index, bits)` in word order: its image's, or none for a
    /// departed peer): a new slot (the next one), or a reused one.
    pub(super) fn clear(&mut self, p: PeerId, wanted: impl Iterator<Item = (usize, u64)>) {
        let start = p as usize * self.stride;
        if start == self.bits.len() {
            self.bits.resize(start + self.stride, 0);
        } else {
            self.bits[start..start + 2 * self.words].fill(0);
        }
        unrequested::reset(self.list_region(p), wanted);
    }

    /// `p`'s unrequested blocks: `[word index, bits]`, the non-zero words
    /// in word order of its image's keys it neither holds nor awaits (none
    /// once it departed).
    #[inline]
    pub(super) fn unrequested(&self, p: PeerId) -> &[[u64; 2]] {
        unrequested::list(&self.bits[self.list_range(p)])
    }

    /// [`Holdings::unrequested`] as `(word index, bits)` pairs (what the
    /// waiting queues take).
    #[inline]
    pub(super) fn unrequested_words(
        &self,
        p: PeerId,
    ) -> impl ExactSizeIterator<Item = (usize, u64)> + '_ {
        self.unrequested(p)
            .iter()
            .map(|&[w, bits]| (w as usize, bits))
    }

    /// All of `p`'s words, its bits' and its list's (to prefetch them).
    pub(super) fn slot_words(&self, p: PeerId) -> &[u64] {
        let start = p as usize * self.stride;
        &self.bits[start..start + self.stride]
    }

    /// Where in `bits` `p`'s list of unrequested blocks lies: its slot's
    /// words after the bitsets.
    fn list_range(&self, p: PeerId) -> std::ops::Range<usize> {
        let start = p as usize * self.stride;
        start + 2 * self.words..start + self.stride
    }

    /// The words of `p`'s list of unrequested blocks.
    #[inline(always)]
    fn list_region(&mut self, p: PeerId) -> &mut [u64] {
        let range = self.list_range(p);
        &mut self.bits[range]
    }

    /// `p`'s bits, for loops over its words.
    #[inline]
    pub(super) fn row(&self, p: PeerId) -> Row<'_> {
        let start = p as usize * self.stride;
        Row(&self.bits[start..start + 2 * self.words])
    }

    fn at(&self, p: PeerId, w: usize) -> usize {
        p as usize * self.stride + 2 * w
    }

    /// Word `w` of the blocks `p` holds.
    #[inline]
    pub(super) fn have(&self, p: PeerId, w: usize) -> u64 {
        self.bits[self.at(p, w)]
    }

    /// Word `w` of the blocks in flight to `p`.
    #[inline]
    pub(super) fn pending(&self, p: PeerId, w: usize) -> u64 {
        self.bits[self.at(p, w) + 1]
    }

    /// Whether `p` holds `key`.
    pub(super) fn holds(&self, p: PeerId, key: u32) -> bool {
        self.have(p, key as usize / 64) & (1 << (key % 64)) != 0
    }

    /// Whether `p` holds every key of `words` (`(word index, bits)`): the
    /// check of `Membership::lacking` in the library's tests.
    #[cfg(test)]
    pub(super) fn holds_all(&self, p: PeerId, words: &[(usize, u64)]) -> bool {
        words
            .iter()
            .all(|&(w, mask)| self.have(p, w) & mask == mask)
    }

    /// `p` holds `key`, no longer in flight; returns whether it held it
    /// already.
    pub(super) fn receive(&mut self, p: PeerId, key: u32) -> bool {
        let i = self.at(p, key as usize / 64);
        let bit = 1 << (key % 64);
        let (held, awaited) = (self.bits[i] & bit != 0, self.bits[i + 1] & bit != 0);
        if !held && !awaited {
            unrequested::remove(self.list_region(p), key);
        }
        self.bits[i] |= bit;
        self.bits[i + 1] &= !bit;
        held
    }

    /// Whether `key` is in flight to `p`.
    pub(super) fn awaits(&self, p: PeerId, key: u32) -> bool {
        self.pending(p, key as usize / 64) & (1 << (key % 64)) != 0
    }

    /// `key` is in flight to `p` (`true`) or no longer (`false`, a flow
    /// cut off): it leaves `p`'s unrequested blocks, or returns to them
    /// unless `p` holds it.
    ///
    /// Forced inline: a request's and a push's start call it with `on`
    /// known, and the call was a sizeable part of its cost (0.35-0.7%
    /// fewer instructions a block, `scripts/icount.sh --quick`).
    #[inline(always)]
    pub(super) fn set_pending(&mut self, p: PeerId, key: u32, on: bool) {
        let i = self.at(p, key as usize / 64);
        let bit = 1 << (key % 64);
        let (held, awaited) = (self.bits[i] & bit != 0, self.bits[i + 1] & bit != 0);
        if on {
            if !held && !awaited {
                unrequested::remove(self.list_region(p), key);
            }
            self.bits[i + 1] |= bit;
        } else {
            if !held && awaited {
                unrequested::insert(self.list_region(p), key);
            }
            self.bits[i + 1] &= !bit;
        }
    }

    /// `p` holds exactly `mask`, its image's keys (a preheated seeder's):
    /// it wants nothing.
    pub(super) fn set_have_all(&mut self, p: PeerId, mask: &[u64]) {
        for (w, &bits) in mask.iter().enumerate() {
            let i = self.at(p, w);
            self.bits[i] = bits;
        }
        unrequested::reset(self.list_region(p), std::iter::empty());
    }

    /// Nothing is in flight to `p` any more: a completed leecher's, which
    /// holds every key it wanted.
    pub(super) fn clear_pending(&mut self, p: PeerId) {
        for w in 0..self.words {
            let i = self.at(p, w);
            #[cfg(test)]
            assert_eq!(self.bits[i + 1] & !self.bits[i], 0, "awaits a key not held");
            self.bits[i + 1] = 0;
        }
    }
}

/// One slot's bits (see `Holdings::row`).
#[derive(Clone, Copy)]
pub(super) struct Row<'a>(&'a [u64]);

impl<'a> Row<'a> {
    /// The row's words, interleaved as in `Holdings::bits` (to prefetch
    /// them).
    pub(super) fn words(self) -> &'a [u64] {
        self.0
    }

    /// Word `w` of the blocks held.
    #[inline]
    pub(super) fn have(self, w: usize) -> u64 {
        self.0[2 * w]
    }

    /// Word `w` of the blocks neither held nor awaited, among `bits`.
    #[inline]
    pub(super) fn lacking(self, w: usize, bits: u64) -> u64 {
        // One bounds check for the pair.
        let pair = &self.0[2 * w..2 * w + 2];
        bits & !pair[0] & !pair[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::space::range_words;

    /// Whether `p` holds every key of `[first, end)`.
    fn holds_range(h: &Holdings, p: PeerId, first: u32, end: u32) -> bool {
        h.holds_all(p, &range_words(first, end).collect::<Vec<_>>())
    }

    #[test]
    fn slots_keep_their_own_bits() {
        let mut h = Holdings::new(2, 2);
        let wanted = [(0, u64::MAX), (1, u64::MAX)];
        for p in 0..3 {
            h.clear(p, wanted.into_iter());
        }
        assert!(!h.receive(1, 70));
        assert!(h.receive(1, 70));
        h.set_pending(2, 5, true);
        assert!(h.holds(1, 70) && !h.holds(0, 70) && !h.holds(2, 70));
        assert!(h.awaits(2, 5) && !h.awaits(1, 5));
        assert_eq!(h.row(1).lacking(1, u64::MAX), !(1 << 6));
        assert_eq!(h.row(1).have(1), 1 << 6);
        assert_eq!(h.row(2).lacking(0, 0b110000), 0b010000);
        h.set_pending(2, 5, false);
        assert!(!h.awaits(2, 5));
        h.set_have_all(0, &[1, 2]);
        assert_eq!((h.have(0, 0), h.have(0, 1)), (1, 2));
        assert!(holds_range(&h, 0, 0, 1) && holds_range(&h, 0, 65, 66));
        assert!(!holds_range(&h, 0, 0, 2) && !holds_range(&h, 0, 63, 66));
        for key in 60..70 {
            h.receive(2, key);
        }
        assert!(holds_range(&h, 2, 60, 70));
        assert!(!holds_range(&h, 2, 59, 70) && !holds_range(&h, 2, 60, 71));
        h.clear(0, std::iter::empty());
        assert_eq!((h.have(0, 0), h.have(0, 1)), (0, 0));
        assert!(h.holds(1, 70), "clearing a slot leaves the others");
    }

    #[test]
    fn unrequested_blocks_follow_requests_deliveries_and_cuts() {
        let mut h = Holdings::new(3, 2);
        h.clear(0, [(0, 0b111), (2, 0b1)].into_iter());
        h.set_pending(0, 1, true);
        h.set_pending(0, 128, true);
        assert_eq!(h.unrequested(0), &[[0, 0b101]]);
        // A delivery of an awaited block leaves the list; a cut-off
        // request returns its block; a block arriving unrequested leaves.
        h.receive(0, 1);
        h.set_pending(0, 128, false);
        assert_eq!(h.unrequested(0), &[[0, 0b101], [2, 0b1]]);
        h.receive(0, 0);
        assert_eq!(h.unrequested(0), &[[0, 0b100], [2, 0b1]]);
        // A cut-off request for a block held since stays out.
        h.set_pending(0, 2, true);
        h.receive(0, 2);
        h.set_pending(0, 2, false);
        assert_eq!(h.unrequested(0), &[[2, 0b1]]);
        h.set_have_all(0, &[0b111, 0, 0b1]);
        assert!(h.unrequested(0).is_empty());
    }
}
