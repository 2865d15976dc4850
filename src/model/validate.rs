//! Stage two of loading: a raw [`ModelSpec`] becomes a checked [`Model`], or a list of every
//! problem found, each at its dotted path.

use std::collections::BTreeMap;

use super::clock::{Clock, Schedule, parse_time_of_day, parse_utc_offset};
use super::dist::{Dist, DistSpec};
use super::error::Issue;
use super::limits::*;
use super::profile::{AfterProfile, RateProfile, SegmentSpec, check_segment};
use super::spec::*;
use super::*;
use crate::cost::{CostLine, CostLineSpec, Driver, PriceSpec, default_prices};

struct Checker {
    issues: Vec<Issue>,
    /// The price table: defaults overlaid with the model's `prices`.
    prices: BTreeMap<String, PriceSpec>,
    /// Name → where a request sent there goes (a block or a service); sources and sessions
    /// map to `None` (requests cannot be sent to them).
    names: BTreeMap<String, Option<Target>>,
    classes: Vec<String>,
    /// Each policy's fallback as written (compiled at every call site that uses the policy).
    policy_fallbacks: BTreeMap<String, Option<crate::model::policy_spec::FallbackSpec>>,
    /// Intent names in index order.
    intent_names: Vec<String>,
    /// Key space names in index order.
    key_space_names: Vec<String>,
    /// Keys in each key space, in the order of `key_space_names`.
    key_space_counts: Vec<u32>,
    /// The run's clock (`run.start`, `run.utc_offset`) and length [s], for schedules.
    clock: Clock,
    duration_s: f64,
}

/// Checks `spec` and builds the model.
pub fn validate(spec: ModelSpec) -> Result<Model, Vec<Issue>> {
    let classes = if spec.classes.is_empty() { vec!["default".to_string()] } else { spec.classes.clone() };
    let mut prices = default_prices();
    prices.extend(spec.prices.clone());
    let mut c = Checker {
        issues: Vec::new(),
        prices,
        names: BTreeMap::new(),
        classes,
        policy_fallbacks: BTreeMap::new(),
        intent_names: Vec::new(),
        key_space_names: Vec::new(),
        key_space_counts: Vec::new(),
        clock: Clock::default(),
        duration_s: spec.run.duration.0,
    };
    for (name, p) in &spec.prices {
        if let Err(e) = p.check() {
            c.issue(format!("prices.{name}"), e);
        }
    }
    c.check_header(&spec);
    let block_names = c.register_names(&spec);
    let blocks = c.blocks(&spec);
    let workload = c.workload(&spec);
    let sources = spec.sources.iter().map(|(n, s)| c.source(n, s, &spec)).collect::<Vec<_>>();
    let sessions = spec.sessions.iter().map(|(n, s)| c.sessions(n, s, &spec)).collect::<Vec<_>>();
    let users: u64 = spec.sessions.values().map(|s| s.users as u64).sum::<u64>()
        + spec.sources.values().map(|s| s.users.unwrap_or(0) as u64).sum::<u64>();
    if users > MAX_USERS {
        c.issue(
            "sessions",
            format!("{users} users in all; at most {MAX_USERS} (each carries about 70 bytes of state)"),
        );
    }
    if sources.is_empty() && sessions.is_empty() {
        c.issue("sources", "the model has no `sources` or `sessions`: nothing would arrive");
    }
    if c.issues.is_empty() {
        c.check_forks(&blocks, &block_names);
        c.check_instant_cycles(&blocks, &block_names);
    }
    if !c.issues.is_empty() {
        return Err(c.issues);
    }
    let blocks: Vec<BlockDef> = blocks.into_iter().flatten().collect();
    let program = c.compile(&spec, &blocks, &block_names);
    if !c.issues.is_empty() {
        return Err(c.issues);
    }
    let mut sources: Vec<SourceDef> = sources.into_iter().flatten().collect();
    sources.iter_mut().for_each(|s| s.entry = program.pc_of(s.to));
    // User ids: every population's users first, then each source's, in name order.
    let mut next_user = spec.sessions.values().map(|s| s.users).sum::<u32>();
    for s in &mut sources {
        if let Some((n, first)) = &mut s.draws.users {
            *first = next_user;
            next_user += *n;
        }
    }
    let mut sessions: Vec<SessionsDef> = sessions.into_iter().flatten().collect();
    sessions.iter_mut().for_each(|s| s.entry = program.pc_of(s.to));
    let duration = SimTime::from_secs(spec.run.duration.0);
    let window = spec.run.window.map_or_else(|| default_window(duration), |w| SimTime::from_secs(w.0));
    let services: Vec<String> = program.services.iter().map(|s| s.name.clone()).collect();
    let columns = crate::metrics::columns::names(&services, &crate::metrics::columns::kind_columns(&program));
    let (alarms, issues) = super::alarms::check(&spec.alarms, &columns, window);
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(Model {
        duration,
        warmup: SimTime::from_secs(spec.run.warmup.0),
        seed: spec.run.seed,
        window,
        max_in_flight: spec.run.max_in_flight,
        clock: c.clock,
        classes: c.classes,
        block_names,
        blocks,
        program,
        workload,
        trace: 0,
        sources,
        sessions,
        alarms,
        phases: spec
            .run
            .phases
            .iter()
            .map(|p| super::Phase {
                name: p.name.clone(),
                from: SimTime::from_secs(p.from.0),
                to: SimTime::from_secs(p.to.0),
            })
            .collect(),
        spec,
    })
}

