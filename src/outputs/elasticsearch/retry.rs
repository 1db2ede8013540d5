//! How long to wait before trying again: exponential backoff with jitter.
//!
//! Logstash doubles its wait from `retry_initial_interval` up to `retry_max_interval`. We do
//! the same and spread each wait over its upper half at random, so the many batches that a
//! 429 storm rejects together do not come back together.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The ceiling of the next wait: `initial · 2^attempt`, at most `max`.
    fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The next wait, somewhere in `[ceiling/2, ceiling]`; each call doubles the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// How many waits have been handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Progress was made: the next wait starts small again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_max_with_jitter_in_the_upper_half() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let ceilings = [100u64, 200, 400, 800, 1000, 1000];
        for c in ceilings {
            let d = b.next_delay().as_millis() as u64;
            assert!(d >= c / 2 && d <= c, "delay {d} outside [{}, {c}]", c / 2);
        }
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[test]
    fn never_overflows() {
        let mut b = Backoff::new(Duration::from_secs(2), Duration::from_secs(64));
        for _ in 0..200 {
            assert!(b.next_delay() <= Duration::from_secs(64));
        }
    }
}
