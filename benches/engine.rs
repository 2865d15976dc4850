//! Engine speed and memory benchmarks (`cargo bench --bench engine`).
//!
//! Each case runs in a child process of its own, so its peak resident memory (VmHWM) is its own.
//! Cases:
//! - `mmc`: models/mmc.json for 20 million customers (λ = 9/s over 2,222,222 s), no warm-up;
//! - `baseline`: a hand-written minimal M/M/c loop (binary heap, PCG, no statistics beyond a
//!   wait sum) for the same 20 million customers, the yardstick for `mmc`;
//! - `sessions-10m` / `sessions-40m`: 1,000,000 closed-loop users with 60 s exponential think
//!   time in front of 20,000 servers of 1 s mean service, for 10 and 40 simulated minutes —
//!   equal peak memory shows memory does not grow with simulated duration;
//! - `stampede-10m`: models/cache_stampede.json with 100,000 keys at 5,000 requests/s for 10
//!   simulated minutes, with the series invalidated; prints how many times faster than real time;
//! - `flow-2m` / `flow-8m`: a five-service chat flow (gateway → catalog, recommendations and
//!   RAG in parallel → LLM), every call under a policy with a 1 s timeout and up to 3 attempts
//!   with exponential backoff and full jitter, 1 % injected errors, at 10,000 requests/s for 2
//!   and 8 simulated minutes;
//! - `model-tier-2m`: the model tier at 10,000 requests/s for 2 simulated minutes: an
//!   autoscaled classifier pool (`endpoint_pool`), a micro-batching reranker (`batch_server`)
//!   and two LLMs (`llm`: Sonnet for 30 % of intents, Haiku for 70 %); prints how many times
//!   faster than real time.
//! - `mangaassist-normal` / `mangaassist-peak`: the whole chatbot (models/mangaassist.json):
//!   the normal profile (50,000 sessions, about 5,000 messages/s) for 10 simulated minutes
//!   after its 2-minute ramp, and the peak profile (500,000 sessions, about 50,000 messages/s)
//!   ramped over 5 minutes and held for 5, its fleets sized for the peak from the start; both
//!   print how many times faster than real time and the events per message.
//!
//! Every case also counts heap allocations during the run (a counting global allocator) and
//! prints them per event: growth of the slab, the event list and histograms is amortised, so a
//! run allocates nothing per event once its pools have grown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use capsim::model::{Override, load_str};
use rand_distr::{Distribution, Exp1};

const CUSTOMERS: f64 = 20e6;

