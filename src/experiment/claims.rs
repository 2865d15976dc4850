//! Claims: what an experiment should reproduce (a reference figure at a point, or a before →
//! after change between two points), checked against the sweep's replications.
//!
//! A single figure is reproduced when capsim's 95 % interval comes within the tolerance of
//! the reference (no tolerance: the reference must lie inside the interval), or, for a bound
//! ("2+ seconds", "under 3 %"), reaches the bound's side of it. A before → after
//! claim first needs the change to go the claimed way, significantly (the paired 95 % interval
//! of after − before, replications sharing seeds, excludes 0); it is then reproduced if both
//! figures are within the tolerance, and "direction only" if they are not or none is given.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::Param;
use super::breakpoints::crossing::How;
use super::breakpoints::scans::{self, Scan};
use super::spec::{Bound, ChangeMeasure, ChangeSpec, ClaimKind, ClaimSpec, Direction, ExperimentSpec, SideSpec};
use super::sweep::PointResult;
use crate::model::Issue;
use crate::report::labels::sig;
use crate::stats::{Interval, paired, t_interval};

/// A checked claim: its metric's index and the point index of each side.
#[derive(Clone, Debug)]
pub struct Claim {
    pub spec: ClaimSpec,
    pub metric: usize,
    pub at: Points,
    /// The chart file (stem) that shows it, if any.
    pub chart: Option<String>,
}

/// Where a claim is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Points {
    One(usize),
    Pair {
        before: usize,
        after: usize,
    },
    /// The load at which a limit is crossed, read from the experiment's breakpoint scans.
    Crossing,
}

/// The outcome of checking a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Reproduced,
    DirectionOnly,
    Differs,
}

impl Verdict {
    /// As written in tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::DirectionOnly => "direction only",
            Verdict::Differs => "differs",
        }
    }
}

/// A checked claim with capsim's figures, ready for tables.
#[derive(Clone, Debug)]
pub struct ClaimResult {
    pub id: String,
    /// Outcome of the mechanisms (counted) or calibration (listed apart).
    pub kind: ClaimKind,
    /// For a calibration row: why its figure is not an outcome.
    pub calibration: String,
    pub source: String,
    pub claim: String,
    pub metric: String,
    /// The point(s), as `name=value, …` (with `before:`/`after:` for a pair).
    pub points: String,
    /// The reference figure(s), e.g. `0.6687` or `8.2 → 1.1`.
    pub reference: String,
    /// capsim's mean(s) and 95 % half-width(s), in the same shape.
    pub capsim_mean: String,
    pub capsim_ci95: String,
    pub verdict: Verdict,
    /// One sentence where it differs or only the direction holds (empty when reproduced).
    pub note: String,
    pub chart: Option<String>,
}

