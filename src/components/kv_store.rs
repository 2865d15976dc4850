//! `kv_store`: a DynamoDB table — partitions with their hard caps and burst, provisioned or
//! on-demand capacity, adaptive capacity, capacity units per item size and consistency, and
//! write sharding (seed 000 scenarios 1 and 4, seed 002's WCU target, seed 003's per-message
//! reads and writes; figures in reference/calibration.md).
//!
//! Each request is one operation drawn from the service's `operations` mix (a read or a write of
//! an item of a given size), on the request's item key. The key (with a random suffix of
//! `write_shards` values for writes) picks a partition. The operation costs capacity units: a
//! read ⌈size / 4 KB⌉ units, halved for an eventually consistent read and doubled for a
//! transactional one; a write ⌈size / 1 KB⌉ units, doubled if transactional. It is admitted
//! only if
//! - its partition can still serve that many units this second (3,000 read and 1,000 write
//!   units per second per partition, whatever the mode), and
//! - the capacity behind it has the units: in provisioned mode, the partition's share of the
//!   table's capacity (capacity ÷ partitions), which keeps up to 300 s of unused capacity as
//!   burst; with adaptive capacity, the whole table's capacity, so a hot partition borrows
//!   what the others leave unused (`adaptive_delay` models the 5-30 minutes before 2019 during
//!   which a partition had to be hot before it could borrow); in on-demand mode, twice the
//!   table's previous peak (new tables: 12,000 read / 4,000 write units per second), rising to
//!   the traffic it sees once that traffic has exceeded it for 30 minutes.
//!
//! Adaptive capacity also isolates hot items ("split for heat"): when a partition that may
//! borrow still throttles, the item it sees most — found by a majority vote over its requests,
//! O(1) per request — moves to a new partition of its own, with its own 3,000 / 1,000 cap. The
//! item's own traffic stays capped, but the other keys of its old partition stop throttling
//! with it. `isolate_hot_items: false` turns this off.
//!
//! Items are keyed by (key space, key), so two key spaces never share an item; reads,
//! writes and throttles are also counted per key space.
//!
//! Otherwise the request is refused (ProvisionedThroughputExceeded): it consumes no capacity,
//! but its caller sees the error only after a round trip (`throttle_latency`, by default drawn
//! like an admitted request's), holding its connection or slot meanwhile; then the caller's
//! retry policy decides what happens next, so an immediate retry reaches the partition one
//! round trip later, not in the same instant. An admitted request takes a drawn latency
//! (default: lognormal, p50 4 ms, p99 10 ms: "single-digit milliseconds").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use rand::RngExt;

use super::kinds::{Go, Kind, StepCx};
use crate::cost::Price;
use crate::engine::{SimRng, SimTime, stream};
use crate::model::dist::DistSpec;
use crate::model::program::RETURN;
use crate::model::{Dist, KindBuilder};
use crate::policy::Tokens;
use crate::sim::{Job, Outcome};

/// Settings of a `kv_store` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KvStoreSpec {
    /// Partitions of the table (1 to 100,000).
    pub partitions: u32,
    /// `provisioned` (default) or `on_demand`.
    #[serde(default)]
    pub mode: CapacityMode,
    /// Provisioned read and write capacity of the table [units/s].
    pub read_capacity: Option<f64>,
    pub write_capacity: Option<f64>,
    /// What each request does, drawn by share (default: one eventually consistent read of 1 KB).
    #[serde(default)]
    pub operations: Vec<OperationSpec>,
    /// Whether a hot partition may use the table's unused capacity (default true, as since 2019).
    #[serde(default = "yes")]
    pub adaptive: bool,
    /// With `adaptive`: how long a partition must have been throttling before it may borrow
    /// (default 0; 5 to 30 minutes before 2019).
    pub adaptive_delay: Option<crate::model::quantity::Quantity>,
    /// With `adaptive`: whether a partition that still throttles while borrowing moves its
    /// hottest item to a partition of its own (default true, as DynamoDB does).
    #[serde(default = "yes")]
    pub isolate_hot_items: bool,
    /// Writes of one key are spread over this many key suffixes, i.e. partitions (default 1).
    #[serde(default = "one")]
    pub write_shards: u32,
    /// Time of an admitted request (default: lognormal, p50 4 ms, p99 10 ms).
    pub latency: Option<DistSpec>,
    /// Time before the caller of a throttled request sees the error: the round trip to the
    /// table's front end and back (default: drawn as `latency`).
    pub throttle_latency: Option<DistSpec>,
    /// Provisioned mode: auto scaling of read and write capacity (default none).
    pub auto_scaling: Option<AutoScalingSpec>,
}

