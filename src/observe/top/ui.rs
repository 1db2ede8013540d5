//! Draws a [`View`] with ratatui: a status line (the address, connected or why not), the
//! pipelines, their plugins, and the Elasticsearch and span counters side by side.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::view::{self, View};

/// Whether the last scrape worked.
pub enum Status {
    Connected,
    /// The last scrape failed, with why; the view is the last one that worked.
    Disconnected(String),
}

pub fn draw(frame: &mut Frame, address: &str, status: &Status, view: &View) {
    let [header, pipelines, plugins, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(view.pipelines.len() as u16 + 3),
        Constraint::Fill(2),
        Constraint::Fill(1),
    ])
    .areas(frame.area());
    let state = match status {
        Status::Connected => Line::styled(
            format!("sluice top: {address}, connected. q quits"),
            Style::new().fg(Color::Green),
        ),
        Status::Disconnected(why) => Line::styled(
            format!("sluice top: {address}, disconnected ({why}); retrying. q quits"),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
    };
    frame.render_widget(Paragraph::new(state), header);
    draw_pipelines(frame, pipelines, &view.pipelines);
    draw_plugins(frame, plugins, &view.plugins);
    let [elasticsearch, spans] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
    draw_counters(
        frame,
        elasticsearch,
        "Elasticsearch events and refused items",
        &view.elasticsearch,
    );
    draw_counters(frame, spans, "Spans and log records received", &view.spans);
}

fn header(titles: &[&'static str]) -> Row<'static> {
    Row::new(titles.iter().copied()).style(Style::new().add_modifier(Modifier::BOLD))
}

fn draw_pipelines(frame: &mut Frame, area: Rect, rows: &[view::PipelineRow]) {
    let rows = rows.iter().map(|p| {
        Row::new([
            Cell::new(p.pipeline.clone()),
            Cell::new(per_second(p.events_in)),
            Cell::new(per_second(p.events_out)),
            Cell::new(format!("{:.0}/{:.0}", p.queued, p.capacity)),
            Cell::new(p.ack_p95.map_or_else(|| "-".to_owned(), seconds)),
            Cell::new(bytes(p.dead_letter_bytes)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(13),
            Constraint::Length(9),
            Constraint::Length(10),
        ],
    )
    .header(header(&[
        "Pipeline", "In/s", "Out/s", "Queue", "ACK p95", "DLQ",
    ]))
    .block(Block::bordered().title("Pipelines"));
    frame.render_widget(table, area);
}

fn draw_plugins(frame: &mut Frame, area: Rect, rows: &[view::PluginRow]) {
    let rows = rows.iter().map(|p| {
        Row::new([
            Cell::new(p.pipeline.clone()),
            Cell::new(p.plugin.clone()),
            Cell::new(p.kind),
            Cell::new(per_second(p.rate)),
            Cell::new(count(p.total)),
            Cell::new(p.failures.map_or_else(String::new, per_second)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Fill(2),
            Constraint::Length(7),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(10),
        ],
    )
    .header(header(&[
        "Pipeline", "Plugin", "Kind", "Events/s", "Total", "Failed/s",
    ]))
    .block(Block::bordered().title("Plugins"));
    frame.render_widget(table, area);
}

fn draw_counters(frame: &mut Frame, area: Rect, title: &'static str, rows: &[view::Row]) {
    let rows = rows.iter().map(|r| {
        Row::new([
            // Plugin ids name their file and line, which tells the pipeline too.
            Cell::new(r.plugin.clone()),
            Cell::new(r.what.clone()),
            Cell::new(per_second(r.rate)),
            Cell::new(count(r.total)),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(header(&["Plugin", "What", "Per s", "Total"]))
    .block(Block::bordered().title(title));
    frame.render_widget(table, area);
}

fn per_second(rate: f64) -> String {
    if rate >= 10.0 {
        count(rate)
    } else {
        format!("{rate:.1}")
    }
}

/// `12345678` as `12.3M`: columns stay narrow and readable at a glance.
fn count(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.1}G", n / 1e9),
        n if n >= 1e6 => format!("{:.1}M", n / 1e6),
        n if n >= 1e4 => format!("{:.1}k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

fn seconds(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1}ms", s * 1e3)
    } else {
        format!("{s:.2}s")
    }
}

fn bytes(n: f64) -> String {
    match n {
        n if n >= (1u64 << 30) as f64 => format!("{:.1}GiB", n / (1u64 << 30) as f64),
        n if n >= (1 << 20) as f64 => format!("{:.1}MiB", n / (1 << 20) as f64),
        n if n >= 1024.0 => format!("{:.1}KiB", n / 1024.0),
        n => format!("{n:.0}B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short() {
        assert_eq!(per_second(0.25), "0.2");
        assert_eq!(per_second(1234.0), "1234");
        assert_eq!(count(123_456_789.0), "123.5M");
        assert_eq!(count(45_600.0), "45.6k");
        assert_eq!(seconds(0.0123), "12.3ms");
        assert_eq!(seconds(2.5), "2.50s");
        assert_eq!(bytes(4096.0), "4.0KiB");
        assert_eq!(bytes(12.0), "12B");
    }

    #[test]
    fn draws_every_section_and_the_disconnected_state() {
        use ratatui::backend::TestBackend;
        let view = View {
            pipelines: vec![view::PipelineRow {
                pipeline: "mangakai-logs".into(),
                events_in: 1500.0,
                events_out: 1500.0,
                queued: 3.0,
                capacity: 250.0,
                ack_p95: Some(0.02),
                dead_letter_bytes: 0.0,
            }],
            plugins: vec![],
            elasticsearch: vec![],
            spans: vec![],
        };
        let mut terminal = ratatui::Terminal::new(TestBackend::new(100, 20)).unwrap();
        let status = Status::Disconnected("connection refused".into());
        terminal
            .draw(|f| draw(f, "127.0.0.1:9600", &status, &view))
            .unwrap();
        let screen: String = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        for text in [
            "disconnected (connection refused)",
            "mangakai-logs",
            "1500",
            "20.0ms",
            "Plugins",
            "Spans and log records received",
        ] {
            assert!(screen.contains(text), "{text} is not on screen:\n{screen}");
        }
    }
}