/// The system allocator, counting allocations.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        run_case(&args[i + 1]);
        return;
    }
    println!(
        "{:<14} {:>14} {:>12} {:>16} {:>16} {:>12} {:>14}",
        "case", "customers", "wall [s]", "customers/s", "events/s", "peak RSS", "allocs/event"
    );
    let only: Vec<String> = args.iter().skip(1).filter(|a| !a.starts_with('-')).cloned().collect();
    let cases = [
        "mmc",
        "baseline",
        "flow-2m",
        "flow-8m",
        "stampede-10m",
        "model-tier-2m",
        "mangaassist-normal",
        "mangaassist-peak",
        "sessions-10m",
        "sessions-40m",
        "sessions-160m",
    ];
    for case in cases {
        if !only.is_empty() && !only.iter().any(|o| case.contains(o.as_str())) {
            continue;
        }
        let exe = std::env::current_exe().expect("bench binary path");
        let out = Command::new(exe).args(["--case", case]).output().expect("child bench run");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
        if !out.status.success() {
            eprintln!("{case} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

fn run_case(case: &str) {
    let t = Instant::now();
    let allocs = ALLOCATIONS.load(Ordering::Relaxed);
    let (customers, events) = match case {
        "mmc" => mmc(),
        "baseline" => baseline(),
        "flow-2m" => flow("2m"),
        "flow-8m" => flow("8m"),
        "stampede-10m" => stampede(),
        "model-tier-2m" => model_tier(),
        "mangaassist-normal" => mangaassist(false),
        "mangaassist-peak" => mangaassist(true),
        "sessions-10m" => sessions("10m"),
        "sessions-40m" => sessions("40m"),
        "sessions-160m" => sessions("160m"),
        other => panic!("unknown case {other}"),
    };
    let wall = t.elapsed().as_secs_f64();
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs;
    println!(
        "{:<14} {:>14} {:>12.3} {:>16.0} {:>16.0} {:>9.0} MiB {:>14.6}",
        case,
        customers,
        wall,
        customers as f64 / wall,
        events as f64 / wall,
        peak_rss_kib() as f64 / 1024.0,
        allocs as f64 / events.max(1) as f64
    );
}

fn mmc() -> (u64, u64) {
    let text = std::fs::read_to_string("models/mmc.json").expect("run from the crate root");
    let sets = [format!("run.duration={}", CUSTOMERS / 9.0), "run.warmup=0".into()];
    let sets: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let m = load_str("models/mmc.json", &text, &sets).unwrap();
    let out = capsim::sim::run(&m);
    (out.world.totals.all.arrived, out.world.ctx.events)
}

fn sessions(duration: &str) -> (u64, u64) {
    let text = format!(
        r#"{{"name": "million", "run": {{"duration": "{duration}"}},
        "sessions": {{"users": {{"users": 1000000, "think": {{"dist": "exponential", "mean": "60s"}}, "to": "llm"}}}},
        "stations": {{"llm": {{"servers": 20000, "service": {{"dist": "exponential", "mean": "1s"}}}}}}}}"#
    );
    let m = load_str("million", &text, &[]).unwrap();
    let out = capsim::sim::run(&m);
    (out.world.totals.all.arrived, out.world.ctx.events)
}

fn flow(duration: &str) -> (u64, u64) {
    let text = format!(
        r#"{{"name": "flow", "run": {{"duration": "{duration}"}},
        "sources": {{"users": {{"rate": 10000, "to": "gateway"}}}},
        "policies": {{"p": {{"timeout": "1s",
            "retry": {{"max_attempts": 3, "base": "50ms", "cap": "1s", "jitter": "full"}}}}}},
        "services": {{
          "gateway": {{"servers": 20000, "flow": [
            {{"work": {{"dist": "constant", "value": "1ms"}}}},
            {{"parallel": [{{"call": "catalog", "policy": "p"}}, {{"call": "reco", "policy": "p"}}, {{"call": "rag", "policy": "p"}}]}},
            {{"call": "llm", "policy": "p"}}]}},
          "catalog": {{"servers": 500, "flow": [{{"work": {{"dist": "exponential", "mean": "20ms"}}}}], "faults": {{"error_rate": 0.01}}}},
          "reco": {{"servers": 1000, "flow": [{{"work": {{"dist": "exponential", "mean": "50ms"}}}}], "faults": {{"error_rate": 0.01}}}},
          "rag": {{"servers": 2000, "flow": [{{"work": {{"dist": "exponential", "mean": "100ms"}}}}], "faults": {{"error_rate": 0.01}}}},
          "llm": {{"servers": 10000, "flow": [{{"work": {{"dist": "lognormal", "p50": "400ms", "p99": "1.2s"}}}}], "faults": {{"error_rate": 0.01}}}}
        }}}}"#
    );
    let m = load_str("flow", &text, &[]).unwrap();
    let out = capsim::sim::run(&m);
    (out.world.totals.all.arrived, out.world.ctx.events)
}

/// models/cache_stampede.json with 100,000 keys (all prewarmed) at 5,000 requests/s for 10
/// simulated minutes, the series invalidated at 150 s; prints the real-time factor too.
fn stampede() -> (u64, u64) {
    let text = std::fs::read_to_string("models/cache_stampede.json").expect("run from the crate root");
    let c = "services.catalog_cache.kind.cache";
    let sets = [
        "run.duration=600".to_string(),
        "run.warmup=0".into(),
        "keys.asins.count=100000".into(),
        format!("{c}.prewarm=100000"),
        format!(r#"{c}.invalidations=[{{"at": [150], "from": 0, "to": 50}}]"#),
    ];
    let sets: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let m = load_str("models/cache_stampede.json", &text, &sets).unwrap();
    let t = Instant::now();
    let out = capsim::sim::run(&m);
    let wall = t.elapsed().as_secs_f64();
    eprintln!("stampede-10m: 600 simulated s in {wall:.2} s wall: {:.0}x real time", 600.0 / wall);
    (out.world.totals.all.arrived, out.world.ctx.events)
}

/// The model tier at 10,000 requests/s for 120 simulated seconds.
fn model_tier() -> (u64, u64) {
    let text = r#"{
      "name": "model_tier",
      "run": {"duration": "120s", "warmup": "0s", "window": "10s", "seed": 1},
      "intents": {"complex": {"share": 0.3, "tokens_in": {"dist": "constant", "value": 1000}, "tokens_out": {"dist": "constant", "value": 150}},
                  "simple": {"share": 0.7, "tokens_in": {"dist": "constant", "value": 600}, "tokens_out": {"dist": "constant", "value": 80}}},
      "sources": {"messages": {"rate": 10000, "to": "orchestrator"}},
      "services": {
        "orchestrator": {"servers": 100000000, "flow": [{"call": "classifier"}, {"call": "reranker"},
          {"branch": {"by": "intent", "cases": {"complex": [{"call": "sonnet"}], "simple": [{"call": "haiku"}]}}}]},
        "classifier": {"servers": 100000000, "kind": {"endpoint_pool": {
          "instance": {"type": "ml.g4dn.xlarge", "slots": 4}, "service": {"dist": "lognormal", "p50": "15ms", "p99": "35ms"},
          "startup": {"provisioning": {"dist": "constant", "value": "80s"}, "model_load": {"dist": "constant", "value": "40s"}},
          "autoscaling": {"min": 60, "max": 200, "target": 9000}}}},
        "reranker": {"servers": 100000000, "kind": {"batch_server": {
          "instance": {"type": "ml.g5.xlarge", "slots": 4}, "instances": 64, "items": 20, "max_batch": 4, "max_wait": "10ms",
          "batch_time": {"fixed": "50ms", "per_item": "0.25ms"}}}},
        "sonnet": {"servers": 100000000, "kind": {"llm": {"model": "claude-3.5-sonnet", "ttft": {"dist": "lognormal", "p50": "0.95s", "p99": "2s"},
          "tokens_per_s": 53, "input_price": "bedrock.sonnet-3.5.input_token", "output_price": "bedrock.sonnet-3.5.output_token"}}},
        "haiku": {"servers": 100000000, "kind": {"llm": {"model": "claude-3-haiku", "ttft": {"dist": "lognormal", "p50": "0.3s", "p99": "0.8s"},
          "tokens_per_s": 95, "input_price": "bedrock.haiku-3.input_token", "output_price": "bedrock.haiku-3.output_token"}}}
      }
    }"#;
    let m = load_str("model-tier", text, &[]).unwrap();
    let t = Instant::now();
    let out = capsim::sim::run(&m);
    let wall = t.elapsed().as_secs_f64();
    eprintln!("model-tier-2m: 120 simulated s in {wall:.2} s wall: {:.0}x real time", 120.0 / wall);
    (out.world.totals.all.arrived, out.world.ctx.events)
}

