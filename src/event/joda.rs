//! Joda-Time date patterns (`YYYY.MM.dd`, `dd/MMM/yyyy:HH:mm:ss Z`), as Logstash's sprintf
//! `%{+…}` and `date` filter use them.
//!
//! A pattern is split into [`Token`]s once, when the configuration is compiled; formatting a
//! timestamp then walks the tokens and appends to a `String` without allocating. The tokens
//! name calendar fields and widths rather than printing recipes, so the `date` filter's
//! parser can walk the same list.
//!
//! Formatting is always in UTC (Logstash formats `@timestamp` in UTC) and in English, the only
//! locale supported: month and day names, `AD`/`BC`, `AM`/`PM`.
//!
//! [`JodaFormat::compile_java`] reads the java.time patterns of Logstash 8's `%{{…}}` into the
//! same tokens where the two languages agree, and refuses the letters where they do not (see
//! its documentation for the differences).

use std::fmt;

use chrono::{Datelike, Timelike};

use super::Timestamp;

/// A compiled date pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct JodaFormat {
    tokens: Vec<Token>,
    /// Joda-Time holds milliseconds, so `SSSSSS` prints `123000` for any instant in
    /// `.123`; java.time prints the nanoseconds it has.
    fraction: Precision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Millis,
    Nanos,
}

/// One element of a pattern: literal text, or a calendar field and how wide to print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Literal(Box<str>),
    /// A number in decimal, zero-padded to at least `min_digits`.
    Number {
        field: Field,
        min_digits: u8,
        sign: Sign,
    },
    /// The last two digits of a year (`yy`, `xx`).
    TwoDigitYear(Field),
    /// A field printed as a word (`Nov`, `Tuesday`, `PM`, `AD`).
    Text {
        field: TextField,
        width: Width,
    },
    /// The fraction of the second, truncated (never rounded) to exactly `digits` digits.
    Fraction {
        digits: u8,
    },
    /// The zone offset: `+0000`, `+00:00`, or `+00` (java.time's `x`). `zulu` prints a zero
    /// offset as `Z` instead.
    Offset {
        minutes: bool,
        colon: bool,
        zulu: bool,
    },
    /// The zone's id, `UTC`.
    ZoneId,
    /// The zone's name: `UTC`, or `Coordinated Universal Time` when `long`.
    ZoneName {
        long: bool,
    },
}

/// The numeric calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The proleptic year: 1 BC is year 0 (`y` in Joda, `u` in java.time).
    Year,
    /// The year counted within its era, never below 1 (`Y` in Joda, `y` in java.time).
    YearOfEra,
    /// The ISO week-based year (`x` in Joda).
    Weekyear,
    CenturyOfEra,
    /// The ISO week, 1 to 53.
    WeekOfWeekyear,
    /// Monday is 1, Sunday 7.
    DayOfWeek,
    DayOfYear,
    Month,
    DayOfMonth,
    /// 0 to 23.
    HourOfDay,
    /// 1 to 24.
    ClockhourOfDay,
    /// 0 to 11.
    HourOfHalfday,
    /// 1 to 12.
    ClockhourOfHalfday,
    Minute,
    Second,
    NanoOfSecond,
}

/// How a number's sign is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// Only a minus, for negative numbers (Joda).
    Negative,
    /// Also a plus when a positive number needs more digits than the pattern asked for
    /// (java.time's four-letter years: `+10000`).
    ExceedsPad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Era,
    Month,
    DayOfWeek,
    Halfday,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// `Nov`, `Tue`, `AD`.
    Short,
    /// `November`, `Tuesday`, `Anno Domini`.
    Full,
    /// `N`, `T`, `A` (java.time's five letters).
    Narrow,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date pattern `{pattern}`: {reason}")]
pub struct JodaError {
    pub pattern: String,
    pub reason: String,
}

/// Longer runs of one letter are refused rather than padded: no real pattern has them, and
/// the limit bounds the output.
const MAX_RUN: usize = 32;

/// More fraction digits than nanoseconds have would only ever print zeros.
const MAX_FRACTION_DIGITS: usize = 9;

/// Which pattern language a run of letters belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Joda,
    Java,
}

