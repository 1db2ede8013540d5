//! The `beats` input: Filebeat and other Beats (and Logstash's lumberjack output, pylogbeat)
//! speaking Lumberjack v1/v2 over TCP, optionally TLS.
//!
//! - [`frame`]: bytes to windows (zero-copy, bounded).
//! - [`event`]: a window's payloads to events, shaped as logstash-input-beats shapes them.

pub mod event;
pub mod frame;
mod json_adapter;

pub use json_adapter::JsonError;
