//! `gateway`: an API Gateway WebSocket API in front of a service (the edge of seed 001; seed 000
//! scenario 5's connection limit; figures in reference/calibration.md).
//!
//! Connections are first-class. A closed-loop population sends its messages `to` the gateway;
//! the first message of a session opens the session's connection (in a region drawn by the
//! routing weights), and every message of the session travels over it to `target`. A connect
//! is refused when its region holds `max_connections` or its new-connection bucket
//! (`connect_rate` per second, `connect_burst` deep) is empty; the client then backs off and
//! tries again, and after `reconnect.attempts` refusals the session is lost: its messages are
//! refused. After its last message a session closes its connection, except a share
//! (`abandon_share`) of abandoned tabs, whose connection stays open until a timeout closes it.
//!
//! Timeouts: API Gateway closes a connection with no frame for `idle_timeout` (10 min) — a
//! client that sends `heartbeat` frames keeps it open — and any connection after
//! `max_duration` (2 h; an ongoing session reconnects at once). With `idle_cleanup`, the server
//! closes a connection whose session sent no message for that long (a ping/pong check that
//! heartbeats do not defeat). Network drops arrive at `drops_per_hour` per connection: with
//! probability `reuse` the client's pool finds the connection still usable (counted reused);
//! otherwise it opens a new one and the old one, which the server still sees, stays open until
//! the idle timeout or the cleanup closes it (a ghost). A reconnect of an ongoing session
//! lands on another of the `instances` orchestrator instances with probability (N − 1)/N
//! unless `sticky`, and loses its in-memory context (counted re-homed).
//!
//! State: one record per user (its current session's connection) and one pending close event
//! per abandoned or ghost connection, so memory is bounded by the users and the limits.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::gateway_region::{Close, Refusal, Region, RegionDef};
use super::kinds::{Go, Kind, StepCx};
use crate::cost::Price;
use crate::engine::{SimRng, SimTime, stream};
use crate::model::KindBuilder;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::sim::{Job, Outcome};
use rand::RngExt;

/// Settings of a `gateway` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewaySpec {
    /// The service each message goes to (the orchestrator).
    pub target: String,
    /// A `policies` entry wrapping each message's call to `target`.
    pub policy: Option<String>,
    /// Concurrent connections per region (default 128,000, seed 000 scenario 5).
    #[serde(default = "default_limit")]
    pub max_connections: u32,
    /// New connections per second per region (default 500, calibration sheet).
    #[serde(default = "default_rate")]
    pub connect_rate: f64,
    /// Depth of the new-connection bucket [connections] (default one second's refill).
    pub connect_burst: Option<f64>,
    /// A connection with no frame for this long is closed (default 10 min).
    pub idle_timeout: Option<Quantity>,
    /// A connection is closed this long after it opened (default 2 h); an ongoing session
    /// reconnects.
    pub max_duration: Option<Quantity>,
    /// Whether clients send heartbeat frames between messages, so the idle timeout never
    /// closes an open tab's connection (default false).
    #[serde(default)]
    pub heartbeat: bool,
    /// Server-side cleanup: a connection whose session sent no message for this long is
    /// closed (a ping/pong timeout; default none).
    pub idle_cleanup: Option<Quantity>,
    /// Share of sessions that end without closing their connection (abandoned tabs; default 0).
    #[serde(default)]
    pub abandon_share: f64,
    /// Network drops per connection-hour (default 0).
    #[serde(default)]
    pub drops_per_hour: f64,
    /// Probability that a client reuses its open connection after a drop (pooling; default 0).
    #[serde(default)]
    pub reuse: f64,
    /// The client's reconnect policy after a refused connect.
    #[serde(default)]
    pub reconnect: ReconnectSpec,
    /// Regions and their routing weights (Route 53); default one region with the limits above.
    #[serde(default)]
    pub regions: Vec<RegionSpec>,
    /// Orchestrator instances behind the gateway (default 1), for re-homed reconnects.
    #[serde(default = "one")]
    pub instances: u32,
    /// Whether reconnects land on the same instance (ALB sticky sessions; default false).
    #[serde(default)]
    pub sticky: bool,
    /// Billed messages per message of a session: the user's message and its answer (default 2).
    #[serde(default = "two")]
    pub billed_per_message: u32,
}

