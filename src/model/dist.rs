//! Probability distributions: the model-file form ([`DistSpec`]) and the checked, ready-to-draw
//! form ([`Dist`]). Parameters are [`Quantity`]s, so durations may carry units.

use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal, StandardUniform};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::quantity::Quantity;
use crate::engine::SimRng;

/// A distribution as written in a model file, picked by its `dist` field.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistSpec {
    /// Always `value`.
    Constant { value: Quantity },
    /// Exponential with the given `mean`, or `rate` [1/s] (give exactly one).
    Exponential { mean: Option<Quantity>, rate: Option<f64> },
    /// Uniform on [`min`, `max`].
    Uniform { min: Quantity, max: Quantity },
    /// Normal(`mean`, `sd`) truncated at 0 (negative draws are redrawn); needs `mean` ≥ 0.
    Normal { mean: Quantity, sd: Quantity },
    /// Lognormal given its own `mean` and `sd`, or its median `p50` and 99th percentile `p99`.
    Lognormal { mean: Option<Quantity>, sd: Option<Quantity>, p50: Option<Quantity>, p99: Option<Quantity> },
    /// Gamma with `shape` k and either `scale` θ or `mean` (= kθ).
    Gamma { shape: f64, scale: Option<Quantity>, mean: Option<Quantity> },
    /// One of `values`, with probabilities proportional to `weights` (equal if omitted).
    Empirical { values: Vec<Quantity>, weights: Option<Vec<f64>> },
}

/// A checked distribution, ready to sample; values are in seconds (or counts).
#[derive(Clone, Debug)]
pub enum Dist {
    /// Always this value.
    Constant(f64),
    /// Exponential with this mean.
    Exponential { mean: f64 },
    /// Uniform on [min, min + width].
    Uniform { min: f64, width: f64 },
    /// Normal(mean, sd) conditioned on being ≥ 0.
    TruncNormal { mean: f64, sd: f64 },
    /// exp(N(mu, sigma²)).
    Lognormal { mu: f64, sigma: f64 },
    /// Gamma(shape, scale).
    Gamma { law: Gamma<f64>, shape: f64, scale: f64 },
    /// Discrete law on `values` with probabilities `probs`.
    Empirical { values: Vec<f64>, probs: Vec<f64>, index: WeightedAliasIndex<f64> },
}

/// z such that Φ(z) = 0.99, for lognormals given by (p50, p99).
pub const Z99: f64 = 2.326_347_874_040_840_8;

impl Dist {
    /// Draws one value.
    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Uniform { min, width } => {
                let u: f64 = StandardUniform.sample(rng);
                min + u * width
            }
            Dist::TruncNormal { mean, sd } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = mean + sd * z;
                if x >= 0.0 {
                    break x;
                }
            },
            Dist::Lognormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma { law, .. } => law.sample(rng),
            Dist::Empirical { values, index, .. } => values[index.sample(rng)],
        }
    }

    /// The largest value the law can draw (infinite for an unbounded law).
    pub fn max(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { min, width } => min + width,
            Dist::Empirical { values, probs, .. } => {
                values.iter().zip(probs).filter(|(_, p)| **p > 0.0).map(|(v, _)| *v).fold(0.0, f64::max)
            }
            _ => f64::INFINITY,
        }
    }

    /// A token count drawn from the law: rounded, at least 0 and at most
    /// [`MAX_TOKENS`](super::limits::MAX_TOKENS).
    pub fn tokens(&self, rng: &mut SimRng) -> u32 {
        self.sample(rng).round().clamp(0.0, super::limits::MAX_TOKENS as f64) as u32
    }

    /// The exact mean (for the truncated normal, the mean of the truncated law).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => *mean,
            Dist::Uniform { min, width } => min + width / 2.0,
            Dist::TruncNormal { mean, sd } => truncated_normal_moments(*mean, *sd).0,
            Dist::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Empirical { values, probs, .. } => values.iter().zip(probs).map(|(v, p)| v * p).sum(),
        }
    }

    /// The exact second moment E[X²] (used by the Pollaczek–Khinchine formula).
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Constant(v) => v * v,
            Dist::Exponential { mean } => 2.0 * mean * mean,
            Dist::Uniform { min, width } => {
                let max = min + width;
                (min * min + min * max + max * max) / 3.0
            }
            Dist::TruncNormal { mean, sd } => truncated_normal_moments(*mean, *sd).1,
            Dist::Lognormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Gamma { shape, scale, .. } => shape * (shape + 1.0) * scale * scale,
            Dist::Empirical { values, probs, .. } => values.iter().zip(probs).map(|(v, p)| v * v * p).sum(),
        }
    }
}