/// Target tracking on consumed capacity (Application Auto Scaling, as for the calibration
/// sheet's other services): each minute the consumed units per second are compared with
/// `target` × provisioned; 3 minutes in a row above raise capacity to consumed ÷ target (the
/// table takes `delay` to apply it), 15 minutes in a row below 90 % of the target lower it the
/// same way, never below `min` nor above `max`, and not within `cooldown` of the last change.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoScalingSpec {
    /// Target utilisation of provisioned capacity (0.2 to 0.9; DynamoDB's default 0.7).
    #[serde(default = "seventy")]
    pub target: f64,
    /// Bounds [units/s] (default: the provisioned capacity, and 40,000).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Time to apply a new capacity (default 0).
    #[serde(default)]
    pub delay: crate::model::quantity::Quantity,
    /// Least time between changes (default 300 s, the calibration sheet's cooldown).
    pub cooldown: Option<crate::model::quantity::Quantity>,
}

fn seventy() -> f64 {
    0.7
}

/// How the table's capacity is set.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CapacityMode {
    #[default]
    Provisioned,
    OnDemand,
}

/// One operation of the mix.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationSpec {
    /// Share of requests doing it (the shares add up to 1).
    pub share: f64,
    /// `read` or `write`.
    pub op: OpKind,
    /// Item size [KB] (> 0).
    pub item_kb: f64,
    /// For reads: `eventual` (default), `strong` or `transactional`; writes: `standard` or
    /// `transactional`.
    #[serde(default)]
    pub consistency: Consistency,
    /// The key space (a name in the model's `keys`) whose requests draw from this operation
    /// and the others naming it, e.g. a large shared session among small ones (default: the
    /// requests of every key space without operations of its own).
    pub keys: Option<String>,
}

/// Read or write.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Read,
    Write,
}

/// Consistency of an operation.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    #[default]
    Eventual,
    Standard,
    Strong,
    Transactional,
}

/// Kind step tags: the admission decision, and the end of a refused request's round trip.
const ADMIT: u16 = 0;
const REFUSED: u16 = 1;
/// Partition caps [units/s] (calibration sheet: 3,000 RCU and 1,000 WCU per partition).
const READ_CAP: f64 = 3000.0;
const WRITE_CAP: f64 = 1000.0;
/// Unused capacity kept as burst [s].
const BURST_S: f64 = 300.0;
/// A new on-demand table's capacity [units/s], read and write.
const ON_DEMAND_START: [f64; 2] = [12_000.0, 4_000.0];
/// How long on-demand traffic above twice the previous peak throttles before capacity follows
/// [s].
const ON_DEMAND_RAMP_S: f64 = 1800.0;
const MAX_PARTITIONS: u32 = 100_000;
/// Most items isolated on partitions of their own.
const MAX_ISOLATED: usize = 1_000;
/// Lead in its partition's majority vote an item needs to be isolated [requests]: enough that
/// a cold item leading by chance is not moved.
const ISOLATE_LEAD: u32 = 32;
/// Least time between two isolations from one partition [ns].
const ISOLATE_GAP_NS: u64 = 1_000_000_000;

/// An operation mix: (cumulative share, write?, capacity units) per operation.
type Mix = Vec<(f64, bool, f64)>;

/// Checked settings.
#[derive(Clone, Debug)]
pub struct KvStoreDef {
    partitions: u32,
    mode: CapacityMode,
    /// Table capacity [units/s], read then write (provisioned).
    capacity: [f64; 2],
    /// Operation mixes: mix 0 for key spaces without operations of their own, then one per key
    /// space named by `keys`.
    mixes: Vec<Mix>,
    /// The mix of each key space, by key space index.
    mix_of_space: Vec<u16>,
    adaptive: bool,
    adaptive_delay_ns: u64,
    isolate: bool,
    shards: u32,
    /// Key space names by index (for per-space counts).
    spaces: Vec<String>,
    /// (target, min, max, delay [ns], cooldown [ns]).
    scaling: Option<(f64, f64, f64, u64, u64)>,
    /// Prices: on-demand read and write request units, provisioned read and write
    /// capacity-unit hours (`dynamodb.rru`, `.wru`, `.rcu_hour`, `.wcu_hour`).
    prices: [Option<Price>; 4],
}

