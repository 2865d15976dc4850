//! `capsim capacity`: the largest value of one parameter (usually the offered load) at which
//! every SLO holds — bisection with replications at every probe, common random numbers across
//! probes, and the answer reported with its bracket and statistical uncertainty.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use serde_json::Value;

use super::common::ModelArgs;
use crate::experiment::metric;
use crate::experiment::replicate::replicate;
use crate::model::Override;
use crate::report::charts::{LineChart, Series};
use crate::sim::skeleton_summary;
use crate::stats::t_interval;

/// Arguments of `capsim capacity`.
#[derive(Args, Debug)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub common: ModelArgs,
    /// Dotted path of the parameter to vary, as for --set (e.g. sources.arrivals.rate).
    #[arg(long)]
    pub vary: String,
    /// A service-level objective METRIC<=VALUE or METRIC>=VALUE, METRIC a dotted path into
    /// summary.json (e.g. latency_s.e2e.p99<=2). Repeat for several; all must hold.
    #[arg(long = "slo", required = true, value_parser = Slo::parse)]
    pub slo: Vec<Slo>,
    /// Lower end of the search (default: the model's current value), must meet the SLOs.
    #[arg(long)]
    pub lo: Option<f64>,
    /// Upper end (default: doubled from the lower end until an SLO fails).
    #[arg(long)]
    pub hi: Option<f64>,
    /// Stop when the bracket is narrower than this fraction of its upper end.
    #[arg(long, default_value_t = 0.005)]
    pub tolerance: f64,
    /// Most probes to run.
    #[arg(long, default_value_t = 40)]
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
                let value = v.trim().parse().map_err(|_| format!("`{v}` is not a number in SLO `{s}`"))?;
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
    /// Highest probed value that met every SLO (null if even the lower end failed).
    pub max_value: Option<f64>,
    /// [highest value meeting the SLOs, lowest value failing one] (null ends: not found).
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

struct Search<'a> {
    args: &'a CapacityArgs,
    integer: bool,
    probes: Vec<Probe>,
}

impl Search<'_> {
    fn probe(&mut self, x: f64) -> Result<bool> {
        let c = &self.args.common;
        let value: Value = if self.integer { Value::from(x.round() as i64) } else { Value::from(x) };
        let o = Override { path: self.args.vary.clone(), value };
        let model = c.load(&[o]).with_context(|| format!("model with {}={x}", self.args.vary))?;
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
        eprintln!("probe {}={x}: {}", self.args.vary, if feasible { "meets the SLOs" } else { "fails an SLO" });
        self.probes.push(Probe { value: x, feasible, metrics });
        Ok(feasible)
    }

    fn find(&self, x: f64) -> &Probe {
        self.probes.iter().rev().find(|p| p.value == x).expect("probed")
    }

    fn done(&self, lo: f64, hi: f64) -> bool {
        let narrow = if self.integer { hi - lo <= 1.0 } else { hi - lo <= self.args.tolerance * hi.abs() };
        narrow || self.probes.len() >= self.args.max_probes
    }
}

/// Runs the search and writes capacity.json and capacity charts.
pub fn capacity(args: CapacityArgs) -> Result<()> {
    let base = args.common.load(&[])?;
    let skeleton = serde_json::to_value(skeleton_summary(&base))?;
    for s in &args.slo {
        if metric(&skeleton, &s.metric).is_none() {
            bail!("--slo {}: `{}` is not a number in summary.json (see docs/metrics.md)", s.metric, s.metric);
        }
    }
    let spec = serde_json::to_value(&base.spec)?;
    let current = args.vary.split('.').try_fold(&spec, |v, k| v.get(k).or_else(|| v.get(k.parse::<usize>().ok()?)));
    let integer = current.is_some_and(|v| v.is_u64() || v.is_i64()) && args.lo.is_none_or(|x| x.fract() == 0.0);
    let lo = match (args.lo, current.and_then(Value::as_f64)) {
        (Some(x), _) | (None, Some(x)) => x,
        (None, None) => bail!("`{}` has no numeric value in the model: give --lo", args.vary),
    };
    let mut s = Search { args: &args, integer, probes: Vec::new() };
    let result = search(&mut s, lo)?;
    let dir =
        args.common.out.clone().unwrap_or_else(|| PathBuf::from("output").join(format!("{}-capacity", base.spec.name)));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("capacity.json"), serde_json::to_string_pretty(&result)? + "\n")?;
    let mut written = vec![dir.join("capacity.json")];
    for (k, slo) in args.slo.iter().enumerate() {
        written.extend(chart(&result, k, slo, &base.spec.name).save_both(&dir, &format!("capacity-{}", k + 1))?);
    }
    match (result.max_value, result.uncertainty) {
        (Some(m), Some(u)) => println!(
            "max {} meeting every SLO: {m} (interpolated {:.6}, ± {u:.3})",
            args.vary,
            result.interpolated.unwrap_or(m)
        ),
        (Some(m), None) => println!("max {} meeting every SLO: at least {m} ({})", args.vary, result.note),
        (None, _) => println!("no value meets every SLO ({})", result.note),
    }
    for w in written {
        println!("wrote {}", w.display());
    }
    Ok(())
}

