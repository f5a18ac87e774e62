//! A min-queue for the active flows of one shared capacity (see
//! `transfer::FairShare`): a few entries in a sorted array inside the
//! record, many in a binary heap.
//!
//! Most capacities are a peer's upload, with at most `upload_slots` (4)
//! flows. A heap of its own would put them behind a pointer, one more
//! cache miss for every flow started or finished on a crowd of hosts; a
//! sorted array of four is read with the record. A server group's share
//! keeps 16 inline (`transfer::GROUP_FEW`), and more flows spill into the
//! heap. Both pop the smallest entry, so which one holds the entries never
//! changes the order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Entries, smallest first: inline while there are at most `FEW`, in a
/// heap once more came (until it empties). One of the two is always empty.
#[derive(Debug, Clone)]
pub(super) struct FinishOrder<T: Ord + Copy + Default, const FEW: usize> {
    /// The inline entries, ascending, in `few[..few_len]`.
    few: [T; FEW],
    few_len: u8,
    many: BinaryHeap<Reverse<T>>,
}

impl<T: Ord + Copy + Default, const FEW: usize> FinishOrder<T, FEW> {
    /// No entries.
    pub(super) fn new() -> Self {
        const { assert!(FEW <= u8::MAX as usize, "few_len counts to FEW") };
        FinishOrder {
            few: [T::default(); FEW],
            few_len: 0,
            many: BinaryHeap::new(),
        }
    }

    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.few_len as usize + self.many.len()
    }

    /// Whether none is held.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Add an entry. Forced inline into a share's `add` (once a block):
    /// 1,775 -> 1,770 instructions a block on cross-equ's paper default,
    /// 2,124 -> 2,120 on cross-opt's (`scripts/icount.sh --quick`).
    #[inline(always)]
    pub(super) fn push(&mut self, item: T) {
        let n = self.few_len as usize;
        if !self.many.is_empty() || n == FEW {
            self.push_many(item);
            return;
        }
        // Insertion into a few sorted items, before any equal ones.
        let mut at = n;
        while at > 0 && self.few[at - 1] >= item {
            self.few[at] = self.few[at - 1];
            at -= 1;
        }
        self.few[at] = item;
        self.few_len += 1;
    }

    /// `pop` from the heap, apart and cold as `push_many` is.
    #[cold]
    #[inline(never)]
    fn pop_many(&mut self) -> Option<T> {
        self.many.pop().map(|r| r.0)
    }

    /// `push` past the inline items: all go to the heap. Apart and cold, so
    /// that the inline path (a peer's uploads, always) stays small.
    #[cold]
    #[inline(never)]
    fn push_many(&mut self, item: T) {
        let n = self.few_len as usize;
        self.many.extend(self.few[..n].iter().map(|&e| Reverse(e)));
        self.few_len = 0;
        self.many.push(Reverse(item));
    }

    /// The smallest entry.
    pub(super) fn peek(&self) -> Option<T> {
        if self.few_len > 0 {
            Some(self.few[0])
        } else {
            self.many.peek().map(|r| r.0)
        }
    }

    /// Remove the smallest entry.
    pub(super) fn pop(&mut self) -> Option<T> {
        let n = self.few_len as usize;
        if n == 0 {
            return self.pop_many();
        }
        let first = self.few[0];
        for i in 1..n {
            self.few[i - 1] = self.few[i];
        }
        self.few_len -= 1;
        Some(first)
    }

    /// Keep only the entries for which `keep` holds.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let n = self.few_len as usize;
        let mut kept = 0;
        for i in 0..n {
            if keep(&self.few[i]) {
                self.few[kept] = self.few[i];
                kept += 1;
            }
        }
        self.few_len = kept as u8;
        self.many.retain(|r| keep(&r.0));
    }

    /// Every entry, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let n = self.few_len as usize;
        self.few[..n]
            .iter()
            .copied()
            .chain(self.many.iter().map(|r| r.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pushes, pops and removals in any mix: the queue holds and pops
        /// what a sorted list does, across the spill to the heap and back.
        #[test]
        fn pops_like_a_sorted_list(
            steps in proptest::collection::vec((0u32..50, 0usize..4, 0usize..3, any::<bool>()), 1..100),
        ) {
            pops_like_a_sorted_list_with::<4>(&steps)?;
            pops_like_a_sorted_list_with::<16>(&steps)?;
        }
    }

    /// [`pops_like_a_sorted_list`] with `FEW` entries inline.
    fn pops_like_a_sorted_list_with<const FEW: usize>(
        steps: &[(u32, usize, usize, bool)],
    ) -> Result<(), TestCaseError> {
        let mut queue = FinishOrder::<u32, FEW>::new();
        let mut reference: Vec<u32> = Vec::new();
        for &(value, pushes, pops, remove) in steps {
            for i in 0..pushes as u32 {
                queue.push(value + i);
                reference.push(value + i);
            }
            if remove {
                queue.retain(|&v| v != value);
                reference.retain(|&v| v != value);
            }
            reference.sort_unstable();
            prop_assert_eq!(queue.len(), reference.len());
            prop_assert_eq!(queue.peek(), reference.first().copied());
            let mut all: Vec<u32> = queue.iter().collect();
            all.sort_unstable();
            prop_assert_eq!(&all, &reference);
            for _ in 0..pops {
                let expected = (!reference.is_empty()).then(|| reference.remove(0));
                prop_assert_eq!(queue.pop(), expected);
            }
            prop_assert_eq!(queue.is_empty(), reference.is_empty());
        }
        Ok(())
    }
}
