//! OTLP in: the request messages ([`wire`]), OTLP/JSON read into them ([`json`]), spans
//! mapped onto Jaeger's model ([`spans`], `shared/reference/traces.md` §3) and attribute
//! values rendered as Jaeger renders them ([`values`]). The `otlp` input
//! (`crate::inputs::otlp`) decodes a request with these and the logs half reuses the wire
//! types and values.
//!
//! An item that cannot be stored (a span without a valid trace or span id, a log record with
//! a malformed one) is rejected on its own and counted by [`Rejection`]; the rest of its
//! request goes on.

pub mod json;
pub mod spans;
pub mod values;
pub mod wire;

/// Why one span or log record was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    TraceIdLength,
    TraceIdZero,
    SpanIdLength,
    SpanIdZero,
    ParentSpanIdLength,
}

impl Rejection {
    /// Every reason, in the order of their counts.
    pub const ALL: [Rejection; 5] = [
        Rejection::TraceIdLength,
        Rejection::TraceIdZero,
        Rejection::SpanIdLength,
        Rejection::SpanIdZero,
        Rejection::ParentSpanIdLength,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::TraceIdLength => "trace_id_length",
            Rejection::TraceIdZero => "trace_id_zero",
            Rejection::SpanIdLength => "span_id_length",
            Rejection::SpanIdZero => "span_id_zero",
            Rejection::ParentSpanIdLength => "parent_span_id_length",
        }
    }

    /// What the sender reads in the partial-success message.
    pub fn message(self) -> &'static str {
        match self {
            Rejection::TraceIdLength => "trace_id must be 16 bytes (32 hex digits in JSON)",
            Rejection::TraceIdZero => "trace_id must not be all zeros",
            Rejection::SpanIdLength => "span_id must be 8 bytes (16 hex digits in JSON)",
            Rejection::SpanIdZero => "span_id must not be all zeros",
            Rejection::ParentSpanIdLength => "parent_span_id must be empty or 8 bytes",
        }
    }
}

/// How many items of one request were refused, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejections {
    counts: [u64; Rejection::ALL.len()],
}

impl Rejections {
    pub fn add(&mut self, reason: Rejection) {
        self.counts[reason as usize] += 1;
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Each reason that occurred, with its count.
    pub fn iter(&self) -> impl Iterator<Item = (Rejection, u64)> + '_ {
        Rejection::ALL
            .into_iter()
            .zip(self.counts)
            .filter(|(_, n)| *n > 0)
    }

    /// One line for the partial-success answer: every reason with its count.
    pub fn message(&self) -> String {
        self.iter()
            .map(|(reason, n)| format!("{n} rejected: {}", reason.message()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
