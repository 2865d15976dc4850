//! A fleet of instances behind an endpoint (a SageMaker real-time endpoint, an ECS service, a
//! GPU reranker): instance types, the start-up chain of a new instance, and autoscaling that
//! sees the load only through metric datapoints and alarms (seed 000 scenario 3; figures in
//! reference/calibration.md). Kinds that serve requests on instances (`endpoint_pool`, and
//! later `batch_server`) embed a [`Fleet`] and tell it what happens; it tells them when an
//! instance joins or must drain.
//!
//! The delay between a load step and a new instance serving is the sum of every link, each a
//! setting:
//! 1. the metric: one datapoint per `period` (60 s; 10 s for the high-resolution concurrency
//!    metric), the average over that period;
//! 2. the alarm: `scale_out_datapoints` datapoints above the target among the last
//!    `scale_out_evaluation_periods` (3 of 3), or `scale_in_datapoints` below 90 % of it (15 of
//!    15);
//! 3. cooldowns: no scale-out within `scale_out_cooldown` of the last one, no scale-in within
//!    `scale_in_cooldown` of the last scaling of either kind;
//! 4. the instance: `provisioning`, `image_pull`, `model_download`, `model_load` (divided by
//!    the type's `load_speed`: Inferentia loads 4× faster), then, with `warm_up`, its first
//!    request's extra time (`first_request`) before it joins the load balancer; without
//!    warm-up, the requests it serves before that first request is over all wait for it
//!    (the 55 s first request).
//!
//! Target tracking asks for ⌈capacity × datapoint ÷ target⌉ instances, capacity being the
//! instances running or starting; with `ignore_loading_instances` the per-instance metric is
//! divided by the serving instances only, so instances still loading leave it high and the
//! next alarm after the cooldown scales out again (the over-scaling it is known for). Step
//! scaling adds the instances of the step the datapoint's excess over its threshold falls in.
//! Scheduled actions set the minimum and maximum at given times (scale out before a known peak).

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cost::Price;
use crate::engine::{SimRng, SimTime};
use crate::model::clock::{Schedule, ScheduleSpec};
use crate::model::dist::DistSpec;
use crate::model::limits::MAX_DATAPOINTS;
use crate::model::quantity::Quantity;
use crate::model::{Dist, KindBuilder};

/// An instance type.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    /// Its name (e.g. `ml.g4dn.xlarge`); also the price looked up for instance-hours unless
    /// `price` is given.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The price table entry for one instance-hour (default: `type`, if the table has it).
    pub price: Option<String>,
    /// Requests one instance serves at once (default 1).
    #[serde(default = "one_u32")]
    pub slots: u32,
    /// Service times are divided by this (default 1).
    #[serde(default = "one_f64")]
    pub speed: f64,
    /// Model load times are divided by this (default 1; Inferentia 4, seed 000 scenario 3).
    #[serde(default = "one_f64")]
    pub load_speed: f64,
}

/// How a new instance starts. Durations default to 0: set them from the system modelled
/// (capsim has no public default for them).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartupSpec {
    /// From the scaling decision to a running host.
    pub provisioning: Option<DistSpec>,
    /// Pulling the container image.
    pub image_pull: Option<DistSpec>,
    /// Downloading the model artefact (seed 000: 800 ms, 200 ms in INT8).
    pub model_download: Option<DistSpec>,
    /// Loading the model (divided by the type's `load_speed`).
    pub model_load: Option<DistSpec>,
    /// Extra time of the first request an instance serves (lazy initialisation; seed 000: the
    /// 55 s first request). Requests that start on the instance before it is over wait for it.
    pub first_request: Option<DistSpec>,
    /// Send a warm-up request before the instance joins: it pays `first_request` before
    /// serving anyone (default false).
    #[serde(default)]
    pub warm_up: bool,
}

/// Autoscaling of the instance count.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    /// Bounds on the instance count (default: `min` 1, `max` 10).
    pub min: Option<u32>,
    pub max: Option<u32>,
    /// The metric the alarms watch (default `invocations_per_instance`).
    #[serde(default)]
    pub metric: MetricKind,
    /// Datapoint period (default 60 s; 10 s for `concurrency_per_instance`).
    pub period: Option<Quantity>,
    /// Target tracking: the metric's target value (none: no target tracking).
    pub target: Option<f64>,
    /// Datapoints in a row above the target that scale out (default 3) and below 90 % of it
    /// that scale in (default 15).
    #[serde(default = "three")]
    pub scale_out_datapoints: u32,
    #[serde(default = "fifteen")]
    pub scale_in_datapoints: u32,
    /// The alarms' evaluation periods M: N of the last M datapoints must breach (default M =
    /// N: N in a row; CloudWatch's "3 datapoints within 5 minutes" is N 3, M 5).
    pub scale_out_evaluation_periods: Option<u32>,
    pub scale_in_evaluation_periods: Option<u32>,
    /// Cooldowns (default 300 s each).
    pub scale_out_cooldown: Option<Quantity>,
    pub scale_in_cooldown: Option<Quantity>,
    /// Divide per-instance metrics by the serving instances only, leaving out those still
    /// starting (default false).
    #[serde(default)]
    pub ignore_loading_instances: bool,
    /// Step scaling on the same metric (default none).
    pub steps: Option<StepScalingSpec>,
    /// Scheduled actions: at each time, new bounds.
    #[serde(default)]
    pub scheduled: Vec<ScheduledSpec>,
    /// The pool's size for each local hour (24 whole numbers of instances): on each hour both
    /// bounds become that hour's entry, so the fleet launches or retires instances to it
    /// (default: none).
    pub hourly: Option<ScheduleSpec>,
}