/// Checks the claims of `spec` against its parameters and points; problems go to `issues`.
pub fn check(spec: &ExperimentSpec, params: &[Param], points: &[Vec<Value>], issues: &mut Vec<Issue>) -> Vec<Claim> {
    let mut out = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    let mut stems: Vec<String> = spec
        .charts
        .iter()
        .enumerate()
        .map(|(k, c)| c.file.clone().unwrap_or_else(|| format!("chart-{}", k + 1)))
        .collect();
    // The breakpoint scans' charts: one per value of `by`, or one.
    if let Some(b) = &spec.breakpoints {
        match b.by.as_ref().and_then(|by| params.iter().position(|p| p.name == *by)) {
            Some(i) => points.iter().map(|p| scans::stem(Some(&p[i]))).for_each(|s| {
                if !stems.contains(&s) {
                    stems.push(s)
                }
            }),
            None => stems.push(scans::stem(None)),
        }
    }
    for (i, c) in spec.claims.iter().enumerate() {
        let at = format!("claims.{i}");
        let mut bad = |field: &str, msg: String| issues.push(Issue::new(format!("{at}{field}"), msg));
        if c.id.is_empty() || !c.id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            bad(".id", "use letters, digits, `_` and `-`".into());
        } else if !ids.insert(c.id.clone()) {
            bad(".id", format!("`{}` is used by another claim", c.id));
        }
        let load = spec.breakpoints.as_ref().map(|b| b.load.as_str());
        let metric = match &c.crossing {
            None => spec.metrics.iter().position(|m| *m == c.metric),
            // A crossing's figure is a load, not one of the metrics: index 0 is never read.
            Some(_) if load == Some(c.metric.as_str()) => Some(0),
            Some(_) if load.is_none() => {
                bad(".crossing", "needs the experiment's `breakpoints` (the scans it reads)".into());
                None
            }
            Some(_) => {
                bad(
                    ".metric",
                    format!("a crossing's figure is a load: give `{}` (breakpoints.load)", load.unwrap_or("")),
                );
                None
            }
        };
        if metric.is_none() && c.crossing.is_none() {
            bad(".metric", format!("`{}` must be one of `metrics` (so its values are recorded)", c.metric));
        }
        if let Some(t) = &c.tolerance {
            match (t.relative, t.absolute) {
                (Some(x), None) | (None, Some(x)) if x.is_finite() && x >= 0.0 => {}
                _ => bad(".tolerance", "give exactly one of `relative` or `absolute`, ≥ 0".into()),
            }
        }
        kind_checks(c, &mut bad);
        let chart = match &c.chart {
            Some(f) if !stems.contains(f) => {
                bad(".chart", format!("`{f}` is not a chart of this experiment; charts: {}", stems.join(", ")));
                None
            }
            Some(f) => Some(f.clone()),
            None if c.crossing.is_some() => Some(scans::stem(c.crossing.as_ref().and_then(|x| x.scan.as_ref()))),
            None => spec.charts.iter().position(|ch| ch.y == c.metric).map(|k| stems[k].clone()),
        };
        let located = locate(c, params, points);
        match (located, metric) {
            (Ok(p), Some(m)) => out.push(Claim { spec: c.clone(), metric: m, at: p, chart }),
            (Err((field, msg)), _) => bad(&field, msg),
            _ => {}
        }
    }
    out
}

/// A calibration row says why; an outcome does not; a citation names a file of the shared
/// folder (no absolute path, no `..`) and at least one non-empty quote.
fn kind_checks(c: &ClaimSpec, bad: &mut impl FnMut(&str, String)) {
    match (c.kind, &c.calibration) {
        (ClaimKind::Calibration, None) => bad(
            ".calibration",
            "a calibration row says why its figure is not an outcome (e.g. \"the hit rate is set in the model\")"
                .into(),
        ),
        (ClaimKind::Outcome, Some(_)) => {
            bad(".calibration", "only for `kind: calibration`; an outcome's figure comes from the mechanisms".into())
        }
        (_, Some(w)) if w.trim().is_empty() => bad(".calibration", "must say why, in words".into()),
        _ => {}
    }
    if let Some(cites) = &c.cites {
        let path = std::path::Path::new(&cites.file);
        let inside = !cites.file.is_empty() && path.components().all(|p| matches!(p, std::path::Component::Normal(_)));
        if !inside {
            bad(
                ".cites.file",
                format!("`{}` must be a relative path inside the shared folder, e.g. seeds/000_….txt", cites.file),
            );
        }
        if cites.quotes.is_empty() || cites.quotes.iter().any(|q| q.trim().is_empty()) {
            bad(".cites.quotes", "give each figure as the file writes it (e.g. \"800ms\"); none may be empty".into());
        }
    }
}

