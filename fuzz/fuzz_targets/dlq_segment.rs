//! The dead-letter queue's segment reader on arbitrary bytes (a corrupt or hostile file): it
//! must never panic; what it accepts must lie within the bytes, in order; and resuming after
//! any record it returned must yield exactly the records that followed it.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice::dlq::decode_segment;

fuzz_target!(|data: &[u8]| {
    let whole = Bytes::copy_from_slice(data);
    let Ok(read) = decode_segment(&whole, 1, 0) else {
        return;
    };
    assert!(read.valid_len as usize <= data.len());
    let mut previous = 0;
    for record in &read.records {
        assert!(previous < record.end && record.end <= read.valid_len);
        previous = record.end;
    }
    if let Some(first) = read.records.first() {
        let rest = whole.slice(first.end as usize..);
        let resumed = decode_segment(&rest, 1, first.end).expect("a suffix of accepted records");
        assert_eq!(resumed.records, read.records[1..]);
        assert_eq!(resumed.valid_len, read.valid_len);
    }
});
