//! A router: sends each request to one of several blocks, by probability or by class.

use rand::RngExt;

use crate::engine::SimRng;
use crate::model::{RouterDef, Target};

/// A running router.
pub struct Router {
    def: RouterDef,
    rng: SimRng,
}

impl Router {
    /// A router with its own random stream.
    pub fn new(def: RouterDef, rng: SimRng) -> Router {
        Router { def, rng }
    }

    /// Where a request of class `class` goes.
    #[inline]
    pub fn pick(&mut self, class: u16) -> Target {
        match &self.def {
            RouterDef::Probability { cumulative, targets } => {
                let u: f64 = self.rng.random();
                let i = cumulative.partition_point(|&c| c <= u).min(targets.len() - 1);
                targets[i]
            }
            RouterDef::Class { by_class } => by_class[class as usize],
        }
    }
}
