//! A generational slab: requests live in a `Vec`, addressed by (index, generation).
//!
//! Freeing a slot bumps its generation, so an id held by a late timer for a request that has
//! already finished no longer resolves, and the timer is dropped instead of acting on a stranger.

/// Generational id of a slab entry. `ReqId::NONE` never resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReqId {
    /// Slot index.
    pub idx: u32,
    /// Generation the slot had when this id was issued.
    pub generation: u32,
}

impl ReqId {
    /// An id that resolves to nothing.
    pub const NONE: ReqId = ReqId { idx: u32::MAX, generation: 0 };

    /// Whether this is [`ReqId::NONE`].
    #[inline]
    pub fn is_none(self) -> bool {
        self.idx == u32::MAX
    }
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A slab of `T` with generational ids and a free list; slots are reused, never shrunk.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
    /// Slots the slab is expected to hold at most (0: no expectation). Growth stops doubling
    /// there, so the last growth asks for what the bound needs, not twice as much.
    limit: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { slots: Vec::new(), free: Vec::new(), live: 0, limit: 0 }
    }
}

impl<T> Slab<T> {
    /// Stores `value` and returns its id.
    #[inline]
    pub fn insert(&mut self, value: T) -> ReqId {
        self.live += 1;
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            slot.value = Some(value);
            return ReqId { idx, generation: slot.generation };
        }
        let idx = self.slots.len() as u32;
        if self.slots.len() == self.slots.capacity() && self.limit > 0 {
            self.grow();
        }
        self.slots.push(Slot { generation: 0, value: Some(value) });
        ReqId { idx, generation: 0 }
    }

    /// Sets the most slots the slab is expected to hold: growth by doubling is capped there.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Grows the slots by doubling, but never past the limit in one step (by one past it).
    #[cold]
    fn grow(&mut self) {
        let cap = self.slots.capacity();
        let more = cap.max(64).min(self.limit.saturating_sub(cap)).max(1);
        self.slots.reserve_exact(more);
    }

    /// The entry behind `id`, if it is still live and of the same generation.
    #[inline]
    pub fn get(&self, id: ReqId) -> Option<&T> {
        let slot = self.slots.get(id.idx as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_ref()
    }

    /// Mutable access to the entry behind `id`, if still live.
    #[inline]
    pub fn get_mut(&mut self, id: ReqId) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.idx as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Removes the entry behind `id` and returns it; stale ids return `None`.
    #[inline]
    pub fn remove(&mut self, id: ReqId) -> Option<T> {
        let slot = self.slots.get_mut(id.idx as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.idx);
        self.live -= 1;
        Some(value)
    }

    /// Frees the entry behind `id` without moving it out (cheaper than [`Slab::remove`] for a
    /// large entry whose fields were read in place); false for a stale id.
    #[inline]
    pub fn free(&mut self, id: ReqId) -> bool {
        let Some(slot) = self.slots.get_mut(id.idx as usize) else { return false };
        if slot.generation != id.generation || slot.value.is_none() {
            return false;
        }
        slot.value = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.idx);
        self.live -= 1;
        true
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
}

#[cfg(test)]
mod tests {
    /// Found by hostile testing: at the documented bound of 20 million requests in flight the
    /// slab doubled to 33.5 million slots, one block of several GiB more than the bound needs.
    #[test]
    fn growth_stops_doubling_at_the_limit() {
        let mut s: Slab<u64> = Slab::default();
        s.set_limit(1000);
        for k in 0..1000 {
            s.insert(k);
        }
        assert!(s.slots.capacity() <= 1000, "capacity {} past the limit of 1000", s.slots.capacity());
        s.insert(1000);
        assert!(s.slots.capacity() <= 1001, "past the limit it grows by one: {}", s.slots.capacity());
    }

    use super::*;

    #[test]
    fn stale_id_is_rejected_after_reuse() {
        let mut s = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_eq!(a.idx, b.idx, "slot is reused");
        assert_eq!(s.get(a), None, "old generation no longer resolves");
        assert_eq!(s.remove(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.len(), 1);
        assert_eq!(s.get(ReqId::NONE), None);
    }
}
