//! `capsim compare`: two configurations under common random numbers; for every summary metric,
//! the paired difference B − A with its 95 % interval and whether it is significant.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::common::ModelArgs;
use super::parse_override;
use crate::experiment::replicate::{numeric_leaves, replicate};
use crate::metrics::Latency;
use crate::model::Override;
use crate::report::charts::{Chart, LineChart, Series, cdf_points, latency_unit, time_unit};
use crate::report::labels::{param_label, sig};
use crate::report::output::RunOutput;
use crate::stats::{paired, t_interval};

/// Arguments of `capsim compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    pub common: ModelArgs,
    /// Overrides that make configuration A ("before"); repeat for several.
    #[arg(long = "a", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub a: Vec<Override>,
    /// Overrides that make configuration B ("after"); repeat for several.
    #[arg(long = "b", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub b: Vec<Override>,
}

/// One metric compared.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub metric: String,
    pub a_mean: f64,
    pub b_mean: f64,
    /// Mean of the paired differences B − A.
    pub diff: f64,
    /// 95 % half-width of the paired difference.
    pub ci95: f64,
    /// Whether 0 lies outside diff ± ci95.
    pub significant: bool,
    /// diff / |a_mean|; none (null, an empty CSV field) when a_mean is 0.
    pub relative: Option<f64>,
}

/// compare.json.
#[derive(Debug, Serialize)]
struct Comparison<'a> {
    model: String,
    a: Vec<String>,
    b: Vec<String>,
    replications: usize,
    seed: u64,
    metrics: &'a [Row],
    /// Metrics that only configuration A's summaries have (e.g. a kind or a recovery section
    /// that B lacks), so they cannot be paired.
    only_in_a: Vec<String>,
    /// Metrics that only configuration B's summaries have.
    only_in_b: Vec<String>,
}

/// The numeric metric paths of the first run of each side that the other side lacks.
pub fn one_sided(a: &[RunOutput], b: &[RunOutput]) -> (Vec<String>, Vec<String>) {
    let paths = |runs: &[RunOutput]| -> std::collections::BTreeSet<String> {
        runs.first().map_or_else(Default::default, |o| {
            numeric_leaves(&serde_json::to_value(&o.summary).expect("serialises")).into_iter().map(|(p, _)| p).collect()
        })
    };
    let (pa, pb) = (paths(a), paths(b));
    (pa.difference(&pb).cloned().collect(), pb.difference(&pa).cloned().collect())
}

/// Paired rows for every metric present in both configurations.
pub fn rows(a: &[RunOutput], b: &[RunOutput]) -> Vec<Row> {
    let leaves = |runs: &[RunOutput]| -> Vec<Vec<(String, f64)>> {
        runs.iter().map(|o| numeric_leaves(&serde_json::to_value(&o.summary).expect("serialises"))).collect()
    };
    let (la, lb) = (leaves(a), leaves(b));
    let Some(first) = la.first() else { return Vec::new() };
    let value = |l: &[(String, f64)], path: &str| l.iter().find(|(p, _)| p == path).map(|x| x.1);
    first
        .iter()
        .filter_map(|(path, _)| {
            let av: Vec<f64> = la.iter().map(|l| value(l, path)).collect::<Option<_>>()?;
            let bv: Vec<f64> = lb.iter().map(|l| value(l, path)).collect::<Option<_>>()?;
            let d = paired(&av, &bv, 0.95);
            let a_mean = t_interval(&av, 0.95).mean;
            Some(Row {
                metric: path.clone(),
                a_mean,
                b_mean: t_interval(&bv, 0.95).mean,
                diff: d.mean,
                ci95: d.half_width,
                significant: d.half_width.is_finite() && d.mean.abs() > d.half_width,
                relative: (a_mean != 0.0).then(|| d.mean / a_mean.abs()),
            })
        })
        .collect()
}

/// The overrides of one side as `path=value`, or the model as written when there are none.
fn describe(o: &[Override]) -> Vec<String> {
    if o.is_empty() {
        return vec!["the model as written (no overrides)".into()];
    }
    o.iter().map(|o| format!("{}={}", o.path, o.value)).collect()
}

