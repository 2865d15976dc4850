//! The breakpoints chart's rows and words, from a scan's result: components in the order they
//! break, each with its first limit and first alarm, later limits, and those that held.

use super::crossing::How;
use super::{AlarmHit, Breakpoints, Crossing};
use crate::report::breakpoint_chart::{BreakRow, BreakpointChart, Found};
use crate::report::labels::sig;

fn found(h: How) -> Found {
    match h {
        How::Interpolated => Found::Interpolated,
        How::FirstPoint => Found::FirstPoint,
        How::LowestPoint => Found::LowestPoint,
    }
}

/// "NAME (SEV-2) fires at 120", or None.
fn alarm_text(a: Option<&AlarmHit>) -> Option<String> {
    a.map(|a| {
        let sev = if a.severity.is_empty() { String::new() } else { format!(" ({})", a.severity) };
        format!("alarm {}{sev} fires at {}", a.name, sig(a.load, 4))
    })
}

/// The load of a crossing in words: "at 83" (interpolated), "between 42 and 74" (found at a
/// load point), or "at or below 10" (already crossed at the lowest load).
fn at(c: &Crossing) -> String {
    match (c.how, c.load_below) {
        (How::FirstPoint, Some(b)) => format!("between {} and {}", sig(b, 4), sig(c.load, 4)),
        (How::LowestPoint, _) | (_, None) => format!("at or below {}", sig(c.load, 4)),
        (How::Interpolated, _) => format!("at {}", sig(c.load, 4)),
    }
}

/// The row of a component that crossed `mine` (its crossings, lowest load first).
fn broken_row(k: usize, mine: &[&Crossing], has_alarms: bool) -> BreakRow {
    let first = mine[0];
    let system = first.kind == "system";
    let alarm = match alarm_text(first.alarm.as_ref()) {
        Some(a) => format!(" · {a}"),
        None if has_alarms => " · no alarm watches it".into(),
        None => String::new(),
    };
    let later: Vec<String> = mine[1..].iter().map(|c| format!("{} {}", c.words, at(c))).collect();
    BreakRow {
        label: if system { first.component.clone() } else { format!("{k}. {} ({})", first.component, first.kind) },
        first: Some((first.load, found(first.how), format!("{} {}{alarm}", first.words, at(first)))),
        later: mine[1..].iter().map(|c| (c.load, found(c.how))).collect(),
        second: if later.is_empty() { String::new() } else { format!("then: {}", later.join("; ")) },
        first_of_all: k == 1 && !system,
        muted: system,
    }
}

/// The components that held, in words for the note under the chart: "Held to 10, no limit
/// crossed (3): a (service), b (cache; alarm x at 4), c (llm)." A model of thirty services keeps
/// its rows for what broke.
fn holding_words(b: &Breakpoints) -> String {
    if b.holding.is_empty() {
        return String::new();
    }
    let names: Vec<String> = b
        .holding
        .iter()
        .map(|h| match &h.alarm {
            Some(a) => format!("{} ({}; alarm {} at {})", h.component, h.kind, a.name, sig(a.load, 4)),
            None => format!("{} ({})", h.component, h.kind),
        })
        .collect();
    format!(
        "Held to {}, no limit crossed ({}): {}. ",
        sig(b.loads.last().copied().unwrap_or(f64::NAN), 4),
        names.len(),
        names.join(", ")
    )
}

/// The chart of `b`, its x axis labelled `x_label`; `files` names the crossings' and the
/// signals' CSV files beside it, for its note.
pub fn chart(b: &Breakpoints, x_label: &str, has_alarms: bool, files: (&str, &str)) -> BreakpointChart {
    let mut order: Vec<&str> = Vec::new();
    for c in &b.crossings {
        if !order.contains(&c.component.as_str()) {
            order.push(&c.component);
        }
    }
    // Components are numbered in the order they break; the whole system's row (a symptom of
    // some component's limit, not a component) keeps its place by load but takes no number.
    let mut k = 0;
    let mut rows: Vec<BreakRow> = order
        .iter()
        .map(|name| {
            let mine: Vec<&Crossing> = b.crossings.iter().filter(|c| c.component == *name).collect();
            if mine[0].kind != "system" {
                k += 1;
            }
            broken_row(k.max(1), &mine, has_alarms)
        })
        .collect();
    if !b.holding.is_empty() {
        rows.push(BreakRow {
            label: format!("held ({})", b.holding.len()),
            first: None,
            later: Vec::new(),
            second: format!(
                "{} components crossed no limit up to {}: listed under the chart",
                b.holding.len(),
                sig(b.loads.last().copied().unwrap_or(f64::NAN), 4)
            ),
            first_of_all: false,
            muted: false,
        });
    }
    if !b.system_alarms.is_empty() {
        let each: Vec<String> = b
            .system_alarms
            .iter()
            .map(|a| match a.load {
                Some(l) => format!("{} fires at {}", a.name, sig(l, 4)),
                None => format!("{} never fires", a.name),
            })
            .collect();
        rows.push(BreakRow {
            label: "alarms on run-wide columns".into(),
            first: None,
            later: Vec::new(),
            second: each.join("; "),
            first_of_all: false,
            muted: true,
        });
    }
    BreakpointChart {
        title: format!("{}: what breaks first as {} grows", b.model, b.vary),
        x_label: x_label.to_string(),
        loads: b.loads.clone(),
        rows,
        note: format!(
            "{}Each load: the mean over {} replications (seed {}, the same random numbers at every load). A limit is \
             crossed where its mean signal meets its threshold: interpolated between the last load below and the \
             first above where the signal moves smoothly, else the first load where it holds. {} lists every \
             crossing, {} every signal at every load.",
            holding_words(b),
            b.replications,
            b.seed,
            files.0,
            files.1
        ),
    }
}