/// The metric behind the alarms.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Requests arriving per instance per minute (SageMaker `InvocationsPerInstance`).
    #[default]
    InvocationsPerInstance,
    /// Requests in the pool (waiting or served) per instance, averaged over the period
    /// (`ConcurrentRequestsPerModel`, high resolution).
    ConcurrencyPerInstance,
    /// Busy slots ÷ slots of the serving instances, in percent, averaged over the period.
    CpuUtilization,
}

/// Step scaling: when `datapoints` datapoints in a row exceed `threshold`, add the instances
/// of the step whose `from` the latest excess reaches.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepScalingSpec {
    pub threshold: f64,
    #[serde(default = "one_u32")]
    pub datapoints: u32,
    /// Steps by excess over the threshold, in increasing `from`.
    pub adjustments: Vec<StepSpec>,
    /// Least time between step actions (default 300 s).
    pub cooldown: Option<Quantity>,
}

/// One step: an excess of at least `from` adds `add` instances.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub from: f64,
    pub add: u32,
}

/// A scheduled action: from `at`, the bounds become `min` and `max` (each if given).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledSpec {
    pub at: Quantity,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

fn one_u32() -> u32 {
    1
}
fn one_f64() -> f64 {
    1.0
}
fn three() -> u32 {
    3
}
fn fifteen() -> u32 {
    15
}

/// Most instances a fleet may have at once.
pub const MAX_INSTANCES: u32 = 10_000;
/// Most slots per instance.
const MAX_SLOTS: u32 = 10_000;
/// Most instances launched over a run (their records are kept).
const MAX_LAUNCHES: usize = 1_000_000;
/// Launch records kept for the summary.
const LAUNCHES_SHOWN: usize = 50;
/// Most scheduled actions.
const MAX_SCHEDULED: usize = 1_000;

/// Checked start-up chain.
#[derive(Clone, Debug)]
pub struct StartupDef {
    pub phases: [Option<Dist>; 4],
    pub first_request: Option<Dist>,
    pub warm_up: bool,
}

/// Checked autoscaling.
#[derive(Clone, Debug)]
pub struct ScalingDef {
    pub min: u32,
    pub max: u32,
    pub metric: MetricKind,
    pub period_ns: u64,
    pub target: Option<f64>,
    pub out_n: u32,
    pub in_n: u32,
    /// Evaluation periods M of each alarm (≥ N).
    pub out_m: u32,
    pub in_m: u32,
    pub out_cool_ns: u64,
    pub in_cool_ns: u64,
    pub ignore_loading: bool,
    pub steps: Option<StepsDef>,
    /// (at [ns], min, max), by time.
    pub scheduled: Vec<(u64, Option<u32>, Option<u32>)>,
    /// The size by local hour.
    pub hourly: Option<Schedule>,
}

/// Checked step scaling.
#[derive(Clone, Debug)]
pub struct StepsDef {
    pub threshold: f64,
    pub datapoints: u32,
    /// (excess from, instances added), by increasing excess.
    pub adjustments: Vec<(f64, u32)>,
    pub cooldown_ns: u64,
}

/// A checked fleet: type, start-up, scaling, initial size.
#[derive(Clone, Debug)]
pub struct FleetDef {
    pub type_name: String,
    pub slots: u32,
    pub speed: f64,
    pub load_speed: f64,
    pub price: Option<Price>,
    pub startup: StartupDef,
    pub scaling: Option<ScalingDef>,
    /// Instances serving at the start.
    pub initial: u32,
}

