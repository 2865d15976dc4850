//! The event list, ordered by (time, insertion sequence): the one place that defines event order.
//!
//! Two representations, chosen by size. With few pending events (an M/M/c station has about a
//! dozen) a list kept sorted latest-first is fastest: a pop takes the last entry, a push
//! shifts the few entries due before it, all within a few cache lines and with predictable
//! branches. With many (a million users thinking), the radix heap of `radix.rs` is: its pushes
//! are appends and each entry moves at most eight times. The queue moves its entries from one
//! to the other when it grows past [`GROW`] or shrinks below [`SHRINK`] (the gap keeps it from
//! switching back and forth), in order, so the order of events — equal times in the order they
//! were scheduled — is the same in both;
//! `tests::matches_reference_order` checks it against a reference across many switches.

use super::radix::RadixHeap;
use super::time::SimTime;

/// Pending events above which the radix heap takes over.
const GROW: usize = 128;
/// Pending events below which the sorted list takes over again.
const SHRINK: usize = 32;

/// A monotone priority queue of events of type `E`, earliest first, FIFO among equal times.
pub struct EventQueue<E> {
    /// Small mode: entries sorted by time, latest first; among equal times, the latest
    /// scheduled first (so the earliest pops first from the end).
    small: Vec<(u64, E)>,
    /// Large mode (used when `large` is set).
    radix: Box<RadixHeap<E>>,
    large: bool,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { small: Vec::new(), radix: Box::default(), large: false }
    }
}

impl<E: Copy> EventQueue<E> {
    /// Schedules `event` at `time`. Panics in debug builds if `time` is before the last pop.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        if self.large {
            return self.push_large(time, event);
        }
        self.insert(time.0, event);
        if self.small.len() > GROW {
            self.grow_into_radix();
        }
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if !self.large {
            return self.small.pop().map(|(t, e)| (SimTime(t), e));
        }
        self.pop_large()
    }

    /// Large mode's push (kept out of line, so the small mode's stays small).
    #[inline(never)]
    fn push_large(&mut self, time: SimTime, event: E) {
        self.radix.push(time, event);
    }

    /// Large mode's pop; back to the sorted list when few are left.
    #[inline(never)]
    fn pop_large(&mut self) -> Option<(SimTime, E)> {
        let next = self.radix.pop();
        if self.radix.len() < SHRINK {
            self.shrink_into_list();
        }
        next
    }

    /// Time of the earliest event, without removing it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        if self.large { self.radix.peek_time() } else { self.small.last().map(|&(t, _)| SimTime(t)) }
    }

    /// Files an entry into the sorted list, to pop after every entry of the same time: an
    /// insertion-sort step from the end, shifting the entries that pop before it (a handful,
    /// each a short copy, with branches the processor predicts well).
    #[inline]
    fn insert(&mut self, time: u64, event: E) {
        let list = &mut self.small;
        list.push((time, event));
        let mut i = list.len() - 1;
        while i > 0 && list[i - 1].0 <= time {
            list[i] = list[i - 1];
            i -= 1;
        }
        list[i] = (time, event);
    }

    /// Moves every entry, in order, to the radix heap.
    #[cold]
    #[inline(never)]
    fn grow_into_radix(&mut self) {
        while let Some((t, e)) = self.small.pop() {
            self.radix.push(SimTime(t), e);
        }
        self.large = true;
    }

    /// Moves every entry, in order, to the sorted list.
    #[cold]
    #[inline(never)]
    fn shrink_into_list(&mut self) {
        while let Some((t, event)) = self.radix.pop() {
            self.insert(t.0, event);
        }
        self.radix.rewind();
        self.large = false;
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        if self.large { self.radix.len() } else { self.small.len() }
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use rand::RngExt;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Pushes and pops in phases that grow the queue to thousands and drain it again, so both
    /// modes and many switches are crossed, and compares every pop with a sorted reference.
    #[test]
    fn matches_reference_order() {
        let mut rng = stream(7, "queue-test", "switches");
        let mut q = EventQueue::default();
        let mut reference = BinaryHeap::new();
        let (mut now, mut seq, mut switches, mut was_large) = (0u64, 0u64, 0, false);
        for round in 0..300_000u64 {
            let growing = (round / 5_000) % 2 == 0;
            let pushes = if growing { rng.random_range(1..3u32) } else { rng.random_range(0..2u32) };
            for _ in 0..pushes {
                let dt = match rng.random_range(0..4u32) {
                    0 => 0,
                    1 => rng.random_range(0..4u64),
                    2 => rng.random_range(0..1_000u64),
                    _ => rng.random_range(0..1u64 << 40),
                };
                q.push(SimTime(now + dt), seq);
                reference.push(Reverse((now + dt, seq)));
                seq += 1;
            }
            if let Some((t, e)) = q.pop() {
                let Reverse((rt, rs)) = reference.pop().unwrap();
                assert_eq!((t.0, e), (rt, rs), "round {round}");
                now = t.0;
            }
            switches += (q.large != was_large) as u32;
            was_large = q.large;
            assert_eq!(q.len(), reference.len());
        }
        assert!(switches >= 10, "only {switches} switches between modes");
        while let Some((t, e)) = q.pop() {
            let Reverse((rt, rs)) = reference.pop().unwrap();
            assert_eq!((t.0, e), (rt, rs));
        }
        assert!(q.is_empty() && reference.is_empty());
    }

    #[test]
    fn empty_queue_pops_nothing() {
        let mut q: EventQueue<u8> = EventQueue::default();
        assert!(q.pop().is_none());
        assert!(q.peek_time().is_none());
        q.push(SimTime(5), 1);
        assert_eq!(q.peek_time(), Some(SimTime(5)));
        assert_eq!(q.pop(), Some((SimTime(5), 1)));
    }
}
