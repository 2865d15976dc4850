//! The "limit crossed" signals of `capsim breakpoints`: for each kind of component, the figures of
//! a run's summary that say it has reached a limit, each with its threshold and the reason for it
//! (docs/experiments.md lists them). A signal's value is read from one run; the command averages
//! it over replications and finds the load where the average first meets the threshold.

use serde_json::Value;

use crate::model::Model;
use crate::report::output::RunOutput;

/// How a threshold is written for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A fraction, shown as a percentage (0.001 → "0.1 %").
    Share,
    /// A multiple, shown as "2×".
    Times,
    /// A count, shown as a number.
    Count,
}

/// One kind of limit: which components it applies to, how its value is read and when it counts
/// as crossed.
#[derive(Clone, Copy, Debug)]
pub struct LimitDef {
    /// Its name for `--limit ID=VALUE` and in the CSV files, e.g. `llm.quota`.
    pub id: &'static str,
    /// The component kinds it applies to (`service` for every service and station).
    pub kinds: &'static [&'static str],
    /// In words, `{}` standing for the threshold: "Bedrock quota 429s > {} of requests".
    pub words: &'static str,
    /// The summary figure read, `{}` standing for the component's name.
    pub metric: &'static str,
    /// The default threshold, in `unit`.
    pub threshold: f64,
    pub unit: Unit,
    /// Crossed when the value is strictly above the threshold (else at or above).
    pub strict: bool,
    /// The value moves smoothly with load, so the crossing may be interpolated between points.
    pub continuous: bool,
    /// The value is divided by its mean at the lowest load point (a p99 that doubled).
    pub relative: bool,
    /// Why this threshold: its source.
    pub reason: &'static str,
    read: fn(&Value, &Extra) -> Option<f64>,
}

/// Figures a limit may need beyond the component's summary object.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extra {
    /// Mean over the windows after warm-up of the component's `<name>.utilization` column.
    pub window_utilization: Option<f64>,
    /// Whether the run stopped early as overloaded.
    pub overloaded: bool,
}

/// A figure at a dotted path of `v` (None if absent or null).
fn at(v: &Value, path: &str) -> Option<f64> {
    path.split('.').try_fold(v, |v, k| v.get(k))?.as_f64()
}

/// `num / den`, None when `den` is 0 or missing.
fn share(num: Option<f64>, den: Option<f64>) -> Option<f64> {
    let d = den?;
    (d > 0.0).then(|| num.unwrap_or(0.0) / d)
}

/// The sum of the figures at `paths` (missing ones count 0; None if all are missing).
fn sum(v: &Value, paths: &[&str]) -> Option<f64> {
    let xs: Vec<f64> = paths.iter().filter_map(|p| at(v, p)).collect();
    (!xs.is_empty()).then(|| xs.iter().sum())
}

