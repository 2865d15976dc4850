//! A route: picks where a request's flow goes next, by probability, class or intent
//! (a foundation router, or a `branch` step of a service's flow).

use rand::RngExt;

use crate::engine::SimRng;
use crate::model::Pc;
use crate::model::program::RouteDef;

/// A running route.
pub struct Router {
    def: RouteDef,
    rng: SimRng,
}

impl Router {
    /// A route with its own random stream.
    pub fn new(def: RouteDef, rng: SimRng) -> Router {
        Router { def, rng }
    }

    /// The pc a request of class `class` and intent `intent` goes to.
    #[inline]
    pub fn pick(&mut self, class: u16, intent: u16) -> Pc {
        match &self.def {
            RouteDef::Probability { cumulative, pcs } => {
                let u: f64 = self.rng.random();
                let i = cumulative.partition_point(|&c| c <= u).min(pcs.len() - 1);
                pcs[i]
            }
            RouteDef::Class { by_class } => by_class[class as usize],
            RouteDef::Intent { by_intent } => by_intent[intent as usize],
        }
    }
}