/// The overrides of one side in the reader's words, for a chart's legend: each field's name in
/// words and its value with the unit ("servers at server: 11", "arrival rate of source
/// arrivals: 9 requests/s"), or the model as written when there are none.
fn legend_words(o: &[Override]) -> String {
    if o.is_empty() {
        return "the model as written".into();
    }
    let one = |o: &Override| {
        let label = param_label(&o.path);
        let (words, unit) = match label.rsplit_once(" [") {
            Some((w, u)) if label.ends_with(']') => (w.to_string(), u.trim_end_matches(']').to_string()),
            _ => (label.clone(), String::new()),
        };
        let value = match &o.value {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let unit =
            if unit.is_empty() || unit == "count" || !o.value.is_number() { String::new() } else { format!(" {unit}") };
        format!("{words}: {value}{unit}")
    };
    o.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Runs both configurations and writes compare.json, compare.csv and the before/after charts.
pub fn compare(args: CompareArgs) -> Result<()> {
    let c = &args.common;
    if c.replications < 2 {
        bail!(
            "--replications must be at least 2 (a paired 95 % interval needs two replications), got {}",
            c.replications
        );
    }
    if args.a.is_empty() && args.b.is_empty() {
        bail!(
            "give --a and/or --b: the overrides that make configurations A and B (one side left out is the model as written)"
        );
    }
    let ma = c.load(&args.a).context("configuration A")?;
    let mb = c.load(&args.b).context("configuration B")?;
    let runs = replicate(&[ma.clone(), mb], c.replications, c.seed, c.threads)?;
    let rows = rows(&runs[0], &runs[1]);
    let (only_in_a, only_in_b) = one_sided(&runs[0], &runs[1]);
    let dir = c.out.clone().unwrap_or_else(|| PathBuf::from("output").join(format!("{}-compare", ma.spec.name)));
    std::fs::create_dir_all(&dir)?;
    let doc = Comparison {
        model: c.model.display().to_string(),
        a: describe(&args.a),
        b: describe(&args.b),
        replications: c.replications,
        seed: c.seed,
        metrics: &rows,
        only_in_a,
        only_in_b,
    };
    std::fs::write(dir.join("compare.json"), serde_json::to_string_pretty(&doc)? + "\n")?;
    let mut csv = String::from("metric,a_mean,b_mean,diff,ci95,significant,relative\n");
    for r in &rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            r.metric,
            r.a_mean,
            r.b_mean,
            r.diff,
            r.ci95,
            r.significant,
            r.relative.map_or(String::new(), |x| x.to_string())
        );
    }
    std::fs::write(dir.join("compare.csv"), csv)?;
    let labels = (format!("A: {}", doc.a.join(", ")), format!("B: {}", doc.b.join(", ")));
    let words = (format!("A: {}", legend_words(&args.a)), format!("B: {}", legend_words(&args.b)));
    let mut written = cdf_chart(&runs, &words, &ma.spec.name).save_both(&dir, "before_after_cdf")?;
    written.extend(p99_chart(&runs, &words, &ma).save_both(&dir, "before_after_p99")?);
    crate::say_raw!("{}", table(&rows, c.replications, &labels));
    for (side, only) in [("A", &doc.only_in_a), ("B", &doc.only_in_b)] {
        if !only.is_empty() {
            let shown: Vec<&str> = only.iter().take(5).map(String::as_str).collect();
            crate::say!(
                "{} metric{} only configuration {side} has, so not compared (listed in compare.json's only_in_{}): {}{}",
                only.len(),
                if only.len() == 1 { "" } else { "s" },
                side.to_lowercase(),
                shown.join(", "),
                if only.len() > shown.len() { ", …" } else { "" }
            );
        }
    }
    crate::say!("wrote {}/compare.json, compare.csv", dir.display());
    for w in written {
        crate::say!("wrote {}", w.display());
    }
    Ok(())
}

