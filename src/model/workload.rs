//! Checked workload attributes: the intent mix and key spaces (see `workload_spec.rs`).

use crate::engine::SimTime;
use crate::model::Dist;

/// One intent of the mix.
#[derive(Clone, Debug)]
pub struct IntentDef {
    pub name: String,
    pub share: f64,
    /// Token counts per request (rounded, ≥ 0); `None` is 0.
    pub tokens_in: Option<Dist>,
    pub tokens_out: Option<Dist>,
}

/// One key space.
#[derive(Clone, Debug)]
pub struct KeySpaceDef {
    pub name: String,
    /// Number of keys (≥ 1).
    pub count: u32,
    /// Zipf exponent (0 is uniform).
    pub zipf: f64,
    /// (from, to, share, key) of each viral burst.
    /// (from, to, share, first key, keys).
    pub bursts: Vec<(SimTime, SimTime, f64, u32, u32)>,
}

/// The model's workload attributes.
#[derive(Clone, Debug, Default)]
pub struct Workload {
    pub intents: Vec<IntentDef>,
    pub keys: Vec<KeySpaceDef>,
}

/// What a source or population draws for each request.
#[derive(Clone, Debug, Default)]
pub struct Draws {
    /// Cumulative class shares by class index (last is 1), instead of a fixed class.
    pub class_cumulative: Option<Vec<f64>>,
    /// Key space of the request's item.
    pub keys: Option<u32>,
    /// Users an open-loop source spreads its arrivals over, and the first user id they get.
    pub users: Option<(u32, u32)>,
    /// The one intent (index into the model's intents) of every request, instead of its shares.
    pub intent: Option<u16>,
}