impl JodaFormat {
    /// Compiles a Joda-Time `DateTimeFormat` pattern.
    ///
    /// Letters: `G C Y x w e E y D M d a K h H k m s S z Z`. Any other ASCII letter is an
    /// error; every other character is literal text, as is anything between single quotes
    /// (`''` is a quote, and a quote left open runs to the end, as in Joda). Counts follow
    /// Joda: numbers are zero-padded to the count, `yy`/`YY`/`xx` print two digits, `MMM`
    /// and `EEE` short names and four or more letters full ones, `S…` exactly that many
    /// fraction digits, `Z` `+0000`, `ZZ` `+00:00`, `ZZZ` the zone id, `z` the short zone
    /// name and `zzzz` the long one. Note that Joda's `Y` is the year of era, not the
    /// week-based year that java.time's `Y` is: `YYYY.MM.dd` on 2024-12-30 is `2024.12.30`.
    pub fn compile(pattern: &str) -> Result<JodaFormat, JodaError> {
        compile(pattern, Dialect::Joda)
    }

    /// Compiles a java.time `DateTimeFormatter` pattern (Logstash 8's `%{{…}}`) into the
    /// same tokens.
    ///
    /// Supported letters: `G u y Y w D M L d E a h K k H m s S n X x Z z V`, with the
    /// counts java.time allows, quotes as in Joda. Where java.time differs from Joda:
    /// `y` is the year of era and `u` the proleptic year; four or more `y`/`u`/`Y` print
    /// `+` before a year with more digits than letters; `S` prints the instant's own
    /// digits rather than milliseconds; `G`, `M` and `E` have a five-letter narrow form;
    /// `z` and `VV` print UTC's id `Z`; `X` prints `Z`.
    ///
    /// java.time's week fields follow the JVM's default locale, which Sluice does not have.
    /// `Y` (week-based year) and `w` (week of that year) follow ISO 8601 here (weeks start
    /// on Monday, week 1 holds January 4th), the rule the Logstash documentation's
    /// `%{{YYYY-'W'ww}}` example shows; `e`, `c`, `W` and `F`, whose numbers would change
    /// with the locale, are refused. Also refused: `Q q A N g B O v p ZZZZ` and optional
    /// sections `[…]`.
    pub fn compile_java(pattern: &str) -> Result<JodaFormat, JodaError> {
        compile(pattern, Dialect::Java)
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Appends `ts`, in UTC, as the pattern says.
    pub fn format(&self, ts: &Timestamp, out: &mut String) {
        let nanos = ts.nanosecond() % 1_000_000_000;
        let nanos = match self.fraction {
            Precision::Millis => nanos - nanos % 1_000_000,
            Precision::Nanos => nanos,
        };
        for token in &self.tokens {
            match token {
                Token::Literal(text) => out.push_str(text),
                Token::Number {
                    field,
                    min_digits,
                    sign,
                } => {
                    let value = number(ts, *field, nanos);
                    push_padded(out, value, usize::from(*min_digits), *sign);
                }
                Token::TwoDigitYear(field) => {
                    let year = number(ts, *field, nanos).unsigned_abs() % 100;
                    push_padded(out, year as i64, 2, Sign::Negative);
                }
                Token::Text { field, width } => out.push_str(text(ts, *field, *width)),
                Token::Fraction { digits } => {
                    let digits = u32::from(*digits);
                    let scaled = nanos / 10u32.pow(9 - digits);
                    push_padded(out, i64::from(scaled), digits as usize, Sign::Negative);
                }
                // Always UTC: only the zero offset is ever printed.
                Token::Offset {
                    minutes,
                    colon,
                    zulu,
                } => out.push_str(match (zulu, minutes, colon) {
                    (true, _, _) => "Z",
                    (false, false, _) => "+00",
                    (false, true, false) => "+0000",
                    (false, true, true) => "+00:00",
                }),
                Token::ZoneId | Token::ZoneName { long: false } => out.push_str("UTC"),
                Token::ZoneName { long: true } => out.push_str("Coordinated Universal Time"),
            }
        }
    }

    /// `ts` formatted as a new string.
    pub fn format_to_string(&self, ts: &Timestamp) -> String {
        let mut out = String::new();
        self.format(ts, &mut out);
        out
    }
}

impl fmt::Debug for JodaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.tokens).finish()
    }
}

