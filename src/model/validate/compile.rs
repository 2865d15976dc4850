//! Compiles checked blocks and the `services` section into one flow [`Program`], checking each
//! step as it goes (exactly one action per step, known services, no service that ends up
//! calling itself).

use super::Checker;
use super::kinds::KindBuilder;
use crate::components::kinds::KindSpec;
use crate::cost::Driver;
use crate::engine::SimTime;
use crate::model::limits::{MAX_DURATION_S, MIN_BURST_S};
use crate::model::policy_spec::FallbackSpec;
use crate::model::program::{DelayDef, Faults, Op, Origin, Pc, Program, RETURN, RouteDef, ServiceDef};
use crate::model::service_spec::{
    BranchSpec, FaultSpec, ServiceSpec, StepSpec, SubFlow, ThrottleBurstSpec, WaitSpec, WaitWord,
};
use crate::model::{BlockDef, Dist, ModelSpec, RouterDef, Target};

/// Most ops one model may compile to: each is 16 bytes; a million is far beyond any diagram.
const MAX_OPS: usize = 1_000_000;

impl Checker {
    /// Builds the program: the foundation's blocks at pcs 1..=n, then station bodies, stubs
    /// for `to: <service>`, and each service's flow.
    pub(super) fn compile(&mut self, spec: &ModelSpec, blocks: &[BlockDef], names: &[String]) -> Program {
        let mut prog = Program::new();
        self.intent_names = spec.intents.keys().cloned().collect();
        self.key_space_names = spec.keys.keys().cloned().collect();
        self.key_space_counts = spec.keys.values().map(|k| k.count).collect();
        self.policy_fallbacks = spec.policies.iter().map(|(n, p)| (n.clone(), p.fallback.clone())).collect();
        prog.ops.extend(blocks.iter().map(|_| Op::Return));
        let first_service = blocks.iter().filter(|b| matches!(b, BlockDef::Station(_))).count() as u32;
        for (name, s) in &spec.services {
            let def = self.service_def(name, s);
            prog.services.push(def);
        }
        // Stations come first among services, so rotate them in front after registration.
        let mut station_services = Vec::new();
        for (b, name) in blocks.iter().zip(names) {
            if let BlockDef::Station(st) = b {
                station_services.push(ServiceDef {
                    name: name.clone(),
                    origin: Origin::Station,
                    servers: st.servers,
                    discipline: st.discipline,
                    capacity: st.capacity,
                    hold_while_waiting: true,
                    cores: None,
                    entry: RETURN,
                    faults: Faults::default(),
                    cost: st.cost.clone(),
                });
            }
        }
        station_services.append(&mut prog.services);
        prog.services = station_services;
        prog.limits = self.limits(spec);
        prog.policies = self.policies(spec, &prog.limits);
        for i in 0..spec.services.len() as u32 {
            let site = prog.site(first_service + i, None);
            let stub = prog.push(Op::Call { site, then: RETURN });
            prog.stubs.push(stub);
        }
        self.compile_blocks(&mut prog, blocks, names);
        for (i, (name, s)) in spec.services.iter().enumerate() {
            let service = first_service + i as u32;
            let works_before = prog.works.len();
            let entry = match &s.kind {
                None => self.steps(&mut prog, &s.flow, RETURN, &format!("services.{name}.flow"), first_service),
                Some(kind) => self.kind(&mut prog, kind, name, service, first_service, !s.flow.is_empty()),
            };
            prog.services[service as usize].entry = entry;
            if s.cores.is_some() {
                prog.works[works_before..].iter_mut().for_each(|w| w.contended = Some(service));
            }
        }
        if prog.ops.len() > MAX_OPS {
            self.issue("services", format!("the flows compile to {} steps; at most {MAX_OPS}", prog.ops.len()));
        }
        self.check_call_cycles(&prog, spec, first_service);
        prog
    }

    /// Compiles a service of a kind through its module; returns its entry pc.
    fn kind(&mut self, prog: &mut Program, kind: &KindSpec, name: &str, service: u32, first: u32, flow: bool) -> Pc {
        if flow {
            let msg = "a service with a `kind` gets its flow from the kind; remove `flow` (or `kind`)";
            self.issue(format!("services.{name}.flow"), msg);
        }
        let index = prog.kinds.len() as u32;
        let path = format!("services.{name}.kind.{}", kind.name());
        let mut b =
            KindBuilder { checker: self, prog, path, service, kind: index, first_service: first, entry: RETURN };
        let def = kind.compile(&mut b);
        let entry = b.entry;
        if let Some(def) = def {
            prog.kinds.push((service, def));
        }
        entry
    }

