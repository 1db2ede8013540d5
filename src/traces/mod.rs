//! Traces: spans from OTLP and Jaeger endpoints, in Jaeger's model, on their way to
//! Jaeger's Elasticsearch schema.

pub mod model;
