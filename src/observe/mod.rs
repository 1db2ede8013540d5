//! Self-observation: Prometheus metrics and the HTTP API (`/metrics`, `/health`, `/ready`,
//! `/live`), the log output set-up, and the probe `sluice health` runs against the API.

pub mod api;
pub mod logging;
pub mod metrics;
pub mod probe;