/// Checks a fleet's settings; problems are reported at their fields under the kind's path.
pub fn check(
    b: &mut KindBuilder,
    instance: &InstanceSpec,
    instances: Option<u32>,
    startup: &StartupSpec,
    scaling: Option<&AutoscalingSpec>,
) -> Option<FleetDef> {
    let mut ok = true;
    if instance.slots == 0 || instance.slots > MAX_SLOTS {
        b.issue("instance.slots", format!("must be from 1 to {MAX_SLOTS} requests, got {}", instance.slots));
        ok = false;
    }
    for (field, v) in [("speed", instance.speed), ("load_speed", instance.load_speed)] {
        if !(v.is_finite() && (1e-3..=1e6).contains(&v)) {
            b.issue(&format!("instance.{field}"), format!("must be a factor from 0.001 to 1,000,000, got {v}"));
            ok = false;
        }
    }
    let price_name = instance.price.clone().unwrap_or_else(|| instance.type_name.clone());
    let price = b.price(&price_name);
    if instance.price.is_some() && price.is_none() {
        b.issue(
            "instance.price",
            format!("`{price_name}` is not in the price table (the model's `prices` or the defaults)"),
        );
        ok = false;
    }
    let mut phase = |b: &mut KindBuilder, field: &str, d: &Option<DistSpec>| match d {
        Some(d) => {
            let r = b.dist(&format!("startup.{field}"), d);
            ok &= r.is_some();
            r
        }
        None => None,
    };
    let phases = [
        phase(b, "provisioning", &startup.provisioning),
        phase(b, "image_pull", &startup.image_pull),
        phase(b, "model_download", &startup.model_download),
        phase(b, "model_load", &startup.model_load),
    ];
    let first_request = phase(b, "first_request", &startup.first_request);
    let scaling = match scaling {
        Some(s) => match check_scaling(b, s) {
            Some(d) => Some(d),
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let (lo, hi) = scaling.as_ref().map_or((0, MAX_INSTANCES), |s| (s.min, s.max));
    let initial = instances.unwrap_or(lo.max(1));
    if initial > MAX_INSTANCES || initial < lo || initial > hi {
        b.issue("instances", format!("must be from the minimum ({lo}) to the maximum ({hi}) instances, got {initial}"));
        ok = false;
    }
    if initial == 0 && scaling.is_none() {
        b.issue("instances", "must be at least 1 without autoscaling (no instance would ever serve)");
        ok = false;
    }
    ok.then(|| FleetDef {
        type_name: instance.type_name.clone(),
        slots: instance.slots,
        speed: instance.speed,
        load_speed: instance.load_speed,
        price,
        startup: StartupDef { phases, first_request, warm_up: startup.warm_up },
        scaling,
        initial,
    })
}

fn check_scaling(b: &mut KindBuilder, s: &AutoscalingSpec) -> Option<ScalingDef> {
    let mut ok = true;
    let (min, max) = (s.min.unwrap_or(1), s.max.unwrap_or(10));
    if max > MAX_INSTANCES || max == 0 {
        b.issue("autoscaling.max", format!("must be from 1 to {MAX_INSTANCES} instances, got {max}"));
        ok = false;
    }
    if min > max {
        b.issue("autoscaling.min", format!("must not exceed the maximum ({max}), got {min}"));
        ok = false;
    }
    let default_period = if s.metric == MetricKind::ConcurrencyPerInstance { 10.0 } else { 60.0 };
    let period = s.period.map_or(default_period, |p| p.0);
    if !(period.is_finite() && (1.0..=86_400.0).contains(&period)) {
        b.issue("autoscaling.period", format!("must be a duration from 1 s to a day, got {period} s"));
        ok = false;
    }
    if let Some(t) = s.target
        && !(t.is_finite() && t > 0.0)
    {
        b.issue("autoscaling.target", format!("must be a metric value above 0, got {t}"));
        ok = false;
    }
    for (field, n) in [("scale_out_datapoints", s.scale_out_datapoints), ("scale_in_datapoints", s.scale_in_datapoints)]
    {
        if n == 0 || n > MAX_DATAPOINTS {
            b.issue(&format!("autoscaling.{field}"), format!("must be from 1 to {MAX_DATAPOINTS} datapoints, got {n}"));
            ok = false;
        }
    }
    let out_m = s.scale_out_evaluation_periods.unwrap_or(s.scale_out_datapoints);
    let in_m = s.scale_in_evaluation_periods.unwrap_or(s.scale_in_datapoints);
    for (field, m, n) in [
        ("scale_out_evaluation_periods", out_m, s.scale_out_datapoints),
        ("scale_in_evaluation_periods", in_m, s.scale_in_datapoints),
    ] {
        if m < n || m > MAX_DATAPOINTS {
            let msg = format!("must be from the datapoints needed ({n}) to {MAX_DATAPOINTS}, got {m}");
            b.issue(&format!("autoscaling.{field}"), msg);
            ok = false;
        }
    }
    let mut secs = |b: &mut KindBuilder, field: &str, q: Option<Quantity>| {
        let v = q.map_or(300.0, |q| q.0);
        if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
            b.issue(field, format!("must be a duration from 0 to a day, got {v} s"));
            ok = false;
        }
        SimTime::from_secs(v.clamp(0.0, 86_400.0)).0
    };
    let out_cool_ns = secs(b, "autoscaling.scale_out_cooldown", s.scale_out_cooldown);
    let in_cool_ns = secs(b, "autoscaling.scale_in_cooldown", s.scale_in_cooldown);
    let steps = match &s.steps {
        None => None,
        Some(st) => {
            let cool = secs(b, "autoscaling.steps.cooldown", st.cooldown);
            if !st.threshold.is_finite() {
                b.issue("autoscaling.steps.threshold", "must be a number");
                ok = false;
            }
            if st.datapoints == 0 || st.datapoints > MAX_DATAPOINTS {
                let msg = format!("must be from 1 to {MAX_DATAPOINTS} datapoints, got {}", st.datapoints);
                b.issue("autoscaling.steps.datapoints", msg);
                ok = false;
            }
            let sorted = st.adjustments.windows(2).all(|w| w[0].from < w[1].from);
            let bad = |a: &StepSpec| a.from.is_nan() || a.from < 0.0 || a.add == 0 || a.add > MAX_INSTANCES;
            if st.adjustments.is_empty() || !sorted || st.adjustments.iter().any(bad) {
                let msg =
                    format!("needs at least one step, with `from` ≥ 0 and increasing, `add` from 1 to {MAX_INSTANCES}");
                b.issue("autoscaling.steps.adjustments", msg);
                ok = false;
            }
            let adjustments = st.adjustments.iter().map(|a| (a.from, a.add.min(MAX_INSTANCES))).collect();
            Some(StepsDef { threshold: st.threshold, datapoints: st.datapoints, adjustments, cooldown_ns: cool })
        }
    };
    if s.target.is_none() && steps.is_none() && s.scheduled.is_empty() && s.hourly.is_none() {
        b.issue("autoscaling", "give a `target` (target tracking), `steps`, `scheduled` actions or an `hourly` size");
        ok = false;
    }
    let hourly = s.hourly.as_ref().and_then(|h| {
        let whole = |v: f64| (0.0..=f64::from(MAX_INSTANCES)).contains(&v) && v.fract() == 0.0;
        Schedule::checked(h, b.clock(), whole, &format!("whole numbers of instances from 0 to {MAX_INSTANCES}"))
            .map_err(|e| {
                b.issue("autoscaling.hourly", e);
                ok = false;
            })
            .ok()
    });
    if s.scheduled.len() > MAX_SCHEDULED {
        b.issue("autoscaling.scheduled", format!("at most {MAX_SCHEDULED} actions, got {}", s.scheduled.len()));
        ok = false;
    }
    let mut scheduled = Vec::new();
    for (i, a) in s.scheduled.iter().enumerate() {
        if !(a.at.0.is_finite() && a.at.0 >= 0.0) {
            b.issue(&format!("autoscaling.scheduled.{i}.at"), format!("must be a time ≥ 0, got {} s", a.at.0));
            ok = false;
        }
        let (lo, hi) = (a.min.unwrap_or(0), a.max.unwrap_or(MAX_INSTANCES));
        if lo > hi || hi > MAX_INSTANCES || (a.min.is_none() && a.max.is_none()) {
            b.issue(
                &format!("autoscaling.scheduled.{i}"),
                format!("needs `min` and/or `max`, min ≤ max ≤ {MAX_INSTANCES}"),
            );
            ok = false;
        }
        scheduled.push((SimTime::from_secs(a.at.0.max(0.0)).0, a.min, a.max));
    }
    scheduled.sort_by_key(|a| a.0);
    ok.then(|| ScalingDef {
        min,
        max,
        metric: s.metric,
        period_ns: SimTime::from_secs(period).0,
        target: s.target,
        out_n: s.scale_out_datapoints,
        in_n: s.scale_in_datapoints,
        out_m,
        in_m,
        out_cool_ns,
        in_cool_ns,
        ignore_loading: s.ignore_loading_instances,
        steps,
        scheduled,
        hourly,
    })
}

/// An instance's life.
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    /// When it was launched, when each start-up phase ends (provisioning, image pull, model
    /// download, model load, warm-up) and so when it joins [ns].
    pub launched: u64,
    pub phase_end: [u64; 5],
    /// Requests it is serving.
    pub busy: u32,
    /// Whether it has joined the load balancer, is draining (no new requests), is gone.
    pub joined: bool,
    pub draining: bool,
    pub gone_at: Option<u64>,
    /// Until when a request starting on it waits for its first request's initialisation
    /// (None: not yet served anyone without warm-up).
    pub warm_at: Option<u64>,
    /// When it served its first request.
    pub first_served: Option<u64>,
}