/// A partition's state, read then write.
#[derive(Clone, Debug)]
struct Partition {
    /// Its share of provisioned capacity, with 300 s of burst.
    share: [Tokens; 2],
    /// Its hard cap: 3,000 / 1,000 units in any second.
    cap: [Tokens; 2],
    /// Since when it has been throttling without a second's pause (for `adaptive_delay`),
    /// its last throttle [ns], and whether it may borrow.
    hot_since: Option<u64>,
    last_throttle: u64,
    borrowing: bool,
    /// Units admitted (read, write) and requests throttled.
    units: [f64; 2],
    throttled: u64,
    /// Majority vote over its requests: the leading item (with its write suffix) and its lead;
    /// and when it last gave up an item [ns].
    leader: (u64, u32),
    lead: u32,
    last_isolation: u64,
}

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct KvCounts {
    pub reads: u64,
    pub writes: u64,
    /// Capacity units consumed by admitted requests.
    pub read_units: f64,
    pub write_units: f64,
    pub throttled_reads: u64,
    pub throttled_writes: u64,
    /// Throttles because the partition's hard cap was reached (the rest: the capacity behind it).
    pub partition_cap_throttles: u64,
}

/// Counters of one key space since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SpaceCounts {
    pub reads: u64,
    pub writes: u64,
    pub throttled_reads: u64,
    pub throttled_writes: u64,
}

/// A running table.
pub struct KvStore {
    def: KvStoreDef,
    parts: Vec<Partition>,
    /// The table's whole capacity (adaptive or on-demand), read then write.
    table: [Tokens; 2],
    /// On-demand: the previous peak [units/s], the units admitted in the current second, the
    /// second it is, and since when traffic has exceeded twice the peak.
    peak: [f64; 2],
    this_second: [f64; 2],
    second: u64,
    over_since: [Option<u64>; 2],
    rng: SimRng,
    counts: KvCounts,
    /// Requests throttled since the last time-series window.
    window_throttled: u64,
    /// When the run's first request was throttled [ns], warm-up included (when a burst ran out).
    first_throttle: Option<u64>,
    per_space: Vec<SpaceCounts>,
    /// Items moved to partitions of their own: ((item, suffix), partition), sorted.
    isolated: Vec<((u64, u32), u32)>,
    isolations: u64,
    /// Start of the measured period.
    since: SimTime,
    /// Auto scaling: provisioned capacity now, units consumed this minute, the minute it is,
    /// minutes in a row above and below target, a pending change (when, capacity), and the
    /// last change's time [ns] — each read then write.
    provisioned: [f64; 2],
    minute_units: [f64; 2],
    minute: u64,
    above: [u32; 2],
    below: [u32; 2],
    pending: [Option<(u64, f64)>; 2],
    last_change: [u64; 2],
    scalings: u64,
    /// Provisioned capacity × time since warm-up [unit·s], up to `area_at`.
    area: [f64; 2],
    area_at: SimTime,
}

impl Kind for KvStore {
    type Spec = KvStoreSpec;
    type Def = KvStoreDef;

    fn compile(spec: &KvStoreSpec, b: &mut KindBuilder) -> Option<KvStoreDef> {
        let def = check(spec, b)?;
        let latency = match &spec.latency {
            Some(d) => b.dist("latency", d)?,
            None => Dist::Lognormal { mu: (4e-3f64).ln(), sigma: (10.0f64 / 4.0).ln() / crate::model::dist::Z99 },
        };
        let throttle_latency = match &spec.throttle_latency {
            Some(d) => b.dist("throttle_latency", d)?,
            None => latency.clone(),
        };
        let served = b.work("latency", latency, RETURN);
        let refused = b.step(REFUSED, vec![]);
        let round_trip = b.work("throttle_latency", throttle_latency, refused);
        b.entry = b.step(ADMIT, vec![served, round_trip]);
        Some(def)
    }

