//! The headline of a run as HTML, read from its summary.json: how the run went, what became of
//! the requests (counts and shares), end-to-end latency percentiles, cost, and per service its
//! calls, outcome shares, p99, utilisation and cost (docs/metrics.md says what each field
//! means). A summary with a section missing gets a plain sentence in that section's place.

use std::fmt::Write as _;

use serde_json::Value;

use super::charts::latency_unit;
use super::html::esc;
use super::labels::{duration_words, sig};

/// Every headline table of `summary`, in reading order.
pub fn run_headline(summary: &Value) -> String {
    let mut o = overview(summary);
    o.push_str(&notices(summary));
    o.push_str("<div class=\"tiles\">\n");
    o.push_str(&requests_table(summary));
    o.push_str(&latency_table(summary));
    o.push_str(&cost_table(summary));
    o.push_str("</div>\n");
    o.push_str(&services_table(summary));
    o.push_str(&alarms_table(summary));
    o
}

/// A number of `v`, if it is one.
fn num(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// A count with thousands separators: `318,573`; "—" if missing.
pub fn count(v: &Value) -> String {
    let Some(x) = num(v) else { return "—".into() };
    let digits = format!("{}", x.round().abs() as u64);
    let mut o = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(ch);
    }
    if x < 0.0 { format!("−{o}") } else { o }
}

/// A fraction as a percentage with 3 significant digits, never rounded to 0 % or 100 % unless
/// it is exactly that: `99.9 %`, `> 99.9 %`, `< 0.01 %`; "—" if missing.
pub fn percent(v: &Value) -> String {
    let Some(x) = num(v) else { return "—".into() };
    match x {
        x if x == 0.0 || x == 1.0 => format!("{}\u{a0}%", x * 100.0),
        x if x > 0.999 && x < 1.0 => "> 99.9\u{a0}%".into(),
        x if x > 0.0 && x < 0.0001 => "< 0.01\u{a0}%".into(),
        x => format!("{}\u{a0}%", sig(x * 100.0, 3)),
    }
}

/// A sentence in place of a section the summary lacks.
fn missing(what: &str) -> String {
    format!("<p class=\"muted\">This summary.json has no {what}.</p>\n")
}

/// Seed, simulated, warm-up and measured time, events and wall time, in one paragraph.
fn overview(s: &Value) -> String {
    let (sim, warm, measured) = (num(&s["simulated_s"]), num(&s["warmup_s"]), num(&s["measured_s"]));
    let mut o = String::from("<p>");
    if let Some(seed) = s["seed"].as_u64() {
        let _ = write!(o, "Seed {seed}. ");
    }
    match (sim, warm, measured) {
        (Some(sim), Some(warm), Some(m)) => {
            let _ = write!(
                o,
                "{} of simulated time; the first {} are a warm-up, left out of every figure below, which \
                 cover the {} measured. ",
                duration_words(sim),
                duration_words(warm),
                duration_words(m)
            );
        }
        _ => o.push_str("The summary does not say how much time was simulated. "),
    }
    if let (Some(ev), Some(wall)) = (num(&s["engine"]["events"]), num(&s["engine"]["wall_s"])) {
        let _ = write!(o, "{} events, {} s of wall-clock time.", count(&Value::from(ev)), sig(wall, 2));
    }
    o.push_str("</p>\n");
    o
}

/// A run that stopped early, and the summary's warnings, in a box a reader cannot miss.
fn notices(s: &Value) -> String {
    let mut items = Vec::new();
    let at = sig(num(&s["status"]["at_s"]).unwrap_or(f64::NAN), 4);
    match s["status"]["state"].as_str() {
        Some("overloaded") => items.push(format!(
            "The run <b>overloaded</b>: it stopped at {at} s with {} requests in the system (more than \
             run.max_in_flight); the figures cover the time up to then.",
            count(&s["status"]["in_flight"])
        )),
        Some("stalled") => items.push(format!("The run <b>stalled</b>: simulated time stopped advancing at {at} s.")),
        _ => {}
    }
    for w in s["warnings"].as_array().into_iter().flatten() {
        items.push(esc(w.as_str().unwrap_or(&w.to_string())));
    }
    if items.is_empty() {
        return String::new();
    }
    format!("<div class=\"warn\"><p>{}</p></div>\n", items.join("</p><p>"))
}

