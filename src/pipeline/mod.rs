//! The runtime: the bounded queue between inputs and workers, the worker pool that runs the
//! compiled filter plan, the fan-out to outputs, receipts flowing back, and shutdown.

pub mod receipt;
