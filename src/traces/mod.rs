//! Traces: spans from OTLP and Jaeger endpoints, in Jaeger's model ([`model`]), travelling
//! through a pipeline as events whose fields are Jaeger's span document ([`document`]).

pub mod document;
pub mod model;
pub mod parent;
pub mod thrift;
