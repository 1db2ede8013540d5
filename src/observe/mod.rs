//! Self-observation: Prometheus metrics and the HTTP API (`/metrics`, `/health`, `/ready`,
//! `/live`), the log output set-up, the probe `sluice health` runs against the API, and
//! `sluice top`, which reads the API's metrics back.

pub mod api;
pub mod exposition;
pub mod logging;
pub mod metrics;
pub mod probe;
pub mod top;
