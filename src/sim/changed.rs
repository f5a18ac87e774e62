//! A set of indices (peers, server groups) marked while one event is
//! handled, each listed once, and read and cleared when the event ends.
//!
//! A processor-sharing resource's next completion moves whenever one of its
//! flows starts or ends, and one event often does both to the same resource
//! (a delivery frees an upload slot and fills it at once). Moving the
//! resource's event once, after the event, rather than at every change
//! spares the event queue a stale entry per change.

/// Indices marked since the last [`Changed::clear`], in marking order.
#[derive(Debug, Default)]
pub(super) struct Changed {
    list: Vec<u32>,
    listed: Vec<bool>,
}

impl Changed {
    /// Mark `i` (a second mark before the next clear does nothing).
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

    /// Indices marked since the last [`Changed::clear`].
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    /// The `i`-th index marked, in marking order.
    pub(super) fn get(&self, i: usize) -> u32 {
        self.list[i]
    }

    /// Empty the set, keeping its memory. (Taking the list out and handing
    /// it back, as the event loop did before, cost about 21 instructions
    /// a block more on the paper's default, 0.9-1.2% on its scenarios.)
    pub(super) fn clear(&mut self) {
        for &i in &self.list {
            self.listed[i as usize] = false;
        }
        self.list.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_index_is_listed_once_in_marking_order() {
        let mut c = Changed::default();
        for i in [5, 2, 5, 9, 2] {
            c.mark(i);
        }
        let listed: Vec<u32> = (0..c.len()).map(|i| c.get(i)).collect();
        assert_eq!(listed, [5, 2, 9]);
        c.clear();
        assert_eq!(c.len(), 0);
        c.mark(2);
        c.mark(2);
        assert_eq!((c.len(), c.get(0)), (1, 2));
    }
}
