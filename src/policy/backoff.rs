//! Backoff before a retry, with the jitter kinds of Marc Brooker's "Exponential Backoff And
//! Jitter" (2015): for retry n (0 for the first), v = min(cap, base·2ⁿ) (or `base` when
//! constant); none sleeps v, full U(0, v), equal v/2 + U(0, v/2), decorrelated
//! min(cap, U(base, 3 × previous sleep)); `uniform(x)` adds U(0, x) to v.

use rand::RngExt;

use crate::engine::SimRng;
use crate::model::program::{Jitter, RetryDef};

/// The sleep before retry `n` (0-based) [s], given the previous sleep (for decorrelated
/// jitter; 0 before the first retry).
pub fn backoff_s(def: &RetryDef, n: u32, previous: f64, rng: &mut SimRng) -> f64 {
    let v =
        if def.exponential { (def.base * 2f64.powi(n.min(1000) as i32)).min(def.cap) } else { def.base.min(def.cap) };
    let u: f64 = rng.random();
    match def.jitter {
        Jitter::None => v,
        Jitter::Full => u * v,
        Jitter::Equal => v / 2.0 + u * v / 2.0,
        Jitter::Decorrelated => {
            let hi = (3.0 * previous.max(def.base)).max(def.base);
            (def.base + u * (hi - def.base)).min(def.cap)
        }
        Jitter::Uniform(x) => v + u * x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn def(jitter: Jitter) -> RetryDef {
        RetryDef { max_attempts: 5, base: 0.1, cap: 1.0, exponential: true, jitter, on: 0 }
    }

    #[test]
    fn without_jitter_the_backoff_doubles_up_to_the_cap() {
        let mut rng = stream(1, "t", "j");
        let d = def(Jitter::None);
        let got: Vec<f64> = (0..6).map(|n| backoff_s(&d, n, 0.0, &mut rng)).collect();
        assert_eq!(got, vec![0.1, 0.2, 0.4, 0.8, 1.0, 1.0]);
    }

    #[test]
    fn equal_and_decorrelated_jitter_stay_within_their_bounds() {
        let mut rng = stream(1, "t", "j");
        for n in 0..8 {
            let v = (0.1 * 2f64.powi(n)).min(1.0);
            for _ in 0..2000 {
                let e = backoff_s(&def(Jitter::Equal), n as u32, 0.0, &mut rng);
                assert!((v / 2.0..=v).contains(&e), "equal jitter {e} outside [{}, {v}]", v / 2.0);
            }
        }
        let mut prev = 0.0;
        for _ in 0..5000 {
            let s = backoff_s(&def(Jitter::Decorrelated), 0, prev, &mut rng);
            assert!((0.1..=1.0).contains(&s) && s <= 3.0 * prev.max(0.1) + 1e-12, "decorrelated {s} after {prev}");
            prev = s;
        }
    }
}