    fn start(def: &KvStoreDef, seed: u64, service: &str) -> KvStore {
        let p = def.partitions as f64;
        let share = |k: usize| {
            let r = def.capacity[k] / p;
            Tokens::full(r, r * BURST_S)
        };
        let part = Partition {
            share: [share(0), share(1)],
            cap: [Tokens::full(READ_CAP, READ_CAP), Tokens::full(WRITE_CAP, WRITE_CAP)],
            hot_since: None,
            last_throttle: 0,
            borrowing: def.adaptive && def.adaptive_delay_ns == 0,
            units: [0.0; 2],
            throttled: 0,
            leader: (0, 0),
            lead: 0,
            last_isolation: 0,
        };
        let table = match def.mode {
            CapacityMode::Provisioned => [0, 1].map(|k| Tokens::full(def.capacity[k], def.capacity[k] * BURST_S)),
            CapacityMode::OnDemand => ON_DEMAND_START.map(|c| Tokens::full(c, c)),
        };
        KvStore {
            def: def.clone(),
            parts: vec![part; def.partitions as usize],
            table,
            peak: ON_DEMAND_START.map(|c| c / 2.0),
            this_second: [0.0; 2],
            second: 0,
            over_since: [None; 2],
            rng: stream(seed, service, "kv_store"),
            counts: KvCounts::default(),
            window_throttled: 0,
            first_throttle: None,
            per_space: vec![SpaceCounts::default(); def.spaces.len()],
            isolated: Vec::new(),
            isolations: 0,
            since: SimTime::ZERO,
            provisioned: def.capacity,
            minute_units: [0.0; 2],
            minute: 0,
            above: [0; 2],
            below: [0; 2],
            pending: [None; 2],
            last_change: [0; 2],
            scalings: 0,
            area: [0.0; 2],
            area_at: SimTime::ZERO,
        }
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        if tag == REFUSED {
            return Go::Fail(Outcome::Throttled);
        }
        let now = cx.now;
        let u: f64 = self.rng.random();
        let mix = self.def.mix_of_space.get(job.attrs.space as usize).copied().unwrap_or(0);
        let ops = &self.def.mixes[mix as usize];
        let (_, write, units) = ops[ops.partition_point(|&(c, _, _)| c <= u).min(ops.len() - 1)];
        let shard = if write && self.def.shards > 1 { self.rng.random_range(0..self.def.shards) } else { 0 };
        let it = ((job.attrs.space as u64) << 32 | job.attrs.key as u64, shard);
        let p = self.partition(it);
        let admitted = self.admit(now, p, it, write as usize, units);
        let c = &mut self.counts;
        let mut none = SpaceCounts::default();
        let sc = self.per_space.get_mut(job.attrs.space as usize).unwrap_or(&mut none);
        match (admitted, write) {
            (true, true) => {
                (c.writes, c.write_units, sc.writes) = (c.writes + 1, c.write_units + units, sc.writes + 1);
            }
            (true, false) => (c.reads, c.read_units, sc.reads) = (c.reads + 1, c.read_units + units, sc.reads + 1),
            (false, true) => {
                (c.throttled_writes, sc.throttled_writes) = (c.throttled_writes + 1, sc.throttled_writes + 1)
            }
            (false, false) => (c.throttled_reads, sc.throttled_reads) = (c.throttled_reads + 1, sc.throttled_reads + 1),
        }
        self.window_throttled += u64::from(!admitted);
        // Exit 0: served; exit 1: the error's round trip, then `REFUSED`.
        Go::Exit(if admitted { 0 } else { 1 })
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.counts = KvCounts::default();
        self.per_space.fill(SpaceCounts::default());
        self.isolations = 0;
        self.since = now;
        (self.area, self.area_at) = ([0.0; 2], now);
        for p in &mut self.parts {
            (p.units, p.throttled) = ([0.0; 2], 0);
        }
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        let mut v = serde_json::to_value(self.counts).unwrap_or_default();
        let total: f64 = self.parts.iter().map(|p| p.units[1]).sum();
        let busiest = self.parts.iter().map(|p| p.units[1]).fold(0.0, f64::max);
        v["partitions_written"] = serde_json::json!(self.parts.iter().filter(|p| p.units[1] > 0.0).count());
        v["busiest_partition_write_share"] = serde_json::json!((total > 0.0).then(|| busiest / total));
        v["partitions_throttling"] = serde_json::json!(self.parts.iter().filter(|p| p.throttled > 0).count());
        let all = self.counts.reads + self.counts.writes + self.counts.throttled_reads + self.counts.throttled_writes;
        let throttled = self.counts.throttled_reads + self.counts.throttled_writes;
        v["throttled_share"] = serde_json::json!((all > 0).then(|| throttled as f64 / all as f64));
        v["first_throttle_s"] = serde_json::json!(self.first_throttle.map(|t| t as f64 * 1e-9));
        if self.def.adaptive && self.def.isolate {
            v["isolated_items"] = serde_json::json!(self.isolated.len());
            v["isolations"] = serde_json::json!(self.isolations);
        }
        if !self.def.spaces.is_empty() {
            let per: serde_json::Map<String, serde_json::Value> = self
                .def
                .spaces
                .iter()
                .zip(&self.per_space)
                .map(|(n, c)| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    let all = c.reads + c.writes + c.throttled_reads + c.throttled_writes;
                    let t = c.throttled_reads + c.throttled_writes;
                    v["throttled_share"] = serde_json::json!((all > 0).then(|| t as f64 / all as f64));
                    (n.clone(), v)
                })
                .collect();
            v["key_spaces"] = serde_json::Value::Object(per);
        }
        if self.def.scaling.is_some() {
            v["provisioned"] = serde_json::json!({"read": self.provisioned[0], "write": self.provisioned[1]});
            v["scalings"] = serde_json::json!(self.scalings);
        }
        if self.def.mode == CapacityMode::OnDemand {
            v["on_demand_capacity"] = serde_json::json!({"read": 2.0 * self.peak[0], "write": 2.0 * self.peak[1]});
        }
        let secs = now.since(self.since) as f64 * 1e-9;
        let per_s = |x: f64| (secs > 0.0).then(|| x / secs);
        v["cost_usd"] = serde_json::json!(self.cost_usd(now));
        v["read_units_per_s"] = serde_json::json!(per_s(self.counts.read_units));
        v["write_units_per_s"] = serde_json::json!(per_s(self.counts.write_units));
        v
    }

    fn cost_usd(&self, now: SimTime) -> Option<f64> {
        let usd = |p: Option<Price>, q: f64| p.map_or(0.0, |p| p.usd(q));
        let [r, w, rh, wh] = self.def.prices;
        Some(match self.def.mode {
            CapacityMode::OnDemand => usd(r, self.counts.read_units) + usd(w, self.counts.write_units),
            CapacityMode::Provisioned => {
                let a = self.area_until(now);
                usd(rh, a[0] / 3600.0) + usd(wh, a[1] / 3600.0)
            }
        })
    }

    // Not `throttled`: that name is the callers' attempt outcome column of every service.
    const COLUMNS: &'static [&'static str] = &["partition_throttles"];

    fn window(&mut self, _now: SimTime, out: &mut Vec<f64>) {
        out.push(std::mem::take(&mut self.window_throttled) as f64);
    }
}

