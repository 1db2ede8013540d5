//! Grok throughput: Sluice's engine against the `grok` crate on Oniguruma, in the same run,
//! on the same pattern files and lines, for matching and non-matching lines.
//!
//! Before the criterion groups it prints, per case, ns/line and lines/s for both engines,
//! their ratio, the whole filter's ns/line (building the event included) and what decided the
//! line (the fast path, the required literals or the general engine), after checking that both
//! engines return the same captures. Times are the bench thread's CPU time
//! (`support/thread_cpu_time.rs`): the machine is shared, and wall-clock figures under load
//! say more about the neighbours than about either engine. Run with
//! `cargo bench --bench grok` (`-- --bench none` prints the table alone);
//! `docs/PERFORMANCE.md` records the figures.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sluice::event::{Event, Text};
use sluice::filters::grok::dialect::translate;
use sluice::filters::grok::expand::expand;
use sluice::filters::grok::matcher::Matcher;
use sluice::filters::grok::{EcsCompatibility, Grok, GrokConfig, PatternLibrary};
use thread_cpu_time::{thread_cpu_nanos, ThreadCpuTime};

#[path = "support/thread_cpu_time.rs"]
mod thread_cpu_time;

struct Case {
    name: &'static str,
    pattern: &'static str,
    hit: &'static str,
    miss: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "HTTPD_COMBINEDLOG",
        pattern: "%{HTTPD_COMBINEDLOG}",
        hit: r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36""#,
        miss: r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"#,
    },
    Case {
        name: "SYSLOGLINE",
        pattern: "%{SYSLOGLINE}",
        hit: "Nov 24 16:25:56 web-01 sshd[4242]: Accepted publickey for deploy from 10.1.2.3 port 52144 ssh2",
        miss: "web-01 sshd[4242]: Accepted publickey for deploy from 10.1.2.3 port 52144 ssh2",
    },
    Case {
        name: "NGINXACCESS",
        pattern: "%{NGINXACCESS}",
        hit: r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)""#,
        miss: r#"93.180.71.3 - - [17/May/2015:08:05:32 +0000] "GET /downloads/product_1 HTTP/1.1" 304 0 "-" "Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.21)"#,
    },
    Case {
        name: "seed",
        pattern: "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{DATA:logger} %{GREEDYDATA:message}",
        hit: "2026-11-24T16:25:56.123Z INFO com.mangakai.api.ChapterService Fetched chapter 42 of series 7 in 18 ms",
        miss: "2026-11-24T16:25:56.123Z VERBOSE com.mangakai.api.ChapterService Fetched chapter 42 of series 7 in 18 ms",
    },
    Case {
        name: "log4j",
        pattern: r"%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level}\s+\[%{DATA:thread}\] %{JAVACLASS:class}:%{INT:line} - %{GREEDYDATA:message}",
        hit: "2026-11-24 16:25:56,789 ERROR [http-nio-8080-exec-7] org.apache.catalina.core.StandardWrapperValve:175 - Servlet.service() for servlet [dispatcher] threw exception",
        miss: "2026-11-24 16:25:56,789 ERROR [http-nio-8080-exec-7] org.apache.catalina.core.StandardWrapperValve - Servlet.service() for servlet [dispatcher] threw exception",
    },
];

struct Engines {
    ours: Matcher,
    grok: Grok,
    onig: grok::Pattern,
}

fn engines(pattern: &str) -> Engines {
    let mode = EcsCompatibility::Disabled;
    let library = PatternLibrary::builtin(mode);
    let ours =
        Matcher::new(&translate(&expand(pattern, &library, true).unwrap()).unwrap()).unwrap();
    let mut config = GrokConfig::matching("message", &[pattern]);
    config.ecs_compatibility = mode;
    let grok = Grok::new(config).unwrap();
    let mut oracle = grok::Grok::empty();
    for (_, text) in PatternLibrary::builtin_files(mode)
        .iter()
        .chain(PatternLibrary::extra_files())
    {
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some((name, regex)) = line.split_once(' ') {
                oracle.add_pattern(name.to_owned(), regex.to_owned());
            }
        }
    }
    let onig = oracle.compile(&format!("(?m){pattern}"), true).unwrap();
    Engines { ours, grok, onig }
}

fn ours_spans(m: &Matcher, line: &str) -> usize {
    let mut n = 0;
    m.captures(line, |_, span| n += span.map_or(0, |s| s.len()));
    n
}

fn onig_spans(p: &grok::Pattern, line: &str) -> usize {
    p.match_against(line)
        .map_or(0, |m| m.iter().map(|(_, v)| v.len()).sum())
}

/// CPU ns per call of `f`, timed over about 200 ms of CPU time.
fn time(mut f: impl FnMut() -> usize) -> f64 {
    let mut n = 1u64;
    loop {
        let start = thread_cpu_nanos();
        for _ in 0..n {
            black_box(f());
        }
        let elapsed = thread_cpu_nanos() - start;
        if elapsed > 200_000_000 {
            return elapsed as f64 / n as f64;
        }
        n *= 2;
    }
}

fn report() {
    println!(
        "\n{:<24} {:>10} {:>10} {:>10} {:>14} {:>7} {:>10}",
        "case", "sluice ns", "filter ns", "onig ns", "sluice lines/s", "ratio", "decided by"
    );
    for case in CASES {
        let e = engines(case.pattern);
        for (kind, line) in [("match", case.hit), ("miss", case.miss)] {
            let same = ours_spans(&e.ours, line) == onig_spans(&e.onig, line)
                && e.ours.captures(line, |_, _| {}) == e.onig.match_against(line).is_some();
            assert!(same, "{} {kind}: engines disagree", case.name);
            let ours = time(|| ours_spans(&e.ours, line));
            let text = Text::from(line);
            let filter = time(|| {
                let mut event = Event::from_message(text.clone());
                e.grok.filter(&mut event) as usize
            });
            let onig = time(|| onig_spans(&e.onig, line));
            println!(
                "{:<24} {:>10.0} {:>10.0} {:>10.0} {:>14.0} {:>6.1}x {:>10}",
                format!("{} {kind}", case.name),
                ours,
                filter,
                onig,
                1e9 / ours,
                onig / ours,
                if e.ours.fast_path_decides(line) {
                    "fast path"
                } else if e.ours.required_rejects(line) {
                    "literals"
                } else {
                    "general"
                }
            );
        }
    }
    println!();
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    report();
    for case in CASES {
        let e = engines(case.pattern);
        let mut group = c.benchmark_group(case.name);
        for (kind, line) in [("match", case.hit), ("miss", case.miss)] {
            group.bench_function(format!("sluice/{kind}"), |b| {
                b.iter(|| ours_spans(&e.ours, black_box(line)))
            });
            group.bench_function(format!("onig/{kind}"), |b| {
                b.iter(|| onig_spans(&e.onig, black_box(line)))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
