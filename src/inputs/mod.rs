//! Inputs: where events enter a pipeline.

pub mod beats;