fn compile(pattern: &str, dialect: Dialect) -> Result<JodaFormat, JodaError> {
    let error = |reason: String| JodaError {
        pattern: pattern.to_owned(),
        reason,
    };
    if pattern.is_empty() {
        return Err(error("the pattern is empty".to_owned()));
    }
    let mut tokens: Vec<Token> = Vec::new();
    let mut literal = String::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            // `''` is a quote, inside quotes or out; otherwise a quote opens (or closes) text.
            if chars.next_if(|&(_, c)| c == '\'').is_some() {
                literal.push('\'');
                continue;
            }
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                if c == '\'' {
                    if chars.next_if(|&(_, c)| c == '\'').is_some() {
                        literal.push('\'');
                        continue;
                    }
                    closed = true;
                    break;
                }
                literal.push(c);
            }
            if !closed && dialect == Dialect::Java {
                return Err(error(format!(
                    "the quote at character {at} is never closed"
                )));
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if dialect == Dialect::Java && matches!(c, '[' | ']' | '{' | '}' | '#') {
                return Err(error(format!(
                    "`{c}` at character {at} (optional sections and reserved characters) is not supported"
                )));
            }
            literal.push(c);
            continue;
        }
        let mut count = 1;
        while chars.next_if(|&(_, next)| next == c).is_some() {
            count += 1;
        }
        if count > MAX_RUN {
            return Err(error(format!(
                "{count} `{c}`s at character {at}: at most {MAX_RUN} are supported"
            )));
        }
        let token = match dialect {
            Dialect::Joda => joda_token(c, count),
            Dialect::Java => java_token(c, count),
        }
        .map_err(|reason| error(format!("{reason} (at character {at})")))?;
        if !literal.is_empty() {
            tokens.push(Token::Literal(std::mem::take(&mut literal).into()));
        }
        match token {
            Token::Literal(text) => literal.push_str(&text),
            token => tokens.push(token),
        }
    }
    if !literal.is_empty() {
        tokens.push(Token::Literal(literal.into()));
    }
    Ok(JodaFormat {
        tokens,
        fraction: match dialect {
            Dialect::Joda => Precision::Millis,
            Dialect::Java => Precision::Nanos,
        },
    })
}

fn number_token(field: Field, count: usize) -> Token {
    Token::Number {
        field,
        // `count` is at most MAX_RUN.
        min_digits: count as u8,
        sign: Sign::Negative,
    }
}

fn fraction_token(count: usize) -> Result<Token, String> {
    if count > MAX_FRACTION_DIGITS {
        return Err(format!(
            "{count} fraction digits: at most {MAX_FRACTION_DIGITS} are supported"
        ));
    }
    Ok(Token::Fraction {
        digits: count as u8,
    })
}

fn joda_token(letter: char, count: usize) -> Result<Token, String> {
    let text = |field| Token::Text {
        field,
        width: if count >= 4 {
            Width::Full
        } else {
            Width::Short
        },
    };
    Ok(match letter {
        'G' => Token::Text {
            field: TextField::Era,
            width: Width::Short,
        },
        'C' => number_token(Field::CenturyOfEra, count),
        // Joda prints `YY` from the year, not the year of era, like `yy`.
        'y' | 'Y' if count == 2 => Token::TwoDigitYear(Field::Year),
        'x' if count == 2 => Token::TwoDigitYear(Field::Weekyear),
        'y' => number_token(Field::Year, count),
        'Y' => number_token(Field::YearOfEra, count),
        'x' => number_token(Field::Weekyear, count),
        'w' => number_token(Field::WeekOfWeekyear, count),
        'e' => number_token(Field::DayOfWeek, count),
        'E' => text(TextField::DayOfWeek),
        'D' => number_token(Field::DayOfYear, count),
        'M' if count >= 3 => text(TextField::Month),
        'M' => number_token(Field::Month, count),
        'd' => number_token(Field::DayOfMonth, count),
        'a' => Token::Text {
            field: TextField::Halfday,
            width: Width::Short,
        },
        'K' => number_token(Field::HourOfHalfday, count),
        'h' => number_token(Field::ClockhourOfHalfday, count),
        'H' => number_token(Field::HourOfDay, count),
        'k' => number_token(Field::ClockhourOfDay, count),
        'm' => number_token(Field::Minute, count),
        's' => number_token(Field::Second, count),
        'S' => fraction_token(count)?,
        'z' => Token::ZoneName { long: count >= 4 },
        'Z' if count >= 3 => Token::ZoneId,
        'Z' => Token::Offset {
            minutes: true,
            colon: count == 2,
            zulu: false,
        },
        other => return Err(format!("`{other}` is not a Joda-Time pattern letter")),
    })
}

