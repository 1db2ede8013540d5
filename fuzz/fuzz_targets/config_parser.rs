//! The configuration parser on arbitrary text: it must return a configuration or an error
//! that renders, never panic, and never take more than linear time.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::config::load::load_str;

fuzz_target!(|text: &str| {
    match load_str("fuzz.conf", text, true) {
        Ok(_) => {}
        Err((sources, error)) => {
            let _ = error.render(&sources);
        }
    }
});
