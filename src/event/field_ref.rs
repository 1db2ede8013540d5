//! `FieldRef`: a compiled field reference (`[a][b]`, `[@metadata][x]`, `message`).
//!
//! References are parsed once, when the configuration is compiled; workers only walk the
//! pre-split path.

use std::fmt;

use super::Text;

/// Where a reference points: the event's fields or its `@metadata`, then a path of keys.
/// A numeric segment indexes into an array (`[tags][0]`, `[list][-1]`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FieldRef {
    metadata: bool,
    path: Box<[Text]>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid field reference `{reference}`: {reason}")]
pub struct FieldRefError {
    pub reference: String,
    pub reason: &'static str,
}

impl FieldRef {
    /// Parses Logstash's strict field-reference syntax: a bare name (`message`,
    /// `@timestamp`, `log.level` is one key containing a dot) or bracketed segments
    /// (`[log][file][path]`).
    pub fn parse(reference: &str) -> Result<FieldRef, FieldRefError> {
        let error = |reason| FieldRefError {
            reference: reference.to_owned(),
            reason,
        };
        if reference.is_empty() {
            return Err(error("it is empty"));
        }
        let mut segments = Vec::new();
        if !reference.starts_with('[') {
            if reference.contains(['[', ']']) {
                return Err(error(
                    "a bare name cannot contain `[` or `]`; write every segment in brackets, e.g. `[a][b]`",
                ));
            }
            segments.push(reference);
        } else {
            let mut rest = reference;
            while !rest.is_empty() {
                let Some(inner) = rest.strip_prefix('[') else {
                    return Err(error("text outside brackets after a `]`"));
                };
                let Some(end) = inner.find(']') else {
                    return Err(error("a `[` is never closed"));
                };
                let segment = &inner[..end];
                if segment.is_empty() {
                    return Err(error("an empty segment `[]`"));
                }
                if segment.contains('[') {
                    return Err(error("a `[` inside a segment"));
                }
                segments.push(segment);
                rest = &inner[end + 1..];
            }
        }
        let metadata = segments.first() == Some(&"@metadata");
        let path = segments
            .into_iter()
            .skip(usize::from(metadata))
            .map(Text::from)
            .collect();
        Ok(FieldRef { metadata, path })
    }

    /// A reference to one top-level field, e.g. `FieldRef::top("message")`.
    pub fn top(name: &str) -> FieldRef {
        FieldRef {
            metadata: name == "@metadata",
            path: if name == "@metadata" {
                Box::new([])
            } else {
                Box::new([Text::from(name)])
            },
        }
    }

    pub fn is_metadata(&self) -> bool {
        self.metadata
    }

    pub fn path(&self) -> &[Text] {
        &self.path
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.metadata {
            f.write_str("[@metadata]")?;
        }
        for segment in self.path.iter() {
            write!(f, "[{segment}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bare_and_bracketed_forms() {
        assert_eq!(
            FieldRef::parse("message").unwrap(),
            FieldRef::top("message")
        );
        assert_eq!(
            FieldRef::parse("[message]").unwrap(),
            FieldRef::top("message")
        );
        let nested = FieldRef::parse("[log][file][path]").unwrap();
        assert_eq!(nested.path(), ["log", "file", "path"]);
        assert!(!nested.is_metadata());
        let meta = FieldRef::parse("[@metadata][beat]").unwrap();
        assert!(meta.is_metadata());
        assert_eq!(meta.path(), ["beat"]);
        assert_eq!(meta.to_string(), "[@metadata][beat]");
        assert_eq!(FieldRef::parse("log.level").unwrap().path(), ["log.level"]);
        assert_eq!(
            FieldRef::parse("@timestamp").unwrap().path(),
            ["@timestamp"]
        );
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in ["", "a[b]", "[a]b", "[a", "[]", "[a][[b]]", "[a]]"] {
            assert!(FieldRef::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let message = FieldRef::parse("[a").unwrap_err().to_string();
        assert_eq!(
            message,
            "invalid field reference `[a`: a `[` is never closed"
        );
    }
}