fn java_token(letter: char, count: usize) -> Result<Token, String> {
    let at_most = |max: usize| {
        if count > max {
            Err(format!(
                "too many `{letter}`s: java.time allows at most {max}"
            ))
        } else {
            Ok(())
        }
    };
    let text = |field| {
        at_most(5)?;
        Ok::<_, String>(Token::Text {
            field,
            width: match count {
                4 => Width::Full,
                5 => Width::Narrow,
                _ => Width::Short,
            },
        })
    };
    let year = |field| {
        if count == 2 {
            return Token::TwoDigitYear(field);
        }
        Token::Number {
            field,
            min_digits: count as u8,
            sign: if count >= 4 {
                Sign::ExceedsPad
            } else {
                Sign::Negative
            },
        }
    };
    let number = |field, max| {
        at_most(max)?;
        Ok::<_, String>(number_token(field, count))
    };
    Ok(match letter {
        'G' => text(TextField::Era)?,
        'u' => year(Field::Year),
        'y' => year(Field::YearOfEra),
        'Y' => year(Field::Weekyear),
        'w' => number(Field::WeekOfWeekyear, 2)?,
        'D' => number(Field::DayOfYear, 3)?,
        'M' | 'L' if count >= 3 => text(TextField::Month)?,
        'M' | 'L' => number(Field::Month, 2)?,
        'd' => number(Field::DayOfMonth, 2)?,
        'E' => text(TextField::DayOfWeek)?,
        'a' => {
            at_most(1)?;
            Token::Text {
                field: TextField::Halfday,
                width: Width::Short,
            }
        }
        'h' => number(Field::ClockhourOfHalfday, 2)?,
        'K' => number(Field::HourOfHalfday, 2)?,
        'k' => number(Field::ClockhourOfDay, 2)?,
        'H' => number(Field::HourOfDay, 2)?,
        'm' => number(Field::Minute, 2)?,
        's' => number(Field::Second, 2)?,
        'S' => fraction_token(count)?,
        'n' => number(Field::NanoOfSecond, 19)?,
        'X' => {
            at_most(5)?;
            Token::Offset {
                minutes: count > 1,
                colon: count == 3 || count == 5,
                zulu: true,
            }
        }
        'x' => {
            at_most(5)?;
            Token::Offset {
                minutes: count > 1,
                colon: count == 3 || count == 5,
                zulu: false,
            }
        }
        'Z' if count <= 3 => Token::Offset {
            minutes: true,
            colon: false,
            zulu: false,
        },
        'Z' if count == 5 => Token::Offset {
            minutes: true,
            colon: true,
            zulu: true,
        },
        // With the zone fixed to UTC's offset, java.time names the zone by its id `Z`.
        'z' => {
            at_most(4)?;
            Token::Literal("Z".into())
        }
        'V' if count == 2 => Token::Literal("Z".into()),
        'e' | 'c' | 'W' | 'F' => {
            return Err(format!(
                "`{letter}` depends on the JVM's locale and is not supported; use `E` or ISO weeks (`Y`, `w`)"
            ))
        }
        other => return Err(format!("`{other}` (count {count}) is not supported")),
    })
}

/// The value of a numeric field of `ts`; `nanos` is the fraction already cut to precision.
fn number(ts: &Timestamp, field: Field, nanos: u32) -> i64 {
    let year = ts.year();
    let year_of_era = if year > 0 { year } else { 1 - year };
    let hour = ts.hour();
    i64::from(match field {
        Field::Year => year,
        Field::YearOfEra => year_of_era,
        Field::Weekyear => ts.iso_week().year(),
        Field::CenturyOfEra => year_of_era / 100,
        Field::WeekOfWeekyear => ts.iso_week().week() as i32,
        Field::DayOfWeek => ts.weekday().number_from_monday() as i32,
        Field::DayOfYear => ts.ordinal() as i32,
        Field::Month => ts.month() as i32,
        Field::DayOfMonth => ts.day() as i32,
        Field::HourOfDay => hour as i32,
        Field::ClockhourOfDay => {
            if hour == 0 {
                24
            } else {
                hour as i32
            }
        }
        Field::HourOfHalfday => (hour % 12) as i32,
        Field::ClockhourOfHalfday => match hour % 12 {
            0 => 12,
            h => h as i32,
        },
        Field::Minute => ts.minute() as i32,
        Field::Second => ts.second() as i32,
        Field::NanoOfSecond => nanos as i32,
    })
}