/// A round window width giving at most about 600 windows over `duration` (well under the
/// 2,000 a chart can show legibly, and enough requests per window for stable percentiles).
pub fn default_window(duration: SimTime) -> SimTime {
    const NICE: [f64; 21] = [
        1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
        900.0, 1800.0,
    ];
    let want = duration.as_secs() / 600.0;
    let w = NICE.iter().copied().find(|&n| n >= want).unwrap_or_else(|| (want / 3600.0).ceil() * 3600.0);
    SimTime::from_secs(w)
}

/// A duration in seconds as a round figure with a unit, for messages.
fn pretty_secs(s: f64) -> String {
    match s {
        s if s >= 3600.0 => format!("{:.3}h", s / 3600.0),
        s if s >= 60.0 => format!("{:.3}m", s / 60.0),
        s if s >= 1.0 => format!("{s:.3}s"),
        s if s >= 1e-3 => format!("{:.3}ms", s * 1e3),
        s => format!("{:.3}us", s * 1e6),
    }
}

impl Checker {
    fn issue(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.issues.push(Issue::new(path, msg));
    }

    fn check_header(&mut self, spec: &ModelSpec) {
        if let Err(e) = check_file_name(&spec.name) {
            self.issue("name", e);
        }
        let r = &spec.run;
        match r.start.as_deref().map(parse_time_of_day).transpose() {
            Ok(s) => self.clock.start_s = s.unwrap_or(0),
            Err(e) => self.issue("run.start", e),
        }
        match r.utc_offset.as_deref().map(parse_utc_offset).transpose() {
            Ok(o) => self.clock.utc_offset_s = o.unwrap_or(0),
            Err(e) => self.issue("run.utc_offset", e),
        }
        if !(r.duration.0.is_finite() && r.duration.0 > 0.0) {
            self.issue("run.duration", format!("must be a positive duration, got {}", r.duration.0));
        } else if r.duration.0 > MAX_DURATION_S {
            self.issue(
                "run.duration",
                format!("must be at most 100 years ({MAX_DURATION_S:.0} s), got {} s", r.duration.0),
            );
        }
        if !(r.warmup.0 >= 0.0 && r.warmup.0 < r.duration.0) {
            self.issue("run.warmup", format!("must be ≥ 0 and shorter than run.duration, got {}", r.warmup.0));
        }
        if let Some(w) = r.window {
            if !(w.0 > 0.0 && w.0.is_finite()) {
                self.issue("run.window", format!("must be a positive duration, got {}", w.0));
            } else if r.duration.0 / w.0 > MAX_WINDOWS {
                let min = r.duration.0 / MAX_WINDOWS;
                self.issue(
                    "run.window",
                    format!(
                        "gives {:.3e} windows over run.duration; at most {MAX_WINDOWS:.0} are allowed (each is a row kept in memory), so use a window of at least {}",
                        r.duration.0 / w.0,
                        pretty_secs(min)
                    ),
                );
            }
        }
        let services = spec.services.len() + spec.stations.len();
        if services > MAX_SERVICES {
            self.issue(
                "services",
                format!(
                    "{services} services and stations; at most {MAX_SERVICES} are allowed (each keeps counters, histograms and time-series columns in memory)"
                ),
            );
        }
        if r.max_in_flight == 0 || r.max_in_flight > MAX_IN_FLIGHT {
            self.issue(
                "run.max_in_flight",
                format!("must be from 1 to {MAX_IN_FLIGHT} (each request, call attempt or branch in flight holds about 200 bytes)"),
            );
        }
        self.check_phases(r);
        let mut seen = std::collections::BTreeSet::new();
        for (i, cl) in spec.classes.iter().enumerate() {
            if cl.is_empty() || !seen.insert(cl.clone()) {
                self.issue(format!("classes.{i}"), format!("class names must be non-empty and unique, got `{cl}`"));
            }
        }
    }

