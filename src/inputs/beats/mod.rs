//! The `beats` input: Filebeat and other Beats (and Logstash's lumberjack output, pylogbeat)
//! speaking Lumberjack v1/v2 over TCP, optionally TLS.
//!
//! - [`frame`]: bytes to windows (zero-copy, bounded).

pub mod frame;
