//! HTML building blocks shared by `capsim report` and the gallery page: escaping, a stylesheet,
//! tables from CSV text, and PNG images inlined as data URIs (pages need no network).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;

/// The stylesheet shared by capsim's pages.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1250px;color:#222}\
table{border-collapse:collapse;font-size:13px;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}\
th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow:auto;max-height:40em;font-size:12px}\
img{max-width:100%;border:1px solid #ddd}.scroll{overflow:auto}figure{margin:1.5em 0}figcaption{color:#666;font-size:13px}.foot{color:#888;font-size:12px}";

/// `s` escaped, with the `**bold**` and `` `code` `` of the gallery's markdown texts as HTML.
pub fn esc_marked(s: &str) -> String {
    let mut out = String::new();
    let (mut bold, mut code) = (false, false);
    let e = esc(s);
    let mut rest = e.as_str();
    while let Some(i) = rest.find(['*', '`']) {
        out.push_str(&rest[..i]);
        if rest[i..].starts_with("**") {
            out.push_str(if bold { "</b>" } else { "<b>" });
            bold = !bold;
            rest = &rest[i + 2..];
        } else if rest[i..].starts_with('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[i + 1..];
        } else {
            out.push('*');
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// `s` with HTML's special characters escaped.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An HTML table of a CSV text (quoted fields are rare in capsim output and shown as they are).
pub fn csv_table(text: &str, max_rows: usize) -> String {
    let mut o = String::from("<div class=\"scroll\"><table>\n");
    for (i, line) in text.lines().take(max_rows + 1).enumerate() {
        let cell = if i == 0 { "th" } else { "td" };
        o.push_str("<tr>");
        for f in line.split(',') {
            let _ = write!(o, "<{cell}>{}</{cell}>", esc(&short(f)));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table></div>\n");
    o
}

/// Numbers with a fraction are shown to 4 significant digits (the CSV keeps them all).
pub fn short(f: &str) -> String {
    match f.parse::<f64>() {
        Ok(x) if f.contains('.') && x.is_finite() && x != 0.0 => {
            let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
            format!("{x:.digits$}")
        }
        _ => f.to_string(),
    }
}

/// An `<img>` with the PNG at `path` inlined.
pub fn inline_png(path: &Path, alt: &str) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("<img alt=\"{}\" src=\"data:image/png;base64,{data}\">", esc(alt)))
}