impl Instance {
    /// When it joins the load balancer [ns].
    pub fn joins(&self) -> u64 {
        self.phase_end[4]
    }

    /// Whether it is running or starting (not draining, not gone).
    pub fn counts(&self) -> bool {
        !self.draining && self.gone_at.is_none()
    }
}

/// Timer tokens of a fleet: the metric period, an instance joining, a scheduled action.
pub const TICK: u32 = 0;
const JOIN: u32 = 1 << 30;
const SCHEDULE: u32 = 2 << 30;
const INDEX: u32 = (1 << 30) - 1;
/// The hourly size's change: a scheduled action's token with an index no action has (kinds on
/// a fleet keep the top bits 3 for timers of their own, e.g. a batch's deadline).
const HOURLY: u32 = SCHEDULE | INDEX;

/// What a fleet timer asks of its kind.
#[derive(Debug, PartialEq, Eq)]
pub enum FleetEvent {
    /// Nothing for the kind to do.
    None,
    /// Instance i joined: give it work.
    Joined(usize),
}

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct FleetCounts {
    pub scale_outs: u64,
    pub scale_ins: u64,
    pub launched: u64,
    pub terminated: u64,
    /// The most instances running or starting at once.
    pub max_instances: u32,
}

/// A running fleet.
pub struct Fleet {
    pub def: FleetDef,
    pub instances: Vec<Instance>,
    /// Indices of the instances not yet terminated, and counts kept as they change (no scan
    /// per event): running or starting and not draining; joined; not terminated.
    pub live: Vec<usize>,
    n_capacity: u32,
    n_serving: u32,
    n_running: u32,
    /// Requests that arrived (for the invocations metric), and areas over the period [ns ×
    /// requests]: requests in the pool and busy slots, up to `area_at`.
    arrivals: u64,
    in_pool: u64,
    busy: u64,
    area_pool: f64,
    area_busy: f64,
    area_at: u64,
    /// The same for the time-series window: busy slots and serving slots [ns × slots].
    win_busy: f64,
    win_slots: f64,
    /// Latest datapoints, newest last.
    datapoints: VecDeque<f64>,
    last_out: Option<u64>,
    last_step: Option<u64>,
    last_any: Option<u64>,
    /// Start of the first metric period whose datapoint was above the target (or the step
    /// threshold) [ns].
    first_breach: Option<u64>,
    min: u32,
    max: u32,
    pub counts: FleetCounts,
    /// Instance-seconds since warm-up, of any instance running or starting, up to `cost_at`.
    instance_secs: f64,
    cost_at: u64,
    since: u64,
    /// Launches not made because the run's `MAX_LAUNCHES` instance records were used up.
    launches_refused: u64,
}

