//! Sluice: a log and trace ingestion pipeline.
//!
//! Data flows one way (inputs → bounded queue → workers running the compiled filter plan →
//! outputs) and receipts flow back (an input acknowledges only what every output has
//! durably taken). See `ARCHITECTURE` notes in `docs/`.

pub mod app;
pub mod codecs;
pub mod config;
pub mod dlq;
pub mod event;
pub mod filters;
pub mod inputs;
pub mod observe;
pub mod outputs;
pub mod pipeline;
pub mod traces;
