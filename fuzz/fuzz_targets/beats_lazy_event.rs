//! Beats events on arbitrary payloads: the one-pass check accepts exactly what the decoder
//! accepts, and a lazy event (JSON kept as bytes) is the event built as a tree: same fields,
//! same metadata, and the bytes written from it are the bytes the tree encodes to.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice::event::json::{decode_object, encode_event, encode_object};
use sluice::event::json_check::check_object;
use sluice::inputs::beats::event::{EventBuilder, EventOptions};
use sluice::inputs::beats::frame::Payload;

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let checked = check_object(data);
    assert_eq!(
        checked.is_some(),
        decode_object(&input).is_ok(),
        "the check and the decoder disagree"
    );
    let builder = EventBuilder::new("192.0.2.1:5044".parse().unwrap(), EventOptions::default());
    let lazy = builder.build(Payload::Json(input.clone()));
    let eager = builder.build_tree(Payload::Json(input));
    let (lazy, eager) = match (lazy, eager) {
        (Ok(lazy), Ok(eager)) => (lazy, eager),
        (Err(a), Err(b)) => return assert_eq!(a, b),
        (a, b) => panic!("lazy {:?}, tree {:?}", a.err(), b.err()),
    };
    if lazy.raw_json().is_none() {
        return;
    }
    if let Some(checked) = checked.filter(|c| c.canonical) {
        // Canonical: the tree encodes back to the very bytes that were checked.
        let mut again = Vec::new();
        encode_object(
            &decode_object(&Bytes::copy_from_slice(data)).unwrap(),
            &mut again,
        );
        assert_eq!(again, data, "{checked:?}");
    }
    let (mut from_bytes, mut from_tree) = (Vec::new(), Vec::new());
    encode_event(&lazy, &mut from_bytes);
    encode_event(&eager, &mut from_tree);
    assert_eq!(lazy.fields(), eager.fields());
    assert_eq!(lazy.metadata(), eager.metadata());
    assert_eq!(
        String::from_utf8_lossy(&from_bytes),
        String::from_utf8_lossy(&from_tree)
    );
});
