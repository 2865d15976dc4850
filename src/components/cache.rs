//! `cache`: a look-aside TTL cache in front of an origin (ElastiCache Redis in front of the
//! Catalog API, seed 000 scenario 6 and the caching table of seed 001).
//!
//! A request for key k (the request's item key) reads the cache (a GET: holds a slot for a
//! drawn time). A fresh entry is a hit. Otherwise the origin is called — through the model's
//! call machinery, so the call has its policy's timeout, retries and breaker — and its answer
//! is stored for `ttl` ± `ttl_jitter`. What concurrent misses of one key do is `on_miss`:
//! - `plain`: each calls the origin (the stampede);
//! - `coalesce`: the first calls, the others wait for its answer (or its failure);
//! - `stale_while_revalidate`: an expired entry is served at once, stale, and one background
//!   refresh runs (a cold miss still coalesces).
//!
//! Early refresh starts one background refresh of a fresh entry before it expires:
//! - `xfetch` (Vattani, Chierichetti, Lowenstein, PVLDB 8(8), 2015): a read at time t refreshes
//!   when t − δ·β·ln U ≥ expiry, U uniform on (0, 1], δ the entry's last recompute time; so a
//!   read with t_left to go refreshes with probability exp(−t_left / (β·δ));
//! - `beta` (the seed's own curve, scenario 6: "beta distribution with alpha=2, centered at
//!   80% of TTL"): read as each stored entry drawing the point of its life at which it is
//!   refreshed, as a fraction of its TTL, from a Beta(α, b) law whose mode is `peak`
//!   (b = 1 + (α − 1)(1 − peak)/peak; α = 2, peak 0.8 gives b = 1.25); the first read past that
//!   point refreshes. The chance that a read refreshes grows as expiry nears, as the seed says.
//!
//! State is bounded by the keys cached: entries live in a slab with an LRU list (optional
//! `capacity`), expiry is checked on read, and an active sweep examines a few slab slots per
//! read (as Redis samples keys), so nothing is scheduled per key. Invalidations drop a range
//! of keys at given times (an event-driven catalog update: all volumes of a series); they are
//! applied lazily, by comparing an entry's store time with the range's last invalidation.

use rand::RngExt;
use rand_distr::{Beta, Distribution};
use rustc_hash::FxHashMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::kinds::{Go, Kind, StepCx};
use crate::engine::{ReqId, SimRng, SimTime, stream};
use crate::model::dist::DistSpec;
use crate::model::program::RETURN;
use crate::model::quantity::Quantity;
use crate::model::{Dist, KindBuilder};
use crate::sim::{Job, Outcome};

/// Settings of a `cache` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// The service called on a miss (the origin, e.g. the Catalog API).
    pub origin: String,
    /// The `policies` entry wrapping each origin call (timeouts, retries, breaker).
    pub policy: Option<String>,
    /// Time to live of a stored entry. 0 stores nothing: with `coalesce`, a request
    /// coalescer (single flight: concurrent requests for one key share one origin call).
    pub ttl: Quantity,
    /// Each entry lives `ttl` + U(−jitter, +jitter) (default 0; at most `ttl`).
    #[serde(default)]
    pub ttl_jitter: Quantity,
    /// Time of a read (GET), hit or miss (default: lognormal, p50 0.4 ms, p99 1.3 ms:
    /// ElastiCache same-AZ, reference/calibration.md).
    pub get: Option<DistSpec>,
    /// What concurrent misses of one key do (default `plain`).
    #[serde(default)]
    pub on_miss: MissMode,
    /// With `stale_while_revalidate`: how long past expiry an entry may still be served stale
    /// (default: as long as it is in the cache).
    pub stale_for: Option<Quantity>,
    /// Probabilistic early refresh (default none).
    pub early_refresh: Option<EarlyRefreshSpec>,
    /// Most entries kept; the least recently used goes first (default: unbounded).
    pub capacity: Option<u64>,
    /// Intents whose requests are never cached (prices, seed 001): straight to the origin.
    #[serde(default)]
    pub bypass_intents: Vec<String>,
    /// Key spaces (names in the model's `keys`) never cached: straight to the origin.
    #[serde(default)]
    pub bypass_keys: Vec<String>,
    /// Invalidations: at each time, keys `from` ≤ k < `to` are dropped.
    #[serde(default)]
    pub invalidations: Vec<InvalidationSpec>,
    /// Entries present when the run starts: keys 0 to n − 1 (the most popular of a Zipf key
    /// space), each stored at a uniformly random time within the TTL before the start, so a
    /// warm cache starts with its expiries spread out (default 0: a cold cache, whose first
    /// fills all happen at once and stay in phase).
    #[serde(default)]
    pub prewarm: u32,
}

