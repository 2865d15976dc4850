//! `llm`: one foundation model on Amazon Bedrock (Claude 3.5 Sonnet, Claude 3 Haiku…) —
//! quotas, shared on-demand capacity, token-based latency and price (seed 000 scenario 2, seed
//! 004 runbooks 1 and 3; figures in reference/calibration.md).
//!
//! A request (an invocation) goes through, in order:
//! 1. the semantic cache, if any: with probability `hit_rate` (per intent if given) it is
//!    answered from the cache in `latency` and never reaches the model;
//! 2. the quotas, on demand: requests per minute (a bucket of `rpm` refilled at rpm/60 a
//!    second), tokens per minute (a bucket of `tpm`: a request reserves input + `max_tokens`
//!    when it starts and is settled at input + output × `burndown` when it ends, the
//!    difference returned), and the account's concurrent invocations (`concurrency`, shared by
//!    every caller of this service: chat, analytics, batch). A request over any of them ends
//!    `throttled` (429 ThrottlingException) at once;
//! 3. capacity: on demand, `capacity` generation slots of the model shared with other tenants,
//!    of which `background` (a profile over the day) are busy with theirs; with provisioned
//!    throughput, `model_units` × `slots_per_unit` slots of its own, and no on-demand quota. A
//!    request that finds no free slot waits (highest class first with `priority`), so sustained
//!    peaks bring queueing and the callers' timeouts;
//! 4. generation: the first token after `ttft` (+ `ttft_per_input_token` × input tokens), the
//!    rest at `tokens_per_s`. The first-token time (from arrival, waiting included) is recorded
//!    for its own percentiles; the last token ends the request.
//!
//! Input and output tokens come from the request's intent (`intents.<name>.tokens_in`,
//! `tokens_out`), else from `input_tokens` / `output_tokens`; output is capped at `max_tokens`.

use std::collections::VecDeque;

use rand::RngExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::cost::Price;
use crate::engine::{ReqId, SimRng, SimTime, stream};
use crate::metrics::latency::Latency;
use crate::model::dist::DistSpec;
use crate::model::limits::MAX_TOKENS;
use crate::model::profile::{AfterProfile, RateProfile, SegmentSpec, check_segment};
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::model::{Dist, KindBuilder};
use crate::policy::Tokens;
use crate::sim::{Job, Outcome};

/// Settings of an `llm` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmSpec {
    /// The model's name (a label, e.g. `claude-3.5-sonnet`).
    pub model: String,
    /// Time to first token (waiting excluded).
    pub ttft: DistSpec,
    /// Extra time to first token per input token (default 0).
    #[serde(default)]
    pub ttft_per_input_token: Quantity,
    /// Output speed [tokens/s].
    pub tokens_per_s: f64,
    /// Whether its answer streams to the client: its first token is then the request's first
    /// token (default true; false for a call whose output the client never sees, such as a
    /// summary or a classification).
    #[serde(default = "streams")]
    pub stream: bool,
    /// Input and output tokens of a request whose intent gives none (default 0).
    pub input_tokens: Option<DistSpec>,
    pub output_tokens: Option<DistSpec>,
    /// The most output tokens a request may ask for (its reservation; default 1,024).
    #[serde(default = "max_tokens")]
    pub max_tokens: u32,
    /// On-demand quotas (default: none).
    #[serde(default)]
    pub quota: QuotaSpec,
    /// On-demand capacity shared with other tenants (default: unlimited).
    pub on_demand: Option<OnDemandSpec>,
    /// Provisioned throughput instead of on demand (default: none).
    pub provisioned: Option<ProvisionedSpec>,
    /// Serve waiting requests highest class first (default false: first come, first served).
    #[serde(default)]
    pub priority: bool,
    /// A semantic cache in front (default: none).
    pub semantic_cache: Option<SemanticCacheSpec>,
    /// Price table entries per million input and output tokens (default: none).
    pub input_price: Option<String>,
    pub output_price: Option<String>,
}

