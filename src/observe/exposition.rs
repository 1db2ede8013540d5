//! A reader of the Prometheus text exposition format (version 0.0.4), the other side of
//! [`super::metrics::Registry::render`]: `sluice top` turns a running Sluice's `/metrics` page
//! into samples with it. Comments (`# HELP`, `# TYPE`) and blank lines are skipped; a line
//! that is not a sample is an error naming its line number, so pointing `top` at something
//! that is not a metrics page says so instead of showing nothing.

use std::fmt;

/// One sample line: `name{label="value",…} value [timestamp]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, or `""` when it is absent (as PromQL treats it).
    pub fn label(&self, name: &str) -> &str {
        self.labels
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Every sample of `page`, in order.
pub fn parse(page: &str) -> Result<Vec<Sample>, ParseError> {
    page.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            sample(line).map_err(|reason| ParseError {
                line: i + 1,
                reason,
            })
        })
        .collect()
}

fn sample(line: &str) -> Result<Sample, &'static str> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("no metric name");
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = read_labels(after, &mut labels)?;
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields.next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().map_err(|_| "the value is not a number")?,
    };
    // An optional timestamp in milliseconds, then nothing.
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .map_err(|_| "the timestamp is not an integer")?;
    }
    if fields.next().is_some() {
        return Err("text after the timestamp");
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Reads `key="value",…}` and returns what follows the closing brace.
fn read_labels<'a>(
    mut rest: &'a str,
    labels: &mut Vec<(String, String)>,
) -> Result<&'a str, &'static str> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let key_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or("unterminated labels")?;
        let key = &rest[..key_end];
        if key.is_empty() {
            return Err("a label without a name");
        }
        rest = rest[key_end..]
            .trim_start()
            .strip_prefix('=')
            .ok_or("a label without `=`")?
            .trim_start()
            .strip_prefix('"')
            .ok_or("a label value without quotes")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().ok_or("unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("unterminated label value")?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    _ => return Err("an unknown escape in a label value"),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((key.to_owned(), value));
        rest = rest[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::metrics::Registry;

    #[test]
    fn reads_back_what_the_registry_renders() {
        let registry = Registry::default();
        registry
            .counter(
                "t_events_total",
                "Events.",
                &[
                    ("pipeline", "a \"quoted\"\\ name\n"),
                    ("plugin", "grok@x.conf:3"),
                ],
            )
            .add(42);
        let h = registry.histogram("t_seconds", "Latency.", &[], &[0.5]);
        h.observe(0.25);
        let samples = parse(&registry.render()).unwrap();
        assert_eq!(
            samples[0],
            Sample {
                name: "t_events_total".into(),
                labels: vec![
                    ("pipeline".into(), "a \"quoted\"\\ name\n".into()),
                    ("plugin".into(), "grok@x.conf:3".into())
                ],
                value: 42.0,
            }
        );
        let names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "t_events_total",
                "t_seconds_bucket",
                "t_seconds_bucket",
                "t_seconds_sum",
                "t_seconds_count"
            ]
        );
        assert_eq!(samples[2].label("le"), "+Inf");
        assert_eq!(samples[3].value, 0.25);
    }

    #[test]
    fn special_values_timestamps_and_spacing() {
        let samples =
            parse("a +Inf\nb{x = \"1\" , } -Inf 1700000000000\n\n# HELP c x\nc NaN\nd 1e-3\n")
                .unwrap();
        assert_eq!(samples[0].value, f64::INFINITY);
        assert_eq!(samples[1].labels, [("x".to_owned(), "1".to_owned())]);
        assert_eq!(samples[1].value, f64::NEG_INFINITY);
        assert!(samples[2].value.is_nan());
        assert_eq!(samples[3].value, 0.001);
        assert_eq!(samples[1].label("missing"), "");
    }

    #[test]
    fn malformed_truncated_and_hostile_lines_are_errors_with_their_line() {
        for (page, reason) in [
            ("ok 1\n{x=\"1\"} 2", "no metric name"),
            ("ok 1\n9lives 2", "no metric name"),
            ("ok 1\na", "no value"),
            ("ok 1\na{x=\"1\"", "unterminated labels"),
            ("ok 1\na{x=\"1", "unterminated label value"),
            ("ok 1\na{x=\"1\\", "unterminated label value"),
            ("ok 1\na{x=\"\\t\"} 1", "an unknown escape in a label value"),
            ("ok 1\na{x} 1", "a label without `=`"),
            ("ok 1\na{x=1} 1", "a label value without quotes"),
            ("ok 1\na{=\"1\"} 1", "a label without a name"),
            ("ok 1\na one", "the value is not a number"),
            ("ok 1\na 1 soon", "the timestamp is not an integer"),
            ("ok 1\na 1 2 3", "text after the timestamp"),
            (
                "ok 1\n<html><body>Not Found</body></html>",
                "no metric name",
            ),
            ("ok 1\n\u{0}\u{1}\u{ff} 1", "no metric name"),
        ] {
            assert_eq!(parse(page), Err(ParseError { line: 2, reason }), "{page:?}");
        }
    }

    #[test]
    fn an_oversized_page_is_read_in_linear_time() {
        let labels: String = (0..10_000).map(|i| format!("l{i}=\"v\",")).collect();
        let page = format!("big{{{labels}}} 1\n").repeat(20);
        let samples = parse(&page).unwrap();
        assert_eq!(samples.len(), 20);
        assert_eq!(samples[19].labels.len(), 10_000);
    }
}
