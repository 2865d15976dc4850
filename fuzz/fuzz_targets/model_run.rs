//! Fuzzes loading then running: any model text that loads is run with `capsim::sim::run` and
//! its outputs built (`RunOutput::build`: summary, recovery, warnings), after clamping the run
//! to at most 1 simulated second, warm-up below that and at most 10,000 requests in flight.
//! `run.window` is deliberately left alone: a window count that grows without bound (duration /
//! window) is a bug class this target is meant to find.
#![no_main]

use capsim::engine::SimTime;
use libfuzzer_sys::fuzz_target;

const MAX_DURATION: SimTime = SimTime(1_000_000_000);
const MAX_IN_FLIGHT: u64 = 10_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut model) = capsim::model::load_str("fuzz.json", text, &[]) else { return };
    model.duration = model.duration.min(MAX_DURATION);
    if model.warmup >= model.duration {
        model.warmup = SimTime(model.duration.0 / 2);
    }
    model.max_in_flight = model.max_in_flight.min(MAX_IN_FLIGHT);
    let _ = capsim::report::output::RunOutput::build(&model, capsim::sim::run(&model));
});
