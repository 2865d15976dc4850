//! A monotone radix heap ordered by (time, insertion sequence): the event list's large mode
//! (see `queue.rs`).
//!
//! Simulated time never goes backwards, so
//! every key pushed is at least the last key popped; a radix heap exploits that. Keys are
//! compared with the last popped key byte by byte: an entry goes to the bucket of the highest
//! byte in which it differs and of its value in that byte (8 levels × 256 digits). A push is
//! an append; when the head runs dry, the lowest non-empty bucket (found through bitmaps) is
//! redistributed to lower levels, so each entry moves at most 8 times over its life. Unlike a
//! binary heap it stays cache-friendly at a million pending events.
//!
//! Ties: entries with equal keys always sit in the same bucket, buckets keep insertion order
//! when redistributed, and the head (keys equal to the last popped) is a FIFO. So events at
//! the same time pop in the order they were scheduled, without storing a sequence number.
//! `tests::matches_reference_order` checks this against a `BinaryHeap` of (time, seq).

use std::collections::VecDeque;

use super::time::SimTime;

const LEVELS: usize = 8;
const DIGITS: usize = 256;
/// Largest bucket allocation [entries] kept for reuse after the bucket is emptied.
const KEEP: usize = 256;

/// A monotone priority queue of events of type `E`, earliest first, FIFO among equal times.
pub struct RadixHeap<E> {
    last: u64,
    len: usize,
    /// Entries whose key equals `last`, in insertion order.
    head: VecDeque<E>,
    /// `buckets[level * 256 + digit]`: entries whose key first differs from `last` in byte
    /// `level` (0 = least significant), where the key's byte is `digit`.
    buckets: Vec<Vec<(u64, E)>>,
    /// Bit `level` set when some bucket of that level is non-empty.
    levels: u8,
    /// Per level, a 256-bit map of non-empty digits.
    digits: [[u64; 4]; LEVELS],
}

impl<E: Copy> Default for RadixHeap<E> {
    fn default() -> Self {
        RadixHeap {
            last: 0,
            len: 0,
            head: VecDeque::new(),
            buckets: (0..LEVELS * DIGITS).map(|_| Vec::new()).collect(),
            levels: 0,
            digits: [[0; 4]; LEVELS],
        }
    }
}

impl<E: Copy> RadixHeap<E> {
    /// Schedules `event` at `time`. Panics in debug builds if `time` is before the last pop.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        debug_assert!(time.0 >= self.last, "event scheduled in the past");
        let key = time.0.max(self.last);
        self.len += 1;
        if key == self.last {
            self.head.push_back(event);
        } else {
            self.file(key, event);
        }
    }

    /// Puts an entry with `key` > `last` into its bucket.
    #[inline]
    fn file(&mut self, key: u64, event: E) {
        let level = ((63 - (key ^ self.last).leading_zeros()) / 8) as usize;
        let digit = ((key >> (8 * level)) & 0xff) as usize;
        self.levels |= 1 << level;
        self.digits[level][digit / 64] |= 1 << (digit % 64);
        self.buckets[level * DIGITS + digit].push((key, event));
    }

    /// Removes and returns the earliest event with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let event = match self.head.pop_front() {
            Some(e) => e,
            None => self.refill()?,
        };
        self.len -= 1;
        Some((SimTime(self.last), event))
    }

    /// Time of the earliest event, without removing it.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        if self.head.is_empty() {
            let first = self.refill()?;
            self.head.push_front(first);
        }
        Some(SimTime(self.last))
    }

    /// Empties the lowest non-empty bucket: its smallest key becomes `last`, the first entry
    /// equal to it is returned, later ones go to `head` and the rest to lower levels. `None` if
    /// the queue is empty. Called only when `head` is empty.
    fn refill(&mut self) -> Option<E> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros() as usize;
        let map = &mut self.digits[level];
        let word = map.iter().position(|&w| w != 0).expect("level bit implies a digit bit");
        let digit = word * 64 + map[word].trailing_zeros() as usize;
        map[word] &= !(1 << (digit % 64));
        if map.iter().all(|&w| w == 0) {
            self.levels &= !(1 << level);
        }
        let bucket = &mut self.buckets[level * DIGITS + digit];
        if bucket.len() == 1 {
            // The common case with few pending events: no minimum to find, nothing to re-file.
            let (key, event) = bucket.pop().expect("one entry");
            self.last = key;
            return Some(event);
        }
        let mut moving = std::mem::take(bucket);
        self.last = moving.iter().map(|&(k, _)| k).min().unwrap_or(self.last);
        for &(key, event) in &moving {
            if key == self.last {
                self.head.push_back(event);
            } else {
                self.file(key, event);
            }
        }
        moving.clear();
        // Keep allocations for reuse, but shrink large ones to `KEEP`, so that memory follows the
        // number pending rather than the high-water marks of 2,048 buckets over the run, and a
        // bucket that fills again grows from `KEEP` rather than from nothing.
        if moving.capacity() > KEEP {
            moving.shrink_to(KEEP);
        }
        self.buckets[level * DIGITS + digit] = moving;
        self.head.pop_front()
    }

    /// Forgets the last popped time, so that earlier times may be pushed again. Only for an
    /// empty heap (the event list drains it into its small mode, whose times may be earlier
    /// than the last one drained).
    pub fn rewind(&mut self) {
        debug_assert!(self.len == 0, "rewinding a heap with entries");
        self.last = 0;
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;
    use rand::RngExt;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn matches_reference_order() {
        let mut rng = stream(7, "queue-test", "keys");
        let mut q = RadixHeap::default();
        let mut reference = BinaryHeap::new();
        let (mut now, mut seq) = (0u64, 0u64);
        for round in 0..200_000u64 {
            // Mix of equal times, near times and far times, interleaved with pops.
            let pushes = if round % 3 == 0 { 3 } else { 1 };
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
            let (t, e) = q.pop().unwrap();
            let Reverse((rt, rs)) = reference.pop().unwrap();
            assert_eq!((t.0, e), (rt, rs));
            now = t.0;
        }
        assert_eq!(q.len(), reference.len());
        while let Some((t, e)) = q.pop() {
            let Reverse((rt, rs)) = reference.pop().unwrap();
            assert_eq!((t.0, e), (rt, rs));
        }
        assert!(q.len() == 0 && reference.is_empty());
    }

    #[test]
    fn empty_queue_pops_nothing() {
        let mut q: RadixHeap<u8> = RadixHeap::default();
        assert!(q.pop().is_none());
        assert!(q.peek_time().is_none());
        q.push(SimTime(5), 1);
        assert_eq!(q.peek_time(), Some(SimTime(5)));
        assert_eq!(q.pop(), Some((SimTime(5), 1)));
    }
}
