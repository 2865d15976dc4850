//! Replication statistics: sample mean and Student-t confidence intervals.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and confidence-interval half-width of a sample of independent replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub mean: f64,
    /// Half-width of the two-sided interval at the chosen level (infinite for n < 2).
    pub half_width: f64,
    pub n: usize,
}

impl Interval {
    /// Whether `x` lies inside [mean − half_width, mean + half_width].
    pub fn contains(&self, x: f64) -> bool {
        (x - self.mean).abs() <= self.half_width
    }
}

/// Student-t interval at `level` (e.g. 0.95) for the mean of `xs`.
pub fn t_interval(xs: &[f64], level: f64) -> Interval {
    let n = xs.len();
    let mean = if n == 0 { f64::NAN } else { xs.iter().sum::<f64>() / n as f64 };
    if n < 2 {
        return Interval { mean, half_width: f64::INFINITY, n };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("n ≥ 2 gives positive degrees of freedom");
    let q = t.inverse_cdf(0.5 + level / 2.0);
    Interval { mean, half_width: q * (var / n as f64).sqrt(), n }
}

/// The Wilson score interval at `level` for a binomial share: `successes` of `trials` (Wilson
/// 1927). Unlike mean ± t·s/√n it stays within [0, 1] and is not empty at 0 % or 100 %.
/// Returns (low, high); (0, 1) when there are no trials.
pub fn wilson(successes: f64, trials: f64, level: f64) -> (f64, f64) {
    if trials.is_nan() || trials <= 0.0 {
        return (0.0, 1.0);
    }
    let z = statrs::distribution::Normal::new(0.0, 1.0).expect("unit normal").inverse_cdf(0.5 + level / 2.0);
    let p = (successes / trials).clamp(0.0, 1.0);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * trials)) / (1.0 + z2 / trials);
    let half = z / (1.0 + z2 / trials) * (p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_interval() {
        // mean 3, sd = sqrt(2.5), n = 5, t(0.975, 4) = 2.776445
        let i = t_interval(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert_eq!(i.mean, 3.0);
        assert!((i.half_width - 2.776_445 * (2.5f64 / 5.0).sqrt()).abs() < 1e-5);
        assert!(t_interval(&[1.0], 0.95).half_width.is_infinite());
    }

    #[test]
    fn wilson_matches_hand_computed_interval() {
        // 2 of 3, z = 1.959964: centre (2 + z²/2) / (3 + z²) = 0.573084, half-width
        // z / (3 + z²) · √(2·1/3 + z²/4) = 0.365424 (Wilson's formula, evaluated by hand).
        let (lo, hi) = wilson(2.0, 3.0, 0.95);
        assert!((lo - 0.207660).abs() < 1e-5, "{lo}");
        assert!((hi - 0.938508).abs() < 1e-5, "{hi}");
        // 0 of 3: from 0 to z² / (3 + z²) = 0.561497, never below 0.
        let (lo, hi) = wilson(0.0, 3.0, 0.95);
        assert!(lo.abs() < 1e-12, "{lo}");
        assert!((hi - 0.561497).abs() < 1e-5, "{hi}");
        // 3 of 3 mirrors it, never above 1.
        let (lo, hi) = wilson(3.0, 3.0, 0.95);
        assert!((hi - 1.0).abs() < 1e-12, "{hi}");
        assert!((lo - (1.0 - 0.561497)).abs() < 1e-5, "{lo}");
        assert_eq!(wilson(0.0, 0.0, 0.95), (0.0, 1.0));
    }
}

/// MSER-5 (White 1997; Franklin & White 2008): average the series in batches of 5, then pick
/// the number of leading batches d (at most half of them) that minimises the marginal standard
/// error Σ_{i≥d} (b_i − b̄_d)² / (k − d)². Returns d × 5, the observations to delete.
pub fn mser5(series: &[f64]) -> usize {
    let batches: Vec<f64> = series.chunks_exact(5).map(|c| c.iter().sum::<f64>() / 5.0).collect();
    let k = batches.len();
    if k < 4 {
        return 0;
    }
    // Suffix sums give every candidate's statistic in O(k).
    let (mut s1, mut s2) = (0.0, 0.0);
    let mut best = (f64::INFINITY, 0);
    for d in (0..k).rev() {
        s1 += batches[d];
        s2 += batches[d] * batches[d];
        let n = (k - d) as f64;
        let stat = (s2 - s1 * s1 / n).max(0.0) / (n * n);
        if d <= k / 2 && stat <= best.0 {
            best = (stat, d);
        }
    }
    best.1 * 5
}

/// The paired-difference interval of `b − a` at `level`, replication by replication.
pub fn paired(a: &[f64], b: &[f64], level: f64) -> Interval {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    t_interval(&d, level)
}

#[cfg(test)]
mod mser_tests {
    use super::*;

    #[test]
    fn mser_cuts_an_initial_transient() {
        // 100 observations at 10 (a transient), then 900 alternating 0/2 around 1.
        let mut xs = vec![10.0; 100];
        xs.extend((0..900).map(|i| if i % 2 == 0 { 0.0 } else { 2.0 }));
        let cut = mser5(&xs);
        assert_eq!(cut, 100, "the transient is exactly the first 100");
        let flat: Vec<f64> = (0..1000).map(|i| (i % 2) as f64).collect();
        assert!(mser5(&flat) <= 10, "a stationary series needs no deletion");
    }

    #[test]
    fn paired_difference_of_shifted_samples() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [1.5, 2.5, 3.5, 4.5];
        let i = paired(&a, &b, 0.95);
        assert_eq!(i.mean, 0.5);
        assert_eq!(i.half_width, 0.0, "a constant shift has no spread");
    }
}
