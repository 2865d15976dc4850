//! How each line of a chart looks — colour, dash pattern and marker shape, all three different
//! from the neighbouring series' so that no line can hide another unseen — and the pixel-space
//! drawing of markers and lines in that style.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// A colour-blind-safe palette (Okabe–Ito), cycled.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// Dash patterns (dash, gap) [px], cycled; `None` is a solid line.
const DASHES: [Option<(u32, u32)>; 4] = [None, Some((12, 5)), Some((3, 4)), Some((22, 6))];

/// Marker shapes of result series, cycled.
const MARKERS: [Marker; 5] =
    [Marker::Circle, Marker::Square, Marker::TriangleUp, Marker::Diamond, Marker::TriangleDown];

/// The grey of reference lines shared by several series, the censoring line and notes.
pub const GREY: RGBColor = RGBColor(90, 90, 90);

/// A marker shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    /// An ✕, kept for reference figures (a seed's number at one point).
    Cross,
}

/// The look of one series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub color: RGBColor,
    /// (dash, gap) [px]; `None`: solid.
    pub dash: Option<(u32, u32)>,
    pub marker: Marker,
}

/// The style of the `i`-th series: colour, dash and marker cycle with periods 7, 4 and 5, so the
/// first 140 series (their least common multiple) all differ, and neighbours differ in all three.
pub fn style(i: usize) -> Style {
    Style { color: PALETTE[i % PALETTE.len()], dash: DASHES[i % DASHES.len()], marker: MARKERS[i % MARKERS.len()] }
}

/// Which of `n` points of series `k` (of `count` series) carry a marker: every point of a short
/// series; on a dense one (a time series) about 14 (fewer when there are many series), at
/// offsets staggered by series so that markers of lines lying on top of each other alternate
/// instead of covering each other.
pub fn marker_indices(n: usize, k: usize, count: usize) -> Vec<usize> {
    if n <= 40 {
        return (0..n).collect();
    }
    let count = count.max(1);
    // At least one point between markers per series, so every series' offset is its own.
    let step = n.div_ceil(14).max(count);
    let offset = (k % count) * step / count;
    (offset..n).step_by(step).collect()
}

/// Draws marker `m` centred on pixel `at`, `size` px from centre to edge; hollow markers are
/// white inside with a coloured outline, so they read as "not a measured value".
pub fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    m: Marker,
    at: (i32, i32),
    size: i32,
    color: RGBColor,
    filled: bool,
) -> Result<(), String> {
    let (x, y) = at;
    let s = size;
    let outline: Vec<(i32, i32)> = match m {
        Marker::Circle => {
            if !filled {
                area.draw(&Circle::new(at, s, WHITE.filled())).map_err(|e| e.to_string())?;
            }
            let style = if filled { color.filled() } else { color.stroke_width(2) };
            return area.draw(&Circle::new(at, s, style)).map_err(|e| e.to_string());
        }
        Marker::Cross => {
            let st = color.stroke_width(3);
            area.draw(&PathElement::new(vec![(x - s, y - s), (x + s, y + s)], st)).map_err(|e| e.to_string())?;
            return area.draw(&PathElement::new(vec![(x - s, y + s), (x + s, y - s)], st)).map_err(|e| e.to_string());
        }
        Marker::Square => vec![(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)],
        Marker::TriangleUp => vec![(x, y - s - 2), (x + s + 1, y + s), (x - s - 1, y + s)],
        Marker::Diamond => vec![(x, y - s - 2), (x + s + 2, y), (x, y + s + 2), (x - s - 2, y)],
        Marker::TriangleDown => vec![(x, y + s + 2), (x + s + 1, y - s), (x - s - 1, y - s)],
    };
    let fill = if filled { color } else { WHITE };
    area.draw(&Polygon::new(outline.clone(), fill.filled())).map_err(|e| e.to_string())?;
    let mut closed = outline.clone();
    closed.push(outline[0]);
    let width = if filled { 1 } else { 2 };
    area.draw(&PathElement::new(closed, color.stroke_width(width))).map_err(|e| e.to_string())
}

/// Draws a polyline through pixels `pts`, dashed when `dash` is given.
pub fn draw_path<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pts: &[(i32, i32)],
    color: RGBColor,
    width: u32,
    dash: Option<(u32, u32)>,
) -> Result<(), String> {
    if pts.len() < 2 {
        return Ok(());
    }
    let style = color.stroke_width(width);
    match dash {
        Some((d, g)) => area.draw(&DashedPathElement::new(pts.iter().copied(), d, g, style)),
        None => area.draw(&PathElement::new(pts.to_vec(), style)),
    }
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_differ_for_many_series() {
        for i in 0..140 {
            for j in 0..i {
                assert_ne!(style(i), style(j), "series {i} and {j} look alike");
            }
        }
        // Neighbours differ in colour, dash and marker at once.
        for i in 1..140 {
            let (a, b) = (style(i - 1), style(i));
            assert!(a.color != b.color && a.dash != b.dash && a.marker != b.marker, "{i}");
        }
        // Series 0 and 7 share a colour (the palette has 7) but not dash and marker.
        assert_eq!(style(0).color, style(7).color);
        assert!(style(0).dash != style(7).dash && style(0).marker != style(7).marker);
    }

    #[test]
    fn markers_of_overlapping_dense_series_alternate() {
        assert_eq!(marker_indices(10, 3, 4), (0..10).collect::<Vec<_>>());
        let a = marker_indices(280, 0, 2);
        let b = marker_indices(280, 1, 2);
        // step = 280 / 14 = 20; the second series' markers sit halfway between the first's.
        assert_eq!(a[..3], [0, 20, 40]);
        assert_eq!(b[..3], [10, 30, 50]);
        assert!(a.iter().all(|i| !b.contains(i)));
        // 6 series of 60 points: a step of 6 (not 5), so the six offsets 0..5 all differ.
        let firsts: Vec<usize> = (0..6).map(|k| marker_indices(60, k, 6)[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 3, 4, 5]);
    }
}
