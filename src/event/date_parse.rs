//! Parsing dates, as Logstash's `date` filter does: Joda-Time patterns (by walking the
//! [`Token`]s of a [`JodaFormat`] compiled once), `ISO8601`, `UNIX`, `UNIX_MS` and `TAI64N`.
//!
//! Every parser returns an instant, or `None` when the text does not fit; which formats to
//! try, in which order, and what to do on failure is the filter's business.
//!
//! Sluice keeps the digits it is given: fractions of a second are kept to the nanosecond,
//! where Logstash (Joda-Time) truncates them to milliseconds.

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;

use super::joda::{Field, JodaFormat, TextField, Token, DAYS, MONTHS};
use super::Timestamp;

/// The zone in which a date without an offset of its own is read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

impl Zone {
    pub const UTC: Zone = Zone::Named(Tz::UTC);

    /// An IANA zone name (`Europe/Paris`, `UTC`) or a fixed offset (`+01:00`, `-0500`, `Z`),
    /// the forms Joda-Time's `DateTimeZone.forID` accepts.
    pub fn parse(name: &str) -> Option<Zone> {
        if let Ok(tz) = name.parse::<Tz>() {
            return Some(Zone::Named(tz));
        }
        let mut cursor = Cursor::new(name);
        let offset = cursor.offset()?;
        cursor.at_end().then_some(Zone::Fixed(offset))
    }

    /// The instant of a local date and time in this zone. In a daylight-saving overlap the
    /// earlier instant wins, as in Joda-Time; a time skipped by a gap does not exist.
    fn resolve(self, local: &NaiveDateTime) -> Option<Timestamp> {
        fn utc<Z: TimeZone>(result: LocalResult<DateTime<Z>>) -> Option<Timestamp> {
            result.earliest().map(|t| t.with_timezone(&Utc))
        }
        match self {
            Zone::Fixed(offset) => utc(offset.from_local_datetime(local)),
            Zone::Named(tz) => utc(tz.from_local_datetime(local)),
        }
    }
}

/// A Joda-Time pattern ready to parse with.
#[derive(Clone, Debug)]
pub struct JodaParser {
    tokens: Vec<Token>,
    /// Whether the pattern names a year; without one the year is guessed from the clock.
    has_year: bool,
}

impl JodaParser {
    /// Checks that every token of `format` can be parsed, not only printed.
    pub fn new(format: &JodaFormat) -> Result<JodaParser, String> {
        let mut has_year = false;
        for token in format.tokens() {
            match token {
                Token::Number {
                    field: Field::CenturyOfEra | Field::NanoOfSecond,
                    ..
                } => return Err("centuries (`C`) cannot be parsed".to_owned()),
                Token::Number {
                    field: Field::Year | Field::YearOfEra | Field::Weekyear,
                    ..
                }
                | Token::TwoDigitYear(_) => has_year = true,
                _ => {}
            }
        }
        Ok(JodaParser {
            tokens: format.tokens().to_vec(),
            has_year,
        })
    }

    /// Parses all of `text`. `zone` applies when the text has no offset or zone of its own;
    /// `now` supplies the year when the pattern has none.
    ///
    /// Year guessing follows Logstash: the current year, except that a December date read
    /// in January belongs to last year and a January date read in December to next year.
    pub fn parse(&self, text: &str, zone: Zone, now: Timestamp) -> Option<Timestamp> {
        let mut fields = Fields::default();
        let mut cursor = Cursor::new(text);
        for (i, token) in self.tokens.iter().enumerate() {
            // Joda reads a year greedily unless a number follows it directly.
            let number_follows = matches!(
                self.tokens.get(i + 1),
                Some(Token::Number { .. } | Token::TwoDigitYear(_) | Token::Fraction { .. })
            );
            fields.read(token, &mut cursor, number_follows, now.year())?;
        }
        if !cursor.at_end() {
            return None;
        }
        if !self.has_year {
            let month = fields.month.unwrap_or(1);
            fields.year = Some(match (month, now.month()) {
                (12, 1) => now.year() - 1,
                (1, 12) => now.year() + 1,
                _ => now.year(),
            });
        }
        let local = fields.local()?;
        match fields.zone {
            Some(own) => own.resolve(&local),
            None => zone.resolve(&local),
        }
    }
}

