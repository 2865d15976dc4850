//! `capsim capacity`: the largest value of one parameter at which every SLO holds (e.g. the
//! most load), or the smallest (e.g. the fewest servers) — probes with replications, common
//! random numbers across probes, a bracket grown from a starting value and then bisected, and
//! the answer reported with its bracket and statistical uncertainty.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::Value;

use super::common::ModelArgs;
use crate::experiment::chart::is_share_name;
use crate::experiment::metric;
use crate::experiment::replicate::replicate;
use crate::model::Override;
use crate::report::charts::{Chart, LineChart, Series};
use crate::report::labels::{metric_label, param_label, sig};
use crate::report::style::Marker;
use crate::report::summary::Summary;
use crate::stats::t_interval;

/// Which edge of the feasible region to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Find {
    /// The largest value meeting every SLO (for a load: how much can the system take?).
    Largest,
    /// The smallest value meeting every SLO (for a resource: how many servers do I need?).
    Smallest,
}

/// Arguments of `capsim capacity`.
#[derive(Args, Debug)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub common: ModelArgs,
    /// Dotted path of the parameter to vary, as for --set (e.g. sources.arrivals.rate).
    #[arg(long)]
    pub vary: String,
    /// `largest`: the largest value meeting every SLO (a load); `smallest`: the smallest (a
    /// resource, e.g. --vary stations.server.servers).
    #[arg(long, value_enum, default_value_t = Find::Largest)]
    pub find: Find,
    /// A service-level objective METRIC<=VALUE or METRIC>=VALUE, METRIC a dotted path into
    /// summary.json (e.g. latency_s.e2e.p99<=2). Repeat for several; all must hold.
    #[arg(long = "slo", required = true, value_parser = Slo::parse)]
    pub slo: Vec<Slo>,
    /// Lower end of the search. Without --lo and --hi the search starts at the model's current
    /// value and doubles or halves until it brackets the edge.
    #[arg(long)]
    pub lo: Option<f64>,
    /// Upper end of the search.
    #[arg(long)]
    pub hi: Option<f64>,
    /// Stop when the bracket is narrower than this fraction of its upper end (0 < t < 1).
    #[arg(long, default_value_t = 0.005)]
    pub tolerance: f64,
    /// Most probes to run (at least 2).
    #[arg(long, default_value_t = 40, value_parser = super::parse_probes)]
    pub max_probes: usize,
}

/// A service-level objective.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Slo {
    pub metric: String,
    /// `<=` or `>=`.
    pub op: String,
    pub value: f64,
}

impl Slo {
    /// Parses `METRIC<=VALUE` or `METRIC>=VALUE`.
    pub fn parse(s: &str) -> Result<Slo, String> {
        for op in ["<=", ">="] {
            if let Some((m, v)) = s.split_once(op) {
                let value: f64 = v.trim().parse().map_err(|_| format!("`{v}` is not a number in SLO `{s}`"))?;
                if !value.is_finite() {
                    return Err(format!("the limit `{}` in SLO `{s}` must be a finite number", v.trim()));
                }
                return Ok(Slo { metric: m.trim().to_string(), op: op.to_string(), value });
            }
        }
        Err(format!("SLO `{s}` must be METRIC<=VALUE or METRIC>=VALUE"))
    }

    fn holds(&self, x: f64) -> bool {
        if self.op == "<=" { x <= self.value } else { x >= self.value }
    }
}

/// One probe of the search.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    pub value: f64,
    /// Every SLO held (judged on the mean over replications).
    pub feasible: bool,
    /// Mean and 95 % half-width of each SLO metric.
    pub metrics: Vec<ProbeMetric>,
}

/// An SLO metric at a probe.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeMetric {
    pub metric: String,
    pub mean: f64,
    pub ci95: f64,
}

