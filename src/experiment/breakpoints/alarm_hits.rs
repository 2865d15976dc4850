//! The model's alarms along the load axis: at which load each first fires (in at least half of
//! the replications), and which component it watches (the service whose `<service>.<column>`
//! it reads; run-wide columns such as `p99_s` or `failures` watch none).

use serde::{Deserialize, Serialize};

use crate::model::Model;

/// What the scan needs of one of the model's alarms: its name, severity and the component it
/// watches (None: a run-wide column).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmMeta {
    pub name: String,
    pub severity: String,
    pub component: Option<String>,
}

/// The model's alarms, in its order.
pub fn metas(model: &Model) -> Vec<AlarmMeta> {
    (0..model.alarms.len())
        .map(|a| AlarmMeta {
            name: model.alarms[a].name.clone(),
            severity: model.alarms[a].severity.clone(),
            component: component_of(model, a),
        })
        .collect()
}

/// An alarm at the lowest load where it fires.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlarmHit {
    pub name: String,
    pub severity: String,
    /// The lowest load point where it fired in at least half of the replications.
    pub load: f64,
    /// Mean over those replications of when it first went to ALARM [s of simulated time].
    pub first_start_s: Option<f64>,
}

/// One alarm in one run, or at one point: whether it fired (at a point: in at least half of the
/// replications) and when it first went to ALARM [s] (at a point: the mean over the
/// replications where it fired).
pub type AlarmReading = (bool, Option<f64>);

/// Per alarm of the model (its order), per point.
pub type AlarmPoints = Vec<Vec<AlarmReading>>;

/// Folds the alarms of `runs[point][rep]` into [`AlarmPoints`].
pub fn by_point(alarms: usize, runs: &[Vec<super::RunReading>]) -> AlarmPoints {
    (0..alarms)
        .map(|a| {
            runs.iter()
                .map(|reps| {
                    let fired: Vec<f64> = reps.iter().filter(|r| r.alarms[a].0).filter_map(|r| r.alarms[a].1).collect();
                    let most = 2 * reps.iter().filter(|r| r.alarms[a].0).count() >= reps.len() && !reps.is_empty();
                    let mean = (!fired.is_empty()).then(|| fired.iter().sum::<f64>() / fired.len() as f64);
                    (most, mean)
                })
                .collect()
        })
        .collect()
}

/// The component an alarm watches: the service named before the first `.` of its metric column,
/// if the model has that service.
fn component_of(model: &Model, alarm: usize) -> Option<String> {
    let (service, _) = model.alarms[alarm].metric.0.split_once('.')?;
    model.program.services.iter().any(|s| s.name == service).then(|| service.to_string())
}

/// Alarm `a` at the lowest load where it fires, if it ever does.
fn hit(alarms: &[AlarmMeta], loads: &[f64], points: &AlarmPoints, a: usize) -> Option<AlarmHit> {
    let k = points[a].iter().position(|p| p.0)?;
    let def = &alarms[a];
    Some(AlarmHit {
        name: def.name.clone(),
        severity: def.severity.clone(),
        load: loads[k],
        first_start_s: points[a][k].1,
    })
}

/// The first alarm of `component` to fire: at the lowest load, ties broken by the earliest first
/// start, then by the model's order. The whole system's are the alarms on run-wide columns.
pub fn first_of(alarms: &[AlarmMeta], loads: &[f64], points: &AlarmPoints, component: &str) -> Option<AlarmHit> {
    let owner = |a: usize| alarms[a].component.as_deref().unwrap_or(super::signals::SYSTEM);
    let mine = (0..alarms.len()).filter(|&a| owner(a) == component);
    mine.filter_map(|a| hit(alarms, loads, points, a)).min_by(|x, y| {
        let start = |h: &AlarmHit| h.first_start_s.unwrap_or(f64::INFINITY);
        x.load.total_cmp(&y.load).then(start(x).total_cmp(&start(y)))
    })
}

/// Every alarm that watches no component, at the load where it first fires (None: never), in
/// the model's order.
pub fn unowned(alarms: &[AlarmMeta], loads: &[f64], points: &AlarmPoints) -> Vec<(String, String, Option<AlarmHit>)> {
    (0..alarms.len())
        .filter(|&a| alarms[a].component.is_none())
        .map(|a| {
            let def = &alarms[a];
            (def.name.clone(), def.severity.clone(), hit(alarms, loads, points, a))
        })
        .collect()
}