/// What became of the requests: count and share of those the measured period saw.
fn requests_table(s: &Value) -> String {
    let r = &s["requests"];
    if !r.is_object() {
        return format!("<div>{}</div>\n", missing("requests section"));
    }
    let mut o = String::from(
        "<div><h3>Requests</h3><table><tr><th class=\"text\">requests</th><th>count</th><th>share</th></tr>\n",
    );
    let rows = [
        ("arrived in the measured period", "arrived", None),
        ("carried in from the warm-up", "carried_in", None),
        ("completed", "completed", Some("completed_share")),
        ("degraded (answered through a fallback)", "degraded", Some("degraded_share")),
        ("rejected (queue full or rate limited)", "rejected", Some("rejected_share")),
        ("failed (timeout, error, unavailable)", "failed", Some("failed_share")),
        ("still in flight at the end", "in_flight", None),
    ];
    for (label, key, share) in rows {
        if r[key].is_null() {
            continue;
        }
        let share = share.map_or(String::new(), |k| percent(&r[k]));
        let _ = writeln!(o, "<tr><td class=\"text\">{label}</td><td>{}</td><td>{share}</td></tr>", count(&r[key]));
    }
    o.push_str("</table>\n");
    if let Some(t) = num(&r["throughput_per_s"]) {
        let _ = writeln!(o, "<p class=\"small\">Throughput (completed and degraded): {} requests/s.</p>", sig(t, 4));
    }
    o.push_str("</div>\n");
    o
}

/// End-to-end latency percentiles of the answered requests, for all and per class.
fn latency_table(s: &Value) -> String {
    let e2e = &s["latency_s"]["e2e"];
    if !e2e.is_object() {
        return format!("<div>{}</div>\n", missing("end-to-end latency (latency_s.e2e)"));
    }
    let mut cols: Vec<(String, &Value)> = vec![("all requests".into(), e2e)];
    if let Some(classes) = s["latency_s"]["by_class"].as_object().filter(|c| c.len() > 1) {
        cols.extend(classes.iter().map(|(k, v)| (format!("class {k}"), v)));
    }
    let (mul, unit) = latency_unit(num(&e2e["p99"]).unwrap_or(0.0));
    let mut o = format!(
        "<div><h3>End-to-end latency [{unit}]</h3><div class=\"scroll\"><table><tr><th class=\"text\">percentile</th>"
    );
    for (name, _) in &cols {
        let _ = write!(o, "<th>{}</th>", esc(name));
    }
    o.push_str("</tr>\n");
    for (label, key) in
        [("p50", "p50"), ("p95", "p95"), ("p99", "p99"), ("p99.9", "p999"), ("max", "max"), ("mean", "mean")]
    {
        let _ = write!(o, "<tr><td class=\"text\">{label}</td>");
        for (_, v) in &cols {
            let _ = write!(o, "<td>{}</td>", num(&v[key]).map_or("—".into(), |x| sig(x * mul, 3)));
        }
        o.push_str("</tr>\n");
    }
    o.push_str(
        "</table></div><p class=\"small muted\">Arrival to answer of the requests answered after warm-up, \
         degraded ones included.</p></div>\n",
    );
    o
}

