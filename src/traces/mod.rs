//! Traces: spans from OTLP and Jaeger endpoints, in Jaeger's model ([`model`]), travelling
//! through a pipeline as events whose fields are Jaeger's span document ([`document`]).
//! [`otlp`] maps OTLP requests onto the model, [`thrift`] decodes Jaeger's Thrift batches.

pub mod document;
pub mod model;
pub mod otlp;
pub mod parent;
pub mod thrift;