/// The whole chatbot at its normal or its peak profile (see the module's doc).
fn mangaassist(peak: bool) -> (u64, u64) {
    let text = std::fs::read_to_string("models/mangaassist.json").expect("run from the crate root");
    let mut sets: Vec<String> = vec!["run.warmup=0".into()];
    let (label, simulated) = if peak {
        let pool = "services.orchestrator_ecs.kind.endpoint_pool";
        sets.extend([
            "sessions.shoppers.users=500000".into(),
            r#"sessions.shoppers.users_profile=[{"shape":"ramp","from":0,"to":500000,"duration":"5m"}]"#.into(),
            format!("{pool}.instances=800"),
            format!("{pool}.autoscaling.min=800"),
            "services.classifier.kind.endpoint_pool.instances=500".into(),
            "services.reranker.kind.batch_server.instances=500".into(),
            "services.sonnet.kind.llm.provisioned.model_units=400".into(),
            "services.sonnet_gate.kind.concurrency_limiter.max_concurrency=40000".into(),
            "run.duration=10m".into(),
        ]);
        ("mangaassist-peak", 600.0)
    } else {
        sets.push("run.duration=12m".into());
        ("mangaassist-normal", 720.0)
    };
    let sets: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let m = load_str("models/mangaassist.json", &text, &sets).unwrap();
    let t = Instant::now();
    let out = capsim::sim::run(&m);
    let wall = t.elapsed().as_secs_f64();
    let (arrived, events) = (out.world.totals.all.arrived, out.world.ctx.events);
    eprintln!(
        "{label}: {simulated} simulated s in {wall:.1} s wall: {:.1}x real time, {:.1} events per message",
        simulated / wall,
        events as f64 / arrived.max(1) as f64
    );
    (arrived, events)
}

/// The yardstick: the least an M/M/c simulation can do.
fn baseline() -> (u64, u64) {
    let (lambda, mu, c) = (9.0f64, 1.0f64, 10u32);
    let mut rng = capsim::engine::stream(1, "baseline", "all");
    let mut exp = |mean: f64| -> u64 {
        let e: f64 = Exp1.sample(&mut rng);
        (e * mean * 1e9) as u64
    };
    // (time, kind): kind 0 = arrival, 1 = departure.
    let mut heap = BinaryHeap::new();
    heap.push(Reverse((exp(1.0 / lambda), 0u8)));
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let (mut busy, mut served, mut events, mut wait_sum) = (0u32, 0u64, 0u64, 0u128);
    let target = CUSTOMERS as u64;
    while let Some(Reverse((t, kind))) = heap.pop() {
        events += 1;
        if kind == 0 {
            if served + (busy as u64) + (waiting.len() as u64) < target {
                heap.push(Reverse((t + exp(1.0 / lambda), 0)));
            }
            if busy < c {
                busy += 1;
                heap.push(Reverse((t + exp(1.0 / mu), 1)));
            } else {
                waiting.push_back(t);
            }
        } else {
            served += 1;
            if let Some(a) = waiting.pop_front() {
                wait_sum += (t - a) as u128;
                heap.push(Reverse((t + exp(1.0 / mu), 1)));
            } else {
                busy -= 1;
            }
        }
    }
    std::hint::black_box(wait_sum);
    (served, events)
}

/// Peak resident set size of this process [KiB] (Linux; 0 elsewhere).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
