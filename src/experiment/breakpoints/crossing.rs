//! Where a limit is crossed along the load axis: the first load point whose mean signal meets
//! the threshold, refined by linear interpolation between the last point below and the first
//! above for signals that move smoothly with load.

use serde::Serialize;

/// How the load at a crossing was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// Linear interpolation of the signal between the last point below its threshold and the
    /// first at or above it.
    Interpolated,
    /// The first load point where the signal holds (a count that is 0 below it, such as "any
    /// throttle", cannot be interpolated).
    FirstPoint,
    /// Already crossed at the lowest load run: the limit lies at or below it.
    LowestPoint,
}

impl How {
    /// As written in breakpoints.csv and printed.
    pub fn words(self) -> &'static str {
        match self {
            How::Interpolated => "interpolated",
            How::FirstPoint => "first point",
            How::LowestPoint => "at the lowest load",
        }
    }
}

/// A crossing: the load, how it was found, and the index of the first point where it holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub load: f64,
    pub how: How,
    pub point: usize,
}

/// The most a signal may grow between two loads for a line between them to place its crossing.
pub const GROWTH_TO_INTERPOLATE: f64 = 10.0;

/// The first crossing of `values` (the mean signal at each of `loads`, None: no data) past
/// `threshold` (strictly above it when `strict`); interpolated when the signal is `continuous`,
/// above 0 at the point below and at most [`GROWTH_TO_INTERPOLATE`] times that value at the point above. A
/// share that is 0, or nearly, below and many times larger above (a quota's 429s, a timeout
/// share) rises from a kink somewhere between the two points that a line cannot place: a line
/// from near 0 would put the crossing at the lower point whatever the limit, so the crossing is
/// the first point, the limit between the two.
pub fn find(loads: &[f64], values: &[Option<f64>], threshold: f64, strict: bool, continuous: bool) -> Option<Found> {
    let holds = |v: f64| if strict { v > threshold } else { v >= threshold };
    let k = values.iter().position(|v| v.is_some_and(holds))?;
    if k == 0 {
        return Some(Found { load: loads[0], how: How::LowestPoint, point: 0 });
    }
    let first = Found { load: loads[k], how: How::FirstPoint, point: k };
    match (values[k - 1], values[k]) {
        (Some(below), Some(above))
            if continuous && above != below && below > 0.0 && above.abs() <= GROWTH_TO_INTERPOLATE * below =>
        {
            Some(Found {
                load: interpolate(loads[k - 1], loads[k], below, above, threshold),
                how: How::Interpolated,
                point: k,
            })
        }
        _ => Some(first),
    }
}

/// The load between `x0` and `x1` where the line through (x0, v0) and (x1, v1) reaches `t`,
/// kept within [x0, x1].
pub fn interpolate(x0: f64, x1: f64, v0: f64, v1: f64, t: f64) -> f64 {
    (x0 + (t - v0) / (v1 - v0) * (x1 - x0)).clamp(x0, x1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_the_last_point_below_and_the_first_above() {
        let loads = [10.0, 20.0, 30.0, 40.0];
        let values = [Some(0.5), Some(0.7), Some(0.9), Some(1.0)];
        let f = find(&loads, &values, 0.8, false, true).expect("crossed");
        assert_eq!(f.how, How::Interpolated);
        assert_eq!(f.point, 2);
        assert!((f.load - 25.0).abs() < 1e-9, "{}", f.load);
        let f = find(&loads, &values, 0.8, false, false).expect("crossed");
        assert_eq!((f.load, f.how), (30.0, How::FirstPoint));
    }

    #[test]
    fn a_signal_already_over_is_at_the_lowest_point_and_one_never_over_is_none() {
        let loads = [1.0, 2.0];
        let f = find(&loads, &[Some(0.3), Some(0.4)], 0.0, true, false).expect("crossed");
        assert_eq!(f.how, How::LowestPoint);
        assert!(find(&loads, &[Some(0.0), None], 0.0, true, true).is_none());
    }

    #[test]
    fn a_share_at_zero_below_is_not_interpolated_from_its_kink() {
        // A quota's 429 share: 0 at 2,500, 92 % at 8,125. A line from 0 would put a 0.1 %
        // threshold at 2,506; the quota lies anywhere between the two loads.
        let f = find(&[2500.0, 8125.0], &[Some(0.0), Some(0.92)], 0.001, true, true).expect("crossed");
        assert_eq!((f.load, f.how, f.point), (8125.0, How::FirstPoint, 1));
        // Nearly 0 below and a hundred times more above: the same kink.
        let f = find(&[1.0, 2.0], &[Some(0.00001), Some(0.84)], 0.001, true, true).expect("crossed");
        assert_eq!((f.load, f.how), (2.0, How::FirstPoint));
        // Growing threefold, the line is used.
        let f = find(&[2500.0, 8125.0], &[Some(0.0005), Some(0.0015)], 0.001, true, true).expect("crossed");
        assert_eq!(f.how, How::Interpolated);
        assert!((f.load - 5312.5).abs() < 1e-6, "{}", f.load);
    }

    #[test]
    fn a_gap_before_the_crossing_falls_back_to_the_first_point() {
        let f = find(&[1.0, 2.0, 3.0], &[Some(0.0), None, Some(0.5)], 0.1, true, true).expect("crossed");
        assert_eq!((f.load, f.how), (3.0, How::FirstPoint));
    }
}
