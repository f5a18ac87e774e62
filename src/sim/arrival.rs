//! Waiting leechers served in the order they began to wait
//! (`peers.waiting_order = "arrival"`; docs/model.md, "Waiting").
//!
//! The default order keeps a queue per block and puts a waiting leecher on
//! the queue of each block it lacks (some 29 entries a wait on a flash
//! crowd), and a holder serves the queues of its blocks in block order.
//! Here a waiting leecher has one entry, in its rack's queue, and a holder
//! with a free slot walks the queue from the front and serves each leecher
//! it can, its own rack's queue first. The walk looks at `peers.offer_scan`
//! waiting leechers at most, so that an offer costs a bounded number of
//! looks even when the first waiters need nothing the holder has.
//!
//! As with the queues per block, an entry stays while its leecher stops
//! and starts waiting again, and goes when an offer meets it while its
//! leecher does not wait (or when a purge drops departed peers).

use std::collections::VecDeque;

use super::state::{PeerId, PeerState};
use super::world::Sim;

/// The queues of waiting leechers in the order they began to wait.
#[derive(Default)]
pub(super) struct ArrivalQueues {
    /// Per rack (one without rack locality): leechers, first to wait first.
    queues: Vec<VecDeque<PeerId>>,
    /// Per peer slot: whether it has an entry in its rack's queue.
    queued: Vec<bool>,
    /// Entries in all queues, some of leechers that no longer wait: with
    /// none, an offer has nothing to look at.
    entries: usize,
    /// `peers.offer_scan`: the waiting leechers an offer looks at, at most.
    scan: usize,
}

impl ArrivalQueues {
    /// Empty queues for `racks` racks; an offer looks at `scan` waiting
    /// leechers at most.
    pub(super) fn new(racks: usize, scan: usize) -> ArrivalQueues {
        ArrivalQueues {
            queues: vec![VecDeque::new(); racks],
            queued: Vec::new(),
            entries: 0,
            scan,
        }
    }

    /// Entries queued (0: no one waits).
    #[inline]
    pub(super) fn entries(&self) -> usize {
        self.entries
    }

    /// A new peer in slot `p` (a new slot, or a purged peer's), with no
    /// entry.
    pub(super) fn add_peer(&mut self, p: PeerId) {
        let p = p as usize;
        if p == self.queued.len() {
            self.queued.push(false);
        } else {
            self.queued[p] = false;
        }
    }

    /// `p`, of `rack`, waits: at the back of its rack's queue, unless its
    /// entry is still there.
    pub(super) fn push(&mut self, p: PeerId, rack: usize) {
        if !std::mem::replace(&mut self.queued[p as usize], true) {
            self.queues[rack].push_back(p);
            self.entries += 1;
        }
    }

    /// The leecher at place `i` of `rack`'s queue.
    fn get(&self, rack: usize, i: usize) -> Option<PeerId> {
        self.queues[rack].get(i).copied()
    }

    /// Drop the entry at place `i` of `rack`'s queue.
    fn remove(&mut self, rack: usize, i: usize) {
        if let Some(p) = self.queues[rack].remove(i) {
            self.queued[p as usize] = false;
            self.entries -= 1;
        }
    }

    /// Drop the entries of departed peers (`gone`), order kept.
    pub(super) fn purge(&mut self, gone: impl Fn(&PeerId) -> bool) {
        let queued = &mut self.queued;
        for queue in &mut self.queues {
            queue.retain(|p| {
                let keep = !gone(p);
                if !keep {
                    queued[*p as usize] = false;
                }
                keep
            });
        }
        self.entries = self.queues.iter().map(VecDeque::len).sum();
    }
}

impl Sim<'_> {
    /// [`Sim::offer`] under arrival order: `h` serves waiting leechers from
    /// the front of its rack's queue, then of the other racks' in rack
    /// order from its own, looking at `offer_scan` of them in all.
    pub(super) fn offer_in_arrival_order(&mut self, h: PeerId) {
        let racks = self.waiting.racks();
        let home = if racks > 1 {
            self.racks.rack(h) as usize
        } else {
            0
        };
        let mut budget = self.waiting.arrival.scan;
        for i in 0..racks {
            budget = self.serve_arrivals(h, (home + i) % racks, budget);
            if budget == 0 || self.uploaders[h as usize].free_slots == 0 {
                return;
            }
        }
    }

    /// Serve waiting leechers of `rack`'s queue from `h`, front first,
    /// looking at `budget` of them at most (entries of leechers that no
    /// longer wait are dropped and not counted); the budget left.
    fn serve_arrivals(&mut self, h: PeerId, rack: usize, mut budget: usize) -> usize {
        let mut i = 0;
        while budget > 0 && self.uploaders[h as usize].free_slots != 0 {
            let Some(l) = self.waiting.arrival.get(rack, i) else {
                break;
            };
            if self.waiting.waits(l) {
                budget -= 1;
                if l != h {
                    self.serve_arrival(h, l);
                }
            }
            if self.waiting.waits(l) {
                i += 1;
            } else {
                self.waiting.arrival.remove(rack, i);
            }
        }
        budget
    }

    /// Serve waiting leecher `l` from `h`: its rarest blocks among those
    /// `h` holds while both have room, or, if `h` has none it needs, one of
    /// its server blocks in flight that `h` would deliver sooner (the end
    /// game; not from another rack under rack locality, which keeps a
    /// block held in the leecher's rack inside it).
    fn serve_arrival(&mut self, h: PeerId, l: PeerId) {
        if self.peers[l as usize].state != PeerState::Leecher {
            self.waiting.stop(l);
            return;
        }
        let free_before = self.uploaders[h as usize].free_slots;
        self.serve_waiter(l, h);
        let served = self.uploaders[h as usize].free_slots != free_before;
        let crosses = self.rack_first() && self.racks.crosses(h, l);
        if !served && !crosses && self.uploaders[h as usize].free_slots != 0 {
            self.endgame_switch(l, Some(h));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leecher_has_one_entry_until_it_is_dropped() {
        let mut q = ArrivalQueues::new(2, 64);
        for p in 0..3 {
            q.add_peer(p);
        }
        q.push(2, 1);
        q.push(0, 1);
        q.push(2, 1);
        q.push(1, 0);
        assert_eq!(q.entries(), 3);
        assert_eq!(
            (q.get(1, 0), q.get(1, 1), q.get(1, 2)),
            (Some(2), Some(0), None)
        );
        q.remove(1, 0);
        q.push(2, 1);
        assert_eq!((q.get(1, 0), q.get(1, 1)), (Some(0), Some(2)));
        q.purge(|&p| p == 0);
        assert_eq!(
            (q.get(1, 0), q.get(0, 0), q.entries()),
            (Some(2), Some(1), 2)
        );
        // A purged slot taken by a new peer starts without an entry.
        q.add_peer(0);
        q.push(0, 0);
        assert_eq!((q.get(0, 1), q.entries()), (Some(0), 3));
    }
}
