//! The multiline codec in front of a server input's queue: one set of [`Streams`] shared by
//! every connection, a timer that flushes idle streams, and the drain at shutdown.
//!
//! One async lock covers stitching a window *and* queueing what it completed, so the events
//! of a stream reach the queue in the order their lines arrived, whichever connection or the
//! timer completed them. Stitching is a regex test per line; the wait under the lock is the
//! queue's back-pressure, which every connection would feel anyway.
//!
//! At shutdown the connections stop reading but wait for their windows' ACKs, and a
//! buffered line holds its window's ACK: so [`StitchingSink::run_timer`] flushes every stream
//! as soon as shutdown begins, and from then on each window is flushed as it is stitched.

use std::time::Instant;

use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use super::streams::Streams;
use crate::event::Event;
use crate::inputs::EventSink;

struct State {
    streams: Streams,
    draining: bool,
}

/// Where a server input's windows go when it has a multiline codec.
pub struct StitchingSink {
    state: Mutex<State>,
    sink: EventSink,
    /// Wakes the timer when the first stream opens (until then it has no deadline).
    opened: Notify,
}

impl StitchingSink {
    pub fn new(streams: Streams, sink: EventSink) -> StitchingSink {
        StitchingSink {
            state: Mutex::new(State {
                streams,
                draining: false,
            }),
            sink,
            opened: Notify::new(),
        }
    }

    /// Stitches `events` into their streams and queues what they completed; false when the
    /// pipeline no longer takes events. Lines left pending keep their batches' receipts open.
    pub async fn submit(&self, events: Vec<Event>) -> bool {
        let mut state = self.state.lock().await;
        let was_empty = state.streams.open_streams() == 0;
        let mut out = Vec::new();
        let now = Instant::now();
        for event in events {
            state.streams.push(event, now, &mut out);
        }
        if state.draining {
            state.streams.flush_all(&mut out);
        }
        if was_empty && state.streams.open_streams() > 0 {
            self.opened.notify_one();
        }
        out.is_empty() || self.sink.enqueue(out).await.is_ok()
    }

    /// Flushes each stream once it has had no line for `auto_flush_interval`, until
    /// `shutdown`; then flushes every stream and leaves the sink draining.
    pub async fn run_timer(&self, shutdown: CancellationToken) {
        loop {
            let deadline = self.state.lock().await.streams.next_deadline();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.opened.notified() => continue,
                _ = sleep => {}
            }
            let mut state = self.state.lock().await;
            let mut out = Vec::new();
            state.streams.flush_idle(Instant::now(), &mut out);
            if !out.is_empty() && self.sink.enqueue(out).await.is_err() {
                return;
            }
        }
        let mut state = self.state.lock().await;
        state.draining = true;
        let mut out = Vec::new();
        state.streams.flush_all(&mut out);
        if !out.is_empty() {
            let _ = self.sink.enqueue(out).await;
        }
    }
}
