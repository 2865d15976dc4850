//! Axis ranges: whether an axis is logarithmic, and a range that shows every value drawn.
//!
//! The rules: a log axis only where the data span at least 1.5 decades (and are all positive,
//! since a log axis cannot show 0); every value drawn lies inside the range (a fixed range is
//! widened to the data, never clips them); a linear axis starts at 0 unless it is asked not
//! to and the zoom is wide enough to keep noise from looking like a trend; a share's axis runs
//! from 0 to 1, or to its largest value when that is at most a half; and a little room below and above the data keeps a line at 0 (or at the top)
//! off the frame, where it would hide.

/// The least span [decades] of the data for which a requested log axis is used.
pub const MIN_LOG_DECADES: f64 = 1.5;

/// An explicit y range narrower than this fraction of its top value is widened to start at 0:
/// a zoom that fine turns the last digits of a figure into a slope.
pub const MIN_ZOOM_SPAN: f64 = 0.2;

/// A share's axis runs up to 1 when a value drawn passes this; below it, up to the largest value
/// (a 3 % share on a 0-to-1 axis would be a flat line on the floor).
pub const SHARE_FULL: f64 = 0.5;

/// Room added below and above the data, as a fraction of the range.
const PAD: f64 = 0.03;

/// Values beyond ±1e300 would overflow the axis arithmetic.
const LIMIT: f64 = 1e300;

/// An axis: whether it is logarithmic, and its range in plot coordinates (log10 of the value on
/// a log axis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub log: bool,
    pub lo: f64,
    pub hi: f64,
}

impl Axis {
    /// The plot coordinate of value `v` (None: not drawable, e.g. 0 on a log axis).
    pub fn to_plot(&self, v: f64) -> Option<f64> {
        let t = if self.log { (v > 0.0).then(|| v.log10())? } else { v };
        t.is_finite().then_some(t.clamp(-LIMIT, LIMIT))
    }
}

/// The finite values of `values`, within ±1e300.
fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).map(|v| v.clamp(-LIMIT, LIMIT)).collect()
}

fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let lo = values.iter().copied().reduce(f64::min)?;
    let hi = values.iter().copied().reduce(f64::max)?;
    Some((lo, hi))
}

/// Whether a log axis is used for `values`: asked for, every value positive, and the values
/// spanning at least `MIN_LOG_DECADES`.
pub fn use_log(requested: bool, values: &[f64]) -> bool {
    let v = finite(values);
    match min_max(&v) {
        Some((lo, hi)) if requested && lo > 0.0 => (hi / lo).log10() >= MIN_LOG_DECADES,
        _ => false,
    }
}

/// The x axis for `values`: their range with a little room on both sides (so markers at the
/// ends are drawn whole).
pub fn x_axis(values: &[f64], log_requested: bool) -> Axis {
    let log = use_log(log_requested, values);
    let t: Vec<f64> = finite(values).into_iter().map(|v| if log { v.log10() } else { v }).collect();
    let (lo, hi) = match min_max(&t) {
        Some((lo, hi)) if lo < hi => (lo, hi),
        Some((v, _)) => (v - 1.0, v + 1.0),
        None => return Axis { log, lo: 0.0, hi: 1.0 },
    };
    let pad = 0.015 * (hi - lo);
    Axis { log, lo: lo - pad, hi: hi + pad }
}

/// What a y axis shows, for its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YKind {
    /// A figure: the axis starts at 0 (for positive data).
    Plain,
    /// A share: the axis runs from 0 to 1 (to its largest value when that is at most a half).
    Share,
    /// Values whose place relative to a limit drawn with them is the point (a capacity search
    /// near its answer): the axis fits the values alone; their bands show the noise.
    Fitted,
}

