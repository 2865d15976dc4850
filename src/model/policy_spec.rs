//! The raw `policies` and `limits` sections: what wraps a call (timeouts, retries with backoff
//! and jitter, a retry budget, a circuit breaker, a fallback, a rate limit) and the token
//! buckets that rate limits draw from. A step names a policy: `{"call": "catalog", "policy": "tier2"}`.
//!
//! The layers compose as resilience libraries order them: the fallback wraps the retries, which
//! wrap the breaker and the rate limit, which wrap each attempt and its timeout.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::either;
use super::quantity::Quantity;

/// A named call policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Time the caller waits for one attempt before giving up on it (`timeout`); the callee
    /// keeps working, and that work is counted as wasted.
    pub timeout: Option<Quantity>,
    /// Time from the call's first attempt after which no attempt is started and a pending one
    /// is given up.
    pub deadline: Option<Quantity>,
    /// Retries of failed attempts.
    pub retry: Option<RetrySpec>,
    /// A cap on retries as a share of calls over a sliding window (gRPC, Finagle).
    pub budget: Option<BudgetSpec>,
    /// A circuit breaker per (policy, called service).
    pub breaker: Option<BreakerSpec>,
    /// What to do when the call finally fails.
    pub fallback: Option<FallbackSpec>,
    /// Whether a final failure is ignored and the flow goes on undegraded (seed 001 Tier 3).
    #[serde(default)]
    pub optional: bool,
    /// Name of a `limits` entry each attempt must take a token from; a refusal is `throttled`.
    pub rate_limit: Option<String>,
}

/// Retries with capped exponential (or constant) backoff and jitter.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in all, the first included (≥ 1; 3 = two retries).
    pub max_attempts: u32,
    /// `none` (retry at once), `constant` (always `base`) or `exponential` (`base`·2ⁿ before
    /// retry n = 0, 1, …, capped at `cap`). Default `exponential`.
    #[serde(default)]
    pub backoff: Backoff,
    /// First backoff (default 100 ms).
    pub base: Option<Quantity>,
    /// Largest backoff (default 20 s).
    pub cap: Option<Quantity>,
    /// `none`, `full`, `equal`, `decorrelated` (Brooker 2015), or `{"uniform": "50ms"}` to
    /// add U(0, 50 ms) to the backoff. Default `full`.
    #[serde(default)]
    pub jitter: JitterSpec,
    /// Outcomes that are retried (default: throttled, timeout, error).
    pub on: Option<Vec<OutcomeName>>,
    /// Whether the call is idempotent; only idempotent calls are retried (default true).
    #[serde(default = "yes")]
    pub idempotent: bool,
}

/// Backoff shapes.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    None,
    Constant,
    #[default]
    Exponential,
}

/// Jitter as written in the file.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema, PartialEq)]
#[serde(untagged)]
pub enum JitterSpec {
    Kind(JitterKind),
    Uniform { uniform: Quantity },
}

impl<'de> Deserialize<'de> for JitterSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if v.is_string() {
            return either::read(v, "jitter").map(JitterSpec::Kind);
        }
        let example = "\"full\" or {\"uniform\": \"50ms\"}";
        let (_, q) =
            either::one_key(v, &["uniform"], "a jitter (none, full, equal, decorrelated, or uniform)", example)?;
        either::read(q, "jitter's uniform width").map(|uniform| JitterSpec::Uniform { uniform })
    }
}

impl Default for JitterSpec {
    fn default() -> Self {
        JitterSpec::Kind(JitterKind::Full)
    }
}

/// Brooker's jitter kinds.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JitterKind {
    /// The backoff v itself.
    None,
    /// U(0, v).
    Full,
    /// v/2 + U(0, v/2).
    Equal,
    /// min(cap, U(base, 3 × previous sleep)).
    Decorrelated,
}

/// An outcome's name, as in `summary.json`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    Rejected,
    Throttled,
    Timeout,
    Error,
    Unavailable,
}

/// A retry budget: retries allowed while retries ≤ `ratio` × calls + `min_per_s` × `window`
/// over the last `window`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Retries per call allowed (0.1 = 10 %).
    pub ratio: f64,
    /// Sliding window (default 10 s, as Finagle's TTL).
    pub window: Option<Quantity>,
    /// Retries per second always allowed, so low traffic can still retry (default 10/s as
    /// Finagle; 0 for a strict ratio).
    pub min_per_s: Option<f64>,
}

/// A circuit breaker: opens when, over its window, at least `min_calls` attempts were seen and
/// the failure rate or the slow-call rate reaches its threshold; stays open `open_for`, then
/// lets `probes` attempts through and closes if they all succeed.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// The last N attempts (`{"calls": 100}`) or the last stretch of time (`{"duration": "30s"}`).
    pub window: BreakerWindow,
    /// Failure share that opens the breaker (0–1; default 0.5).
    pub failure_rate: Option<f64>,
    /// Slow-call rule: attempts slower than `duration` are slow; the breaker opens when their
    /// share reaches `rate` ("p99 above 500 ms" is `{"duration": "500ms", "rate": 0.01}`).
    pub slow_call: Option<SlowCallSpec>,
    /// Attempts seen in the window before it may open (default 20, as Hystrix).
    pub min_calls: Option<u32>,
    /// How long it stays open (default 30 s, seed 001).
    pub open_for: Option<Quantity>,
    /// Trial attempts let through when half-open (default 3).
    pub probes: Option<u32>,
    /// Classes the breaker never refuses: their attempts count in its window (and as probes'
    /// evidence when half-open) but go ahead while it is open — a priority gate on a shared
    /// controller that sheds batch calls on the real-time throttle rate (seed 004 runbook 2).
    /// Default: none.
    pub exempt: Option<Vec<String>>,
}

/// The breaker's rolling window.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum BreakerWindow {
    Calls { calls: u32 },
    Duration { duration: Quantity },
}

impl<'de> Deserialize<'de> for BreakerWindow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let example = "{\"calls\": 100} or {\"duration\": \"30s\"}";
        let (key, x) = either::one_key(v, &["calls", "duration"], "a breaker window", example)?;
        if key == "calls" {
            either::read(x, "window's call count").map(|calls| BreakerWindow::Calls { calls })
        } else {
            either::read(x, "window's duration").map(|duration| BreakerWindow::Duration { duration })
        }
    }
}

/// The slow-call rule of a breaker.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowCallSpec {
    /// Attempts taking longer than this are slow.
    pub duration: Quantity,
    /// Slow share that opens the breaker (0–1).
    pub rate: f64,
}

/// What a finally failed call turns into. Give exactly one field.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FallbackSpec {
    /// Call this service instead (its reply, if ok, is the degraded answer).
    pub call: Option<String>,
    /// Answer with a template after this long (e.g. "5ms").
    pub wait: Option<Quantity>,
    /// Go on at once, marking the answer degraded.
    pub degrade: Option<bool>,
}

/// A token bucket: `burst` tokens, refilled at `rate` per second; each request takes one.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// Refill rate [tokens/s] (seed 001: 30 per minute = 0.5 per authenticated user).
    pub rate: f64,
    /// Bucket capacity [tokens] (default: one second's refill, at least 1).
    pub burst: Option<f64>,
    /// One bucket for everyone (`global`, default), one per user, or one per session.
    #[serde(default)]
    pub per: LimitScope,
}

/// Whom a bucket belongs to.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LimitScope {
    #[default]
    Global,
    User,
    Session,
}

fn yes() -> bool {
    true
}
