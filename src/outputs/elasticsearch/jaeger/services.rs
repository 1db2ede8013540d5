//! Service documents: one `{serviceName, operationName}` per pair and dated service index,
//! which is all Jaeger Query's service and operation lists read.
//!
//! The `_id` is Jaeger's (FNV-1a 64 of the two names, lowercase hex), so a pair written again
//! overwrites itself. [`WrittenServices`] remembers the pairs Elasticsearch has taken, so that
//! a busy service does not cost one service document per span: bounded (Jaeger's 100 000
//! entries) and forgetting after a TTL (Jaeger's 12 h), so a deleted index is refilled. It
//! remembers a pair per index date, where Jaeger remembers it for 12 h whatever the date: a
//! new day's index gets its service documents at once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// FNV-1a 64 of `service` then `operation`, as Jaeger's `hashCode` computes the `_id`.
pub fn service_id(service: &str, operation: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    service
        .bytes()
        .chain(operation.bytes())
        .fold(OFFSET, |hash, b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

/// The `_id` as Jaeger writes it: lowercase hex without padding (`strconv.FormatUint(h, 16)`).
pub fn service_id_hex(id: u64) -> String {
    format!("{id:x}")
}

/// A pair in one dated index: the service `_id` and the index period (start time divided by
/// the period's length).
pub type ServiceKey = (u64, i64);

/// The service documents known to be in Elasticsearch: a least-recently-used set with a TTL.
///
/// It is kept as two generations of at most `capacity / 2` entries: lookups and inserts go to
/// the young one, a hit in the old one moves the entry up, and when the young one is full the
/// old one is dropped whole. So at most `capacity` entries are held and what goes is what was
/// least recently used, at the cost of an eviction granularity of half the capacity; each
/// operation is O(1).
#[derive(Debug)]
pub struct WrittenServices {
    capacity: usize,
    ttl: Duration,
    young: HashMap<ServiceKey, Instant>,
    old: HashMap<ServiceKey, Instant>,
}

impl WrittenServices {
    pub fn new(capacity: usize, ttl: Duration) -> WrittenServices {
        WrittenServices {
            capacity: capacity.max(2),
            ttl,
            young: HashMap::new(),
            old: HashMap::new(),
        }
    }

    /// Whether `key` was written less than the TTL ago.
    pub fn contains(&mut self, key: ServiceKey, now: Instant) -> bool {
        let fresh = |written: &Instant| now.saturating_duration_since(*written) < self.ttl;
        if let Some(written) = self.young.get(&key) {
            return fresh(written);
        }
        match self.old.remove(&key) {
            Some(written) if fresh(&written) => {
                self.put(key, written);
                true
            }
            _ => false,
        }
    }

    /// Remembers that Elasticsearch took `key`'s document at `now`.
    pub fn insert(&mut self, key: ServiceKey, now: Instant) {
        self.old.remove(&key);
        self.put(key, now);
    }

    fn put(&mut self, key: ServiceKey, written: Instant) {
        if self.young.len() >= self.capacity / 2 && !self.young.contains_key(&key) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, written);
    }

    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_jaegers_fnv1a() {
        assert_eq!(service_id_hex(service_id("svc", "op")), "beeb439ca26071e2");
        // FNV-1a's offset basis: the id of two empty names.
        assert_eq!(service_id_hex(service_id("", "")), "cbf29ce484222325");
        // The names are concatenated, as Jaeger does (so these collide there too).
        assert_eq!(service_id("sv", "cop"), service_id("svc", "op"));
        assert_eq!(service_id_hex(1), "1", "unpadded");
    }

    #[test]
    fn remembered_until_the_ttl() {
        let mut seen = WrittenServices::new(10, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(!seen.contains((1, 0), t0));
        seen.insert((1, 0), t0);
        assert!(seen.contains((1, 0), t0 + Duration::from_secs(59)));
        assert!(!seen.contains((1, 1), t0), "another index period");
        assert!(!seen.contains((1, 0), t0 + Duration::from_secs(60)));
        seen.insert((1, 0), t0 + Duration::from_secs(60));
        assert!(seen.contains((1, 0), t0 + Duration::from_secs(61)));
    }

    #[test]
    fn bounded_and_least_recently_used_goes_first() {
        let mut seen = WrittenServices::new(4, Duration::from_secs(3600));
        let now = Instant::now();
        for id in 0..1000 {
            seen.insert((id, 0), now);
            assert!(seen.len() <= 4);
        }
        let mut seen = WrittenServices::new(4, Duration::from_secs(3600));
        seen.insert((1, 0), now);
        seen.insert((2, 0), now);
        seen.insert((3, 0), now); // 1 and 2 are now the old generation
        assert!(seen.contains((1, 0), now), "used: moves up");
        seen.insert((4, 0), now);
        seen.insert((5, 0), now);
        assert!(seen.contains((5, 0), now));
        assert!(!seen.contains((2, 0), now), "unused longest: gone");
        assert!(seen.len() <= 4);
    }
}
