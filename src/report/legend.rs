//! The legend of a chart, drawn in a strip below the plot (so it never covers data and needs no
//! room above them), each entry's swatch drawn exactly as its series is: colour, width, dash
//! and marker. A note (e.g. which replication a time series is) goes under the entries.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{GREY, Marker, draw_marker, draw_path};

/// Legend text size [px].
const FONT: u32 = 17;
/// Note text size [px].
const NOTE_FONT: u32 = 15;
/// Height of one legend row and of one note line [px].
const ROW: u32 = 26;
const NOTE_ROW: u32 = 21;
/// Width of a swatch and the gap after it, and between columns [px].
const SWATCH: i32 = 46;
const GAP: u32 = 28;
/// Left and right margin of the strip [px].
const MARGIN: u32 = 24;
/// Width of an average character of the legend and note fonts [px] (DejaVu Sans, generous).
const CHAR_W: f64 = 9.7;
const NOTE_CHAR_W: f64 = 8.6;

/// What an entry's swatch shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Swatch {
    /// A line, with the series' marker in its middle if the series has markers.
    Line { color: RGBColor, width: u32, dash: Option<(u32, u32)>, marker: Option<Marker> },
    /// A marker alone (filled, or hollow for a value that is only a lower bound).
    Marker { color: RGBColor, marker: Marker, filled: bool },
    /// A filled box (a shaded interval, a stacked part) in `color` at `opacity`.
    Fill { color: RGBColor, opacity: f64 },
}

/// One legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

/// Where the entries go: `cols` columns of `rows`, filled top to bottom, then left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub cols: usize,
    pub rows: usize,
    pub col_width: u32,
    pub note_lines: usize,
}

fn text_width(s: &str) -> u32 {
    (s.chars().count() as f64 * CHAR_W).ceil() as u32
}

/// Lays out `entries` and `note` in a strip `width` px wide: as many columns as the longest
/// label allows (at most 3).
pub fn layout(entries: &[Entry], note: Option<&str>, width: u32) -> Layout {
    let usable = width.saturating_sub(2 * MARGIN);
    let widest = entries.iter().map(|e| text_width(&e.label)).max().unwrap_or(0);
    let col_width = SWATCH as u32 + widest + GAP;
    let cols = ((usable / col_width.max(1)) as usize).clamp(1, 3).min(entries.len().max(1));
    let rows = entries.len().div_ceil(cols);
    let note_lines = note.map_or(0, |n| wrap(n, usable).len());
    Layout { cols, rows, col_width: usable / cols as u32, note_lines }
}

/// The strip's height [px] (0 when there is nothing to show).
/// The size of a chart `width` wide whose plot is `plot_height` tall, with the legend strip of
/// `entries` and `note` under it [px]: the row charts' (alarm timeline, breakpoints) `size`.
pub fn chart_size(entries: &[Entry], note: &str, width: u32, plot_height: u32) -> (u32, u32) {
    (width, plot_height + height(&layout(entries, Some(note), width)))
}

/// Pixels for row labels at the left of a row chart: the widest of `labels` at about 9.5 px a
/// character plus a margin, from 80 px to `max` [px].
pub fn row_label_px<'a>(labels: impl Iterator<Item = &'a str>, max: u32) -> u32 {
    let widest = labels.map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    ((widest * 9.5) as u32 + 16).clamp(80, max)
}

pub fn height(l: &Layout) -> u32 {
    if l.rows == 0 && l.note_lines == 0 {
        return 0;
    }
    l.rows as u32 * ROW + l.note_lines as u32 * NOTE_ROW + 16
}

/// `text` broken into lines that fit `width` px in the note font.
fn wrap(text: &str, width: u32) -> Vec<String> {
    let max = ((width as f64 / NOTE_CHAR_W) as usize).max(20);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws the entries and the note into `area` (the strip).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    note: Option<&str>,
    l: &Layout,
) -> Result<(), String> {
    let font = ("sans-serif", FONT).into_font().color(&BLACK);
    for (k, e) in entries.iter().enumerate() {
        let (col, row) = (k / l.rows.max(1), k % l.rows.max(1));
        let x = (MARGIN + col as u32 * l.col_width) as i32;
        let y = (8 + row as u32 * ROW + ROW / 2) as i32;
        draw_swatch(area, &e.swatch, x, y)?;
        let pos = (x + SWATCH, y - FONT as i32 / 2 - 2);
        area.draw(&Text::new(e.label.clone(), pos, font.clone())).map_err(|e| e.to_string())?;
    }
    if let Some(n) = note {
        let nf = ("sans-serif", NOTE_FONT).into_font().color(&GREY);
        let usable = area.dim_in_pixel().0.saturating_sub(2 * MARGIN);
        for (i, line) in wrap(n, usable).into_iter().enumerate() {
            let y = (10 + l.rows as u32 * ROW + i as u32 * NOTE_ROW) as i32;
            area.draw(&Text::new(line, (MARGIN as i32, y), nf.clone())).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Draws a swatch whose left end is at `x`, centred on height `y`.
fn draw_swatch<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Swatch, x: i32, y: i32) -> Result<(), String> {
    let mid = (x + (SWATCH - 10) / 2, y);
    match s {
        Swatch::Line { color, width, dash, marker } => {
            draw_path(area, &[(x, y), (x + SWATCH - 10, y)], *color, *width, *dash)?;
            match marker {
                Some(m) => draw_marker(area, *m, mid, 4, *color, true),
                None => Ok(()),
            }
        }
        Swatch::Marker { color, marker, filled } => draw_marker(area, *marker, mid, 5, *color, *filled),
        Swatch::Fill { color, opacity } => area
            .draw(&Rectangle::new([(x, y - 7), (x + SWATCH - 10, y + 7)], color.mix(*opacity).filled()))
            .map_err(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(label: &str) -> Entry {
        Entry { label: label.into(), swatch: Swatch::Fill { color: BLACK, opacity: 1.0 } }
    }

    #[test]
    fn short_labels_share_rows_long_ones_do_not() {
        let short: Vec<Entry> = ["p50", "p95", "p99", "p99.9"].iter().map(|s| entry(s)).collect();
        let l = layout(&short, None, 1200);
        assert_eq!((l.cols, l.rows), (3, 2));
        assert_eq!(height(&l), 2 * ROW + 16);
        let long: Vec<Entry> = (0..3).map(|k| entry(&format!("{k}{}", "x".repeat(60)))).collect();
        let l = layout(&long, Some("first replication of 3"), 1200);
        assert_eq!((l.cols, l.rows, l.note_lines), (1, 3, 1));
        assert_eq!(height(&layout(&[], None, 1200)), 0);
    }

    #[test]
    fn notes_wrap_at_the_strip_width() {
        let text = "word ".repeat(100);
        let lines = wrap(&text, 1152);
        // 1,152 px of 8.6 px characters: 133 per line, 26 five-character words.
        assert!(lines.len() >= 4 && lines.iter().all(|l| l.chars().count() <= 133), "{lines:?}");
    }
}
