//! Elasticsearch's bulk answer as the output reads it, on arbitrary bodies: no panic, one
//! verdict per item sent, and what a well-formed answer's `errors` says decides, as a full
//! JSON parse reads it (the item list is only deserialised when it is true).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::outputs::elasticsearch::response::{parse, Verdict};
use sluice::outputs::elasticsearch::Action;

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let sent = usize::from(first % 8);
    let action = if first & 0x80 == 0 {
        Action::Index
    } else {
        Action::Create
    };
    let Ok(verdicts) = parse(body, action, sent) else {
        return;
    };
    assert_eq!(verdicts.len(), sent);
    // A well-formed answer naming `errors` once: what it says decides.
    let Ok(serde_json::Value::Object(answer)) = serde_json::from_slice(body) else {
        return;
    };
    let once = body.windows(8).filter(|w| w == b"\"errors\"").count() == 1;
    if once && answer.get("errors") == Some(&serde_json::Value::Bool(false)) {
        assert!(verdicts.iter().all(|v| *v == Verdict::Taken));
    }
    if once && answer.get("errors") == Some(&serde_json::Value::Bool(true)) && sent > 0 {
        let items = answer.get("items").and_then(|i| i.as_array());
        assert_eq!(items.map(Vec::len), Some(sent), "errors:true is read item by item");
    }
});