/// capacity.json.
#[derive(Debug, Serialize)]
pub struct CapacityResult {
    pub param: String,
    /// Which edge was searched for.
    pub find: Find,
    /// The largest (or smallest) probed value that met every SLO; null if none did.
    pub answer: Option<f64>,
    /// [lower, upper] probes around the edge: one meets every SLO, the other fails one (null
    /// ends: not found within the search).
    pub bracket: (Option<f64>, Option<f64>),
    /// Where the binding SLO's mean crosses its limit, interpolated linearly in the bracket.
    pub interpolated: Option<f64>,
    /// ± on the answer: the larger of half the bracket and the binding metric's 95 % half-width
    /// divided by its slope.
    pub uncertainty: Option<f64>,
    pub slo: Vec<Slo>,
    pub replications: usize,
    pub seed: u64,
    pub probes: Vec<Probe>,
    /// Why the search stopped where it did.
    pub note: String,
}

/// A probe that could not be made: the model is invalid at that value (e.g. 0 servers).
struct Invalid(String);

struct Search<'a> {
    args: &'a CapacityArgs,
    integer: bool,
    probes: Vec<Probe>,
    /// Simulated time run so far, over every probe and replication [s].
    simulated_s: f64,
}

impl Search<'_> {
    /// Whether `x` lies on the low side of the edge: for `largest` it meets the SLOs, for
    /// `smallest` it fails one. `Err(Invalid)` when the model does not accept `x`.
    fn low_side(&mut self, x: f64) -> Result<std::result::Result<bool, Invalid>> {
        let c = &self.args.common;
        let value: Value = if self.integer { Value::from(x.round() as i64) } else { Value::from(x) };
        let o = Override::from_flag(&self.args.vary, "--vary", value);
        let model = match c.load(&[o]) {
            Ok(m) => m,
            Err(e) if !self.probes.is_empty() => return Ok(Err(Invalid(e.to_string()))),
            Err(e) => return Err(e).with_context(|| format!("model with {}={x}", self.args.vary)),
        };
        let cost = model.duration.as_secs() * c.replications as f64;
        if self.simulated_s + cost > crate::model::limits::MAX_SEARCH_SIMULATED_S {
            let why = format!(
                "the search would exceed its budget of {} years of simulated time over all probes ({} runs of {} s each here)",
                crate::model::limits::MAX_SEARCH_SIMULATED_S / (365.25 * 86_400.0),
                c.replications,
                model.duration.as_secs()
            );
            if self.probes.is_empty() {
                bail!("{}={x}: {why}", self.args.vary);
            }
            return Ok(Err(Invalid(why)));
        }
        self.simulated_s += cost;
        let runs = replicate(&[model], c.replications, c.seed, c.threads)?.remove(0);
        let summaries: Vec<Value> =
            runs.iter().map(|r| serde_json::to_value(&r.summary).expect("serialises")).collect();
        let metrics: Vec<ProbeMetric> = self
            .args
            .slo
            .iter()
            .map(|s| {
                let xs: Vec<f64> = summaries.iter().map(|v| metric(v, &s.metric).unwrap_or(f64::NAN)).collect();
                let i = t_interval(&xs, 0.95);
                ProbeMetric { metric: s.metric.clone(), mean: i.mean, ci95: i.half_width }
            })
            .collect();
        let feasible = self.args.slo.iter().zip(&metrics).all(|(s, m)| s.holds(m.mean));
        crate::note!("probe {}={x}: {}", self.args.vary, if feasible { "meets the SLOs" } else { "fails an SLO" });
        self.probes.push(Probe { value: x, feasible, metrics });
        Ok(Ok(feasible == (self.args.find == Find::Largest)))
    }

    fn find(&self, x: f64) -> &Probe {
        self.probes.iter().rev().find(|p| p.value == x).expect("probed")
    }

    fn out_of_probes(&self) -> bool {
        self.probes.len() >= self.args.max_probes
    }

    fn done(&self, lo: f64, hi: f64) -> bool {
        let narrow = if self.integer { hi - lo <= 1.0 } else { hi - lo <= self.args.tolerance * hi.abs() };
        narrow || self.out_of_probes()
    }

    /// The next value when growing the bracket upward from `x`.
    fn grow(&self, x: f64) -> f64 {
        match (self.integer, x) {
            (true, x) => (2.0 * x).max(x + 1.0),
            (false, x) if x > 0.0 => 2.0 * x,
            (false, 0.0) => 1.0,
            (false, x) => x / 2.0,
        }
    }

    /// The next value when growing the bracket downward from `x` (None: nowhere left to go).
    fn shrink(&self, x: f64) -> Option<f64> {
        let next = match (self.integer, x) {
            (true, x) if x >= 1.0 => (x / 2.0).floor(),
            (true, x) => x - 1.0,
            (false, x) if x > 0.0 => x / 2.0,
            (false, 0.0) => -1.0,
            (false, x) => 2.0 * x,
        };
        (next < x).then_some(next)
    }
}