fn max_tokens() -> u32 {
    1024
}

/// On-demand quotas of the model in the account and region.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    /// Requests per minute (where the model has such a quota).
    pub rpm: Option<f64>,
    /// Tokens per minute.
    pub tpm: Option<f64>,
    /// Output tokens count this many times in the settlement (default 1; 5 on newer Claude
    /// models).
    #[serde(default = "one")]
    pub burndown: f64,
    /// Concurrent invocations of the account, shared by every caller.
    pub concurrency: Option<u32>,
}

fn one() -> f64 {
    1.0
}

impl Default for QuotaSpec {
    fn default() -> QuotaSpec {
        QuotaSpec { rpm: None, tpm: None, burndown: 1.0, concurrency: None }
    }
}

/// The model's shared on-demand capacity.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnDemandSpec {
    /// Generation slots of the model available to this account and its neighbours.
    pub capacity: u32,
    /// Slots busy with other tenants' requests, over time (default: none).
    #[serde(default)]
    pub background: Vec<SegmentSpec>,
    /// After the profile: `hold` (default) or `repeat` (a daily cycle).
    #[serde(default)]
    pub after_background: AfterProfile,
    /// Most requests waiting for a slot; beyond it, throttled at once (the soft limits of
    /// shared on-demand capacity; default: no limit).
    pub queue_limit: Option<u32>,
}

/// Provisioned throughput: capacity of its own at an hourly price.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionedSpec {
    pub model_units: u32,
    /// Generation slots one model unit gives (no public figure: set it).
    pub slots_per_unit: u32,
    /// Price table entry per model-unit hour.
    pub price: Option<String>,
}

/// A semantic cache in front of the model.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SemanticCacheSpec {
    /// Share of requests answered from the cache (scenario 2: about 0.15).
    pub hit_rate: f64,
    /// Per-intent hit rates, replacing `hit_rate` for those intents.
    #[serde(default)]
    pub by_intent: std::collections::BTreeMap<String, f64>,
    /// Time of a cache answer (default: constant 5 ms, an assumption).
    pub latency: Option<DistSpec>,
}

