//! What a service kind sees while it compiles: its settings' path for messages, the flow
//! program to write its steps into, and helpers for work steps and calls that check their
//! settings as flow steps do (see `components::kinds`).

use super::Checker;
use crate::components::kinds::KindStep;
use crate::model::program::{Op, Pc, Program, RETURN};
use crate::model::{Dist, DistSpec};

/// A kind's compiler: writes the flow of service `service` into `prog`, reporting problems
/// under `path` (`services.<name>.kind.<kind>`).
pub struct KindBuilder<'a> {
    pub(super) checker: &'a mut Checker,
    pub(super) prog: &'a mut Program,
    pub(super) path: String,
    pub(super) service: u32,
    pub(super) kind: u32,
    pub(super) first_service: u32,
    /// First op of the service's flow (set by the kind).
    pub entry: Pc,
}

impl KindBuilder<'_> {
    /// The settings' path, e.g. `services.catalog_cache.kind.cache`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where simulated time 0 falls on the model's clock, for hourly schedules.
    pub fn clock(&self) -> crate::model::clock::Clock {
        self.checker.clock
    }

    /// The run's length [s] (warm-up included).
    pub fn duration_s(&self) -> f64 {
        self.checker.duration_s
    }

    /// The service's name.
    pub fn service_name(&self) -> &str {
        &self.prog.services[self.service as usize].name
    }

    /// Reports a problem with field `field` of the settings (a dotted path below them).
    pub fn issue(&mut self, field: &str, msg: impl Into<String>) {
        let path = format!("{}.{field}", self.path);
        self.checker.issue(path, msg);
    }

    /// The price called `name` in the model's price table (its `prices` over the defaults).
    pub fn price(&self, name: &str) -> Option<crate::cost::Price> {
        self.checker.prices.get(name).and_then(|p| p.check().ok())
    }

    /// The index of intent `name`, if the model has it.
    pub fn intent_index(&self, name: &str) -> Option<usize> {
        self.checker.intent_names.iter().position(|n| n == name)
    }

    /// Per intent index, whether the intent is one of `names` (the list at `field`); unknown
    /// names are reported at `field.<i>` and make it `None`.
    pub fn intent_flags(&mut self, field: &str, names: &[String]) -> Option<Vec<bool>> {
        let mut flags = Vec::new();
        let mut ok = true;
        for (i, name) in names.iter().enumerate() {
            match self.intent_index(name) {
                Some(k) => {
                    flags.resize(flags.len().max(k + 1), false);
                    flags[k] = true;
                }
                None => {
                    self.issue(&format!("{field}.{i}"), format!("unknown intent `{name}`"));
                    ok = false;
                }
            }
        }
        ok.then_some(flags)
    }

    /// Per intent index, a share (0–1): `default`, or the intent's entry in `by_intent` (the
    /// map at `field`). Out-of-range shares and unknown intents are reported at
    /// `field.<intent>` and make it `None`.
    pub fn intent_shares(
        &mut self,
        field: &str,
        default: f64,
        by_intent: &std::collections::BTreeMap<String, f64>,
    ) -> Option<Vec<f64>> {
        let mut shares = vec![default; self.checker.intent_names.len()];
        let mut ok = true;
        for (name, &v) in by_intent {
            let at = format!("{field}.{name}");
            if !(0.0..=1.0).contains(&v) {
                self.issue(&at, format!("must be a share from 0 to 1, got {v}"));
                ok = false;
            }
            match self.intent_index(name) {
                Some(k) => shares[k] = v,
                None => {
                    self.issue(&at, format!("unknown intent `{name}`"));
                    ok = false;
                }
            }
        }
        ok.then_some(shares)
    }

    /// Checks an on/off burst process at `field` (see
    /// [`ThrottleBurstSpec`](crate::model::service_spec::ThrottleBurstSpec)): (mean on [s],
    /// mean off [s], share hit while on).
    pub fn bursts(&mut self, field: &str, b: &crate::model::service_spec::ThrottleBurstSpec) -> (f64, f64, f64) {
        let path = format!("{}.{field}", self.path);
        self.checker.bursts(&path, b)
    }

    /// The optional call of a kind's `target` under `policy` after its own work (a Lambda
    /// handler's, an orchestrating pool's): it goes on at `then`, and a failed call at a new
    /// step tagged `failed_tag`; without a target, `then` itself (`policy` alone is an issue).
    /// None if the call is refused.
    pub fn target_call(&mut self, target: Option<&str>, policy: Option<&str>, then: Pc, failed_tag: u16) -> Option<Pc> {
        match target {
            Some(t) => {
                let failed = self.step(failed_tag, vec![]);
                self.call("target", t, policy, then, Some(failed))
            }
            None => {
                if policy.is_some() {
                    self.issue("policy", "goes with `target`");
                }
                Some(then)
            }
        }
    }

    /// The optional `overflow` call under `overflow_policy` (ECS spilling to Lambda), replying
    /// with the call's outcome: `Some(None)` without one (`overflow_policy` alone is an issue),
    /// None if the call is refused.
    pub fn overflow_call(&mut self, overflow: Option<&str>, policy: Option<&str>) -> Option<Option<Pc>> {
        match overflow {
            Some(o) => self.call_with("overflow_policy", "overflow", o, policy, RETURN, None).map(Some),
            None => {
                if policy.is_some() {
                    self.issue("overflow_policy", "goes with `overflow`");
                }
                Some(None)
            }
        }
    }

    /// The model's key space names, by index (as in a request's `space`).
    pub fn key_spaces(&self) -> &[String] {
        &self.checker.key_space_names
    }

    /// The model's first key space (first by name): its name and number of keys; `None`
    /// without key spaces (every request's key is then 0).
    pub fn first_key_space(&self) -> Option<(&str, u32)> {
        let c = &self.checker;
        c.key_space_names.first().map(|n| n.as_str()).zip(c.key_space_counts.first().copied())
    }

    /// The index of key space `name`, if the model has it.
    pub fn key_space_index(&self, name: &str) -> Option<usize> {
        self.checker.key_space_names.iter().position(|n| n == name)
    }

    /// Checks a distribution at `field`.
    pub fn dist(&mut self, field: &str, d: &DistSpec) -> Option<Dist> {
        let path = format!("{}.{field}", self.path);
        self.checker.dist(path, d)
    }

    /// Checks a law of tokens per request at `field` (see [`MAX_TOKENS`](crate::model::limits::MAX_TOKENS)).
    pub fn tokens(&mut self, field: &str, d: &DistSpec) -> Option<Dist> {
        let path = format!("{}.{field}", self.path);
        self.checker.tokens(path, d)
    }

    /// A work step drawing from `dist`, then `then`; its random stream is named after `field`.
    pub fn work(&mut self, field: &str, dist: Dist, then: Pc) -> Pc {
        let w = self.prog.work(format!("{}.{field}", self.path), dist, None);
        self.prog.push(Op::Work { work: w, then })
    }

    /// A call to the service or station `callee` under `policy` (a `policies` entry, with its
    /// timeouts, retries and fallback), then `then`. A call that finally fails goes to
    /// `on_fail` if given (the job's `failed` holds the outcome), else fails the flow as any
    /// call does. `None` if the callee or the policy is unknown (reported at `field`).
    pub fn call(
        &mut self,
        field: &str,
        callee: &str,
        policy: Option<&str>,
        then: Pc,
        on_fail: Option<Pc>,
    ) -> Option<Pc> {
        self.call_with("policy", field, callee, policy, then, on_fail)
    }

    /// [`KindBuilder::call`] whose policy is set in the field `policy_field` (problems with the
    /// policy are reported there, with the callee at `field`).
    pub fn call_with(
        &mut self,
        policy_field: &str,
        field: &str,
        callee: &str,
        policy: Option<&str>,
        then: Pc,
        on_fail: Option<Pc>,
    ) -> Option<Pc> {
        let p = format!("{}.{field}", self.path);
        let policy_path = format!("{}.{policy_field}", self.path);
        let at = (p.as_str(), policy_path.as_str());
        let pc = self.checker.call_op_at(self.prog, callee, policy, then, &p, at, self.first_service)?;
        if let Op::Call { site, .. } = self.prog.ops[pc as usize] {
            self.prog.sites[site as usize].on_fail = on_fail;
        }
        Some(pc)
    }

    /// A kind step tagged `tag` with these exits (pcs the kind may send a job on to).
    pub fn step(&mut self, tag: u16, exits: Vec<Pc>) -> Pc {
        self.prog.kind_steps.push(KindStep { tag, exits });
        let step = (self.prog.kind_steps.len() - 1) as u32;
        self.prog.push(Op::Kind { kind: self.kind, step })
    }

    /// A kind step tagged `tag` whose exits are `exits` and then the step itself, last (a
    /// step that holds a job and tries again: a client's reconnect after a backoff).
    pub fn looping_step(&mut self, tag: u16, mut exits: Vec<Pc>) -> Pc {
        let pc = self.prog.ops.len() as Pc;
        exits.push(pc);
        let at = self.step(tag, exits);
        debug_assert_eq!(at, pc, "a step is pushed at the end of the program");
        at
    }
}
