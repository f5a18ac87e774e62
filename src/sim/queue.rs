//! The event engine's queue of pending entries: a monotone min-queue of
//! `(key, value)` pairs (the engine's value is an event's slot and a copy
//! of the event), where every key pushed exceeds the last one popped,
//! unless the queue has emptied since (the engine never schedules before
//! now, and its keys end with a growing sequence number; but it skips the
//! entries of moved events, and a queue emptied by such skips may then get
//! a key below them).
//!
//! A 4-ary heap while it holds few entries, and a radix heap once it holds
//! many. A heap's pop walks its whole depth, each level's load waiting on
//! the last level's comparison; four children a node halve the depth of a
//! binary heap's (the paper's default holds some 500 to 1,200 entries).
//! And a pop hands out the top but leaves it in place until the next push
//! takes its place: an event's handler nearly always schedules another
//! event, mostly soon (a sender's next completion), and such a key sinks a
//! level or two from the top, where a pop would have sunk the heap's last
//! entry (mostly an arrival or a departure far ahead) to the bottom and the
//! push then raised the new key. On the paper's default that made whole
//! runs 8-10% faster. Once the heap outgrows the caches (a flash crowd of
//! 100,000 hosts keeps about as many uploads, each with a pending
//! completion) every level is a cache miss; a radix heap appends to
//! buckets and sorts lazily, touching memory mostly in order, and can
//! name its next entry early, for prefetching (see `RADIX_FROM`). On a
//! small queue the heap is cheaper. Keys are unique, so both pop in
//! exactly the same order and the switch never changes a run. Entries
//! pushed in key order (a run's arrivals, all scheduled at its start)
//! wait in a list beside the heap, and a pop takes the smaller front: on
//! the paper's default at 5 req/s they were 760 of its 1,220 entries on
//! average, and without them the heap (460 entries, 15 KB) fits a core's
//! first-level cache (runs 2-3% faster). Entries due late (a peer's
//! departure, its lifetime ahead) wait in a second small heap beside it
//! (`push_late`): on the paper's default, 135 of the 507 events pending
//! on average (measured) are departures, which sat at the heap's bottom,
//! deepening every push's sift; apart, whole runs take 1.9-2.4% fewer
//! instructions.
//! A pop compares the heap's top with the smaller front of the two (kept
//! as one key, `side_first`). Once the queue is a radix heap,
//! entries pushed at the time of the last entry it popped wait in a
//! second list beside it (`push_radix`): half a flash crowd's entries,
//! which then skip the heap altogether (100,000-host crowd 9% faster).

use std::cmp::Ordering;
use std::collections::VecDeque;

use dary_heap::QuaternaryHeap;

use super::radix_heap::RadixHeap;

/// Entries above which the queue becomes a radix heap (128 KB of heap).
/// A radix heap can name the next event early (`RadixHeap::peek_hint`),
/// for the loop to prefetch its records, which pays once the records
/// outgrow a core's caches, long before the heap does: flash crowds of
/// 10,000 and 30,000 hosts ran 3-9% and 20% faster than with the switch
/// at 65,536 entries (2 MB of heap), the paper's default (at most some
/// 1,200 entries) alike.
pub(super) const RADIX_FROM: usize = 1 << 12;

/// A heap entry, ordered by key alone and reversed, so that the (max-)heap
/// pops the smallest key.
#[derive(Debug, Clone, Copy)]
struct Entry<V> {
    key: u128,
    value: V,
}

impl<V> Ord for Entry<V> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

impl<V> PartialOrd for Entry<V> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<V> PartialEq for Entry<V> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<V> Eq for Entry<V> {}

#[derive(Debug)]
enum Store<V> {
    Heap(QuaternaryHeap<Entry<V>>),
    Radix(RadixHeap<V>),
}

/// Pending `(key, value)` entries, smallest key first.
#[derive(Debug)]
pub(super) struct KeyQueue<V> {
    store: Store<V>,
    radix_from: usize,
    /// Radix pops since its buckets were last shrunk.
    pops_since_shrink: usize,
    /// The heap's top was handed out by `pop` but is still in place: the
    /// next push takes its place, one sift down where a pop and a push
    /// would each sift (an event's handler nearly always schedules one).
    taken: bool,
    /// Entries pushed in increasing key order by `push_sorted` (a run's
    /// kept arrivals, all scheduled at its start), kept beside the heap
    /// rather than in it. A pop takes the smaller of both fronts, so the
    /// order is that of one queue.
    sorted: VecDeque<(u128, V)>,
    /// Entries pushed by `push_late` (a peer's departure, due long after
    /// most of the queue's entries), in a heap of their own beside the
    /// first while the queue is a 4-ary heap. A pop takes the smallest of
    /// the three fronts, so the order is that of one queue.
    late: QuaternaryHeap<Entry<V>>,
    /// The smallest key of `sorted` and `late` (`u128::MAX` with both
    /// empty): a pop compares the heap's top with it alone.
    side_first: u128,
    /// Once the queue is a radix heap: entries pushed at the time of the
    /// last key the heap popped (a key's high 64 bits are its time, its
    /// low ones a growing sequence number), in the order pushed, which is
    /// their keys' order. All are of one time: the heap's last key changes
    /// time only when the list is empty, or when the heap empties (its
    /// last key is then 0). See `push_radix`.
    same_time: VecDeque<(u128, V)>,
}

