//! `index.html` of the gallery: the claims table and, per experiment, its description,
//! settings and parameters, its claims, every chart with a caption, and its points — one
//! self-contained page (charts inlined), readable without running capsim.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::readme::{VERDICTS, with_interval};
use super::{Entry, Tally, profile_words, settings_words};
use crate::experiment::claims::{ClaimResult, Verdict};
use crate::experiment::spec::ClaimKind;
use crate::experiment::{Profile, plain};
use crate::report::html::{STYLE, esc, esc_marked, inline_png};
use crate::report::labels::{metric_label, sig};
use crate::stats::t_interval;

const EXTRA_STYLE: &str = ".reproduced{background:#e3f4e8}.direction{background:#fff4d6}.differs{background:#fde2e1}\
td.text,th.text{text-align:left;max-width:28em}section{border-top:2px solid #ddd;margin-top:2.5em}\
figcaption b{color:#222}.muted{color:#666}";

/// The whole page; charts are read from `out/<experiment>/<chart>.png`.
pub fn html(entries: &[Entry], out: &Path, profile: Profile) -> Result<String> {
    let mut b = String::from("<h1>capsim gallery</h1>\n");
    let _ = writeln!(
        b,
        "<p>Every experiment of capsim, run with the {}; each claim checked against the reference figure it \
         cites (a seed scenario, a paper or a closed form). Regenerate with <code>cargo run --release -- gallery</code>.</p>",
        esc_marked(profile_words(profile))
    );
    let _ = writeln!(b, "<p class=\"muted\">{}</p>", esc_marked(VERDICTS));
    let _ = writeln!(b, "<h2>Claims</h2>\n<p>{}</p>", esc(&Tally::of(entries).headline()));
    let outcomes = entries.iter().flat_map(|e| e.claims.iter().filter(|c| c.kind == ClaimKind::Outcome).map(move |c| (e, c)));
    b.push_str(&claims_table(outcomes, true));
    for e in entries {
        section(&mut b, e, out)?;
    }
    Ok(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>capsim gallery</title>\n\
         <style>{STYLE}{EXTRA_STYLE}</style></head>\n<body>\n{b}<p class=\"foot\">Written by capsim gallery.</p>\n</body></html>\n"
    ))
}

/// A table of claims; with `show_experiment`, a first column naming each one's experiment.
fn claims_table<'a>(rows: impl Iterator<Item = (&'a Entry, &'a ClaimResult)>, show_experiment: bool) -> String {
    let mut o = String::from("<div class=\"scroll\"><table>\n<tr>");
    if show_experiment {
        o.push_str("<th class=\"text\">experiment</th>");
    }
    o.push_str("<th class=\"text\">claim</th><th class=\"text\">source</th><th>reference</th><th>capsim (mean ± 95 %)</th><th>verdict</th><th class=\"text\">note</th><th>chart</th></tr>\n");
    for (e, c) in rows {
        let class = match c.verdict {
            Verdict::Reproduced => "reproduced",
            Verdict::DirectionOnly => "direction",
            Verdict::Differs => "differs",
        };
        let name = &e.exp.spec.name;
        o.push_str("<tr>");
        if show_experiment {
            let _ = write!(o, "<td class=\"text\"><a href=\"#{0}\">{0}</a></td>", esc(name));
        }
        let chart =
            c.chart.as_ref().map_or(String::new(), |f| format!("<a href=\"#{}-{}\">{}</a>", esc(name), esc(f), esc(f)));
        let _ = writeln!(
            o,
            "<td class=\"text\">{}<br><span class=\"muted\">{} at {}</span></td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td class=\"text\">{}</td><td>{chart}</td></tr>",
            esc(&c.claim),
            esc(&metric_label(&c.metric)),
            esc(&c.points),
            esc(&c.source),
            esc(&c.reference),
            esc(&with_interval(c)),
            c.verdict.label(),
            esc(&c.note)
        );
    }
    o.push_str("</table></div>\n");
    o
}

/// One experiment: description, settings, parameters, claims, charts, points.
fn section(b: &mut String, e: &Entry, out: &Path) -> Result<()> {
    let spec = &e.exp.spec;
    let _ = writeln!(b, "<section id=\"{0}\"><h2>{0}</h2>\n<p>{1}</p>", esc(&spec.name), esc(&spec.description));
    let _ = writeln!(
        b,
        "<p class=\"muted\">File <code>{}</code> on model <code>{}</code>: {}.</p>",
        esc(&e.file),
        esc(&spec.model),
        esc(&settings_words(&e.exp))
    );
    b.push_str("<table><tr><th class=\"text\">parameter</th><th class=\"text\">model field</th><th class=\"text\">values</th></tr>\n");
    for p in &e.exp.params {
        let values: Vec<String> = p.values.iter().map(|v| v.as_f64().map_or_else(|| plain(v), |x| sig(x, 6))).collect();
        let _ = writeln!(
            b,
            "<tr><td class=\"text\">{}</td><td class=\"text\"><code>{}</code></td><td class=\"text\">{}</td></tr>",
            esc(&p.name),
            esc(&p.path),
            esc(&values.join(", "))
        );
    }
    b.push_str("</table>\n");
    for (kind, heading) in [(ClaimKind::Outcome, "Claims"), (ClaimKind::Calibration, "Calibration rows (checked, not counted)")] {
        let rows: Vec<&ClaimResult> = e.claims.iter().filter(|c| c.kind == kind).collect();
        if !rows.is_empty() {
            let _ = writeln!(b, "<h3>{heading}</h3>");
            b.push_str(&claims_table(rows.into_iter().map(|c| (e, c)), false));
        }
    }
    b.push_str("<h3>Charts</h3>\n");
    for (k, c) in spec.charts.iter().enumerate() {
        let stem = c.file.clone().unwrap_or_else(|| format!("chart-{}", k + 1));
        let title = e.table.chart(c).title;
        let img = inline_png(&out.join(&spec.name).join(format!("{stem}.png")), &title)?;
        let _ = writeln!(
            b,
            "<figure id=\"{}-{}\">{img}<figcaption><b>{}</b><br>{}</figcaption></figure>",
            esc(&spec.name),
            esc(&stem),
            esc(&title),
            esc(c.caption.as_deref().unwrap_or(""))
        );
    }
    points_table(b, e);
    b.push_str("</section>\n");
    Ok(())
}

/// Every point: parameters, then each metric as mean ± 95 % half-width.
fn points_table(b: &mut String, e: &Entry) {
    let t = &e.table;
    let _ = writeln!(
        b,
        "<details><summary>Points ({}): mean ± 95 % half-width over the replications (also in points.csv)</summary>\n<div class=\"scroll\"><table><tr><th>point</th>",
        t.results.len()
    );
    for p in &t.params {
        let _ = write!(b, "<th>{}</th>", esc(&p.name));
    }
    for m in &t.spec.metrics {
        let _ = write!(b, "<th title=\"{}\">{}</th>", esc(m), esc(&metric_label(m)));
    }
    b.push_str("</tr>\n");
    for r in &t.results {
        let _ = write!(b, "<tr><td>{}</td>", r.index);
        for v in &t.point_values[r.index] {
            let _ = write!(b, "<td>{}</td>", esc(&v.as_f64().map_or_else(|| plain(v), |x| sig(x, 6))));
        }
        for vals in &r.values {
            let i = t_interval(vals, 0.95);
            let _ = write!(b, "<td>{} ± {}</td>", sig(i.mean, 4), sig(i.half_width, 2));
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</table></div></details>\n");
}