/// What concurrent misses of one key do.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MissMode {
    /// Every miss calls the origin.
    #[default]
    Plain,
    /// One origin call per key at a time; the other misses wait for it.
    Coalesce,
    /// Serve an expired entry stale while one background refresh runs.
    StaleWhileRevalidate,
}

/// An early-refresh law: `{"xfetch": {"beta": 1}}` or `{"beta": {"alpha": 2, "peak": 0.8}}`.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EarlyRefreshSpec {
    /// XFetch with scale β > 0 (1 is the paper's optimum; larger refreshes earlier).
    Xfetch { beta: f64 },
    /// The refresh point's share of the TTL drawn from a Beta law with shape `alpha` > 1 and
    /// mode `peak` (0–1).
    Beta { alpha: f64, peak: f64 },
}

/// Keys dropped at given times.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InvalidationSpec {
    /// Times of the invalidation.
    pub at: Vec<Quantity>,
    /// First key and one past the last key dropped.
    pub from: u32,
    pub to: u32,
    /// The key space of those keys (a name in the model's `keys`; default: every space).
    pub keys: Option<String>,
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct CacheDef {
    ttl_ns: u64,
    jitter_ns: u64,
    mode: MissMode,
    stale_ns: u64,
    early: Early,
    capacity: usize,
    /// Per intent index and per key space index: bypass the cache.
    bypass: Vec<bool>,
    bypass_spaces: Vec<bool>,
    /// (key range, its key space or every one, sorted invalidation times [ns]).
    invalidations: Vec<(u32, u32, Option<u16>, Vec<u64>)>,
    prewarm: u32,
    /// Key space names by index (for per-space counts).
    spaces: Vec<String>,
}

/// A checked early-refresh law.
#[derive(Clone, Copy, Debug)]
enum Early {
    None,
    Xfetch { beta: f64 },
    Beta { alpha: f64, b: f64 },
}

/// Kind step tags.
const LOOKUP: u16 = 0;
const FILL: u16 = 1;
const FAILED: u16 = 2;
/// Exits of the lookup step.
const HIT: usize = 0;
const ORIGIN: usize = 1;
/// Most entries a cache may be given.
const MAX_CAPACITY: u64 = 100_000_000;
/// Longest TTL or stale window [s]: a year.
const MAX_TTL_S: f64 = 365.0 * 86_400.0;
/// Most entries a cache may be prewarmed with (each about 64 bytes with its index entry).
const MAX_PREWARM: u64 = 10_000_000;
/// Slab slots the active sweep examines per read.
const SWEEP_PER_READ: usize = 2;
/// No slab slot.
const NIL: u32 = u32::MAX;

/// An item: key space (high 32 bits) and key.
type Item = u64;

fn item(space: u16, key: u32) -> Item {
    (space as u64) << 32 | key as u64
}

/// A stored entry.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u32,
    space: u16,
    live: bool,
    stored: u64,
    expires: u64,
    /// Recompute time of its last fill [ns] (XFetch's δ).
    delta: u64,
    /// Beta law: the time from which a read refreshes it [ns].
    refresh_at: u64,
    prev: u32,
    next: u32,
}

/// An origin call (or several, with `plain`) under way for a key.
#[derive(Debug, Default)]
struct Flight {
    waiters: Vec<ReqId>,
    /// Origin calls started for this miss or expiry.
    calls: u32,
    /// Origin calls still under way.
    active: u32,
}

/// Counters since warm-up.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct CacheCounts {
    pub reads: u64,
    /// Fresh entries served.
    pub hits: u64,
    /// Reads that found no usable entry.
    pub misses: u64,
    /// Expired entries served stale while a refresh ran.
    pub stale_serves: u64,
    /// Background refreshes started before expiry.
    pub early_refreshes: u64,
    /// Background refreshes started for stale entries.
    pub stale_refreshes: u64,
    /// Origin calls made (by readers and background refreshes).
    pub origin_calls: u64,
    /// Origin calls that failed.
    pub origin_failures: u64,
    /// Readers that waited for another reader's origin call.
    pub coalesced: u64,
    /// Reads of bypassed intents, sent straight to the origin.
    pub bypassed: u64,
    /// Entries evicted by the LRU, dropped by invalidations, and removed expired by the sweep.
    pub evictions: u64,
    pub invalidated: u64,
    pub swept: u64,
    /// Misses or expiries that ended with a fill: each opened an episode of origin calls.
    pub episodes: u64,
    /// Origin calls made by those episodes.
    pub episode_calls: u64,
    /// The largest number of origin calls one episode made.
    pub max_calls_per_episode: u32,
    /// The most origin calls under way at once (all key spaces together).
    pub max_concurrent_origin: u32,
}

