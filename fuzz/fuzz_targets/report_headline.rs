//! Fuzzes the run page's headline tables: any bytes that parse as JSON are read as a
//! summary.json by `capsim::report::headline::run_headline`, which `capsim report` calls on a
//! file it has only checked for its top-level fields. Any value of any type where a figure is
//! expected must give a page, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = capsim::report::headline::run_headline(&v);
    }
});
