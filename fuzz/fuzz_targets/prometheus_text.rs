//! The Prometheus text reader `sluice top` uses on arbitrary pages: it must not panic, and
//! every sample it accepts, written out again, must read back the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::observe::exposition::{parse, Sample};

fn write(sample: &Sample) -> String {
    let mut line = sample.name.clone();
    if !sample.labels.is_empty() {
        let labels: Vec<String> = sample
            .labels
            .iter()
            .map(|(k, v)| {
                let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
                format!("{k}=\"{v}\"")
            })
            .collect();
        line += &format!("{{{}}}", labels.join(","));
    }
    let value = match sample.value {
        v if v.is_nan() => "NaN".to_owned(),
        v if v == f64::INFINITY => "+Inf".to_owned(),
        v if v == f64::NEG_INFINITY => "-Inf".to_owned(),
        v => v.to_string(),
    };
    format!("{line} {value}\n")
}

fuzz_target!(|data: &[u8]| {
    let Ok(page) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(samples) = parse(page) else {
        return;
    };
    for sample in samples {
        let line = write(&sample);
        let again = parse(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(again.len(), 1, "{line:?}");
        let again = &again[0];
        assert_eq!((&again.name, &again.labels), (&sample.name, &sample.labels));
        assert!(
            again.value == sample.value || (again.value.is_nan() && sample.value.is_nan()),
            "{line:?}"
        );
    }
});