impl CacheCounts {
    /// The additive counters of `self` minus those of `o` (maxima are not differenced: zero).
    fn minus(&self, o: &CacheCounts) -> CacheCounts {
        self.zip(o, |a, b| a - b)
    }

    fn plus(&self, o: &CacheCounts) -> CacheCounts {
        self.zip(o, |a, b| a + b)
    }

    fn zip(&self, o: &CacheCounts, f: impl Fn(u64, u64) -> u64) -> CacheCounts {
        CacheCounts {
            reads: f(self.reads, o.reads),
            hits: f(self.hits, o.hits),
            misses: f(self.misses, o.misses),
            stale_serves: f(self.stale_serves, o.stale_serves),
            early_refreshes: f(self.early_refreshes, o.early_refreshes),
            stale_refreshes: f(self.stale_refreshes, o.stale_refreshes),
            origin_calls: f(self.origin_calls, o.origin_calls),
            origin_failures: f(self.origin_failures, o.origin_failures),
            coalesced: f(self.coalesced, o.coalesced),
            bypassed: f(self.bypassed, o.bypassed),
            evictions: f(self.evictions, o.evictions),
            invalidated: f(self.invalidated, o.invalidated),
            swept: f(self.swept, o.swept),
            episodes: f(self.episodes, o.episodes),
            episode_calls: f(self.episode_calls, o.episode_calls),
            max_calls_per_episode: 0,
            max_concurrent_origin: 0,
        }
    }

    /// The counters as JSON with their ratios: `hit_ratio` (fresh and stale serves over
    /// cached reads), `fresh_hit_ratio`, `coalesced_share` (readers that waited for another's
    /// origin call, over cached reads) and `mean_calls_per_episode`; null where undefined.
    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let cached = self.reads - self.bypassed;
        v["hit_ratio"] = serde_json::json!(ratio(self.hits + self.stale_serves, cached));
        v["fresh_hit_ratio"] = serde_json::json!(ratio(self.hits, cached));
        v["coalesced_share"] = serde_json::json!(ratio(self.coalesced, cached));
        v["mean_calls_per_episode"] = serde_json::json!(ratio(self.episode_calls, self.episodes));
        v
    }
}

/// A running cache.
pub struct Cache {
    def: CacheDef,
    /// Key → slot. Fx hashing (not SipHash): keys come from the model, not from an adversary,
    /// and no output depends on the map's order.
    index: FxHashMap<Item, u32>,
    slab: Vec<Entry>,
    free: Vec<u32>,
    /// LRU list: most recent at `head`.
    head: u32,
    tail: u32,
    live: usize,
    flights: FxHashMap<Item, Flight>,
    /// Spare waiter lists, reused.
    spare: Vec<Vec<ReqId>>,
    concurrent: u32,
    sweep: usize,
    rng: SimRng,
    /// Counts per key space (one when the model has none), and the space of the request in
    /// hand.
    counts: Vec<CacheCounts>,
    cur: usize,
    /// The most origin calls under way at once since warm-up.
    max_concurrent: u32,
    /// Counts at the start of the open time-series window, what the open window had gathered
    /// before warm-up restarted the counts, and the most origin calls at once in the window.
    base: CacheCounts,
    carry: CacheCounts,
    window_max: u32,
    /// The most origin calls of an episode that ended in the open window.
    window_episode_max: u32,
}

impl Kind for Cache {
    type Spec = CacheSpec;
    type Def = CacheDef;

    fn compile(spec: &CacheSpec, b: &mut KindBuilder) -> Option<CacheDef> {
        compile_as(spec, b, "origin")
    }

    fn holds_while_waiting() -> bool {
        false
    }

    fn start(def: &CacheDef, seed: u64, service: &str) -> Cache {
        let mut c = Cache {
            def: def.clone(),
            index: FxHashMap::default(),
            slab: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            live: 0,
            flights: FxHashMap::default(),
            spare: Vec::new(),
            concurrent: 0,
            sweep: 0,
            rng: stream(seed, service, "cache"),
            counts: vec![CacheCounts::default(); def.spaces.len().max(1)],
            cur: 0,
            max_concurrent: 0,
            base: CacheCounts::default(),
            carry: CacheCounts::default(),
            window_max: 0,
            window_episode_max: 0,
        };
        c.prewarm();
        c
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        let now = cx.now.0;
        self.cur = (job.attrs.space as usize).min(self.counts.len() - 1);
        match tag {
            LOOKUP => self.lookup(now, job, cx),
            FILL => self.fill(now, job, cx),
            _ => self.failed(job, cx),
        }
    }

    fn restart_stats(&mut self, _now: SimTime) {
        self.carry = self.carry.plus(&self.total().minus(&self.base));
        self.counts.fill(CacheCounts::default());
        self.max_concurrent = self.concurrent;
        self.base = CacheCounts::default();
    }

