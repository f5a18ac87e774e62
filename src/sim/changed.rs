//! A set of indices (peers, server groups) marked while one event is
//! handled, each listed once, and taken when the event ends.
//!
//! A processor-sharing resource's next completion moves whenever one of its
//! flows starts or ends, and one event often does both to the same resource
//! (a delivery frees an upload slot and fills it at once). Moving the
//! resource's event once, after the event, rather than at every change
//! spares the event queue a stale entry per change.

/// Indices marked since the last [`Changed::take`], in marking order.
#[derive(Debug, Default)]
pub(super) struct Changed {
    list: Vec<u32>,
    listed: Vec<bool>,
}

impl Changed {
    /// Mark `i` (a second mark before the next take does nothing).
    #[inline]
    pub(super) fn mark(&mut self, i: u32) {
        let at = i as usize;
        if at >= self.listed.len() {
            self.grow(at);
        }
        if !self.listed[at] {
            self.listed[at] = true;
            self.list.push(i);
        }
    }

    /// Room for index `at`. Apart, and cold, so that `mark` (once or twice
    /// an event) is a few instructions inline rather than a call that
    /// saves registers for a resize it seldom does.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, at: usize) {
        self.listed.resize(at + 1, false);
    }

    /// The marked indices, in marking order; the set is then empty. Hand
    /// the list back with [`Changed::give_back`] to reuse its memory.
    pub(super) fn take(&mut self) -> Vec<u32> {
        let list = std::mem::take(&mut self.list);
        for &i in &list {
            self.listed[i as usize] = false;
        }
        list
    }

    /// Return a list from [`Changed::take`] for reuse.
    pub(super) fn give_back(&mut self, mut list: Vec<u32>) {
        if self.list.is_empty() {
            list.clear();
            self.list = list;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_index_is_taken_once_in_marking_order() {
        let mut c = Changed::default();
        for i in [5, 2, 5, 9, 2] {
            c.mark(i);
        }
        let list = c.take();
        assert_eq!(list, [5, 2, 9]);
        c.give_back(list);
        assert!(c.take().is_empty());
        c.mark(2);
        assert_eq!(c.take(), [2]);
    }
}
