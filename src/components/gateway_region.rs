//! One region of a `gateway` (see `gateway.rs`): its concurrent-connection limit, its
//! new-connection bucket, its open connections (a time-weighted level, so connection-minutes
//! are its area) and its counters, and the gateway's summary built from its regions.

use serde_json::{Value, json};

use super::gateway::GatewayCounts;
use crate::engine::SimTime;
use crate::metrics::timeweighted::TimeWeighted;
use crate::policy::Tokens;

/// A region's checked settings.
#[derive(Clone, Debug)]
pub struct RegionDef {
    pub name: String,
    /// Concurrent connections.
    pub limit: u32,
    /// New connections per second, and the bucket's depth.
    pub rate: f64,
    pub burst: f64,
}

/// Why a connect was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The region holds its limit of connections.
    Limit,
    /// The new-connection bucket is empty.
    Rate,
}

/// Why a connection closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Close {
    /// Its session ended and closed it.
    Clean = 0,
    /// No frame for the idle timeout.
    IdleTimeout = 1,
    /// The server's cleanup: no message for `idle_cleanup`.
    Cleanup = 2,
    /// Its maximum duration.
    MaxDuration = 3,
}

impl Close {
    const NAMES: [&'static str; 4] = ["clean", "idle_timeout", "cleanup", "max_duration"];

    /// The cause of index `i` (as `Close as u32`).
    pub fn from_index(i: u32) -> Close {
        match i {
            0 => Close::Clean,
            1 => Close::IdleTimeout,
            2 => Close::Cleanup,
            _ => Close::MaxDuration,
        }
    }
}

/// A region's counters since warm-up.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    connects: u64,
    opened: u64,
    refused_limit: u64,
    refused_rate: u64,
    closed_by: [u64; 4],
}

/// Figures of the open time-series window.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    peak: u32,
    opened: u64,
    refused: u64,
}

/// A running region.
pub struct Region {
    def: RegionDef,
    bucket: Tokens,
    open: u32,
    level: TimeWeighted,
    /// Open connections no session uses: abandoned tabs, ghosts.
    lingering: [u32; 2],
    lingering_level: TimeWeighted,
    peak: u32,
    open_at_start: u32,
    counts: Counts,
    window: Window,
}

impl Region {
    pub fn new(def: &RegionDef) -> Region {
        Region {
            def: def.clone(),
            bucket: Tokens::full(def.rate, def.burst),
            open: 0,
            level: TimeWeighted::default(),
            lingering: [0; 2],
            lingering_level: TimeWeighted::default(),
            peak: 0,
            open_at_start: 0,
            counts: Counts::default(),
            window: Window::default(),
        }
    }

    /// Connections open now.
    pub fn open_now(&self) -> u32 {
        self.open
    }

    /// A connect: opens a connection if the limit and the bucket allow.
    pub fn open(&mut self, now: SimTime) -> Result<(), Refusal> {
        self.counts.connects += 1;
        self.bucket.refill(now);
        let refusal = if self.open >= self.def.limit {
            self.counts.refused_limit += 1;
            Refusal::Limit
        } else if !self.bucket.has(1.0) {
            self.counts.refused_rate += 1;
            Refusal::Rate
        } else {
            self.bucket.take(1.0);
            self.set_open(now, self.open + 1);
            self.counts.opened += 1;
            self.window.opened += 1;
            return Ok(());
        };
        self.window.refused += 1;
        Err(refusal)
    }

    /// A connection in use closes.
    pub fn close(&mut self, now: SimTime, cause: Close) {
        self.counts.closed_by[cause as usize] += 1;
        self.set_open(now, self.open - 1);
    }

    /// A connection in use goes on open with no session using it (`ghost`: left by a drop,
    /// else an abandoned tab).
    pub fn linger(&mut self, now: SimTime, ghost: bool) {
        self.lingering[ghost as usize] += 1;
        self.lingering_level.set(now, (self.lingering[0] + self.lingering[1]) as f64);
    }

    /// A lingering connection closes.
    pub fn close_lingering(&mut self, now: SimTime, cause: Close, ghost: bool) {
        self.lingering[ghost as usize] -= 1;
        self.lingering_level.set(now, (self.lingering[0] + self.lingering[1]) as f64);
        self.close(now, cause);
    }

