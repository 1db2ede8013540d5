//! A criterion measurement that reads the bench thread's CPU time instead of the wall clock.
//!
//! The benches run on a machine shared with other engineers' builds; under a load average of
//! 10 a single-threaded bench gets a fraction of a core and its wall-clock figure says more
//! about the neighbours than the code. The CPU time the thread itself spent does not count
//! the time it waited for a core (caches shared with the neighbours still cost something).
//! Shared by the benches with `#[path]`.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

pub struct ThreadCpuTime;

/// Nanoseconds of CPU time the calling thread has used.
pub fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_nanos() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, nanos: &u64) -> f64 {
        *nanos as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuTimeFormatter
    }
}

/// Formats CPU nanoseconds as criterion formats wall-clock ones, and elements per CPU second.
struct CpuTimeFormatter;

impl ValueFormatter for CpuTimeFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns cpu"),
            t if t < 1e6 => (1e-3, "µs cpu"),
            t if t < 1e9 => (1e-6, "ms cpu"),
            _ => (1e-9, "s cpu"),
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let Throughput::Elements(count) = *throughput else {
            unimplemented!("CPU-time throughput is reported in elements only");
        };
        let count = count as f64;
        let (divisor, unit) = match count * 1e9 / typical {
            r if r < 1e6 => (1e3, "Kelem/cpu-s"),
            _ => (1e6, "Melem/cpu-s"),
        };
        values
            .iter_mut()
            .for_each(|v| *v = count * 1e9 / *v / divisor);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