/// English month names; the formatter prints them and the `date` parser reads them.
pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names, Monday first (ISO order).
pub(crate) const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn text(ts: &Timestamp, field: TextField, width: Width) -> &'static str {
    let full = match field {
        TextField::Era if ts.year() > 0 => "Anno Domini",
        TextField::Era => "Before Christ",
        TextField::Month => MONTHS[ts.month0() as usize],
        TextField::DayOfWeek => DAYS[ts.weekday().num_days_from_monday() as usize],
        TextField::Halfday if ts.hour() < 12 => "AM",
        TextField::Halfday => "PM",
    };
    match (field, width) {
        (_, Width::Full) => full,
        (TextField::Era, Width::Short) if ts.year() > 0 => "AD",
        (TextField::Era, Width::Short) => "BC",
        (TextField::Halfday, _) => full,
        (_, Width::Short) => &full[..3],
        (_, Width::Narrow) => &full[..1],
    }
}

/// Appends `value` in decimal, zero-padded to `min_digits` after any sign.
fn push_padded(out: &mut String, value: i64, min_digits: usize, sign: Sign) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value.unsigned_abs());
    if value < 0 {
        out.push('-');
    } else if sign == Sign::ExceedsPad && digits.len() > min_digits {
        out.push('+');
    }
    for _ in digits.len()..min_digits {
        out.push('0');
    }
    out.push_str(digits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(y, mo, d, h, mi, s)
            .unwrap()
            .with_nanosecond(nanos)
            .unwrap()
    }

    fn joda(pattern: &str, ts: &Timestamp) -> String {
        JodaFormat::compile(pattern).unwrap().format_to_string(ts)
    }

    fn java(pattern: &str, ts: &Timestamp) -> String {
        JodaFormat::compile_java(pattern)
            .unwrap()
            .format_to_string(ts)
    }

    /// Tuesday, 24 November 2026, 16:07:04.123456789 UTC.
    fn sample() -> Timestamp {
        at(2026, 11, 24, 16, 7, 4, 123_456_789)
    }

    #[test]
    fn logstash_patterns() {
        let ts = sample();
        assert_eq!(joda("YYYY.MM.dd", &ts), "2026.11.24");
        assert_eq!(
            joda("yyyy-MM-dd'T'HH:mm:ss.SSSZ", &ts),
            "2026-11-24T16:07:04.123+0000"
        );
        assert_eq!(
            joda("dd/MMM/yyyy:HH:mm:ss Z", &ts),
            "24/Nov/2026:16:07:04 +0000"
        );
        assert_eq!(joda("EEE MMM d", &ts), "Tue Nov 24");
        assert_eq!(
            joda("EEE MMM  d HH:mm:ss", &at(2026, 3, 5, 1, 2, 3, 0)),
            "Thu Mar  5 01:02:03"
        );
        assert_eq!(
            joda("EEEE, MMMM d, yyyy", &ts),
            "Tuesday, November 24, 2026"
        );
        assert_eq!(joda("xxxx-'W'ww", &ts), "2026-W48");
    }

    #[test]
    fn every_joda_letter() {
        let ts = sample();
        let cases = [
            ("G", "AD"),
            ("GGGG", "AD"),
            ("C", "20"),
            ("CCC", "020"),
            ("Y", "2026"),
            ("YY", "26"),
            ("YYYYYY", "002026"),
            ("x", "2026"),
            ("xx", "26"),
            ("w", "48"),
            ("www", "048"),
            ("e", "2"),
            ("ee", "02"),
            ("E", "Tue"),
            ("EEEE", "Tuesday"),
            ("y", "2026"),
            ("yy", "26"),
            ("yyy", "2026"),
            ("D", "328"),
            ("DDDD", "0328"),
            ("M", "11"),
            ("MM", "11"),
            ("MMM", "Nov"),
            ("MMMM", "November"),
            ("d", "24"),
            ("a", "PM"),
            ("K", "4"),
            ("h", "4"),
            ("hh", "04"),
            ("H", "16"),
            ("k", "16"),
            ("m", "7"),
            ("mm", "07"),
            ("s", "4"),
            ("ss", "04"),
            ("S", "1"),
            ("SS", "12"),
            ("SSS", "123"),
            ("SSSSSS", "123000"),
            ("z", "UTC"),
            ("zzzz", "Coordinated Universal Time"),
            ("Z", "+0000"),
            ("ZZ", "+00:00"),
            ("ZZZ", "UTC"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(joda(pattern, &ts), expected, "pattern {pattern}");
        }
    }

    #[test]
    fn hours_around_midnight_and_noon() {
        let midnight = at(2026, 1, 1, 0, 0, 0, 0);
        assert_eq!(joda("H k K h a", &midnight), "0 24 0 12 AM");
        let noon = at(2026, 1, 1, 12, 0, 0, 0);
        assert_eq!(joda("H k K h a", &noon), "12 12 0 12 PM");
    }

    #[test]
    fn year_of_era_is_not_the_week_year() {
        // Monday 30 December 2024 belongs to ISO week 1 of 2025.
        let ts = at(2024, 12, 30, 0, 0, 0, 0);
        assert_eq!(joda("YYYY.MM.dd", &ts), "2024.12.30");
        assert_eq!(joda("xxxx-'W'ww-e", &ts), "2025-W01-1");
        assert_eq!(java("YYYY-'W'ww", &ts), "2025-W01");
        assert_eq!(java("yyyy.MM.dd", &ts), "2024.12.30");
    }

    #[test]
    fn years_outside_four_digits() {
        let early = at(987, 6, 5, 0, 0, 0, 0);
        assert_eq!(joda("yyyy-MM-dd", &early), "0987-06-05");
        assert_eq!(joda("y yy Y C", &early), "987 87 987 9");
        let late = at(12345, 1, 2, 0, 0, 0, 0);
        assert_eq!(joda("yyyy-MM-dd", &late), "12345-01-02");
        assert_eq!(joda("yy C", &late), "45 123");
        assert_eq!(java("yyyy-MM-dd", &late), "+12345-01-02");
        // 1 BC is year 0, and year of era 1, in ISO chronology.
        let bc = at(0, 1, 1, 0, 0, 0, 0);
        assert_eq!(joda("yyyy Y G", &bc), "0000 1 BC");
        let older = at(-44, 3, 15, 0, 0, 0, 0);
        assert_eq!(joda("yyyy Y G yy", &older), "-0044 45 BC 44");
        assert_eq!(java("uuuu yyyy G", &older), "-0044 0045 BC");
    }

    #[test]
    fn quotes_and_literals() {
        let ts = sample();
        assert_eq!(joda("'at' HH 'o''clock' ''", &ts), "at 16 o'clock '");
        assert_eq!(joda("HH''mm", &ts), "16'07");
        assert_eq!(joda("'unterminated yyyy", &ts), "unterminated yyyy");
        assert_eq!(joda("[yyyy] #1 ~", &ts), "[2026] #1 ~");
        assert_eq!(
            JodaFormat::compile("'a' yyyy.MM").unwrap().tokens(),
            [
                Token::Literal("a ".into()),
                number_token(Field::Year, 4),
                Token::Literal(".".into()),
                number_token(Field::Month, 2),
            ]
        );
    }

    #[test]
    fn bad_patterns_say_why() {
        let error = |p: &str| JodaFormat::compile(p).unwrap_err().to_string();
        assert_eq!(
            error("yyyy-qq"),
            "invalid date pattern `yyyy-qq`: `q` is not a Joda-Time pattern letter (at character 5)"
        );
        assert_eq!(error(""), "invalid date pattern ``: the pattern is empty");
        assert!(error("SSSSSSSSSS").contains("at most 9"));
        assert!(error(&"d".repeat(33)).contains("at most 32"));
    }

    #[test]
    fn java_time_patterns() {
        let ts = sample();
        let cases = [
            (
                "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
                "2026-11-24T16:07:04.123456Z",
            ),
            ("uuuu.MM.dd", "2026.11.24"),
            ("yy", "26"),
            ("G GGGG GGGGG", "AD Anno Domini A"),
            ("MMM MMMM MMMMM LLL", "Nov November N Nov"),
            ("E EEEE EEEEE", "Tue Tuesday T"),
            ("a h K k H", "PM 4 4 16 16"),
            ("D DDD", "328 328"),
            ("n", "123456789"),
            ("SSSSSSSSS", "123456789"),
            ("Z ZZZZZ x xx xxx X", "+0000 Z +00 +0000 +00:00 Z"),
            ("z VV", "Z Z"),
        ];
        for (pattern, expected) in cases {
            assert_eq!(java(pattern, &ts), expected, "pattern {pattern}");
        }
        for bad in [
            "e", "c", "W", "F", "Q", "[yyyy]", "dd'x", "ddd", "aa", "ZZZZ", "O",
        ] {
            assert!(
                JodaFormat::compile_java(bad).is_err(),
                "{bad} should be refused"
            );
        }
    }
}
