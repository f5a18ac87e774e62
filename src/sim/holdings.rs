//! What each peer holds and has in flight: two bitsets of the block space
//! per peer slot, in one flat array.
//!
//! Every event reads a peer's bits (a delivery, a request, an offer), and
//! with a million peers they are nowhere near the cache. Kept in one
//! array, a peer's words are found from its slot alone: the load does not
//! wait for the peer's record to arrive first, as it would behind a
//! pointer of the record's. The two sets are interleaved word by word, so
//! `have[w]` and `pending[w]`, read together, share a cache line.

use super::state::PeerId;

/// The `have` and `pending` bitsets of every peer slot.
#[derive(Debug, Default)]
pub(super) struct Holdings {
    /// Words of one bitset (the space's).
    words: usize,
    /// Per slot `p`, from `p * 2 * words`: `have[w]` at `2w`, `pending[w]`
    /// at `2w + 1`.
    bits: Vec<u64>,
}

impl Holdings {
    /// No slots, for bitsets of `words` words.
    pub(super) fn new(words: usize) -> Holdings {
        Holdings {
            words,
            bits: Vec::new(),
        }
    }

    /// Slot `p` holds and awaits nothing: a new slot (the next one), or a
    /// reused one.
    pub(super) fn clear(&mut self, p: PeerId) {
        let start = p as usize * 2 * self.words;
        if start == self.bits.len() {
            self.bits.resize(start + 2 * self.words, 0);
        } else {
            self.bits[start..start + 2 * self.words].fill(0);
        }
    }

    /// `p`'s bits, for loops over its words.
    #[inline]
    pub(super) fn row(&self, p: PeerId) -> Row<'_> {
        let start = p as usize * 2 * self.words;
        Row(&self.bits[start..start + 2 * self.words])
    }

    fn at(&self, p: PeerId, w: usize) -> usize {
        (p as usize * self.words + w) * 2
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

    /// Whether `p` holds every key of `words` (`(word index, bits)`).
    pub(super) fn holds_all(&self, p: PeerId, words: &[(usize, u64)]) -> bool {
        words
            .iter()
            .all(|&(w, mask)| self.have(p, w) & mask == mask)
    }

    /// `p` holds `key`; returns whether it held it already.
    pub(super) fn add_have(&mut self, p: PeerId, key: u32) -> bool {
        let i = self.at(p, key as usize / 64);
        let bit = 1 << (key % 64);
        let held = self.bits[i] & bit != 0;
        self.bits[i] |= bit;
        held
    }

    /// Whether `key` is in flight to `p`.
    pub(super) fn awaits(&self, p: PeerId, key: u32) -> bool {
        self.pending(p, key as usize / 64) & (1 << (key % 64)) != 0
    }

    /// `key` is in flight to `p` (`true`) or no longer (`false`).
    pub(super) fn set_pending(&mut self, p: PeerId, key: u32, on: bool) {
        let i = self.at(p, key as usize / 64) + 1;
        let bit = 1 << (key % 64);
        if on {
            self.bits[i] |= bit;
        } else {
            self.bits[i] &= !bit;
        }
    }

    /// `p` holds exactly `mask` (a preheated seeder's image).
    pub(super) fn set_have_all(&mut self, p: PeerId, mask: &[u64]) {
        for (w, &bits) in mask.iter().enumerate() {
            let i = self.at(p, w);
            self.bits[i] = bits;
        }
    }

    /// Nothing is in flight to `p` any more.
    pub(super) fn clear_pending(&mut self, p: PeerId) {
        for w in 0..self.words {
            let i = self.at(p, w) + 1;
            self.bits[i] = 0;
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
        let mut h = Holdings::new(2);
        for p in 0..3 {
            h.clear(p);
        }
        assert!(!h.add_have(1, 70));
        assert!(h.add_have(1, 70));
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
            h.add_have(2, key);
        }
        assert!(holds_range(&h, 2, 60, 70));
        assert!(!holds_range(&h, 2, 59, 70) && !holds_range(&h, 2, 60, 71));
        h.clear(0);
        assert_eq!((h.have(0, 0), h.have(0, 1)), (0, 0));
        assert!(h.holds(1, 70), "clearing a slot leaves the others");
    }
}