/// The calendar fields a pattern has read so far.
#[derive(Default)]
struct Fields {
    year: Option<i32>,
    year_of_era: Option<i32>,
    before_christ: bool,
    weekyear: Option<i32>,
    week: Option<u32>,
    day_of_week: Option<u32>,
    day_of_year: Option<u32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    /// 0 to 11, combined with `pm`.
    hour_of_halfday: Option<u32>,
    pm: bool,
    minute: u32,
    second: u32,
    nanos: u32,
    zone: Option<Zone>,
}

impl Fields {
    fn read(
        &mut self,
        token: &Token,
        cursor: &mut Cursor,
        number_follows: bool,
        this_year: i32,
    ) -> Option<()> {
        match token {
            Token::Literal(text) => cursor.literal(text),
            Token::Number {
                field, min_digits, ..
            } => {
                let count = usize::from(*min_digits);
                let year_digits = if number_follows { count } else { 9 };
                // Joda's widest defaults per field; a longer run of letters allows more.
                let (max, signed) = match field {
                    Field::Year | Field::YearOfEra | Field::Weekyear => (year_digits, true),
                    Field::DayOfYear => (3, false),
                    Field::DayOfWeek => (1, false),
                    _ => (2, false),
                };
                let value = cursor.number(max.max(count), signed)?;
                let small = u32::try_from(value).ok();
                match field {
                    Field::Year => self.year = Some(i32::try_from(value).ok()?),
                    Field::YearOfEra => self.year_of_era = Some(i32::try_from(value).ok()?),
                    Field::Weekyear => self.weekyear = Some(i32::try_from(value).ok()?),
                    Field::WeekOfWeekyear => self.week = small,
                    Field::DayOfWeek => self.day_of_week = small,
                    Field::DayOfYear => self.day_of_year = small,
                    Field::Month => self.month = small,
                    Field::DayOfMonth => self.day = small,
                    Field::HourOfDay => self.hour = Some(in_range(small?, 0, 23)?),
                    Field::ClockhourOfDay => self.hour = Some(in_range(small?, 1, 24)? % 24),
                    Field::HourOfHalfday => self.hour_of_halfday = Some(in_range(small?, 0, 11)?),
                    Field::ClockhourOfHalfday => {
                        self.hour_of_halfday = Some(in_range(small?, 1, 12)? % 12)
                    }
                    Field::Minute => self.minute = in_range(small?, 0, 59)?,
                    Field::Second => self.second = in_range(small?, 0, 59)?,
                    Field::CenturyOfEra | Field::NanoOfSecond => return None,
                }
                Some(())
            }
            Token::TwoDigitYear(field) => {
                let start = cursor.rest;
                let value = cursor.number(if number_follows { 2 } else { 9 }, true)?;
                let digits = start.len() - cursor.rest.len();
                let year = if digits == 2 && !start.starts_with(['-', '+']) {
                    two_digit_year(value as i32, this_year)
                } else if number_follows {
                    return None;
                } else {
                    // Joda's lenient two-digit year: anything but two digits is the year.
                    i32::try_from(value).ok()?
                };
                match field {
                    Field::Weekyear => self.weekyear = Some(year),
                    _ => self.year = Some(year),
                }
                Some(())
            }
            Token::Text { field, .. } => {
                match field {
                    TextField::Month => self.month = Some(cursor.name(&MONTHS)? + 1),
                    TextField::DayOfWeek => self.day_of_week = Some(cursor.name(&DAYS)? + 1),
                    TextField::Halfday => self.pm = cursor.name(&["AM", "PM"])? == 1,
                    TextField::Era => {
                        self.before_christ = cursor.name(&["AD", "BC"])? == 1;
                    }
                }
                Some(())
            }
            Token::Fraction { .. } => {
                // Joda reads up to nine digits whatever the number of `S`.
                self.nanos = cursor.fraction(9)?;
                Some(())
            }
            Token::Offset { .. } => {
                self.zone = Some(Zone::Fixed(cursor.offset()?));
                Some(())
            }
            Token::ZoneId => {
                self.zone = Some(cursor.zone_id()?);
                Some(())
            }
            Token::ZoneName { .. } => {
                self.zone = Some(cursor.zone_abbreviation()?);
                Some(())
            }
        }
    }