impl KvStore {
    /// Provisioned capacity × time since warm-up, up to `now` [unit·s].
    fn area_until(&self, now: SimTime) -> [f64; 2] {
        let dt = now.since(self.area_at) as f64 * 1e-9;
        [0, 1].map(|k| self.area[k] + self.provisioned[k] * dt)
    }

    /// The partition of item `it` (key space and key) with its write suffix: an isolated
    /// item's own partition, or by hash; suffixes of one key land on consecutive partitions,
    /// so K suffixes reach min(K, P) of them.
    fn partition(&self, it: (u64, u32)) -> usize {
        if !self.isolated.is_empty()
            && let Ok(i) = self.isolated.binary_search_by(|(x, _)| x.cmp(&it))
        {
            return self.isolated[i].1 as usize;
        }
        let h = it.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
        ((h + it.1 as u64) % self.def.partitions as u64) as usize
    }

    /// Whether partition `p` admits `units` of kind `k` (0 read, 1 write) for item `it` now.
    fn admit(&mut self, now: SimTime, p: usize, it: (u64, u32), k: usize, units: f64) -> bool {
        if self.def.mode == CapacityMode::OnDemand {
            self.follow_peak(now, k, units);
        }
        if self.def.scaling.is_some() {
            self.scale(now);
        }
        let part = &mut self.parts[p];
        if part.leader == it {
            part.lead += 1;
        } else if part.lead == 0 {
            (part.leader, part.lead) = (it, 1);
        } else {
            part.lead -= 1;
        }
        part.cap[k].refill(now);
        if !part.cap[k].has(units) {
            self.counts.partition_cap_throttles += 1;
            return self.throttle(now, p, true);
        }
        let behind = match self.def.mode {
            CapacityMode::OnDemand => &mut self.table[k],
            CapacityMode::Provisioned if part.borrowing => &mut self.table[k],
            CapacityMode::Provisioned => &mut part.share[k],
        };
        behind.refill(now);
        if !behind.has(units) {
            return self.throttle(now, p, false);
        }
        behind.take(units);
        let part = &mut self.parts[p];
        part.cap[k].take(units);
        part.units[k] += units;
        self.minute_units[k] += units;
        if self.def.mode == CapacityMode::Provisioned && !part.borrowing {
            // The table's capacity is shared: what a partition uses, the others cannot borrow.
            self.table[k].refill(now);
            self.table[k].take(units.min(self.table[k].tokens()));
        }
        true
    }