    fn set_open(&mut self, now: SimTime, open: u32) {
        self.open = open;
        self.level.set(now, open as f64);
        self.peak = self.peak.max(open);
        self.window.peak = self.window.peak.max(open);
    }

    /// Connection-minutes since warm-up, up to `now`.
    pub fn connection_minutes(&self, now: SimTime) -> f64 {
        self.level.area_at(now) * 1e-9 / 60.0
    }

    /// End of warm-up.
    pub fn restart(&mut self, now: SimTime) {
        self.counts = Counts::default();
        self.level.restart(now);
        self.lingering_level.restart(now);
        self.peak = self.open;
        self.open_at_start = self.open;
    }

    /// The window's figures (connections at its end, its peak, lingering at its end, connects
    /// opened, refused), and a new window.
    pub fn close_window(&mut self) -> [f64; 5] {
        let w = self.window;
        self.window = Window { peak: self.open, ..Window::default() };
        let lingering = (self.lingering[0] + self.lingering[1]) as f64;
        [self.open as f64, w.peak as f64, lingering, w.opened as f64, w.refused as f64]
    }

    /// Its figures under `regions.<name>`.
    fn summary(&self, now: SimTime) -> Value {
        let c = &self.counts;
        let closed: u64 = c.closed_by.iter().sum();
        let by: serde_json::Map<String, Value> =
            Close::NAMES.iter().zip(c.closed_by).map(|(n, v)| (n.to_string(), json!(v))).collect();
        json!({
            "limit": self.def.limit,
            "connects": c.connects,
            "opened": c.opened,
            "refused_limit": c.refused_limit,
            "refused_rate": c.refused_rate,
            "refused": c.refused_limit + c.refused_rate,
            "closed": closed,
            "closed_by": by,
            "open_at_start": self.open_at_start,
            "open": self.open,
            "peak": self.peak,
            "peak_share": self.peak as f64 / self.def.limit as f64,
            "mean_open": self.level.mean_at(now),
            "lingering_abandoned": self.lingering[0],
            "lingering_ghosts": self.lingering[1],
            "mean_lingering": self.lingering_level.mean_at(now),
            "connection_minutes": self.connection_minutes(now),
        })
    }
}

/// The gateway's figures: its counters, the sums over its regions (`peak` is the peak of the
/// total, given as `total_peak`), and each region under `regions`.
pub fn summary(regions: &[Region], counts: &GatewayCounts, total_peak: u32, now: SimTime, cost: Option<f64>) -> Value {
    let mut v = serde_json::to_value(counts).unwrap_or_default();
    let per: Vec<Value> = regions.iter().map(|r| r.summary(now)).collect();
    let count = |f: &Value| f.as_u64().unwrap_or(0);
    for f in [
        "limit",
        "connects",
        "opened",
        "refused_limit",
        "refused_rate",
        "refused",
        "closed",
        "open_at_start",
        "open",
        "lingering_abandoned",
        "lingering_ghosts",
    ] {
        v[f] = json!(per.iter().map(|r| count(&r[f])).sum::<u64>());
    }
    for f in ["mean_open", "mean_lingering", "connection_minutes"] {
        v[f] = json!(per.iter().map(|r| r[f].as_f64().unwrap_or(0.0)).sum::<f64>());
    }
    let mut by = serde_json::Map::new();
    for n in Close::NAMES {
        by.insert(n.into(), json!(per.iter().map(|r| count(&r["closed_by"][n])).sum::<u64>()));
    }
    v["closed_by"] = Value::Object(by);
    v["peak"] = json!(total_peak);
    let worst = per.iter().map(|r| r["peak_share"].as_f64().unwrap_or(0.0)).fold(0.0, f64::max);
    v["peak_share"] = json!(worst);
    v["reuse_rate"] = json!((counts.drops > 0).then(|| counts.reused as f64 / counts.drops as f64));
    v["cost_usd"] = json!(cost);
    v["regions"] = Value::Object(regions.iter().zip(per).map(|(r, s)| (r.def.name.clone(), s)).collect());
    v
}