fn search(s: &mut Search, mut lo: f64) -> Result<CapacityResult> {
    let mut note = String::from("bracket narrower than the tolerance");
    if !s.probe(lo)? {
        return Ok(finish(s, None, Some(lo), "the lower end already fails an SLO".into()));
    }
    let mut hi = match s.args.hi {
        Some(h) => h,
        None => {
            if lo > 0.0 {
                lo * 2.0
            } else {
                1.0
            }
        }
    };
    // Grow the upper end until an SLO fails.
    loop {
        if !s.probe(hi)? {
            break;
        }
        lo = hi;
        if s.args.hi.is_some() || s.probes.len() >= s.args.max_probes {
            return Ok(finish(
                s,
                Some(lo),
                None,
                "every probe met the SLOs: the edge lies beyond the upper end".into(),
            ));
        }
        hi *= 2.0;
    }
    while !s.done(lo, hi) {
        let mid = if s.integer { ((lo + hi) / 2.0).floor() } else { (lo + hi) / 2.0 };
        if s.probe(mid)? { lo = mid } else { hi = mid }
    }
    if s.probes.len() >= s.args.max_probes {
        note = "stopped at --max-probes".into();
    }
    Ok(finish(s, Some(lo), Some(hi), note))
}

fn finish(s: &Search, lo: Option<f64>, hi: Option<f64>, note: String) -> CapacityResult {
    let (mut interpolated, mut uncertainty) = (None, None);
    if let (Some(l), Some(h)) = (lo, hi) {
        let (pl, ph) = (s.find(l), s.find(h));
        // The binding SLO: the one failed at `hi` whose crossing comes first.
        let crossing =
            s.args.slo.iter().enumerate().filter(|(k, slo)| !slo.holds(ph.metrics[*k].mean)).filter_map(|(k, slo)| {
                let (ml, mh) = (&pl.metrics[k], &ph.metrics[k]);
                let slope = (mh.mean - ml.mean) / (h - l);
                (slope != 0.0).then(|| (l + (slo.value - ml.mean) / slope, (ml.ci95 + mh.ci95) / 2.0 / slope.abs()))
            });
        if let Some((x, stat)) = crossing.min_by(|a, b| a.0.total_cmp(&b.0)) {
            interpolated = Some(x.clamp(l, h));
            uncertainty = Some(((h - l) / 2.0).max(if stat.is_finite() { stat } else { 0.0 }));
        }
    }
    CapacityResult {
        param: s.args.vary.clone(),
        max_value: lo,
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

/// SLO metric against the varied parameter over the probes, with bands and the limit.
fn chart(r: &CapacityResult, k: usize, slo: &Slo, name: &str) -> LineChart {
    let mut pts: Vec<(f64, f64, f64)> =
        r.probes.iter().map(|p| (p.value, p.metrics[k].mean, p.metrics[k].ci95)).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts.dedup_by(|a, b| a.0 == b.0);
    let (x0, x1) = (pts.first().map_or(0.0, |p| p.0), pts.last().map_or(1.0, |p| p.0));
    let answer = match r.max_value {
        Some(m) => format!("max {} = {m}", r.param),
        None => "no value meets the SLOs".into(),
    };
    LineChart {
        title: format!("{name}: {} at each probe ({answer})", slo.metric),
        x_label: r.param.clone(),
        y_label: slo.metric.clone(),
        series: vec![
            Series {
                name: format!("mean over {} replications, 95 % band", r.replications),
                points: pts.iter().map(|p| (p.0, p.1)).collect(),
                band: pts.iter().filter(|p| p.2.is_finite()).map(|p| (p.0, p.1 - p.2, p.1 + p.2)).collect(),
                markers: true,
                scatter: false,
            },
            Series::line(
                format!("SLO: {} {} {}", slo.metric, slo.op, slo.value),
                vec![(x0, slo.value), (x1, slo.value)],
            ),
        ],
        ..LineChart::default()
    }
}