/// The client's reconnect policy: after refusal n (from 1) it waits U(0, min(cap, base·2ⁿ⁻¹))
/// (full jitter) and tries again, `attempts` tries in all.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconnectSpec {
    /// Connect attempts in all, the first included (default 5).
    #[serde(default = "five")]
    pub attempts: u32,
    /// First backoff (default 1 s).
    pub base: Option<Quantity>,
    /// Longest backoff (default 30 s).
    pub cap: Option<Quantity>,
}

impl Default for ReconnectSpec {
    fn default() -> Self {
        ReconnectSpec { attempts: 5, base: None, cap: None }
    }
}

/// One region: its routing weight and its own limits (the gateway's when left out).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub name: String,
    /// Share of sessions routed here; the shares add up to 1.
    pub share: f64,
    pub max_connections: Option<u32>,
    pub connect_rate: Option<f64>,
    pub connect_burst: Option<f64>,
}

fn default_limit() -> u32 {
    128_000
}
fn default_rate() -> f64 {
    500.0
}
fn one() -> u32 {
    1
}
fn two() -> u32 {
    2
}
fn five() -> u32 {
    5
}

/// Most regions of one gateway.
const MAX_REGIONS: usize = 16;
/// Most concurrent connections of one region: each open connection is a user's record or a
/// pending close event (about 70 bytes).
const MAX_CONNECTIONS: u32 = 10_000_000;
/// Most connect attempts of the reconnect policy.
const MAX_CONNECT_ATTEMPTS: u32 = 100;
/// Longest timeout or backoff [s]: a day.
const DAY_S: f64 = 86_400.0;

/// Checked settings.
#[derive(Clone, Debug)]
pub struct GatewayDef {
    regions: Vec<RegionDef>,
    /// Cumulative routing weights.
    cumulative: Vec<f64>,
    idle_ns: u64,
    max_ns: u64,
    heartbeat: bool,
    cleanup_ns: Option<u64>,
    abandon: f64,
    /// Drops per second per connection.
    drop_rate: f64,
    reuse: f64,
    attempts: u32,
    base_s: f64,
    cap_s: f64,
    /// Probability that a reconnect lands on another instance.
    rehome: f64,
    billed: u32,
    prices: [Option<Price>; 2],
}

const SEND: u16 = 0;
const DONE: u16 = 1;
const FAILED: u16 = 2;
/// Timer tokens with this bit close a lingering (abandoned or ghost) connection; the others
/// are a user's id.
const LINGER: u32 = 1 << 31;

/// What a user's record says about its current session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No session under way (or it ended).
    Idle,
    /// The session's connection is open.
    Open,
    /// The session has no connection now; its next message connects.
    Closed,
    /// The session gave up connecting: its messages are refused.
    Lost,
}

/// A user's current session and its connection.
#[derive(Clone, Copy, Debug)]
struct Conn {
    session: u32,
    state: State,
    region: u8,
    /// Whether the session has had a connection (a later connect is a reconnect).
    connected: bool,
    opened: u64,
    /// Its last message [ns].
    last: u64,
    drop_at: u64,
    /// When its pending timer fires ([`SimTime::NEVER`]: none).
    armed: u64,
}

const NO_CONN: Conn = Conn {
    session: 0,
    state: State::Idle,
    region: 0,
    connected: false,
    opened: 0,
    last: 0,
    drop_at: u64::MAX,
    armed: u64::MAX,
};

