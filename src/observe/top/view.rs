//! What `sluice top` shows, computed from two scrapes of `/metrics`: per-second rates are the
//! difference of each counter over the time between the scrapes (a counter that went down
//! belongs to a restarted Sluice and counts from zero), and the ACK latency p95 comes from
//! the histogram buckets that moved in between, as PromQL's `histogram_quantile` over `rate`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use crate::observe::exposition::Sample;

/// One scrape of `/metrics`.
pub struct Scrape {
    pub at: Instant,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Default, PartialEq)]
pub struct View {
    pub pipelines: Vec<PipelineRow>,
    pub plugins: Vec<PluginRow>,
    /// What became of the events each Elasticsearch output received, and the items it refused
    /// by status and error type.
    pub elasticsearch: Vec<Row>,
    /// Spans and log records per input endpoint.
    pub spans: Vec<Row>,
}

#[derive(Debug, PartialEq)]
pub struct PipelineRow {
    pub pipeline: String,
    pub events_in: f64,
    pub events_out: f64,
    pub queued: f64,
    pub capacity: f64,
    /// Seconds, when windows were ACKed between the two scrapes (or, on the first one, ever).
    pub ack_p95: Option<f64>,
    pub dead_letter_bytes: f64,
}

#[derive(Debug, PartialEq)]
pub struct PluginRow {
    pub pipeline: String,
    pub plugin: String,
    pub kind: &'static str,
    pub rate: f64,
    pub total: f64,
    /// Filters only: events the filter did not apply to (a grok without a match), per second.
    pub failures: Option<f64>,
}

/// A counter of one plugin: what it counts, per second and in total.
#[derive(Debug, PartialEq)]
pub struct Row {
    pub pipeline: String,
    pub plugin: String,
    pub what: String,
    pub rate: f64,
    pub total: f64,
}

/// Series identity: name and labels as rendered.
type Key<'a> = (&'a str, &'a [(String, String)]);

struct Delta<'a> {
    previous: HashMap<Key<'a>, f64>,
    seconds: f64,
    current: &'a [Sample],
}

impl<'a> Delta<'a> {
    fn new(previous: Option<&'a Scrape>, current: &'a Scrape) -> Delta<'a> {
        Delta {
            previous: previous
                .map(|p| {
                    p.samples
                        .iter()
                        .map(|s| ((s.name.as_str(), s.labels.as_slice()), s.value))
                        .collect()
                })
                .unwrap_or_default(),
            seconds: previous.map_or(0.0, |p| current.at.duration_since(p.at).as_secs_f64()),
            current: &current.samples,
        }
    }

    fn named(&self, name: &'a str) -> impl Iterator<Item = &'a Sample> {
        self.current.iter().filter(move |s| s.name == name)
    }

    /// How much the counter grew since the previous scrape (all of it after a reset).
    fn increase(&self, sample: &Sample) -> f64 {
        match self
            .previous
            .get(&(sample.name.as_str(), sample.labels.as_slice()))
        {
            Some(&before) if before <= sample.value => sample.value - before,
            Some(_) => sample.value,
            None if self.previous.is_empty() => 0.0,
            None => sample.value,
        }
    }

    fn rate(&self, sample: &Sample) -> f64 {
        if self.seconds > 0.0 {
            self.increase(sample) / self.seconds
        } else {
            0.0
        }
    }

    /// `sum by (group) (rate(name))` and the summed totals, ordered by group.
    fn sum_by<G: Ord>(
        &self,
        name: &'a str,
        group: impl Fn(&Sample) -> G,
    ) -> BTreeMap<G, (f64, f64)> {
        let mut sums = BTreeMap::new();
        for sample in self.named(name) {
            let entry = sums.entry(group(sample)).or_insert((0.0, 0.0));
            entry.0 += self.rate(sample);
            entry.1 += sample.value;
        }
        sums
    }

    fn plugin_rows(&self, name: &'a str, what: impl Fn(&Sample) -> String, rows: &mut Vec<Row>) {
        let sums = self.sum_by(name, |s| {
            (
                s.label("pipeline").to_owned(),
                s.label("plugin").to_owned(),
                what(s),
            )
        });
        rows.extend(
            sums.into_iter()
                .map(|((pipeline, plugin, what), (rate, total))| Row {
                    pipeline,
                    plugin,
                    what,
                    rate,
                    total,
                }),
        );
    }

    /// The 0.95 quantile of the buckets of `name` in `pipeline` that filled since the
    /// previous scrape (or ever, on the first), interpolated inside its bucket.
    fn p95(&self, name: &'a str, pipeline: &str) -> Option<f64> {
        let mut buckets: Vec<(f64, f64)> = Vec::new();
        for sample in self.named(name).filter(|s| s.label("pipeline") == pipeline) {
            let Ok(bound) = sample.label("le").parse::<f64>() else {
                continue;
            };
            let count = if self.previous.is_empty() {
                sample.value
            } else {
                self.increase(sample)
            };
            match buckets.iter_mut().find(|(b, _)| *b == bound) {
                Some((_, c)) => *c += count,
                None => buckets.push((bound, count)),
            }
        }
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = 0.95 * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for &(bound, count) in &buckets {
            if count >= rank {
                if bound.is_infinite() {
                    return Some(lower);
                }
                let share = if count > below {
                    (rank - below) / (count - below)
                } else {
                    1.0
                };
                return Some(lower + (bound - lower) * share);
            }
            (lower, below) = (bound, count);
        }
        None
    }
}

