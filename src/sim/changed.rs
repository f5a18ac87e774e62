//! A set of indices (peers, server groups) marked while one event is
//! handled, each listed once, and read and cleared when the event ends.
//!
//! A processor-sharing resource's next completion moves whenever one of its
//! flows starts or ends, and one event often does both to the same resource
//! (a delivery frees an upload slot and fills it at once). Moving the
//! resource's event once, after the event, rather than at every change
//! spares the event queue a stale entry per change.

/// Indices marked since the last [`Changed::clear`], in marking order.
///
/// An index is listed when its stamp is the current `round`; a clear
/// starts a new round rather than unmarking each index listed (that loop
/// was 0.6-0.7% of a run of the paper's default).
#[derive(Debug)]
pub(super) struct Changed {
    list: Vec<u32>,
    stamps: Vec<u32>,
    /// Never 0, which a new index's stamp is.
    round: u32,
}

impl Default for Changed {
    fn default() -> Self {
        Changed {
            list: Vec::new(),
            stamps: Vec::new(),
            round: 1,
        }
    }
}

impl Changed {
    /// Mark `i` (a second mark before the next clear does nothing).
    #[inline]
    pub(super) fn mark(&mut self, i: u32) {
        let at = i as usize;
        if at >= self.stamps.len() {
            self.grow(at);
        }
        if self.stamps[at] != self.round {
            self.stamps[at] = self.round;
            self.list.push(i);
        }
    }

    /// Room for index `at`. Apart, and cold, so that `mark` (once or twice
    /// an event) is a few instructions inline rather than a call that
    /// saves registers for a resize it seldom does.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, at: usize) {
        self.stamps.resize(at + 1, 0);
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
        self.list.clear();
        self.round = self.round.wrapping_add(1);
        if self.round == 0 {
            self.wrap();
        }
    }

    /// The rounds ran out (after 2^32 clears): every stamp is old.
    #[cold]
    #[inline(never)]
    fn wrap(&mut self) {
        self.stamps.fill(0);
        self.round = 1;
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

    #[test]
    fn the_rounds_running_out_unmarks_everything() {
        let mut c = Changed::default();
        // Index 3's stamp is round 1, which comes again after the wrap.
        c.mark(3);
        c.clear();
        c.round = u32::MAX;
        c.mark(1);
        c.clear();
        assert_eq!(c.round, 1);
        c.mark(3);
        c.mark(1);
        c.mark(3);
        let listed: Vec<u32> = (0..c.len()).map(|i| c.get(i)).collect();
        assert_eq!(listed, [3, 1]);
    }
}