fn streams() -> bool {
    true
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct LlmDef {
    model: String,
    stream: bool,
    ttft: Dist,
    ttft_per_token: f64,
    tps: f64,
    input: Option<Dist>,
    output: Option<Dist>,
    max_tokens: u32,
    rpm: Option<f64>,
    tpm: Option<f64>,
    burndown: f64,
    concurrency: u32,
    /// Generation slots and the background busy slots over time (on demand), or fixed.
    slots: u32,
    background: Option<RateProfile>,
    provisioned: Option<(u32, Option<Price>)>,
    queue_limit: u64,
    priority: bool,
    /// Hit rate per intent index (or the one rate), and the cache's latency.
    cache: Option<(Vec<f64>, f64, Dist)>,
    prices: [Option<Price>; 2],
}

const ADMIT: u16 = 0;
const START: u16 = 1;
const DONE: u16 = 2;
/// Admit's exits.
const TO_MODEL: usize = 0;
const CACHED: usize = 1;
const MAX_SLOTS: u32 = 1_000_000;
/// Timer token: look again for free capacity (the background changes with time).
const RECHECK: u32 = 0;
/// How often waiting requests look again for capacity freed by other tenants [ns].
const RECHECK_NS: u64 = 1_000_000_000;
/// Requests a time-series window needs for its throttled share to count towards the worst
/// window (Hystrix's request volume threshold: a share of 2 requests says little).
const MIN_WINDOW_ASKED: u64 = 20;

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LlmCounts {
    pub requests: u64,
    pub cache_hits: u64,
    pub served: u64,
    pub throttled_rpm: u64,
    pub throttled_tpm: u64,
    pub throttled_concurrency: u64,
    /// Refused because too many requests already waited for shared capacity.
    pub throttled_capacity: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub max_in_flight: u32,
    pub max_waiting: u64,
}

/// A running model.
pub struct Llm {
    def: LlmDef,
    rng: SimRng,
    rpm: Option<Tokens>,
    tpm: Option<Tokens>,
    in_flight: u32,
    /// ∫ in_flight dt since `since` [request·ns], up to `area_at`.
    area: f64,
    area_at: SimTime,
    generating: u32,
    /// Waiting requests with their input tokens, by class (a single queue unless `priority`).
    queues: Vec<VecDeque<(ReqId, u32)>>,
    waiting: u64,
    recheck_set: bool,
    counts: LlmCounts,
    first_token: Latency,
    /// Simulated time of the run's first throttle [ns], warm-up included.
    first_throttle: Option<u64>,
    since: SimTime,
    /// Throttles in the open time-series window, and requests that reached the quotas in it.
    window_throttles: u64,
    window_asked: u64,
    /// The throttled share of each time-series window since warm-up with at least
    /// [`MIN_WINDOW_ASKED`] requests (at most one per window of the run).
    window_shares: Vec<f64>,
}

impl Kind for Llm {
    type Spec = LlmSpec;
    type Def = LlmDef;

    fn compile(spec: &LlmSpec, b: &mut KindBuilder) -> Option<LlmDef> {
        let def = check(spec, b);
        let done = b.step(DONE, vec![RETURN]);
        let start = b.step(START, vec![done]);
        b.entry = b.step(ADMIT, vec![start, RETURN]);
        def
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &LlmDef, seed: u64, service: &str) -> Llm {
        Llm {
            def: def.clone(),
            rng: stream(seed, service, "llm"),
            rpm: def.rpm.map(|r| Tokens::full(r / 60.0, r)),
            tpm: def.tpm.map(|t| Tokens::full(t / 60.0, t)),
            in_flight: 0,
            area: 0.0,
            area_at: SimTime::ZERO,
            generating: 0,
            queues: vec![VecDeque::new()],
            waiting: 0,
            recheck_set: false,
            counts: LlmCounts::default(),
            first_token: Latency::with_digits(3),
            first_throttle: None,
            since: SimTime::ZERO,
            window_throttles: 0,
            window_asked: 0,
            window_shares: Vec::new(),
        }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        match tag {
            ADMIT => self.admit(job, cx),
            START => {
                let (input, output) = self.tokens(job);
                let ttft = self.def.ttft.sample(&mut self.rng).max(0.0) + self.def.ttft_per_token * input as f64;
                let waited = cx.now.since(job.entered) as f64 * 1e-9;
                self.first_token.record(SimTime::from_secs(waited + ttft).0);
                if self.def.stream {
                    job.first_token = job.first_token.min(cx.now.after_secs(ttft));
                }
                // The first token comes at `ttft`; the other output − 1 at `tokens_per_s`.
                let generation = output.saturating_sub(1) as f64 / self.def.tps;
                Go::Hold { secs: ttft + generation, exit: 0 }
            }
            _ => {
                let (input, output) = self.tokens(job);
                self.generating -= 1;
                self.count_in_flight(cx.now);
                self.in_flight -= 1;
                if let Some(t) = &mut self.tpm {
                    // Settlement: the reservation was input + max_tokens.
                    let used = input as f64 + output as f64 * self.def.burndown;
                    t.refill(cx.now);
                    t.take(used - (input as f64 + self.def.max_tokens as f64));
                }
                let c = &mut self.counts;
                (c.served, c.input_tokens, c.output_tokens) =
                    (c.served + 1, c.input_tokens + input as u64, c.output_tokens + output as u64);
                self.dispatch(cx);
                Go::Exit(0)
            }
        }
    }

    fn timer(&mut self, _token: u32, cx: &mut StepCx) {
        self.recheck_set = false;
        self.dispatch(cx);
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = LlmCounts { max_in_flight: self.in_flight, max_waiting: self.waiting, ..LlmCounts::default() };
        self.first_token.reset();
        self.since = now;
        (self.area, self.area_at) = (0.0, now);
        self.window_shares.clear();
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let c = &self.counts;
        let mut v = serde_json::to_value(c).unwrap_or_default();
        v["model"] = serde_json::json!(self.def.model);
        let throttled = c.throttled_rpm + c.throttled_tpm + c.throttled_concurrency + c.throttled_capacity;
        v["throttled"] = serde_json::json!(throttled);
        let asked = c.requests - c.cache_hits;
        v["throttled_share"] = serde_json::json!((asked > 0).then(|| throttled as f64 / asked as f64));
        v["window_throttled_share"] = window_share_summary(&self.window_shares);
        v["cache_hit_ratio"] = serde_json::json!((c.requests > 0).then(|| c.cache_hits as f64 / c.requests as f64));
        v["first_token_s"] = serde_json::to_value(self.first_token.summary()).unwrap_or_default();
        v["first_throttle_s"] = serde_json::json!(self.first_throttle.map(|t| t as f64 * 1e-9));
        let secs = now.since(self.since) as f64 * 1e-9;
        v["served_per_min"] = serde_json::json!((secs > 0.0).then(|| c.served as f64 * 60.0 / secs));
        v["cost_usd"] = serde_json::json!(self.cost_usd(now));
        v["in_flight"] = serde_json::json!(self.in_flight);
        let area = self.area + self.in_flight as f64 * now.since(self.area_at) as f64;
        v["mean_in_flight"] = serde_json::json!((secs > 0.0).then(|| area * 1e-9 / secs));
        v["waiting"] = serde_json::json!(self.waiting);
        v
    }

    fn cost_usd(&self, now: SimTime) -> Option<f64> {
        let usd = |p: Option<Price>, q: f64| p.map_or(0.0, |p| p.usd(q));
        let [pin, pout] = self.def.prices;
        let tokens = usd(pin, self.counts.input_tokens as f64) + usd(pout, self.counts.output_tokens as f64);
        let hours = now.since(self.since) as f64 / 3.6e12;
        let pt = self.def.provisioned.map_or(0.0, |(units, p)| usd(p, units as f64 * hours));
        Some(tokens + pt)
    }

    // Not `throttled`: that name is the callers' attempt outcome column of every service.
    const COLUMNS: &'static [&'static str] = &["in_flight", "waiting", "quota_throttles", "free_slots"];

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        let free = self.free_slots(now) as f64;
        out.extend([self.in_flight as f64, self.waiting as f64, self.window_throttles as f64, free]);
        if self.window_asked >= MIN_WINDOW_ASKED {
            self.window_shares.push(self.window_throttles as f64 / self.window_asked as f64);
        }
        (self.window_throttles, self.window_asked) = (0, 0);
    }
}