    fn local(&self) -> Option<NaiveDateTime> {
        let year = match (self.year, self.year_of_era) {
            (_, Some(y)) if self.before_christ => 1 - y,
            (_, Some(y)) => y,
            (Some(y), None) => y,
            (None, None) => 1970,
        };
        let date = if let (Some(weekyear), Some(week)) = (self.weekyear, self.week) {
            let weekday = chrono::Weekday::try_from(
                u8::try_from(self.day_of_week.unwrap_or(1))
                    .ok()?
                    .checked_sub(1)?,
            )
            .ok()?;
            NaiveDate::from_isoywd_opt(weekyear, week, weekday)?
        } else if let (Some(day_of_year), None) = (self.day_of_year, self.month) {
            NaiveDate::from_yo_opt(year, day_of_year)?
        } else {
            NaiveDate::from_ymd_opt(year, self.month.unwrap_or(1), self.day.unwrap_or(1))?
        };
        let hour = match (self.hour, self.hour_of_halfday) {
            (Some(h), _) => h,
            (None, Some(h)) => h + if self.pm { 12 } else { 0 },
            (None, None) => 0,
        };
        let time = NaiveTime::from_hms_nano_opt(hour, self.minute, self.second, self.nanos)?;
        Some(date.and_time(time))
    }
}

fn in_range(value: u32, min: u32, max: u32) -> Option<u32> {
    (min..=max).contains(&value).then_some(value)
}

/// Joda reads two-digit years into the century around a pivot thirty years back:
/// from 80 years ago to 19 years ahead.
fn two_digit_year(two_digits: i32, this_year: i32) -> i32 {
    let low = this_year - 80;
    let candidate = low - low.rem_euclid(100) + two_digits;
    if candidate < low {
        candidate + 100
    } else {
        candidate
    }
}