/// Checks the flags before anything runs.
fn check_args(args: &CapacityArgs) -> Result<()> {
    if args.common.replications == 0 {
        bail!("--replications must be at least 1");
    }
    if !(args.tolerance > 0.0 && args.tolerance < 1.0) {
        bail!("--tolerance must be a fraction between 0 and 1 (e.g. 0.005 for 0.5 %), got {}", args.tolerance);
    }
    if args.max_probes < 2 {
        bail!("--max-probes must be at least 2 (one probe cannot bracket an edge), got {}", args.max_probes);
    }
    for (flag, v) in [("--lo", args.lo), ("--hi", args.hi)] {
        if v.is_some_and(|x| !x.is_finite()) {
            bail!("{flag} must be a finite number");
        }
    }
    if let (Some(lo), Some(hi)) = (args.lo, args.hi)
        && lo >= hi
    {
        bail!("--lo ({lo}) must be below --hi ({hi})");
    }
    Ok(())
}

/// Runs the search and writes capacity.json and capacity charts.
pub fn capacity(args: CapacityArgs) -> Result<()> {
    check_args(&args)?;
    let base = args.common.load(&[])?;
    let skeleton = serde_json::to_value(Summary::skeleton(&base))?;
    for s in &args.slo {
        if !crate::experiment::metric_exists(&skeleton, &s.metric) {
            bail!("--slo {}: `{}` is not a number in summary.json (see docs/metrics.md)", s.metric, s.metric);
        }
    }
    let spec = serde_json::to_value(&base.spec)?;
    let current = args.vary.split('.').try_fold(&spec, |v, k| v.get(k).or_else(|| v.get(k.parse::<usize>().ok()?)));
    let integral = |x: Option<f64>| x.is_none_or(|x| x.fract() == 0.0);
    let integer = current.is_some_and(|v| v.is_u64() || v.is_i64()) && integral(args.lo) && integral(args.hi);
    let start = match (args.lo, args.hi, current.and_then(Value::as_f64)) {
        (Some(x), _, _) | (None, Some(x), _) | (None, None, Some(x)) => x,
        (None, None, None) => bail!("`{}` has no numeric value in the model: give --lo or --hi", args.vary),
    };
    let mut s = Search { args: &args, integer, probes: Vec::new(), simulated_s: 0.0 };
    let result = search(&mut s, start)?;
    let dir =
        args.common.out.clone().unwrap_or_else(|| PathBuf::from("output").join(format!("{}-capacity", base.spec.name)));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("capacity.json"), serde_json::to_string_pretty(&result)? + "\n")?;
    let mut written = vec![dir.join("capacity.json")];
    for (k, slo) in args.slo.iter().enumerate() {
        let every = chart(&result, k, slo, &base.spec.name, None);
        written.extend(every.save_both(&dir, &format!("capacity-{}", k + 1))?);
        if let Some(near) = near_answer(&result) {
            let zoom = chart(&result, k, slo, &base.spec.name, Some(&near));
            written.extend(zoom.save_both(&dir, &format!("capacity-{}-answer", k + 1))?);
        }
    }
    let which = if args.find == Find::Largest { "largest" } else { "smallest" };
    match (result.answer, result.uncertainty) {
        (Some(m), Some(u)) if !integer => crate::say!(
            "{which} {} meeting every SLO: {} (interpolated {}, ± {}; {})",
            args.vary,
            sig(m, 6),
            sig(result.interpolated.unwrap_or(m), 6),
            sig(u, 3),
            result.note
        ),
        (Some(m), _) => crate::say!("{which} {} meeting every SLO: {} ({})", args.vary, sig(m, 6), result.note),
        (None, _) => crate::say!("no value of {} meets every SLO ({})", args.vary, result.note),
    }
    for w in written {
        crate::say!("wrote {}", w.display());
    }
    Ok(())
}

