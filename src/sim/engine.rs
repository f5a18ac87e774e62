//! A small discrete-event core: a simulated clock and a queue of pending
//! events ordered by time, then by insertion sequence, with cancellation and
//! rescheduling. It knows nothing of VMs; the model decides what an event is.

use super::queue::{KeyQueue, RADIX_FROM};

/// Handle of a pending event, for cancelling or rescheduling it: a slot of
/// the engine's payload store and the generation of its occupant, so a
/// handle to an event that fired never touches a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId {
    slot: u32,
    generation: u32,
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

/// A payload slot: the event and the sequence number of its live queue entry.
#[derive(Debug)]
struct Slot<E> {
    generation: u32,
    seq: u64,
    event: Option<E>,
}

/// The event queue and clock. `E` is the model's event type.
///
/// A queue of `(key, (slot, event))` entries (a binary heap, or a radix
/// heap once large; see `queue`) with lazy deletion: rescheduling pushes a
/// new entry and cancelling empties the slot, and entries whose sequence
/// number is no longer their slot's are skipped when they surface. This
/// costs no hashing and no index bookkeeping per heap move, which an
/// indexed priority queue pays on every operation.
///
/// Each entry carries a copy of its event, so that a pop hands the event
/// on without waiting for its slot: on a large queue the slot is a cache
/// miss, and with the event in hand the model's own loads for it start
/// while the slot's check (nearly always passed) is still on its way.
#[derive(Debug)]
pub struct Engine<E> {
    now_s: f64,
    next_seq: u64,
    queue: KeyQueue<(u32, E)>,
    slots: Vec<Slot<E>>,
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
        Engine {
            now_s: 0.0,
            next_seq: 0,
            queue: KeyQueue::new(RADIX_FROM),
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
        debug_assert!(!time_s.is_nan(), "event time is NaN");
        let key = self.key(time_s);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    seq: 0,
                    event: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.seq = key.seq();
        s.event = Some(event);
        self.queue.push(key.0, (slot, event));
        self.pending += 1;
        EventId {
            slot,
            generation: s.generation,
        }
    }

    /// The slot of a pending event, if `id` still names one.
    fn live(&mut self, id: EventId) -> Option<&mut Slot<E>> {
        let s = self.slots.get_mut(id.slot as usize)?;
        (s.generation == id.generation && s.event.is_some()).then_some(s)
    }

    /// Move a pending event to `time_s`; it then orders as if newly scheduled.
    /// Returns false if the event is no longer pending.
    pub fn reschedule(&mut self, id: EventId, time_s: f64) -> bool {
        let Some(event) = self.live(id).and_then(|s| s.event) else {
            return false;
        };
        self.reschedule_pending(id, time_s, event);
        true
    }

    /// `reschedule` for a caller that knows the event is pending, and what
    /// it is (`event`, as scheduled): one that keeps its handle only while
    /// the event is pending (dropping it when the event fires or is
    /// cancelled). It skips the look at the slot, which on a large queue is
    /// a cache miss at every move. Moving an event that is no longer
    /// pending would move whatever event took its slot; debug builds check,
    /// and a run that lost an event this way fails its end-of-run
    /// invariants (a VM never completes).
    pub fn reschedule_pending(&mut self, id: EventId, time_s: f64, event: E) {
        debug_assert!(
            self.live(id).is_some(),
            "moving an event that is not pending"
        );
        let key = self.key(time_s);
        self.slots[id.slot as usize].seq = key.seq();
        self.queue.push(key.0, (id.slot, event));
    }

    /// Cancel a pending event; returns it, or `None` if it already fired.
    pub fn cancel(&mut self, id: EventId) -> Option<E> {
        let event = self.live(id)?.event.take();
        self.release(id.slot);
        event
    }

    /// Pop the next event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(EventId, E)> {
        loop {
            let (raw, (slot, event)) = self.queue.pop()?;
            let key = Key(raw);
            let s = &mut self.slots[slot as usize];
            // Entries of cancelled or rescheduled events are skipped.
            if s.seq != key.seq() || s.event.take().is_none() {
                continue;
            }
            self.now_s = self.now_s.max(key.time_s());
            self.processed += 1;
            let id = EventId {
                slot,
                generation: s.generation,
            };
            self.release(slot);
            return Some((id, event));
        }
    }

    /// An event left its slot: a later occupant gets a new generation.
    fn release(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.pending -= 1;
    }

    fn key(&mut self, time_s: f64) -> Key {
        let seq = self.next_seq;
        self.next_seq += 1;
        // Never before now, and never -0.0, whose bits would sort last.
        let time_s = time_s.max(self.now_s) + 0.0;
        Key::new(time_s, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(e.cancel(a), Some('a'));
        assert_eq!(e.cancel(a), None);
        assert!(e.reschedule(b, 5.0));
        assert_eq!(e.pop().map(|p| p.1), Some('c'));
        assert_eq!(e.pop().map(|p| p.1), Some('b'));
        assert!(!e.reschedule(b, 6.0));
        assert!(e.pop().is_none());
    }

    #[test]
    fn reschedule_pending_moves_like_reschedule() {
        let mut e = Engine::new();
        let a = e.schedule(1.0, 'a');
        e.schedule(2.0, 'b');
        e.reschedule_pending(a, 3.0, 'a');
        e.reschedule_pending(a, 2.0, 'a');
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
