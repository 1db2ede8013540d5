//! `drop`: removes events from the pipeline (all of them, or `percentage` of them).
//! A dropped event counts as delivered: its sender is acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Filter, Outcome};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::Event;

pub struct Drop {
    /// Drop one event in `every`; 1 drops all.
    percentage: u64,
    seen: AtomicU64,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Filter>, ConfigError> {
    let percentage = settings.integer_in("percentage", 0..=100, 100)? as u64;
    Ok(Box::new(Drop {
        percentage,
        seen: AtomicU64::new(0),
    }))
}

impl Filter for Drop {
    fn filter(&self, _event: &mut Event) -> Outcome {
        if self.percentage == 100 {
            return Outcome::Dropped;
        }
        // Deterministic spreading rather than randomness: every run drops the same events,
        // which keeps tests and replays reproducible.
        let n = self.seen.fetch_add(1, Ordering::Relaxed) % 100;
        if n < self.percentage {
            Outcome::Dropped
        } else {
            Outcome::Failed
        }
    }
}
