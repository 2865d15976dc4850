//! The text outputs of a breakpoints scan: breakpoints.csv (every limit crossed, then every
//! component that held), points.csv (every signal at every load, so a reader can check a
//! crossing) and the table printed on stdout.

use std::fmt::Write as _;

use super::{Breakpoints, Crossing, Holding};
use crate::experiment::output::csv_field;
use crate::report::labels::sig;

/// A number as CSV writes it (full precision; empty when missing).
fn num(x: Option<f64>) -> String {
    x.filter(|x| x.is_finite()).map_or(String::new(), |x| x.to_string())
}

/// The first alarm's name, severity and load as CSV fields.
fn alarm_fields(a: Option<&super::AlarmHit>) -> String {
    match a {
        Some(a) => format!("{},{},{}", csv_field(&a.name), csv_field(&a.severity), num(Some(a.load))),
        None => ",,".into(),
    }
}

const CROSSINGS_HEADER: &str = "order,component,kind,limit,limit_words,metric,threshold,load,how,load_below,point_load,value_at_point,first_alarm,alarm_severity,alarm_load\n";

/// breakpoints.csv: each limit crossed, lowest load first; then each component that held,
/// with `how` = `holds` and its load the highest load run.
pub fn crossings_csv(b: &Breakpoints) -> String {
    let mut o = String::from(CROSSINGS_HEADER);
    for c in &b.crossings {
        let _ = writeln!(
            o,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.order,
            csv_field(&c.component),
            c.kind,
            c.limit,
            csv_field(&c.words),
            csv_field(&c.metric),
            c.threshold,
            num(Some(c.load)),
            c.how.words(),
            num(c.load_below),
            num(Some(c.point_load)),
            num(Some(c.value)),
            alarm_fields(c.alarm.as_ref())
        );
    }
    for h in &b.holding {
        let _ = writeln!(
            o,
            ",{},{},,holds to the highest load run,,,{},holds,,,,{}",
            csv_field(&h.component),
            h.kind,
            num(Some(h.holds_to)),
            alarm_fields(h.alarm.as_ref())
        );
    }
    o
}

/// points.csv: every limit's signal at every load (mean over replications, 95 % half-width,
/// replications with the figure, whether it meets the threshold).
pub fn points_csv(b: &Breakpoints) -> String {
    let mut o = String::from("load,component,limit,mean,ci95,n,holds\n");
    for p in &b.points {
        let _ = writeln!(
            o,
            "{},{},{},{},{},{},{}",
            num(Some(p.load)),
            csv_field(&p.component),
            p.limit,
            num(p.mean),
            num(p.ci95),
            p.n,
            p.holds
        );
    }
    o
}

fn alarm_words(a: Option<&super::AlarmHit>) -> String {
    a.map_or("—".into(), |a| {
        let sev = if a.severity.is_empty() { String::new() } else { format!(" ({})", a.severity) };
        format!("{}{sev} at {}", a.name, sig(a.load, 4))
    })
}

/// The load of a crossing as printed: "31.95" (interpolated), "50–60" (found at a load point:
/// it lies between the two), "≤ 10" (already crossed at the lowest load).
fn load_words(c: &Crossing) -> String {
    match (c.how, c.load_below) {
        (super::How::FirstPoint, Some(b)) => format!("{}–{}", sig(b, 4), sig(c.load, 4)),
        (super::How::Interpolated, _) => sig(c.load, 4),
        _ => format!("≤ {}", sig(c.load, 4)),
    }
}

fn row(c: &Crossing) -> String {
    format!(
        "{:>3}  {:<22} {:<20} {:<52} {:>10}  {:<18} {}",
        c.order,
        c.component,
        c.kind,
        c.words,
        load_words(c),
        c.how.words(),
        alarm_words(c.alarm.as_ref())
    )
}

fn holding_row(h: &Holding) -> String {
    format!("     {:<22} {:<20} holds to {}{}", h.component, h.kind, sig(h.holds_to, 4), {
        if h.alarm.is_some() { format!("  (alarm {})", alarm_words(h.alarm.as_ref())) } else { String::new() }
    })
}

/// The table printed on stdout.
pub fn table(b: &Breakpoints) -> String {
    let mut o = format!(
        "what breaks first as {} grows from {} to {} ({} points × {} replications, seed {})\n",
        b.vary,
        sig(b.loads.first().copied().unwrap_or(f64::NAN), 6),
        sig(b.loads.last().copied().unwrap_or(f64::NAN), 6),
        b.loads.len(),
        b.replications,
        b.seed
    );
    let _ = writeln!(
        o,
        "{:>3}  {:<22} {:<20} {:<52} {:>10}  {:<18} first alarm",
        "#", "component", "kind", "limit", "load", "how found"
    );
    b.crossings.iter().for_each(|c| o.push_str(&(row(c) + "\n")));
    b.holding.iter().for_each(|h| o.push_str(&(holding_row(h) + "\n")));
    for a in &b.system_alarms {
        let at = a.load.map_or("never fires".into(), |l| format!("fires at {}", sig(l, 4)));
        let _ = writeln!(o, "     alarm {} ({}) on a run-wide column: {at}", a.name, a.severity);
    }
    o
}
