//! A monotone radix heap over `u128` keys: the event queue's store once it
//! holds many entries (see `queue`).
//!
//! Entries sit in buckets by where their key first differs from the last
//! key popped (`top`), counted in digits of `DIGIT_BITS` bits: bucket 0
//! holds keys equal to `top`, and a key whose highest digit unlike
//! `top`'s is digit `d`, of value `v`, sits in bucket `1 + d x VALUES + v`.
//! Keys in a lower bucket are below those in a higher one (a key exceeds
//! `top`, so at its first unlike digit it is the larger). A pop takes
//! bucket 0, or else finds the first non-empty bucket, makes its smallest
//! key the new `top` and spreads that bucket over the lower ones (its keys
//! share all digits down to `d` with the new `top`); the other buckets
//! stay right. Each entry moves down a few times in its life, touching
//! memory in order.
//!
//! With digits of one bit (a bucket per bit, as in the `radix-heap` crate
//! used before) an entry of the 100,000-host crowd was put in a bucket
//! some 11 times, its push included, before it was popped; digits of four
//! bits split a bucket 16 ways at a time, and an entry is put 6.7 times
//! (both counted; digits of 2 and 8 bits ran slower). A bitmap of the
//! non-empty buckets finds the first in one instruction per 64 buckets
//! (the crate walked the buckets from 0, past some 64 empty ones at every
//! pop, as the engine's keys, an event time's bits above a sequence
//! number, differ in the time's half).

/// Bits of a digit.
const DIGIT_BITS: u32 = 4;

/// Values of a digit.
const VALUES: usize = 1 << DIGIT_BITS;

/// Buckets: bucket 0, and one per digit of the key and value of the digit.
const BUCKETS: usize = 1 + (128 / DIGIT_BITS as usize) * VALUES;

/// Bucket 0 and the buckets of the low half's digits: the buckets of the
/// keys that differ from `top` in their low 64 bits alone.
const LOW_HALF_BUCKETS: usize = 1 + (64 / DIGIT_BITS as usize) * VALUES;

/// Entries `peek_hint` looks at, at most: on the 100,000-host crowd it
/// names the next event for 88% of the pops (measured) at a small cost.
const HINT_ENTRIES: usize = 16;

/// Entries `(key, value)` popped smallest key first; a key pushed must not
/// be below the last one popped, unless the heap is empty.
#[derive(Debug)]
pub(super) struct RadixHeap<V> {
    /// The last key popped (0 before the first pop).
    top: u128,
    /// A fixed-size array: with the count known, the spread's loop keeps
    /// no slice length live (10,000-host crowd 1.3% fewer instructions).
    buckets: Box<[Vec<(u128, V)>; BUCKETS]>,
    /// Bit `b % 64` of word `b / 64`: bucket `b` holds entries.
    nonempty: [u64; BUCKETS.div_ceil(64)],
    len: usize,
}

impl<V: Copy> RadixHeap<V> {
    /// An empty heap.
    pub(super) fn new() -> RadixHeap<V> {
        RadixHeap {
            top: 0,
            buckets: Box::new(std::array::from_fn(|_| Vec::new())),
            nonempty: [0; BUCKETS.div_ceil(64)],
            len: 0,
        }
    }

    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The last key popped (0 before the first pop, and once emptied).
    #[inline]
    pub(super) fn top(&self) -> u128 {
        self.top
    }

    /// Whether some entry's key shares the high 64 bits of `top`: it
    /// differs from `top` in a digit of the low half at most, so it sits in
    /// bucket 0 or in one of the low half's buckets (those of digits below
    /// `64 / DIGIT_BITS`), which the first `LOW_HALF_BUCKETS` bits of the
    /// bitmap mark.
    #[inline]
    pub(super) fn holds_top_high_half(&self) -> bool {
        const WORDS: usize = LOW_HALF_BUCKETS / 64;
        const REST: u64 = (1 << (LOW_HALF_BUCKETS % 64)) - 1;
        self.nonempty[..WORDS].iter().any(|&w| w != 0) || self.nonempty[WORDS] & REST != 0
    }

    /// Add an entry; `key` must not be below the last key popped, unless
    /// the heap is empty.
    pub(super) fn push(&mut self, key: u128, value: V) {
        debug_assert!(key >= self.top, "a key below the last one popped");
        self.put(key, value);
        self.len += 1;
    }

    /// Remove the entry of smallest key.
    pub(super) fn pop(&mut self) -> Option<(u128, V)> {
        if self.buckets[0].is_empty() {
            let b = self.first_nonempty()?;
            self.spread(b);
        }
        let popped = self.buckets[0].pop();
        if self.buckets[0].is_empty() {
            self.nonempty[0] &= !1;
        }
        self.len -= usize::from(popped.is_some());
        if self.len == 0 {
            // Empty, it takes any key: the engine, having skipped entries
            // of moved events at later times, may push below them.
            self.top = 0;
        }
        popped
    }