impl View {
    pub fn between(previous: Option<&Scrape>, current: &Scrape) -> View {
        let delta = Delta::new(previous, current);
        let pipeline = |s: &Sample| s.label("pipeline").to_owned();
        let events_in = delta.sum_by("sluice_input_events_total", pipeline);
        let events_out = delta.sum_by("sluice_pipeline_events_out_total", pipeline);
        let queued = delta.sum_by("sluice_pipeline_queue_events", pipeline);
        let capacity = delta.sum_by("sluice_pipeline_queue_capacity_events", pipeline);
        let dead_letters = delta.sum_by("sluice_dead_letter_queue_bytes", pipeline);
        let pipelines = capacity
            .iter()
            .map(|(name, &(_, capacity))| PipelineRow {
                pipeline: name.clone(),
                events_in: events_in.get(name).map_or(0.0, |v| v.0),
                events_out: events_out.get(name).map_or(0.0, |v| v.0),
                queued: queued.get(name).map_or(0.0, |v| v.1),
                capacity,
                ack_p95: delta.p95("sluice_beats_ack_latency_seconds_bucket", name),
                dead_letter_bytes: dead_letters.get(name).map_or(0.0, |v| v.1),
            })
            .collect();

        let by_plugin = |s: &Sample| (s.label("pipeline").to_owned(), s.label("plugin").to_owned());
        let failures = delta.sum_by("sluice_filter_failures_total", by_plugin);
        let mut plugins = Vec::new();
        for (name, kind) in [
            ("sluice_input_events_total", "input"),
            ("sluice_filter_events_in_total", "filter"),
            ("sluice_output_events_total", "output"),
        ] {
            plugins.extend(delta.sum_by(name, by_plugin).into_iter().map(
                |(key, (rate, total))| PluginRow {
                    failures: (kind == "filter").then(|| failures.get(&key).map_or(0.0, |f| f.0)),
                    pipeline: key.0,
                    plugin: key.1,
                    kind,
                    rate,
                    total,
                },
            ));
        }
        plugins.sort_by(|a, b| {
            (&a.pipeline, kind_order(a.kind)).cmp(&(&b.pipeline, kind_order(b.kind)))
        });

        let mut elasticsearch = Vec::new();
        delta.plugin_rows(
            "sluice_elasticsearch_events_total",
            |s| s.label("result").to_owned(),
            &mut elasticsearch,
        );
        delta.plugin_rows(
            "sluice_elasticsearch_item_errors_total",
            |s| format!("{} {}", s.label("status"), s.label("type")),
            &mut elasticsearch,
        );
        let mut spans = Vec::new();
        delta.plugin_rows(
            "sluice_jaeger_spans_received_total",
            |s| format!("jaeger {}", s.label("endpoint")),
            &mut spans,
        );
        delta.plugin_rows(
            "sluice_otlp_items_received_total",
            |s| format!("otlp {} {}", s.label("signal"), s.label("transport")),
            &mut spans,
        );
        View {
            pipelines,
            plugins,
            elasticsearch,
            spans,
        }
    }
}