/// The median and the highest throttled share of the windows (`null`s if there are none): a
/// typical and the worst reading of a throttle rate taken over one window, as a breaker or a
/// CloudWatch datapoint takes it. The median of an even count is the lower middle value.
fn window_share_summary(shares: &[f64]) -> serde_json::Value {
    let mut sorted = shares.to_vec();
    sorted.sort_by(f64::total_cmp);
    let p50 = sorted.len().checked_sub(1).map(|last| sorted[last / 2]);
    serde_json::json!({ "p50": p50, "max": sorted.last(), "windows": sorted.len() })
}

impl Llm {
    /// Input and output tokens of `job` (output capped at `max_tokens`): the intent's, or
    /// drawn once on arrival (`kind_slot` marks the job as drawn, so a draw of 0 stays 0).
    fn tokens(&mut self, job: &mut Job) -> (u32, u32) {
        if job.kind_slot == 0 {
            job.kind_slot = 1;
            let draw = |d: &Option<Dist>, rng: &mut SimRng| d.as_ref().map_or(0, |d| d.tokens(rng));
            if job.attrs.tokens_in == 0 {
                job.attrs.tokens_in = draw(&self.def.input, &mut self.rng);
            }
            if job.attrs.tokens_out == 0 {
                job.attrs.tokens_out = draw(&self.def.output, &mut self.rng);
            }
        }
        (job.attrs.tokens_in, job.attrs.tokens_out.min(self.def.max_tokens))
    }