    fn service_def(&mut self, name: &str, s: &ServiceSpec) -> ServiceDef {
        let p = format!("services.{name}");
        if s.servers == 0 {
            self.issue(format!("{p}.servers"), "must be at least 1");
        }
        if s.cores == Some(0) {
            self.issue(format!("{p}.cores"), "must be at least 1");
        }
        ServiceDef {
            name: name.to_string(),
            origin: Origin::Service,
            servers: s.servers.max(1),
            discipline: s.discipline,
            capacity: s.capacity,
            hold_while_waiting: s
                .hold_while_waiting
                .unwrap_or_else(|| s.kind.as_ref().is_none_or(|k| k.holds_while_waiting())),
            cores: s.cores.filter(|&c| c > 0),
            entry: RETURN,
            faults: self.faults(&format!("{p}.faults"), &s.faults),
            cost: self.cost(&p, &s.cost, &[Driver::InstanceHours, Driver::Requests]),
        }
    }

    /// Checks an on/off burst process at `p` (throttle bursts, a guardrail's campaigns): (mean
    /// on [s], mean off [s], share hit while on), clamped into range after a reported problem.
    pub(super) fn bursts(&mut self, p: &str, b: &ThrottleBurstSpec) -> (f64, f64, f64) {
        for (field, v) in [("on_mean", b.on_mean.0), ("off_mean", b.off_mean.0)] {
            if !(v.is_finite() && (MIN_BURST_S..=MAX_DURATION_S).contains(&v)) {
                let msg = format!("must be a duration from 1 ms to 100 years, got {v} s");
                self.issue(format!("{p}.{field}"), msg);
            }
        }
        if !(0.0..=1.0).contains(&b.share) {
            let msg = format!("must be a share from 0 to 1, got {}", b.share);
            self.issue(format!("{p}.share"), msg);
        }
        let clamp = |v: f64| if v.is_finite() { v.clamp(MIN_BURST_S, MAX_DURATION_S) } else { 1.0 };
        (clamp(b.on_mean.0), clamp(b.off_mean.0), b.share.clamp(0.0, 1.0))
    }

    fn faults(&mut self, p: &str, f: &FaultSpec) -> Faults {
        if !(0.0..=1.0).contains(&f.error_rate) {
            self.issue(format!("{p}.error_rate"), format!("must be a probability from 0 to 1, got {}", f.error_rate));
        }
        let window = |this: &mut Checker, path: String, from: f64, to: f64| {
            let (a, b) = (SimTime::from_secs(from.max(0.0)), SimTime::from_secs(to.max(0.0)));
            // Compared in whole nanoseconds, as the run sees them: a window of less than 1 ns is empty.
            if !(from >= 0.0 && to <= MAX_DURATION_S && b > a) {
                this.issue(
                    path,
                    format!(
                        "needs 0 ≤ from < to ≤ 100 years (3.16e9 s), at least 1 ns apart; got from {from} s to {to} s"
                    ),
                );
            }
            (a, b)
        };
        let outages = f
            .outages
            .iter()
            .enumerate()
            .map(|(i, w)| window(self, format!("{p}.outages.{i}"), w.from.0, w.to.0))
            .collect();
        let mut slowdowns = Vec::new();
        for (i, w) in f.slowdowns.iter().enumerate() {
            let (a, b) = window(self, format!("{p}.slowdowns.{i}"), w.from.0, w.to.0);
            if !(w.extra.0.is_finite() && (0.0..=MAX_DURATION_S).contains(&w.extra.0)) {
                self.issue(format!("{p}.slowdowns.{i}.extra"), format!("must be a duration ≥ 0, got {}", w.extra.0));
            }
            slowdowns.push((a, b, w.extra.0.max(0.0)));
        }
        let mut capacity_drops = Vec::new();
        for (i, w) in f.capacity_drops.iter().enumerate() {
            let (a, b) = window(self, format!("{p}.capacity_drops.{i}"), w.from.0, w.to.0);
            if !(0.0..=1.0).contains(&w.fraction) {
                self.issue(
                    format!("{p}.capacity_drops.{i}.fraction"),
                    format!("must be a share from 0 to 1, got {}", w.fraction),
                );
            }
            capacity_drops.push((a, b, w.fraction.clamp(0.0, 1.0)));
        }
        if f.outages.len() + f.slowdowns.len() + f.capacity_drops.len() > 10_000 {
            self.issue(p, "at most 10,000 fault windows per service (each is two events)");
        }
        if !(0.0..=1.0).contains(&f.throttle_rate) {
            let msg = format!("must be a probability from 0 to 1, got {}", f.throttle_rate);
            self.issue(format!("{p}.throttle_rate"), msg);
        }
        let throttle_bursts = f.throttle_bursts.as_ref().map(|b| self.bursts(&format!("{p}.throttle_bursts"), b));
        Faults {
            throttle_rate: f.throttle_rate.clamp(0.0, 1.0),
            throttle_bursts,
            error_rate: f.error_rate.clamp(0.0, 1.0),
            error_retryable: f.error_retryable,
            outages,
            slowdowns,
            capacity_drops,
        }
    }

