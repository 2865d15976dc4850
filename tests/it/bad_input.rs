//! Malformed model files: each gives a clear error naming the field, and none panics.

use capsim::model::{Override, load_str};

/// Checks that each (case, model text, fragments) fails to load with a message containing
/// every fragment.
fn assert_each_names(cases: Vec<(&str, String, Vec<&str>)>) {
    for (case, text, fragments) in cases {
        let msg = error_of(&text);
        for f in fragments {
            assert!(msg.contains(f), "{case}: `{f}` missing from:\n{msg}");
        }
    }
}

/// Loads `text` and returns the error message, failing if it loads.
fn error_of(text: &str) -> String {
    match load_str("bad.json", text, &[]) {
        Ok(_) => panic!("should not load:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const GOOD_STATION: &str = r#""stations": {"s": {"servers": 1, "service": {"dist": "exponential", "mean": 1}}}"#;

fn with_source(source: &str) -> String {
    format!(r#"{{"name": "m", "sources": {{"in": {source}}}, {GOOD_STATION}}}"#)
}

fn with_station(station: &str) -> String {
    format!(r#"{{"name": "m", "sources": {{"in": {{"rate": 1, "to": "s"}}}}, "stations": {{"s": {station}}}}}"#)
}

/// (case, model text, fragments the message must contain).
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        ("empty file", String::new(), vec!["bad.json", "empty"]),
        ("invalid JSON", "{\"name\": \"m\",\n  \"sources\": {".into(), vec!["bad.json:2:", "invalid JSON"]),
        (
            "wrong type",
            with_station(r#"{"servers": "ten", "service": {"dist": "constant", "value": 1}}"#),
            vec!["stations.s.servers", "expected a whole number ≥ 0", "got the text \"ten\""],
        ),
        (
            "unknown field",
            with_station(r#"{"servers": 1, "sevrice": {"dist": "constant", "value": 1}}"#),
            vec!["stations.s", "unknown field `sevrice`"],
        ),
        ("negative rate", with_source(r#"{"rate": -3, "to": "s"}"#), vec!["sources.in.rate", "from 0 to"]),
        (
            "a rate that would mean billions of events",
            with_source(r#"{"rate": 222222208, "to": "s"}"#),
            vec!["sources.in.rate", "from 0 to 10000000", "got 222222208"],
        ),
        (
            "zero servers",
            with_station(r#"{"servers": 0, "service": {"dist": "constant", "value": 1}}"#),
            vec!["stations.s.servers", "at least 1"],
        ),
        (
            "p99 < p50",
            with_station(r#"{"servers": 1, "service": {"dist": "lognormal", "p50": "2s", "p99": "1s"}}"#),
            vec!["stations.s.service.p99", "≥ p50"],
        ),
        (
            "unknown distribution",
            with_station(r#"{"servers": 1, "service": {"dist": "weibull", "shape": 2}}"#),
            vec!["stations.s.service", "unknown choice `weibull`", "exponential"],
        ),
        (
            "missing reference",
            with_source(r#"{"rate": 1, "to": "nowhere"}"#),
            vec!["sources.in.to", "unknown block `nowhere`"],
        ),
        (
            "bad duration unit",
            r#"{"name": "m", "run": {"duration": "5 fortnights"}}"#.into(),
            vec!["run.duration", "unknown duration unit"],
        ),
        ("missing required field", with_source(r#"{"rate": 1}"#), vec!["sources.in", "missing field `to`"]),
        (
            "two arrival kinds",
            with_source(r#"{"rate": 1, "interarrival": {"dist": "constant", "value": 1}, "to": "s"}"#),
            vec!["sources.in", "exactly one of"],
        ),
        (
            "unknown class",
            with_source(r#"{"rate": 1, "class": "vip", "to": "s"}"#),
            vec!["sources.in.class", "unknown class `vip`"],
        ),
        ("warm-up too long", r#"{"name": "m", "run": {"duration": "1m", "warmup": "2m"}}"#.into(), vec!["run.warmup"]),
        ("nothing arrives", format!(r#"{{"name": "m", {GOOD_STATION}}}"#), vec!["no `sources` or `sessions`"]),
        (
            "negative service",
            with_station(r#"{"servers": 1, "service": {"dist": "uniform", "min": "2s", "max": "1s"}}"#),
            vec!["stations.s.service.max"],
        ),
        (
            "exponential without mean",
            with_station(r#"{"servers": 1, "service": {"dist": "exponential"}}"#),
            vec!["stations.s.service.mean", "exactly one"],
        ),
        (
            "empirical weights mismatch",
            with_station(r#"{"servers": 1, "service": {"dist": "empirical", "values": [1, 2], "weights": [1]}}"#),
            vec!["stations.s.service.weights", "2"],
        ),
        ("root not an object", "[1, 2]".into(), vec!["bad.json:1:1", "expected a JSON object"]),
        ("send to a source", with_source(r#"{"rate": 1, "to": "in"}"#), vec!["sources.in.to", "cannot be sent"]),
        (
            "fork without join path",
            r#"{"name": "m", "sources": {"in": {"rate": 1, "to": "f"}},
            "forks": {"f": {"branches": ["d"], "join": "j"}},
            "delays": {"d": {"delay": {"dist": "constant", "value": 1}, "to": "end"}},
            "joins": {"j": {}}}"#
                .into(),
            vec!["forks.f.branches", "without passing join `j`"],
        ),
        (
            "instant cycle",
            r#"{"name": "m", "sources": {"in": {"rate": 1, "to": "r"}},
            "routers": {"r": {"by": "probability", "routes": [{"weight": 1, "to": "r2"}]},
                        "r2": {"by": "probability", "routes": [{"weight": 1, "to": "r"}]}}}"#
                .into(),
            vec!["cycle"],
        ),
        (
            "name that would leave output/",
            r#"{"name": "../../etc/evil", "sources": {"in": {"rate": 1, "to": "end"}}}"#.into(),
            vec!["at `name`", "no `/`"],
        ),
        (
            "absolute name",
            r#"{"name": "/tmp/evil", "sources": {"in": {"rate": 1, "to": "end"}}}"#.into(),
            vec!["at `name`", "only letters"],
        ),
        (
            "window that would need 3.6e12 rows",
            r#"{"name": "m", "run": {"duration": "1h", "window": "1ns"}, "sources": {"in": {"rate": 1, "to": "end"}}}"#
                .into(),
            vec!["run.window", "at most 100000", "36.000ms"],
        ),
        (
            "duration past the clock's range",
            r#"{"name": "m", "run": {"duration": "1e300h"}, "sources": {"in": {"rate": 1, "to": "end"}}}"#.into(),
            vec!["run.duration", "100 years"],
        ),
        (
            "in-flight limit that could exhaust memory",
            r#"{"name": "m", "run": {"max_in_flight": 1000000000000}, "sources": {"in": {"rate": 1, "to": "end"}}}"#
                .into(),
            vec!["run.max_in_flight", "20000000"],
        ),
        (
            "a staircase of four billion steps",
            r#"{"name": "m", "sources": {"in": {"profile": [{"shape": "step", "from": 1, "to": 2, "steps": 4000000000, "duration": "1h"}], "to": "end"}}}"#
                .into(),
            vec!["sources.in.profile.0.steps", "10000"],
        ),
        (
            "a billion users",
            r#"{"name": "m", "sessions": {"u": {"users": 1000000000, "think": {"dist": "constant", "value": 1}, "to": "end"}}}"#
                .into(),
            vec!["sessions", "at most 10000000"],
        ),
        (
            "duplicate key",
            "{\"name\": \"m\",\n \"sources\": {\"in\": {\"rate\": 1, \"rate\": 2, \"to\": \"end\"}}}".into(),
            vec!["bad.json:2:", "sources.in.rate", "more than once"],
        ),
        (
            "reserved name",
            with_station(
                r#"{"servers": 1, "service": {"dist": "constant", "value": 1}}, "end": {"servers": 1, "service": {"dist": "constant", "value": 1}}"#,
            ),
            vec!["stations.end", "reserved"],
        ),
    ]
}

#[test]
fn each_malformed_model_names_its_field() {
    let all = cases();
    assert!(all.len() >= 12);
    for (case, text, fragments) in all {
        let msg = error_of(&text);
        for f in fragments {
            assert!(msg.contains(f), "{case}: message lacks `{f}`:\n{msg}");
        }
    }
}

#[test]
fn every_type_error_is_reported_at_once() {
    let text = r#"{"name": "m",
      "sources": {"in": {"rate": "fast", "to": "s"}},
      "stations": {"s": {"servers": "ten", "sevrice": 1, "service": {"dist": "weibul"}},
                   "t": {"servers": -1, "service": 3}},
      "run": {"duration": "5 parsecs", "seed": 1.5}}"#;
    let msg = error_of(text);
    for f in [
        "8 problems",
        "bad.json:2:",
        "sources.in.rate`: expected a number, got the text \"fast\"",
        "stations.s.servers",
        "stations.s.sevrice`: unknown field `sevrice` — did you mean `service`?",
        "stations.s.service.dist`: unknown choice `weibul`; expected one of: constant, exponential",
        "stations.t.servers`: expected a whole number ≥ 0 (at most 4,294,967,295), got -1",
        "stations.t.service`: expected a distribution object",
        "run.duration",
        "run.seed`: expected a whole number ≥ 0, got 1.5",
    ] {
        assert!(msg.contains(f), "lacks `{f}`:\n{msg}");
    }
    for rust in ["u32", "u64", "f64", "internally tagged", "DistSpec", "struct"] {
        assert!(!msg.contains(rust), "speaks Rust (`{rust}`):\n{msg}");
    }
}

#[test]
fn byte_order_mark_is_skipped() {
    let text = format!("\u{feff}{}", r#"{"name": "m", "sources": {"in": {"rate": 1, "to": "end"}}}"#);
    assert!(load_str("bom.json", &text, &[]).is_ok());
    let bad = format!("\u{feff}{}", r#"{"name": "m", "sources": {"in": {"rate": -1, "to": "end"}}}"#);
    assert!(error_of(&bad).contains("bad.json:1:42"), "{}", error_of(&bad));
}

#[test]
fn flag_values_are_reported_on_the_flag() {
    let text = r#"{"name": "m", "sources": {"in": {"rate": 1, "to": "end"}}}"#;
    let o = [Override::from_flag("run.duration", "--duration", "5parsecs")];
    let msg = load_str("bad.json", text, &o).unwrap_err().to_string();
    assert!(msg.contains("--duration 5parsecs: at `run.duration`: unknown duration unit"), "{msg}");
    assert!(!msg.contains("bad.json:1:"), "a flag error is not at a line of the file:\n{msg}");
    let o = [Override::parse("sources.in.rate=-2").unwrap()];
    let msg = load_str("bad.json", text, &o).unwrap_err().to_string();
    assert!(msg.contains("--set sources.in.rate=-2: at `sources.in.rate`"), "{msg}");
}

#[test]
fn errors_carry_line_and_column() {
    let text = "{\n  \"name\": \"m\",\n  \"sources\": {\"in\": {\"rate\": 1, \"to\": \"s\"}},\n  \"stations\": {\n    \"s\": {\"servers\": 0, \"service\": {\"dist\": \"constant\", \"value\": 1}}\n  }\n}";
    let msg = error_of(text);
    assert!(msg.contains("bad.json:5:22: at `stations.s.servers`"), "{msg}");
}

#[test]
fn several_problems_are_reported_together() {
    let text = r#"{"name": "m", "sources": {"in": {"rate": -1, "to": "x"}}}"#;
    let msg = error_of(text);
    assert!(msg.starts_with("2 problems in bad.json"), "{msg}");
}

#[test]
fn bad_overrides_are_named() {
    let text = with_source(r#"{"rate": 1, "to": "s"}"#);
    let o = Override::parse("stations.s.servers.deep=3").unwrap();
    let msg = load_str("bad.json", &text, &[o]).unwrap_err().to_string();
    assert!(msg.contains("--set stations.s.servers.deep") && msg.contains("is a number"), "{msg}");
    let o = Override::parse("stations.s.servers=0").unwrap();
    let msg = load_str("bad.json", &text, &[o]).unwrap_err().to_string();
    assert!(msg.contains("stations.s.servers") && msg.contains("at least 1"), "{msg}");
}

#[test]
fn random_garbage_never_panics() {
    // Truncations and byte flips of a valid model: every outcome is Ok or a clean error.
    let good = std::fs::read_to_string("models/fork_join.json").unwrap();
    let bytes = good.as_bytes();
    for cut in (0..bytes.len()).step_by(7) {
        let text = String::from_utf8_lossy(&bytes[..cut]);
        let _ = load_str("cut.json", &text, &[]);
    }
    for (i, flip) in (0..bytes.len()).step_by(5).zip([b'0', b'"', b'}', b'-', b'x', b' '].iter().cycle()) {
        let mut b = bytes.to_vec();
        b[i] = *flip;
        let _ = load_str("flip.json", &String::from_utf8_lossy(&b), &[]);
    }
}

/// A model with services `svc` (a JSON object body), policies and extra top-level fields.
fn with_services(services: &str, extra: &str) -> String {
    format!(r#"{{"name": "m", "sources": {{"in": {{"rate": 1, "to": "front"}}}}, "services": {{{services}}}{extra}}}"#)
}

const BACK: &str = r#""back": {"servers": 1, "flow": [{"work": {"dist": "constant", "value": "10ms"}}]}"#;

#[test]
fn bad_services_policies_and_flows_name_their_field() {
    let front = |flow: &str| format!(r#""front": {{"servers": 2, "flow": {flow}}}, {BACK}"#);
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "negative timeout",
            with_services(&front(r#"[{"call": "back", "policy": "p"}]"#), r#", "policies": {"p": {"timeout": "-1s"}}"#),
            vec!["policies.p.timeout", "positive duration"],
        ),
        (
            "a policy missing from the table",
            with_services(&front(r#"[{"call": "back", "policy": "retry3"}]"#), ""),
            vec!["services.front.flow.0.policy", "unknown policy `retry3`"],
        ),
        (
            "a call to a missing service",
            with_services(&front(r#"[{"call": "nowhere"}]"#), ""),
            vec!["services.front.flow.0.call", "unknown service `nowhere`", "back"],
        ),
        (
            "a service that calls itself with no work",
            with_services(
                r#""front": {"servers": 1, "flow": [{"call": "loop"}]}, "loop": {"servers": 1, "flow": [{"call": "front"}]}"#,
                "",
            ),
            vec!["flow", "calls itself through", "cycle"],
        ),
        (
            "intent shares not summing to 1",
            with_services(&front("[]"), r#", "intents": {"a": {"share": 0.6}, "b": {"share": 0.3}}"#),
            vec!["intents", "add up to 0.9", "must add up to 1"],
        ),
        (
            "two actions in one step",
            with_services(&front(r#"[{"call": "back", "work": {"dist": "constant", "value": 1}}]"#), ""),
            vec!["services.front.flow.0", "exactly one of"],
        ),
        (
            "waiting for more branches than there are",
            with_services(&front(r#"[{"parallel": [{"call": "back"}], "wait": {"k": 2}}]"#), ""),
            vec!["services.front.flow.0.wait.k", "from 1 to the 1 branches"],
        ),
        (
            "zero attempts",
            with_services(
                &front(r#"[{"call": "back", "policy": "p"}]"#),
                r#", "policies": {"p": {"retry": {"max_attempts": 0}}}"#,
            ),
            vec!["policies.p.retry.max_attempts", "from 1 to 100"],
        ),
        (
            "cap below base",
            with_services(
                &front(r#"[{"call": "back", "policy": "p"}]"#),
                r#", "policies": {"p": {"retry": {"max_attempts": 3, "base": "1s", "cap": "100ms"}}}"#,
            ),
            vec!["policies.p.retry.cap", "≥ base"],
        ),
        (
            "breaker failure rate above 1",
            with_services(
                &front(r#"[{"call": "back", "policy": "p"}]"#),
                r#", "policies": {"p": {"breaker": {"window": {"calls": 10}, "failure_rate": 1.5}}}"#,
            ),
            vec!["policies.p.breaker.failure_rate", "at most 1"],
        ),
        (
            "an unknown limit",
            with_services(&front(r#"[{"limit": "per_user"}]"#), ""),
            vec!["services.front.flow.0.limit", "unknown limit `per_user`"],
        ),
        (
            "error rate above 1",
            with_services(&format!(r#""front": {{"servers": 1, "faults": {{"error_rate": 2}}}}, {BACK}"#), ""),
            vec!["services.front.faults.error_rate", "probability"],
        ),
        (
            "an outage that ends before it starts",
            with_services(
                &format!(
                    r#""front": {{"servers": 1, "faults": {{"outages": [{{"from": "20s", "to": "10s"}}]}}}}, {BACK}"#
                ),
                "",
            ),
            vec!["services.front.faults.outages.0", "from < to"],
        ),
        (
            "class shares with an unknown class",
            format!(
                r#"{{"name": "m", "classes": ["a"], "sources": {{"in": {{"rate": 1, "class_shares": {{"a": 0.5, "z": 0.5}}, "to": "front"}}}}, "services": {{{}}}}}"#,
                front("[]")
            ),
            vec!["sources.in.class_shares.z", "unknown class `z`"],
        ),
        (
            "a source's intent that is not in `intents`",
            format!(
                r#"{{"name": "m", "intents": {{"chat": {{"share": 1}}}}, "sources": {{"in": {{"rate": 1, "intent": "batch", "to": "front"}}}}, "services": {{{}}}}}"#,
                front("[]")
            ),
            vec!["sources.in.intent", "unknown intent `batch`", "chat"],
        ),
        (
            "fallback with two answers",
            with_services(
                &front(r#"[{"call": "back", "policy": "p"}]"#),
                r#", "policies": {"p": {"fallback": {"wait": "5ms", "call": "back"}}}"#,
            ),
            vec!["policies.p.fallback", "exactly one of"],
        ),
    ];
    assert_each_names(cases);
}

#[test]
fn bad_cache_settings_name_their_field() {
    let cache = |settings: &str| {
        with_services(
            &format!(
                r#""front": {{"servers": 2, "flow": [{{"call": "c"}}]}}, {BACK}, "c": {{"servers": 2, "kind": {{"cache": {settings}}}}}"#
            ),
            "",
        )
    };
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "negative TTL",
            cache(r#"{"origin": "back", "ttl": "-5s"}"#),
            vec!["services.c.kind.cache.ttl", "from 0 (store nothing) to a year"],
        ),
        (
            "jitter larger than the TTL",
            cache(r#"{"origin": "back", "ttl": "60s", "ttl_jitter": "90s"}"#),
            vec!["services.c.kind.cache.ttl_jitter", "from 0 to the TTL"],
        ),
        (
            "XFetch beta of zero",
            cache(r#"{"origin": "back", "ttl": "60s", "early_refresh": {"xfetch": {"beta": 0}}}"#),
            vec!["services.c.kind.cache.early_refresh.xfetch.beta", "above 0"],
        ),
        (
            "a Beta curve peaking outside the TTL",
            cache(r#"{"origin": "back", "ttl": "60s", "early_refresh": {"beta": {"alpha": 2, "peak": 1.2}}}"#),
            vec!["early_refresh.beta.peak", "between 0 and 1"],
        ),
        (
            "an origin that does not exist",
            cache(r#"{"origin": "nowhere", "ttl": "60s"}"#),
            vec!["services.c.kind.cache.origin", "unknown service `nowhere`"],
        ),
        (
            "a TTL past the end of time (found by fuzzing)",
            cache(r#"{"origin": "back", "ttl": "1e80s"}"#),
            vec!["services.c.kind.cache.ttl", "to a year"],
        ),
        (
            "a prewarm that would take gigabytes",
            cache(r#"{"origin": "back", "ttl": "60s", "prewarm": 4000000000}"#),
            vec!["services.c.kind.cache.prewarm", "10,000,000, and no more than the capacity", "got 4000000000"],
        ),
        (
            "zero capacity",
            cache(r#"{"origin": "back", "ttl": "60s", "capacity": 0}"#),
            vec!["services.c.kind.cache.capacity", "from 1 to"],
        ),
        (
            "an unknown intent",
            cache(r#"{"origin": "back", "ttl": "60s", "bypass_intents": ["prices"]}"#),
            vec!["bypass_intents.0", "unknown intent `prices`"],
        ),
        (
            "stale_for without stale-while-revalidate",
            cache(r#"{"origin": "back", "ttl": "60s", "stale_for": "10s"}"#),
            vec!["services.c.kind.cache.stale_for", "stale_while_revalidate"],
        ),
        (
            "an unknown key space",
            cache(r#"{"origin": "back", "ttl": "60s", "bypass_keys": ["prices"]}"#),
            vec!["bypass_keys.0", "unknown key space `prices`", "(none)"],
        ),
        (
            "early refresh with nothing stored",
            cache(r#"{"origin": "back", "ttl": "0s", "early_refresh": {"xfetch": {"beta": 1}}}"#),
            vec!["services.c.kind.cache.early_refresh", "TTL above 0"],
        ),
        (
            "an invalidation of an unknown key space",
            cache(
                r#"{"origin": "back", "ttl": "60s", "invalidations": [{"at": ["1s"], "from": 0, "to": 2, "keys": "x"}]}"#,
            ),
            vec!["invalidations.0.keys", "unknown key space `x`"],
        ),
        (
            "invalidation range backwards",
            cache(r#"{"origin": "back", "ttl": "60s", "invalidations": [{"at": ["1s"], "from": 5, "to": 2}]}"#),
            vec!["invalidations.0", "from < to"],
        ),
        (
            "an unknown kind",
            cache(r#"{"origin": "back", "ttl": "60s"}"#).replace(r#""kind": {"cache""#, r#""kind": {"cach""#),
            vec!["services.c.kind", "unknown choice `cach`", "did you mean `cache`"],
        ),
        ("a misspelt setting", cache(r#"{"origin": "back", "tll": "60s"}"#), vec!["unknown field `tll`"]),
        (
            "zero cores",
            with_services(
                &format!(r#""front": {{"servers": 2, "cores": 0, "flow": [{{"call": "back"}}]}}, {BACK}"#),
                "",
            ),
            vec!["services.front.cores", "at least 1"],
        ),
        (
            "a burst over keys beyond the key space",
            with_services(
                &format!(r#""front": {{"servers": 2, "flow": [{{"call": "back"}}]}}, {BACK}"#),
                r#", "keys": {"k": {"count": 10, "bursts": [{"from": 0, "to": 5, "share": 0.5, "key": 8, "keys": 5}]}}"#,
            ),
            vec!["keys.k.bursts.0.keys", "from 1 to count − key (2)"],
        ),
        (
            "a flow beside a kind",
            with_services(
                &format!(
                    r#""front": {{"servers": 2, "flow": [{{"call": "c"}}]}}, {BACK}, "c": {{"servers": 2, "flow": [{{"call": "back"}}], "kind": {{"cache": {{"origin": "back", "ttl": "1s"}}}}}}"#
                ),
                "",
            ),
            vec!["services.c.flow", "gets its flow from the kind"],
        ),
    ];
    assert_each_names(cases);
}

#[test]
fn bad_table_settings_name_their_field() {
    let table = |settings: &str| {
        with_services(
            &format!(
                r#""front": {{"servers": 2, "flow": [{{"call": "t"}}]}}, "t": {{"servers": 2, "kind": {{"kv_store": {settings}}}}}"#
            ),
            "",
        )
    };
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "zero partitions",
            table(r#"{"partitions": 0, "read_capacity": 1, "write_capacity": 1}"#),
            vec!["services.t.kind.kv_store.partitions", "from 1 to"],
        ),
        (
            "provisioned without capacity",
            table(r#"{"partitions": 2}"#),
            vec!["kv_store.read_capacity", "required in provisioned mode"],
        ),
        (
            "capacity with on-demand",
            table(r#"{"partitions": 2, "mode": "on_demand", "write_capacity": 5}"#),
            vec!["kv_store.write_capacity", "provisioned` only"],
        ),
        (
            "item size 0",
            table(
                r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "operations": [{"share": 1, "op": "read", "item_kb": 0}]}"#,
            ),
            vec!["kv_store.operations.0.item_kb", "above 0"],
        ),
        (
            "shares not adding up",
            table(
                r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "operations": [{"share": 0.5, "op": "read", "item_kb": 1}]}"#,
            ),
            vec!["kv_store.operations", "add up to 1"],
        ),
        (
            "a strongly consistent write",
            table(
                r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "operations": [{"share": 1, "op": "write", "item_kb": 1, "consistency": "strong"}]}"#,
            ),
            vec!["kv_store.operations.0.consistency", "writes `standard` or `transactional`"],
        ),
        (
            "zero shards",
            table(r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "write_shards": 0}"#),
            vec!["kv_store.write_shards", "from 1 to"],
        ),
        (
            "an adaptive delay of years",
            table(r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "adaptive_delay": "1e9s"}"#),
            vec!["kv_store.adaptive_delay", "from 0 to a day"],
        ),
        (
            "operations of an unknown key space",
            table(
                r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "operations": [{"share": 1, "op": "read", "item_kb": 1, "keys": "nope"}]}"#,
            ),
            vec!["kv_store.operations.0.keys", "unknown key space `nope`"],
        ),
        (
            "a key space's shares not adding up",
            with_services(
                r#""front": {"servers": 2, "flow": [{"call": "t"}]}, "t": {"servers": 2, "kind": {"kv_store": {"partitions": 2, "read_capacity": 1, "write_capacity": 1, "operations": [{"share": 1, "op": "read", "item_kb": 1}, {"share": 0.4, "op": "read", "item_kb": 120, "keys": "big"}]}}}"#,
                r#", "keys": {"big": {"count": 1}}"#,
            ),
            vec!["kv_store.operations", "of key space `big` must add up to 1, got 0.4"],
        ),
        (
            "a throttle round trip that is no distribution",
            table(
                r#"{"partitions": 2, "read_capacity": 1, "write_capacity": 1, "throttle_latency": {"dist": "constant", "value": "-1ms"}}"#,
            ),
            vec!["kv_store.throttle_latency"],
        ),
    ];
    assert_each_names(cases);
}

#[test]
fn bad_processor_sharing_settings_name_their_field() {
    let cpu = |settings: &str| {
        with_services(
            &format!(
                r#""front": {{"servers": 2, "flow": [{{"call": "c"}}]}}, "c": {{"servers": 2, "kind": {{"processor_sharing": {settings}}}}}"#
            ),
            "",
        )
    };
    let work = r#""work": {"dist": "constant", "value": "10ms"}"#;
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("no cores", cpu(&format!(r#"{{"cores": 0, {work}}}"#)), vec!["processor_sharing.cores", "above 0"]),
        ("a billion cores", cpu(&format!(r#"{{"cores": 1e9, {work}}}"#)), vec!["processor_sharing.cores", "at most"]),
        (
            "negative work",
            cpu(r#"{"cores": 4, "work": {"dist": "constant", "value": "-1s"}}"#),
            vec!["processor_sharing.work"],
        ),
        ("no work", cpu(r#"{"cores": 4}"#), vec!["work"]),
    ];
    assert_each_names(cases);
}

#[test]
fn bad_endpoint_pool_settings_name_their_field() {
    let pool = |settings: &str| {
        let svc = format!(
            r#""front": {{"servers": 2, "flow": [{{"call": "p"}}]}}, "p": {{"servers": 2, "kind": {{"endpoint_pool": {settings}}}}}"#
        );
        with_services(&svc, "")
    };
    let base = r#""instance": {"type": "ml.g4dn.xlarge"}, "service": {"dist": "constant", "value": "10ms"}"#;
    let with = |extra: &str| pool(&format!("{{{base}{extra}}}"));
    let cases = vec![
        (
            "max below min",
            with(r#", "autoscaling": {"min": 5, "max": 2, "target": 100}"#),
            vec!["endpoint_pool.autoscaling.min", "must not exceed the maximum (2)"],
        ),
        (
            "zero slots",
            pool(r#"{"instance": {"type": "t", "slots": 0}, "service": {"dist": "constant", "value": "1ms"}}"#),
            vec!["endpoint_pool.instance.slots", "from 1 to"],
        ),
        (
            "a speed of zero",
            pool(r#"{"instance": {"type": "t", "speed": 0}, "service": {"dist": "constant", "value": "1ms"}}"#),
            vec!["endpoint_pool.instance.speed", "factor from 0.001"],
        ),
        (
            "a negative provisioning lag",
            with(r#", "startup": {"provisioning": {"dist": "constant", "value": -5}}"#),
            vec!["endpoint_pool.startup.provisioning"],
        ),
        (
            "a target of zero",
            with(r#", "autoscaling": {"target": 0}"#),
            vec!["endpoint_pool.autoscaling.target", "above 0"],
        ),
        (
            "no scaling rule",
            with(r#", "autoscaling": {"min": 1, "max": 3}"#),
            vec!["endpoint_pool.autoscaling", "give a `target`"],
        ),
        (
            "zero datapoints",
            with(r#", "autoscaling": {"target": 10, "scale_out_datapoints": 0}"#),
            vec!["endpoint_pool.autoscaling.scale_out_datapoints", "from 1 to 1440"],
        ),
        (
            "a period of a microsecond",
            with(r#", "autoscaling": {"target": 10, "period": "1us"}"#),
            vec!["endpoint_pool.autoscaling.period", "from 1 s to a day"],
        ),
        (
            "a million instances",
            with(r#", "autoscaling": {"target": 10, "max": 1000000}"#),
            vec!["endpoint_pool.autoscaling.max", "from 1 to 10000"],
        ),
        (
            "initial instances above the maximum",
            with(r#", "instances": 50, "autoscaling": {"target": 10, "max": 5}"#),
            vec!["endpoint_pool.instances", "from the minimum (1) to the maximum (5)"],
        ),
        (
            "steps out of order",
            with(
                r#", "autoscaling": {"steps": {"threshold": 5, "adjustments": [{"from": 10, "add": 1}, {"from": 0, "add": 2}]}}"#,
            ),
            vec!["endpoint_pool.autoscaling.steps.adjustments", "increasing"],
        ),
        (
            "an unknown price",
            pool(r#"{"instance": {"type": "t", "price": "nope"}, "service": {"dist": "constant", "value": "1ms"}}"#),
            vec!["endpoint_pool.instance.price", "`nope` is not in the price table"],
        ),
        (
            "a huge queue limit",
            with(r#", "queue_limit": 4000000000"#),
            vec!["endpoint_pool.queue_limit", "at most 100000000"],
        ),
        (
            "a misspelt routing",
            with(r#", "routing": "fastest""#),
            vec!["endpoint_pool.routing", "`fastest`", "shared_queue, random, round_robin, least_outstanding"],
        ),
    ];
    assert_each_names(cases);
}

#[test]
fn bad_model_tier_settings_name_their_field() {
    let kind = |kind: &str, settings: &str| {
        let svc = format!(
            r#""front": {{"servers": 2, "flow": [{{"call": "k"}}]}}, {BACK}, "k": {{"servers": 2, "kind": {{"{kind}": {settings}}}}}"#
        );
        with_services(&svc, "")
    };
    let c = r#"{"dist": "constant", "value": "1s"}"#;
    let cases = vec![
        (
            "tokens per second of zero",
            kind("llm", &format!(r#"{{"model": "m", "ttft": {c}, "tokens_per_s": 0}}"#)),
            vec!["kind.llm.tokens_per_s", "from 0.01"],
        ),
        (
            "a reservation larger than the TPM quota",
            kind(
                "llm",
                &format!(
                    r#"{{"model": "m", "ttft": {c}, "tokens_per_s": 50, "max_tokens": 5000, "quota": {{"tpm": 1000}}}}"#
                ),
            ),
            vec!["kind.llm.max_tokens", "exceeds the whole TPM quota"],
        ),
        (
            "a hit rate above 1",
            kind(
                "llm",
                &format!(r#"{{"model": "m", "ttft": {c}, "tokens_per_s": 50, "semantic_cache": {{"hit_rate": 1.5}}}}"#),
            ),
            vec!["kind.llm.semantic_cache.hit_rate", "share from 0 to 1"],
        ),
        (
            "both on demand and provisioned",
            kind(
                "llm",
                &format!(
                    r#"{{"model": "m", "ttft": {c}, "tokens_per_s": 50, "on_demand": {{"capacity": 5}}, "provisioned": {{"model_units": 1, "slots_per_unit": 2}}}}"#
                ),
            ),
            vec!["kind.llm.provisioned", "not both"],
        ),
        (
            "a batch size of 0",
            kind(
                "batch_server",
                r#"{"instance": {"type": "t"}, "max_batch": 0, "batch_time": {"fixed": "10ms", "per_item": "1ms"}}"#,
            ),
            vec!["kind.batch_server.max_batch", "from 1 to"],
        ),
        (
            "a batch that takes no time",
            kind("batch_server", r#"{"instance": {"type": "t"}, "batch_time": {"fixed": 0, "per_item": 0}}"#),
            vec!["kind.batch_server.batch_time", "some time"],
        ),
        (
            "a backoff of 1",
            kind(
                "concurrency_limiter",
                r#"{"target": "back", "max_concurrency": 5, "adaptive": {"backoff": 1, "target_p99": "1s"}}"#,
            ),
            vec!["kind.concurrency_limiter.adaptive.backoff", "between 0 and 1"],
        ),
        (
            "a limiter calling an unknown service",
            kind("concurrency_limiter", r#"{"target": "nowhere", "max_concurrency": 5}"#),
            vec!["kind.concurrency_limiter.target`", "unknown service `nowhere`"],
        ),
        (
            "a limiter with an unknown policy",
            kind("concurrency_limiter", r#"{"target": "back", "policy": "nope", "max_concurrency": 5}"#),
            vec!["kind.concurrency_limiter.policy`", "unknown policy `nope`"],
        ),
        (
            "an unknown overflow policy",
            kind(
                "concurrency_limiter",
                r#"{"target": "back", "max_concurrency": 5, "overflow": "back", "overflow_policy": "nope"}"#,
            ),
            vec!["kind.concurrency_limiter.overflow_policy`", "unknown policy `nope`"],
        ),
        (
            "lambda memory of 64 MB",
            kind("lambda", &format!(r#"{{"service": {c}, "cold_start": {c}, "memory_mb": 64}}"#)),
            vec!["kind.lambda.memory_mb", "from 128 to 10,240"],
        ),
        (
            "more provisioned concurrency than the region allows",
            kind("lambda", &format!(r#"{{"service": {c}, "cold_start": {c}, "provisioned_concurrency": 5000}}"#)),
            vec!["kind.lambda.provisioned_concurrency", "regional limit (1000)"],
        ),
    ];
    assert_each_names(cases);
}

#[test]
fn a_call_chain_deeper_than_64_is_refused_not_a_stack_overflow() {
    // 5,000 services each calling the next once overflowed the stack of a sweep's worker thread
    // (now also above the 2,000 services a model may have, so the chain here is 1,500 long).
    let mut services = serde_json::Map::new();
    for i in 0..1500 {
        services.insert(format!("s{i}"), serde_json::json!({"servers": 1, "flow": [{"call": format!("s{}", i + 1)}]}));
    }
    services.insert("s1500".into(), serde_json::json!({"servers": 1}));
    let m = serde_json::json!({"name": "chain", "sources": {"in": {"rate": 1, "to": "s0"}}, "services": services});
    let msg = error_of(&m.to_string());
    assert!(
        msg.contains("services.s0.flow") && msg.contains("1500 nested calls") && msg.contains("at most 64"),
        "{msg}"
    );
}