/// Counters since warm-up (over all regions).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct GatewayCounts {
    /// Sessions that started (asked for a connection).
    pub sessions: u64,
    /// Sessions that gave up connecting.
    pub sessions_lost: u64,
    /// Messages carried to the target.
    pub messages: u64,
    /// Messages refused: their session had no connection (lost, or not from a session).
    pub messages_refused: u64,
    /// New connections opened by ongoing sessions (after a drop, a timeout or the maximum
    /// duration).
    pub reconnects: u64,
    /// Of these, forced by the maximum duration.
    pub forced_reconnects: u64,
    /// Network drops of open connections, and those the client's pool absorbed.
    pub drops: u64,
    pub reused: u64,
    /// Reconnects that landed on another orchestrator instance.
    pub rehomed: u64,
    /// Sessions that ended without closing (abandoned tabs).
    pub abandoned: u64,
    /// Dropped connections left open when the client opened a new one.
    pub ghosts: u64,
}

/// A running gateway.
pub struct Gateway {
    def: GatewayDef,
    regions: Vec<Region>,
    conns: Vec<Conn>,
    rng_route: SimRng,
    rng_end: SimRng,
    rng_drop: SimRng,
    rng_backoff: SimRng,
    counts: GatewayCounts,
    /// Peak of the connections open over all regions since warm-up, and in the open window.
    peak: u32,
    window_peak: u32,
}

impl Kind for Gateway {
    type Spec = GatewaySpec;
    type Def = GatewayDef;

    fn compile(spec: &GatewaySpec, b: &mut KindBuilder) -> Option<GatewayDef> {
        let def = check(spec, b);
        let failed = b.step(FAILED, vec![]);
        let done = b.step(DONE, vec![RETURN]);
        let call = b.call("target", &spec.target, spec.policy.as_deref(), done, Some(failed))?;
        b.entry = b.looping_step(SEND, vec![call]);
        def
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &GatewayDef, seed: u64, service: &str) -> Gateway {
        Gateway {
            def: def.clone(),
            regions: def.regions.iter().map(Region::new).collect(),
            conns: Vec::new(),
            rng_route: stream(seed, service, "gateway.route"),
            rng_end: stream(seed, service, "gateway.session_end"),
            rng_drop: stream(seed, service, "gateway.drops"),
            rng_backoff: stream(seed, service, "gateway.backoff"),
            counts: GatewayCounts::default(),
            peak: 0,
            window_peak: 0,
        }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        match tag {
            SEND => self.send(job, cx),
            DONE => {
                self.answered(job, cx);
                Go::Exit(0)
            }
            _ => {
                self.answered(job, cx);
                Go::Fail(job.failed.unwrap_or(Outcome::Error))
            }
        }
    }

    fn timer(&mut self, token: u32, cx: &mut StepCx) {
        if token & LINGER != 0 {
            let (region, cause) = ((token & 0xff) as usize, Close::from_index((token >> 8) & 0xff));
            self.regions[region].close_lingering(cx.now, cause, token >> 16 & 1 == 1);
            self.tally();
        } else {
            self.user_timer(token as usize, cx);
        }
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = GatewayCounts::default();
        for r in &mut self.regions {
            r.restart(now);
        }
        self.peak = self.open_now();
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        super::gateway_region::summary(&self.regions, &self.counts, self.peak, now, self.cost_usd(now))
    }

    fn cost_usd(&self, now: SimTime) -> Option<f64> {
        let usd = |p: Option<Price>, q: f64| p.map_or(0.0, |p| p.usd(q));
        let [msg, minute] = self.def.prices;
        let minutes: f64 = self.regions.iter().map(|r| r.connection_minutes(now)).sum();
        Some(usd(msg, (self.counts.messages * self.def.billed as u64) as f64) + usd(minute, minutes))
    }

    const COLUMNS: &'static [&'static str] =
        &["connections", "connections_peak", "lingering", "connects", "refused", "connections_share"];

    /// The regions' columns summed; the peak and its share of the regions' limits summed
    /// (seed 001's "concurrent sessions > 80 % of provisioned capacity").
    fn window(&mut self, _now: SimTime, out: &mut Vec<f64>) {
        let mut row = [0.0; 6];
        for r in &mut self.regions {
            let w = r.close_window();
            for (a, b) in row.iter_mut().zip(w) {
                *a += b;
            }
        }
        row[1] = self.window_peak as f64;
        row[5] = row[1] / self.def.regions.iter().map(|r| f64::from(r.limit)).sum::<f64>();
        self.window_peak = self.open_now();
        out.extend(row);
    }
}

