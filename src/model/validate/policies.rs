//! Checks the `policies` and `limits` sections and builds their checked forms, collecting every
//! problem at its path.

use super::Checker;
use crate::model::ModelSpec;
use crate::model::policy_spec::*;
use crate::model::program::{BreakerDef, BudgetDef, Jitter, LimitDef, PolicyDef, RetryDef};

/// Most attempts per call: each retry is an event and a job; 100 is far beyond any SDK default.
const MAX_ATTEMPTS: u32 = 100;
/// Longest count window of a breaker [attempts] (one byte of memory each).
const MAX_BREAKER_CALLS: u32 = 100_000;
/// Most half-open probes of a breaker.
const MAX_PROBES: u32 = 10_000;

impl Checker {
    /// Checked limits, in name order.
    pub(super) fn limits(&mut self, spec: &ModelSpec) -> Vec<LimitDef> {
        let mut out = Vec::new();
        for (name, l) in &spec.limits {
            let p = format!("limits.{name}");
            if !(l.rate.is_finite() && l.rate > 0.0) {
                self.issue(format!("{p}.rate"), format!("must be a rate > 0 [tokens/s], got {}", l.rate));
            }
            let burst = l.burst.unwrap_or(l.rate.max(1.0));
            if !(burst.is_finite() && burst >= 1.0) {
                self.issue(format!("{p}.burst"), format!("must be at least 1 token, got {burst}"));
            }
            out.push(LimitDef { name: name.clone(), rate: l.rate, burst, per: l.per });
        }
        out
    }

    /// Checked policies, in name order; `limits` are the checked limits' names.
    pub(super) fn policies(&mut self, spec: &ModelSpec, limits: &[LimitDef]) -> Vec<PolicyDef> {
        let mut out = Vec::new();
        for (name, ps) in &spec.policies {
            let p = format!("policies.{name}");
            let timeout = self.positive_secs(&format!("{p}.timeout"), ps.timeout);
            let deadline = self.positive_secs(&format!("{p}.deadline"), ps.deadline);
            let rate_limit = ps.rate_limit.as_ref().and_then(|l| match limits.iter().position(|d| &d.name == l) {
                Some(i) => Some(i as u32),
                None => {
                    let known: Vec<&str> = limits.iter().map(|d| d.name.as_str()).collect();
                    let msg = format!("unknown limit `{l}`; `limits` lists: {}", list(&known));
                    self.issue(format!("{p}.rate_limit"), msg);
                    None
                }
            });
            if let Some(f) = &ps.fallback {
                let n = [f.call.is_some(), f.wait.is_some(), f.degrade.is_some()].iter().filter(|&&b| b).count();
                if n != 1 {
                    self.issue(format!("{p}.fallback"), "give exactly one of `call`, `wait` or `degrade`");
                }
                if f.degrade == Some(false) {
                    self.issue(format!("{p}.fallback.degrade"), "must be true (leave `fallback` out for none)");
                }
                self.positive_secs(&format!("{p}.fallback.wait"), f.wait);
            }
            if ps.optional && ps.fallback.is_some() {
                self.issue(
                    format!("{p}.optional"),
                    "an optional call ignores its failure; it cannot also have a fallback",
                );
            }
            out.push(PolicyDef {
                name: name.clone(),
                timeout,
                deadline,
                retry: ps.retry.as_ref().map(|r| self.retry(&format!("{p}.retry"), r)),
                budget: ps.budget.as_ref().map(|b| self.budget(&format!("{p}.budget"), b)),
                breaker: ps.breaker.as_ref().map(|b| self.breaker(&format!("{p}.breaker"), b)),
                optional: ps.optional,
                rate_limit,
            });
        }
        out
    }

    /// A positive, finite number of seconds, or an issue.
    fn positive_secs(&mut self, path: &str, q: Option<crate::model::quantity::Quantity>) -> Option<f64> {
        let v = q?.0;
        if !(v.is_finite() && v > 0.0) {
            self.issue(path, format!("must be a positive duration, got {v}"));
            return None;
        }
        Some(v)
    }