    /// Block i becomes op 1 + i: a station is a call to its service, a delay a work step, a
    /// router a route, a fork a parallel step whose branches end at its join.
    fn compile_blocks(&mut self, prog: &mut Program, blocks: &[BlockDef], names: &[String]) {
        let mut station = 0u32;
        for (i, (b, name)) in blocks.iter().zip(names).enumerate() {
            let op = match b {
                BlockDef::Station(st) => {
                    let w = prog.work(name.clone(), st.service.clone(), None);
                    let body = prog.push(Op::Work { work: w, then: RETURN });
                    prog.services[station as usize].entry = body;
                    let site = prog.site(station, None);
                    station += 1;
                    Op::Call { site, then: prog.pc_of(st.to) }
                }
                BlockDef::Delay { delay, to, cost } => {
                    prog.delays.push(DelayDef { name: name.clone(), cost: cost.clone() });
                    let d = (prog.delays.len() - 1) as u32;
                    let w = prog.work(name.clone(), delay.clone(), Some(d));
                    Op::Work { work: w, then: prog.pc_of(*to) }
                }
                BlockDef::Router(r) => {
                    let def = match r {
                        RouterDef::Probability { cumulative, targets } => RouteDef::Probability {
                            cumulative: cumulative.clone(),
                            pcs: targets.iter().map(|t| prog.pc_of(*t)).collect(),
                        },
                        RouterDef::Class { by_class } => {
                            RouteDef::Class { by_class: by_class.iter().map(|t| prog.pc_of(*t)).collect() }
                        }
                    };
                    prog.routes.push(def);
                    prog.route_streams.push(name.clone());
                    Op::Route { route: (prog.routes.len() - 1) as u32 }
                }
                BlockDef::Fork { branches, join } => {
                    let first = prog.branch_pcs.len() as u32;
                    let pcs: Vec<Pc> = branches.iter().map(|t| prog.pc_of(*t)).collect();
                    prog.branch_pcs.extend(pcs);
                    let then = match &blocks[*join as usize] {
                        BlockDef::Join { to } => prog.pc_of(*to),
                        _ => RETURN,
                    };
                    let n = branches.len() as u16;
                    Op::Parallel { first, count: n, need: n, then }
                }
                BlockDef::Join { .. } => Op::Return,
            };
            prog.ops[1 + i] = op;
        }
    }

    /// Compiles `steps` so that the last goes on at `then`; returns the first step's pc.
    fn steps(&mut self, prog: &mut Program, steps: &[StepSpec], then: Pc, path: &str, first_service: u32) -> Pc {
        let mut next = then;
        for (i, step) in steps.iter().enumerate().rev() {
            next = self.step(prog, step, next, &format!("{path}.{i}"), first_service);
        }
        next
    }