impl Fleet {
    /// What the reader must know of this fleet's run: launches it could not make.
    pub fn warnings(&self, name: &str) -> Vec<String> {
        if self.launches_refused == 0 {
            return Vec::new();
        }
        vec![format!(
            "{name} launched {MAX_LAUNCHES} instances over the run, the most a run keeps records of; {} more launches were not made, so from then on it has fewer instances than its scaling asked for (shorten the run, or scale less often)",
            self.launches_refused
        )]
    }

    /// A fleet with its initial instances serving from time zero.
    pub fn new(def: &FleetDef) -> Fleet {
        let (min, max) = def.scaling.as_ref().map_or((0, MAX_INSTANCES), |s| (s.min, s.max));
        let warm = Instance {
            launched: 0,
            phase_end: [0; 5],
            busy: 0,
            joined: true,
            draining: false,
            gone_at: None,
            warm_at: Some(0),
            first_served: None,
        };
        Fleet {
            def: def.clone(),
            instances: vec![warm; def.initial as usize],
            live: (0..def.initial as usize).collect(),
            n_capacity: def.initial,
            n_serving: def.initial,
            n_running: def.initial,
            arrivals: 0,
            in_pool: 0,
            busy: 0,
            area_pool: 0.0,
            area_busy: 0.0,
            area_at: 0,
            win_busy: 0.0,
            win_slots: 0.0,
            datapoints: VecDeque::new(),
            last_out: None,
            last_step: None,
            last_any: None,
            first_breach: None,
            min,
            max,
            counts: FleetCounts { max_instances: def.initial, ..FleetCounts::default() },
            launches_refused: 0,
            instance_secs: 0.0,
            cost_at: 0,
            since: 0,
        }
    }

    /// First timers: the metric period and the scheduled actions.
    pub fn begin(&self, timers: &mut Vec<(SimTime, u32)>) {
        if let Some(s) = &self.def.scaling {
            timers.push((SimTime(s.period_ns), TICK));
            for (k, a) in s.scheduled.iter().enumerate() {
                timers.push((SimTime(a.0), SCHEDULE | k as u32));
            }
            if s.hourly.is_some() {
                timers.push((SimTime(0), HOURLY));
            }
        }
    }

    /// Instances running or starting.
    pub fn capacity(&self) -> u32 {
        self.n_capacity
    }

    /// Instances serving (joined, not gone).
    pub fn serving(&self) -> u32 {
        self.n_serving
    }

    /// A request arrived at the pool (`in_pool` +1).
    pub fn arrive(&mut self, now: u64) {
        self.advance_areas(now);
        self.arrivals += 1;
        self.in_pool += 1;
    }

    /// A request left the pool.
    pub fn leave(&mut self, now: u64) {
        self.advance_areas(now);
        self.in_pool = self.in_pool.saturating_sub(1);
    }

    /// A slot of instance `i` starts (`+1`) or ends (`−1`) serving.
    pub fn busy_change(&mut self, now: u64, i: usize, start: bool) {
        self.advance_areas(now);
        let inst = &mut self.instances[i];
        if start {
            inst.busy += 1;
            self.busy += 1;
        } else {
            inst.busy = inst.busy.saturating_sub(1);
            self.busy = self.busy.saturating_sub(1);
        }
    }

