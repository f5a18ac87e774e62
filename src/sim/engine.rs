//! A small discrete-event core: a simulated clock and a queue of pending
//! events ordered by time, then by insertion sequence, with cancellation and
//! rescheduling. It knows nothing of VMs; the model decides what an event is.

use super::float::at_least;
use super::queue::{KeyQueue, RADIX_FROM};

/// Handle of a pending event, for cancelling or rescheduling it: a slot of
/// the engine's and the low half of the sequence number of the event's
/// queue entry, so a handle to an event that fired, or moved (moving gives
/// a new handle), does not touch a later one. (A handle kept while some
/// 2^32 later events were queued could match a later occupant of its slot,
/// as a 32-bit generation could wrap; the model keeps handles only while
/// their events are pending.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    slot: u32,
    seq: u32,
}

/// Order key: time first, then insertion sequence, so that events at the same
/// time fire in the order they were scheduled (a total, deterministic order).
/// The time is kept as the bits of a non-negative `f64`, which order as the
/// numbers do, in the high half of one integer and the sequence in the low
/// half, so the queue orders keys as that one integer (`Key::0`).
#[derive(Debug, Clone, Copy)]
struct Key(u128);

impl Key {
    fn new(time_s: f64, seq: u64) -> Key {
        Key(u128::from(time_s.to_bits()) << 64 | u128::from(seq))
    }

    fn time_s(self) -> f64 {
        f64::from_bits((self.0 >> 64) as u64)
    }

    fn seq(self) -> u64 {
        self.0 as u64
    }
}

/// Where a scheduled event's entry waits (see the `schedule` calls).
#[derive(Debug, Clone, Copy)]
enum Lane {
    /// Among the soon ones ([`Engine::schedule`]).
    Main,
    /// In a series in order of time ([`Engine::schedule_in_order`]).
    Series,
    /// Apart, as due late ([`Engine::schedule_late`]).
    Late,
}

/// A slot's sequence number when it holds no pending event.
const VACANT: u64 = u64::MAX;

/// The event queue and clock. `E` is the model's event type.
///
/// A queue of `(key, (slot, event))` entries (a 4-ary heap, or a radix
/// heap once large; see `queue`) with lazy deletion: a pending event holds
/// a slot, which records the sequence number of its live entry;
/// rescheduling pushes a new entry and records its number, cancelling
/// empties the slot, and entries whose number is no longer their slot's are
/// skipped when they surface. This costs no hashing and no index
/// bookkeeping per heap move, which an indexed priority queue pays on every
/// operation.
///
/// Each entry carries a copy of its event, so that a pop hands the event
/// on without waiting for its slot: on a large queue the slot is a cache
/// miss, and with the event in hand the model's own loads for it start
/// while the slot's check (nearly always passed) is still on its way. A
/// slot is only that number (8 bytes), so the slots of a crowd's 100,000
/// pending events fit a core's second-level cache.
#[derive(Debug)]
pub struct Engine<E> {
    now_s: f64,
    next_seq: u64,
    queue: KeyQueue<(u32, E)>,
    /// Per slot: the sequence number of its pending event's live entry,
    /// or `VACANT`.
    slots: Vec<u64>,
    free: Vec<u32>,
    pending: usize,
    processed: u64,
}

impl<E: Copy> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Engine<E> {
    /// An empty engine at time 0.
    pub fn new() -> Self {
        Self::with_radix_from(RADIX_FROM)
    }

    /// An empty engine whose queue turns radix past `radix_from` entries
    /// (tests turn it early).
    fn with_radix_from(radix_from: usize) -> Self {
        Engine {
            now_s: 0.0,
            next_seq: 0,
            queue: KeyQueue::new(radix_from),
            slots: Vec::new(),
            free: Vec::new(),
            pending: 0,
            processed: 0,
        }
    }

    /// The simulated time (s): the time of the last event popped.
    pub fn now_s(&self) -> f64 {
        self.now_s
    }