/// Reads a string from left to right.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor { rest: text }
    }

    fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.rest.as_bytes().first().copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.rest = &self.rest[1..];
            true
        } else {
            false
        }
    }

    /// Literal text, in any case (Joda compares literals ignoring case).
    fn literal(&mut self, text: &str) -> Option<()> {
        let head = self.rest.get(..text.len())?;
        if !head.eq_ignore_ascii_case(text) {
            return None;
        }
        self.rest = &self.rest[text.len()..];
        Some(())
    }

    /// At least one and at most `max` ASCII digits, after a `-` or `+` when `signed`.
    fn number(&mut self, max: usize, signed: bool) -> Option<i64> {
        let negative = signed && self.eat(b'-');
        if signed && !negative {
            self.eat(b'+');
        }
        let digits = self.digits(max)?;
        // A long run of pattern letters allows more digits than an `i64` holds.
        let mut value: i64 = 0;
        for d in digits.bytes() {
            value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
        }
        Some(if negative { -value } else { value })
    }

    fn digits(&mut self, max: usize) -> Option<&'a str> {
        let len = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return None;
        }
        let (digits, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(digits)
    }

    /// Exactly `n` digits.
    fn fixed(&mut self, n: usize) -> Option<u32> {
        let digits = self.digits(n)?;
        if digits.len() != n {
            return None;
        }
        digits.parse().ok()
    }

    /// Digits of a fraction as nanoseconds: up to `max` are read; further digits are
    /// consumed but beyond nanoseconds.
    fn fraction(&mut self, max: usize) -> Option<u32> {
        let digits = self.digits(max)?;
        let kept = &digits[..digits.len().min(9)];
        let mut nanos: u32 = kept.parse().ok()?;
        for _ in kept.len()..9 {
            nanos *= 10;
        }
        Some(nanos)
    }

    /// The English name (or its first three letters) of one of `names`, in any case;
    /// its index.
    fn name(&mut self, names: &[&str]) -> Option<u32> {
        // The full name first, so that `May` and `June` are not cut short.
        for (i, name) in names.iter().enumerate() {
            if self.literal(name).is_some() {
                return Some(i as u32);
            }
        }
        for (i, name) in names.iter().enumerate() {
            if name.len() > 3 && self.literal(&name[..3]).is_some() {
                return Some(i as u32);
            }
        }
        None
    }

    /// `Z`, or `+HH`, `+HHmm`, `+HH:mm` (and `-`). Joda takes `z` for `Z` too.
    fn offset(&mut self) -> Option<FixedOffset> {
        if self.eat(b'Z') || self.eat(b'z') {
            return FixedOffset::east_opt(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let hours = self.fixed(2)?;
        let colon = self.eat(b':');
        let minutes = if colon || self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.fixed(2)?
        } else {
            0
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32)
    }

    /// The longest IANA zone id at the cursor (Joda's `ZZZ`).
    fn zone_id(&mut self) -> Option<Zone> {
        let len = self
            .rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'))
            .count();
        for end in (1..=len).rev() {
            if let Ok(tz) = self.rest[..end].parse::<Tz>() {
                self.rest = &self.rest[end..];
                return Some(Zone::Named(tz));
            }
        }
        None
    }

    /// The zone abbreviations Joda-Time parses for `z`: UTC and the North American zones.
    fn zone_abbreviation(&mut self) -> Option<Zone> {
        const NAMES: [(&str, i32); 11] = [
            ("UTC", 0),
            ("GMT", 0),
            ("UT", 0),
            ("EST", -5),
            ("EDT", -4),
            ("CST", -6),
            ("CDT", -5),
            ("MST", -7),
            ("MDT", -6),
            ("PST", -8),
            ("PDT", -7),
        ];
        let (name, hours) = NAMES.iter().find(|(name, _)| self.rest.starts_with(name))?;
        self.rest = &self.rest[name.len()..];
        Some(Zone::Fixed(FixedOffset::east_opt(hours * 3600)?))
    }
}

/// Logstash's `ISO8601`: ISO 8601 in its extended form (`2026-11-24`, `2026-11-24T16:07`,
/// `2026-11-24T16:07:04.123+01:00`, ordinal `2026-328` and week dates `2026-W48-2`, a
/// fraction with `.` or `,` on the last time field present), and the casual
/// `2026-11-24 16:07:04.123` with a space, whose fraction Logstash requires. Without an
/// offset the date is read in `zone`.
pub fn parse_iso8601(text: &str, zone: Zone) -> Option<Timestamp> {
    let mut cursor = Cursor::new(text);
    let date = iso_date(&mut cursor)?;
    let mut time = NaiveTime::MIN;
    let mut offset = None;
    // Joda reads the `T` in either case.
    if cursor.eat(b'T') || cursor.eat(b't') {
        if cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
            time = iso_time(&mut cursor)?;
        }
        if !cursor.at_end() {
            offset = Some(cursor.offset()?);
        }
    } else if cursor.eat(b' ') {
        time = casual_time(&mut cursor)?;
        if !cursor.at_end() {
            offset = Some(cursor.offset()?);
        }
    }
    if !cursor.at_end() {
        return None;
    }
    let local = date.and_time(time);
    match offset {
        Some(offset) => Zone::Fixed(offset).resolve(&local),
        None => zone.resolve(&local),
    }
}

fn iso_date(cursor: &mut Cursor) -> Option<NaiveDate> {
    let year = cursor.fixed(4)? as i32;
    if !cursor.eat(b'-') {
        return NaiveDate::from_ymd_opt(year, 1, 1);
    }
    if cursor.eat(b'W') {
        let week = cursor.fixed(2)?;
        let day = if cursor.eat(b'-') {
            cursor.fixed(1)?
        } else {
            1
        };
        let weekday = chrono::Weekday::try_from(u8::try_from(day.checked_sub(1)?).ok()?).ok()?;
        return NaiveDate::from_isoywd_opt(year, week, weekday);
    }
    let digits = cursor.digits(3)?;
    match digits.len() {
        3 => NaiveDate::from_yo_opt(year, digits.parse().ok()?),
        2 => {
            let month = digits.parse().ok()?;
            let day = if cursor.eat(b'-') {
                cursor.fixed(2)?
            } else {
                1
            };
            NaiveDate::from_ymd_opt(year, month, day)
        }
        _ => None,
    }
}