/// The limits, in the order ties are broken (the same load: the earlier listed first).
pub const LIMITS: &[LimitDef] = &[
    LimitDef {
        id: "gateway.connections",
        kinds: &["gateway"],
        words: "WebSocket connections ≥ {} of the connection limit",
        metric: "services.{}.gateway.peak_share",
        threshold: 0.8,
        unit: Unit::Share,
        strict: false,
        continuous: true,
        relative: false,
        reason: "seed 001's alarm \"Concurrent sessions > 80% of provisioned capacity\"",
        read: |s, _| at(s, "gateway.peak_share"),
    },
    LimitDef {
        id: "gateway.refused",
        kinds: &["gateway"],
        words: "WebSocket connects refused",
        metric: "services.{}.gateway.refused / connects",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "a refused connect is a user who cannot chat (API Gateway's connection limit or new-connection rate)",
        read: |s, _| share(at(s, "gateway.refused"), at(s, "gateway.connects")),
    },
    LimitDef {
        id: "llm.quota",
        kinds: &["llm"],
        words: "Bedrock quota 429s > {} of requests",
        metric: "services.{}.llm.throttled_{rpm,tpm,concurrency} / (requests − cache_hits)",
        threshold: 0.001,
        unit: Unit::Share,
        strict: true,
        continuous: true,
        relative: false,
        reason: "one request in a thousand refused by the account's RPM, TPM or concurrency quota: the quota, not chance, sets the pace (seed 000 scenario 2)",
        read: |s, _| {
            let asked = at(s, "llm.requests").map(|r| r - at(s, "llm.cache_hits").unwrap_or(0.0));
            share(sum(s, &["llm.throttled_rpm", "llm.throttled_tpm", "llm.throttled_concurrency"]), asked)
        },
    },
    LimitDef {
        id: "llm.capacity",
        kinds: &["llm"],
        words: "on-demand capacity throttles",
        metric: "services.{}.llm.throttled_capacity / (requests − cache_hits)",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "the model's shared on-demand capacity turned a request away (runbook 1: throttling below the quota)",
        read: |s, _| {
            let asked = at(s, "llm.requests").map(|r| r - at(s, "llm.cache_hits").unwrap_or(0.0));
            share(at(s, "llm.throttled_capacity"), asked)
        },
    },
    LimitDef {
        id: "kv_store.throttles",
        kinds: &["kv_store"],
        words: "DynamoDB partition throttles",
        metric: "services.{}.kv_store.throttled_share",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "seed 001's alarm \"DynamoDB throttling: any throttle event\"",
        read: |s, _| at(s, "kv_store.throttled_share"),
    },
    LimitDef {
        id: "dax.throttles",
        kinds: &["dax"],
        words: "table throttles reach DAX's readers",
        metric: "services.{}.outcomes.throttled / calls",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "seed 001's alarm \"DynamoDB throttling: any throttle event\", as DAX's callers see it",
        read: |s, _| share(at(s, "outcomes.throttled"), at(s, "calls")),
    },
    LimitDef {
        id: "pool.utilization",
        kinds: &["endpoint_pool", "batch_server"],
        words: "instances ≥ {} busy",
        metric: "mean over windows of timeseries {}.utilization",
        threshold: 0.8,
        unit: Unit::Share,
        strict: false,
        continuous: true,
        relative: false,
        reason: "past 80 % busy a fleet has no headroom for the minutes a scale-out takes (seed 000 scenario 3)",
        read: |_, x| x.window_utilization,
    },
    LimitDef {
        id: "pool.p99",
        kinds: &["endpoint_pool", "batch_server"],
        words: "p99 over {} its p99 at the lowest load",
        metric: "services.{}.latency_s.p99 ÷ its value at the lowest load",
        threshold: 2.0,
        unit: Unit::Times,
        strict: true,
        continuous: true,
        relative: true,
        reason: "a p99 that doubles is a queue building up in front of the model (seed 000 scenario 7)",
        read: |s, _| at(s, "latency_s.p99"),
    },
    LimitDef {
        id: "limiter.overflow",
        kinds: &["concurrency_limiter"],
        words: "overflow > {} of requests",
        metric: "services.{}.concurrency_limiter.overflowed / requests",
        threshold: 0.01,
        unit: Unit::Share,
        strict: true,
        continuous: true,
        relative: false,
        reason: "more than 1 % spilling past the baseline pool (seed 001: ECS → Lambda) is the baseline running out",
        read: |s, _| share(at(s, "concurrency_limiter.overflowed"), at(s, "concurrency_limiter.requests")),
    },
    LimitDef {
        id: "limiter.waiting",
        kinds: &["concurrency_limiter"],
        words: "requests waiting for a permit > {}",
        metric: "services.{}.concurrency_limiter.waited / requests",
        threshold: 0.01,
        unit: Unit::Share,
        strict: true,
        continuous: true,
        relative: false,
        reason: "more than 1 % of requests queueing for a permit: the pool's cap, not the model, sets the pace (runbook 3)",
        read: |s, _| share(at(s, "concurrency_limiter.waited"), at(s, "concurrency_limiter.requests")),
    },
    LimitDef {
        id: "lambda.throttles",
        kinds: &["lambda"],
        words: "Lambda throttles (concurrency or scaling limit)",
        metric: "services.{}.lambda.throttled_{concurrency,scaling} / invocations",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "a throttled invocation is a 429 to the user (the regional limit, or 1,000 new environments per 10 s)",
        read: |s, _| {
            share(sum(s, &["lambda.throttled_concurrency", "lambda.throttled_scaling"]), at(s, "lambda.invocations"))
        },
    },
    LimitDef {
        id: "processor_sharing.cpu",
        kinds: &["processor_sharing"],
        words: "CPU ≥ {} busy",
        metric: "services.{}.processor_sharing.cpu_utilization",
        threshold: 0.8,
        unit: Unit::Share,
        strict: false,
        continuous: true,
        relative: false,
        reason: "past 80 % CPU every request is slowed by the others in service",
        read: |s, _| at(s, "processor_sharing.cpu_utilization"),
    },
    LimitDef {
        id: "queue.refused",
        kinds: &["queue"],
        words: "SQS sends refused (back-pressure)",
        metric: "services.{}.queue.counts.refused_{depth,rate} / arrived",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "a refused send is work the producer must hold or drop",
        read: |s, _| {
            let refused = sum(s, &["queue.counts.refused_depth", "queue.counts.refused_rate"]);
            share(refused, at(s, "queue.counts.arrived").map(|a| a + refused.unwrap_or(0.0)))
        },
    },
    LimitDef {
        id: "model_router.switched",
        kinds: &["model_router"],
        words: "switched intents to the fallback model",
        metric: "services.{}.model_router.switches_on",
        threshold: 0.0,
        unit: Unit::Count,
        strict: true,
        continuous: false,
        relative: false,
        reason: "the router switches when the primary model times out",
        read: |s, _| at(s, "model_router.switches_on"),
    },
    LimitDef {
        id: "service.rejected",
        kinds: &["service"],
        words: "requests turned away (waiting room full)",
        metric: "services.{}.outcomes.rejected / calls",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "a full waiting room (`capacity`, `queue_limit`) refuses work: capacity is exhausted",
        read: |s, _| share(at(s, "outcomes.rejected"), at(s, "calls")),
    },
    LimitDef {
        id: "service.utilization",
        kinds: &["service"],
        words: "slots ≥ {} busy",
        metric: "services.{}.utilization",
        threshold: 0.9,
        unit: Unit::Share,
        strict: false,
        continuous: true,
        relative: false,
        reason: "past 90 % busy the wait for a slot grows steeply (M/M/c: as 1/(1 − ρ))",
        read: |s, _| at(s, "utilization"),
    },
    LimitDef {
        id: "service.timeouts",
        kinds: &["service"],
        words: "timeouts > {} of calls",
        metric: "services.{}.timeout_share",
        threshold: 0.01,
        unit: Unit::Share,
        strict: true,
        continuous: true,
        relative: false,
        reason: "seed 001's alarm \"Error rate > 1% for 5 min\", on the calls that time out",
        read: |s, _| at(s, "timeout_share"),
    },
    LimitDef {
        id: "service.breaker",
        kinds: &["service"],
        words: "circuit breaker opened",
        metric: "services.{}.breaker_opened",
        threshold: 0.0,
        unit: Unit::Count,
        strict: true,
        continuous: false,
        relative: false,
        reason: "seed 001's alarm \"Circuit breaker open: any\"",
        read: |s, _| at(s, "breaker_opened"),
    },
    LimitDef {
        id: "rate_limit.refused",
        kinds: &["rate_limit"],
        words: "token bucket refuses > {} of requests",
        metric: "limits.{}.refused_share",
        threshold: 0.01,
        unit: Unit::Share,
        strict: true,
        continuous: true,
        relative: false,
        reason: "more than 1 % answered 429 by the model's own rate limit",
        read: |s, _| at(s, "refused_share"),
    },
    LimitDef {
        id: "system.errors",
        kinds: &["system"],
        words: "requests failing or refused > {}",
        metric: "requests.error_share",
        threshold: 0.01,
        unit: Unit::Share,
        strict: true,
        continuous: true,
        relative: false,
        reason: "seed 001's alarm \"Error rate > 1% for 5 min\", over the whole run",
        read: |s, _| at(s, "requests.error_share"),
    },
    LimitDef {
        id: "system.overloaded",
        kinds: &["system"],
        words: "run overloaded (requests in flight past run.max_in_flight)",
        metric: "status.state = overloaded",
        threshold: 0.0,
        unit: Unit::Share,
        strict: true,
        continuous: false,
        relative: false,
        reason: "the queue grows without bound: the run stopped early (share of replications)",
        read: |_, x| Some(if x.overloaded { 1.0 } else { 0.0 }),
    },
];

