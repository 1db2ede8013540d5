//! Which indices a span goes to: `<p>jaeger-span-<date>` and `<p>jaeger-service-<date>`,
//! named as Jaeger names them, from a start time that cannot open an index far in the past or
//! the future.
//!
//! The date is the span's start time in UTC, formatted with Jaeger's Go-style `date_layout`
//! (`2006-01-02`, or hourly `2006-01-02-15`). A start time outside
//! `[now − max_span_age, now + max_clock_skew]` is not trusted for it (Jaeger issue #841: one
//! span dated 8154 made `jaeger-span-8154-09-01` and its shards): [`StartTimeWindow`] says so
//! and the writer dates such a span now.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Jaeger's `IndexPrefix.Apply`: nothing for an empty prefix, a prefix ending in `-` as it
/// is, any other with `-` appended.
pub fn prefixed(prefix: &str, name: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('-') {
        format!("{prefix}{name}")
    } else {
        format!("{prefix}-{name}")
    }
}

/// A Go time layout restricted to what index names use: `2006` (year), `01` (month), `02`
/// (day), `15` (hour) and literal text between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateLayout {
    parts: Vec<Part>,
    hourly: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Year,
    Month,
    Day,
    Hour,
    Literal(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "date layout `{0}` must contain 2006 (year), 01 (month) and 02 (day), optionally 15 (hour), \
     separated by characters that may appear in an index name"
)]
pub struct LayoutError(String);

impl DateLayout {
    /// Jaeger's layout from `index_date_separator` and the rollover frequency:
    /// `2006-01-02`, with `-15` appended when hourly.
    pub fn from_separator(separator: &str, hourly: bool) -> Result<DateLayout, LayoutError> {
        let mut layout = format!("2006{separator}01{separator}02");
        if hourly {
            layout.push_str(&format!("{separator}15"));
        }
        DateLayout::parse(&layout)
    }

    pub fn parse(layout: &str) -> Result<DateLayout, LayoutError> {
        let invalid = || LayoutError(layout.to_owned());
        let mut parts = Vec::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let token = [
                ("2006", Part::Year),
                ("01", Part::Month),
                ("02", Part::Day),
                ("15", Part::Hour),
            ]
            .into_iter()
            .find(|(token, _)| rest.starts_with(token));
            match token {
                Some((token, part)) => {
                    parts.push(part);
                    rest = &rest[token.len()..];
                }
                None => {
                    let c = rest.chars().next().expect("not empty");
                    // Index names are lowercase and exclude these (ES `MetadataCreateIndexService`).
                    if c.is_ascii_digit() || c.is_uppercase() || " \"*\\<|,>/?#:".contains(c) {
                        return Err(invalid());
                    }
                    match parts.last_mut() {
                        Some(Part::Literal(s)) => s.push(c),
                        _ => parts.push(Part::Literal(c.to_string())),
                    }
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        let has = |p: Part| parts.contains(&p);
        if !(has(Part::Year) && has(Part::Month) && has(Part::Day)) {
            return Err(invalid());
        }
        Ok(DateLayout {
            hourly: has(Part::Hour),
            parts,
        })
    }

    /// Seconds covered by one index: every start time in the same period gets the same name.
    pub fn period_seconds(&self) -> i64 {
        if self.hourly {
            3600
        } else {
            86_400
        }
    }

    pub fn format(&self, time: DateTime<Utc>, out: &mut String) {
        for part in &self.parts {
            let _ = match part {
                Part::Year => write!(out, "{:04}", time.year()),
                Part::Month => write!(out, "{:02}", time.month()),
                Part::Day => write!(out, "{:02}", time.day()),
                Part::Hour => write!(out, "{:02}", time.hour()),
                Part::Literal(s) => write!(out, "{s}"),
            };
        }
    }
}

/// The start times trusted for an index date.
#[derive(Clone, Copy, Debug)]
pub struct StartTimeWindow {
    /// `max_span_age`: Jaeger Query looks no further back (72 h by default).
    pub max_span_age: Duration,
    /// `max_clock_skew`: how far ahead of our clock a sender's clock may be.
    pub max_clock_skew: Duration,
}

impl StartTimeWindow {
    /// Whether a span starting at `start_us` may be dated by its start (µs since the epoch).
    pub fn accepts(&self, start_us: i64, now_us: i64) -> bool {
        let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        let earliest = now_us.saturating_sub(micros(self.max_span_age));
        let latest = now_us.saturating_add(micros(self.max_clock_skew));
        (earliest..=latest).contains(&start_us)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_prefix_rule_is_jaegers() {
        assert_eq!(prefixed("", "jaeger-span-"), "jaeger-span-");
        assert_eq!(prefixed("prod", "jaeger-span-"), "prod-jaeger-span-");
        assert_eq!(prefixed("prod-", "jaeger-span-"), "prod-jaeger-span-");
        assert_eq!(prefixed("a.b_", "jaeger-service-"), "a.b_-jaeger-service-");
    }

    fn formatted(layout: &DateLayout, time: DateTime<Utc>) -> String {
        let mut out = String::new();
        layout.format(time, &mut out);
        out
    }

    #[test]
    fn layouts_format_like_go() {
        let t = Utc.with_ymd_and_hms(2026, 7, 9, 5, 6, 7).unwrap();
        let daily = DateLayout::from_separator("-", false).unwrap();
        assert_eq!(formatted(&daily, t), "2026-07-09");
        assert_eq!(daily.period_seconds(), 86_400);
        let hourly = DateLayout::from_separator("-", true).unwrap();
        assert_eq!(formatted(&hourly, t), "2026-07-09-05");
        assert_eq!(hourly.period_seconds(), 3600);
        let dots = DateLayout::parse("2006.01.02").unwrap();
        assert_eq!(formatted(&dots, t), "2026.07.09");
        assert_eq!(
            formatted(&DateLayout::parse("day_02_01_2006").unwrap(), t),
            "day_09_07_2006".replace("2006", "2026")
        );
    }

    #[test]
    fn layouts_that_make_bad_index_names_or_miss_a_part_are_refused() {
        for bad in [
            "",
            "2006-01",
            "01-02",
            "2006/01/02",
            "2006-01-02 15",
            "2006-Jan-02",
            "2006-01-02T",
            "2006-01-023",
        ] {
            assert!(DateLayout::parse(bad).is_err(), "{bad}");
        }
        assert!(DateLayout::from_separator("/", false).is_err());
    }

    #[test]
    fn the_window_spans_max_age_back_and_the_skew_ahead() {
        let window = StartTimeWindow {
            max_span_age: Duration::from_secs(72 * 3600),
            max_clock_skew: Duration::from_secs(3600),
        };
        let now = 1_764_000_000_000_000;
        let hour = 3_600_000_000;
        assert!(window.accepts(now, now));
        assert!(window.accepts(now - 72 * hour, now));
        assert!(!window.accepts(now - 72 * hour - 1, now));
        assert!(window.accepts(now + hour, now));
        assert!(!window.accepts(now + hour + 1, now));
        assert!(!window.accepts(i64::MIN, now));
        assert!(!window.accepts(i64::MAX, now));
        assert!(!window.accepts(0, now));
        let endless = StartTimeWindow {
            max_span_age: Duration::MAX,
            max_clock_skew: Duration::MAX,
        };
        assert!(endless.accepts(-now, now) && endless.accepts(i64::MAX, now));
    }
}