    /// `run.phases`: at most [`MAX_PHASES`], named like blocks and unique, each a non-empty
    /// interval of the run.
    fn check_phases(&mut self, r: &RunSpec) {
        if r.phases.len() > MAX_PHASES {
            let n = r.phases.len();
            self.issue(
                "run.phases",
                format!("{n} phases; at most {MAX_PHASES} are allowed (each request is checked against every phase)"),
            );
            return;
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in r.phases.iter().enumerate() {
            let at = format!("run.phases.{i}");
            let good_name = !p.name.is_empty()
                && p.name.len() <= 100
                && p.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
            if !good_name {
                self.issue(format!("{at}.name"), "a phase name uses only letters, digits, `_` and `-` (at most 100)");
            } else if !seen.insert(p.name.as_str()) {
                self.issue(format!("{at}.name"), format!("`{}` names two phases; names must be unique", p.name));
            }
            let (from, to, end) = (p.from.0, p.to.0, r.duration.0);
            if !(from >= 0.0 && from < to && to <= end) {
                let s = |x: f64| {
                    if x.is_finite() && x.abs() < 1e9 {
                        format!("{} s", format!("{x:.3}").trim_end_matches('0').trim_end_matches('.'))
                    } else {
                        format!("{x:.3e} s")
                    }
                };
                let msg = format!("needs 0 ≤ from < to ≤ run.duration ({}), got from {} to {}", s(end), s(from), s(to));
                self.issue(at, msg);
            }
        }
    }

    /// Assigns block indices (stations, delays, routers, forks, joins) and checks names.
    fn register_names(&mut self, spec: &ModelSpec) -> Vec<String> {
        let mut order = Vec::new();
        let groups: [(&str, Vec<&String>, bool); 8] = [
            ("stations", spec.stations.keys().collect(), true),
            ("delays", spec.delays.keys().collect(), true),
            ("routers", spec.routers.keys().collect(), true),
            ("forks", spec.forks.keys().collect(), true),
            ("joins", spec.joins.keys().collect(), true),
            ("sources", spec.sources.keys().collect(), false),
            ("sessions", spec.sessions.keys().collect(), false),
            ("services", spec.services.keys().collect(), false),
        ];
        let mut services = 0u32;
        for (group, names, enterable) in groups {
            for name in names {
                let path = format!("{group}.{name}");
                if name == "end" {
                    self.issue(path, "`end` is reserved for the end of a request's journey; pick another name");
                } else if name.is_empty()
                    || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
                {
                    self.issue(path, "names may use only letters, digits, `_` and `-`");
                } else if self.names.contains_key(name) {
                    self.issue(path, format!("the name `{name}` is used by another block; names must be unique"));
                } else if enterable {
                    self.names.insert(name.clone(), Some(Target(order.len() as u32)));
                    order.push(name.clone());
                } else if group == "services" {
                    self.names.insert(name.clone(), Some(Target::service(services)));
                    services += 1;
                } else {
                    self.names.insert(name.clone(), None);
                }
            }
        }
        order
    }

    fn target(&mut self, path: String, name: &str) -> Target {
        if name == "end" {
            return Target::END;
        }
        match self.names.get(name) {
            Some(Some(t)) => *t,
            Some(None) => {
                self.issue(path, format!("`{name}` is a source or session population; requests cannot be sent to it"));
                Target::END
            }
            None => {
                let known: Vec<&str> =
                    self.names.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| k.as_str()).collect();
                self.issue(path, format!("unknown block `{name}`; expected \"end\" or one of: {}", known.join(", ")));
                Target::END
            }
        }
    }

    fn class(&mut self, path: String, class: Option<&String>) -> u16 {
        match class {
            None => 0,
            Some(c) => match self.classes.iter().position(|k| k == c) {
                Some(i) => i as u16,
                None => {
                    let msg = format!("unknown class `{c}`; `classes` lists: {}", self.classes.join(", "));
                    self.issue(path, msg);
                    0
                }
            },
        }
    }

