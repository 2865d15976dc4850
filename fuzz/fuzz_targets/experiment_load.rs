//! Fuzzes experiment loading: any bytes, read as UTF-8 experiment text, through
//! `capsim::experiment::load_text` as if the file sat in the bundled `experiments/` folder, so a
//! relative `"model": "../models/mmc.json"` resolves to a real bundled model and every point of
//! the sweep is expanded and checked. It must never panic, hang or allocate without bound.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static PATH: LazyLock<PathBuf> =
    LazyLock::new(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../experiments/fuzz.json"));

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = capsim::experiment::load_text(&PATH, text);
    }
});
