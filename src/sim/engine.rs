//! A small discrete-event core: a simulated clock and a queue of pending
//! events ordered by time, then by insertion sequence, with cancellation and
//! rescheduling. It knows nothing of VMs; the model decides what an event is.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;

use priority_queue::PriorityQueue;

/// Handle of a pending event, for cancelling or rescheduling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(u64);

/// Order key: time first, then insertion sequence, so that events at the same
/// time fire in the order they were scheduled (a total, deterministic order).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    time_s: f64,
    seq: u64,
}

impl Eq for Key {}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.time_s
            .total_cmp(&other.time_s)
            .then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The event queue and clock. `E` is the model's event type.
#[derive(Debug)]
pub struct Engine<E> {
    now_s: f64,
    next_seq: u64,
    queue: PriorityQueue<EventId, Reverse<Key>>,
    payloads: HashMap<EventId, E>,
    processed: u64,
}

impl<E> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Engine<E> {
    /// An empty engine at time 0.
    pub fn new() -> Self {
        Engine {
            now_s: 0.0,
            next_seq: 0,
            queue: PriorityQueue::new(),
            payloads: HashMap::new(),
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
        self.queue.len()
    }

    /// Schedule `event` at `time_s` (never before now).
    pub fn schedule(&mut self, time_s: f64, event: E) -> EventId {
        debug_assert!(!time_s.is_nan(), "event time is NaN");
        let id = EventId(self.next_seq);
        let key = self.key(time_s);
        self.queue.push(id, Reverse(key));
        self.payloads.insert(id, event);
        id
    }

    /// Move a pending event to `time_s`; it then orders as if newly scheduled.
    /// Returns false if the event is no longer pending.
    pub fn reschedule(&mut self, id: EventId, time_s: f64) -> bool {
        let key = self.key(time_s);
        self.queue.change_priority(&id, Reverse(key)).is_some()
    }

    /// Cancel a pending event; returns it, or `None` if it already fired.
    pub fn cancel(&mut self, id: EventId) -> Option<E> {
        self.queue.remove(&id)?;
        self.payloads.remove(&id)
    }

    /// The time of the next event, if any.
    pub fn peek_time_s(&self) -> Option<f64> {
        self.queue.peek().map(|(_, Reverse(k))| k.time_s)
    }

    /// Pop the next event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(EventId, E)> {
        let (id, Reverse(key)) = self.queue.pop()?;
        self.now_s = self.now_s.max(key.time_s);
        self.processed += 1;
        let event = self
            .payloads
            .remove(&id)
            .expect("every queued id has a payload");
        Some((id, event))
    }

    fn key(&mut self, time_s: f64) -> Key {
        let seq = self.next_seq;
        self.next_seq += 1;
        Key {
            time_s: time_s.max(self.now_s),
            seq,
        }
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
    fn never_schedules_in_the_past() {
        let mut e = Engine::new();
        e.schedule(5.0, 1);
        e.pop();
        e.schedule(1.0, 2);
        assert_eq!(e.peek_time_s(), Some(5.0));
    }
}