    fn dist(&mut self, path: String, d: &DistSpec) -> Option<Dist> {
        match d.check() {
            Ok(d) => Some(d),
            Err((field, msg)) => {
                self.issue(format!("{path}.{field}"), msg);
                None
            }
        }
    }

    /// Checks a law of tokens per request at `path`: a distribution whose mean and largest value
    /// are at most [`MAX_TOKENS`].
    fn tokens(&mut self, path: String, d: &DistSpec) -> Option<Dist> {
        let d = self.dist(path.clone(), d)?;
        let most = MAX_TOKENS as f64;
        let (mean, max) = (d.mean(), d.max());
        if mean.is_nan() || mean > most || (max.is_finite() && max > most) {
            let what = match mean {
                m if m.is_nan() => "its mean is not a finite number (its parameters are too large)".to_string(),
                m if m <= most => format!("it can draw {max}"),
                m => format!("its mean is {m}"),
            };
            self.issue(
                path,
                format!("a request carries at most 1,000,000 tokens (the largest context window); {what}"),
            );
            return None;
        }
        Some(d)
    }

    fn blocks(&mut self, spec: &ModelSpec) -> Vec<Option<BlockDef>> {
        let mut out = Vec::new();
        for (n, s) in &spec.stations {
            out.push(self.station(&format!("stations.{n}"), s));
        }
        for (n, d) in &spec.delays {
            let p = format!("delays.{n}");
            let delay = self.dist(format!("{p}.delay"), &d.delay);
            let to = self.target(format!("{p}.to"), &d.to);
            let cost = self.cost(&p, &d.cost, &[Driver::Requests]);
            out.push(delay.map(|delay| BlockDef::Delay { delay, to, cost }));
        }
        for (n, r) in &spec.routers {
            out.push(self.router(&format!("routers.{n}"), r).map(BlockDef::Router));
        }
        for (n, f) in &spec.forks {
            out.push(self.fork(&format!("forks.{n}"), f, spec));
        }
        for (n, j) in &spec.joins {
            let to = self.target(format!("joins.{n}.to"), &j.to);
            out.push(Some(BlockDef::Join { to }));
        }
        out
    }

    fn station(&mut self, p: &str, s: &StationSpec) -> Option<BlockDef> {
        if s.servers == 0 {
            self.issue(format!("{p}.servers"), "must be at least 1");
        }
        let service = self.dist(format!("{p}.service"), &s.service);
        let to = self.target(format!("{p}.to"), &s.to);
        let cost = self.cost(p, &s.cost, &[Driver::InstanceHours, Driver::Requests]);
        let def = StationDef {
            servers: s.servers,
            service: service?,
            discipline: s.discipline,
            capacity: s.capacity,
            to,
            cost,
        };
        Some(BlockDef::Station(def))
    }

    fn router(&mut self, p: &str, r: &RouterSpec) -> Option<RouterDef> {
        match r {
            RouterSpec::Probability { routes } => {
                if routes.is_empty() {
                    self.issue(format!("{p}.routes"), "must list at least one route");
                    return None;
                }
                let weights: Vec<f64> = routes.iter().map(|r| r.weight).collect();
                let targets = routes
                    .iter()
                    .enumerate()
                    .map(|(i, route)| self.target(format!("{p}.routes.{i}.to"), &route.to))
                    .collect();
                let cumulative = self.cumulative(&format!("{p}.routes"), &weights)?;
                Some(RouterDef::Probability { cumulative, targets })
            }
            RouterSpec::Class { routes, default } => {
                for k in routes.keys() {
                    if !self.classes.contains(k) {
                        self.issue(format!("{p}.routes.{k}"), format!("unknown class `{k}`"));
                    }
                }
                let fallback = default.as_ref().map(|d| self.target(format!("{p}.default"), d));
                let mut by_class = Vec::new();
                for cl in self.classes.clone() {
                    let t = match (routes.get(&cl), fallback) {
                        (Some(to), _) => self.target(format!("{p}.routes.{cl}"), to),
                        (None, Some(t)) => t,
                        (None, None) => {
                            self.issue(format!("{p}.routes"), format!("no route for class `{cl}` and no `default`"));
                            Target::END
                        }
                    };
                    by_class.push(t);
                }
                Some(RouterDef::Class { by_class })
            }
        }
    }

