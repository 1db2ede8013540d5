//! Sluice's own metrics, rendered in the Prometheus text format.
//!
//! Plugins register what they count once, at start, and keep the returned handle; counting
//! on the hot path is one relaxed atomic add. Families are process-wide (one registry), and
//! every series carries a `pipeline` label so pipelines stay apart.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A monotonically increasing count.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }
    pub fn add(&self, v: i64) {
        self.0.fetch_add(v, Ordering::Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Latency buckets in seconds, from 100 µs to 60 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];

/// A histogram over fixed buckets; observations are lock-free.
#[derive(Clone, Debug)]
pub struct Histogram(Arc<HistogramCells>);

/// A latency histogram in no registry, for parts that run unexported (tests, benches).
impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new(LATENCY_BUCKETS)
    }
}

#[derive(Debug)]
pub struct HistogramCells {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in nanounits so it can be an integer atomic.
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// A histogram outside the registry, for a component counting on its own (an output used
    /// without a pipeline); registered ones come from [`Registry::histogram`].
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram(Arc::new(HistogramCells {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }))
    }

    pub fn observe(&self, value: f64) {
        let cells = &self.0;
        if let Some(i) = cells.bounds.iter().position(|b| value <= *b) {
            cells.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        cells.count.fetch_add(1, Ordering::Relaxed);
        cells
            .sum_nanos
            .fetch_add((value.max(0.0) * 1e9) as u64, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

enum Cell {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    series: Vec<(Vec<(&'static str, String)>, Cell)>,
}

/// Every metric of the process.
#[derive(Default)]
pub struct Registry {
    families: Mutex<Vec<Family>>,
}

/// The process-wide registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// Label pairs of one series, e.g. `&[("pipeline", "main"), ("plugin", "grok@main.conf:9")]`.
pub type Labels<'a> = &'a [(&'static str, &'a str)];

impl Registry {
    pub fn counter(&self, name: &'static str, help: &'static str, labels: Labels) -> Counter {
        match self.series(name, help, Kind::Counter, labels, || {
            Cell::Counter(Counter::default())
        }) {
            Cell::Counter(c) => c,
            _ => unreachable!(),
        }
    }

    pub fn gauge(&self, name: &'static str, help: &'static str, labels: Labels) -> Gauge {
        match self.series(name, help, Kind::Gauge, labels, || {
            Cell::Gauge(Gauge::default())
        }) {
            Cell::Gauge(g) => g,
            _ => unreachable!(),
        }
    }

    pub fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        labels: Labels,
        bounds: &'static [f64],
    ) -> Histogram {
        match self.series(name, help, Kind::Histogram, labels, || {
            Cell::Histogram(Histogram::new(bounds))
        }) {
            Cell::Histogram(h) => h,
            _ => unreachable!(),
        }
    }

    /// The series with these labels, created on first use; the same labels give the same
    /// handle, so a restarted plugin keeps counting where it left off.
    fn series(
        &self,
        name: &'static str,
        help: &'static str,
        kind: Kind,
        labels: Labels,
        make: impl FnOnce() -> Cell,
    ) -> Cell {
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let family = match families.iter().position(|f| f.name == name) {
            Some(i) => &mut families[i],
            None => {
                families.push(Family {
                    name,
                    help,
                    kind,
                    series: Vec::new(),
                });
                families.last_mut().expect("just pushed")
            }
        };
        assert_eq!(family.kind, kind, "metric {name} registered with two types");
        // Compared borrowed: a series looked up per request or per error allocates nothing
        // once it exists.
        let same = |series: &[(&'static str, String)]| {
            series.len() == labels.len()
                && series
                    .iter()
                    .zip(labels)
                    .all(|((k, v), (key, value))| k == key && v == value)
        };
        if let Some((_, cell)) = family.series.iter().find(|(l, _)| same(l)) {
            return cell.share();
        }
        let owned: Vec<(&'static str, String)> =
            labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let cell = make();
        let shared = cell.share();
        family.series.push((owned, cell));
        shared
    }

    /// Every family in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for family in families.iter() {
            let kind = match family.kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
                Kind::Histogram => "histogram",
            };
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} {kind}", family.name);
            for (labels, cell) in &family.series {
                match cell {
                    Cell::Counter(c) => {
                        sample(&mut out, family.name, "", labels, None, c.get() as f64)
                    }
                    Cell::Gauge(g) => {
                        sample(&mut out, family.name, "", labels, None, g.get() as f64)
                    }
                    Cell::Histogram(h) => {
                        let cells = &h.0;
                        let mut cumulative = 0;
                        for (bound, bucket) in cells.bounds.iter().zip(&cells.buckets) {
                            cumulative += bucket.load(Ordering::Relaxed);
                            let le = ryu::Buffer::new().format(*bound).to_owned();
                            sample(
                                &mut out,
                                family.name,
                                "_bucket",
                                labels,
                                Some(&le),
                                cumulative as f64,
                            );
                        }
                        let count = cells.count.load(Ordering::Relaxed);
                        sample(
                            &mut out,
                            family.name,
                            "_bucket",
                            labels,
                            Some("+Inf"),
                            count as f64,
                        );
                        let sum = cells.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
                        sample(&mut out, family.name, "_sum", labels, None, sum);
                        sample(&mut out, family.name, "_count", labels, None, count as f64);
                    }
                }
            }
        }
        out
    }
}

impl Cell {
    fn share(&self) -> Cell {
        match self {
            Cell::Counter(c) => Cell::Counter(c.clone()),
            Cell::Gauge(g) => Cell::Gauge(g.clone()),
            Cell::Histogram(h) => Cell::Histogram(h.clone()),
        }
    }
}

fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&'static str, String)],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        let pairs = labels
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(le.map(|le| ("le", le)));
        for (key, value) in pairs {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(key);
            out.push_str("=\"");
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    if value.fract() == 0.0 && value.abs() < 1e15 {
        out.push_str(itoa::Buffer::new().format(value as i64));
    } else {
        out.push_str(ryu::Buffer::new().format(value));
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let registry = Registry::default();
        let c = registry.counter("t_events_total", "Events.", &[("pipeline", "main")]);
        c.add(3);
        let same = registry.counter("t_events_total", "Events.", &[("pipeline", "main")]);
        same.inc();
        registry
            .gauge("t_depth", "Depth.", &[("pipeline", "a\"b")])
            .set(7);
        let h = registry.histogram("t_latency_seconds", "Latency.", &[], &[0.1, 1.0]);
        h.observe(0.05);
        h.observe(0.5);
        h.observe(5.0);
        let text = registry.render();
        assert!(
            text.contains("# TYPE t_events_total counter\nt_events_total{pipeline=\"main\"} 4\n")
        );
        assert!(text.contains("t_depth{pipeline=\"a\\\"b\"} 7\n"));
        assert!(text.contains("t_latency_seconds_bucket{le=\"0.1\"} 1\n"));
        assert!(text.contains("t_latency_seconds_bucket{le=\"1.0\"} 2\n"));
        assert!(text.contains("t_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("t_latency_seconds_count 3\n"));
        assert!(text.contains("t_latency_seconds_sum 5.55\n"));
    }
}
