//! A work step or a delay block: each request holds for a drawn time, with no queueing of its
//! own (inside a service it holds the service's slot meanwhile).

use crate::engine::SimRng;
use crate::model::Dist;

/// A running work step.
pub struct Work {
    dist: Dist,
    rng: SimRng,
    /// The delay block it implements, if any.
    pub delay: Option<u32>,
    /// The service whose `cores` stretch it.
    pub contended: Option<u32>,
}

impl Work {
    /// A work step with its own random stream.
    pub fn new(dist: Dist, rng: SimRng, delay: Option<u32>, contended: Option<u32>) -> Work {
        Work { dist, rng, delay, contended }
    }

    /// A holding time [s].
    #[inline]
    pub fn sample(&mut self) -> f64 {
        self.dist.sample(&mut self.rng)
    }
}
