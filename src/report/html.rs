//! HTML building blocks shared by `capsim report` and the gallery page: escaping, a stylesheet
//! that fits desktop and phone widths, tables from CSV text, and PNG images either inlined as
//! data URIs (a run's page is one file to pass around) or linked beside the page (the gallery,
//! whose charts are committed next to it). Neither needs a network.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine;

/// The stylesheet shared by capsim's pages. The page itself never scrolls sideways: long words
/// wrap, images shrink to the column, wide tables scroll inside their `.scroll` box, and tables
/// of class `cards` become one card per row on narrow screens (each cell labelled from its
/// `data-label`; cells of class `n` side by side, empty cells left out, a `name` cell as the
/// card's title).
pub const STYLE: &str = "*,*::before,*::after{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%}\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1.5em 2em 3em;max-width:1320px;color:#222;line-height:1.45;overflow-wrap:break-word}\
h1{font-size:1.9em;margin:.3em 0 .4em}h2{margin:1.6em 0 .5em}h3{margin:1.4em 0 .4em}p{max-width:56em}\
a{color:#0b5cad}code{font-size:.92em;overflow-wrap:anywhere}\
table{border-collapse:collapse;font-size:13px;margin-bottom:1em}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}\
th{background:#f3f3f3;font-weight:600}td.text,th.text{text-align:left}\
table:not(.fit) td:not(.text){white-space:nowrap}table.fit td{overflow-wrap:anywhere}\
pre{background:#f7f7f7;padding:1em;overflow:auto;max-height:40em;font-size:12px}\
img{display:block;max-width:100%;height:auto;border:1px solid #ddd}\
.scroll{overflow-x:auto;max-width:100%}.scroll>table{margin-bottom:.3em}\
figure{margin:1.2em 0;min-width:0}figcaption{color:#555;font-size:13px;margin-top:.4em;max-width:56em}figcaption b{color:#222}\
details{margin:.8em 0}summary{cursor:pointer;color:#0b5cad}\
.muted{color:#666}.small{font-size:12px}.foot{color:#888;font-size:12px;margin-top:3em}\
.warn{background:#fff4d6;border-left:4px solid #d9a400;padding:.5em 1em}\
@media (max-width:760px){body{padding:1em .8em 2em}h1{font-size:1.5em}\
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:auto}\
table.cards{border:0}table.cards tr.head{display:none}\
table.cards tr{border:1px solid #ccc;margin-bottom:.8em}\
table.cards td{border:0;border-top:1px solid #eee;text-align:left}table.cards td:first-child{border-top:0}\
table.cards td[data-label]::before{content:attr(data-label);display:block;font-size:11px;font-weight:600;color:#666}\
table.cards td.n{display:inline-block;border:0;max-width:100%}table.cards td.n::before{display:inline;margin-right:.3em}\
table.cards td:empty{display:none}table.cards td.name{font-weight:600;font-size:15px}table.cards td.name::before{display:none}}";

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
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</b>");
    }
    out
}

/// `s` with HTML's special characters escaped.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page around `body`: doctype, title, the shared stylesheet plus `extra_style`, and a
/// viewport line so phones lay it out at their own width.
pub fn page(title: &str, extra_style: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title>\n<style>{STYLE}{extra_style}</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
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

/// How a page shows its PNG charts.
#[derive(Clone, Copy, Debug)]
pub enum Images<'a> {
    /// Inlined as data URIs: the page is one file.
    Inline,
    /// Linked by a path relative to the page's folder (the PNG must lie inside it).
    Linked {
        /// The folder the page is written to.
        page_dir: &'a Path,
    },
}

/// An `<img>` of the PNG at `path`, inlined or linked as `images` says; `alt` says in words
/// what it shows.
pub fn png(path: &Path, alt: &str, images: Images) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Width and height from the PNG header let the browser reserve the space of an image it
    // has not decoded yet (lazy loading), so links into the page land where they should.
    let size = png_size(&bytes).map_or(String::new(), |(w, h)| format!(" width=\"{w}\" height=\"{h}\""));
    let src = match images {
        Images::Inline => {
            format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        Images::Linked { page_dir } => relative_url(page_dir, path)?,
    };
    Ok(format!("<img alt=\"{}\"{size} loading=\"lazy\" src=\"{}\">", esc(alt), esc(&src)))
}

/// `path` as a URL relative to `dir`, its parts joined by `/` and every byte but letters,
/// digits, `.`, `_` and `-` percent-encoded; an error if it lies outside `dir`.
fn relative_url(dir: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(dir)
        .with_context(|| format!("{} is not inside the page's folder {}", path.display(), dir.display()))?;
    let mut url = String::new();
    for (i, part) in rel.components().enumerate() {
        if i > 0 {
            url.push('/');
        }
        for &b in part.as_os_str().to_string_lossy().as_bytes() {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                url.push(b as char);
            } else {
                let _ = write!(url, "%{b:02X}");
            }
        }
    }
    Ok(url)
}

/// Width and height [px] of a PNG, from its IHDR chunk; `None` if `bytes` is not a PNG.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |k: usize| u32::from_be_bytes([bytes[k], bytes[k + 1], bytes[k + 2], bytes[k + 3]]);
    Some((be(16), be(20)))
}

/// A figure: the PNG at `path` (inlined or linked as `images` says), with `title` in bold and
/// `caption` below it. `id` anchors it (links from tables point at it).
pub fn figure(id: &str, path: &Path, title: &str, caption: &str, images: Images) -> Result<String> {
    let img = png(path, title, images)?;
    let sep = if caption.is_empty() { "" } else { " " };
    Ok(format!(
        "<figure id=\"{}\">{img}<figcaption><b>{}</b>{sep}{}</figcaption></figure>\n",
        esc(id),
        esc(title),
        esc_marked(caption)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_text_closes_what_it_opens() {
        assert_eq!(esc_marked("a **b** `c<d`"), "a <b>b</b> <code>c&lt;d</code>");
        assert_eq!(esc_marked("an odd ` tick"), "an odd <code> tick</code>");
        assert_eq!(esc_marked("2 * 3"), "2 * 3");
    }

    #[test]
    fn linked_images_are_relative_urls_inside_the_page_folder() {
        let dir = Path::new("/out");
        assert_eq!(relative_url(dir, Path::new("/out/a b/c%.png")).unwrap(), "a%20b/c%25.png");
        assert!(relative_url(dir, Path::new("/elsewhere/c.png")).is_err());
    }

    #[test]
    fn png_size_reads_the_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&1200u32.to_be_bytes());
        png.extend_from_slice(&700u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((1200, 700)));
        assert_eq!(png_size(b"GIF89a, not a png at all"), None);
    }
}
