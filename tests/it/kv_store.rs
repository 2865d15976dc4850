//! The `kv_store` service kind (DynamoDB) against hand-computed figures: capacity units per
//! item size and consistency, a partition's hard cap and burst, write sharding, on-demand
//! capacity following the previous peak.

use crate::common::run;
use capsim::report::output::RunOutput;
use serde_json::{Value, json};

use crate::common::model;

/// A client sending `source` traffic to table `table` (the `kv_store` settings).
fn table_model(source: Value, table: Value, duration: &str, window: &str) -> Value {
    json!({
        "name": "table",
        "run": {"duration": duration, "window": window, "seed": 3},
        "keys": {"k": {"count": 1}},
        "sources": {"c": source},
        "services": {
            "front": {"servers": 1000000, "flow": [{"call": "table"}]},
            "table": {"servers": 1000000, "kind": {"kv_store": table}}
        }
    })
}

fn counts(out: &RunOutput) -> Value {
    serde_json::to_value(&out.summary.services["table"]).unwrap()["kv_store"].clone()
}

fn num(v: &Value, f: &str) -> f64 {
    v[f].as_f64().unwrap_or_else(|| panic!("{f} missing from {v}"))
}

/// Arrivals every `gap`, to the front service, for key space `k`.
fn every(gap: &str) -> Value {
    json!({"interarrival": {"dist": "constant", "value": gap}, "to": "front", "keys": "k"})
}

#[test]
fn capacity_units_follow_item_size_and_consistency() {
    // (operation, item KB, consistency, units each): reads in 4 KB blocks, writes in 1 KB blocks.
    let cases = [
        ("read", 4.0, "eventual", 0.5),
        ("read", 4.0, "strong", 1.0),
        ("read", 5.0, "eventual", 1.0),
        ("read", 4.0, "transactional", 2.0),
        ("write", 1.5, "standard", 2.0),
        ("write", 1.0, "transactional", 2.0),
    ];
    for (op, kb, consistency, each) in cases {
        let table = json!({"partitions": 4, "read_capacity": 1e6, "write_capacity": 1e6,
            "operations": [{"share": 1, "op": op, "item_kb": kb, "consistency": consistency}]});
        let c = counts(&run(&model(&table_model(every("10ms"), table, "10s", "1s"))));
        let (n, units) = if op == "read" { ("reads", "read_units") } else { ("writes", "write_units") };
        assert_eq!(num(&c, units) / num(&c, n), each, "{op} of {kb} KB, {consistency}: {c}");
    }
}