    fn advance_areas(&mut self, now: u64) {
        let dt = now.saturating_sub(self.area_at) as f64;
        self.area_pool += self.in_pool as f64 * dt;
        self.area_busy += self.busy as f64 * dt;
        self.win_busy += self.busy as f64 * dt;
        self.win_slots += (self.serving() * self.def.slots) as f64 * dt;
        self.area_at = now;
    }

    /// Busy slots ÷ serving slots over the window that ends now (NaN with none), and starts
    /// a new window.
    pub fn window_utilization(&mut self, now: u64) -> f64 {
        self.advance_areas(now);
        let u = if self.win_slots > 0.0 { self.win_busy / self.win_slots } else { f64::NAN };
        (self.win_busy, self.win_slots) = (0.0, 0.0);
        u
    }

    /// The extra wait of a request starting on instance `i` now [ns], for its first request's
    /// initialisation (drawn when it serves its first request without warm-up).
    pub fn cold_wait(&mut self, now: u64, i: usize, rng: &mut SimRng) -> u64 {
        let first = self.def.startup.first_request.as_ref();
        let inst = &mut self.instances[i];
        inst.first_served.get_or_insert(now);
        let warm_at = *inst.warm_at.get_or_insert_with(|| {
            let d = first.map_or(0.0, |d| d.sample(rng).max(0.0));
            now.saturating_add(SimTime::from_secs(d).0)
        });
        warm_at.saturating_sub(now)
    }

    /// A fleet timer fired.
    pub fn timer(&mut self, now: u64, token: u32, rng: &mut SimRng, timers: &mut Vec<(SimTime, u32)>) -> FleetEvent {
        match token & !INDEX {
            JOIN => {
                let i = (token & INDEX) as usize;
                let inst = &mut self.instances[i];
                if inst.gone_at.is_some() || inst.joined {
                    return FleetEvent::None;
                }
                self.advance_areas(now);
                self.instances[i].joined = true;
                self.n_serving += 1;
                FleetEvent::Joined(i)
            }
            SCHEDULE if token == HOURLY => {
                let Some(h) = self.def.scaling.as_ref().and_then(|s| s.hourly.clone()) else { return FleetEvent::None };
                let (size, next) = h.on_the_hour(SimTime(now).as_secs());
                timers.push((SimTime::from_secs(next), HOURLY));
                self.set_bounds(now, Some(size as u32), Some(size as u32), rng, timers);
                FleetEvent::None
            }
            SCHEDULE => {
                let k = (token & INDEX) as usize;
                let Some(s) = &self.def.scaling else { return FleetEvent::None };
                let (_, lo, hi) = s.scheduled[k];
                self.set_bounds(now, lo, hi, rng, timers);
                FleetEvent::None
            }
            _ => {
                self.tick(now, rng, timers);
                FleetEvent::None
            }
        }
    }

    /// New bounds (each if given): the fleet launches or retires instances to fit them.
    fn set_bounds(
        &mut self,
        now: u64,
        lo: Option<u32>,
        hi: Option<u32>,
        rng: &mut SimRng,
        timers: &mut Vec<(SimTime, u32)>,
    ) {
        self.min = lo.unwrap_or(self.min);
        self.max = hi.unwrap_or(self.max);
        let want = self.capacity().clamp(self.min, self.max.max(self.min));
        self.resize(now, want, rng, timers);
    }

    /// End of a metric period: a datapoint, the alarms, perhaps a scaling action.
    fn tick(&mut self, now: u64, rng: &mut SimRng, timers: &mut Vec<(SimTime, u32)>) {
        let Some(s) = self.def.scaling.clone() else { return };
        timers.push((SimTime(now + s.period_ns), TICK));
        self.advance_areas(now);
        let cap = self.capacity();
        let serving = self.serving();
        let per = if s.ignore_loading { serving } else { cap }.max(1) as f64;
        let period = s.period_ns as f64;
        let d = match s.metric {
            MetricKind::InvocationsPerInstance => self.arrivals as f64 / per * (60e9 / period),
            MetricKind::ConcurrencyPerInstance => self.area_pool / period / per,
            MetricKind::CpuUtilization => {
                let slots = (serving.max(1) * self.def.slots) as f64;
                100.0 * self.area_busy / period / slots
            }
        };
        (self.arrivals, self.area_pool, self.area_busy) = (0, 0.0, 0.0);
        let limit = s.target.or(s.steps.as_ref().map(|st| st.threshold)).unwrap_or(f64::INFINITY);
        if d > limit && self.first_breach.is_none() {
            self.first_breach = Some(now - s.period_ns);
        }
        let keep = s.out_m.max(s.in_m).max(s.steps.as_ref().map_or(0, |st| st.datapoints)) as usize;
        self.datapoints.push_back(d);
        while self.datapoints.len() > keep {
            self.datapoints.pop_front();
        }
        // N of the last M datapoints breach (M datapoints seen).
        let n_of_m = |n: u32, m: u32, f: &dyn Fn(f64) -> bool| {
            self.datapoints.len() >= m as usize
                && self.datapoints.iter().rev().take(m as usize).filter(|&&x| f(x)).count() >= n as usize
        };
        let last = |n: u32, f: &dyn Fn(f64) -> bool| n_of_m(n, n, f);
        let since = |t: Option<u64>, cool: u64| t.is_none_or(|t| now.saturating_sub(t) >= cool);
        let mut want = cap;
        if let Some(target) = s.target {
            // From zero instances, the metric is per one (requests waiting still count).
            let desired = (cap.max(1) as f64 * d / target).ceil().min(MAX_INSTANCES as f64) as u32;
            let out = n_of_m(s.out_n, s.out_m, &|x| x > target) && since(self.last_out, s.out_cool_ns) && desired > cap;
            let inward =
                n_of_m(s.in_n, s.in_m, &|x| x < 0.9 * target) && since(self.last_any, s.in_cool_ns) && desired < cap;
            if out || inward {
                want = desired;
            }
        }
        if let Some(st) = &s.steps
            && last(st.datapoints, &|x| x > st.threshold)
            && since(self.last_step, st.cooldown_ns)
        {
            let excess = d - st.threshold;
            let add = st.adjustments.iter().rev().find(|(from, _)| excess >= *from).map_or(0, |a| a.1);
            if add > 0 {
                want = want.max(cap.saturating_add(add));
                self.last_step = Some(now);
            }
        }
        let want = want.clamp(self.min, self.max.max(self.min));
        self.resize(now, want, rng, timers);
    }

