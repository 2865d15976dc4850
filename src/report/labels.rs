//! Axis labels in people's words with units, derived from a summary.json metric path or a
//! model parameter path (see docs/metrics.md for the meaning of each figure).

/// A label with unit for a summary.json metric, e.g. `latency_s.e2e.p99` → "p99 end-to-end
/// latency [s]"; unknown paths are returned as they are.
pub fn metric_label(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    let last = segs.last().copied().unwrap_or(path);
    let owner = if segs.len() >= 3 { format!(" at {}", segs[1]) } else { String::new() };
    let stat = |s: &str| match s {
        "mean" => "mean".to_string(),
        "max" => "maximum".to_string(),
        "p999" => "p99.9".to_string(),
        other => other.to_string(),
    };
    match segs.as_slice() {
        ["latency_s", "e2e", s] => format!("{} end-to-end latency [s]", stat(s)),
        ["latency_s", "by_class", c, s] => format!("{} latency of class {c} [s]", stat(s)),
        ["latency_s", "first_token", s] => format!("{} time to first token [s]", stat(s)),
        ["latency_s", "by_intent", i, s] => format!("{} latency of intent {i} [s]", stat(s)),
        ["stations", st, "latency_s", s] => format!("{} time at {st} [s]", stat(s)),
        ["cost_usd", "total"] => "cost over the measured period [USD]".into(),
        ["cost_usd", "per_hour"] => "cost [USD/h]".into(),
        ["cost_usd", "per_month"] => "cost per month at this rate [USD]".into(),
        ["cost_usd", "per_month_by_component", c] => format!("{c}: cost per month at this rate [USD]"),
        ["cost_usd", "per_1k_requests_by_component", c] => format!("{c}: cost [USD per 1,000 requests]"),
        ["cost_usd", "per_1k_requests"] => "cost [USD per 1,000 requests]".into(),
        ["cost_usd", "per_active_user_minute"] => "cost [USD per user-minute]".into(),
        ["requests", "throughput_per_s"] => "throughput [requests/s]".into(),
        ["requests", k] if k.ends_with("_share") => {
            format!("share of requests {} [fraction]", k.trim_end_matches("_share").replace('_', " "))
        }
        ["requests", k] => format!("requests {k} [count]"),
        _ => match last {
            "mean_wait_s" => format!("mean wait in queue{owner} [s]"),
            "mean_response_s" => format!("mean response time{owner} [s]"),
            "utilization" => format!("utilisation{owner} [fraction]"),
            "p_wait" => format!("probability of waiting{owner} [fraction]"),
            "mean_queue_len" => format!("mean queue length{owner} [requests]"),
            "throughput_per_s" => format!("throughput{owner} [requests/s]"),
            // A percentile of a duration (`…latency_s.first_token.p99`, `…init_s.p99`): seconds,
            // named by the figure it is of.
            _ if is_stat(last) && segs.iter().any(|s| s.ends_with("_s")) => {
                let of = segs[segs.len() - 2];
                let of = if of == "e2e" { "end-to-end latency".to_string() } else { words(of) };
                format!("{} {of}{owner} [s]", stat(last))
            }
            _ if segs.len() >= 2 => format!("{}{owner} {}", words(last), unit(last)),
            _ => path.to_string(),
        },
    }
}

/// Whether a field is a statistic of a distribution (a percentile, the mean or the maximum).
fn is_stat(field: &str) -> bool {
    matches!(field, "mean" | "max" | "p50" | "p90" | "p95" | "p99" | "p999")
}

/// A field name in words: `refused_share` → "refused share".
fn words(field: &str) -> String {
    let f = field.strip_suffix("_s").unwrap_or(field);
    f.replace('_', " ")
}

/// The unit of a field, guessed from its name (`[fraction]`, `[s]`, …, else `[count]`).
fn unit(field: &str) -> &'static str {
    if field.ends_with("share") || field.ends_with("ratio") {
        "[fraction]"
    } else if field.ends_with("_s") {
        "[s]"
    } else if field.ends_with("per_s") || field == "rate" {
        "[1/s]"
    } else if field.ends_with("usd") {
        "[USD]"
    } else {
        "[count]"
    }
}

