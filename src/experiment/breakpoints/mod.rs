//! "What breaks first": a model run at a row of load values, each component's "limit crossed"
//! signals averaged over replications at every load, and for each limit the load where it is
//! first crossed — the components ordered by the load at which they break (`capsim
//! breakpoints`).

pub mod alarm_hits;
pub mod chart;
pub mod crossing;
pub mod output;
pub mod scans;
pub mod signals;

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::stats::t_interval;
use alarm_hits::AlarmPoints;
pub use alarm_hits::{AlarmHit, AlarmMeta};
use crossing::How;
use signals::{Component, LIMITS};

/// What one run gives: every signal (per component, per limit) and every alarm (fired, first
/// start [s]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReading {
    pub signals: Vec<Vec<Option<f64>>>,
    pub alarms: Vec<alarm_hits::AlarmReading>,
}

/// A limit crossed by a component.
#[derive(Clone, Debug, Serialize)]
pub struct Crossing {
    /// 1 for the first limit crossed as load grows.
    pub order: usize,
    pub component: String,
    pub kind: String,
    /// The limit's id (`llm.quota`) and its words at the threshold used.
    pub limit: String,
    pub words: String,
    /// The summary figure it reads.
    pub metric: String,
    pub threshold: f64,
    /// The load where it is crossed, and how that was found.
    pub load: f64,
    pub how: How,
    /// The first load point where it holds, and the load before it (None at the lowest load):
    /// the limit lies between the two.
    pub point_load: f64,
    pub load_below: Option<f64>,
    pub value: f64,
    /// The component's first alarm to fire, if the model has one for it.
    pub alarm: Option<AlarmHit>,
}

/// A component that crossed none of its limits at any load run.
#[derive(Clone, Debug, Serialize)]
pub struct Holding {
    pub component: String,
    pub kind: String,
    /// The highest load run.
    pub holds_to: f64,
    pub alarm: Option<AlarmHit>,
}

/// One signal at one load point, for points.csv.
#[derive(Clone, Debug, Serialize)]
pub struct PointValue {
    pub load: f64,
    pub component: String,
    pub limit: String,
    /// Mean over replications (None: no run had the figure) and its 95 % half-width.
    pub mean: Option<f64>,
    pub ci95: Option<f64>,
    /// Replications with the figure.
    pub n: usize,
    pub holds: bool,
}

/// A threshold in force.
#[derive(Clone, Debug, Serialize)]
pub struct Threshold {
    pub limit: String,
    pub threshold: f64,
    pub words: String,
    pub reason: String,
}

/// An alarm that watches no component, at the load where it first fires.
#[derive(Clone, Debug, Serialize)]
pub struct SystemAlarm {
    pub name: String,
    pub severity: String,
    /// None: it never fired at any load run.
    pub load: Option<f64>,
    pub first_start_s: Option<f64>,
}

/// breakpoints.json.
#[derive(Clone, Debug, Serialize)]
pub struct Breakpoints {
    pub model: String,
    /// The varied path, and the load axis' label.
    pub vary: String,
    pub load_label: String,
    pub loads: Vec<f64>,
    pub replications: usize,
    pub seed: u64,
    /// Every limit crossed, lowest load first.
    pub crossings: Vec<Crossing>,
    /// Components that held at every load.
    pub holding: Vec<Holding>,
    pub system_alarms: Vec<SystemAlarm>,
    pub thresholds: Vec<Threshold>,
    pub points: Vec<PointValue>,
}

/// Mean and 95 % half-width of the values present (None when none is).
fn mean_of(xs: &[Option<f64>]) -> (Option<f64>, Option<f64>, usize) {
    let v: Vec<f64> = xs.iter().flatten().copied().collect();
    if v.is_empty() {
        return (None, None, 0);
    }
    let i = t_interval(&v, 0.95);
    (Some(i.mean), i.half_width.is_finite().then_some(i.half_width), v.len())
}

/// The mean signal of component `c`'s `j`-th limit at every point (`runs[point][rep]`), divided
/// by its mean at the lowest load for a relative limit; with the 95 % half-widths and counts.
fn series(runs: &[Vec<RunReading>], c: usize, j: usize, relative: bool) -> Vec<(Option<f64>, Option<f64>, usize)> {
    let raw: Vec<_> =
        runs.iter().map(|reps| mean_of(&reps.iter().map(|r| r.signals[c][j]).collect::<Vec<_>>())).collect();
    if !relative {
        return raw;
    }
    let base = raw.first().and_then(|r| r.0).filter(|b| *b > 0.0);
    raw.into_iter().map(|(m, h, n)| (base.and_then(|b| Some(m? / b)), base.and_then(|b| Some(h? / b)), n)).collect()
}

/// What a scan needs of the model besides the readings: its name, components and alarms (kept in
/// an experiment's sweep.json, so shards merge without the model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub model: String,
    pub components: Vec<Component>,
    pub alarms: Vec<AlarmMeta>,
}

