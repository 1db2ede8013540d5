//! Where events leave Sluice.

pub mod elasticsearch;
