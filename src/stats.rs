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
    let mean = if n == 0 {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / n as f64
    };
    if n < 2 {
        return Interval {
            mean,
            half_width: f64::INFINITY,
            n,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t =
        StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("n ≥ 2 gives positive degrees of freedom");
    let q = t.inverse_cdf(0.5 + level / 2.0);
    Interval {
        mean,
        half_width: q * (var / n as f64).sqrt(),
        n,
    }
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
}