/// Inputs, then filters, then outputs, as events flow (a stable sort keeps names in order).
fn kind_order(kind: &str) -> u8 {
    match kind {
        "input" => 0,
        "filter" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::observe::exposition::parse;

    fn scrape(at: Instant, page: &str) -> Scrape {
        Scrape {
            at,
            samples: parse(page).unwrap(),
        }
    }

    const LABELS: &str = r#"pipeline="main",plugin="beats@a:1""#;

    fn page(events: u64, fast_acks: u64, slow_acks: u64) -> String {
        format!(
            r#"sluice_input_events_total{{{LABELS}}} {events}
sluice_pipeline_events_out_total{{pipeline="main"}} {events}
sluice_pipeline_queue_events{{pipeline="main"}} 30
sluice_pipeline_queue_capacity_events{{pipeline="main"}} 250
sluice_dead_letter_queue_bytes{{pipeline="main"}} 4096
sluice_filter_events_in_total{{pipeline="main",plugin="grok@a:5"}} {events}
sluice_filter_failures_total{{pipeline="main",plugin="grok@a:5"}} {failures}
sluice_output_events_total{{pipeline="main",plugin="elasticsearch@a:9"}} {events}
sluice_elasticsearch_events_total{{pipeline="main",plugin="elasticsearch@a:9",result="taken"}} {events}
sluice_elasticsearch_item_errors_total{{pipeline="main",plugin="elasticsearch@a:9",status="400",type="document_parsing_exception"}} 7
sluice_jaeger_spans_received_total{{pipeline="traces",plugin="jaeger@t:2",endpoint="udp_compact",format="thrift_compact"}} {events}
sluice_beats_ack_latency_seconds_bucket{{{LABELS},le="0.1"}} {fast_acks}
sluice_beats_ack_latency_seconds_bucket{{{LABELS},le="1.0"}} {all}
sluice_beats_ack_latency_seconds_bucket{{{LABELS},le="+Inf"}} {all}
"#,
            failures = events / 10,
            all = fast_acks + slow_acks,
        )
    }

    #[test]
    fn rates_are_differences_over_the_time_between_scrapes() {
        let start = Instant::now();
        let first = scrape(start, &page(1000, 10, 0));
        let second = scrape(start + Duration::from_secs(2), &page(3000, 10, 20));
        let view = View::between(Some(&first), &second);
        let main = &view.pipelines[0];
        assert_eq!(main.pipeline, "main");
        assert_eq!((main.events_in, main.events_out), (1000.0, 1000.0));
        assert_eq!((main.queued, main.capacity), (30.0, 250.0));
        assert_eq!(main.dead_letter_bytes, 4096.0);
        // The 20 ACKs since the first scrape all fell in (0.1, 1]: p95 interpolates inside.
        let p95 = main.ack_p95.unwrap();
        assert!((p95 - (0.1 + 0.9 * 0.95)).abs() < 1e-9, "{p95}");

        let kinds: Vec<(&str, &str, f64)> = view
            .plugins
            .iter()
            .filter(|p| p.pipeline == "main")
            .map(|p| (p.kind, p.plugin.as_str(), p.rate))
            .collect();
        assert_eq!(
            kinds,
            [
                ("input", "beats@a:1", 1000.0),
                ("filter", "grok@a:5", 1000.0),
                ("output", "elasticsearch@a:9", 1000.0)
            ]
        );
        assert_eq!(view.plugins[1].failures, Some(100.0));
        assert_eq!(view.plugins[0].failures, None);
        let es: Vec<(&str, f64, f64)> = view
            .elasticsearch
            .iter()
            .map(|r| (r.what.as_str(), r.rate, r.total))
            .collect();
        assert_eq!(
            es,
            [
                ("taken", 1000.0, 3000.0),
                ("400 document_parsing_exception", 0.0, 7.0)
            ]
        );
        assert_eq!(view.spans[0].what, "jaeger udp_compact");
        assert_eq!(view.spans[0].pipeline, "traces");
    }

    #[test]
    fn the_first_scrape_has_totals_and_no_rates_and_a_restart_counts_from_zero() {
        let start = Instant::now();
        let first = scrape(start, &page(1000, 10, 0));
        let view = View::between(None, &first);
        assert_eq!(view.pipelines[0].events_in, 0.0);
        assert_eq!(view.plugins[0].total, 1000.0);
        // Ever since start, all ACKs were fast.
        assert!(view.pipelines[0].ack_p95.unwrap() <= 0.1);

        let restarted = scrape(start + Duration::from_secs(1), &page(50, 10, 0));
        let view = View::between(Some(&first), &restarted);
        assert_eq!(view.pipelines[0].events_in, 50.0);
        // No window was ACKed in between: no latency to show.
        assert_eq!(
            View::between(
                Some(&first),
                &scrape(start + Duration::from_secs(1), &page(1000, 10, 0))
            )
            .pipelines[0]
                .ack_p95,
            None
        );
    }
}