/// Mean and second moment of N(mu, sd²) conditioned on X ≥ 0.
fn truncated_normal_moments(mu: f64, sd: f64) -> (f64, f64) {
    if sd == 0.0 {
        return (mu, mu * mu);
    }
    let alpha = -mu / sd;
    let pdf = (-0.5 * alpha * alpha).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let tail = 0.5 * statrs::function::erf::erfc(alpha / std::f64::consts::SQRT_2);
    let lambda = pdf / tail;
    let mean = mu + sd * lambda;
    let var = sd * sd * (1.0 + alpha * lambda - lambda * lambda);
    (mean, var + mean * mean)
}

type Check = Result<Dist, (&'static str, String)>;

fn positive(field: &'static str, v: f64) -> Result<f64, (&'static str, String)> {
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err((field, format!("must be a positive number, got {v}"))) }
}

fn non_negative(field: &'static str, v: f64) -> Result<f64, (&'static str, String)> {
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err((field, format!("must be a number ≥ 0, got {v}"))) }
}

fn missing(field: &'static str, what: &str) -> (&'static str, String) {
    (field, format!("missing: {what}"))
}

impl DistSpec {
    /// Checks parameters and builds the sampler; an error names the offending field.
    pub fn check(&self) -> Check {
        match self {
            DistSpec::Constant { value } => Ok(Dist::Constant(non_negative("value", value.0)?)),
            DistSpec::Exponential { mean, rate } => match (mean, rate) {
                (Some(m), None) => Ok(Dist::Exponential { mean: positive("mean", m.0)? }),
                (None, Some(r)) => Ok(Dist::Exponential { mean: 1.0 / positive("rate", *r)? }),
                _ => Err(("mean", "give exactly one of `mean` or `rate`".into())),
            },
            DistSpec::Uniform { min, max } => {
                let lo = non_negative("min", min.0)?;
                let hi = non_negative("max", max.0)?;
                if hi < lo {
                    return Err(("max", format!("must be ≥ min ({lo}), got {hi}")));
                }
                Ok(Dist::Uniform { min: lo, width: hi - lo })
            }
            DistSpec::Normal { mean, sd } => {
                Ok(Dist::TruncNormal { mean: non_negative("mean", mean.0)?, sd: non_negative("sd", sd.0)? })
            }
            DistSpec::Lognormal { mean, sd, p50, p99 } => check_lognormal(*mean, *sd, *p50, *p99),
            DistSpec::Gamma { shape, scale, mean } => {
                let k = positive("shape", *shape)?;
                let theta = match (scale, mean) {
                    (Some(s), None) => positive("scale", s.0)?,
                    (None, Some(m)) => positive("mean", m.0)? / k,
                    _ => return Err(("scale", "give exactly one of `scale` or `mean`".into())),
                };
                let law = Gamma::new(k, theta).map_err(|e| ("shape", e.to_string()))?;
                Ok(Dist::Gamma { law, shape: k, scale: theta })
            }
            DistSpec::Empirical { values, weights } => check_empirical(values, weights.as_deref()),
        }
    }
}

fn check_lognormal(
    mean: Option<Quantity>,
    sd: Option<Quantity>,
    p50: Option<Quantity>,
    p99: Option<Quantity>,
) -> Check {
    match (mean, sd, p50, p99) {
        (Some(m), Some(s), None, None) => {
            let m = positive("mean", m.0)?;
            let s = non_negative("sd", s.0)?;
            let sigma2 = (1.0 + (s / m).powi(2)).ln();
            Ok(Dist::Lognormal { mu: m.ln() - sigma2 / 2.0, sigma: sigma2.sqrt() })
        }
        (None, None, Some(a), Some(b)) => {
            let a = positive("p50", a.0)?;
            let b = positive("p99", b.0)?;
            if b < a {
                return Err(("p99", format!("must be ≥ p50 ({a}), got {b}")));
            }
            Ok(Dist::Lognormal { mu: a.ln(), sigma: (b / a).ln() / Z99 })
        }
        _ => Err(missing("mean", "give either `mean` and `sd`, or `p50` and `p99`")),
    }
}