    /// Partition `p` throttles a request (at its hard cap if `at_cap`); a partition hot for
    /// `adaptive_delay` starts borrowing, and one at its cap while borrowing may isolate its
    /// hottest item.
    fn throttle(&mut self, now: SimTime, p: usize, at_cap: bool) -> bool {
        self.first_throttle.get_or_insert(now.0);
        let part = &mut self.parts[p];
        part.throttled += 1;
        if now.0.saturating_sub(part.last_throttle) > 1_000_000_000 {
            part.hot_since = None; // a second without throttling ended the last hot spell
        }
        part.last_throttle = now.0;
        let since = *part.hot_since.get_or_insert(now.0);
        if self.def.adaptive && now.0 - since >= self.def.adaptive_delay_ns {
            if part.borrowing && at_cap && self.def.isolate {
                self.isolate(now, p);
            }
            self.parts[p].borrowing = true;
        }
        false
    }

    /// Partition `p` borrows and still throttles: its leading item, if it leads clearly and
    /// is not alone already, moves to a new partition of its own (split for heat).
    fn isolate(&mut self, now: SimTime, p: usize) {
        let part = &self.parts[p];
        let alone = p >= self.def.partitions as usize;
        let recent = part.last_isolation > 0 && now.0 - part.last_isolation < ISOLATE_GAP_NS;
        if alone || recent || part.lead < ISOLATE_LEAD || self.isolated.len() >= MAX_ISOLATED {
            return;
        }
        let it = part.leader;
        // The new partition starts from its parent's cap buckets (nearly empty: it was just
        // throttling), so a split never hands out an extra second of capacity.
        let own = Partition {
            hot_since: None,
            last_throttle: 0,
            borrowing: true,
            units: [0.0; 2],
            throttled: 0,
            leader: it,
            lead: 0,
            last_isolation: 0,
            ..part.clone()
        };
        let part = &mut self.parts[p];
        (part.lead, part.last_isolation) = (0, now.0.max(1));
        let i = self.isolated.partition_point(|(x, _)| *x < it);
        self.isolated.insert(i, (it, self.parts.len() as u32));
        self.parts.push(own);
        self.isolations += 1;
    }

    /// Provisioned auto scaling: at each new minute, compares the last minute's consumption with
    /// the target and decides; applies a change once its delay has passed.
    fn scale(&mut self, now: SimTime) {
        let Some((target, lo, hi, delay, cooldown)) = self.def.scaling else { return };
        for k in 0..2 {
            if let Some((at, cap)) = self.pending[k]
                && now.0 >= at
            {
                self.set_provisioned(now, k, cap);
                self.pending[k] = None;
            }
        }
        let minute = now.0 / 60_000_000_000;
        if minute == self.minute {
            return;
        }
        for k in 0..2 {
            // Minutes without any request count as idle ones.
            let idle = (minute - self.minute - 1) as u32;
            let used = self.minute_units[k] / 60.0;
            let util = used / self.provisioned[k].max(1e-9);
            if util > target {
                (self.above[k], self.below[k]) = (self.above[k] + 1, 0);
            } else if util < 0.9 * target {
                (self.above[k], self.below[k]) = (0, self.below[k] + 1 + idle);
            } else {
                (self.above[k], self.below[k]) = (0, 0);
            }
            let calm = now.0.saturating_sub(self.last_change[k]) >= cooldown || self.last_change[k] == 0;
            if self.pending[k].is_none() && calm && (self.above[k] >= 3 || self.below[k] >= 15) {
                let want = (used / target).clamp(lo, hi);
                if (want - self.provisioned[k]).abs() > 1e-9 {
                    self.pending[k] = Some((now.0.saturating_add(delay), want));
                    self.last_change[k] = now.0.max(1);
                    self.scalings += 1;
                }
                (self.above[k], self.below[k]) = (0, 0);
            }
        }
        self.minute_units = [0.0; 2];
        self.minute = minute;
    }