    fn step(&mut self, prog: &mut Program, s: &StepSpec, then: Pc, p: &str, first_service: u32) -> Pc {
        let actions = [s.work.is_some(), s.call.is_some(), s.parallel.is_some(), s.branch.is_some(), s.limit.is_some()];
        if actions.iter().filter(|&&a| a).count() != 1 {
            self.issue(p, "a step needs exactly one of `work`, `call`, `parallel`, `branch` or `limit`");
            return then;
        }
        if s.wait.is_some() && s.parallel.is_none() {
            self.issue(format!("{p}.wait"), "`wait` goes with `parallel` only");
        }
        if s.policy.is_some() && s.call.is_none() {
            self.issue(format!("{p}.policy"), "`policy` goes with `call` only");
        }
        if let Some(l) = &s.limit {
            let Some(limit) = prog.limits.iter().position(|d| &d.name == l) else {
                let known: Vec<&str> = prog.limits.iter().map(|d| d.name.as_str()).collect();
                let msg = format!("unknown limit `{l}`; `limits` lists: {}", list(&known));
                self.issue(format!("{p}.limit"), msg);
                return then;
            };
            return prog.push(Op::Limit { limit: limit as u32, then });
        }
        if let Some(d) = &s.work {
            let Some(dist) = self.dist(format!("{p}.work"), d) else { return then };
            let w = prog.work(p.to_string(), dist, None);
            return prog.push(Op::Work { work: w, then });
        }
        if let Some(name) = &s.call {
            return self.call_op(prog, name, s.policy.as_deref(), then, p, first_service).unwrap_or(then);
        }
        if let Some(branches) = &s.parallel {
            return self.parallel(prog, branches, s.wait.as_ref(), then, p, first_service);
        }
        match s.branch.as_ref() {
            Some(b) => self.branch(prog, b, then, &format!("{p}.branch"), first_service),
            None => then,
        }
    }

    /// A call to `name` under `policy` (with its fallback), then `then`; `None` if the callee
    /// or the policy is unknown (reported at `p.call` or `p.policy`).
    pub(super) fn call_op(
        &mut self,
        prog: &mut Program,
        name: &str,
        policy: Option<&str>,
        then: Pc,
        p: &str,
        first_service: u32,
    ) -> Option<Pc> {
        let at = (format!("{p}.call"), format!("{p}.policy"));
        self.call_op_at(prog, name, policy, then, p, (&at.0, &at.1), first_service)
    }

