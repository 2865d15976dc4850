//! `summary.json`: the figures of one run after warm-up. Field names are a contract that
//! scripts rely on; every field is documented in docs/metrics.md.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::components::service::StationSummary;
use crate::cost::{CostSummary, Driver};
use crate::metrics::{LatencySummary, PathPart};
use crate::model::Model;
use crate::model::program::Origin;
use crate::report::alarms::{
    AlarmRun, AlarmSummary, evaluate, summaries as alarm_summaries, warnings as alarm_warnings,
};
use crate::report::recovery::{Recovery, recovery};
use crate::report::services::{PolicyCounts, ServiceSummary, worst_window_p99s};
use crate::report::warnings::warnings;
use crate::sim::world::Counts;
use crate::sim::{FinishedRun, World};

/// How the run ended (`status`): the simulation's own [`crate::sim::Status`], named here too
/// beside the other types of summary.json.
pub use crate::sim::Status;

/// The whole summary.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub model: String,
    pub seed: u64,
    pub status: Status,
    /// Simulated time covered, warm-up included [s].
    pub simulated_s: f64,
    pub warmup_s: f64,
    /// Simulated time over which the statistics below were gathered [s].
    pub measured_s: f64,
    pub engine: EngineSummary,
    pub requests: RequestSummary,
    pub latency_s: LatencyBlock,
    pub stations: BTreeMap<String, StationSummary>,
    /// Every token bucket: requests admitted and refused (throttled).
    pub limits: BTreeMap<String, LimitSummary>,
    /// Every service (stations included): calls, outcomes, policy actions, latency.
    pub services: BTreeMap<String, ServiceSummary>,
    /// How much of the answered requests' end-to-end latency each service (and `client`: time
    /// outside any service) accounts for, on average and in the p99 tail (null if none answered).
    pub critical_path: BTreeMap<String, PathPart>,
    pub sessions: BTreeMap<String, SessionSummary>,
    pub cost_usd: CostSummary,
    /// Recovery after the model's fault windows (only for models with faults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
    /// The model's alarms over the run's windows after warm-up (only for models with alarms).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub alarms: BTreeMap<String, AlarmSummary>,
    /// Each of `run.phases` (only for models with phases).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub phases: BTreeMap<String, PhaseSummary>,
    /// Things a reader of these figures must know, e.g. queues still growing at the end.
    pub warnings: Vec<String>,
}

/// One of `run.phases`: requests that arrived in it, and the outcomes and latencies of those
/// that ended in it (warm-up or not).
#[derive(Clone, Debug, Serialize)]
pub struct PhaseSummary {
    /// The interval [s]; `to_s` is the run's end if it stopped before.
    pub from_s: f64,
    pub to_s: f64,
    pub arrived: u64,
    pub completed: u64,
    pub degraded: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Answers (completed + degraded) per second of the phase [1/s].
    pub throughput_per_s: f64,
    /// (rejected + failed) ÷ the requests that ended in the phase (0–1; null if none).
    pub error_share: f64,
    /// End-to-end latency and time to first token of its answers [s].
    pub latency_s: PhaseLatency,
}

/// Latencies of a phase's answers [s].
#[derive(Clone, Debug, Serialize)]
pub struct PhaseLatency {
    pub e2e: LatencySummary,
    pub first_token: LatencySummary,
}

/// Engine figures.
#[derive(Clone, Debug, Serialize)]
pub struct EngineSummary {
    /// Events processed over the whole run, warm-up included.
    pub events: u64,
    /// Wall-clock time of the run [s]; the only field that differs between identical runs.
    pub wall_s: f64,
}

