//! The `speculative` service kind: retrieval started beside classification is used by the
//! intents that need it and wasted, in the background, for the others.

use crate::common::run;
use serde_json::json;

use crate::common::model;

#[test]
fn speculation_hides_retrieval_behind_classification_and_counts_the_waste() {
    // Classification 200 ms, retrieval 150 ms, both constant; 70 % of intents need retrieval.
    // In parallel, every message takes max(200, 150) = 200 ms; the 30 % that need none do not
    // wait for their retrieval, which is wasted: 150 ms each.
    let m = json!({
        "name": "spec",
        "run": {"duration": "1000s", "seed": 4},
        "intents": {"rag": {"share": 0.7}, "chat": {"share": 0.3}},
        "sources": {"c": {"rate": 20, "to": "front"}},
        "services": {
            "front": {"servers": 1000000, "flow": [{"parallel": [{"call": "classifier"}, {"call": "spec"}]}]},
            "classifier": {"servers": 1000000, "flow": [{"work": {"dist": "constant", "value": "200ms"}}]},
            "retrieval": {"servers": 1000000, "flow": [{"work": {"dist": "constant", "value": "150ms"}}]},
            "spec": {"servers": 1000000, "kind": {"speculative": {"target": "retrieval", "needed_by": ["rag"]}}}
        }
    });
    let out = run(&model(&m));
    let e2e = &out.summary.latency_s.e2e;
    assert!((e2e.mean - 0.2).abs() < 1e-6 && (e2e.max - 0.2).abs() < 1e-3, "{e2e:?}");
    let s = serde_json::to_value(&out.summary.services["spec"]).unwrap()["speculative"].clone();
    let (started, used, wasted) =
        (s["started"].as_f64().unwrap(), s["used"].as_f64().unwrap(), s["wasted"].as_f64().unwrap());
    // Wasted calls are counted when they end: a few may still run when the run stops.
    assert!(started >= used + wasted && started <= used + wasted + 5.0, "{s}");
    // About 20,000 messages: the wasted share's standard error is 0.003.
    assert!((wasted / started - 0.3).abs() < 0.012, "{s}");
    assert!((s["wasted_s"].as_f64().unwrap() - 0.15 * wasted).abs() < 1e-6, "{s}");
}