/// The point indices of a claim, or (field, problem).
fn locate(c: &ClaimSpec, params: &[Param], points: &[Vec<Value>]) -> Result<Points, (String, String)> {
    let err = |f: &str, m: String| Err((f.to_string(), m));
    if c.crossing.is_some() {
        return match (&c.at, &c.before, &c.after, c.reference, &c.change, c.direction) {
            (None, None, None, Some(_), None, None) => Ok(Points::Crossing),
            (_, _, _, None, _, _) => err(".reference", "a crossing claim needs the reference load".into()),
            _ => err(
                ".crossing",
                "a crossing claim gives `reference` (a load), not `at`, `before`, `after`, `change` or `direction`"
                    .into(),
            ),
        };
    }
    match (&c.at, &c.before, &c.after) {
        (Some(at), None, None) => {
            if c.reference.is_none() {
                return err(".reference", "a claim with `at` needs the reference figure there".into());
            }
            if c.direction.is_some() {
                return err(".direction", "only for before → after claims".into());
            }
            if c.change.is_some() {
                return err(".change", "only for before → after claims".into());
            }
            Ok(Points::One(point_of(at, params, points).map_err(|m| (".at".to_string(), m))?))
        }
        (None, Some(b), Some(a)) => {
            if c.reference.is_some() {
                return err(".reference", "a before → after claim gives its figures in `before` and `after`".into());
            }
            if c.bound.is_some() {
                return err(".bound", "only for a single figure (`at` with `reference`)".into());
            }
            let before = point_of(&b.at, params, points).map_err(|m| (".before.at".to_string(), m))?;
            let after = point_of(&a.at, params, points).map_err(|m| (".after.at".to_string(), m))?;
            if before == after {
                return err(".after.at", "is the same point as `before`".into());
            }
            if let Some(ch) = &c.change {
                if !ch.reference.is_finite() || (ch.measure != ChangeMeasure::Difference && ch.direction().is_none()) {
                    return err(".change.reference", "must be a finite number that implies a direction".into());
                }
                if b.reference.is_some() || a.reference.is_some() {
                    return err(".change", "give the change or each side's reference, not both".into());
                }
            }
            match (expected_direction(c, b, a), c.direction) {
                (None, None) => {
                    err(".direction", "give `reference` on both sides (different), `change`, or `direction`".into())
                }
                (Some(d), Some(given)) if d != given => err(".direction", "contradicts the references".into()),
                _ => Ok(Points::Pair { before, after }),
            }
        }
        _ => err("", "give either `at` with `reference`, or both `before` and `after`".into()),
    }
}

/// The direction the references imply, when both are given and differ.
fn expected_direction(c: &ClaimSpec, b: &SideSpec, a: &SideSpec) -> Option<Direction> {
    if let Some(d) = c.change.as_ref().and_then(|ch| ch.direction()) {
        return Some(d);
    }
    match (b.reference, a.reference) {
        (Some(x), Some(y)) if y < x => Some(Direction::Decrease),
        (Some(x), Some(y)) if y > x => Some(Direction::Increase),
        _ => c.direction,
    }
}

/// The index of the one point matching every `name = value` of `at`.
fn point_of(at: &BTreeMap<String, Value>, params: &[Param], points: &[Vec<Value>]) -> Result<usize, String> {
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let mut keys = Vec::new();
    for (name, v) in at {
        let Some(k) = params.iter().position(|p| p.name == *name) else {
            return Err(format!("`{name}` is not a parameter; parameters: {}", names.join(", ")));
        };
        if !params[k].values.iter().any(|x| same(x, v)) {
            let vals: Vec<String> = params[k].values.iter().map(super::plain).collect();
            return Err(format!("{name} = {v} is not one of its values: {}", vals.join(", ")));
        }
        keys.push((k, v));
    }
    let hits: Vec<usize> = (0..points.len()).filter(|&i| keys.iter().all(|(k, v)| same(&points[i][*k], v))).collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err("no point of the sweep has these values together".into()),
        many => Err(format!("matches {} points; give a value for every parameter ({})", many.len(), names.join(", "))),
    }
}

/// JSON values equal as numbers (to 1e-9 relative) or exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