    /// Launches or drains instances so that `want` are running or starting.
    fn resize(&mut self, now: u64, want: u32, rng: &mut SimRng, timers: &mut Vec<(SimTime, u32)>) {
        let cap = self.capacity();
        if want == cap {
            return;
        }
        self.accrue(now);
        self.last_any = Some(now);
        if want > cap {
            self.counts.scale_outs += 1;
            self.last_out = Some(now);
            for _ in cap..want {
                if self.instances.len() >= MAX_LAUNCHES {
                    self.launches_refused += 1;
                    continue;
                }
                let i = self.launch(now, rng);
                (self.n_capacity, self.n_running) = (self.n_capacity + 1, self.n_running + 1);
                self.live.push(i);
                timers.push((SimTime(self.instances[i].joins()), JOIN | i as u32));
            }
        } else {
            self.counts.scale_ins += 1;
            // Drain the newest first: instances still starting, then the least busy.
            let mut order: Vec<usize> = self.live.iter().copied().filter(|&i| self.instances[i].counts()).collect();
            order.sort_by_key(|&i| (self.instances[i].joined, self.instances[i].busy, std::cmp::Reverse(i)));
            for &i in order.iter().take((cap - want) as usize) {
                self.instances[i].draining = true;
                self.n_capacity -= 1;
                if self.instances[i].busy == 0 {
                    self.retire(now, i);
                }
            }
        }
        self.counts.max_instances = self.counts.max_instances.max(self.capacity());
    }

    /// A new instance, starting now.
    fn launch(&mut self, now: u64, rng: &mut SimRng) -> usize {
        let st = &self.def.startup;
        let mut t = now;
        let mut ends = [0u64; 5];
        for (k, d) in st.phases.iter().enumerate() {
            let mut secs = d.as_ref().map_or(0.0, |d| d.sample(rng).max(0.0));
            if k == 3 {
                secs /= self.def.load_speed;
            }
            t = t.saturating_add(SimTime::from_secs(secs).0);
            ends[k] = t;
        }
        let mut warm_at = None;
        if st.warm_up {
            let secs = st.first_request.as_ref().map_or(0.0, |d| d.sample(rng).max(0.0));
            t = t.saturating_add(SimTime::from_secs(secs).0);
            warm_at = Some(t);
        }
        ends[4] = t;
        self.instances.push(Instance {
            launched: now,
            phase_end: ends,
            busy: 0,
            joined: false,
            draining: false,
            gone_at: None,
            warm_at,
            first_served: None,
        });
        self.counts.launched += 1;
        self.instances.len() - 1
    }

    /// Instance `i` (draining, idle) is terminated.
    pub fn retire(&mut self, now: u64, i: usize) {
        self.advance_areas(now);
        self.accrue(now);
        self.instances[i].gone_at = Some(now);
        self.n_running -= 1;
        if self.instances[i].joined {
            self.n_serving -= 1;
        }
        if let Some(k) = self.live.iter().position(|&j| j == i) {
            self.live.swap_remove(k);
        }
        self.counts.terminated += 1;
    }

    /// Adds instance-seconds up to `now`.
    fn accrue(&mut self, now: u64) {
        let dt = now.saturating_sub(self.cost_at) as f64 * 1e-9;
        self.instance_secs += self.n_running as f64 * dt;
        self.cost_at = now;
    }