    const COLUMNS: &'static [&'static str] = &[
        "hit_ratio",
        "origin_calls",
        "calls_per_episode",
        "max_calls_per_episode",
        "max_concurrent_origin",
        "stale_serves",
        "early_refreshes",
    ];

    fn window(&mut self, _now: SimTime, out: &mut Vec<f64>) {
        let total = self.total();
        let w = total.minus(&self.base).plus(&self.carry);
        let ratio = |a: u64, b: u64| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
        out.extend([
            ratio(w.hits + w.stale_serves, w.reads - w.bypassed),
            w.origin_calls as f64,
            ratio(w.episode_calls, w.episodes),
            self.window_episode_max as f64,
            self.window_max as f64,
            w.stale_serves as f64,
            w.early_refreshes as f64,
        ]);
        (self.base, self.carry, self.window_max) = (total, CacheCounts::default(), self.concurrent);
        self.window_episode_max = 0;
    }

    fn summary(&self, _now: SimTime) -> serde_json::Value {
        let mut v = self.total().json();
        v["entries"] = serde_json::json!(self.live);
        if !self.def.spaces.is_empty() {
            let per: serde_json::Map<String, serde_json::Value> =
                self.def.spaces.iter().zip(&self.counts).map(|(n, c)| (n.clone(), c.json())).collect();
            v["key_spaces"] = serde_json::Value::Object(per);
        }
        v
    }
}

/// Compiles a cache whose origin setting is called `origin_field` in its settings (`origin`
/// for a cache, `table` for DAX), so problems are reported at the user's field.
pub fn compile_as(spec: &CacheSpec, b: &mut KindBuilder, origin_field: &str) -> Option<CacheDef> {
    let def = check(spec, b)?;
    let get = match &spec.get {
        Some(d) => b.dist("get", d)?,
        None => Dist::Lognormal { mu: (0.4e-3f64).ln(), sigma: (1.3f64 / 0.4).ln() / crate::model::dist::Z99 },
    };
    let failed = b.step(FAILED, vec![]);
    let fill = b.step(FILL, vec![RETURN]);
    let origin = b.call(origin_field, &spec.origin, spec.policy.as_deref(), fill, Some(failed))?;
    let lookup = b.step(LOOKUP, vec![RETURN, origin]);
    b.entry = b.work("get", get, lookup);
    Some(def)
}