    /// A request arrives: the semantic cache, the quotas, then a slot or the queue.
    fn admit(&mut self, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now;
        self.counts.requests += 1;
        if let Some((by_intent, rate, latency)) = &self.def.cache {
            let p = by_intent.get(job.attrs.intent as usize).copied().unwrap_or(*rate);
            if p > 0.0 && self.rng.random::<f64>() < p {
                self.counts.cache_hits += 1;
                let secs = latency.sample(&mut self.rng).max(0.0);
                if self.def.stream {
                    // A cached answer comes whole: its first token when it arrives.
                    job.first_token = job.first_token.min(now.after_secs(secs));
                }
                return Go::Hold { secs, exit: CACHED };
            }
        }
        self.window_asked += 1;
        let (input, _) = self.tokens(job);
        if self.def.provisioned.is_none() {
            if self.in_flight >= self.def.concurrency {
                return self.throttle(now, |c| &mut c.throttled_concurrency);
            }
            if let Some(r) = &mut self.rpm {
                r.refill(now);
                if !r.has(1.0) {
                    return self.throttle(now, |c| &mut c.throttled_rpm);
                }
            }
            let reserve = input as f64 + self.def.max_tokens as f64;
            if let Some(t) = &mut self.tpm {
                t.refill(now);
                if !t.has(reserve) {
                    return self.throttle(now, |c| &mut c.throttled_tpm);
                }
                t.take(reserve);
            }
            if let Some(r) = &mut self.rpm {
                r.take(1.0);
            }
        }
        self.count_in_flight(now);
        self.in_flight += 1;
        self.counts.max_in_flight = self.counts.max_in_flight.max(self.in_flight);
        if self.waiting == 0 && self.free_slots(now) > 0 {
            self.generating += 1;
            return Go::Exit(TO_MODEL);
        }
        let class = if self.def.priority { job.class as usize } else { 0 };
        if self.waiting >= self.def.queue_limit {
            // With priority, the newest waiting request of a lower class gives up its place
            // (it is throttled instead): a higher class is never turned away while one waits.
            let lower = self.queues.iter().rposition(|q| !q.is_empty()).filter(|&k| self.def.priority && k > class);
            match lower {
                Some(k) => {
                    let (victim, victim_input) = self.queues[k].pop_back().expect("not empty");
                    self.waiting -= 1;
                    self.give_back(victim_input, now);
                    self.counts.throttled_capacity += 1;
                    self.window_throttles += 1;
                    self.first_throttle.get_or_insert(now.0);
                    cx.out.wake_failed(victim, Outcome::Throttled);
                }
                None => {
                    self.give_back(input, now);
                    return self.throttle(now, |c| &mut c.throttled_capacity);
                }
            }
        }
        if self.queues.len() <= class {
            self.queues.resize_with(class + 1, VecDeque::new);
        }
        self.queues[class].push_back((cx.id, input));
        self.waiting += 1;
        self.counts.max_waiting = self.counts.max_waiting.max(self.waiting);
        self.arm_recheck(cx);
        Go::Park
    }

    /// Adds the invocations in flight since the last change to the time integral.
    fn count_in_flight(&mut self, now: SimTime) {
        self.area += self.in_flight as f64 * now.since(self.area_at) as f64;
        self.area_at = now;
    }

    /// A request admitted to the quotas leaves before generating: its invocation, request
    /// and token reservation (input + max_tokens) are given back.
    fn give_back(&mut self, input: u32, now: SimTime) {
        self.count_in_flight(now);
        self.in_flight -= 1;
        if let Some(t) = &mut self.tpm {
            t.take(-(input as f64 + self.def.max_tokens as f64));
        }
        if let Some(r) = &mut self.rpm {
            r.take(-1.0);
        }
    }

