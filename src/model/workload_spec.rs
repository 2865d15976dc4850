//! The raw workload attributes: intents with shares and token counts, and key spaces with a
//! Zipf popularity and viral bursts. Sources and populations name a key space and may give
//! class shares instead of one class (see `spec.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dist::DistSpec;
use super::quantity::Quantity;

/// One intent of the model's mix.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentSpec {
    /// Share of requests with this intent; the shares of all intents add up to 1.
    pub share: f64,
    /// Input tokens of a request with this intent (a count distribution, rounded; default 0).
    pub tokens_in: Option<DistSpec>,
    /// Output tokens (default 0).
    pub tokens_out: Option<DistSpec>,
}

/// A key space: `count` keys whose popularity follows a Zipf law with exponent `zipf`
/// (key k, from 0, is drawn with probability ∝ 1/(k+1)^s; s = 0 is uniform).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySpaceSpec {
    /// Number of keys (≥ 1).
    pub count: u32,
    /// Zipf exponent s ≥ 0 (default 1).
    pub zipf: Option<f64>,
    /// Viral bursts: during each window, `share` of the requests hit key `key`.
    #[serde(default)]
    pub bursts: Vec<BurstSpec>,
}

/// A viral burst on one key.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    pub from: Quantity,
    pub to: Quantity,
    /// Share of requests that hit `key` during the window (0–1).
    pub share: f64,
    /// The viral key (default 0, the most popular).
    #[serde(default)]
    pub key: u32,
    /// Keys the burst spreads over, uniformly: `key` to `key + keys − 1` (all volumes of a
    /// trending series; default 1).
    #[serde(default = "one")]
    pub keys: u32,
}

fn one() -> u32 {
    1
}