/// Checks the settings.
fn check(spec: &CacheSpec, b: &mut KindBuilder) -> Option<CacheDef> {
    let ttl = spec.ttl.0;
    let mut ok = true;
    if !(ttl.is_finite() && (0.0..=MAX_TTL_S).contains(&ttl)) {
        b.issue("ttl", format!("must be a duration from 0 (store nothing) to a year, got {ttl} s"));
        ok = false;
    }
    if ttl == 0.0 && spec.early_refresh.is_some() {
        b.issue("early_refresh", "needs a TTL above 0 (with `ttl` 0 nothing is stored to refresh)");
        ok = false;
    }
    if ttl == 0.0 && spec.prewarm > 0 {
        b.issue("prewarm", "needs a TTL above 0 (with `ttl` 0 nothing is stored)");
        ok = false;
    }
    let jitter = spec.ttl_jitter.0;
    if !(jitter.is_finite() && jitter >= 0.0 && jitter <= ttl) {
        b.issue("ttl_jitter", format!("must be from 0 to the TTL ({ttl} s), got {jitter} s"));
        ok = false;
    }
    if let Some(s) = spec.stale_for {
        if !(s.0.is_finite() && s.0 >= 0.0 && s.0 <= MAX_TTL_S) {
            b.issue("stale_for", format!("must be a duration from 0 to a year, got {} s", s.0));
            ok = false;
        }
        if spec.on_miss != MissMode::StaleWhileRevalidate {
            b.issue("stale_for", "goes with `on_miss`: `stale_while_revalidate` only");
            ok = false;
        }
    }
    let early = match spec.early_refresh {
        None => Early::None,
        Some(EarlyRefreshSpec::Xfetch { beta }) => {
            if !(beta.is_finite() && beta > 0.0 && beta <= 1e6) {
                b.issue("early_refresh.xfetch.beta", format!("must be above 0 (1 is XFetch's default), got {beta}"));
                ok = false;
            }
            Early::Xfetch { beta }
        }
        Some(EarlyRefreshSpec::Beta { alpha, peak }) => {
            if !(alpha.is_finite() && alpha > 1.0 && alpha <= 1e3) {
                b.issue("early_refresh.beta.alpha", format!("must be above 1 (so the law has a peak), got {alpha}"));
                ok = false;
            }
            if !(peak > 0.0 && peak < 1.0) {
                b.issue("early_refresh.beta.peak", format!("must be a share of the TTL between 0 and 1, got {peak}"));
                ok = false;
            }
            Early::Beta { alpha, b: 1.0 + (alpha - 1.0) * (1.0 - peak) / peak }
        }
    };
    let capacity = match spec.capacity {
        Some(c) if c == 0 || c > MAX_CAPACITY => {
            b.issue("capacity", format!("must be from 1 to {MAX_CAPACITY} entries, got {c}"));
            ok = false;
            0
        }
        Some(c) => c as usize,
        None => usize::MAX,
    };
    let (space, keys) = match b.first_key_space() {
        Some((name, n)) => {
            (format!("the {n} keys of key space `{name}`, the first by name, which prewarm fills"), n as u64)
        }
        None => ("the 1 key requests carry when the model has no key spaces".to_string(), 1),
    };
    let most = MAX_PREWARM.min(spec.capacity.unwrap_or(MAX_PREWARM)).min(keys);
    if spec.prewarm as u64 > most {
        let msg = format!(
            "at most {most} entries (10,000,000, and no more than the capacity or {space}), got {}",
            spec.prewarm
        );
        b.issue("prewarm", msg);
        ok = false;
    }
    let bypass = b.intent_flags("bypass_intents", &spec.bypass_intents).unwrap_or_else(|| {
        ok = false;
        Vec::new()
    });
    let mut bypass_spaces = vec![false; b.key_spaces().len()];
    for (i, name) in spec.bypass_keys.iter().enumerate() {
        match b.key_space_index(name) {
            Some(k) => bypass_spaces[k] = true,
            None => {
                b.issue(&format!("bypass_keys.{i}"), unknown_space(b, name));
                ok = false;
            }
        }
    }
    let mut invalidations = Vec::new();
    for (i, inv) in spec.invalidations.iter().enumerate() {
        let space = match &inv.keys {
            None => None,
            Some(name) => match b.key_space_index(name) {
                Some(k) => Some(k as u16),
                None => {
                    b.issue(&format!("invalidations.{i}.keys"), unknown_space(b, name));
                    ok = false;
                    None
                }
            },
        };
        if inv.from >= inv.to {
            b.issue(&format!("invalidations.{i}"), format!("needs from < to, got {} and {}", inv.from, inv.to));
            ok = false;
        }
        let mut at = Vec::new();
        for (j, t) in inv.at.iter().enumerate() {
            if !(t.0.is_finite() && t.0 >= 0.0) {
                b.issue(&format!("invalidations.{i}.at.{j}"), format!("must be a time ≥ 0, got {} s", t.0));
                ok = false;
            }
            at.push(SimTime::from_secs(t.0.max(0.0)).0);
        }
        at.sort_unstable();
        invalidations.push((inv.from, inv.to, space, at));
    }
    ok.then(|| CacheDef {
        ttl_ns: SimTime::from_secs(ttl).0,
        jitter_ns: SimTime::from_secs(jitter).0,
        mode: spec.on_miss,
        stale_ns: spec.stale_for.map_or(u64::MAX, |s| SimTime::from_secs(s.0).0),
        early,
        capacity,
        bypass,
        bypass_spaces,
        invalidations,
        prewarm: spec.prewarm,
        spaces: b.key_spaces().to_vec(),
    })
}

/// "unknown key space `name`; `keys` lists: …".
fn unknown_space(b: &KindBuilder, name: &str) -> String {
    let known = b.key_spaces().join(", ");
    let known = if known.is_empty() { "(none)".to_string() } else { known };
    format!("unknown key space `{name}`; the model's `keys` lists: {known}")
}

impl Cache {
    /// The counters of the request in hand's key space.
    fn c(&mut self) -> &mut CacheCounts {
        &mut self.counts[self.cur]
    }

    /// All key spaces' counters together.
    fn total(&self) -> CacheCounts {
        let mut t = self.counts.iter().fold(CacheCounts::default(), |a, c| a.plus(c));
        t.max_calls_per_episode = self.counts.iter().map(|c| c.max_calls_per_episode).max().unwrap_or(0);
        t.max_concurrent_origin = self.max_concurrent;
        t
    }

    /// Whether `job` skips the cache (its intent or key space is never cached).
    fn bypasses(&self, job: &Job) -> bool {
        let a = &job.attrs;
        self.def.bypass.get(a.intent as usize).copied().unwrap_or(false)
            || self.def.bypass_spaces.get(a.space as usize).copied().unwrap_or(false)
    }