    /// [`Checker::call_op`] with the callee's and the policy's own field paths (a kind's
    /// settings name them as they like: `target`, `origin`, `overflow_policy`…).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call_op_at(
        &mut self,
        prog: &mut Program,
        name: &str,
        policy: Option<&str>,
        then: Pc,
        p: &str,
        (callee_path, policy_path): (&str, &str),
        first_service: u32,
    ) -> Option<Pc> {
        let service = self.callee(prog, name, callee_path, first_service)?;
        let policy = match policy {
            None => None,
            Some(pn) => match prog.policies.iter().position(|d| d.name == pn) {
                Some(i) => Some(i as u32),
                None => {
                    let known: Vec<&str> = prog.policies.iter().map(|d| d.name.as_str()).collect();
                    let msg = format!("unknown policy `{pn}`; `policies` lists: {}", list(&known));
                    self.issue(policy_path.to_string(), msg);
                    return None;
                }
            },
        };
        let site = prog.site(service, policy);
        let fallback = policy.and_then(|i| spec_fallback(self, &prog.policies[i as usize].name.clone()));
        if let Some(f) = fallback {
            let fpc = self.fallback(prog, &f, then, p, first_service);
            prog.sites[site as usize].fallback = fpc;
        }
        Some(prog.push(Op::Call { site, then }))
    }

    /// The pc where a call that finally failed goes on under `fallback`.
    fn fallback(&mut self, prog: &mut Program, f: &FallbackSpec, then: Pc, p: &str, first_service: u32) -> Option<Pc> {
        if let Some(name) = &f.call {
            let service = self.callee(prog, name, &format!("{p}.policy → fallback.call"), first_service)?;
            let site = prog.site(service, None);
            return Some(prog.push(Op::Call { site, then }));
        }
        if let Some(w) = f.wait {
            let work = prog.work(format!("{p}.fallback"), Dist::Constant(w.0.max(0.0)), None);
            return Some(prog.push(Op::Work { work, then }));
        }
        Some(then)
    }

    /// The service index a `call` names: a service, or a foundation station.
    fn callee(&mut self, prog: &Program, name: &str, p: &str, first_service: u32) -> Option<u32> {
        let t = self.names.get(name).copied().flatten();
        if let Some(s) = t.and_then(Target::as_service) {
            return Some(first_service + s as u32);
        }
        if let Some(i) = prog.service_index(name) {
            return Some(i as u32);
        }
        let known: Vec<&str> = prog.services.iter().map(|s| s.name.as_str()).collect();
        let msg = if known.is_empty() {
            format!("unknown service `{name}`: the model has no `services` or `stations`")
        } else {
            format!("unknown service `{name}`; expected one of: {}", known.join(", "))
        };
        self.issue(p, msg);
        None
    }

    fn parallel(
        &mut self,
        prog: &mut Program,
        branches: &[SubFlow],
        wait: Option<&WaitSpec>,
        then: Pc,
        p: &str,
        first_service: u32,
    ) -> Pc {
        let n = branches.len();
        if n == 0 || n > u16::MAX as usize {
            self.issue(format!("{p}.parallel"), format!("must list from 1 to {} branches", u16::MAX));
            return then;
        }
        let need = match wait {
            None | Some(WaitSpec::Word(WaitWord::All)) => n as u16,
            Some(WaitSpec::Word(WaitWord::First)) => 1,
            Some(WaitSpec::K { k }) => {
                if *k == 0 || *k as usize > n {
                    self.issue(format!("{p}.wait.k"), format!("must be from 1 to the {n} branches, got {k}"));
                }
                (*k).clamp(1, n as u16)
            }
        };
        let pcs: Vec<Pc> = branches
            .iter()
            .enumerate()
            .map(|(i, b)| self.steps(prog, b.steps(), RETURN, &format!("{p}.parallel.{i}"), first_service))
            .collect();
        let first = prog.branch_pcs.len() as u32;
        prog.branch_pcs.extend(pcs);
        prog.push(Op::Parallel { first, count: n as u16, need, then })
    }

    fn branch(&mut self, prog: &mut Program, b: &BranchSpec, then: Pc, p: &str, first_service: u32) -> Pc {
        let def = match b {
            BranchSpec::Probability { cases } => {
                if cases.is_empty() {
                    self.issue(format!("{p}.cases"), "must list at least one case");
                    return then;
                }
                let weights: Vec<f64> = cases.iter().map(|c| c.weight).collect();
                let Some(cumulative) = self.cumulative(&format!("{p}.cases"), &weights) else { return then };
                let pcs = cases
                    .iter()
                    .enumerate()
                    .map(|(i, c)| self.steps(prog, c.flow.steps(), then, &format!("{p}.cases.{i}.flow"), first_service))
                    .collect();
                RouteDef::Probability { cumulative, pcs }
            }
            BranchSpec::Class { cases, default } => {
                let names = self.classes.clone();
                RouteDef::Class { by_class: self.cases(prog, cases, default, &names, "class", then, p, first_service) }
            }
            BranchSpec::Intent { cases, default } => {
                if self.intent_names.is_empty() {
                    self.issue(format!("{p}.by"), "branching by intent needs an `intents` section");
                }
                let names = self.intent_names.clone();
                RouteDef::Intent {
                    by_intent: self.cases(prog, cases, default, &names, "intent", then, p, first_service),
                }
            }
        };
        prog.routes.push(def);
        prog.route_streams.push(p.to_string());
        prog.push(Op::Route { route: (prog.routes.len() - 1) as u32 })
    }

    /// One pc per name of `names` (classes or intents): its case, else `default`, else `then`.
    #[allow(clippy::too_many_arguments)]
    fn cases(
        &mut self,
        prog: &mut Program,
        cases: &std::collections::BTreeMap<String, SubFlow>,
        default: &Option<SubFlow>,
        names: &[String],
        what: &str,
        then: Pc,
        p: &str,
        first_service: u32,
    ) -> Vec<Pc> {
        for k in cases.keys().filter(|k| !names.contains(k)) {
            let msg = format!(
                "unknown {what} `{k}`; expected one of: {}",
                list(&names.iter().map(String::as_str).collect::<Vec<_>>())
            );
            self.issues.push(crate::model::Issue::new(format!("{p}.cases.{k}"), msg));
        }
        let dflt = match default {
            Some(d) => self.steps(prog, d.steps(), then, &format!("{p}.default"), first_service),
            None => then,
        };
        let mut pcs = Vec::new();
        for n in names {
            let pc = match cases.get(n) {
                Some(f) => self.steps(prog, f.steps(), then, &format!("{p}.cases.{n}"), first_service),
                None => dflt,
            };
            pcs.push(pc);
        }
        pcs
    }

    /// A service that calls itself, directly or through others, would recurse without end; a
    /// chain of calls deeper than [`MAX_CALL_DEPTH`] is refused too (each level is a nested
    /// wait in the interpreter).
    fn check_call_cycles(&mut self, prog: &Program, spec: &ModelSpec, first_service: u32) {
        let calls: Vec<Vec<usize>> = prog.services.iter().map(|s| callees(prog, s.entry)).collect();
        match call_depths(&calls) {
            Err(cycle) => {
                let names: Vec<&str> = cycle.iter().map(|&i| prog.services[i].name.as_str()).collect();
                let who = names[0];
                let msg = format!("calls itself through {}; a call graph must have no cycle", names.join(" → "));
                let path = match spec.services.get(who).map(|s| &s.kind) {
                    Some(Some(kind)) => format!("services.{who}.kind.{}", kind.name()),
                    Some(None) => format!("services.{who}.flow"),
                    None => "services".into(),
                };
                self.issue(path, msg);
            }
            Ok(depth) => {
                let deepest = (first_service as usize..calls.len()).max_by_key(|&s| depth[s]);
                if let Some(s) = deepest.filter(|&s| depth[s] > MAX_CALL_DEPTH) {
                    let name = &prog.services[s].name;
                    let msg = format!(
                        "starts a chain of {} nested calls; at most {MAX_CALL_DEPTH} (real architectures nest a handful)",
                        depth[s]
                    );
                    self.issue(format!("services.{name}.flow"), msg);
                }
            }
        }
    }
}

