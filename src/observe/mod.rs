//! Self-observation: Prometheus metrics and the HTTP API (`/metrics`, `/health`, `/ready`,
//! `/live`), and the log output set-up.

pub mod api;
pub mod logging;
pub mod metrics;