    /// Provisioned capacity of kind `k` becomes `cap` [units/s]: partitions' shares and burst
    /// follow.
    fn set_provisioned(&mut self, now: SimTime, k: usize, cap: f64) {
        self.area = self.area_until(now);
        self.area_at = now;
        self.provisioned[k] = cap;
        let share = cap / self.def.partitions as f64;
        for p in &mut self.parts {
            p.share[k].set_rate(now, share, share * BURST_S);
        }
        self.table[k].set_rate(now, cap, cap * BURST_S);
    }

    /// On-demand: counts `units` into the current second's offered traffic, and at each new
    /// second lets capacity follow it: twice the previous peak, the peak being the highest
    /// second offered within capacity, or half the offered rate once that has exceeded twice
    /// the peak for 30 minutes.
    fn follow_peak(&mut self, now: SimTime, k: usize, units: f64) {
        let second = now.0 / 1_000_000_000;
        if second != self.second {
            for j in 0..2 {
                let rate = self.this_second[j];
                if rate > 2.0 * self.peak[j] {
                    let since = *self.over_since[j].get_or_insert(self.second);
                    if (self.second - since) as f64 >= ON_DEMAND_RAMP_S {
                        self.peak[j] = rate / 2.0;
                    }
                } else {
                    self.over_since[j] = None;
                    self.peak[j] = self.peak[j].max(rate);
                }
                let cap = 2.0 * self.peak[j];
                self.table[j].set_rate(now, cap, cap);
            }
            self.this_second = [0.0; 2];
            self.second = second;
        }
        self.this_second[k] += units;
    }
}

/// Checks the settings.
fn check(spec: &KvStoreSpec, b: &mut KindBuilder) -> Option<KvStoreDef> {
    let mut ok = true;
    if spec.partitions == 0 || spec.partitions > MAX_PARTITIONS {
        b.issue("partitions", format!("must be from 1 to {MAX_PARTITIONS}, got {}", spec.partitions));
        ok = false;
    }
    let mut capacity = [0.0; 2];
    for (k, (field, c)) in
        [("read_capacity", spec.read_capacity), ("write_capacity", spec.write_capacity)].iter().enumerate()
    {
        match (spec.mode, c) {
            (CapacityMode::Provisioned, Some(c)) if c.is_finite() && *c > 0.0 && *c <= 1e8 => capacity[k] = *c,
            (CapacityMode::Provisioned, Some(c)) => {
                b.issue(field, format!("must be from above 0 to 100,000,000 units/s, got {c}"));
                ok = false;
            }
            (CapacityMode::Provisioned, None) => {
                b.issue(field, "is required in provisioned mode (units per second)");
                ok = false;
            }
            (CapacityMode::OnDemand, Some(_)) => {
                b.issue(field, "goes with `mode`: `provisioned` only (on-demand capacity follows traffic)");
                ok = false;
            }
            (CapacityMode::OnDemand, None) => {}
        }
    }
    let (mixes, mix_of_space) = check_operations(&spec.operations, b).unwrap_or_else(|| {
        ok = false;
        Default::default()
    });
    if spec.write_shards == 0 || spec.write_shards > MAX_PARTITIONS {
        b.issue("write_shards", format!("must be from 1 to {MAX_PARTITIONS}, got {}", spec.write_shards));
        ok = false;
    }
    let scaling = spec.auto_scaling.as_ref().map(|a| {
        if !(0.2..=0.9).contains(&a.target) {
            b.issue("auto_scaling.target", format!("must be a utilisation from 0.2 to 0.9, got {}", a.target));
            ok = false;
        }
        if spec.mode == CapacityMode::OnDemand {
            b.issue("auto_scaling", "goes with `mode`: `provisioned` only");
            ok = false;
        }
        let lo = a.min.unwrap_or(0.0);
        let hi = a.max.unwrap_or(40_000.0);
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi >= lo.max(1.0) && hi <= 1e8) {
            b.issue("auto_scaling", format!("needs 0 ≤ min ≤ max ≤ 100,000,000 units/s, got {lo} and {hi}"));
            ok = false;
        }
        let d = a.delay.0;
        let cool = a.cooldown.map_or(300.0, |c| c.0);
        if !(d.is_finite() && d >= 0.0 && cool.is_finite() && cool >= 0.0) {
            b.issue("auto_scaling", "delay and cooldown must be durations ≥ 0");
            ok = false;
        }
        (a.target, lo, hi, SimTime::from_secs(d.max(0.0)).0, SimTime::from_secs(cool.max(0.0)).0)
    });
    let delay = spec.adaptive_delay.map_or(0.0, |d| d.0);
    if !(delay.is_finite() && (0.0..=86_400.0).contains(&delay)) {
        b.issue("adaptive_delay", format!("must be a duration from 0 to a day, got {delay} s"));
        ok = false;
    }
    ok.then(|| KvStoreDef {
        partitions: spec.partitions,
        mode: spec.mode,
        capacity,
        mixes,
        mix_of_space,
        adaptive: spec.adaptive,
        adaptive_delay_ns: SimTime::from_secs(delay).0,
        isolate: spec.isolate_hot_items,
        shards: spec.write_shards,
        spaces: b.key_spaces().to_vec(),
        scaling,
        prices: ["dynamodb.rru", "dynamodb.wru", "dynamodb.rcu_hour", "dynamodb.wcu_hour"].map(|n| b.price(n)),
    })
}