/// Brackets the edge (from --lo/--hi, or by growing from `start`), then bisects it.
fn search(s: &mut Search, start: f64) -> Result<CapacityResult> {
    let largest = s.args.find == Find::Largest;
    let (mut lo, mut hi) = match (s.args.lo, s.args.hi) {
        (Some(l), Some(h)) => {
            let low_ok = probe_or_bail(s, l)?;
            if !low_ok {
                let note = if largest {
                    "--lo already fails an SLO"
                } else {
                    "--lo already meets every SLO: the smallest value may be lower"
                };
                return Ok(finish(s, None, Some(l), note.into()));
            }
            if probe_or_bail(s, h)? {
                let note = if largest {
                    "every probe met the SLOs: the edge lies beyond --hi"
                } else {
                    "no value up to --hi meets every SLO"
                };
                return Ok(finish(s, Some(h), None, note.into()));
            }
            (l, h)
        }
        _ => match bracket(s, start)? {
            Ok(b) => b,
            Err(r) => return Ok(r),
        },
    };
    while !s.done(lo, hi) {
        let mid = if s.integer { ((lo + hi) / 2.0).floor() } else { (lo + hi) / 2.0 };
        match s.low_side(mid)? {
            Ok(true) => lo = mid,
            Ok(false) => hi = mid,
            Err(Invalid(e)) => bail!("{}={mid} inside the bracket is not a valid value: {e}", s.args.vary),
        }
    }
    let note = if s.out_of_probes() { "stopped at --max-probes" } else { "bracket narrower than the tolerance" };
    Ok(finish(s, Some(lo), Some(hi), note.into()))
}

/// A probe whose model must be valid.
fn probe_or_bail(s: &mut Search, x: f64) -> Result<bool> {
    match s.low_side(x)? {
        Ok(b) => Ok(b),
        Err(Invalid(e)) => bail!("{}={x}: {e}", s.args.vary),
    }
}

/// Grows a bracket from `start` (up while on the low side, else down), bounded by --lo/--hi,
/// the model's valid values and --max-probes. `Err` carries the finished result when no
/// bracket exists.
fn bracket(s: &mut Search, start: f64) -> Result<std::result::Result<(f64, f64), CapacityResult>> {
    let largest = s.args.find == Find::Largest;
    let side = |ok: bool| if ok { "meets every SLO" } else { "fails an SLO" };
    if probe_or_bail(s, start)? {
        let mut lo = start;
        loop {
            let next = match s.args.hi {
                Some(h) => h.min(s.grow(lo)),
                None => s.grow(lo),
            };
            if next <= lo || s.out_of_probes() {
                let why = format!("every value probed up to {lo} {}", side(largest));
                return Ok(Err(finish(s, Some(lo), None, why)));
            }
            match s.low_side(next)? {
                Ok(true) => lo = next,
                Ok(false) => return Ok(Ok((lo, next))),
                Err(Invalid(e)) => {
                    let why = format!("{lo} is the last valid value probed ({}={next}: {e})", s.args.vary);
                    return Ok(Err(finish(s, Some(lo), None, why)));
                }
            }
        }
    }
    let mut hi = start;
    loop {
        let next = s.shrink(hi).map(|x| s.args.lo.map_or(x, |l| x.max(l)));
        let Some(next) = next.filter(|&x| x < hi && !s.out_of_probes()) else {
            let why = format!("every value probed down to {hi} {}", side(!largest));
            return Ok(Err(finish(s, None, Some(hi), why)));
        };
        match s.low_side(next)? {
            Ok(false) => hi = next,
            Ok(true) => return Ok(Ok((next, hi))),
            Err(Invalid(e)) => {
                let why = format!("{hi} is the lowest valid value probed ({}={next}: {e})", s.args.vary);
                return Ok(Err(finish(s, None, Some(hi), why)));
            }
        }
    }
}

