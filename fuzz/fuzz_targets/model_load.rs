//! Fuzzes model loading: any bytes, read as UTF-8 model text, through `capsim::model::load_str`
//! (JSON syntax, duplicate keys, types, every semantic check, error locations). It must return
//! `Ok` or `Err`, never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = capsim::model::load_str("fuzz.json", text, &[]);
    }
});