/// Checks the operations and groups them into mixes: mix 0 for the operations without `keys`
/// (one eventually consistent 1 KB read if there are none), then one per key space they name,
/// each mix's shares adding up to 1. Also gives each key space its mix.
fn check_operations(ops: &[OperationSpec], b: &mut KindBuilder) -> Option<(Vec<Mix>, Vec<u16>)> {
    let mut ok = true;
    let mut mixes: Vec<Mix> = vec![Vec::new()];
    let mut names: Vec<&str> = vec![""];
    let mut mix_of_space = vec![0u16; b.key_spaces().len()];
    for (i, o) in ops.iter().enumerate() {
        let Some(units) = operation_units(o, i, b) else {
            ok = false;
            continue;
        };
        let m = match &o.keys {
            None => 0,
            Some(name) => match names.iter().position(|n| n == name) {
                Some(m) => m,
                None => {
                    let Some(space) = b.key_space_index(name) else {
                        b.issue(&format!("operations.{i}.keys"), format!("unknown key space `{name}`"));
                        ok = false;
                        continue;
                    };
                    names.push(name);
                    mixes.push(Vec::new());
                    mix_of_space[space] = (mixes.len() - 1) as u16;
                    mixes.len() - 1
                }
            },
        };
        let cum = mixes[m].last().map_or(0.0, |l| l.0) + o.share;
        mixes[m].push((cum, o.op == OpKind::Write, units));
    }
    if mixes[0].is_empty() {
        mixes[0].push((1.0, false, 0.5)); // one eventually consistent read of 1 KB
    }
    for (m, mix) in mixes.iter_mut().enumerate() {
        let total = mix.last().map_or(0.0, |l| l.0);
        if (total - 1.0).abs() > 1e-6 {
            let whose = if m == 0 { String::new() } else { format!(" of key space `{}`", names[m]) };
            b.issue("operations", format!("the shares of the operations{whose} must add up to 1, got {total}"));
            ok = false;
        }
        if let Some(last) = mix.last_mut() {
            last.0 = 1.0;
        }
    }
    ok.then_some((mixes, mix_of_space))
}

/// Capacity units of operation `o` (the `i`-th): reads ⌈size / 4 KB⌉ × 0.5, 1 or 2 by
/// consistency, writes ⌈size / 1 KB⌉ × 1 or 2; `None` if a setting is wrong (reported).
fn operation_units(o: &OperationSpec, i: usize, b: &mut KindBuilder) -> Option<f64> {
    let mut ok = true;
    if !(o.share.is_finite() && o.share >= 0.0) {
        b.issue(&format!("operations.{i}.share"), format!("must be a share ≥ 0, got {}", o.share));
        ok = false;
    }
    if !(o.item_kb.is_finite() && o.item_kb > 0.0 && o.item_kb <= 400.0) {
        let msg = format!("must be above 0 and at most 400 KB (DynamoDB's item limit), got {}", o.item_kb);
        b.issue(&format!("operations.{i}.item_kb"), msg);
        ok = false;
    }
    let write = o.op == OpKind::Write;
    let factor = match (write, o.consistency) {
        (false, Consistency::Eventual) => 0.5,
        (false, Consistency::Strong) => 1.0,
        (_, Consistency::Transactional) => 2.0,
        (true, Consistency::Standard | Consistency::Eventual) => 1.0,
        (false, Consistency::Standard) | (true, Consistency::Strong) => {
            let msg = "reads are `eventual`, `strong` or `transactional`; writes `standard` or `transactional`";
            b.issue(&format!("operations.{i}.consistency"), msg);
            return None;
        }
    };
    let block = if write { 1.0 } else { 4.0 };
    ok.then(|| (o.item_kb / block).ceil() * factor)
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}