/// The result, with the edge interpolated where the binding SLO's mean crosses its limit.
fn finish(s: &Search, lo: Option<f64>, hi: Option<f64>, note: String) -> CapacityResult {
    let largest = s.args.find == Find::Largest;
    let (mut interpolated, mut uncertainty) = (None, None);
    if let (Some(l), Some(h)) = (lo, hi) {
        let (pl, ph) = (s.find(l), s.find(h));
        let failing = if largest { ph } else { pl };
        // The binding SLOs fail at the failing end; the edge is where the first (going from the
        // feasible end) of them crosses its limit.
        let crossings =
            s.args.slo.iter().enumerate().filter(|(k, slo)| !slo.holds(failing.metrics[*k].mean)).filter_map(
                |(k, slo)| {
                    let (ml, mh) = (&pl.metrics[k], &ph.metrics[k]);
                    let slope = (mh.mean - ml.mean) / (h - l);
                    (slope != 0.0 && slope.is_finite())
                        .then(|| (l + (slo.value - ml.mean) / slope, (ml.ci95 + mh.ci95) / 2.0 / slope.abs()))
                },
            );
        let edge = if largest {
            crossings.min_by(|a, b| a.0.total_cmp(&b.0))
        } else {
            crossings.max_by(|a, b| a.0.total_cmp(&b.0))
        };
        if let Some((x, stat)) = edge {
            interpolated = Some(x.clamp(l, h));
            uncertainty = Some(((h - l) / 2.0).max(if stat.is_finite() { stat } else { 0.0 }));
        }
    }
    CapacityResult {
        param: s.args.vary.clone(),
        find: s.args.find,
        answer: if largest { lo } else { hi },
        bracket: (lo, hi),
        interpolated,
        uncertainty,
        slo: s.args.slo.clone(),
        replications: s.args.common.replications,
        seed: s.args.common.seed,
        probes: s.probes.clone(),
        note,
    }
}

/// The probes nearest the answer (the interpolated edge, else the bracket's known end), six
/// at most; None when there are no more probes than that (the full chart shows them).
fn near_answer(r: &CapacityResult) -> Option<Vec<f64>> {
    let centre = r.interpolated.or(r.answer).or(r.bracket.0).or(r.bracket.1)?;
    let mut values: Vec<f64> = r.probes.iter().map(|p| p.value).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    if values.len() <= 6 {
        return None;
    }
    values.sort_by(|a, b| (a - centre).abs().total_cmp(&(b - centre).abs()));
    values.truncate(6);
    Some(values)
}

/// An SLO in words for a legend, the unit after the limit: "SLO: p99 end-to-end latency ≤ 6 s"
/// (no unit for a fraction or a count).
fn slo_words(slo: &Slo) -> String {
    let label = metric_label(&slo.metric);
    let (words, unit) = match label.rsplit_once(" [") {
        Some((w, u)) if label.ends_with(']') => (w, u.trim_end_matches(']')),
        _ => (label.as_str(), ""),
    };
    let unit = if ["", "fraction", "count"].contains(&unit) { String::new() } else { format!(" {unit}") };
    let op = slo.op.replace("<=", "≤").replace(">=", "≥");
    format!("SLO: {words} {op} {}{unit}", sig(slo.value, 4))
}

