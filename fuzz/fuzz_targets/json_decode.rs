//! The JSON decoder on arbitrary bytes: it must never panic, must point its errors inside
//! the input, and whatever it accepts must survive the encoder and decode to the same tree.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice::event::json::{decode_object, decode_value, encode_value};
use sluice::event::Value;

fuzz_target!(|data: &[u8]| {
    let input = Bytes::copy_from_slice(data);
    let decoded = decode_value(&input);
    match (&decoded, decode_object(&input)) {
        (Ok(Value::Object(a)), Ok(b)) => assert_eq!(*a, b),
        (Ok(Value::Object(_)), Err(e)) => panic!("decode_object refused an object: {e}"),
        (_, Ok(_)) => panic!("decode_object accepted what is not an object"),
        (_, Err(_)) => {}
    }
    match decoded {
        Ok(value) => {
            let mut out = Vec::new();
            encode_value(&value, &mut out);
            let again = decode_value(&Bytes::from(out)).expect("encoded JSON decodes");
            assert_eq!(again, value);
        }
        Err(e) => assert!(e.offset <= data.len(), "{e} beyond {} bytes", data.len()),
    }
});