fn check_empirical(values: &[Quantity], weights: Option<&[f64]>) -> Check {
    if values.is_empty() {
        return Err(("values", "must list at least one value".into()));
    }
    let values: Vec<f64> = values.iter().map(|v| non_negative("values", v.0)).collect::<Result<_, _>>()?;
    let weights: Vec<f64> = match weights {
        None => vec![1.0; values.len()],
        Some(w) if w.len() != values.len() => {
            return Err(("weights", format!("has {} entries but `values` has {}", w.len(), values.len())));
        }
        Some(w) => w.iter().map(|x| non_negative("weights", *x)).collect::<Result<_, _>>()?,
    };
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return Err(("weights", "must not all be zero".into()));
    }
    let probs = weights.iter().map(|w| w / total).collect();
    let index = WeightedAliasIndex::new(weights).map_err(|e| ("weights", e.to_string()))?;
    Ok(Dist::Empirical { values, probs, index })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn spec(json: &str) -> Dist {
        serde_json::from_str::<DistSpec>(json).unwrap().check().unwrap()
    }

    /// Sample mean and second moment of 2M draws against the closed forms, within 5 standard
    /// errors (the standard error of the mean is sd/√n; of the second moment, estimated).
    #[test]
    fn sample_moments_match_closed_forms() {
        let cases = [
            r#"{"dist": "constant", "value": "250ms"}"#,
            r#"{"dist": "exponential", "mean": 2}"#,
            r#"{"dist": "exponential", "rate": 4}"#,
            r#"{"dist": "uniform", "min": 1, "max": 3}"#,
            r#"{"dist": "normal", "mean": 1, "sd": 1}"#,
            r#"{"dist": "lognormal", "mean": 2, "sd": 1}"#,
            r#"{"dist": "lognormal", "p50": "100ms", "p99": "400ms"}"#,
            r#"{"dist": "gamma", "shape": 0.5, "scale": 2}"#,
            r#"{"dist": "empirical", "values": [1, 2, 10], "weights": [3, 1, 1]}"#,
        ];
        let n = 2_000_000;
        for (k, c) in cases.iter().enumerate() {
            let d = spec(c);
            let mut rng = stream(42, "dist-test", &k.to_string());
            let (mut s1, mut s2, mut s4) = (0.0, 0.0, 0.0);
            for _ in 0..n {
                let x = d.sample(&mut rng);
                assert!(x >= 0.0, "{c}: negative draw {x}");
                s1 += x;
                s2 += x * x;
                s4 += x * x * x * x;
            }
            let (m1, m2, m4) = (s1 / n as f64, s2 / n as f64, s4 / n as f64);
            let se1 = ((m2 - m1 * m1) / n as f64).sqrt();
            let se2 = ((m4 - m2 * m2) / n as f64).sqrt();
            assert!((m1 - d.mean()).abs() <= 5.0 * se1 + 1e-12, "{c}: mean {m1} vs {}", d.mean());
            assert!((m2 - d.second_moment()).abs() <= 5.0 * se2 + 1e-12, "{c}: E[X²] {m2} vs {}", d.second_moment());
        }
    }

    #[test]
    fn lognormal_percentile_form() {
        // p50 = 100 ms, p99 = 400 ms: mu = ln 0.1, sigma = ln 4 / z99.
        let Dist::Lognormal { mu, sigma } = spec(r#"{"dist": "lognormal", "p50": "100ms", "p99": "400ms"}"#) else {
            panic!("lognormal expected")
        };
        assert!((mu - 0.1f64.ln()).abs() < 1e-12);
        assert!((sigma - 4f64.ln() / Z99).abs() < 1e-12);
    }
}