impl<V: Copy> KeyQueue<V> {
    /// An empty queue that becomes a radix heap past `radix_from` entries.
    pub(super) fn new(radix_from: usize) -> KeyQueue<V> {
        KeyQueue {
            store: Store::Heap(QuaternaryHeap::new()),
            radix_from,
            pops_since_shrink: 0,
            taken: false,
            sorted: VecDeque::new(),
            late: QuaternaryHeap::new(),
            side_first: u128::MAX,
            same_time: VecDeque::new(),
        }
    }

    /// Add an entry; `key` must exceed the last key popped unless the
    /// queue has emptied since, and its low 64 bits every earlier key's
    /// (the engine's sequence number).
    pub(super) fn push(&mut self, key: u128, value: V) {
        match &mut self.store {
            Store::Heap(heap) => {
                let entry = Entry { key, value };
                if std::mem::take(&mut self.taken)
                    && let Some(mut top) = heap.peek_mut()
                {
                    *top = entry;
                    return;
                }
                heap.push(entry);
                if heap.len() > self.radix_from {
                    self.become_radix();
                }
            }
            Store::Radix(heap) => push_radix(heap, &mut self.same_time, key, value),
        }
    }

    /// [`KeyQueue::push`] of an entry expected to come in key order after
    /// the earlier `push_sorted` ones still queued: it waits in the list
    /// beside the heap, or, out of order (or once the queue is a radix
    /// heap), takes a plain push.
    pub(super) fn push_sorted(&mut self, key: u128, value: V) {
        let in_order = self.sorted.back().is_none_or(|&(last, _)| last < key);
        if in_order && matches!(self.store, Store::Heap(_)) {
            self.sorted.push_back((key, value));
            self.side_first = self.side_first.min(key);
        } else {
            self.push(key, value);
        }
    }

    /// [`KeyQueue::push`] of an entry expected to come after most of
    /// those queued (a departure, far ahead of the uploads' completions).
    /// While the queue is a 4-ary heap it waits in a heap of its own, so
    /// that the first holds only the soon entries, which every push sifts
    /// among; once it is a radix heap, a plain push.
    pub(super) fn push_late(&mut self, key: u128, value: V) {
        if matches!(self.store, Store::Heap(_)) {
            self.late.push(Entry { key, value });
            self.side_first = self.side_first.min(key);
        } else {
            self.push(key, value);
        }
    }

    /// Remove the entry of smallest key.
    pub(super) fn pop(&mut self) -> Option<(u128, V)> {
        match &mut self.store {
            Store::Heap(heap) => {
                if std::mem::take(&mut self.taken) {
                    heap.pop();
                }
                let top = heap.peek().map(|e| (e.key, e.value));
                if top.is_none_or(|(key, _)| self.side_first < key) && self.side_first < u128::MAX {
                    return self.pop_side();
                }
                self.taken = top.is_some();
                top
            }
            Store::Radix(heap) => {
                if same_time_first(heap, &self.same_time) {
                    return self.same_time.pop_front();
                }
                let popped = heap.pop();
                // Entries move from bucket to bucket as time advances, and
                // each bucket keeps the capacity it once needed: left alone,
                // the buckets hold several times the entries pending (on
                // the 100,000-host crowd, 268 MB of process instead of 195).
                // Shrinking them once per `len` pops costs about a copy of
                // the entries per `len` pops.
                self.pops_since_shrink += 1;
                if self.pops_since_shrink > heap.len().max(self.radix_from) {
                    heap.shrink_to_fit();
                    self.pops_since_shrink = 0;
                }
                popped
            }
        }
    }

    /// Remove the entry of key `side_first`, the front of `sorted` or the
    /// top of `late`.
    fn pop_side(&mut self) -> Option<(u128, V)> {
        let popped = if self.sorted.front().is_some_and(|e| e.0 == self.side_first) {
            self.sorted.pop_front()
        } else {
            self.late.pop().map(|e| (e.key, e.value))
        };
        let sorted = self.sorted.front().map_or(u128::MAX, |e| e.0);
        let late = self.late.peek().map_or(u128::MAX, |e| e.key);
        self.side_first = sorted.min(late);
        popped
    }

    /// Whether the queue turned into a radix heap.
    #[inline]
    pub(super) fn is_radix(&self) -> bool {
        matches!(self.store, Store::Radix(_))
    }