/// `HH[:mm[:ss]]`, the last field present with an optional decimal fraction.
fn iso_time(cursor: &mut Cursor) -> Option<NaiveTime> {
    let hour = cursor.fixed(2)?;
    let mut fields = [hour, 0, 0];
    let mut unit_nanos = 3_600_000_000_000u64;
    for (i, unit) in [(1, 60_000_000_000u64), (2, 1_000_000_000)] {
        if !cursor.eat(b':') {
            break;
        }
        fields[i] = cursor.fixed(2)?;
        unit_nanos = unit;
    }
    let mut extra_nanos = 0u64;
    if cursor.eat(b'.') || cursor.eat(b',') {
        let nanos = u64::from(cursor.fraction(usize::MAX)?);
        // A fraction of an hour or minute, counted in nanoseconds of that unit.
        extra_nanos = nanos * (unit_nanos / 1_000_000_000);
    }
    let [h, m, s] = fields;
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let base = u64::from(h * 3600 + m * 60 + s) * 1_000_000_000 + extra_nanos;
    let secs = u32::try_from(base / 1_000_000_000).ok()?;
    NaiveTime::from_num_seconds_from_midnight_opt(secs, (base % 1_000_000_000) as u32)
}

/// `HH:mm:ss.SSS` or `HH:mm:ss,SSS`.
fn casual_time(cursor: &mut Cursor) -> Option<NaiveTime> {
    let hour = cursor.fixed(2)?;
    cursor.literal(":")?;
    let minute = cursor.fixed(2)?;
    cursor.literal(":")?;
    let second = cursor.fixed(2)?;
    if !(cursor.eat(b'.') || cursor.eat(b',')) {
        return None;
    }
    let nanos = cursor.fraction(9)?;
    NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
}

/// Logstash refuses epoch seconds past 2038-01-19, the largest 32-bit `time_t`.
const MAX_EPOCH_SECONDS: i64 = i32::MAX as i64;

/// `UNIX` on text: whole seconds since 1970, optionally with a fraction after a dot.
///
/// As in Logstash, the fraction is added to the seconds whatever their sign (`-1.5` is
/// half a second before 1970), and digits past the fraction's ninth are ignored.
pub fn parse_unix(text: &str) -> Option<Timestamp> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let seconds = parse_long(whole)?;
    if seconds > MAX_EPOCH_SECONDS {
        return None;
    }
    let nanos = match fraction {
        None | Some("") => 0,
        Some(digits) => {
            let mut cursor = Cursor::new(digits);
            let nanos = cursor.fraction(usize::MAX)?;
            if !cursor.at_end() {
                return None;
            }
            nanos
        }
    };
    DateTime::from_timestamp(seconds, 0)?
        .checked_add_signed(chrono::Duration::nanoseconds(i64::from(nanos)))
}

/// `UNIX` on a number of seconds.
pub fn unix_seconds(seconds: f64) -> Option<Timestamp> {
    if !seconds.is_finite() || seconds > MAX_EPOCH_SECONDS as f64 {
        return None;
    }
    // Logstash keeps milliseconds of a floating-point number of seconds.
    DateTime::from_timestamp_millis((seconds * 1000.0) as i64)
}

/// `UNIX_MS` on text: whole milliseconds since 1970.
pub fn parse_unix_ms(text: &str) -> Option<Timestamp> {
    DateTime::from_timestamp_millis(parse_long(text)?)
}