/// Most nested calls from one service down (orchestrator → retrieval → store is 2).
const MAX_CALL_DEPTH: usize = 64;

/// The depth of the call chain below each service (0 for one that calls nobody), or a cycle
/// (the services along it, the first repeated last). Iterative, so a huge graph cannot
/// overflow the stack.
fn call_depths(calls: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = calls.len();
    // 0 = unvisited, 1 = on the path, 2 = done.
    let mut state = vec![0u8; n];
    let mut depth = vec![0usize; n];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        // (service, index of the next callee to visit)
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (s, ref mut next)) = stack.last_mut() {
            if let Some(&c) = calls[s].get(*next) {
                *next += 1;
                match state[c] {
                    0 => {
                        state[c] = 1;
                        stack.push((c, 0));
                    }
                    1 => {
                        let start = stack.iter().position(|&(x, _)| x == c).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[start..].iter().map(|&(x, _)| x).collect();
                        cycle.push(c);
                        return Err(cycle);
                    }
                    _ => {}
                }
            } else {
                depth[s] = calls[s].iter().map(|&c| depth[c] + 1).max().unwrap_or(0);
                state[s] = 2;
                stack.pop();
            }
        }
    }
    Ok(depth)
}

/// The fallback of policy `name`, as written.
fn spec_fallback(c: &Checker, name: &str) -> Option<FallbackSpec> {
    c.policy_fallbacks.get(name).cloned().flatten()
}

/// Names for a message, or "(none)".
fn list(names: &[&str]) -> String {
    if names.is_empty() { "(none)".to_string() } else { names.join(", ") }
}

/// The services reachable by calls from the flow starting at `entry`, without entering them.
fn callees(prog: &Program, entry: Pc) -> Vec<usize> {
    let mut out = Vec::new();
    let mut seen = vec![false; prog.ops.len()];
    let mut stack = vec![entry];
    while let Some(pc) = stack.pop() {
        if std::mem::replace(&mut seen[pc as usize], true) {
            continue;
        }
        match prog.ops[pc as usize] {
            Op::Return => {}
            Op::Work { then, .. } => stack.push(then),
            Op::Call { site, then } => {
                out.push(prog.sites[site as usize].service as usize);
                if let Some(f) = prog.sites[site as usize].fallback {
                    stack.push(f);
                }
                stack.push(then);
            }
            Op::Limit { then, .. } => stack.push(then),
            Op::Parallel { first, count, then, .. } => {
                stack.push(then);
                stack.extend(&prog.branch_pcs[first as usize..(first + count as u32) as usize]);
            }
            Op::Route { route } => match &prog.routes[route as usize] {
                RouteDef::Probability { pcs, .. } => stack.extend(pcs),
                RouteDef::Class { by_class: pcs } | RouteDef::Intent { by_intent: pcs } => stack.extend(pcs),
            },
            Op::Kind { step, .. } => stack.extend(&prog.kind_steps[step as usize].exits),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