    /// The value likely popped next (a hint, for prefetching), when the
    /// queue is a radix heap.
    #[inline]
    pub(super) fn peek_hint(&self, live: impl Fn(u128, &V) -> bool) -> Option<(u128, V)> {
        let Store::Radix(heap) = &self.store else {
            return None;
        };
        let front = self.same_time.front().copied();
        if let Some(f) = front
            && same_time_first(heap, &self.same_time)
        {
            return live(f.0, &f.1).then_some(f);
        }
        let hint = heap.peek_hint(&live)?;
        match front {
            // Every entry at the current time in the heap is dead.
            Some(f) if f.0 < hint.0 => live(f.0, &f.1).then_some(f),
            _ => Some(hint),
        }
    }

    /// Only after a push that grew the heap, so no top is taken.
    fn become_radix(&mut self) {
        debug_assert!(!self.taken, "a taken top would move to the radix heap");
        if let Store::Heap(heap) = &mut self.store {
            let mut radix = RadixHeap::new();
            for e in std::mem::take(heap).into_vec() {
                radix.push(e.key, e.value);
            }
            // The list's memory goes too (a million-host crowd's arrivals).
            for (key, value) in std::mem::take(&mut self.sorted) {
                radix.push(key, value);
            }
            for e in std::mem::take(&mut self.late).into_vec() {
                radix.push(e.key, e.value);
            }
            self.side_first = u128::MAX;
            self.store = Store::Radix(radix);
        }
    }
}

/// A push once the queue is a radix heap. On a flash crowd half the
/// events are scheduled at the time of the event being handled (flows
/// started together at an uploader finish together, and its next
/// completion is due at once); in the radix heap such a key differs from
/// the last one popped in the sequence number alone and still moves bucket
/// to bucket a few times. It waits in `same_time` instead, pushed and
/// popped at O(1): its key exceeds every key the heap held at the same time
/// before it, and is below every later time's.
fn push_radix<V: Copy>(
    heap: &mut RadixHeap<V>,
    same_time: &mut VecDeque<(u128, V)>,
    key: u128,
    value: V,
) {
    if key >> 64 == heap.top() >> 64 {
        same_time.push_back((key, value));
    } else {
        heap.push(key, value);
    }
}

/// Whether the next entry is `same_time`'s front rather than the heap's
/// smallest. The list's entries come after the heap's keys at the time of
/// its last key (pushed before that time came) and before its later ones.
/// Once the heap has emptied, its last key is 0 and it holds nothing at
/// time 0 unless the list's time is 0; its keys pushed since come after the
/// list's.
#[inline]
fn same_time_first<V: Copy>(heap: &RadixHeap<V>, same_time: &VecDeque<(u128, V)>) -> bool {
    !same_time.is_empty() && !heap.holds_top_high_half()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pushes of keys above the last popped one (plain, in order, or
        /// late), mixed with pops: the
        /// queue pops what a sorted list would, whether it stays a 4-ary
        /// heap, turns radix early, or turns radix midway. Keys are made as
        /// the engine's: a time in the high half (often the time of the
        /// last key popped) and a growing count in the low half.
        #[test]
        fn pops_the_smallest_key_like_a_sorted_list(
            steps in proptest::collection::vec(
                (prop_oneof![Just(0u64), 0u64..1000], 0usize..4, 0usize..3),
                1..200,
            ),
            radix_from in prop_oneof![Just(0usize), Just(5), Just(usize::MAX)],
        ) {
            let mut queue = KeyQueue::new(radix_from);
            let mut reference: Vec<(u128, u32)> = Vec::new();
            let mut floor = 0u128;
            let mut n = 0u32;
            // Keys of `push_sorted`, mostly increasing.
            let mut sorted_from = 0u128;
            for &(gap, pushes, pops) in &steps {
                for i in 0..pushes {
                    let key = ((floor >> 64) + u128::from(gap)) << 64 | u128::from(n);
                    if i % 2 == 1 {
                        let key = key.max(((sorted_from >> 64) + u128::from(gap % 3)) << 64 | u128::from(n));
                        sorted_from = key;
                        queue.push_sorted(key, n);
                        reference.push((key, n));
                    } else if i == 2 {
                        // Late, or not so late: the order holds either way.
                        let key = key + ((u128::from(gap % 2) * 500) << 64);
                        queue.push_late(key, n);
                        reference.push((key, n));
                    } else {
                        queue.push(key, n);
                        reference.push((key, n));
                    }
                    n += 1;
                }
                for _ in 0..pops {
                    reference.sort_unstable_by(|a, b| b.cmp(a));
                    let expected = reference.pop();
                    prop_assert_eq!(queue.pop(), expected);
                    if let Some((key, _)) = expected {
                        floor = floor.max(key);
                    }
                }
            }
        }
    }
}
