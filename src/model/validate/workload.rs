//! Checks intents, key spaces and what each source or population draws.

use std::collections::BTreeMap;

use super::Checker;
use crate::engine::SimTime;
use crate::model::ModelSpec;
use crate::model::workload::{Draws, IntentDef, KeySpaceDef, Workload};

/// Most keys in one key space (a key is a 32-bit id; Zipf draws cost O(1) whatever the count).
const MAX_KEYS: u32 = 1_000_000_000;
/// Most key spaces in a model (a request carries its space as a 16-bit index).
const MAX_KEY_SPACES: usize = 1000;
/// Shares must add up to 1 within this.
const SHARE_SUM_TOLERANCE: f64 = 1e-6;

impl Checker {
    /// The intent mix and key spaces.
    pub(super) fn workload(&mut self, spec: &ModelSpec) -> Workload {
        let mut intents = Vec::new();
        for (name, i) in &spec.intents {
            let p = format!("intents.{name}");
            let tokens_in = i.tokens_in.as_ref().and_then(|d| self.tokens(format!("{p}.tokens_in"), d));
            let tokens_out = i.tokens_out.as_ref().and_then(|d| self.tokens(format!("{p}.tokens_out"), d));
            intents.push(IntentDef { name: name.clone(), share: i.share, tokens_in, tokens_out });
        }
        let shares: BTreeMap<String, f64> = spec.intents.iter().map(|(n, i)| (n.clone(), i.share)).collect();
        if !shares.is_empty() {
            self.shares("intents", &shares, |n| format!("intents.{n}.share"));
        }
        let mut keys = Vec::new();
        if spec.keys.len() > MAX_KEY_SPACES {
            self.issue("keys", format!("at most {MAX_KEY_SPACES} key spaces, got {}", spec.keys.len()));
        }
        for (name, k) in &spec.keys {
            let p = format!("keys.{name}");
            if k.count == 0 || k.count > MAX_KEYS {
                self.issue(format!("{p}.count"), format!("must be a whole number from 1 to {MAX_KEYS}"));
            }
            let zipf = k.zipf.unwrap_or(1.0);
            if !(zipf.is_finite() && (0.0..=100.0).contains(&zipf)) {
                self.issue(format!("{p}.zipf"), format!("must be an exponent from 0 to 100, got {zipf}"));
            }
            let mut bursts = Vec::new();
            for (i, b) in k.bursts.iter().enumerate() {
                let bp = format!("{p}.bursts.{i}");
                if !(b.from.0 >= 0.0 && b.to.0 > b.from.0 && b.to.0.is_finite()) {
                    self.issue(bp.clone(), "needs 0 ≤ from < to");
                }
                if !(0.0..=1.0).contains(&b.share) {
                    self.issue(format!("{bp}.share"), format!("must be a share from 0 to 1, got {}", b.share));
                }
                if b.key >= k.count.max(1) {
                    self.issue(format!("{bp}.key"), format!("must be below count ({})", k.count));
                }
                if b.keys == 0 || b.key as u64 + b.keys as u64 > k.count as u64 {
                    let msg = format!("must be from 1 to count − key ({})", k.count.saturating_sub(b.key));
                    self.issue(format!("{bp}.keys"), msg);
                }
                let (a, z) = (SimTime::from_secs(b.from.0.max(0.0)), SimTime::from_secs(b.to.0.max(0.0)));
                bursts.push((a, z, b.share, b.key, b.keys.max(1)));
            }
            keys.push(KeySpaceDef { name: name.clone(), count: k.count.max(1), zipf, bursts });
        }
        Workload { intents, keys }
    }

    /// What a source or population at `p` draws: class shares (instead of `class`), key space,
    /// and its one intent (instead of the model's intent shares).
    pub(super) fn draws(
        &mut self,
        p: &str,
        class: Option<&String>,
        class_shares: Option<&BTreeMap<String, f64>>,
        (keys, intent): (Option<&String>, Option<&String>),
        spec: &ModelSpec,
    ) -> Draws {
        let mut d = Draws::default();
        if let Some(shares) = class_shares {
            if class.is_some() {
                self.issue(format!("{p}.class_shares"), "give `class` or `class_shares`, not both");
            }
            for k in shares.keys().filter(|k| !self.classes.contains(k)).cloned().collect::<Vec<_>>() {
                let msg = format!("unknown class `{k}`; `classes` lists: {}", self.classes.join(", "));
                self.issue(format!("{p}.class_shares.{k}"), msg);
            }
            self.shares(&format!("{p}.class_shares"), shares, |n| format!("{p}.class_shares.{n}"));
            let total: f64 = shares.values().filter(|v| v.is_finite() && **v > 0.0).sum();
            let mut acc = 0.0;
            let cum: Vec<f64> = self
                .classes
                .iter()
                .map(|c| {
                    acc += shares.get(c).copied().filter(|v| v.is_finite() && *v > 0.0).unwrap_or(0.0);
                    if total > 0.0 { acc / total } else { 1.0 }
                })
                .collect();
            d.class_cumulative = Some(cum);
        }
        if let Some(k) = keys {
            match spec.keys.keys().position(|n| n == k) {
                Some(i) => d.keys = Some(i as u32),
                None => {
                    let known: Vec<&str> = spec.keys.keys().map(String::as_str).collect();
                    let known = if known.is_empty() { "(none)".to_string() } else { known.join(", ") };
                    let msg = format!("unknown key space `{k}`; `keys` lists: {known}");
                    self.issue(format!("{p}.keys"), msg);
                }
            }
        }
        if let Some(i) = intent {
            match spec.intents.keys().position(|n| n == i) {
                Some(k) => d.intent = Some(k as u16),
                None => {
                    let known: Vec<&str> = spec.intents.keys().map(String::as_str).collect();
                    let known = if known.is_empty() { "(none)".to_string() } else { known.join(", ") };
                    self.issue(format!("{p}.intent"), format!("unknown intent `{i}`; `intents` lists: {known}"));
                }
            }
        }
        d
    }

    /// Shares must be ≥ 0 and add up to 1.
    fn shares(&mut self, p: &str, shares: &BTreeMap<String, f64>, path: impl Fn(&str) -> String) {
        for (n, v) in shares {
            if !(v.is_finite() && *v >= 0.0) {
                self.issue(path(n), format!("must be a share ≥ 0, got {v}"));
            }
        }
        let sum: f64 = shares.values().sum();
        if (sum - 1.0).abs() > SHARE_SUM_TOLERANCE {
            let shown = (sum * 1e9).round() / 1e9;
            self.issue(p, format!("the shares add up to {shown}; they must add up to 1"));
        }
    }
}