/// The component that the whole run is, for run-wide limits.
pub const SYSTEM: &str = "whole system";

/// One component of the model and the limits that apply to it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Component {
    pub name: String,
    /// `llm`, `kv_store` …, `service`, `station`, `rate_limit` or `system`.
    pub kind: String,
    /// Indices into [`LIMITS`] (written as their ids).
    #[serde(with = "limit_ids")]
    pub limits: Vec<usize>,
}

/// [`Component::limits`] written as the limits' ids, so a file names them in words and stays
/// readable if the list's order changes.
mod limit_ids {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(limits: &[usize], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(limits.iter().map(|&i| super::LIMITS[i].id))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<usize>, D::Error> {
        let ids = Vec::<String>::deserialize(d)?;
        ids.iter()
            .map(|id| super::limit_index(id).ok_or_else(|| serde::de::Error::custom(format!("`{id}` is not a limit"))))
            .collect()
    }
}

impl LimitDef {
    /// Whether `value` meets `threshold`.
    pub fn holds(&self, value: f64, threshold: f64) -> bool {
        if self.strict { value > threshold } else { value >= threshold }
    }

    /// The limit in words at `threshold`.
    pub fn in_words(&self, threshold: f64) -> String {
        self.words.replace("{}", &threshold_words(self.unit, threshold))
    }

