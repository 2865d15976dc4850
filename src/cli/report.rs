//! `capsim report DIR`: one self-contained index.html (images inlined, no network) showing
//! every chart and table of a run, sweep, comparison or capacity search.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;

use crate::report::html::{STYLE, csv_table, esc};

/// Writes DIR/index.html.
pub fn report(dir: &Path) -> Result<()> {
    let html = page(dir)?;
    let out = dir.join("index.html");
    std::fs::write(&out, html).with_context(|| format!("cannot write {}", out.display()))?;
    crate::say!("wrote {}", out.display());
    Ok(())
}

/// The page for the outputs found in `dir`.
pub fn page(dir: &Path) -> Result<String> {
    let has = |f: &str| dir.join(f).is_file();
    let kind = if has("summary.json") {
        "run"
    } else if has("sweep.json") {
        "sweep"
    } else if has("compare.json") {
        "comparison"
    } else if has("capacity.json") {
        "capacity search"
    } else {
        bail!("{} holds no capsim output (summary.json, sweep.json, compare.json or capacity.json)", dir.display());
    };
    let named = [
        ("summary.json", "model"),
        ("sweep.json", "experiment"),
        ("compare.json", "model"),
        ("capacity.json", "param"),
    ];
    let name = named
        .iter()
        .filter(|(f, _)| has(f))
        .find_map(|(f, key)| {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(f)).ok()?).ok()?;
            v[key].as_str().map(str::to_string)
        })
        .unwrap_or_else(|| dir.display().to_string());
    let title = format!("capsim {kind}: {name}");
    let mut body = format!("<h1>{}</h1>\n", esc(&title));
    let mut pngs: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pngs.sort();
    if !pngs.is_empty() {
        body.push_str("<h2>Charts</h2>\n");
    }
    for p in pngs {
        let data = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&p)?);
        let name = p.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let _ = writeln!(
            body,
            "<figure><img alt=\"{0}\" src=\"data:image/png;base64,{data}\"><figcaption>{0}</figcaption></figure>",
            esc(&name)
        );
    }
    for (file, heading) in [
        ("points.csv", "Points (mean, 95 % half-width, replications)"),
        ("compare.csv", "Paired differences B − A (95 %)"),
        ("timeseries.csv", ""),
    ] {
        if has(file) && !heading.is_empty() {
            let text = std::fs::read_to_string(dir.join(file))?;
            let _ = write!(body, "<h2>{}</h2>\n{}", esc(heading), csv_table(&text, 500));
        }
    }
    for (file, heading) in [("summary.json", "Summary"), ("capacity.json", "Capacity search"), ("compare.json", "")] {
        if has(file) && !heading.is_empty() {
            let text = std::fs::read_to_string(dir.join(file))?;
            let _ = write!(body, "<h2>{}</h2>\n<pre>{}</pre>\n", esc(heading), esc(&text));
        }
    }
    Ok(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}<p class=\"foot\">Written by capsim report. Files: {}</p>\n</body></html>\n",
        esc(&title),
        esc(&dir.display().to_string())
    ))
}