/// Checks the settings; `None` if a problem was reported.
fn check(spec: &GatewaySpec, b: &mut KindBuilder) -> Option<GatewayDef> {
    let mut ok = true;
    let mut duration = |b: &mut KindBuilder, field: &str, q: Option<Quantity>, default: f64| -> u64 {
        let s = q.map_or(default, |q| q.0);
        if !(s.is_finite() && s > 0.0 && s <= DAY_S) {
            b.issue(field, format!("must be a duration above 0, up to a day, got {s} s"));
            ok = false;
        }
        SimTime::from_secs(s.clamp(0.0, DAY_S)).0
    };
    let idle_ns = duration(b, "idle_timeout", spec.idle_timeout, 600.0);
    let max_ns = duration(b, "max_duration", spec.max_duration, 7_200.0);
    let cleanup_ns = spec.idle_cleanup.map(|q| duration(b, "idle_cleanup", Some(q), 0.0));
    let base_s = spec.reconnect.base.map_or(1.0, |q| q.0);
    let cap_s = spec.reconnect.cap.map_or(30.0, |q| q.0);
    duration(b, "reconnect.base", Some(Quantity(base_s)), 0.0);
    duration(b, "reconnect.cap", Some(Quantity(cap_s)), 0.0);
    for (field, v) in [("abandon_share", spec.abandon_share), ("reuse", spec.reuse)] {
        if !(0.0..=1.0).contains(&v) {
            b.issue(field, format!("must be a share from 0 to 1, got {v}"));
            ok = false;
        }
    }
    if !(spec.drops_per_hour.is_finite() && (0.0..=3_600.0).contains(&spec.drops_per_hour)) {
        b.issue("drops_per_hour", format!("must be from 0 to 3,600 per connection-hour, got {}", spec.drops_per_hour));
        ok = false;
    }
    if !(1..=MAX_CONNECT_ATTEMPTS).contains(&spec.reconnect.attempts) {
        let msg = format!("must be from 1 to {MAX_CONNECT_ATTEMPTS}, got {}", spec.reconnect.attempts);
        b.issue("reconnect.attempts", msg);
        ok = false;
    }
    if spec.instances == 0 || spec.instances > 1_000_000 {
        b.issue("instances", format!("must be from 1 to 1,000,000, got {}", spec.instances));
        ok = false;
    }
    if spec.billed_per_message > 1_000 {
        b.issue("billed_per_message", format!("must be at most 1,000, got {}", spec.billed_per_message));
        ok = false;
    }
    let (regions, cumulative) = regions(spec, b)?;
    let prices = [b.price("apigw.ws.message"), b.price("apigw.ws.connection_minute")];
    ok.then(|| GatewayDef {
        regions,
        cumulative,
        idle_ns,
        max_ns,
        heartbeat: spec.heartbeat,
        cleanup_ns,
        abandon: spec.abandon_share,
        drop_rate: spec.drops_per_hour / 3_600.0,
        reuse: spec.reuse,
        attempts: spec.reconnect.attempts,
        base_s,
        cap_s,
        rehome: if spec.sticky { 0.0 } else { (spec.instances.max(1) - 1) as f64 / spec.instances.max(1) as f64 },
        billed: spec.billed_per_message,
        prices,
    })
}