    fn retry(&mut self, p: &str, r: &RetrySpec) -> RetryDef {
        if r.max_attempts == 0 || r.max_attempts > MAX_ATTEMPTS {
            let msg = format!("must be a whole number from 1 to {MAX_ATTEMPTS} (the first attempt counts)");
            self.issue(format!("{p}.max_attempts"), msg);
        }
        let base = r.base.map_or(0.1, |q| q.0);
        let cap = r.cap.map_or(20.0, |q| q.0);
        if !(base.is_finite() && base >= 0.0) {
            self.issue(format!("{p}.base"), format!("must be a duration ≥ 0, got {base}"));
        }
        if !(cap.is_finite() && cap >= base) {
            self.issue(format!("{p}.cap"), format!("must be a duration ≥ base ({base} s), got {cap}"));
        }
        let jitter = match r.jitter {
            JitterSpec::Kind(JitterKind::None) => Jitter::None,
            JitterSpec::Kind(JitterKind::Full) => Jitter::Full,
            JitterSpec::Kind(JitterKind::Equal) => Jitter::Equal,
            JitterSpec::Kind(JitterKind::Decorrelated) => Jitter::Decorrelated,
            JitterSpec::Uniform { uniform } => {
                if !(uniform.0.is_finite() && uniform.0 >= 0.0) {
                    self.issue(format!("{p}.jitter.uniform"), format!("must be a duration ≥ 0, got {}", uniform.0));
                }
                Jitter::Uniform(uniform.0)
            }
        };
        let on = r.on.clone().unwrap_or(vec![OutcomeName::Throttled, OutcomeName::Timeout, OutcomeName::Error]);
        let mut mask = 0u8;
        for o in on {
            mask |= 1 << outcome_bit(o);
        }
        RetryDef {
            max_attempts: if r.idempotent { r.max_attempts.clamp(1, MAX_ATTEMPTS) } else { 1 },
            base: if r.backoff == Backoff::None { 0.0 } else { base },
            cap,
            exponential: r.backoff == Backoff::Exponential,
            jitter: if r.backoff == Backoff::None { Jitter::None } else { jitter },
            on: mask,
        }
    }

    fn budget(&mut self, p: &str, b: &BudgetSpec) -> BudgetDef {
        if !(b.ratio.is_finite() && (0.0..=10.0).contains(&b.ratio)) {
            self.issue(format!("{p}.ratio"), format!("must be a share from 0 to 10 retries per call, got {}", b.ratio));
        }
        let window_s = b.window.map_or(10.0, |q| q.0);
        if !(window_s.is_finite() && window_s > 0.0 && window_s <= 3600.0) {
            self.issue(format!("{p}.window"), format!("must be a duration from 0 to 1 h, got {window_s} s"));
        }
        let min_per_s = b.min_per_s.unwrap_or(10.0);
        if !(min_per_s.is_finite() && min_per_s >= 0.0) {
            self.issue(format!("{p}.min_per_s"), format!("must be a rate ≥ 0 [retries/s], got {min_per_s}"));
        }
        BudgetDef { ratio: b.ratio, window_s, min_per_s }
    }

    fn breaker(&mut self, p: &str, b: &BreakerSpec) -> BreakerDef {
        let (calls, duration_s) = match &b.window {
            BreakerWindow::Calls { calls } => {
                if *calls == 0 || *calls > MAX_BREAKER_CALLS {
                    self.issue(format!("{p}.window.calls"), format!("must be from 1 to {MAX_BREAKER_CALLS} attempts"));
                }
                (Some((*calls).clamp(1, MAX_BREAKER_CALLS)), 0.0)
            }
            BreakerWindow::Duration { duration } => {
                if !(duration.0.is_finite() && duration.0 > 0.0 && duration.0 <= 86_400.0) {
                    self.issue(format!("{p}.window.duration"), "must be a duration above 0 and at most 1 day");
                }
                (None, duration.0)
            }
        };
        let failure_rate = b.failure_rate.unwrap_or(0.5);
        self.share(&format!("{p}.failure_rate"), failure_rate);
        let slow = b.slow_call.as_ref().map(|s| {
            self.positive_secs(&format!("{p}.slow_call.duration"), Some(s.duration));
            self.share(&format!("{p}.slow_call.rate"), s.rate);
            (s.duration.0, s.rate)
        });
        let min_calls = b.min_calls.unwrap_or(20);
        if min_calls == 0 {
            self.issue(format!("{p}.min_calls"), "must be at least 1");
        } else if calls.is_some_and(|n| min_calls > n) {
            let msg = format!(
                "is {min_calls}, more than the {} attempts the window holds: the breaker could never open",
                calls.unwrap_or(0)
            );
            self.issue(format!("{p}.min_calls"), msg);
        }
        let probes = b.probes.unwrap_or(3);
        if probes == 0 || probes > MAX_PROBES {
            self.issue(format!("{p}.probes"), format!("must be from 1 to {MAX_PROBES}"));
        }
        let open_for_s = self.positive_secs(&format!("{p}.open_for"), b.open_for).unwrap_or(30.0);
        let exempt = b.exempt.iter().flatten().enumerate();
        let exempt = exempt.map(|(i, c)| self.class(format!("{p}.exempt.{i}"), Some(c))).collect();
        let min_calls = min_calls.max(1);
        BreakerDef { calls, duration_s, failure_rate, slow, min_calls, open_for_s, probes, exempt }
    }

    fn share(&mut self, path: &str, v: f64) {
        if !(v.is_finite() && v > 0.0 && v <= 1.0) {
            self.issue(path, format!("must be a share above 0 and at most 1, got {v}"));
        }
    }
}

/// The bit of an outcome in a retry mask (the `Outcome` discriminant order).
fn outcome_bit(o: OutcomeName) -> u8 {
    match o {
        OutcomeName::Rejected => 1,
        OutcomeName::Throttled => 2,
        OutcomeName::Timeout => 3,
        OutcomeName::Error => 4,
        OutcomeName::Unavailable => 5,
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() { "(none)".to_string() } else { names.join(", ") }
}
