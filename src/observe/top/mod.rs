//! `sluice top`: a live terminal view of a running Sluice, in the spirit of `vector top`. It
//! scrapes the API's `/metrics` page at a fixed interval and shows, per pipeline, events/s in
//! and out, queue fill, the Beats ACK latency p95 and the dead-letter queue's size; per plugin,
//! events/s and filter failures (grok); Elasticsearch results and refused items; spans per
//! endpoint. When Sluice goes away it says so and keeps trying; `q`, Esc or Ctrl-C quits.

mod ui;
pub mod view;

use std::io;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;

use crate::observe::{exposition, probe};
use ui::Status;
use view::{Scrape, View};

/// A `/metrics` page larger than this is refused; Sluice's own are tens of kilobytes.
const MAX_PAGE: u64 = 16 << 20;

/// Runs until the user quits; the terminal is restored whatever happens.
pub fn run(address: &str, interval: Duration) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = show(&mut terminal, address, interval);
    ratatui::restore();
    result
}

fn show(terminal: &mut DefaultTerminal, address: &str, interval: Duration) -> io::Result<()> {
    let mut last: Option<Scrape> = None;
    let mut view = View::default();
    loop {
        let next = Instant::now() + interval;
        let status = match scrape(address, interval) {
            Ok(scrape) => {
                view = View::between(last.as_ref(), &scrape);
                last = Some(scrape);
                Status::Connected
            }
            Err(why) => {
                // Whatever answers next may be a restarted Sluice: rates start over.
                last = None;
                Status::Disconnected(why)
            }
        };
        terminal.draw(|frame| ui::draw(frame, address, &status, &view))?;
        // Keys are handled as they come; a resize redraws at once.
        while let Some(wait) = next.checked_duration_since(Instant::now()) {
            if !event::poll(wait)? {
                break;
            }
            match event::read()? {
                Event::Key(key)
                    if key.kind == KeyEventKind::Press && quits(key.code, key.modifiers) =>
                {
                    return Ok(())
                }
                Event::Resize(..) => {
                    terminal.draw(|frame| ui::draw(frame, address, &status, &view))?;
                }
                _ => {}
            }
        }
    }
}

fn quits(code: KeyCode, modifiers: KeyModifiers) -> bool {
    matches!(code, KeyCode::Char('q') | KeyCode::Esc)
        || (code == KeyCode::Char('c') && modifiers.contains(KeyModifiers::CONTROL))
}

fn scrape(address: &str, timeout: Duration) -> Result<Scrape, String> {
    let page = probe::fetch(
        address,
        "/metrics",
        timeout.max(Duration::from_secs(1)),
        MAX_PAGE,
    )?;
    let at = Instant::now();
    let page = String::from_utf8(page).map_err(|_| "/metrics is not UTF-8".to_owned())?;
    let samples = exposition::parse(&page).map_err(|e| format!("/metrics, {e}"))?;
    Ok(Scrape { at, samples })
}