    /// Events popped so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Pending events.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Schedule `event` at `time_s` (never before now).
    pub fn schedule(&mut self, time_s: f64, event: E) -> EventId {
        self.schedule_in(time_s, event, Lane::Main)
    }

    /// [`Engine::schedule`] of one of a series of events scheduled in
    /// order of time (a run's arrivals, all at its start): such events
    /// wait in order beside the queue's heap, which stays small. The same
    /// order of events as `schedule`, whatever the times.
    pub fn schedule_in_order(&mut self, time_s: f64, event: E) -> EventId {
        self.schedule_in(time_s, event, Lane::Series)
    }

    /// [`Engine::schedule`] of an event expected to fire after most of
    /// those pending (a peer's departure, far ahead of the transfers'
    /// completions): it waits apart from them, so that their heap stays
    /// small. The same order of events as `schedule`, whatever the times.
    pub fn schedule_late(&mut self, time_s: f64, event: E) -> EventId {
        self.schedule_in(time_s, event, Lane::Late)
    }

    /// A new pending event in `lane`.
    fn schedule_in(&mut self, time_s: f64, event: E, lane: Lane) -> EventId {
        debug_assert!(!time_s.is_nan(), "event time is NaN");
        let slot = self.take_slot();
        self.push(slot, time_s, event, lane)
    }

    /// A free slot for a new pending event.
    fn take_slot(&mut self) -> u32 {
        self.pending += 1;
        self.free.pop().unwrap_or_else(|| {
            self.slots.push(VACANT);
            (self.slots.len() - 1) as u32
        })
    }

    /// Queue `event` of `slot` at `time_s` in `lane` (which `schedule`
    /// asked); the slot records the entry.
    fn push(&mut self, slot: u32, time_s: f64, event: E, lane: Lane) -> EventId {
        let key = self.key(time_s);
        self.slots[slot as usize] = key.seq();
        match lane {
            Lane::Main => self.queue.push(key.0, (slot, event)),
            Lane::Series => self.queue.push_sorted(key.0, (slot, event)),
            Lane::Late => self.queue.push_late(key.0, (slot, event)),
        }
        EventId {
            slot,
            seq: key.seq() as u32,
        }
    }

    /// Whether `id` names a pending event.
    fn live(&self, id: EventId) -> bool {
        self.slots
            .get(id.slot as usize)
            .is_some_and(|&seq| seq != VACANT && seq as u32 == id.seq)
    }

    /// Move a pending event (`event`, as scheduled) to `time_s`; it then
    /// orders as if newly scheduled. Returns its new handle, or `None` if
    /// the event is no longer pending.
    #[must_use = "a moved event has a new handle"]
    pub fn reschedule(&mut self, id: EventId, time_s: f64, event: E) -> Option<EventId> {
        self.live(id)
            .then(|| self.reschedule_pending(id, time_s, event))
    }

    /// `reschedule` for a caller that knows the event is pending: one that
    /// keeps its handle only while the event is pending (dropping it when
    /// the event fires or is cancelled). It skips the look at the slot,
    /// which on a large queue is a cache miss at every move. Moving an
    /// event that is no longer pending would move whatever event took its
    /// slot; debug builds check, and a run that lost an event this way
    /// fails its end-of-run invariants (a VM never completes).
    #[must_use = "a moved event has a new handle"]
    pub fn reschedule_pending(&mut self, id: EventId, time_s: f64, event: E) -> EventId {
        debug_assert!(self.live(id), "moving an event that is not pending");
        self.push(id.slot, time_s, event, Lane::Main)
    }

    /// Cancel a pending event; whether it was pending.
    pub fn cancel(&mut self, id: EventId) -> bool {
        let live = self.live(id);
        if live {
            self.release(id.slot);
        }
        live
    }