    /// The entry of smallest key for which `live` holds, if the first
    /// non-empty buckets, up to the first with a live entry, hold at most
    /// `HINT_ENTRIES` entries in all; else `None`. With `live` true of the
    /// entries a pop would not skip, that is the next entry popped unless
    /// a smaller key is pushed first, found without moving any entry.
    #[inline(never)]
    pub(super) fn peek_hint(&self, live: impl Fn(u128, &V) -> bool) -> Option<(u128, V)> {
        let mut budget = HINT_ENTRIES;
        for (j, &word) in self.nonempty.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = j * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let bucket = &self.buckets[b];
                budget = budget.checked_sub(bucket.len())?;
                // Keys in a lower bucket are all below those in a higher.
                // `live` (a load elsewhere) is asked only of an entry that
                // would be the smallest so far.
                let mut best: Option<(u128, V)> = None;
                for &e in bucket {
                    if best.is_none_or(|b| e.0 < b.0) && live(e.0, &e.1) {
                        best = Some(e);
                    }
                }
                if best.is_some() {
                    return best;
                }
            }
        }
        None
    }

    /// Give back the memory the buckets hold beyond their entries.
    pub(super) fn shrink_to_fit(&mut self) {
        for bucket in self.buckets.iter_mut() {
            bucket.shrink_to_fit();
        }
    }

    /// Put an entry in the bucket of its first digit unlike `top`'s.
    fn put(&mut self, key: u128, value: V) {
        let b = bucket(key, self.top);
        self.buckets[b].push((key, value));
        self.nonempty[b / 64] |= 1 << (b % 64);
    }

    /// The first non-empty bucket, if any.
    fn first_nonempty(&self) -> Option<usize> {
        (0..self.nonempty.len())
            .find(|&j| self.nonempty[j] != 0)
            .map(|j| j * 64 + self.nonempty[j].trailing_zeros() as usize)
    }

    /// Bucket `b`'s smallest key becomes `top`, and its entries move to the
    /// buckets of their first digit unlike it (all below `b`, and that
    /// key's in bucket 0). The bucket keeps its capacity for later entries.
    /// Out of line: inlined into the event loop (with the buckets in an
    /// array), it made whole runs of the paper's default, whose queue
    /// never turns radix, 1.1% dearer, the loop's code laid out anew.
    #[inline(never)]
    fn spread(&mut self, b: usize) {
        let mut entries = std::mem::take(&mut self.buckets[b]);
        self.nonempty[b / 64] &= !(1 << (b % 64));
        self.top = entries
            .iter()
            .map(|&(key, _)| key)
            .min()
            .unwrap_or(self.top);
        for &(key, value) in &entries {
            self.put(key, value);
        }
        entries.clear();
        self.buckets[b] = entries;
    }
}

/// The bucket of `key` for a heap whose last key popped is `top`.
#[inline]
fn bucket(key: u128, top: u128) -> usize {
    let unlike = key ^ top;
    if unlike == 0 {
        return 0;
    }
    let digit = (127 - unlike.leading_zeros()) / DIGIT_BITS;
    let value = (key >> (digit * DIGIT_BITS)) as usize & (VALUES - 1);
    1 + digit as usize * VALUES + value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_names_the_smallest_live_entry_or_nothing() {
        let mut heap = RadixHeap::new();
        for k in [3u128, 1, 2, 7 << 64] {
            heap.push(k, k);
        }
        assert_eq!(heap.peek_hint(|_, _| true), Some((1, 1)));
        assert_eq!(heap.peek_hint(|k, _| k != 1), Some((2, 2)));
        assert_eq!(heap.peek_hint(|k, _| k > 3), Some((7 << 64, 7 << 64)));
        assert_eq!(heap.peek_hint(|_, _| false), None);
        // Many entries in the first bucket: no hint, rather than a scan.
        let mut heap = RadixHeap::new();
        for k in 0..=HINT_ENTRIES as u128 {
            heap.push(1 << 100 | k, k);
        }
        assert_eq!(heap.peek_hint(|_, _| true), None);
        assert_eq!(heap.pop(), Some((1 << 100, 0)));
    }

    #[test]
    fn knows_whether_an_entry_shares_the_last_popped_keys_high_half() {
        let mut heap = RadixHeap::new();
        for k in [5u128 << 64 | 1, 5 << 64 | u128::from(u64::MAX), 6 << 64] {
            heap.push(k, ());
        }
        assert_eq!(heap.pop().map(|p| p.0), Some(5 << 64 | 1));
        assert!(heap.holds_top_high_half());
        heap.pop();
        assert!(!heap.holds_top_high_half());
        assert_eq!(heap.top(), 5 << 64 | u128::from(u64::MAX));
        heap.push(6 << 64 | 7, ());
        heap.pop();
        assert!(heap.holds_top_high_half());
    }

    #[test]
    fn pops_in_key_order_across_both_halves_of_the_key() {
        let mut heap = RadixHeap::new();
        let keys = [5u128 << 64 | 7, 1, 3 << 64, 5 << 64 | 2, 2, u128::MAX];
        for (i, &k) in keys.iter().enumerate() {
            heap.push(k, i);
        }
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        let popped: Vec<u128> = std::iter::from_fn(|| heap.pop().map(|(k, _)| k)).collect();
        assert_eq!(popped, sorted);
        assert_eq!(heap.len(), 0);
        // A key equal to the last popped is allowed, and comes out first.
        heap.push(u128::MAX, 9);
        assert_eq!(heap.pop(), Some((u128::MAX, 9)));
        assert_eq!(heap.pop(), None);
        // Empty, any key.
        heap.push(4, 10);
        heap.push(3, 11);
        assert_eq!(heap.pop(), Some((3, 11)));
        assert_eq!(heap.pop(), Some((4, 10)));
    }
}