/// Checks the regions (or the one default region) and their routing weights.
fn regions(spec: &GatewaySpec, b: &mut KindBuilder) -> Option<(Vec<RegionDef>, Vec<f64>)> {
    let default = [RegionSpec {
        name: "default".into(),
        share: 1.0,
        max_connections: None,
        connect_rate: None,
        connect_burst: None,
    }];
    let (list, prefix) =
        if spec.regions.is_empty() { (&default[..], None) } else { (&spec.regions[..], Some("regions")) };
    if list.len() > MAX_REGIONS {
        b.issue("regions", format!("at most {MAX_REGIONS} regions, got {}", list.len()));
        return None;
    }
    let mut ok = true;
    let mut defs = Vec::new();
    let mut cumulative = Vec::new();
    let mut total = 0.0;
    let mut connections = 0u64;
    let mut inherited_bad = false;
    for (i, r) in list.iter().enumerate() {
        let field = |f: &str| prefix.map_or(f.to_string(), |p| format!("{p}.{i}.{f}"));
        let limit = r.max_connections.unwrap_or(spec.max_connections);
        connections += u64::from(limit);
        if limit == 0 || limit > MAX_CONNECTIONS {
            // Blamed where it was written: the region's own limit, or once the gateway's.
            let inherited = r.max_connections.is_none();
            if !(inherited && inherited_bad) {
                let at = if inherited { "max_connections".to_string() } else { field("max_connections") };
                b.issue(&at, format!("must be from 1 to {MAX_CONNECTIONS} connections, got {limit}"));
            }
            inherited_bad |= inherited;
            ok = false;
        }
        let rate = r.connect_rate.unwrap_or(spec.connect_rate);
        if !(rate.is_finite() && rate > 0.0 && rate <= 1e7) {
            b.issue(&field("connect_rate"), format!("must be above 0, up to 10,000,000 connections/s, got {rate}"));
            ok = false;
        }
        let burst = r.connect_burst.or(spec.connect_burst).unwrap_or(rate.max(1.0));
        if !(burst.is_finite() && (1.0..=1e9).contains(&burst)) {
            b.issue(&field("connect_burst"), format!("must be from 1 to 1,000,000,000 connections, got {burst}"));
            ok = false;
        }
        if prefix.is_some() && !(r.share.is_finite() && (0.0..=1.0).contains(&r.share)) {
            b.issue(&field("share"), format!("must be a share from 0 to 1, got {}", r.share));
            ok = false;
        }
        if list[..i].iter().any(|o| o.name == r.name) {
            b.issue(&field("name"), format!("region `{}` is named twice", r.name));
            ok = false;
        }
        total += r.share;
        cumulative.push(total);
        defs.push(RegionDef { name: r.name.clone(), limit, rate, burst });
    }
    if (total - 1.0).abs() > 1e-9 {
        b.issue("regions", format!("the regions' shares must add up to 1, got {total}"));
        ok = false;
    }
    if ok && connections > u64::from(MAX_CONNECTIONS) {
        let msg = format!(
            "the regions' limits add up to {connections} connections; at most {MAX_CONNECTIONS} in all (each open one holds about 50 bytes)"
        );
        b.issue(if prefix.is_some() { "regions" } else { "max_connections" }, msg);
        ok = false;
    }
    ok.then_some((defs, cumulative))
}

impl Gateway {
    /// Connections open over all regions.
    fn open_now(&self) -> u32 {
        self.regions.iter().map(Region::open_now).sum()
    }

    /// The total changed: keep its peaks.
    fn tally(&mut self) {
        let open = self.open_now();
        self.peak = self.peak.max(open);
        self.window_peak = self.window_peak.max(open);
    }

    /// A message of a session reaches the gateway: it goes on over the session's connection,
    /// connecting first if need be (held for the client's backoff after a refusal), or is
    /// refused.
    fn send(&mut self, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        let (user, session) = (job.attrs.user as usize, job.attrs.session);
        if job.attrs.user == u32::MAX || session == 0 {
            self.counts.messages_refused += 1;
            return Go::Fail(Outcome::Rejected);
        }
        if self.conns.len() <= user {
            self.conns.resize(user + 1, NO_CONN);
        }
        if self.conns[user].session != session || self.conns[user].state == State::Idle {
            self.counts.sessions += 1;
            let region = self.route();
            self.conns[user] = Conn { session, state: State::Closed, region, ..NO_CONN };
        }
        match self.conns[user].state {
            State::Open => {}
            State::Lost | State::Idle => {
                self.counts.messages_refused += 1;
                return Go::Fail(Outcome::Rejected);
            }
            State::Closed => {
                if let Err(go) = self.connect_for_message(user, job, cx) {
                    return go;
                }
            }
        }
        self.counts.messages += 1;
        self.conns[user].last = now;
        Go::Exit(0)
    }