    /// Pop the next event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(EventId, E)> {
        loop {
            let (raw, (slot, event)) = self.queue.pop()?;
            let key = Key(raw);
            // Entries of cancelled or moved events are skipped.
            if self.slots[slot as usize] != key.seq() {
                continue;
            }
            self.now_s = at_least(key.time_s(), self.now_s);
            self.processed += 1;
            self.release(slot);
            let id = EventId {
                slot,
                seq: key.seq() as u32,
            };
            return Some((id, event));
        }
    }

    /// Whether [`Engine::peek_hint`] may name an event: only a large queue's
    /// can, whose entries are worth prefetching for.
    #[inline]
    pub fn hints(&self) -> bool {
        self.queue.is_radix()
    }

    /// The event popped next if no event is scheduled, moved or cancelled
    /// before it, when the queue can name it cheaply (a large queue, whose
    /// next few entries are few): for a model to prefetch what that event
    /// will read (see `prefetch`). `None` says nothing.
    #[inline]
    pub fn peek_hint(&self) -> Option<E> {
        let live = |key: u128, &(slot, _): &(u32, E)| self.slots[slot as usize] == Key(key).seq();
        self.queue.peek_hint(live).map(|(_, (_, e))| e)
    }

    /// An event left its slot: it is free for the next one.
    fn release(&mut self, slot: u32) {
        self.slots[slot as usize] = VACANT;
        self.free.push(slot);
        self.pending -= 1;
    }

    fn key(&mut self, time_s: f64) -> Key {
        let seq = self.next_seq;
        self.next_seq += 1;
        // Never before now, and never -0.0, whose bits would sort last.
        let time_s = at_least(time_s, self.now_s) + 0.0;
        Key::new(time_s, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A pending event of the reference: time, when it was last scheduled
    /// or moved, the event, and its current handle.
    type Pending = (f64, u64, u32, EventId);

    proptest! {
        /// Schedules (plain, in order and late), moves, cancels and pops in any
        /// mix: the engine pops what a list of the pending events ordered
        /// by time, then by when each was last scheduled or moved, would,
        /// at that time; a handle works only while its event is pending
        /// and not moved since.
        #[test]
        fn pops_like_a_list_of_pending_events(
            ops in proptest::collection::vec((0u8..7, 0u16..40, 0usize..1000), 1..300),
            radix_from in prop_oneof![Just(0usize), Just(8), Just(RADIX_FROM)],
        ) {
            let mut engine: Engine<u32> = Engine::with_radix_from(radix_from);
            let mut pending: Vec<Pending> = Vec::new();
            let mut handles: Vec<(u32, EventId)> = Vec::new();
            let (mut events, mut order) = (0u32, 0u64);
            let mut in_order_s = 0.0f64;
            let pop_expected = |pending: &mut Vec<Pending>| {
                let first = (0..pending.len()).min_by(|&a, &b| {
                    let (x, y) = (&pending[a], &pending[b]);
                    x.0.total_cmp(&y.0).then(x.1.cmp(&y.1))
                })?;
                Some(pending.remove(first))
            };
            for (op, dt, pick) in ops {
                let time_s = engine.now_s() + f64::from(dt) * 0.25;
                let handle = (!handles.is_empty()).then(|| handles[pick % handles.len()]);
                match (op, handle) {
                    (1, _) => {
                        // Mostly in order of time, sometimes not (a plain
                        // schedule then), mixed with all the rest.
                        in_order_s = in_order_s.max(engine.now_s()) + f64::from(dt % 8) * 0.25;
                        let time_s = if dt < 36 { in_order_s } else { time_s };
                        let id = engine.schedule_in_order(time_s, events);
                        pending.push((time_s, order, events, id));
                        handles.push((events, id));
                        events += 1;
                        order += 1;
                    }
                    (6, _) => {
                        // Late, mostly far ahead; moved, cancelled and
                        // popped like the rest.
                        let time_s = time_s + if dt < 30 { 20.0 } else { 0.0 };
                        let id = engine.schedule_late(time_s, events);
                        pending.push((time_s, order, events, id));
                        handles.push((events, id));
                        events += 1;
                        order += 1;
                    }
                    (0, _) | (2..=3, None) => {
                        let id = engine.schedule(time_s, events);
                        pending.push((time_s, order, events, id));
                        handles.push((events, id));
                        events += 1;
                        order += 1;
                    }
                    (2, Some((event, id))) => {
                        let live = pending.iter().position(|p| p.3 == id);
                        let moved = engine.reschedule(id, time_s, event);
                        prop_assert_eq!(moved.is_some(), live.is_some());
                        if let (Some(i), Some(new)) = (live, moved) {
                            pending[i] = (time_s, order, event, new);
                            handles.push((event, new));
                            order += 1;
                        }
                    }
                    (3, Some((_, id))) => {
                        let live = pending.iter().position(|p| p.3 == id);
                        prop_assert_eq!(engine.cancel(id), live.is_some());
                        if let Some(i) = live {
                            pending.remove(i);
                        }
                    }
                    _ => {
                        let expected = pop_expected(&mut pending);
                        // A hint, when given, names the next event.
                        let hint = engine.peek_hint();
                        prop_assert!(hint.is_none() || hint == expected.map(|p| p.2));
                        let popped = engine.pop();
                        prop_assert_eq!(popped.map(|p| p.1), expected.map(|p| p.2));
                        if let Some(p) = expected {
                            prop_assert_eq!(engine.now_s(), p.0);
                        }
                    }
                }
                prop_assert_eq!(engine.pending(), pending.len());
            }
            while let Some(p) = pop_expected(&mut pending) {
                prop_assert_eq!(engine.pop().map(|p| p.1), Some(p.2));
            }
            prop_assert!(engine.pop().is_none());
        }
    }

    #[test]
    fn pops_by_time_then_insertion() {
        let mut e = Engine::new();
        e.schedule(2.0, "c");
        e.schedule(1.0, "a");
        e.schedule(1.0, "b");
        let order: Vec<_> = std::iter::from_fn(|| e.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!(e.now_s(), 2.0);
        assert_eq!(e.processed(), 3);
    }

    #[test]
    fn cancel_and_reschedule() {
        let mut e = Engine::new();
        let a = e.schedule(1.0, 'a');
        let b = e.schedule(2.0, 'b');
        e.schedule(3.0, 'c');
        assert!(e.cancel(a));
        assert!(!e.cancel(a));
        let moved = e.reschedule(b, 5.0, 'b').expect("b is pending");
        // The old handle no longer names the moved event.
        assert!(e.reschedule(b, 4.0, 'b').is_none());
        assert_eq!(e.pop().map(|p| p.1), Some('c'));
        assert_eq!(e.pop().map(|p| p.1), Some('b'));
        assert!(e.reschedule(moved, 6.0, 'b').is_none());
        assert!(!e.cancel(moved));
        assert!(e.pop().is_none());
    }

    #[test]
    fn reschedule_pending_moves_like_reschedule() {
        let mut e = Engine::new();
        let a = e.schedule(1.0, 'a');
        e.schedule(2.0, 'b');
        let a = e.reschedule_pending(a, 3.0, 'a');
        let _ = e.reschedule_pending(a, 2.0, 'a');
        // Moved to 2.0 after 'b' was scheduled there: it fires after 'b'.
        let order: Vec<_> = std::iter::from_fn(|| e.pop().map(|(_, x)| (x, e.now_s()))).collect();
        assert_eq!(order, [('b', 2.0), ('a', 2.0)]);
    }

    #[test]
    fn never_schedules_in_the_past() {
        let mut e = Engine::new();
        e.schedule(5.0, 1);
        e.pop();
        e.schedule(1.0, 2);
        assert_eq!(e.pop().map(|p| p.1), Some(2));
        assert_eq!(e.now_s(), 5.0);
    }
}
