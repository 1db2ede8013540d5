//! `cargo run --release --example beats_loadgen -- [--address HOST:PORT] [options]`
//!
//! Drives a Beats input like Filebeat would and prints events/s. Without `--address` it starts
//! an in-process `beats` input whose sink acknowledges every window at once, measuring the
//! input alone (decode, events, ACKs) over loopback. Only point it at loopback or your own
//! test hosts.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use clap::Parser;
use sluice::event::Event;
use sluice::inputs::beats::loadgen::{loadgen, LoadgenSettings};
use sluice::inputs::beats::{BeatsServer, BeatsSettings, WindowSink};
use sluice::pipeline::receipt::Delivery;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Args {
    /// A running Beats input; by default one is started in this process.
    #[arg(long)]
    address: Option<SocketAddr>,
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    #[arg(long, default_value_t = 2048)]
    window_size: u32,
    #[arg(long, default_value_t = 3)]
    pipelining: usize,
    #[arg(long, default_value_t = 3)]
    compression_level: u32,
}

/// Acknowledges every window as soon as it is submitted.
struct Discard;

impl WindowSink for Discard {
    fn submit(&self, mut events: Vec<Event>) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async move {
            events
                .iter_mut()
                .for_each(|e| e.finalize(Delivery::Delivered));
            true
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let address = match args.address {
        Some(a) => a,
        None => {
            let settings = BeatsSettings {
                address: "127.0.0.1:0".parse()?,
                ..BeatsSettings::default()
            };
            let server = BeatsServer::bind(settings, Arc::new(Discard)).await?;
            let address = server.local_addr()?;
            tokio::spawn(server.run(CancellationToken::new()));
            address
        }
    };
    let settings = LoadgenSettings {
        events: args.events,
        window_size: args.window_size,
        pipelining: args.pipelining,
        compression_level: args.compression_level,
        ..LoadgenSettings::new(address)
    };
    let report = loadgen(&settings).await?;
    println!(
        "{} events in {} windows, {:.3} s, {:.0} events/s, {} keep-alives, {} bytes sent",
        report.events,
        report.windows,
        report.elapsed.as_secs_f64(),
        report.events_per_second(),
        report.keepalives,
        report.bytes_sent
    );
    Ok(())
}
