//! Bounds on every setting that multiplies work or memory, each with the reason. A file that
//! asks for more is refused with a message naming the limit, never run out of memory.

/// Longest simulated run [s]: 100 years. Simulated time is counted in whole nanoseconds in 64
/// bits, which covers 584 years; a century leaves room for timers set beyond the end.
pub const MAX_DURATION_S: f64 = 100.0 * 365.25 * 86_400.0;

/// Most time-series windows per run (run.duration / run.window). Each is a row of
/// timeseries.csv held in memory with one pair of figures per station: 100,000 rows stay in the
/// tens of MB, and a chart cannot show more points than it has pixels anyway.
pub const MAX_WINDOWS: f64 = 100_000.0;

/// Largest `run.max_in_flight`: every request, call attempt and branch in the system holds a slab
/// entry and maybe a queue place (about 200 bytes), so 20 million is about 4 GB per run.
pub const MAX_IN_FLIGHT: u64 = 20_000_000;

/// Most services and stations in one model: each carries counters, latency histograms and two
/// columns per time-series window, so 60,000 idle services took 4.4 GB and wrote an 839 MB
/// timeseries.csv. The seeds' whole chatbot has about 30; 2,000 leaves room for generated
/// models and keeps a run's fixed memory near 150 MB.
pub const MAX_SERVICES: usize = 2_000;

/// Most closed-loop users over all populations: each carries about 70 bytes of state in the
/// event list (the 1-million-user benchmark peaks at 72 MiB), so 10 million is about 0.7 GB.
pub const MAX_USERS: u64 = 10_000_000;

/// Highest arrival rate of one source [requests/s]: 10 million per second is 200 times the
/// seeds' Prime Day peak (50,000 messages/s); a typo such as 222222208 would otherwise mean a
/// billion events per simulated minute.
pub const MAX_RATE: f64 = 1e7;

/// Most tokens in one request's input, or in its output: 1 million, the largest context window of
/// the models the calibration sheet prices (a 1e308-token prompt was once billed $13.9 M for two
/// minutes). A token law whose mean or largest value is above it is refused; a rare draw above it
/// from an unbounded law (exponential, lognormal, gamma, normal) is cut to it, as no request can
/// carry more.
pub const MAX_TOKENS: u32 = 1_000_000;

/// Most steps of one `step` profile segment; each is a piece of the rate profile in memory.
pub const MAX_STEPS: u32 = 10_000;

/// Most values of one experiment parameter (a range, log range or list).
pub const MAX_VALUES: usize = 100_000;

/// Most points of one experiment: each holds a checked copy of the model.
pub const MAX_POINTS: usize = 100_000;

/// Most runs of one experiment (points × replications, counting run-length control's
/// maximum): one replication's figures are kept for every run.
pub const MAX_RUNS: u64 = 10_000_000;

/// Largest input file read whole (a model, an experiment) [bytes]: 16 MiB. The largest bundled
/// model is a few kB; a file past this is a mistake (`capsim run /dev/zero`), refused before it
/// fills memory.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// Reads a whole input file of at most [`MAX_INPUT_BYTES`], reading no more than that even from
/// a device or pipe whose size is unknown. The error is in the user's words.
pub fn read_bounded(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "the file is larger than {} MiB, the most capsim reads (is it the right file?)",
            MAX_INPUT_BYTES >> 20
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| format!("the file is not UTF-8 text (bad byte at offset {})", e.utf8_error().valid_up_to()))
}

/// Most worker threads a command may start: a thread per core is best, and 1,024 is beyond any
/// machine capsim runs on; each thread reserves a stack for its runs.
pub const MAX_THREADS: usize = 1024;

/// Most replications per configuration of `compare` and `capacity`: every replication's
/// summary is kept to form the intervals, and 10,000 already narrows an interval 30 times
/// more than the default 10.
pub const MAX_REPLICATIONS: usize = 10_000;

/// Most probes of one capacity search: a bisection halves its bracket each probe, so 200 is
/// far past double precision.
pub const MAX_PROBES: usize = 200;

/// Most simulated time one capacity search may run, over all its probes and replications [s]:
/// 10 years (about 3 × 10⁸ s). The default search (40 probes × 10 replications of a one-hour
/// model) uses 0.5 % of it; a search that varies `run.duration` stops doubling at about
/// 180 days per run instead of heading for the 100-year limit.
pub const MAX_SEARCH_SIMULATED_S: f64 = 10.0 * 365.25 * 86_400.0;

/// Most loads of one `capsim breakpoints` scan (`--points`, or the loads `--step` makes): each is
/// a model checked up front and a row per limit in points.csv; a finer grid than 1,000 points
/// resolves nothing a bisection (`capsim capacity`) would not find faster.
pub const MAX_BREAKPOINT_POINTS: usize = 1_000;

/// Most runs (loads × replications) of one breakpoints scan: each run's signals are kept until
/// the scan ends (a few hundred bytes per run), and the scan is meant to take minutes.
pub const MAX_BREAKPOINT_RUNS: u64 = 100_000;

/// Longest name used as a folder (model and experiment names, chart files).
pub const MAX_NAME_LEN: usize = 100;

/// Whether `name` may be used as a file or folder name inside capsim's output folder: letters,
/// digits, `_`, `-` and `.`, not starting with `.`, so it can never leave the folder (no `/`,
/// `\`, `..` or absolute path). Returns what is wrong otherwise.
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("must be at most {MAX_NAME_LEN} characters (it names an output folder)"));
    }
    if name.starts_with('.') || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(format!(
            "`{name}` is used as a folder or file name under output/, so it may use only letters, digits, `_`, `-` and `.` (not first); no `/`, `\\` or `..`"
        ));
    }
    Ok(())
}

/// Most datapoints an alarm may count (`datapoints` and `evaluation_periods` of a model's
/// `alarms` and of a fleet's scaling alarms): a day of one-minute periods. Each alarm keeps its
/// last M datapoints while the run is evaluated.
pub const MAX_DATAPOINTS: u32 = 1_440;

/// Most alarms in one model (`alarms`): each is a row of the alarm timeline chart and is
/// evaluated over every window of the run; CloudWatch's own default is a few per metric, and
/// seed 001's table has seven.
pub const MAX_ALARMS: usize = 200;

/// Most phases in `run.phases`: each request's arrival and end is checked against every phase,
/// and each keeps two latency histograms; a load test has a handful (ramp, hold, step-down).
pub const MAX_PHASES: usize = 32;

/// Shortest mean on or off period of throttle bursts [s]: a burst shorter than a millisecond is
/// no burst at all, and the process's periods are events of their own.
pub const MIN_BURST_S: f64 = 1e-3;

#[cfg(test)]
mod tests {
    use super::check_file_name;

    #[test]
    fn names_cannot_leave_the_output_folder() {
        assert!(check_file_name("mmc_servers-2.v1").is_ok());
        for bad in ["../../etc/evil", "/etc/evil", "..", ".hidden", "a/b", "a\\b", "", "x y"] {
            assert!(check_file_name(bad).is_err(), "{bad}");
        }
    }
}