    /// Instance-hours since warm-up, up to `now`.
    pub fn instance_hours(&self, now: u64) -> f64 {
        let dt = now.saturating_sub(self.cost_at) as f64 * 1e-9;
        (self.instance_secs + self.n_running as f64 * dt) / 3600.0
    }

    /// Instance cost since warm-up [USD].
    pub fn cost_usd(&self, now: u64) -> Option<f64> {
        self.def.price.map(|p| p.usd(self.instance_hours(now)))
    }

    /// End of warm-up.
    pub fn restart_stats(&mut self, now: u64) {
        self.accrue(now);
        self.instance_secs = 0.0;
        self.since = now;
        self.counts = FleetCounts { max_instances: self.capacity(), ..FleetCounts::default() };
    }

    /// Instances now by state: provisioning (host and image pull), loading (model download,
    /// load and warm-up), serving (joined, draining included).
    pub fn census(&self, now: u64) -> [u32; 3] {
        let mut c = [0; 3];
        for i in self.live.iter().map(|&k| &self.instances[k]) {
            let k = if i.joined {
                2
            } else if now < i.phase_end[1] {
                0
            } else {
                1
            };
            c[k] += 1;
        }
        c
    }

    /// The time-series columns of a kind serving on a fleet ([`Fleet::window`]).
    pub const COLUMNS: &'static [&'static str] =
        &["instances_provisioning", "instances_loading", "instances_serving", "waiting", "utilization"];

    /// Appends the [`Fleet::COLUMNS`] values for the window ending at `now`, with `waiting`
    /// requests, and starts a new window.
    pub fn window(&mut self, now: u64, waiting: u64, out: &mut Vec<f64>) {
        let [p, l, s] = self.census(now);
        out.extend([p as f64, l as f64, s as f64, waiting as f64, self.window_utilization(now)]);
    }

    /// A kind's own counters `v` (a JSON object) with the fleet's figures added.
    pub fn summary_with(&self, mut v: serde_json::Value, now: u64) -> serde_json::Value {
        if let (serde_json::Value::Object(o), serde_json::Value::Object(f)) = (&mut v, self.summary(now)) {
            o.extend(f);
        }
        v
    }

    /// From the first breach `b` [ns] to when the first instance launched after it is warm [s]:
    /// joined, and past its first request's initialisation (at once with warm-up). None while
    /// no such instance has served a request.
    fn warm_reaction(&self, b: u64) -> Option<f64> {
        let warm = |i: &Instance| Some(i.warm_at?.max(i.joins()));
        let first =
            self.instances.iter().filter(|i| i.phase_end[4] > 0 && i.launched >= b).min_by_key(|i| i.joins())?;
        Some(warm(first)?.saturating_sub(b) as f64 * 1e-9)
    }

    /// Its figures since warm-up, at `now`.
    pub fn summary(&self, now: u64) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        let [provisioning, loading, serving] = self.census(now);
        v["instance_type"] = serde_json::json!(self.def.type_name);
        v["instances_serving"] = serde_json::json!(serving);
        v["instances_starting"] = serde_json::json!(provisioning + loading);
        let hours = self.instance_hours(now);
        let secs = now.saturating_sub(self.since) as f64 * 1e-9;
        v["instance_hours"] = serde_json::json!(hours);
        v["mean_instances"] = serde_json::json!((secs > 0.0).then(|| hours * 3600.0 / secs));
        v["cost_usd"] = serde_json::json!(self.cost_usd(now));
        let s = |t: u64| t as f64 * 1e-9;
        let launched: Vec<&Instance> = self.instances.iter().filter(|i| i.phase_end[4] > 0).collect();
        let startup: f64 = launched.iter().map(|i| s(i.joins() - i.launched)).sum();
        let n = launched.len() as f64;
        v["mean_startup_s"] = serde_json::json!((n > 0.0).then(|| startup / n));
        v["first_breach_s"] = serde_json::json!(self.first_breach.map(s));
        let reaction = self.first_breach.and_then(|b| {
            let first = launched.iter().filter(|i| i.launched >= b).min_by_key(|i| i.joins())?;
            Some(s(first.joins() - b))
        });
        v["reaction_s"] = serde_json::json!(reaction);
        v["reaction_warm_s"] = serde_json::json!(self.first_breach.and_then(|b| self.warm_reaction(b)));
        let launches: Vec<serde_json::Value> = self
            .instances
            .iter()
            .filter(|i| i.phase_end[4] > 0 || i.launched > 0)
            .take(LAUNCHES_SHOWN)
            .map(|i| {
                serde_json::json!({
                    "launched_s": s(i.launched),
                    "provisioned_s": s(i.phase_end[0]),
                    "image_pulled_s": s(i.phase_end[1]),
                    "model_downloaded_s": s(i.phase_end[2]),
                    "model_loaded_s": s(i.phase_end[3]),
                    "joined_s": s(i.phase_end[4]),
                    "first_request_s": i.first_served.map(s),
                    "terminated_s": i.gone_at.map(s),
                })
            })
            .collect();
        v["launches"] = serde_json::json!(launches);
        v
    }
}