/// Java's `Long.parseLong`: an optional sign and decimal digits.
fn parse_long(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `TAI64N`: an optional `@`, 16 hex digits of TAI seconds (offset by 2^62) and 8 of
/// nanoseconds. Like Logstash, ten seconds are taken off for the TAI−UTC difference of 1972,
/// whatever the date, and anything after the 24 digits is ignored.
pub fn parse_tai64n(text: &str) -> Option<Timestamp> {
    let hex = text.strip_prefix('@').unwrap_or(text);
    let seconds = hex.get(..16)?;
    let nanos = hex.get(16..24)?;
    if !(seconds.bytes().chain(nanos.bytes())).all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let seconds = i64::from_str_radix(seconds, 16).ok()? & ((1 << 62) - 1);
    let nanos = u32::from_str_radix(nanos, 16).ok()?;
    if nanos >= 1_000_000_000 {
        return None;
    }
    DateTime::from_timestamp(seconds - 10, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Timestamp {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn joda(pattern: &str, text: &str) -> Option<Timestamp> {
        joda_in(pattern, text, Zone::UTC)
    }

    fn joda_in(pattern: &str, text: &str, zone: Zone) -> Option<Timestamp> {
        let format = JodaFormat::compile(pattern).unwrap();
        JodaParser::new(&format)
            .unwrap()
            .parse(text, zone, utc("2026-11-24T16:07:04Z"))
    }

    #[test]
    fn logstash_patterns() {
        let cases = [
            (
                "yyyy-MM-dd HH:mm:ss,SSS",
                "2026-03-05 01:02:03,456",
                "2026-03-05T01:02:03.456Z",
            ),
            (
                "dd/MMM/yyyy:HH:mm:ss Z",
                "05/Mar/2026:01:02:03 -0700",
                "2026-03-05T08:02:03Z",
            ),
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                "2026-03-05T01:02:03.456+01:00",
                "2026-03-05T00:02:03.456Z",
            ),
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                "2026-03-05T01:02:03.456Z",
                "2026-03-05T01:02:03.456Z",
            ),
            (
                "EEE MMM dd HH:mm:ss yyyy",
                "Thu Mar 05 01:02:03 2026",
                "2026-03-05T01:02:03Z",
            ),
            (
                "EEEE, MMMM d, yyyy h:mm a",
                "thursday, MARCH 5, 2026 1:02 pm",
                "2026-03-05T13:02:00Z",
            ),
            ("yyyyMMddHHmmss", "20260305010203", "2026-03-05T01:02:03Z"),
            ("dd.MM.yy", "05.03.26", "2026-03-05T00:00:00Z"),
            ("dd.MM.yy", "05.03.47", "1947-03-05T00:00:00Z"),
            ("dd.MM.yy", "05.03.45", "2045-03-05T00:00:00Z"),
            ("yyyy-DDD", "2026-064", "2026-03-05T00:00:00Z"),
            (
                "yyyy-MM-dd HH:mm:ss.SSS",
                "2026-03-05 01:02:03.123456789",
                "2026-03-05T01:02:03.123456789Z",
            ),
            (
                "yyyy-MM-dd HH:mm ZZZ",
                "2026-07-01 12:00 Europe/Paris",
                "2026-07-01T10:00:00Z",
            ),
            (
                "yyyy-MM-dd HH:mm z",
                "2026-07-01 12:00 PDT",
                "2026-07-01T19:00:00Z",
            ),
            (
                "yyyy-MM-dd hh a",
                "2026-07-01 12 AM",
                "2026-07-01T00:00:00Z",
            ),
            ("yyyy-MM-dd kk", "2026-07-01 24", "2026-07-01T00:00:00Z"),
            ("xxxx-'W'ww-e", "2026-W10-4", "2026-03-05T00:00:00Z"),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                joda(pattern, text),
                Some(utc(expected)),
                "{pattern} on {text}"
            );
        }
    }

    #[test]
    fn joda_failures() {
        let cases = [
            ("yyyy-MM-dd", "2026-03-05 trailing"),
            ("yyyy-MM-dd", "2026-13-05"),
            ("yyyy-MM-dd", "2026-02-30"),
            ("yyyy-MM-dd", "2026/03/05"),
            ("HH:mm", "24:00"),
            ("HH:mm", "12:60"),
            ("MMM dd", "Foo 05"),
            ("MMM d HH:mm:ss", "Mar  5 01:02:03"),
            ("yyyy-MM-dd HH:mm:ss,SSS", "2026-03-05 01:02:03"),
            ("yyyyMMdd", "202603"),
            ("yyyy Z", "2026 +2500"),
            (
                "yyyy-DDDDDDDDDDDDDDDDDDDDDDDD",
                "2026-999999999999999999999999",
            ),
        ];
        for (pattern, text) in cases {
            assert_eq!(joda(pattern, text), None, "{pattern} on {text}");
        }
    }

    #[test]
    fn zone_applies_only_without_an_offset() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(
            joda_in("yyyy-MM-dd HH:mm", "2026-01-10 12:00", paris),
            Some(utc("2026-01-10T11:00:00Z"))
        );
        assert_eq!(
            joda_in("yyyy-MM-dd HH:mm Z", "2026-01-10 12:00 +0000", paris),
            Some(utc("2026-01-10T12:00:00Z"))
        );
        // In the autumn overlap the earlier instant wins; in the spring gap there is none.
        assert_eq!(
            joda_in("yyyy-MM-dd HH:mm", "2026-10-25 02:30", paris),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        assert_eq!(joda_in("yyyy-MM-dd HH:mm", "2026-03-29 02:30", paris), None);
        let fixed = Zone::parse("-05:00").unwrap();
        assert_eq!(
            joda_in("yyyy-MM-dd HH:mm", "2026-01-10 12:00", fixed),
            Some(utc("2026-01-10T17:00:00Z"))
        );
        assert_eq!(Zone::parse("Mars/Olympus"), None);
    }

    #[test]
    fn year_is_guessed_when_the_pattern_has_none() {
        let format = JodaFormat::compile("MMM dd HH:mm:ss").unwrap();
        let parser = JodaParser::new(&format).unwrap();
        let parse = |text: &str, now: &str| parser.parse(text, Zone::UTC, utc(now));
        assert_eq!(
            parse("Mar 05 01:02:03", "2026-11-24T00:00:00Z"),
            Some(utc("2026-03-05T01:02:03Z"))
        );
        // December read in January is last year's; January read in December is next year's.
        assert_eq!(
            parse("Dec 31 23:59:59", "2027-01-01T00:00:10Z"),
            Some(utc("2026-12-31T23:59:59Z"))
        );
        assert_eq!(
            parse("Jan 01 00:00:01", "2026-12-31T23:59:50Z"),
            Some(utc("2027-01-01T00:00:01Z"))
        );
        // Any other month is this year's, even months ahead.
        assert_eq!(
            parse("Nov 30 00:00:00", "2026-02-01T00:00:00Z"),
            Some(utc("2026-11-30T00:00:00Z"))
        );
        assert_eq!(parse("Feb 29 00:00:00", "2026-03-01T00:00:00Z"), None);
        assert_eq!(
            parse("Feb 29 00:00:00", "2028-03-01T00:00:00Z"),
            Some(utc("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn iso8601_variants() {
        let cases = [
            ("2026-03-05T01:02:03.456Z", "2026-03-05T01:02:03.456Z"),
            ("2026-03-05T01:02:03,456Z", "2026-03-05T01:02:03.456Z"),
            ("2026-03-05T01:02:03Z", "2026-03-05T01:02:03Z"),
            ("2026-03-05t01:02:03z", "2026-03-05T01:02:03Z"),
            ("2026-03-05T01:02:03+01:00", "2026-03-05T00:02:03Z"),
            ("2026-03-05T01:02:03-0130", "2026-03-05T02:32:03Z"),
            ("2026-03-05T01:02:03+01", "2026-03-05T00:02:03Z"),
            (
                "2026-03-05T01:02:03.123456789Z",
                "2026-03-05T01:02:03.123456789Z",
            ),
            ("2026-03-05T01:02:03", "2026-03-05T01:02:03Z"),
            ("2026-03-05T01:02", "2026-03-05T01:02:00Z"),
            ("2026-03-05T01.5", "2026-03-05T01:30:00Z"),
            ("2026-03-05T01:02.5Z", "2026-03-05T01:02:30Z"),
            ("2026-03-05T", "2026-03-05T00:00:00Z"),
            ("2026-03-05", "2026-03-05T00:00:00Z"),
            ("2026-03", "2026-03-01T00:00:00Z"),
            ("2026", "2026-01-01T00:00:00Z"),
            ("2026-064", "2026-03-05T00:00:00Z"),
            ("2026-W10-4", "2026-03-05T00:00:00Z"),
            ("2026-03-05 01:02:03.456", "2026-03-05T01:02:03.456Z"),
            ("2026-03-05 01:02:03,456", "2026-03-05T01:02:03.456Z"),
            ("2026-03-05 01:02:03.456+0100", "2026-03-05T00:02:03.456Z"),
            ("2026-03-05 01:02:03,456-01:00", "2026-03-05T02:02:03.456Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_iso8601(text, Zone::UTC),
                Some(utc(expected)),
                "{text}"
            );
        }
        for bad in [
            "",
            "2026-03-05 01:02:03",
            "2026-3-5",
            "2026-03-05T1:02",
            "2026-03-05T25:00",
            "2026-03-05T01:02:03 Z",
            "2026-03-05T01:02:03+",
            "2026-13-01",
            "26-03-05",
            "2026-03-05X",
            "Mar 5 2026",
        ] {
            assert_eq!(parse_iso8601(bad, Zone::UTC), None, "{bad}");
        }
        let tokyo = Zone::parse("Asia/Tokyo").unwrap();
        assert_eq!(
            parse_iso8601("2026-03-05T09:00:00", tokyo),
            Some(utc("2026-03-05T00:00:00Z"))
        );
        assert_eq!(
            parse_iso8601("2026-03-05T09:00:00Z", tokyo),
            Some(utc("2026-03-05T09:00:00Z"))
        );
    }

    #[test]
    fn epochs() {
        assert_eq!(parse_unix("1772672523"), Some(utc("2026-03-05T01:02:03Z")));
        assert_eq!(
            parse_unix("1772672523.5"),
            Some(utc("2026-03-05T01:02:03.5Z"))
        );
        assert_eq!(
            parse_unix("1772672523.123456"),
            Some(utc("2026-03-05T01:02:03.123456Z"))
        );
        assert_eq!(parse_unix("1772672523."), Some(utc("2026-03-05T01:02:03Z")));
        assert_eq!(parse_unix("-1.5"), Some(utc("1969-12-31T23:59:59.5Z")));
        assert_eq!(parse_unix("2147483648"), None);
        assert_eq!(parse_unix("1e9"), None);
        assert_eq!(parse_unix(""), None);
        assert_eq!(parse_unix("12.3x"), None);
        assert_eq!(
            unix_seconds(1772672523.25),
            Some(utc("2026-03-05T01:02:03.25Z"))
        );
        assert_eq!(unix_seconds(3e9), None);
        assert_eq!(unix_seconds(f64::NAN), None);
        assert_eq!(
            parse_unix_ms("1772672523456"),
            Some(utc("2026-03-05T01:02:03.456Z"))
        );
        assert_eq!(parse_unix_ms("1772672523.456"), None);
        assert_eq!(parse_unix_ms("+5"), Some(utc("1970-01-01T00:00:00.005Z")));
    }

    #[test]
    fn tai64n() {
        // 2^62 + 1772672523 + 10 seconds, and 456000000 nanoseconds.
        let label = format!("{:016x}{:08x}", (1u64 << 62) + 1772672533, 456_000_000);
        assert_eq!(
            parse_tai64n(&format!("@{label}")),
            Some(utc("2026-03-05T01:02:03.456Z"))
        );
        assert_eq!(parse_tai64n(&label), Some(utc("2026-03-05T01:02:03.456Z")));
        assert_eq!(parse_tai64n("@4000000069a8d4d5"), None);
        assert_eq!(parse_tai64n("@4000000069a8d4d5zzzzzzzz"), None);
        assert_eq!(parse_tai64n("@ffffffffffffffff00000000"), None);
    }
}