    /// A read of `job`'s key.
    fn lookup(&mut self, now: u64, job: &mut Job, cx: &mut StepCx) -> Go {
        self.c().reads += 1;
        self.sweep_some(now);
        let it = item(job.attrs.space, job.attrs.key);
        if self.bypasses(job) {
            self.c().bypassed += 1;
            return self.call_origin(it, false);
        }
        if let Some(&slot) = self.index.get(&it) {
            let e = self.slab[slot as usize];
            if self.invalidated(&e, now) {
                self.c().invalidated += 1;
                self.remove(slot);
            } else if now < e.expires {
                self.c().hits += 1;
                self.touch(slot);
                if self.refresh_early(it, &e, now) {
                    self.c().early_refreshes += 1;
                    self.start_refresh(it, cx);
                }
                return Go::Exit(HIT);
            } else if self.def.mode == MissMode::StaleWhileRevalidate && now - e.expires < self.def.stale_ns {
                self.c().stale_serves += 1;
                self.touch(slot);
                if !self.flights.contains_key(&it) {
                    self.c().stale_refreshes += 1;
                    self.start_refresh(it, cx);
                }
                return Go::Exit(HIT);
            } else {
                self.remove(slot);
            }
        }
        self.c().misses += 1;
        if self.def.mode != MissMode::Plain
            && let Some(f) = self.flights.get_mut(&it)
        {
            f.waiters.push(cx.id);
            self.c().coalesced += 1;
            return Go::Park;
        }
        self.call_origin(it, true)
    }

    /// A reader calls the origin for `it` (recorded in the item's flight if `tracked`).
    fn call_origin(&mut self, it: Item, tracked: bool) -> Go {
        if tracked {
            self.open_flight(it);
        }
        self.origin_started();
        Go::Exit(ORIGIN)
    }

    /// A background refresh of `it` starts (one per item at a time).
    fn start_refresh(&mut self, it: Item, cx: &mut StepCx) {
        self.open_flight(it);
        self.origin_started();
        cx.out.spawn(ORIGIN);
    }

    fn open_flight(&mut self, it: Item) {
        let spare = &mut self.spare;
        let f = self
            .flights
            .entry(it)
            .or_insert_with(|| Flight { waiters: spare.pop().unwrap_or_default(), ..Flight::default() });
        f.calls += 1;
        f.active += 1;
    }

    fn origin_started(&mut self) {
        self.c().origin_calls += 1;
        self.concurrent += 1;
        self.max_concurrent = self.max_concurrent.max(self.concurrent);
        self.window_max = self.window_max.max(self.concurrent);
    }

    /// Whether a read at `now` of fresh entry `e` (item `it`) starts an early refresh.
    fn refresh_early(&mut self, it: Item, e: &Entry, now: u64) -> bool {
        if self.flights.contains_key(&it) {
            return false;
        }
        match self.def.early {
            Early::None => false,
            Early::Xfetch { beta } => {
                let u: f64 = 1.0 - self.rng.random::<f64>(); // (0, 1]
                let gap = -(e.delta as f64) * beta * u.ln();
                now as f64 + gap >= e.expires as f64
            }
            Early::Beta { .. } => now >= e.refresh_at,
        }
    }

    /// An origin call for `job`'s item answered: store the value, wake the waiting readers.
    fn fill(&mut self, now: u64, job: &mut Job, cx: &mut StepCx) -> Go {
        self.concurrent = self.concurrent.saturating_sub(1);
        if self.bypasses(job) {
            return Go::Exit(0);
        }
        let it = item(job.attrs.space, job.attrs.key);
        let delta = now.saturating_sub(job.call_born.0);
        self.store(it, now, delta);
        if let Some(mut f) = self.flights.remove(&it) {
            let c = self.c();
            c.episodes += 1;
            c.episode_calls += f.calls as u64;
            c.max_calls_per_episode = c.max_calls_per_episode.max(f.calls);
            self.window_episode_max = self.window_episode_max.max(f.calls);
            f.waiters.drain(..).for_each(|w| cx.out.wake(w, 0));
            self.spare.push(f.waiters);
        }
        Go::Exit(0)
    }

    /// An origin call failed: its waiting readers fail with it.
    fn failed(&mut self, job: &mut Job, cx: &mut StepCx) -> Go {
        self.concurrent = self.concurrent.saturating_sub(1);
        self.c().origin_failures += 1;
        let outcome = job.failed.take().unwrap_or(Outcome::Error);
        if self.bypasses(job) {
            return Go::Fail(outcome);
        }
        let it = item(job.attrs.space, job.attrs.key);
        if let Some(f) = self.flights.get_mut(&it) {
            f.active = f.active.saturating_sub(1);
            f.waiters.drain(..).for_each(|w| cx.out.wake_failed(w, outcome));
            if f.active == 0 {
                let f = self.flights.remove(&it).unwrap_or_default();
                self.spare.push(f.waiters);
            }
        }
        Go::Fail(outcome)
    }