/// Top-level request counts after warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct RequestSummary {
    pub arrived: u64,
    /// Answered with no fallback on the path.
    pub completed: u64,
    /// Answered through a fallback somewhere on the path.
    pub degraded: u64,
    /// Of the answered (completed + degraded), those a `guardrail` on the path blocked: the
    /// user got a safe refusal.
    pub blocked: u64,
    pub rejected: u64,
    pub failed: u64,
    /// In the system when the run ended.
    pub in_flight: u64,
    /// In the system when the warm-up ended; arrived + carried_in = completed + degraded +
    /// rejected + failed + in_flight.
    pub carried_in: u64,
    /// Answered (completed + degraded) per second of measured time [1/s].
    pub throughput_per_s: f64,
    /// Shares of the requests of the measured period (arrived + carried_in) that completed,
    /// degraded, were rejected, failed (0–1; with in_flight / (arrived + carried_in) they add up to 1).
    pub completed_share: f64,
    pub degraded_share: f64,
    pub rejected_share: f64,
    pub failed_share: f64,
    /// (rejected + failed) ÷ the requests that ended in the measured period (completed,
    /// degraded, rejected or failed): a load test's failure ratio (0–1; null if none ended).
    pub error_share: f64,
    /// The same counts per class, and per intent (empty when the model has no intents).
    pub by_class: BTreeMap<String, Counts>,
    pub by_intent: BTreeMap<String, Counts>,
}

/// End-to-end latency, overall and per class [s].
#[derive(Clone, Debug, Serialize)]
pub struct LatencyBlock {
    pub e2e: LatencySummary,
    pub by_class: BTreeMap<String, LatencySummary>,
    /// Per intent (empty when the model has no intents).
    pub by_intent: BTreeMap<String, LatencySummary>,
    /// Time to first token: from arrival to the first token of a streamed answer (an `llm`
    /// with `stream`), or to the whole answer when none streamed; overall, per class, per
    /// intent.
    pub first_token: LatencySummary,
    pub first_token_by_class: BTreeMap<String, LatencySummary>,
    pub first_token_by_intent: BTreeMap<String, LatencySummary>,
}

/// A closed-loop population after warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct SessionSummary {
    pub users: u32,
    pub sessions_started: u64,
    pub sessions_completed: u64,
    /// Messages sent.
    pub messages: u64,
    /// Active users × minutes over the measured period (all `users`, or the `users_profile`'s
    /// integral) [user-minutes].
    pub user_minutes: f64,
    /// `user_minutes` ÷ measured minutes: the mean number of active users [users].
    pub mean_active_users: f64,
}

impl Summary {
    /// summary.json of a finished run of `model`: the world's figures, each service's worst
    /// window, the recovery after the model's fault windows, the `alarms` (evaluated on the
    /// run's windows by the caller) and the warnings.
    pub fn build(model: &Model, run: &FinishedRun, alarms: &[AlarmRun]) -> Summary {
        let mut s = Summary::figures(model, &run.world, run.status.clone(), run.wall_s);
        let rows = run.world.windows.rows();
        worst_window_p99s(model, rows, &mut s.services);
        s.recovery = recovery(model, rows, run.end().as_secs());
        s.alarms = alarm_summaries(alarms, run.end().as_secs());
        s.warnings = warnings(run, rows);
        s.warnings.extend(
            s.recovery.as_ref().and_then(|r| r.unmeasured.as_ref()).map(|w| format!("recovery not measured: {w}")),
        );
        s.warnings.extend(alarm_warnings(alarms));
        s
    }

    /// The summary of a world that has not run: every field present, all zero. Used to check
    /// that metric paths exist before running anything.
    pub fn skeleton(model: &Model) -> Summary {
        let mut s = Summary::figures(model, &World::new(model), Status::Completed, 0.0);
        s.recovery = recovery(model, &[], 0.0);
        s.alarms = alarm_summaries(&evaluate(model, &[]), 0.0);
        s
    }

