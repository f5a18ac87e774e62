//! A first-in, first-out queue in one `Vec`, for the waiting queues
//! (`waiting`): items are appended at the back and taken from the front,
//! and the front's index moves on. Against `VecDeque`, a pop and a push
//! skip the ring's wrap-around arithmetic; the waiting queues do a million
//! of each on the paper's default under cross-opt, mostly pops of stale
//! entries.
//!
//! Memory: a queue that empties by pops forgets its items at its next pop
//! (most waiting queues do, often). Otherwise the popped items are moved
//! out only when a push finds the `Vec` full and they are at least a
//! quarter of it, so the `Vec` grows only while more than three quarters
//! of it are items still queued: its capacity stays below 8/3 of the most
//! items ever queued at once (a `VecDeque`'s, below 2), and a push moves
//! at most three items on average.

/// Items in the order pushed; [`Fifo::pop_front`] takes the oldest.
#[derive(Clone, Debug)]
pub(super) struct Fifo<T> {
    items: Vec<T>,
    /// Items before this index were popped.
    head: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo {
            items: Vec::new(),
            head: 0,
        }
    }
}

impl<T: Copy> Fifo<T> {
    /// Append `item` at the back.
    #[inline]
    pub(super) fn push_back(&mut self, item: T) {
        if self.items.len() == self.items.capacity() && 4 * self.head >= self.items.len() {
            self.drop_popped();
        }
        self.items.push(item);
    }

    /// Take the oldest item; none when the queue is empty, which then
    /// forgets its popped items.
    #[inline]
    pub(super) fn pop_front(&mut self) -> Option<T> {
        match self.items.get(self.head) {
            Some(&item) => {
                self.head += 1;
                Some(item)
            }
            None => {
                self.items.clear();
                self.head = 0;
                None
            }
        }
    }

    /// Items queued.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.items.len() - self.head
    }

    /// Whether no item is queued.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keep only the items `keep` accepts, in order.
    pub(super) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.drop_popped();
        self.items.retain(keep);
    }

    /// Move the queued items to the front of the `Vec`, over the popped.
    #[cold]
    fn drop_popped(&mut self) {
        self.items.drain(..self.head);
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any mix of pushes, pops and retains gives what a `VecDeque`
        /// gives, and the `Vec` stays within the bound the module states.
        #[test]
        fn behaves_as_a_vecdeque(ops in proptest::collection::vec(0u8..10, 0..400)) {
            let mut fifo = Fifo::default();
            let mut reference = VecDeque::new();
            let mut most = 0;
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    0..=4 => {
                        fifo.push_back(i);
                        reference.push_back(i);
                    }
                    5..=8 => prop_assert_eq!(fifo.pop_front(), reference.pop_front()),
                    _ => {
                        fifo.retain(|&x| x % 3 != 0);
                        reference.retain(|&x| x % 3 != 0);
                    }
                }
                prop_assert_eq!(fifo.len(), reference.len());
                prop_assert_eq!(fifo.is_empty(), reference.is_empty());
                most = most.max(fifo.len());
                prop_assert!(3 * fifo.items.capacity() <= 8 * most.max(1) + 12);
            }
        }
    }
}