    fn fork(&mut self, p: &str, f: &ForkSpec, spec: &ModelSpec) -> Option<BlockDef> {
        if f.branches.is_empty() {
            self.issue(format!("{p}.branches"), "must list at least one branch");
        }
        let branches =
            f.branches.iter().enumerate().map(|(i, b)| self.target(format!("{p}.branches.{i}"), b)).collect();
        if !spec.joins.contains_key(&f.join) {
            self.issue(format!("{p}.join"), format!("`{}` is not a block in `joins`", f.join));
            return None;
        }
        let join = self.names.get(&f.join).copied().flatten()?.block()? as u32;
        Some(BlockDef::Fork { branches, join })
    }

    fn source(&mut self, name: &str, s: &SourceSpec, spec: &ModelSpec) -> Option<SourceDef> {
        let p = format!("sources.{name}");
        let class = self.class(format!("{p}.class"), s.class.as_ref());
        let mut draws =
            self.draws(&p, s.class.as_ref(), s.class_shares.as_ref(), (s.keys.as_ref(), s.intent.as_ref()), spec);
        if let Some(u) = s.users {
            if u == 0 {
                self.issue(format!("{p}.users"), "must be at least 1 (or left out)");
            }
            draws.users = Some((u.max(1), 0));
        }
        let to = self.target(format!("{p}.to"), &s.to);
        let arrivals = match (s.rate, &s.profile, &s.interarrival) {
            (Some(rate), None, None) => {
                if !(rate.is_finite() && (0.0..=MAX_RATE).contains(&rate)) {
                    let msg = format!("must be a rate from 0 to {MAX_RATE:.0} [requests/s], got {rate}");
                    self.issue(format!("{p}.rate"), msg);
                }
                Arrivals::Poisson(RateProfile::constant(rate))
            }
            (None, Some(segs), None) => {
                let before = self.issues.len();
                self.segments(&p, segs);
                if self.issues.len() > before {
                    return None; // never expand a profile that failed its checks (e.g. 4e9 steps)
                }
                Arrivals::Poisson(RateProfile::from_segments(segs, s.after_profile, self.clock))
            }
            (None, None, Some(d)) => Arrivals::Renewal(self.dist(format!("{p}.interarrival"), d)?),
            _ => {
                self.issue(p.clone(), "give exactly one of `rate`, `profile` or `interarrival`");
                return None;
            }
        };
        if let Arrivals::Renewal(d) = &arrivals
            && d.mean() <= 0.0
        {
            self.issue(format!("{p}.interarrival"), "must have a positive mean");
        } else if let Arrivals::Renewal(d) = &arrivals
            && d.mean() < 1.0 / MAX_RATE
        {
            let msg = format!("must have a mean of at least 100 ns (at most {MAX_RATE:.0} requests/s)");
            self.issue(format!("{p}.interarrival"), msg);
        }
        Some(SourceDef { name: name.to_string(), arrivals, limit: s.limit, class, draws, to, entry: 0 })
    }

    fn segments(&mut self, p: &str, segs: &[SegmentSpec]) {
        if segs.is_empty() {
            self.issue(format!("{p}.profile"), "must list at least one segment");
        }
        for (i, seg) in segs.iter().enumerate() {
            for (field, msg) in check_segment(seg, MAX_RATE, "requests/s") {
                self.issue(format!("{p}.profile.{i}.{field}"), msg);
            }
        }
    }

    fn sessions(&mut self, name: &str, s: &SessionsSpec, spec: &ModelSpec) -> Option<SessionsDef> {
        let p = format!("sessions.{name}");
        let draws =
            self.draws(&p, s.class.as_ref(), s.class_shares.as_ref(), (s.keys.as_ref(), s.intent.as_ref()), spec);
        if s.users == 0 {
            self.issue(format!("{p}.users"), "must be at least 1");
        }
        let class = self.class(format!("{p}.class"), s.class.as_ref());
        let to = self.target(format!("{p}.to"), &s.to);
        let messages = match &s.messages {
            Some(m) => Some(self.dist(format!("{p}.messages"), m)?),
            None => None,
        };
        let think = self.dist(format!("{p}.think"), &s.think)?;
        let pause = match &s.pause {
            Some(d) => self.dist(format!("{p}.pause"), d)?,
            None => think.clone(),
        };
        let active = match &s.active {
            Some(a) => {
                match Schedule::checked(a, self.clock, |v| (0.0..=1.0).contains(&v), "shares of the users from 0 to 1")
                {
                    Ok(a) => Some(a),
                    Err(e) => {
                        self.issue(format!("{p}.active"), e);
                        None
                    }
                }
            }
            None => None,
        };
        let users_profile = s.users_profile.as_ref().and_then(|segs| self.users_profile(&p, segs, s.users));
        Some(SessionsDef {
            users_profile,
            draws,
            name: name.to_string(),
            users: s.users,
            messages,
            think,
            pause,
            class,
            to,
            entry: 0,
            cost: self.cost(&p, &s.cost, &[Driver::Messages, Driver::ConnectionMinutes]),
            active,
        })
    }
}

