//! Filters: the stages of a pipeline that reshape events.

pub mod grok;