fn table(rows: &[Row], reps: usize, labels: &(String, String)) -> String {
    let mut o = format!(
        "{}\n{}\npaired over {reps} replications (common random numbers); * = significant at 95 %\n",
        labels.0, labels.1
    );
    let _ = writeln!(o, "{:<44} {:>12} {:>12} {:>14} {:>12}", "metric", "A", "B", "B − A", "± 95 %");
    let headline = ["requests.throughput_per_s", "latency_s.e2e.mean", "latency_s.e2e.p99", "cost_usd.total"];
    let shown = rows.iter().filter(|r| headline.contains(&r.metric.as_str()) || r.significant).take(30);
    for r in shown {
        let star = if r.significant { "*" } else { " " };
        let _ = writeln!(
            o,
            "{:<44} {:>12} {:>12} {:>13}{star} {:>12}",
            r.metric,
            sig(r.a_mean, 5),
            sig(r.b_mean, 5),
            sig(r.diff, 5),
            sig(r.ci95, 5)
        );
    }
    o
}

/// e2e latency CDFs of A and B, pooled over replications.
fn cdf_chart(runs: &[Vec<RunOutput>], labels: &(String, String), name: &str) -> LineChart {
    let pool = |rs: &[RunOutput]| {
        let mut l = Latency::default();
        rs.iter().for_each(|o| l.merge(&o.e2e));
        l
    };
    let (a, b) = (pool(&runs[0]), pool(&runs[1]));
    let (mul, unit) = latency_unit(a.quantile_s(0.999).max(b.quantile_s(0.999)));
    LineChart {
        title: format!("{name}: end-to-end latency before (A) and after (B)"),
        x_label: format!("latency [{unit}]"),
        y_label: "fraction of requests completed within".into(),
        series: vec![
            Series::line(labels.0.clone(), cdf_points(&a, mul)),
            Series::line(labels.1.clone(), cdf_points(&b, mul)),
        ],
        log_x: true,
        share: true,
        note: Some(format!("Each line: every request after warm-up of all {} replications, pooled.", runs[0].len())),
        ..LineChart::default()
    }
}

/// p99 per window of replication 0 of A and B (same seed, so the same arrivals).
fn p99_chart(runs: &[Vec<RunOutput>], labels: &(String, String), model: &crate::model::Model) -> LineChart {
    let (div, unit) = time_unit(model.duration.as_secs());
    let max = runs.iter().flat_map(|r| r[0].rows.iter().map(|w| w.p99)).fold(0.0, f64::max);
    let (mul, lunit) = latency_unit(max);
    let series = |o: &RunOutput, name: &str| {
        // A window in which nothing completed has no p99: a gap, not a 0.
        let y = |w: &crate::metrics::WindowRow| if w.completions > 0 { w.p99 * mul } else { f64::NAN };
        let pts = o.rows.iter().map(|w| ((w.t_start + w.t_end) / 2.0 / div, y(w)));
        Series::line(name, pts.collect())
    };
    LineChart {
        title: format!("{}: p99 latency per window, A and B with the same arrivals (replication 1)", model.spec.name),
        x_label: format!("simulated time [{unit}]"),
        y_label: format!("p99 latency [{lunit}]"),
        series: vec![series(&runs[0][0], &labels.0), series(&runs[1][0], &labels.1)],
        shade: (model.warmup.0 > 0).then(|| (0.0, model.warmup.as_secs() / div, "warm-up (not measured)".into())),
        note: Some("Each line: replication 1 (A and B with the same random numbers).".into()),
        ..LineChart::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(path: &str, value: serde_json::Value) -> Override {
        Override { path: path.into(), value, flag: None }
    }

    #[test]
    fn legends_name_the_overrides_in_words() {
        let o = [ov("stations.server.servers", serde_json::json!(11))];
        assert_eq!(legend_words(&o), "servers at server: 11");
        let o = [ov("sources.arrivals.rate", serde_json::json!(9)), ov("run.duration", serde_json::json!("2h"))];
        assert_eq!(legend_words(&o), "arrival rate of source arrivals: 9 requests/s, simulated time: 2h");
        assert_eq!(legend_words(&[]), "the model as written");
    }
}
