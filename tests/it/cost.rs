//! Cost against hand-computed bills.

use serde_json::json;

use crate::common::*;

#[test]
fn bill_matches_hand_computation() {
    // Measured period 2 h (3 h run, 1 h warm-up).
    // - station `gpu`: 3 servers, 2 per ml.g5.xlarge → 2 instances × 2 h × $1.408 = $5.632;
    // - delay `fn`: every request, at a custom $0.50 per million: n × 0.5e-6;
    // - 10 users: connection-minutes 10 × 120 × $0.25/1e6 = $0.0003; messages m × $1/1e6.
    let m = model(&json!({
        "name": "bill",
        "run": {"duration": "3h", "warmup": "1h"},
        "prices": {"my.fn": {"per_million": 0.5, "source": "test"}},
        "sessions": {"u": {"users": 10, "think": {"dist": "constant", "value": "10s"}, "to": "fn",
            "cost": [{"driver": "messages", "price": "apigw.ws.message"},
                     {"driver": "connection_minutes", "price": "apigw.ws.connection_minute"}]}},
        "delays": {"fn": {"delay": {"dist": "constant", "value": "1s"}, "to": "gpu",
            "cost": [{"driver": "requests", "price": "my.fn"}]}},
        "stations": {"gpu": {"servers": 3, "service": {"dist": "constant", "value": "1s"},
            "cost": [{"driver": "instance_hours", "price": "ml.g5.xlarge", "servers_per_unit": 2}]},
            "cache": {"servers": 1000, "service": {"dist": "constant", "value": "1ms"},
            "cost": [{"driver": "instance_hours", "price": "cache.r6g.large", "instances": 3}]}}
    }));
    let s = crate::common::run(&m).summary;
    let c = &s.cost_usd;
    let msgs = s.sessions["u"].messages as f64;
    // Each user cycles every 12 s: 600 messages per user over 2 h (±1 at the edges).
    assert!((msgs - 6000.0).abs() <= 10.0, "messages {msgs}");
    assert!((c.by_component["gpu"] - 5.632).abs() < 1e-9, "gpu {}", c.by_component["gpu"]);
    assert!((c.by_component["u"] - (msgs * 1e-6 + 10.0 * 120.0 * 0.25e-6)).abs() < 1e-12);
    let passed = c.by_component["fn"] / 0.5e-6;
    assert!((passed - msgs).abs() <= 10.0, "delay passages {passed}");
    // A fixed node count, whatever `servers`: 3 × 2 h × $0.206 = $1.236 (unused, still billed).
    assert!((c.by_component["cache"] - 1.236).abs() < 1e-9, "cache {}", c.by_component["cache"]);
    let total = 5.632 + 1.236 + c.by_component["u"] + c.by_component["fn"];
    assert!((c.total - total).abs() < 1e-9);
    assert!((c.per_hour - total / 2.0).abs() < 1e-9);
    // AWS's month of 730 hours, in total and by component.
    assert!((c.per_month - total / 2.0 * 730.0).abs() < 1e-6);
    assert!((c.per_month_by_component["gpu"] - 5.632 / 2.0 * 730.0).abs() < 1e-6);
    let per_1k = |usd: f64| usd / s.requests.completed as f64 * 1000.0;
    assert!((c.per_1k_requests - per_1k(total)).abs() < 1e-9);
    assert!((c.per_1k_requests_by_component["gpu"] - per_1k(5.632)).abs() < 1e-9);
    assert!((c.per_active_user_minute.unwrap() - total / 1200.0).abs() < 1e-12);
}

#[test]
fn bad_cost_lines_are_named() {
    let text = r#"{"name": "m", "sources": {"in": {"rate": 1, "to": "s"}},
        "stations": {"s": {"servers": 1, "service": {"dist": "constant", "value": 1},
            "cost": [{"driver": "instance_hours", "price": "ml.nonexistent"},
                     {"driver": "requests", "price": "ml.g5.xlarge"},
                     {"driver": "messages", "price": "apigw.ws.message"},
                     {"driver": "instance_hours", "price": "ml.g5.xlarge", "instances": 0},
                     {"driver": "instance_hours", "price": "ml.g5.xlarge", "instances": 2, "servers_per_unit": 2}]}},
        "prices": {"bad": {"per_hour": 1, "per_unit": 2}}}"#;
    let msg = capsim::model::load_str("m.json", text, &[]).unwrap_err().to_string();
    for f in [
        "stations.s.cost.0.price",
        "unknown price `ml.nonexistent`",
        "stations.s.cost.1.price",
        "per_million",
        "stations.s.cost.2.driver",
        "stations.s.cost.3.instances",
        "stations.s.cost.4.instances",
        "prices.bad",
    ] {
        assert!(msg.contains(f), "lacks {f}:\n{msg}");
    }
}