/// Total cost and its rates.
fn cost_table(s: &Value) -> String {
    let c = &s["cost_usd"];
    if !c.is_object() {
        return format!("<div>{}</div>\n", missing("cost section (cost_usd)"));
    }
    let mut o = String::from("<div><h3>Cost</h3>");
    let priced = c["by_component"].as_object().is_some_and(|m| !m.is_empty());
    if !priced && num(&c["total"]).unwrap_or(0.0) == 0.0 {
        o.push_str("<p class=\"muted\">No block of this model has cost lines (docs/cost.md).</p></div>\n");
        return o;
    }
    o.push_str("<table>\n");
    for (label, key) in [
        ("over the measured period", "total"),
        ("per hour", "per_hour"),
        ("per month (730 h) at this rate", "per_month"),
        ("per 1,000 completed requests", "per_1k_requests"),
        ("per active user-minute", "per_active_user_minute"),
    ] {
        if let Some(x) = num(&c[key]) {
            let _ = writeln!(o, "<tr><td class=\"text\">{label}</td><td>{}\u{a0}USD</td></tr>", money(x));
        }
    }
    o.push_str("</table></div>\n");
    o
}

/// Dollars with cents, or 3 significant digits below a cent or from a billion up.
fn money(x: f64) -> String {
    if x == 0.0 || (0.01..1e9).contains(&x.abs()) { format!("{:.2}", x + 0.0) } else { sig(x, 3) }
}

/// Per service: slots, calls, the final outcomes as shares of the calls, p99 per call,
/// utilisation and cost.
fn services_table(s: &Value) -> String {
    let Some(services) = s["services"].as_object().filter(|m| !m.is_empty()) else {
        return missing("services");
    };
    let costs = &s["cost_usd"]["by_component"];
    let mut o = String::from(
        "<h3>Per service</h3>\n<table class=\"cards services\"><tr class=\"head\"><th class=\"text\">service</th>\
         <th>slots</th><th>calls</th><th class=\"text\">final outcomes (share of calls)</th><th>p99 per call</th>\
         <th>utilisation</th><th>cost</th></tr>\n",
    );
    for (name, v) in services {
        // A station's own latency is under stations.<name>; a service's is per call.
        let p99 = num(&v["latency_s"]["p99"]).or_else(|| num(&s["stations"][name]["latency_s"]["p99"]));
        let p99 = p99.map_or("—".into(), |x| {
            let (mul, unit) = latency_unit(x);
            format!("{}\u{a0}{unit}", sig(x * mul, 3))
        });
        let cost = num(&costs[name]).map_or("—".into(), |x| format!("{}\u{a0}USD", money(x)));
        let _ = writeln!(
            o,
            "<tr><td class=\"text name\" data-label=\"service\"><b>{}</b></td><td class=\"n\" data-label=\"slots\">{}</td>\
             <td class=\"n\" data-label=\"calls\">{}</td><td class=\"text\" data-label=\"final outcomes\">{}</td>\
             <td class=\"n\" data-label=\"p99 per call\">{p99}</td><td class=\"n\" data-label=\"utilisation\">{}</td><td class=\"n\" data-label=\"cost\">{cost}</td></tr>",
            esc(name),
            count(&v["servers"]),
            count(&v["calls"]),
            outcome_shares(&v["outcomes"]),
            percent(&v["utilization"])
        );
    }
    o.push_str(
        "</table>\n<p class=\"small muted\">A call is its first attempt and every retry, up to its final \
         outcome (before any fallback); p99 is per call as its caller sees it, retries and backoff \
         included (for a station, the time at it); utilisation is the time-averaged share of busy slots.</p>\n",
    );
    o
}

