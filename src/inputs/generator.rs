//! `generator`: makes events from `lines` (cycled) or `message`, `count` times (0: forever).
//! For tests, benchmarks and trying a pipeline out.

use super::{BoxFuture, Input, InputContext, PluginError};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, Object, Text, Value};

pub struct Generator {
    lines: Vec<Text>,
    count: u64,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Input>, ConfigError> {
    let mut lines: Vec<Text> = settings
        .string_list("lines")?
        .into_iter()
        .map(|l| Text::from(l.node))
        .collect();
    let message = settings.string_or("message", "Hello world!")?;
    if lines.is_empty() {
        lines.push(Text::from(message));
    }
    let count = settings.integer_in("count", 0..=i64::MAX, 0)? as u64;
    settings.string("codec")?;
    settings.integer("threads")?;
    Ok(Box::new(Generator { lines, count }))
}

/// Events per batch handed to the queue: Logstash's default pipeline batch size.
const BATCH: u64 = 125;

impl Input for Generator {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            ctx.mark_ready();
            let host = {
                let mut host = Object::with_capacity(1);
                host.push_unchecked(Text::from_static("name"), Value::String(super::hostname()));
                Value::Object(host)
            };
            let mut sequence: u64 = 0;
            let cycle = self.lines.len() as u64;
            while self.count == 0 || sequence < self.count {
                let n = if self.count == 0 {
                    BATCH
                } else {
                    BATCH.min(self.count - sequence)
                };
                let mut batch = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let line = self.lines[(sequence % cycle) as usize].clone();
                    let mut fields = Object::with_capacity(4);
                    fields.push_unchecked(Text::from_static("message"), Value::String(line));
                    fields.push_unchecked(Text::from_static("host"), host.clone());
                    let mut event_info = Object::with_capacity(1);
                    event_info.push_unchecked(
                        Text::from_static("sequence"),
                        Value::Integer(sequence as i64),
                    );
                    fields.push_unchecked(Text::from_static("event"), Value::Object(event_info));
                    batch.push(Event::new(fields));
                    sequence += 1;
                }
                tokio::select! {
                    biased;
                    _ = ctx.shutdown().cancelled() => break,
                    sent = ctx.send(batch) => if sent.is_err() { break },
                }
            }
            Ok(())
        })
    }
}