/// SLO metric against the varied parameter at every probe: the mean with its 95 % band, the
/// probes meeting every SLO and those failing one marked apart, the limit dashed and the
/// answer a dotted vertical line. Every probe is on the chart — the failing ones are the
/// evidence for the answer — on a log axis where they span 1.5 decades or more.
/// With `only`, just those probe values, the y axis fitted to them (the crossing near the answer).
fn chart(r: &CapacityResult, k: usize, slo: &Slo, name: &str, only: Option<&[f64]>) -> LineChart {
    let mut pts: Vec<(f64, f64, f64, bool)> = r
        .probes
        .iter()
        .filter(|p| only.is_none_or(|o| o.contains(&p.value)))
        .map(|p| (p.value, p.metrics[k].mean, p.metrics[k].ci95, p.feasible))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts.dedup_by(|a, b| a.0 == b.0);
    let share = is_share_name(&slo.metric);
    let never_negative = pts.iter().all(|p| p.1 >= 0.0);
    let band = |p: &(f64, f64, f64, bool)| {
        let (mut lo, mut hi) = (p.1 - p.2, p.1 + p.2);
        if share {
            (lo, hi) = (lo.max(0.0), hi.min(1.0));
        }
        if never_negative {
            lo = lo.max(0.0);
        }
        (p.0, lo, hi)
    };
    let (x0, x1) = (pts.first().map_or(0.0, |p| p.0), pts.last().map_or(1.0, |p| p.0));
    let which = if r.find == Find::Largest { "largest" } else { "smallest" };
    let answer = match r.answer {
        Some(m) => format!("{which} meeting every SLO: {}", sig(m, 4)),
        None => "no value meets every SLO".into(),
    };
    let marked = |feasible: bool| pts.iter().filter(|p| p.3 == feasible).map(|p| (p.0, p.1)).collect();
    let series = vec![
        Series {
            name: format!("mean over {} replications", r.replications),
            points: pts.iter().map(|p| (p.0, p.1)).collect(),
            band: pts.iter().filter(|p| p.2.is_finite()).map(band).collect(),
            no_markers: true,
            ..Series::default()
        },
        Series {
            name: "probe meets every SLO".into(),
            points: marked(true),
            scatter: true,
            color: Some(2),
            marker: Some(Marker::Circle),
            ..Series::default()
        },
        Series {
            name: "probe fails an SLO".into(),
            points: marked(false),
            scatter: true,
            color: Some(1),
            marker: Some(Marker::Cross),
            ..Series::default()
        },
        Series {
            name: slo_words(slo),
            points: vec![(x0, slo.value), (x1, slo.value)],
            dashed: true,
            color: Some(6),
            ..Series::default()
        },
    ];
    // The metric in words, without its unit (the axis label has it).
    let label = metric_label(&slo.metric);
    let words = label.split(" [").next().unwrap_or(&label);
    let (title, fit_y) = match only {
        Some(_) => (format!("{name}: {words} near the answer ({answer})"), true),
        None => (format!("{name}: {words} at each probe ({answer})"), false),
    };
    LineChart {
        title,
        fit_y,
        x_label: param_label(&r.param),
        y_label: metric_label(&slo.metric),
        series,
        log_x: true,
        log_y: true,
        share,
        vlines: r.answer.map(|m| (m, format!("answer: {}", sig(m, 4)))).into_iter().collect(),
        note: Some(format!(
            "Each probe: the mean over {} replications (seed {}, the same random numbers at every probe); shaded: 95 % confidence band.",
            r.replications, r.seed
        )),
        ..LineChart::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slos_read_as_words_with_the_unit_after_the_limit() {
        let slo = Slo::parse("latency_s.e2e.p99<=6").expect("valid");
        assert_eq!(slo_words(&slo), "SLO: p99 end-to-end latency ≤ 6 s");
        let slo = Slo::parse("stations.server.p_wait<=0.2").expect("valid");
        assert_eq!(slo_words(&slo), "SLO: probability of waiting at server ≤ 0.2");
        let slo = Slo::parse("requests.throughput_per_s>=90").expect("valid");
        assert_eq!(slo_words(&slo), "SLO: throughput ≥ 90 requests/s");
    }
}
