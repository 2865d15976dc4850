//! `dax`: DynamoDB Accelerator, an item cache in front of a `kv_store` table. It is the
//! `cache` kind with DAX's defaults: a 5-minute item TTL, reads answered in microseconds, misses
//! read through to the table (each miss one table read, unless `coalesce` makes concurrent
//! misses of one item wait for the first — the seed's "read request coalescing", which is the
//! application's doing, not DAX's). Its node-hours are priced by a cost line on the service
//! (`dax.t3.small` in the price table).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cache::{Cache, CacheDef, CacheSpec, MissMode, compile_as};
use super::kinds::{Go, Kind, StepCx};
use crate::engine::SimTime;
use crate::model::KindBuilder;
use crate::model::dist::DistSpec;
use crate::model::quantity::Quantity;
use crate::sim::Job;

/// Settings of a `dax` service.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DaxSpec {
    /// The table behind it (a `kv_store` service).
    pub table: String,
    /// Item TTL (default 300 s, DAX's default; reference/calibration.md).
    pub ttl: Option<Quantity>,
    /// Whether concurrent misses of one item make a single table read (default false).
    #[serde(default)]
    pub coalesce: bool,
    /// Time of a read served by DAX (default: lognormal, p50 250 µs, p99 800 µs — "microseconds"
    /// in the calibration sheet; the figures are assumptions).
    pub get: Option<DistSpec>,
    /// Most items held, least recently used out first (default: unbounded).
    pub capacity: Option<u64>,
}

/// A running DAX cluster: a cache.
pub struct Dax(Cache);

impl Kind for Dax {
    type Spec = DaxSpec;
    type Def = CacheDef;

    fn compile(spec: &DaxSpec, b: &mut KindBuilder) -> Option<CacheDef> {
        let get = spec.get.clone().unwrap_or(DistSpec::Lognormal {
            mean: None,
            sd: None,
            p50: Some(Quantity(250e-6)),
            p99: Some(Quantity(800e-6)),
        });
        let cache = CacheSpec {
            origin: spec.table.clone(),
            policy: None,
            ttl: spec.ttl.unwrap_or(Quantity(300.0)),
            ttl_jitter: Quantity(0.0),
            get: Some(get),
            on_miss: if spec.coalesce { MissMode::Coalesce } else { MissMode::Plain },
            stale_for: None,
            early_refresh: None,
            capacity: spec.capacity,
            bypass_intents: Vec::new(),
            bypass_keys: Vec::new(),
            invalidations: Vec::new(),
            prewarm: 0,
        };
        compile_as(&cache, b, "table")
    }

    fn holds_while_waiting() -> bool {
        Cache::holds_while_waiting()
    }

    fn start(def: &CacheDef, seed: u64, service: &str) -> Dax {
        Dax(Cache::start(def, seed, service))
    }

    fn step(&mut self, tag: u16, job: &mut Job, cx: &mut StepCx) -> Go {
        self.0.step(tag, job, cx)
    }

    fn restart_stats(&mut self, now: SimTime) {
        self.0.restart_stats(now);
    }

    fn summary(&self, now: SimTime) -> serde_json::Value {
        self.0.summary(now)
    }

    const COLUMNS: &'static [&'static str] = Cache::COLUMNS;

    fn window(&mut self, now: SimTime, out: &mut Vec<f64>) {
        self.0.window(now, out);
    }
}