    /// The summary figure read, for component `name`.
    pub fn metric_of(&self, name: &str) -> String {
        self.metric.replace("{}", name)
    }

    fn applies_to(&self, kind: &str) -> bool {
        let every_service = !matches!(kind, "rate_limit" | "system");
        self.kinds.contains(&kind) || (every_service && self.kinds.contains(&"service"))
    }
}

/// A threshold as people write it: "0.1 %", "2×", "0".
pub fn threshold_words(unit: Unit, x: f64) -> String {
    let s = |x: f64| crate::report::labels::sig(x, 3);
    match unit {
        Unit::Share => format!("{} %", s(x * 100.0)),
        Unit::Times => format!("{}×", s(x)),
        Unit::Count => s(x),
    }
}

/// The limit called `id`.
pub fn limit_index(id: &str) -> Option<usize> {
    LIMITS.iter().position(|l| l.id == id)
}

/// Every component of `model` with its limits: services and stations by name, then token
/// buckets, then the whole system.
pub fn components(model: &Model) -> Vec<Component> {
    let kind_of = |name: &str| -> String {
        match model.spec.services.get(name) {
            Some(s) => s.kind.as_ref().map_or_else(|| "service".into(), |k| k.name()),
            None => "station".into(),
        }
    };
    let mut names: Vec<&String> = model.program.services.iter().map(|s| &s.name).collect();
    names.sort();
    let mut out: Vec<Component> = names.into_iter().map(|n| component(n, &kind_of(n))).collect();
    out.extend(model.spec.limits.keys().map(|n| component(n, "rate_limit")));
    out.push(component(SYSTEM, "system"));
    out
}

fn component(name: &str, kind: &str) -> Component {
    let limits = (0..LIMITS.len()).filter(|&i| LIMITS[i].applies_to(kind)).collect();
    Component { name: name.to_string(), kind: kind.to_string(), limits }
}

/// The summary object a component's limits read: `services.<name>`, `limits.<name>`, or the
/// whole summary for the system.
fn object<'a>(summary: &'a Value, c: &Component) -> Option<&'a Value> {
    match c.kind.as_str() {
        "system" => Some(summary),
        "rate_limit" => summary.get("limits")?.get(&c.name),
        _ => summary.get("services")?.get(&c.name),
    }
}

/// The mean of column `<name>.utilization` over the windows after warm-up (None if the run has
/// no such column or no such window).
fn window_utilization(model: &Model, out: &RunOutput, name: &str) -> Option<f64> {
    let col = out.kind_columns.iter().position(|c| *c == format!("{name}.utilization"))?;
    let warmup = model.warmup.as_secs();
    let xs: Vec<f64> =
        out.rows.iter().filter(|r| r.t_start >= warmup).filter_map(|r| r.kinds.get(col).copied()).collect();
    let xs: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Every signal of one run: per component, per limit (parallel to `components`), the value read
/// (None where the run has no figure, e.g. no calls). `summary` is `out.summary` as JSON, which
/// the caller has already made.
pub fn read_run(model: &Model, out: &RunOutput, summary: &Value, components: &[Component]) -> Vec<Vec<Option<f64>>> {
    let overloaded = summary.pointer("/status/state").and_then(Value::as_str) == Some("overloaded");
    components
        .iter()
        .map(|c| {
            let extra = Extra { window_utilization: window_utilization(model, out, &c.name), overloaded };
            let obj = object(summary, c);
            c.limits.iter().map(|&i| obj.and_then(|o| (LIMITS[i].read)(o, &extra)).filter(|x| x.is_finite())).collect()
        })
        .collect()
}

/// The model's alarms in one run: (fired, first start [s]) each, in the model's order.
pub fn read_alarms(out: &RunOutput) -> Vec<super::alarm_hits::AlarmReading> {
    out.alarms.iter().map(|a| (!a.episodes.is_empty(), a.episodes.first().map(|e| e.start_s))).collect()
}