impl Plan {
    /// The plan of `model`.
    pub fn of(model: &Model) -> Plan {
        Plan {
            model: model.spec.name.clone(),
            components: signals::components(model),
            alarms: alarm_hits::metas(model),
        }
    }

    /// Reads one run; `summary` is its summary as JSON.
    pub fn read(
        &self,
        model: &Model,
        out: &crate::report::output::RunOutput,
        summary: &serde_json::Value,
    ) -> RunReading {
        RunReading {
            signals: signals::read_run(model, out, summary, &self.components),
            alarms: signals::read_alarms(out),
        }
    }
}

/// The inputs of [`analyse`] besides the readings.
pub struct Setup<'a> {
    pub plan: &'a Plan,
    pub vary: String,
    pub load_label: String,
    pub loads: Vec<f64>,
    pub replications: usize,
    pub seed: u64,
    /// The threshold of each limit, parallel to [`LIMITS`].
    pub thresholds: Vec<f64>,
}

/// The crossings of every component's limits over `runs[point][rep]`.
pub fn analyse(s: &Setup, runs: &[Vec<RunReading>]) -> Breakpoints {
    let components = &s.plan.components;
    let alarms: AlarmPoints = alarm_hits::by_point(s.plan.alarms.len(), runs);
    let (mut crossings, mut points, mut holding) = (Vec::new(), Vec::new(), Vec::new());
    for (ci, c) in components.iter().enumerate() {
        let alarm = alarm_hits::first_of(&s.plan.alarms, &s.loads, &alarms, &c.name);
        let before = crossings.len();
        for (j, &li) in c.limits.iter().enumerate() {
            let def = &LIMITS[li];
            let t = s.thresholds[li];
            let values = series(runs, ci, j, def.relative);
            for (k, v) in values.iter().enumerate() {
                let holds = v.0.is_some_and(|x| def.holds(x, t));
                points.push(PointValue {
                    load: s.loads[k],
                    component: c.name.clone(),
                    limit: def.id.into(),
                    mean: v.0,
                    ci95: v.1,
                    n: v.2,
                    holds,
                });
            }
            let means: Vec<Option<f64>> = values.iter().map(|v| v.0).collect();
            if let Some(f) = crossing::find(&s.loads, &means, t, def.strict, def.continuous) {
                crossings.push(Crossing {
                    order: 0,
                    component: c.name.clone(),
                    kind: c.kind.clone(),
                    limit: def.id.into(),
                    words: def.in_words(t),
                    metric: def.metric_of(&c.name),
                    threshold: t,
                    load: f.load,
                    how: f.how,
                    point_load: s.loads[f.point],
                    load_below: f.point.checked_sub(1).map(|k| s.loads[k]),
                    value: means[f.point].unwrap_or(f64::NAN),
                    alarm: alarm.clone(),
                });
            }
        }
        if crossings.len() == before {
            let holds_to = s.loads.last().copied().unwrap_or(f64::NAN);
            holding.push(Holding { component: c.name.clone(), kind: c.kind.clone(), holds_to, alarm });
        }
    }
    order(&mut crossings, components);
    Breakpoints {
        model: s.plan.model.clone(),
        vary: s.vary.clone(),
        load_label: s.load_label.clone(),
        loads: s.loads.clone(),
        replications: s.replications,
        seed: s.seed,
        crossings,
        holding,
        system_alarms: system_alarms(s, &alarms),
        thresholds: thresholds(&s.thresholds),
        points,
    }
}

/// Lowest load first; ties in the components' order, then the limits'.
fn order(crossings: &mut [Crossing], components: &[Component]) {
    let rank = |c: &Crossing| {
        let ci = components.iter().position(|x| x.name == c.component).unwrap_or(usize::MAX);
        (ci, signals::limit_index(&c.limit).unwrap_or(usize::MAX))
    };
    crossings.sort_by(|a, b| a.load.total_cmp(&b.load).then(rank(a).cmp(&rank(b))));
    for (i, c) in crossings.iter_mut().enumerate() {
        c.order = i + 1;
    }
}

fn system_alarms(s: &Setup, alarms: &AlarmPoints) -> Vec<SystemAlarm> {
    alarm_hits::unowned(&s.plan.alarms, &s.loads, alarms)
        .into_iter()
        .map(|(name, severity, hit)| SystemAlarm {
            name,
            severity,
            load: hit.as_ref().map(|h| h.load),
            first_start_s: hit.and_then(|h| h.first_start_s),
        })
        .collect()
}

fn thresholds(t: &[f64]) -> Vec<Threshold> {
    LIMITS
        .iter()
        .zip(t)
        .map(|(l, &t)| Threshold { limit: l.id.into(), threshold: t, words: l.in_words(t), reason: l.reason.into() })
        .collect()
}