    /// Stores keys 0 to `prewarm` − 1 of the first key space as if each had been stored at a
    /// random time within the TTL before the start (its recompute time unknown: 0). Times
    /// before the start are kept as offsets: the entry's life ends within one TTL of the start.
    fn prewarm(&mut self) {
        let ttl = self.def.ttl_ns;
        for key in 0..self.def.prewarm {
            self.store(item(0, key), 0, 0);
            let slot = self.index[&item(0, key)] as usize;
            let age = self.rng.random_range(0..ttl.max(1));
            let e = &mut self.slab[slot];
            e.expires = e.expires.saturating_sub(age);
            e.refresh_at = e.refresh_at.saturating_sub(age);
        }
    }

    /// Stores `it`, computed in `delta` ns, at `now` (nothing with a TTL of 0).
    fn store(&mut self, it: Item, now: u64, delta: u64) {
        if self.def.ttl_ns == 0 {
            return;
        }
        let j = self.def.jitter_ns;
        let life = if j == 0 { self.def.ttl_ns } else { self.def.ttl_ns - j + self.rng.random_range(0..=2 * j) };
        let refresh_at = match self.def.early {
            Early::Beta { alpha, b } => {
                let x = Beta::new(alpha, b).map(|law| law.sample(&mut self.rng)).unwrap_or(1.0);
                now.saturating_add((x * life as f64) as u64)
            }
            _ => u64::MAX,
        };
        let entry = Entry {
            key: it as u32,
            space: (it >> 32) as u16,
            live: true,
            stored: now,
            expires: now.saturating_add(life),
            delta,
            refresh_at,
            prev: NIL,
            next: NIL,
        };
        if let Some(&slot) = self.index.get(&it) {
            self.slab[slot as usize] =
                Entry { prev: self.slab[slot as usize].prev, next: self.slab[slot as usize].next, ..entry };
            self.touch(slot);
            return;
        }
        if self.live >= self.def.capacity && self.tail != NIL {
            self.c().evictions += 1;
            self.remove(self.tail);
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = entry;
                s
            }
            None => {
                self.slab.push(entry);
                (self.slab.len() - 1) as u32
            }
        };
        self.index.insert(it, slot);
        self.live += 1;
        self.link_front(slot);
    }

    /// Whether an invalidation of `e`'s key came after it was stored.
    fn invalidated(&self, e: &Entry, now: u64) -> bool {
        self.def.invalidations.iter().any(|(from, to, space, at)| {
            (*from..*to).contains(&e.key) && space.is_none_or(|s| s == e.space) && {
                let i = at.partition_point(|&t| t <= now);
                i > 0 && at[i - 1] > e.stored
            }
        })
    }

    /// Removes the entry in `slot`.
    fn remove(&mut self, slot: u32) {
        let e = self.slab[slot as usize];
        self.unlink(slot);
        self.index.remove(&item(e.space, e.key));
        self.slab[slot as usize].live = false;
        self.free.push(slot);
        self.live -= 1;
    }

    /// The active sweep: a few slab slots per read; an entry expired (past any stale window)
    /// is removed.
    fn sweep_some(&mut self, now: u64) {
        for _ in 0..SWEEP_PER_READ.min(self.slab.len()) {
            self.sweep = (self.sweep + 1) % self.slab.len();
            let e = self.slab[self.sweep];
            let stale_end = if self.def.mode == MissMode::StaleWhileRevalidate {
                e.expires.saturating_add(self.def.stale_ns)
            } else {
                e.expires
            };
            if e.live && now >= stale_end && !self.flights.contains_key(&item(e.space, e.key)) {
                self.c().swept += 1;
                self.remove(self.sweep as u32);
            }
        }
    }
    fn touch(&mut self, slot: u32) {
        if self.head != slot {
            self.unlink(slot);
            self.link_front(slot);
        }
    }

    fn link_front(&mut self, slot: u32) {
        let old = self.head;
        self.slab[slot as usize].prev = NIL;
        self.slab[slot as usize].next = old;
        if old != NIL {
            self.slab[old as usize].prev = slot;
        } else {
            self.tail = slot;
        }
        self.head = slot;
    }

    fn unlink(&mut self, slot: u32) {
        let Entry { prev, next, .. } = self.slab[slot as usize];
        if prev != NIL {
            self.slab[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.slab[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{Beta as BetaLaw, ContinuousCDF};

    fn def(ttl_s: f64, jitter_s: f64, early: Early) -> CacheDef {
        CacheDef {
            ttl_ns: SimTime::from_secs(ttl_s).0,
            jitter_ns: SimTime::from_secs(jitter_s).0,
            mode: MissMode::Plain,
            stale_ns: u64::MAX,
            early,
            capacity: usize::MAX,
            bypass: Vec::new(),
            bypass_spaces: Vec::new(),
            invalidations: Vec::new(),
            prewarm: 0,
            spaces: Vec::new(),
        }
    }

    /// Kolmogorov–Smirnov distance of `xs` (sorted) from the law with CDF `cdf`.
    fn ks(xs: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
        let n = xs.len() as f64;
        let gap = |(i, &x): (usize, &f64)| (cdf(x) - i as f64 / n).abs().max(((i + 1) as f64 / n - cdf(x)).abs());
        xs.iter().enumerate().map(gap).fold(0.0, f64::max)
    }

    #[test]
    fn ttl_jitter_spreads_expiries_of_keys_cached_together_uniformly() {
        let mut c = Cache::start(&def(300.0, 60.0, Early::None), 1, "cache");
        (0..20_000).for_each(|k| c.store(k as Item, 0, 0));
        let mut xs: Vec<f64> = c.slab.iter().map(|e| e.expires as f64 * 1e-9).collect();
        xs.sort_by(f64::total_cmp);
        assert!(xs[0] >= 240.0 && xs[xs.len() - 1] <= 360.0, "expiries outside 300 s ± 60 s");
        // 1.63/√n is the 1 % critical value of the KS distance.
        let d = ks(&xs, |x| ((x - 240.0) / 120.0).clamp(0.0, 1.0));
        assert!(d < 1.63 / (xs.len() as f64).sqrt(), "KS distance {d} from U(240 s, 360 s)");
    }

    #[test]
    fn xfetch_fires_with_probability_exp_of_minus_time_left_over_beta_delta() {
        let (beta, delta_s, expiry_s) = (1.5, 0.2, 10.0);
        let mut c = Cache::start(&def(expiry_s, 0.0, Early::Xfetch { beta }), 2, "cache");
        c.store(7, 0, SimTime::from_secs(delta_s).0);
        let e = c.slab[0];
        // Pearson's χ² over points of time left: 6 degrees of freedom, 1 % critical value 16.81.
        let n = 20_000u32;
        let mut chi2 = 0.0;
        for t_left in [0.01, 0.05, 0.1, 0.2, 0.4, 0.8] {
            let now = SimTime::from_secs(expiry_s - t_left).0;
            let fired = (0..n).filter(|_| c.refresh_early(7, &e, now)).count() as f64;
            let p = (-t_left / (beta * delta_s)).exp();
            let expect = n as f64 * p;
            chi2 += (fired - expect).powi(2) / (expect * (1.0 - p));
        }
        assert!(chi2 < 16.81, "χ² {chi2} against exp(−t_left/(βδ))");
    }

    #[test]
    fn the_seeds_beta_curve_draws_refresh_points_peaking_at_80_percent_of_the_ttl() {
        let (alpha, peak) = (2.0f64, 0.8);
        let b = 1.0 + (alpha - 1.0) * (1.0 - peak) / peak;
        assert!(((alpha - 1.0) / (alpha + b - 2.0) - peak).abs() < 1e-12, "the law's mode is the peak");
        let mut c = Cache::start(&def(100.0, 0.0, Early::Beta { alpha, b }), 3, "cache");
        (0..20_000).for_each(|k| c.store(k as Item, 0, 0));
        let mut xs: Vec<f64> = c.slab.iter().map(|e| e.refresh_at as f64 / e.expires as f64).collect();
        xs.sort_by(f64::total_cmp);
        let law = BetaLaw::new(alpha, b).unwrap();
        let d = ks(&xs, |x| law.cdf(x));
        assert!(d < 1.63 / (xs.len() as f64).sqrt(), "KS distance {d} from Beta({alpha}, {b})");
    }

    #[test]
    fn a_prewarmed_cache_starts_with_expiries_spread_over_one_ttl() {
        let mut d = def(300.0, 0.0, Early::None);
        d.prewarm = 20_000;
        let c = Cache::start(&d, 5, "cache");
        assert_eq!(c.live, 20_000);
        let mut xs: Vec<f64> = c.slab.iter().map(|e| e.expires as f64 * 1e-9).collect();
        xs.sort_by(f64::total_cmp);
        let d = ks(&xs, |x| (x / 300.0).clamp(0.0, 1.0));
        assert!(d < 1.63 / (xs.len() as f64).sqrt(), "KS distance {d} from U(0, 300 s)");
    }

    #[test]
    fn lru_keeps_the_most_recent_entries_and_reuses_slots() {
        let mut d = def(1e6, 0.0, Early::None);
        d.capacity = 3;
        let mut c = Cache::start(&d, 4, "cache");
        for k in 0..3 {
            c.store(k as Item, 0, 0);
        }
        c.touch(c.index[&0]); // 0 becomes the most recent; 1 is now the least
        c.store(3, 0, 0);
        let mut kept: Vec<Item> = c.index.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, vec![0, 2, 3]);
        assert_eq!((c.live, c.slab.len(), c.counts[0].evictions), (3, 3, 1), "the evicted slot is reused");
    }
}
