//! The `date` filter's parsers on arbitrary text: none may panic, and what a parser
//! accepts must survive being printed and read again (a Joda pattern through its own
//! formatter, ISO 8601 through the timestamp writer).

#![no_main]

use chrono::{Datelike, Timelike};
use libfuzzer_sys::fuzz_target;
use sluice::event::date_parse::{
    parse_iso8601, parse_tai64n, parse_unix, parse_unix_ms, JodaParser, Zone,
};
use sluice::event::joda::JodaFormat;
use sluice::event::write_timestamp;

/// Patterns whose every field is printed, so printing and reading again is exact (to the
/// millisecond Joda formats keep).
const ROUND_TRIP: [&str; 4] = [
    "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
    "dd/MMM/yyyy:HH:mm:ss.SSS ZZ",
    "EEEE, MMMM d yyyy h:mm:ss.SSS a Z",
    "yyyyMMddHHmmssSSS",
];

/// Patterns that lose information or guess it; they only must not panic.
const OTHERS: [&str; 6] = [
    "MMM dd HH:mm:ss",
    "dd.MM.yy HH:mm",
    "yyyy-DDD kk:mm ZZZ",
    "xxxx-'W'ww-e",
    "yyyy-MM-dd HH:mm z",
    "yyyyyyyyyyyyyyyyyyyy",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let paris = Zone::parse("Europe/Paris").unwrap();
    let _ = parse_unix(text);
    let _ = parse_unix_ms(text);
    let _ = parse_tai64n(text);
    for pattern in OTHERS {
        let parser = JodaParser::new(&JodaFormat::compile(pattern).unwrap()).unwrap();
        let _ = parser.parse(text, paris, now);
    }
    for pattern in ROUND_TRIP {
        let format = JodaFormat::compile(pattern).unwrap();
        let parser = JodaParser::new(&format).unwrap();
        // The formatter prints in UTC, so read zone-less text in UTC too.
        let Some(ts) = parser.parse(text, Zone::UTC, now) else {
            continue;
        };
        let printed = format.format_to_string(&ts);
        let again = parser.parse(&printed, Zone::UTC, now);
        let millis = ts.with_nanosecond(ts.nanosecond() / 1_000_000 * 1_000_000);
        assert_eq!(again, millis, "{pattern}: {text:?} printed as {printed:?}");
    }
    if let Some(ts) = parse_iso8601(text, paris) {
        if (0..=9999).contains(&ts.year()) {
            let mut printed = String::new();
            write_timestamp(&ts, &mut printed);
            assert_eq!(parse_iso8601(&printed, paris), Some(ts), "{text:?} as {printed:?}");
        }
    }
});