impl Checker {
    /// A population's `users_profile` at `p`: segments of user counts from 0 to `users`.
    fn users_profile(&mut self, p: &str, segs: &[SegmentSpec], users: u32) -> Option<RateProfile> {
        if segs.is_empty() {
            self.issue(format!("{p}.users_profile"), "must list at least one segment (or leave it out)");
            return None;
        }
        let mut ok = true;
        for (i, seg) in segs.iter().enumerate() {
            for (field, msg) in check_segment(seg, f64::from(users), "users, at most `users`") {
                self.issue(format!("{p}.users_profile.{i}.{field}"), msg);
                ok = false;
            }
        }
        ok.then(|| RateProfile::from_segments(segs, AfterProfile::Hold, self.clock))
    }

    /// Cumulative shares (the last exactly 1) of `weights` listed at `p` (each `p.<i>.weight`),
    /// or an issue if a weight is negative or they add up to nothing.
    fn cumulative(&mut self, p: &str, weights: &[f64]) -> Option<Vec<f64>> {
        let mut acc = 0.0;
        let mut cumulative = Vec::with_capacity(weights.len());
        for (i, w) in weights.iter().enumerate() {
            if !(w.is_finite() && *w >= 0.0) {
                self.issue(format!("{p}.{i}.weight"), format!("must be a number ≥ 0, got {w}"));
            }
            acc += w.max(0.0);
            cumulative.push(acc);
        }
        if !(acc > 0.0 && acc.is_finite()) {
            self.issue(p, "weights must add up to a positive number");
            return None;
        }
        cumulative.iter_mut().for_each(|c| *c /= acc);
        *cumulative.last_mut()? = 1.0;
        Some(cumulative)
    }

    /// Checks a block's cost lines against the drivers it supports and the price table.
    fn cost(&mut self, p: &str, lines: &[CostLineSpec], allowed: &[Driver]) -> Vec<CostLine> {
        let mut out = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let lp = format!("{p}.cost.{i}");
            if !allowed.contains(&l.driver) {
                let names: Vec<String> = allowed.iter().map(|d| format!("{d:?}")).collect();
                self.issue(format!("{lp}.driver"), format!("this block counts only: {}", names.join(", ")));
                continue;
            }
            let Some(spec) = self.prices.get(&l.price) else {
                let known: Vec<&str> = self.prices.keys().map(String::as_str).collect();
                let msg =
                    format!("unknown price `{}`; add it under `prices` or use one of: {}", l.price, known.join(", "));
                self.issue(format!("{lp}.price"), msg);
                continue;
            };
            let Ok(price) = spec.check() else { continue };
            if price.is_hourly() != l.driver.is_hours() {
                let want = if l.driver.is_hours() { "`per_hour`" } else { "`per_million` or `per_unit`" };
                self.issue(format!("{lp}.price"), format!("price `{}` must be given {want} for this driver", l.price));
                continue;
            }
            let spu = l.servers_per_unit.unwrap_or(1);
            if spu == 0 || (l.servers_per_unit.is_some() && l.driver != Driver::InstanceHours) {
                self.issue(format!("{lp}.servers_per_unit"), "must be ≥ 1 and is only for `instance_hours`");
                continue;
            }
            if let Some(n) = l.instances
                && (n == 0 || l.driver != Driver::InstanceHours || l.servers_per_unit.is_some())
            {
                let msg = "must be ≥ 1, is only for `instance_hours` and replaces `servers_per_unit` (give one)";
                self.issue(format!("{lp}.instances"), msg);
                continue;
            }
            out.push(CostLine {
                driver: l.driver,
                price_name: l.price.clone(),
                price,
                servers_per_unit: spu,
                instances: l.instances,
            });
        }
        out
    }
}

mod compile;
mod graph;
mod kinds;
mod policies;
mod workload;
pub use kinds::KindBuilder;