/// The y axis for `values` (every point, band end, bound and reference value drawn), with an
/// optional fixed range `fixed` (widened to the values).
pub fn y_axis(values: &[f64], log_requested: bool, fixed: Option<(f64, f64)>, kind: YKind) -> Axis {
    let v = finite(values);
    if use_log(log_requested, &v) {
        let mut t: Vec<f64> = v.iter().map(|x| x.log10()).collect();
        if let Some((a, b)) = fixed {
            t.extend([a, b].into_iter().filter(|x| *x > 0.0).map(f64::log10));
        }
        let (lo, hi) = min_max(&t).expect("use_log saw values");
        let pad = PAD * (hi - lo);
        return Axis { log: true, lo: lo - pad, hi: hi + pad };
    }
    let Some((dmin, dmax)) = min_max(&v) else {
        return match fixed {
            Some((a, b)) if a < b => Axis { log: false, lo: a, hi: b },
            _ => Axis { log: false, lo: 0.0, hi: 1.0 },
        };
    };
    let (mut lo, mut hi) = match (fixed, kind) {
        (Some((a, b)), _) => (a.min(dmin), b.max(dmax)),
        (None, YKind::Share) if dmax > SHARE_FULL => (dmin.min(0.0), dmax.max(1.0)),
        (None, YKind::Share) => (dmin.min(0.0), dmax),
        (None, YKind::Plain) => (dmin.min(0.0), dmax.max(0.0)),
        (None, YKind::Fitted) => (dmin, dmax),
    };
    if kind != YKind::Fitted && lo > 0.0 && hi - lo < MIN_ZOOM_SPAN * hi {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let pad = PAD * (hi - lo);
    // Room below a line at the axis' bottom, above one at its top: never drawn on the frame.
    if dmin <= lo + pad {
        lo -= pad;
    }
    if dmax >= hi - pad {
        hi += pad;
    }
    Axis { log: false, lo, hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_only_over_a_decade_and_a_half() {
        // 0.1 to 3: 1.48 decades, too few; 0.1 to 3.2: 1.505 decades.
        assert!(!use_log(true, &[0.1, 1.0, 3.0]));
        assert!(use_log(true, &[0.1, 1.0, 3.2]));
        assert!(!use_log(false, &[0.001, 1000.0]), "not asked for");
        assert!(!use_log(true, &[0.0, 0.001, 1000.0]), "0 cannot be shown on a log axis");
        assert!(!use_log(true, &[]));
    }

    #[test]
    fn every_value_lies_inside_the_y_range() {
        // A fixed range that would cut the data off is widened to them.
        let a = y_axis(&[0.5, 7.0, 12.0], false, Some((1.0, 10.0)), YKind::Plain);
        assert!(a.lo <= 0.5 && a.hi >= 12.0, "{a:?}");
        // Log: a fixed range given in values (0.02 to 4), data 0.035 to 2 spanning 1.76 decades.
        let a = y_axis(&[0.035, 0.1, 2.0], true, Some((0.02, 4.0)), YKind::Plain);
        assert!(a.log);
        assert!(a.lo <= 0.02f64.log10() && a.hi >= 4f64.log10(), "{a:?}");
        assert!(a.hi < 1.0, "no empty decade above 4: {a:?}");
        // 1 to 20 is too little for a requested log axis: linear, from 0.
        let a = y_axis(&[1.0, 20.0], true, None, YKind::Plain);
        assert!(!a.log && a.lo <= 0.0 && a.hi >= 20.0, "{a:?}");
    }

    #[test]
    fn a_line_at_zero_stays_off_the_frame() {
        let a = y_axis(&[0.0, 0.0, 100.0], false, None, YKind::Plain);
        // 3 % of the range below 0 and above the top.
        assert!((a.lo + 3.0).abs() < 1e-9 && (a.hi - 103.0).abs() < 1e-9, "{a:?}");
    }

    #[test]
    fn shares_run_from_zero_to_one() {
        let a = y_axis(&[0.1, 0.6], false, None, YKind::Share);
        assert_eq!((a.lo, a.hi), (0.0, 1.0));
        // Small shares fit their largest value: 0 to 0.03, with 3 % room above (0.0009).
        let a = y_axis(&[0.0, 0.01, 0.03], false, None, YKind::Share);
        assert!(a.lo < 0.0 && (a.hi - 0.0309).abs() < 1e-12, "{a:?}");
        // All zero: 0 to 1.
        let a = y_axis(&[0.0, 0.0], false, None, YKind::Share);
        assert!(a.lo < 0.0 && (a.hi - 1.0).abs() < 1e-12, "{a:?}");
        let a = y_axis(&[0.0, 1.0], false, None, YKind::Share);
        assert!((a.lo + 0.03).abs() < 1e-12 && (a.hi - 1.03).abs() < 1e-12, "{a:?}");
    }

    #[test]
    fn a_fine_zoom_starts_at_zero() {
        // 0.866 to 0.871 is 0.6 % of the top value: noise would look like a trend.
        let a = y_axis(&[0.868, 0.869], false, Some((0.866, 0.871)), YKind::Plain);
        assert!(a.lo <= 0.0, "{a:?}");
        // 2 to 5.5 is 64 % of the top value: kept.
        let a = y_axis(&[2.7, 4.7], false, Some((2.0, 5.5)), YKind::Plain);
        assert!((a.lo - 2.0).abs() < 1e-12 && (a.hi - 5.5).abs() < 1e-12, "{a:?}");
        // Values near a limit, fitted: 4.8 to 5.5 with 3 % room each side (0.021).
        let a = y_axis(&[4.8, 5.0, 5.5], false, None, YKind::Fitted);
        assert!((a.lo - 4.779).abs() < 1e-9 && (a.hi - 5.521).abs() < 1e-9, "{a:?}");
    }

    #[test]
    fn x_range_keeps_end_markers_whole() {
        let a = x_axis(&[10.0, 110.0], false);
        assert!((a.lo - 8.5).abs() < 1e-9 && (a.hi - 111.5).abs() < 1e-9, "{a:?}");
        let a = x_axis(&[0.25, 16.0], true);
        assert!(a.log, "1.8 decades");
        assert_eq!(x_axis(&[], false), Axis { log: false, lo: 0.0, hi: 1.0 });
    }
}