/// The model's alarms (only when it has some): condition, severity, how often and when each
/// fired, its time in ALARM and its worst datapoint.
fn alarms_table(s: &Value) -> String {
    let Some(alarms) = s["alarms"].as_object().filter(|m| !m.is_empty()) else { return String::new() };
    let mut o = String::from(
        "<h3>Alarms</h3>\n<table class=\"cards alarms\"><tr class=\"head\"><th class=\"text\">alarm</th>\
         <th class=\"text\">severity</th><th class=\"text\">condition</th><th>fired</th><th>first at</th>\
         <th>time in ALARM</th><th>worst datapoint</th></tr>\n",
    );
    for (name, a) in alarms {
        let fired = num(&a["fired"]).unwrap_or(0.0);
        let first = num(&a["first_start_s"]).map_or("—".into(), |t| format!("{}\u{a0}s", sig(t, 6)));
        let mut time = num(&a["time_in_alarm_s"]).map_or("—".into(), duration_words);
        if a["in_alarm_at_end"].as_bool() == Some(true) {
            time.push_str(" (still at the end)");
        }
        let peak = num(&a["peak"]).map_or("—".into(), |x| sig(x, 4));
        let row_style = if fired > 0.0 { " style=\"background:#fff4d6\"" } else { "" };
        let _ = writeln!(
            o,
            "<tr{row_style}><td class=\"text name\" data-label=\"alarm\"><b>{}</b></td>\
             <td class=\"text\" data-label=\"severity\">{}</td><td class=\"text\" data-label=\"condition\"><code>{}</code>{}</td>\
             <td class=\"n\" data-label=\"fired\">{}</td><td class=\"n\" data-label=\"first at\">{first}</td>\
             <td class=\"n\" data-label=\"time in ALARM\">{time}</td><td class=\"n\" data-label=\"worst datapoint\">{peak}</td></tr>",
            esc(name),
            esc(a["severity"].as_str().unwrap_or("")),
            esc(a["condition"].as_str().unwrap_or("")),
            a["description"].as_str().filter(|d| !d.is_empty()).map_or(String::new(), |d| format!("<br>{}", esc(d))),
            count(&a["fired"]),
        );
    }
    o.push_str(
        "</table>\n<p class=\"small muted\">Evaluated as CloudWatch does, on the windows after warm-up: each \
         period gives a datapoint; an alarm goes to ALARM at the end of the period that makes N of the last M \
         datapoints breach, and back to OK at the end of the one that leaves fewer; periods without data are \
         skipped. Every time in ALARM is in alarms.csv.</p>\n",
    );
    o
}

/// The non-zero outcomes of a service's calls as shares: `ok 97.1 %, timeout 2.9 %`.
fn outcome_shares(outcomes: &Value) -> String {
    let Some(m) = outcomes.as_object() else { return "—".into() };
    let total: f64 = m.values().filter_map(num).sum();
    if total <= 0.0 {
        return "no calls".into();
    }
    let parts: Vec<String> = m
        .iter()
        .filter_map(|(k, v)| num(v).filter(|&x| x > 0.0).map(|x| (k, x)))
        .map(|(k, x)| format!("{} {}", esc(k), percent(&Value::from(x / total))))
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_and_shares_read_well() {
        assert_eq!(count(&json!(318573)), "318,573");
        assert_eq!(count(&json!(999)), "999");
        assert_eq!(count(&json!(1000)), "1,000");
        assert_eq!(count(&Value::Null), "—");
        assert_eq!(percent(&json!(0.9999591946915433)), "> 99.9\u{a0}%");
        assert_eq!(percent(&json!(0.0)), "0\u{a0}%");
        assert_eq!(percent(&json!(1.0)), "100\u{a0}%");
        assert_eq!(percent(&json!(0.12345)), "12.3\u{a0}%");
        assert_eq!(percent(&json!(0.00001)), "< 0.01\u{a0}%");
        assert_eq!(outcome_shares(&json!({"ok": 97, "timeout": 3, "error": 0})), "ok 97\u{a0}%, timeout 3\u{a0}%");
    }

    #[test]
    fn a_summary_without_sections_gets_sentences_not_a_panic() {
        let html = run_headline(&json!({"model": "m"}));
        assert!(html.contains("no requests section"), "{html}");
        assert!(html.contains("no end-to-end latency"), "{html}");
        assert!(html.contains("no services"), "{html}");
        let html = run_headline(&json!("not an object"));
        assert!(html.contains("no requests section"), "{html}");
    }
}