    /// Connects user `user`'s session for the message `job`: `Err` with the job's fate if
    /// refused (a backoff before the next attempt, or the session is lost).
    fn connect_for_message(&mut self, user: usize, job: &mut Job, cx: &mut StepCx) -> Result<(), Go> {
        if self.connect(user, cx).is_ok() {
            job.kind_slot = 0;
            return Ok(());
        }
        job.kind_slot += 1;
        if job.kind_slot >= self.def.attempts {
            job.kind_slot = 0;
            self.conns[user].state = State::Lost;
            self.counts.sessions_lost += 1;
            return Err(Go::Fail(Outcome::Rejected));
        }
        let ceiling = (self.def.base_s * 2f64.powi(job.kind_slot as i32 - 1)).min(self.def.cap_s);
        let secs = self.rng_backoff.random::<f64>() * ceiling;
        Err(Go::Hold { secs, exit: 1 })
    }

    /// Opens a connection for user `user`'s session in its region, if the region admits it.
    fn connect(&mut self, user: usize, cx: &mut StepCx) -> Result<(), Refusal> {
        let now = cx.now;
        let c = self.conns[user];
        self.regions[c.region as usize].open(now)?;
        self.tally();
        if c.connected {
            self.counts.reconnects += 1;
            if self.def.rehome > 0.0 && self.rng_route.random::<f64>() < self.def.rehome {
                self.counts.rehomed += 1;
            }
        }
        let drop_at = self.next_drop(now.0);
        let conn = &mut self.conns[user];
        (conn.state, conn.connected, conn.opened, conn.last, conn.drop_at) = (State::Open, true, now.0, now.0, drop_at);
        self.arm(user, cx);
        Ok(())
    }

    /// When the connection opened at `from` drops next ([`u64::MAX`]: never).
    fn next_drop(&mut self, from: u64) -> u64 {
        if self.def.drop_rate <= 0.0 {
            return u64::MAX;
        }
        let u: f64 = 1.0 - self.rng_drop.random::<f64>();
        from.saturating_add(SimTime::from_secs(-u.ln() / self.def.drop_rate).0)
    }

    /// A region drawn by the routing weights.
    fn route(&mut self) -> u8 {
        if self.def.cumulative.len() == 1 {
            return 0;
        }
        let u: f64 = self.rng_route.random();
        self.def.cumulative.iter().position(|&c| u < c).unwrap_or(self.def.cumulative.len() - 1) as u8
    }

    /// The next time something happens to user `user`'s open connection: the maximum
    /// duration, a drop, or a timeout for want of messages (or frames).
    fn deadline(&self, c: &Conn) -> u64 {
        let mut t = c.opened.saturating_add(self.def.max_ns).min(c.drop_at);
        if let Some(cleanup) = self.def.cleanup_ns {
            t = t.min(c.last.saturating_add(cleanup));
        }
        if !self.def.heartbeat {
            t = t.min(c.last.saturating_add(self.def.idle_ns));
        }
        t
    }

    /// Sets user `user`'s timer for its connection's deadline, unless one fires earlier (it
    /// sets the next when it fires).
    fn arm(&mut self, user: usize, cx: &mut StepCx) {
        let at = self.deadline(&self.conns[user]).max(cx.now.0);
        if at < self.conns[user].armed {
            self.conns[user].armed = at;
            cx.out.timer(SimTime(at), user as u32);
        }
    }

