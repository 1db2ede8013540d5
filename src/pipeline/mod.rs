//! The runtime: the bounded queue between inputs and workers, the worker pool that runs the
//! compiled plan, the fan-out to outputs, receipts flowing back, and shutdown.

pub mod condition;
pub mod plan;
pub mod queue;
pub mod receipt;
pub mod runtime;

pub use runtime::{Pipeline, PipelineSettings, RunningPipeline};