    /// The figures read off world `w` at its clock (recovery and warnings left empty).
    fn figures(model: &Model, w: &World, status: Status, wall_s: f64) -> Summary {
        let now = w.ctx.now;
        // Zero when the run ended before the warm-up did; rates over it are then NaN (null).
        let measured_s = now.since(model.warmup) as f64 / 1e9;
        let t = &w.totals;
        let stations = w
            .services
            .iter()
            .filter(|s| s.def.origin == Origin::Station)
            .map(|s| (s.def.name.clone(), s.summary(now)))
            .collect();
        let sessions = w
            .sessions
            .iter()
            .map(|s| {
                let sum = SessionSummary {
                    users: s.def.users,
                    sessions_started: s.sessions_started,
                    sessions_completed: s.sessions_completed,
                    messages: s.messages,
                    user_minutes: s.user_minutes(model.warmup.as_secs(), now.as_secs()),
                    mean_active_users: if measured_s > 0.0 {
                        s.user_minutes(model.warmup.as_secs(), now.as_secs()) * 60.0 / measured_s
                    } else {
                        f64::NAN
                    },
                };
                (s.def.name.clone(), sum)
            })
            .collect();
        // With one class, per-class figures are the overall ones (not recorded twice).
        let intent_names: Vec<String> = model.workload.intents.iter().map(|i| i.name.clone()).collect();
        let by_class = match t.by_class.len() {
            1 => BTreeMap::from([(model.classes[0].clone(), t.e2e.summary())]),
            _ => model.classes.iter().cloned().zip(t.by_class.iter().map(|l| l.summary())).collect(),
        };
        let first_token_by_class = match t.first_token_by_class.len() {
            0 => BTreeMap::from([(model.classes[0].clone(), t.first_token.summary())]),
            _ => model.classes.iter().cloned().zip(t.first_token_by_class.iter().map(|l| l.summary())).collect(),
        };
        Summary {
            model: model.spec.name.clone(),
            seed: model.seed,
            status,
            simulated_s: now.as_secs(),
            warmup_s: model.warmup.as_secs(),
            measured_s,
            engine: EngineSummary { events: w.ctx.events, wall_s },
            requests: RequestSummary {
                arrived: t.all.arrived,
                completed: t.all.completed,
                degraded: t.all.degraded,
                blocked: t.all.blocked,
                rejected: t.all.rejected,
                failed: t.all.failed,
                in_flight: t.all.in_flight,
                carried_in: t.carried_in,
                throughput_per_s: if measured_s > 0.0 {
                    (t.all.completed + t.all.degraded) as f64 / measured_s
                } else {
                    f64::NAN
                },
                completed_share: share(t.all.completed, t.all.arrived + t.carried_in),
                degraded_share: share(t.all.degraded, t.all.arrived + t.carried_in),
                rejected_share: share(t.all.rejected, t.all.arrived + t.carried_in),
                failed_share: share(t.all.failed, t.all.arrived + t.carried_in),
                error_share: share(
                    t.all.rejected + t.all.failed,
                    t.all.completed + t.all.degraded + t.all.rejected + t.all.failed,
                ),
                by_class: if t.class_counts.is_empty() {
                    BTreeMap::from([(model.classes[0].clone(), t.all)])
                } else {
                    model.classes.iter().cloned().zip(t.class_counts.iter().copied()).collect()
                },
                by_intent: intent_names.iter().cloned().zip(t.intent_counts.iter().copied()).collect(),
            },
            latency_s: LatencyBlock {
                e2e: t.e2e.summary(),
                by_class,
                by_intent: intent_names.iter().cloned().zip(t.by_intent.iter().map(|l| l.summary())).collect(),
                first_token: t.first_token.summary(),
                first_token_by_class,
                first_token_by_intent: intent_names
                    .iter()
                    .cloned()
                    .zip(t.first_token_by_intent.iter().map(|l| l.summary()))
                    .collect(),
            },
            stations,
            limits: model
                .program
                .limits
                .iter()
                .zip(&w.limiters)
                .map(|(d, l)| {
                    let sum = LimitSummary {
                        admitted: l.admitted,
                        refused: l.refused,
                        refused_share: share(l.refused, l.admitted + l.refused),
                    };
                    (d.name.clone(), sum)
                })
                .collect(),
            services: services(model, w, now),
            critical_path: critical_path(model, w),
            sessions,
            cost_usd: cost(model, w, measured_s),
            recovery: None,
            alarms: BTreeMap::new(),
            phases: model.phases.iter().zip(&w.phases).map(|(d, p)| (d.name.clone(), phase(p, now))).collect(),
            warnings: Vec::new(),
        }
    }
}

/// A token bucket's counts after warm-up.
#[derive(Clone, Debug, Serialize)]
pub struct LimitSummary {
    pub admitted: u64,
    pub refused: u64,
    /// refused / (admitted + refused); null with no request.
    pub refused_share: f64,
}