    fn throttle(&mut self, now: SimTime, which: impl Fn(&mut LlmCounts) -> &mut u64) -> Go {
        *which(&mut self.counts) += 1;
        self.first_throttle.get_or_insert(now.0);
        self.window_throttles += 1;
        Go::Fail(Outcome::Throttled)
    }

    /// Generation slots free now.
    fn free_slots(&self, now: SimTime) -> u32 {
        let busy_elsewhere = self.def.background.as_ref().map_or(0.0, |b| b.value_at(now.as_secs()).max(0.0));
        let have = (self.def.slots as f64 - busy_elsewhere.round()).max(0.0) as u32;
        have.saturating_sub(self.generating)
    }

    /// Starts waiting requests while slots are free (highest class first).
    fn dispatch(&mut self, cx: &mut StepCx) {
        let mut free = self.free_slots(cx.now);
        while free > 0 && self.waiting > 0 {
            let Some(q) = self.queues.iter_mut().find(|q| !q.is_empty()) else { break };
            let (id, _) = q.pop_front().expect("not empty");
            self.waiting -= 1;
            self.generating += 1;
            free -= 1;
            cx.out.wake(id, TO_MODEL);
        }
        if self.waiting > 0 {
            self.arm_recheck(cx);
        }
    }

    /// While requests wait, looks again every second (other tenants' load changes).
    fn arm_recheck(&mut self, cx: &mut StepCx) {
        if !self.recheck_set && self.def.background.is_some() {
            self.recheck_set = true;
            cx.out.timer(SimTime(cx.now.0 + RECHECK_NS), RECHECK);
        }
    }
}