    /// User `user`'s timer fires: its connection reaches its maximum duration (reconnect at
    /// once), drops (reused, or left open as a ghost and replaced) or times out.
    fn user_timer(&mut self, user: usize, cx: &mut StepCx) {
        let now = cx.now.0;
        let c = self.conns[user];
        if c.armed != now {
            return;
        }
        self.conns[user].armed = u64::MAX;
        if c.state != State::Open {
            return;
        }
        let deadline = self.deadline(&c);
        if deadline > now {
            return self.arm(user, cx);
        }
        let region = c.region as usize;
        if now >= c.opened.saturating_add(self.def.max_ns) {
            self.regions[region].close(cx.now, Close::MaxDuration);
            self.tally();
            self.reconnect(user, true, cx);
        } else if now >= c.drop_at {
            self.counts.drops += 1;
            if self.rng_drop.random::<f64>() < self.def.reuse {
                self.counts.reused += 1;
                self.conns[user].drop_at = self.next_drop(now);
                self.arm(user, cx);
            } else {
                self.counts.ghosts += 1;
                self.linger(region, c.opened, now, Kept::Ghost, cx);
                self.reconnect(user, false, cx);
            }
        } else {
            let cause = match self.def.cleanup_ns {
                Some(cl) if now >= c.last.saturating_add(cl) => Close::Cleanup,
                _ => Close::IdleTimeout,
            };
            self.regions[region].close(cx.now, cause);
            self.tally();
            self.conns[user].state = State::Closed;
        }
    }

    /// An ongoing session's connection is gone: it connects again at once (one attempt; if
    /// refused, its next message connects with the client's backoff).
    fn reconnect(&mut self, user: usize, forced: bool, cx: &mut StepCx) {
        self.conns[user].state = State::Closed;
        if self.connect(user, cx).is_ok() && forced {
            self.counts.forced_reconnects += 1;
        }
    }

    /// A message's answer (or failure) came back: the connection saw traffic, and after the
    /// session's last message it is closed, or left open by an abandoned tab.
    fn answered(&mut self, job: &Job, cx: &mut StepCx) {
        let now = cx.now.0;
        let (user, session) = (job.attrs.user as usize, job.attrs.session);
        let Some(c) = self.conns.get(user).copied() else { return };
        if c.session != session {
            return;
        }
        if c.state == State::Open {
            self.conns[user].last = now;
        }
        if !job.attrs.last {
            return;
        }
        self.conns[user].state = State::Idle;
        if c.state != State::Open {
            return;
        }
        if self.def.abandon > 0.0 && self.rng_end.random::<f64>() < self.def.abandon {
            self.counts.abandoned += 1;
            self.linger(c.region as usize, c.opened, now, Kept::Abandoned, cx);
        } else {
            self.regions[c.region as usize].close(SimTime(now), Close::Clean);
            self.tally();
        }
    }

    /// Connection of region `region`, opened at `opened`, stays open from `from` on with no
    /// session using it (an abandoned tab, or a ghost after a drop) until the first of: the
    /// cleanup, the idle timeout (an abandoned tab's heartbeats defeat it; a ghost sends
    /// nothing), the maximum duration.
    fn linger(&mut self, region: usize, opened: u64, from: u64, kept: Kept, cx: &mut StepCx) {
        let mut at = (opened.saturating_add(self.def.max_ns), Close::MaxDuration);
        if kept == Kept::Ghost || !self.def.heartbeat {
            at = at.min((from.saturating_add(self.def.idle_ns), Close::IdleTimeout));
        }
        if let Some(cleanup) = self.def.cleanup_ns {
            at = at.min((from.saturating_add(cleanup), Close::Cleanup));
        }
        self.regions[region].linger(cx.now, kept == Kept::Ghost);
        let token = LINGER | ((kept == Kept::Ghost) as u32) << 16 | (at.1 as u32) << 8 | region as u32;
        cx.out.timer(SimTime(at.0.max(cx.now.0)), token);
    }
}

/// Why a connection stays open without a session using it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kept {
    Abandoned,
    Ghost,
}