/// `part / whole`, NaN (null) when `whole` is 0.
/// The summary of one phase, `now` being the run's end.
fn phase(p: &crate::sim::world::PhaseTotals, now: crate::engine::SimTime) -> PhaseSummary {
    let to = p.to.min(now).max(p.from);
    let secs = to.since(p.from) as f64 * 1e-9;
    let answered = p.completed + p.degraded;
    PhaseSummary {
        from_s: p.from.as_secs(),
        to_s: to.as_secs(),
        arrived: p.arrived,
        completed: p.completed,
        degraded: p.degraded,
        rejected: p.rejected,
        failed: p.failed,
        throughput_per_s: if secs > 0.0 { answered as f64 / secs } else { f64::NAN },
        error_share: share(p.rejected + p.failed, answered + p.rejected + p.failed),
        latency_s: PhaseLatency { e2e: p.e2e.summary(), first_token: p.first_token.summary() },
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { f64::NAN } else { part as f64 / whole as f64 }
}

/// The critical-path parts by service name (and `client`).
fn critical_path(model: &Model, w: &World) -> BTreeMap<String, PathPart> {
    let p99 = w.totals.e2e.quantile_s(0.99);
    let none = PathPart { mean_s: f64::NAN, share: f64::NAN, p99_tail_s: f64::NAN };
    let parts = w.totals.critical.parts(p99).unwrap_or_else(|| vec![none; model.program.services.len() + 1]);
    let names = model.program.services.iter().map(|s| s.name.clone()).chain(std::iter::once("client".to_string()));
    names.zip(parts).collect()
}

/// Every service's summary, with the breaker and budget counters of calls to it.
fn services(model: &Model, w: &World, now: crate::engine::SimTime) -> BTreeMap<String, ServiceSummary> {
    let p = &model.program;
    let mut counts = vec![PolicyCounts::default(); w.services.len()];
    for (b, &(_, svc)) in w.breakers.iter().zip(&p.breakers) {
        counts[svc as usize].short_circuits += b.short_circuits;
        counts[svc as usize].breaker_opened += b.opened;
    }
    for (b, &(_, svc)) in w.budgets.iter().zip(&p.budgets) {
        counts[svc as usize].budget_refusals += b.refused;
    }
    let mut out: BTreeMap<String, ServiceSummary> =
        w.services.iter().zip(counts).map(|(s, c)| (s.def.name.clone(), ServiceSummary::build(s, now, c))).collect();
    for ((service, def), kind) in model.program.kinds.iter().zip(&w.kinds) {
        if let Some(s) = out.get_mut(&model.program.services[*service as usize].name) {
            s.kind.insert(def.name(), kind.summary(now));
        }
    }
    out
}

/// Cost of every block and population with cost lines, over the measured period.
fn cost(model: &Model, w: &World, measured_s: f64) -> CostSummary {
    let mut by = BTreeMap::new();
    for s in w.services.iter().filter(|s| s.has_cost()) {
        by.insert(s.def.name.clone(), s.cost_usd(measured_s));
    }
    let now = w.ctx.now;
    for ((service, _), kind) in model.program.kinds.iter().zip(&w.kinds) {
        if let Some(usd) = kind.cost_usd(now) {
            *by.entry(model.program.services[*service as usize].name.clone()).or_insert(0.0) += usd;
        }
    }
    for (d, passed) in model.program.delays.iter().zip(&w.delay_passed).filter(|(d, _)| !d.cost.is_empty()) {
        let usd = d.cost.iter().map(|l| l.usd(if l.driver == Driver::Requests { *passed as f64 } else { 0.0 })).sum();
        by.insert(d.name.clone(), usd);
    }
    let (from, to) = (model.warmup.as_secs(), now.as_secs());
    for s in w.sessions.iter().filter(|s| !s.def.cost.is_empty()) {
        by.insert(s.def.name.clone(), s.cost_usd(from, to));
    }
    let user_minutes = (!w.sessions.is_empty()).then(|| w.sessions.iter().map(|s| s.user_minutes(from, to)).sum());
    CostSummary::new(by, measured_s, w.totals.all.completed, user_minutes)
}