/// A metric in words without its unit, for a legend: `latency_s.e2e.p99` → "p99 end-to-end
/// latency".
pub fn metric_words(path: &str) -> String {
    let label = metric_label(path);
    match label.rsplit_once(" [") {
        Some((words, _)) if label.ends_with(']') => words.to_string(),
        _ => label,
    }
}

/// A label with unit for a model parameter path, e.g. `sources.arrivals.rate` → "arrival
/// rate of arrivals [requests/s]"; unknown paths are returned as they are.
pub fn param_label(path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    match segs.as_slice() {
        ["sources", s, "rate"] => format!("arrival rate of source {s} [requests/s]"),
        ["stations", s, "servers"] => format!("servers at {s} [count]"),
        ["stations", s, "capacity"] => format!("waiting places at {s} [requests]"),
        ["sessions", s, "users"] => format!("users in {s} [count]"),
        ["run", "duration"] => "simulated time [s]".into(),
        [kind, s, field] if *kind == "services" || *kind == "stations" || *kind == "sources" => {
            format!("{} of {s} {}", words(field), unit(field))
        }
        [.., owner, field] => format!("{} of {owner} {}", words(field), unit(field)),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_units() {
        assert_eq!(metric_label("latency_s.e2e.p99"), "p99 end-to-end latency [s]");
        assert_eq!(metric_label("stations.server.mean_wait_s"), "mean wait in queue at server [s]");
        assert_eq!(param_label("sources.arrivals.rate"), "arrival rate of source arrivals [requests/s]");
        assert_eq!(metric_label("requests.rejected_share"), "share of requests rejected [fraction]");
        assert_eq!(metric_label("limits.per_user.refused_share"), "refused share at per_user [fraction]");
        assert_eq!(param_label("services.reranker.max_batch"), "max batch of reranker [count]");
        assert_eq!(metric_label("something"), "something");
        assert_eq!(metric_words("latency_s.e2e.p99"), "p99 end-to-end latency");
        // Percentiles of durations are in seconds wherever they sit, not counts.
        assert_eq!(metric_label("latency_s.first_token.p99"), "p99 time to first token [s]");
        assert_eq!(metric_label("phases.peak.latency_s.first_token.p99"), "p99 first token at peak [s]");
        assert_eq!(metric_label("services.reranker.latency_s.p99"), "p99 latency at reranker [s]");
        assert_eq!(metric_label("services.f.lambda.init_s.p99"), "p99 init at f [s]");
    }
}

/// `x` with `digits` significant digits for people: no trailing zeros, no `-0`, scientific
/// notation only for very large or very small magnitudes; "—" for a missing (non-finite) value.
pub fn sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if !(-4..9).contains(&mag) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" { "0".into() } else { s }
}

/// Seconds as a short duration: `2 h`, `10 min`, `90 s`.
pub fn duration_words(s: f64) -> String {
    match s {
        s if s >= 86_400.0 => format!("{} d", sig(s / 86_400.0, 3)),
        s if s >= 3600.0 => format!("{} h", sig(s / 3600.0, 3)),
        s if s >= 60.0 => format!("{} min", sig(s / 60.0, 3)),
        s => format!("{} s", sig(s, 3)),
    }
}

#[cfg(test)]
mod sig_tests {
    use super::sig;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(8.134765625, 4), "8.135");
        assert_eq!(sig(0.668731, 3), "0.669");
        assert_eq!(sig(1234567.0, 3), "1234567");
        assert_eq!(sig(2.0, 4), "2");
        assert_eq!(sig(-0.0, 4), "0");
        assert_eq!(sig(0.000012345, 3), "1.23e-5");
        assert_eq!(sig(f64::NAN, 3), "—");
    }
}