/// Checks `claim` against the results (by point index).
pub fn evaluate(
    claim: &Claim,
    params: &[Param],
    points: &[Vec<Value>],
    results: &[PointResult],
    scans: &[Scan],
) -> ClaimResult {
    let values = |i: usize| -> &[f64] {
        results.iter().find(|r| r.index == i).map_or(&[], |r| r.values[claim.metric].as_slice())
    };
    let describe = |i: usize| -> String {
        params
            .iter()
            .zip(&points[i])
            .map(|(p, v)| format!("{}={}", p.name, super::plain(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let c = &claim.spec;
    let mut r = ClaimResult {
        id: c.id.clone(),
        kind: c.kind,
        calibration: c.calibration.clone().unwrap_or_default(),
        source: c.source.clone(),
        claim: c.claim.clone(),
        metric: c.metric.clone(),
        points: String::new(),
        reference: String::new(),
        capsim_mean: String::new(),
        capsim_ci95: String::new(),
        verdict: Verdict::Differs,
        note: String::new(),
        chart: claim.chart.clone(),
    };
    match claim.at {
        Points::One(i) => {
            let reference = c.reference.expect("checked: a single claim has a reference");
            let iv = t_interval(values(i), 0.95);
            r.points = describe(i);
            r.reference = match c.bound {
                None => sig(reference, 6),
                Some(Bound::AtLeast) => format!("≥ {}", sig(reference, 6)),
                Some(Bound::AtMost) => format!("≤ {}", sig(reference, 6)),
            };
            (r.capsim_mean, r.capsim_ci95) = (sig(iv.mean, 4), sig(iv.half_width, 2));
            let tol = tolerance(c, reference);
            let ok = match c.bound {
                None => (iv.mean - reference).abs() <= tol + iv.half_width,
                Some(Bound::AtLeast) => iv.mean + iv.half_width >= reference - tol,
                Some(Bound::AtMost) => iv.mean - iv.half_width <= reference + tol,
            };
            r.verdict = if ok { Verdict::Reproduced } else { Verdict::Differs };
            if !ok {
                r.note = off_by(iv, reference, tol);
            }
        }
        Points::Pair { before, after } => pair(&mut r, c, values(before), values(after), tolerance_fn(c)),
        Points::Crossing => crossing_claim(&mut r, c, scans),
    }
    if r.verdict != Verdict::Reproduced
        && let Some(n) = &c.note
    {
        r.note = if r.note.is_empty() { n.clone() } else { format!("{} {n}", r.note) };
    }
    if let Points::Pair { before, after } = claim.at {
        r.points = format!("before: {}; after: {}", describe(before), describe(after));
    }
    r
}

fn tolerance(c: &ClaimSpec, reference: f64) -> f64 {
    tolerance_fn(c)(reference)
}

/// The tolerance as a function of the reference figure.
fn tolerance_fn(c: &ClaimSpec) -> impl Fn(f64) -> f64 + '_ {
    move |reference: f64| match &c.tolerance {
        Some(t) => t.absolute.unwrap_or_else(|| t.relative.unwrap_or(0.0) * reference.abs()),
        None => 0.0,
    }
}

/// Fills in a before → after claim.
fn pair(r: &mut ClaimResult, c: &ClaimSpec, b: &[f64], a: &[f64], tol: impl Fn(f64) -> f64) {
    let (before, after) = (c.before.as_ref().expect("checked"), c.after.as_ref().expect("checked"));
    let (ib, ia) = (t_interval(b, 0.95), t_interval(a, 0.95));
    let d = if a.len() == b.len() { paired(b, a, 0.95) } else { welch(ib, ia) };
    let want = expected_direction(c, before, after).expect("checked: a direction is known");
    let ref_text = |x: Option<f64>| x.map_or("—".to_string(), |v| sig(v, 6));
    r.reference = match (before.reference, after.reference, want) {
        (None, None, Direction::Decrease) => "a decrease".to_string(),
        (None, None, Direction::Increase) => "an increase".to_string(),
        (b, a, _) => format!("{} → {}", ref_text(b), ref_text(a)),
    };
    r.capsim_mean = format!("{} → {}", sig(ib.mean, 4), sig(ia.mean, 4));
    r.capsim_ci95 = format!("{} → {}", sig(ib.half_width, 2), sig(ia.half_width, 2));
    let sign_ok = match want {
        Direction::Decrease => d.mean < 0.0,
        Direction::Increase => d.mean > 0.0,
    };
    let way = if want == Direction::Decrease { "decrease" } else { "increase" };
    let change = format!("paired after − before = {} ± {}", sig(d.mean, 3).replace('-', "−"), sig(d.half_width, 2));
    if !(sign_ok && d.mean.abs() > d.half_width) {
        r.verdict = Verdict::Differs;
        r.note = format!("capsim shows no significant {way} ({change}).");
        return;
    }
    if let Some(ch) = &c.change {
        change_claim(r, c, ch, b, a, &change);
        let sides = format!("capsim's before → after: {} → {}.", sig(ib.mean, 4), sig(ia.mean, 4));
        r.note = if r.note.is_empty() { sides } else { format!("{} {sides}", r.note) };
        return;
    }
    let within =
        |iv: Interval, reference: Option<f64>| reference.is_some_and(|x| (iv.mean - x).abs() <= tol(x) + iv.half_width);
    // A side without a reference (the source gives only the direction there, e.g. "throttles
    // before, zero after") is met by the direction, checked above.
    let side_met = |iv: Interval, reference: Option<f64>| reference.is_none() || within(iv, reference);
    let any_reference = before.reference.is_some() || after.reference.is_some();
    if c.tolerance.is_some() && any_reference && side_met(ib, before.reference) && side_met(ia, after.reference) {
        r.verdict = Verdict::Reproduced;
        return;
    }
    r.verdict = Verdict::DirectionOnly;
    r.note = if c.tolerance.is_none() {
        format!("The claim is a direction; capsim's {way} is significant ({change}).")
    } else {
        let mut n = format!("The {way} holds ({change}) but the figures are off:");
        for (name, iv, reference) in [("before", ib, before.reference), ("after", ia, after.reference)] {
            if let Some(x) = reference.filter(|&x| !within(iv, Some(x))) {
                let _ = write!(n, " {name} {}", off_by(iv, x, tol(x)).trim_end_matches('.'));
            }
        }
        n.push('.');
        n
    };
}

/// Fills in a claim about the change itself: its reference against the change measured
/// replication by replication (the direction has been checked already).
fn change_claim(r: &mut ClaimResult, c: &ClaimSpec, ch: &ChangeSpec, b: &[f64], a: &[f64], significant: &str) {
    let changes: Vec<f64> = b.iter().zip(a).map(|(&x, &y)| ch.of(x, y)).collect();
    let iv = t_interval(&changes, 0.95);
    r.reference = format!("{} = {}", ch.words(), sig(ch.reference, 6));
    r.capsim_mean = sig(iv.mean, 4);
    r.capsim_ci95 = sig(iv.half_width, 2);
    let tol = tolerance(c, ch.reference);
    if c.tolerance.is_some() && (iv.mean - ch.reference).abs() <= tol + iv.half_width {
        r.verdict = Verdict::Reproduced;
        return;
    }
    r.verdict = Verdict::DirectionOnly;
    r.note = if c.tolerance.is_none() {
        format!("The claim gives no tolerance; the change goes the claimed way ({significant}).")
    } else {
        format!(
            "The change goes the claimed way ({significant}) but its size is off: {}",
            off_by(iv, ch.reference, tol)
        )
    };
}

/// Fills in a crossing claim: the load where its limit is first crossed, as a range (a point
/// where it was interpolated; between the load before and the first where it holds; at or below
/// the lowest; above the highest when it held), against the reference load.
fn crossing_claim(r: &mut ClaimResult, c: &ClaimSpec, scans: &[Scan]) {
    let x = c.crossing.as_ref().expect("checked: a crossing claim");
    let reference = c.reference.expect("checked: a crossing claim has a reference");
    let scan = scans.iter().find(|s| match (&s.key, &x.scan) {
        (Some(k), Some(want)) => same(k, want),
        (None, None) => true,
        _ => false,
    });
    let in_scan = x.scan.as_ref().map_or(String::new(), |v| format!(" ({})", super::plain(v)));
    r.points = format!("{} of {}{in_scan}", x.limit, x.component);
    r.reference = match c.bound {
        None => sig(reference, 4),
        Some(Bound::AtLeast) => format!("≥ {}", sig(reference, 4)),
        Some(Bound::AtMost) => format!("≤ {}", sig(reference, 4)),
    };
    let Some(scan) = scan else {
        r.note = "the experiment has no such scan (run it whole: a shard holds no scan).".into();
        return;
    };
    let b = &scan.result;
    let crossed = b.crossings.iter().find(|k| k.component == x.component && k.limit == x.limit);
    let highest = b.loads.last().copied().unwrap_or(f64::NAN);
    let (lo, hi, text) = match crossed {
        Some(k) => match (k.how, k.load_below) {
            (How::Interpolated, _) => (k.load, k.load, sig(k.load, 3)),
            (How::FirstPoint, Some(below)) => (below, k.load, format!("{}–{}", sig(below, 3), sig(k.load, 3))),
            _ => (f64::NEG_INFINITY, k.load, format!("≤ {}", sig(k.load, 3))),
        },
        None => (highest, f64::INFINITY, format!("> {} (held)", sig(highest, 3))),
    };
    r.capsim_mean = text;
    let tol = tolerance(c, reference);
    // A limit that held is crossed somewhere above the highest load, or never: only a claim
    // that it holds at least that far can be met.
    let ok = match (c.bound, crossed.is_some()) {
        (Some(Bound::AtLeast), _) => hi >= reference - tol,
        (_, false) => false,
        (None, true) => lo - tol <= reference && reference <= hi + tol,
        (Some(Bound::AtMost), true) => lo <= reference + tol,
    };
    r.verdict = if ok { Verdict::Reproduced } else { Verdict::Differs };
    if !ok {
        r.note = match crossed {
            None => format!("capsim's {} held to the highest load run, {}.", x.component, sig(highest, 3)),
            Some(_) => format!(
                "capsim's crossing at {} is outside the reference {} (allowed: ±{}).",
                r.capsim_mean,
                sig(reference, 4),
                sig(tol, 3)
            ),
        };
    }
}

/// The interval of a difference of two independent means (no pairing possible).
fn welch(b: Interval, a: Interval) -> Interval {
    Interval {
        mean: a.mean - b.mean,
        half_width: (a.half_width.powi(2) + b.half_width.powi(2)).sqrt(),
        n: a.n.min(b.n),
    }
}

/// "capsim's figure is 23 % above the reference (allowed: ±5 % plus its 95 % interval)."
fn off_by(iv: Interval, reference: f64, tol: f64) -> String {
    if !iv.mean.is_finite() {
        return "capsim has no figure there (no data: e.g. nothing completed, or the run overloaded).".into();
    }
    let dir = if iv.mean > reference { "above" } else { "below" };
    let how = if reference != 0.0 {
        format!("{} % {dir}", sig(100.0 * (iv.mean - reference).abs() / reference.abs(), 2))
    } else {
        format!("{} {dir}", sig((iv.mean - reference).abs(), 3))
    };
    format!(
        "capsim's {} ± {} is {how} the reference {} (allowed: ±{} plus the 95 % interval).",
        sig(iv.mean, 4),
        sig(iv.half_width, 2),
        sig(reference, 4),
        sig(tol, 3)
    )
}

/// claims.csv: one row per claim.
pub fn csv(results: &[ClaimResult]) -> String {
    let mut o =
        String::from("id,kind,source,claim,metric,points,reference,capsim_mean,capsim_ci95,verdict,note,calibration\n");
    for r in results {
        let cells = [
            &r.id,
            &r.kind.label().to_string(),
            &r.source,
            &r.claim,
            &r.metric,
            &r.points,
            &r.reference,
            &r.capsim_mean,
            &r.capsim_ci95,
            &r.verdict.label().to_string(),
            &r.note,
            &r.calibration,
        ];
        let row: Vec<String> = cells.iter().map(|c| super::output::csv_field(c)).collect();
        o.push_str(&row.join(","));
        o.push('\n');
    }
    o
}