#[test]
fn a_hot_partition_throttles_what_exceeds_its_1000_write_units_whatever_the_table_has() {
    // 2,000 one-KB writes/s on one key: its partition admits 1,000 a second (plus the 1,000 its
    // cap holds at the start), so 101,000 of 200,000 in 100 s, although the table has 10,000 WCU.
    let table = json!({"partitions": 10, "read_capacity": 1000, "write_capacity": 10000,
        "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
    let c = counts(&run(&model(&table_model(every("0.5ms"), table, "100s", "1s"))));
    assert!((num(&c, "writes") - 101_000.0).abs() <= 1.0, "{c}");
    assert!((num(&c, "throttled_share") - 0.495).abs() < 1e-3, "{c}");
    // Its partition throttles, isolates the key (the rest of the partition is idle), and the
    // key's own partition throttles the same: two partitions, no more writes.
    assert_eq!((num(&c, "partitions_throttling"), num(&c, "isolations")), (2.0, 1.0), "{c}");
}

#[test]
fn burst_capacity_lasts_as_long_as_the_unused_capacity_says() {
    // One partition provisioned at 400 WCU starts with 300 s × 400 = 120,000 units of burst.
    // Offered 1,000 writes/s (its hard cap), it admits them all while the burst lasts: the burst
    // falls by 1,000 − 400 = 600 a second, so the first throttle comes at 120,000 / 600 = 200 s;
    // from then on it admits 400 a second.
    let table = json!({"partitions": 1, "read_capacity": 1000, "write_capacity": 400, "adaptive": false,
        "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
    let out = run(&model(&table_model(every("1ms"), table, "300s", "1s")));
    let cols =
        capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, "table.throttled", false)
            .expect("the throttled column");
    let first = cols.iter().find(|(_, v)| *v > 0.0).map(|(t, _)| *t).expect("some throttles");
    assert_eq!(first, 200.5, "first throttled window is [200 s, 201 s)");
    let at = num(&counts(&out), "first_throttle_s");
    assert!((200.0..201.0).contains(&at), "first throttle at {at} s");
    // The table's own column (`table.partition_throttles`, beside the callers' `table.throttled`)
    // counts each window's throttles: they add up to the run's, 100 s × 600 = 60,000 (a
    // request at the run's last instant may fall after the last window).
    let own: f64 = out.rows.iter().map(|r| *r.kinds.last().expect("the table's column")).sum();
    let c = counts(&out);
    assert!((own - num(&c, "throttled_writes")).abs() <= 1.0, "{own} by window: {c}");
    assert!((own - 60_000.0).abs() < 2.0, "{own}");
    let admitted = 200.0 * 1000.0 + 100.0 * 400.0;
    assert!((num(&c, "writes") - admitted).abs() < 2.0, "{} admitted, expected {admitted}", c["writes"]);
}

#[test]
fn write_sharding_spreads_a_hot_key_over_min_k_p_partitions() {
    for (k, p, expect) in [(4, 10, 4.0), (20, 10, 10.0), (1, 10, 1.0)] {
        let table = json!({"partitions": p, "read_capacity": 1e6, "write_capacity": 1e6, "write_shards": k,
            "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
        let c = counts(&run(&model(&table_model(every("1ms"), table, "10s", "1s"))));
        assert_eq!(num(&c, "partitions_written"), expect, "K = {k}, P = {p}: {c}");
    }
}

#[test]
fn on_demand_serves_twice_the_previous_peak_throttles_beyond_and_catches_up_in_30_minutes() {
    // A new on-demand table serves 4,000 write units/s (previous peak 2,000). 10 KB writes: 360/s
    // is 3,600 units/s, served, and the peak becomes about 3,600 (Poisson seconds reach ~3,800);
    // then 1,600/s is 16,000 units/s, above twice that: throttled until it has lasted 30 minutes,
    // then served.
    let source = json!({"profile": [
        {"shape": "constant", "rate": 360, "duration": "300s"},
        {"shape": "constant", "rate": 1600, "duration": "2400s"}], "to": "front", "keys": "k"});
    let table =
        json!({"partitions": 20, "mode": "on_demand", "operations": [{"share": 1, "op": "write", "item_kb": 10}]});
    let mut m = table_model(source, table, "2700s", "10s");
    m["keys"]["k"] = json!({"count": 100000, "zipf": 0}); // spread over the partitions
    let out = run(&model(&m));
    let cols =
        capsim::report::timeseries::column(&out.rows, &out.station_names, &out.kind_columns, "table.throttled", false)
            .expect("the throttled column");
    let sum = |a: f64, b: f64| cols.iter().filter(|(t, _)| (a..b).contains(t)).map(|(_, v)| v).sum::<f64>();
    assert_eq!(sum(0.0, 300.0), 0.0, "twice the previous peak is served");
    let step = sum(300.0, 2090.0) / (1600.0 * 1790.0);
    assert!((0.4..0.6).contains(&step), "about half of 4x the peak is throttled: {step}");
    assert_eq!(sum(2120.0, 2700.0), 0.0, "30 minutes later it is served");
}

#[test]
fn adaptive_capacity_lets_a_hot_partition_borrow_the_tables_unused_capacity() {
    // 2,000 WCU over 4 partitions: 500 each, 150,000 units of burst. One key written 900 times a
    // second (under the 1,000 cap) for 1,000 s. Without adaptive capacity its partition admits
    // 900/s while its burst lasts (150,000 / 400 = 375 s), then 500/s: 650,000. With it, the table
    // has room for all 900,000. With a 300 s delay (pre-2019), it borrows from 375 + 300 = 675 s:
    // 900 × 375 + 500 × 300 + 900 × 325 = 780,000.
    for (adaptive, delay, expect) in [(false, "0s", 650_000.0), (true, "0s", 900_000.0), (true, "300s", 780_000.0)] {
        let table = json!({"partitions": 4, "read_capacity": 1000, "write_capacity": 2000,
            "adaptive": adaptive, "adaptive_delay": delay,
            "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
        let c = counts(&run(&model(&table_model(every("1.111111ms"), table, "1000s", "10s"))));
        let writes = num(&c, "writes");
        assert!((writes - expect).abs() < 0.002 * expect, "adaptive {adaptive}, delay {delay}: {writes} vs {expect}");
    }
}

#[test]
fn auto_scaling_raises_capacity_to_consumption_over_target_after_three_minutes_above() {
    // 2,000 one-KB writes/s spread over 4 partitions provisioned at 1,000 WCU (their burst covers
    // the excess for 300 s). Consumption is 2,000/s, twice the 70 % target, so the alarm fires
    // at the third minute boundary (180 s) and capacity becomes 2,000 / 0.7 = 2,857 WCU, after
    // which utilisation sits at the target: one change, and no throttle at any time.
    let table = json!({"partitions": 4, "read_capacity": 1000, "write_capacity": 1000,
        "auto_scaling": {"target": 0.7, "min": 1000, "max": 40000},
        "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
    let mut m = table_model(every("0.5ms"), table, "900s", "10s");
    m["keys"]["k"] = json!({"count": 100000, "zipf": 0});
    let c = counts(&run(&model(&m)));
    let w = c["provisioned"]["write"].as_f64().unwrap();
    assert!((w - 2000.0 / 0.7).abs() < 1.0, "write capacity {w}");
    assert_eq!((num(&c, "scalings"), num(&c, "throttled_writes")), (1.0, 0.0), "{c}");
    // Without auto scaling the burst runs out at 75,000 / 250 = 300 s and half the writes throttle.
    m["services"]["table"]["kind"]["kv_store"]["auto_scaling"] = Value::Null;
    let c = counts(&run(&model(&m)));
    assert!(num(&c, "throttled_share") > 0.3, "{c}");
}

#[test]
fn auto_scaling_lowers_capacity_after_fifteen_minutes_below_target() {
    // 100 writes/s against 1,000 WCU: 10 % utilisation, under 90 % of the 70 % target, so at the
    // 15th minute boundary (900 s) capacity falls to 100 / 0.7 = 142.9 WCU.
    let table = json!({"partitions": 4, "read_capacity": 1000, "write_capacity": 1000,
        "auto_scaling": {"min": 50},
        "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
    let mut m = table_model(every("10ms"), table, "1200s", "10s");
    m["keys"]["k"] = json!({"count": 100000, "zipf": 0});
    let c = counts(&run(&model(&m)));
    let w = c["provisioned"]["write"].as_f64().unwrap();
    assert!((w - 100.0 / 0.7).abs() < 0.5, "write capacity {w}: {c}");
}

#[test]
fn dax_answers_hot_reads_in_microseconds_and_reads_through_once_per_ttl() {
    // 100 reads/s of one item for 700 s through DAX (5-minute TTL): the table is read at the
    // first miss and at each expiry, at about 0, 300 and 600 s; every other read is a DAX hit.
    let mut m = table_model(
        every("10ms"),
        json!({"partitions": 1, "read_capacity": 1000, "write_capacity": 1000}),
        "700s",
        "10s",
    );
    m["services"]["front"]["flow"] = json!([{"call": "dax"}]);
    m["services"]["dax"] = json!({"servers": 1000, "kind": {"dax": {"table": "table", "coalesce": true}}});
    let out = run(&model(&m));
    assert_eq!(num(&counts(&out), "reads"), 3.0);
    let p50 = out.summary.latency_s.e2e.p50;
    assert!((200e-6..300e-6).contains(&p50), "DAX hit p50 {p50} s");
}

#[test]
fn table_cost_is_units_times_price_on_demand_and_capacity_hours_provisioned() {
    // Provisioned 1,000 RCU and 1,000 WCU for 100 s: (1,000 × $0.00013 + 1,000 × $0.00065) per
    // hour × 100/3,600 h = $0.0216667.
    let table = json!({"partitions": 2, "read_capacity": 1000, "write_capacity": 1000});
    let out = run(&model(&table_model(every("10ms"), table, "100s", "10s")));
    let usd = out.summary.cost_usd.by_component["table"];
    assert!((usd - 0.78 * 100.0 / 3600.0).abs() < 1e-9, "provisioned ${usd}");
    // On demand, 10,000 one-KB writes: 10,000 WRU × $0.625 per million = $0.00625.
    let table =
        json!({"partitions": 2, "mode": "on_demand", "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
    let out = run(&model(&table_model(every("10ms"), table, "100s", "10s")));
    let usd = out.summary.cost_usd.by_component["table"];
    assert!((usd - 0.00625).abs() < 1e-9, "on-demand ${usd}");
}

#[test]
fn a_hot_item_isolated_on_its_own_partition_stops_throttling_its_neighbours_but_not_itself() {
    // One partition, table capacity to spare. One item written 800 times a second plus 1,000
    // other items 400 times a second in all: 1,200 units/s against the partition's 1,000 cap.
    // Without isolation, about 200 a second are throttled once the cap's one second of units is
    // spent (from 5 s on). With it, the hot item moves to a partition of its own as soon as the
    // partition throttles: 800 and 400 units/s both fit, and throttling stops. A hot item at
    // 1,500 writes/s still throttles alone, at its own 1,000 cap: isolation never lifts an item's
    // own limit.
    // Poisson arrivals, so the two streams interleave.
    let run_with = |isolate: bool, hot_rate: f64| {
        let table = json!({"partitions": 1, "read_capacity": 1000, "write_capacity": 100000,
            "isolate_hot_items": isolate, "operations": [{"share": 1, "op": "write", "item_kb": 1}]});
        let source = json!({"rate": hot_rate, "to": "front", "keys": "hot"});
        let mut m = table_model(source, table, "60s", "1s");
        m["keys"] = json!({"hot": {"count": 1}, "cold": {"count": 1000, "zipf": 0}});
        m["sources"]["d"] = json!({"rate": 400, "to": "front", "keys": "cold"});
        counts(&run(&model(&m)))
    };
    let off = run_with(false, 800.0);
    let t = num(&off, "throttled_writes");
    assert!((t - 200.0 * 55.0).abs() < 0.1 * 200.0 * 55.0, "without isolation about 200/s from 5 s: {off}");
    assert!(num(&off["key_spaces"]["cold"], "throttled_writes") > 2000.0, "the neighbours throttle too: {off}");
    let on = run_with(true, 800.0);
    assert_eq!(num(&on, "isolations"), 1.0, "{on}");
    assert!(num(&on, "throttled_writes") < 50.0, "throttling stops once the item is alone: {on}");
    let alone = run_with(true, 1500.0);
    let hot = &alone["key_spaces"]["hot"];
    let share = num(hot, "throttled_writes") / (num(hot, "writes") + num(hot, "throttled_writes"));
    assert!((share - 1.0 / 3.0).abs() < 0.02, "1,500/s alone: a third over its cap, throttled: {alone}");
    assert!(num(&alone["key_spaces"]["cold"], "throttled_writes") < 50.0, "{alone}");
}

#[test]
fn a_throttled_request_fails_after_a_round_trip_and_an_immediate_retry_comes_back_one_later() {
    // One partition at 1 read unit/s (300 units of burst at the start) is offered 200 eventual
    // 1 KB reads a second (0.5 unit each): after 3 s only 2 a second get through. The caller
    // retries at once, 3 attempts in all. Each throttled attempt takes the throttle round trip:
    // set to 2 ms, a call throttled three times takes 3 × 2 = 6 ms; left at its default (drawn
    // as `latency`, here 5 ms), 15 ms. The partition sees the retries one round trip apart.
    let base = json!({"partitions": 1, "read_capacity": 1, "write_capacity": 1, "adaptive": false,
        "latency": {"dist": "constant", "value": "5ms"}});
    for (round_trip, attempt_s, call_s) in [(Some("2ms"), 0.002, 0.006), (None, 0.005, 0.015)] {
        let mut table = base.clone();
        if let Some(rt) = round_trip {
            table["throttle_latency"] = json!({"dist": "constant", "value": rt});
        }
        let mut m = table_model(every("5ms"), table, "60s", "1s");
        m["run"]["warmup"] = json!("10s");
        m["policies"] = json!({"again": {"retry": {"max_attempts": 3, "backoff": "none"}}});
        m["services"]["front"]["flow"][0]["policy"] = json!("again");
        let out = run(&model(&m));
        let s = serde_json::to_value(&out.summary.services["table"]).unwrap();
        let c = &s["kv_store"];
        // 2 admitted a second against 200 calls of 3 attempts: nearly every call fails.
        assert!(num(c, "throttled_share") > 0.99, "{c}");
        let p50 = |f: &str| s[f]["p50"].as_f64().unwrap();
        assert!(
            (p50("attempt_latency_s") - attempt_s).abs() < attempt_s * 2e-3,
            "attempts: {}",
            s["attempt_latency_s"]
        );
        assert!((p50("latency_s") - call_s).abs() < call_s * 2e-3, "calls: {}", s["latency_s"]);
    }
}

#[test]
fn each_key_space_may_have_its_own_operations() {
    // A large shared session among small ones: key space `big` reads a 120 KB item strongly
    // (30 units), every other space an 8 KB item (2 units). 1,000 reads of each in 10 s:
    // 32,000 units in all.
    let table = json!({"partitions": 4, "read_capacity": 1e6, "write_capacity": 1e6, "operations": [
        {"share": 1, "op": "read", "item_kb": 8, "consistency": "strong"},
        {"share": 1, "op": "read", "item_kb": 120, "consistency": "strong", "keys": "big"}]});
    let mut m = table_model(every("10ms"), table, "10s", "1s");
    m["keys"]["big"] = json!({"count": 1});
    m["sources"]["b"] = json!({"interarrival": {"dist": "constant", "value": "10ms"}, "to": "front", "keys": "big"});
    let c = counts(&run(&model(&m)));
    assert_eq!(num(&c, "reads"), 2000.0, "{c}");
    assert_eq!(num(&c, "read_units"), 32_000.0, "{c}");
    assert_eq!(num(&c["key_spaces"]["big"], "reads"), 1000.0, "{c}");
}