/// Checks the settings.
fn check(spec: &LlmSpec, b: &mut KindBuilder) -> Option<LlmDef> {
    let mut ok = true;
    let ttft = b.dist("ttft", &spec.ttft);
    ok &= ttft.is_some();
    let per = spec.ttft_per_input_token.0;
    if !(per.is_finite() && (0.0..=1.0).contains(&per)) {
        b.issue("ttft_per_input_token", format!("must be a duration from 0 to 1 s, got {per} s"));
        ok = false;
    }
    if !(spec.tokens_per_s.is_finite() && (0.01..=1e6).contains(&spec.tokens_per_s)) {
        b.issue("tokens_per_s", format!("must be a speed from 0.01 to 1,000,000 tokens/s, got {}", spec.tokens_per_s));
        ok = false;
    }
    let mut dist = |b: &mut KindBuilder, f: &str, d: &Option<DistSpec>| match d {
        Some(d) => {
            let r = b.tokens(f, d);
            ok &= r.is_some();
            r
        }
        None => None,
    };
    let input = dist(b, "input_tokens", &spec.input_tokens);
    let output = dist(b, "output_tokens", &spec.output_tokens);
    if spec.max_tokens == 0 || spec.max_tokens > MAX_TOKENS {
        b.issue("max_tokens", format!("must be from 1 to 1,000,000 tokens, got {}", spec.max_tokens));
        ok = false;
    }
    let q = &spec.quota;
    for (f, v) in [("quota.rpm", q.rpm), ("quota.tpm", q.tpm)] {
        if let Some(v) = v
            && !(v.is_finite() && (1.0..=1e12).contains(&v))
        {
            b.issue(f, format!("must be a quota of at least 1 per minute, got {v}"));
            ok = false;
        }
    }
    if let (Some(tpm), true) = (q.tpm, ok && spec.max_tokens as f64 > q.tpm.unwrap_or(f64::INFINITY)) {
        b.issue(
            "max_tokens",
            format!("a request's reservation ({}) exceeds the whole TPM quota ({tpm})", spec.max_tokens),
        );
        ok = false;
    }
    if !(q.burndown.is_finite() && (1.0..=100.0).contains(&q.burndown)) {
        b.issue("quota.burndown", format!("must be a factor from 1 to 100, got {}", q.burndown));
        ok = false;
    }
    if q.concurrency == Some(0) {
        b.issue("quota.concurrency", "must be at least 1 concurrent invocation");
        ok = false;
    }
    let queue_limit = spec.on_demand.as_ref().and_then(|od| od.queue_limit).map_or(u64::MAX, u64::from);
    let (slots, background, provisioned) = match (&spec.on_demand, &spec.provisioned) {
        (Some(_), Some(_)) => {
            b.issue("provisioned", "give `on_demand` or `provisioned`, not both");
            ok = false;
            (1, None, None)
        }
        (Some(od), None) => {
            if od.capacity == 0 || od.capacity > MAX_SLOTS {
                b.issue("on_demand.capacity", format!("must be from 1 to {MAX_SLOTS} slots, got {}", od.capacity));
                ok = false;
            }
            for (i, seg) in od.background.iter().enumerate() {
                for (field, msg) in check_segment(seg, f64::from(MAX_SLOTS), "busy slots") {
                    b.issue(&format!("on_demand.background.{i}.{field}"), msg);
                    ok = false;
                }
            }
            let clock = b.clock();
            let bg = (ok && !od.background.is_empty())
                .then(|| RateProfile::from_segments(&od.background, od.after_background, clock));
            (od.capacity, bg, None)
        }
        (None, Some(pt)) => {
            let slots = pt.model_units as u64 * pt.slots_per_unit as u64;
            if pt.model_units == 0 || pt.slots_per_unit == 0 || slots > MAX_SLOTS as u64 {
                b.issue("provisioned", format!("needs model_units and slots_per_unit ≥ 1, at most {MAX_SLOTS} slots"));
                ok = false;
            }
            let price = pt.price.as_ref().and_then(|n| {
                let p = b.price(n);
                if p.is_none() {
                    b.issue("provisioned.price", format!("`{n}` is not in the price table"));
                    ok = false;
                }
                p
            });
            (slots.min(MAX_SLOTS as u64) as u32, None, Some((pt.model_units, price)))
        }
        (None, None) => (MAX_SLOTS, None, None),
    };
    let cache = match &spec.semantic_cache {
        None => None,
        Some(sc) => {
            let rate_ok = |b: &mut KindBuilder, f: &str, v: f64| {
                let good = (0.0..=1.0).contains(&v);
                if !good {
                    b.issue(f, format!("must be a share from 0 to 1, got {v}"));
                }
                good
            };
            ok &= rate_ok(b, "semantic_cache.hit_rate", sc.hit_rate);
            let by = b.intent_shares("semantic_cache.by_intent", sc.hit_rate, &sc.by_intent).unwrap_or_else(|| {
                ok = false;
                Vec::new()
            });
            let latency = match &sc.latency {
                Some(d) => b.dist("semantic_cache.latency", d),
                None => Some(Dist::Constant(0.005)),
            };
            ok &= latency.is_some();
            latency.map(|l| (by, sc.hit_rate, l))
        }
    };
    let mut price = |b: &mut KindBuilder, f: &str, n: &Option<String>| {
        n.as_ref().and_then(|n| {
            let p = b.price(n);
            if p.is_none() {
                b.issue(f, format!("`{n}` is not in the price table"));
                ok = false;
            }
            p
        })
    };
    let prices = [price(b, "input_price", &spec.input_price), price(b, "output_price", &spec.output_price)];
    let ttft = ttft?;
    ok.then(|| LlmDef {
        model: spec.model.clone(),
        stream: spec.stream,
        ttft,
        ttft_per_token: per,
        tps: spec.tokens_per_s,
        input,
        output,
        max_tokens: spec.max_tokens,
        rpm: q.rpm,
        tpm: q.tpm,
        burndown: q.burndown,
        concurrency: q.concurrency.unwrap_or(u32::MAX),
        slots,
        background,
        provisioned,
        queue_limit,
        priority: spec.priority,
        cache,
        prices,
    })
}
