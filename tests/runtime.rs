//! The runtime's promises, end to end inside one process: receipts resolve only when every
//! output has taken every event, a slow output slows the input without losing anything, and
//! shutdown drains what is in flight.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sluice::event::{Event, Text};
use sluice::inputs::{BoxFuture, Decoration, Input, InputContext, PluginError};
use sluice::outputs::{Output, OutputContext};
use sluice::pipeline::plan::{OutputStep, Plan};
use sluice::pipeline::receipt::{Delivery, Receipt};
use sluice::pipeline::runtime::{InputNode, OutputNode};
use sluice::pipeline::{Pipeline, PipelineSettings};
use tokio::sync::mpsc;

/// Sends `batches` batches of `size` events (forever when `batches` is `None`, until
/// shutdown) and reports each receipt with the number of events it covers.
struct ScriptedInput {
    batches: Option<usize>,
    size: usize,
    receipts: mpsc::UnboundedSender<(usize, Receipt)>,
}

impl Input for ScriptedInput {
    fn run(self: Box<Self>, mut ctx: InputContext) -> BoxFuture<Result<(), PluginError>> {
        Box::pin(async move {
            ctx.mark_ready();
            let mut n = 0;
            while self.batches.is_none_or(|b| n < b) && !ctx.shutdown().is_cancelled() {
                let batch: Vec<Event> = (0..self.size)
                    .map(|i| Event::from_message(Text::from(format!("{n}-{i}"))))
                    .collect();
                let receipt = tokio::select! {
                    r = ctx.send(batch) => match r { Ok(r) => r, Err(_) => break },
                    _ = ctx.shutdown().cancelled() => break,
                };
                let _ = self.receipts.send((self.size, receipt));
                n += 1;
            }
            Ok(())
        })
    }
}

/// What a test output does with each batch.
#[derive(Clone, Copy)]
enum Behaviour {
    Deliver { delay: Duration },
    Fail,
    Hold,
}

struct TestOutput {
    behaviour: Behaviour,
    seen: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<Event>>>,
}

impl Output for TestOutput {
    fn run(
        self: Box<Self>,
        mut batches: mpsc::Receiver<Vec<Event>>,
        _ctx: OutputContext,
    ) -> BoxFuture<()> {
        Box::pin(async move {
            while let Some(mut batch) = batches.recv().await {
                self.seen.fetch_add(batch.len(), Ordering::SeqCst);
                match self.behaviour {
                    Behaviour::Deliver { delay } => {
                        tokio::time::sleep(delay).await;
                        batch
                            .iter_mut()
                            .for_each(|e| e.finalize(Delivery::Delivered));
                    }
                    Behaviour::Fail => batch.iter_mut().for_each(|e| e.finalize(Delivery::Failed)),
                    Behaviour::Hold => self.held.lock().unwrap().extend(batch),
                }
            }
        })
    }
}

struct Harness {
    receipts: mpsc::UnboundedReceiver<(usize, Receipt)>,
    seen: Arc<AtomicUsize>,
    held: Arc<Mutex<Vec<Event>>>,
}

fn pipeline(
    batches: Option<usize>,
    size: usize,
    behaviour: Behaviour,
    settings: PipelineSettings,
) -> (Pipeline, Harness) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let held = Arc::new(Mutex::new(Vec::new()));
    let pipeline = Pipeline {
        id: Arc::from(format!("test-{}", rand_id())),
        settings,
        inputs: vec![InputNode {
            id: Arc::from("scripted"),
            input: Box::new(ScriptedInput {
                batches,
                size,
                receipts: tx,
            }),
            decoration: Arc::new(Decoration::default()),
        }],
        plan: Plan {
            filters: Vec::new(),
            outputs: vec![OutputStep::Output(0)],
            output_count: 1,
        },
        outputs: vec![OutputNode {
            id: Arc::from("test-output"),
            output: Box::new(TestOutput {
                behaviour,
                seen: seen.clone(),
                held: held.clone(),
            }),
        }],
        dead_letter_queue: None,
    };
    (
        pipeline,
        Harness {
            receipts: rx,
            seen,
            held,
        },
    )
}

fn rand_id() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn small_settings() -> PipelineSettings {
    PipelineSettings {
        workers: 1,
        batch_size: 5,
        batch_delay: Duration::from_millis(5),
        queue_capacity: 10,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_stays_open_while_an_output_holds_its_events() {
    let (pipeline, mut h) = pipeline(Some(1), 3, Behaviour::Hold, small_settings());
    let running = pipeline.start();
    let (_, receipt) = h.receipts.recv().await.unwrap();
    tokio::pin!(receipt);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut receipt)
            .await
            .is_err(),
        "must not resolve while held"
    );
    for event in h.held.lock().unwrap().iter_mut() {
        event.finalize(Delivery::Delivered);
    }
    h.held.lock().unwrap().clear();
    assert_eq!(receipt.await, Delivery::Delivered);
    running.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_output_fails_the_receipt() {
    let (pipeline, mut h) = pipeline(Some(2), 4, Behaviour::Fail, small_settings());
    let running = pipeline.start();
    for _ in 0..2 {
        let (_, receipt) = h.receipts.recv().await.unwrap();
        assert_eq!(receipt.await, Delivery::Failed);
    }
    running.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_output_back_pressures_the_input_and_loses_nothing() {
    let settings = small_settings();
    let (pipeline, mut h) = pipeline(
        Some(30),
        10,
        Behaviour::Deliver {
            delay: Duration::from_millis(10),
        },
        settings.clone(),
    );
    let running = pipeline.start();
    let mut sent = 0;
    let mut receipts = Vec::new();
    while let Some((n, receipt)) = h.receipts.recv().await {
        sent += n;
        // Everything the input got past the queue is either in the queue, in the worker's
        // hands, in the output channel (one batch per worker) or already seen by the output.
        let in_flight_bound = settings.queue_capacity + settings.batch_size * 3 + 10;
        let seen = h.seen.load(Ordering::SeqCst);
        assert!(
            sent <= seen + in_flight_bound,
            "input ran ahead: sent {sent}, output saw {seen}"
        );
        receipts.push(receipt);
    }
    for receipt in receipts {
        assert_eq!(receipt.await, Delivery::Delivered);
    }
    running.wait().await;
    assert_eq!(h.seen.load(Ordering::SeqCst), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_everything_in_flight() {
    let (pipeline, mut h) = pipeline(
        None,
        7,
        Behaviour::Deliver {
            delay: Duration::from_millis(2),
        },
        small_settings(),
    );
    let running = pipeline.start();
    tokio::time::sleep(Duration::from_millis(150)).await;
    running.shutdown();
    running.wait().await;
    let mut sent = 0;
    while let Ok((n, receipt)) = h.receipts.try_recv() {
        sent += n;
        assert_eq!(
            receipt.await,
            Delivery::Delivered,
            "every accepted batch is delivered before exit"
        );
    }
    assert!(sent > 0);
    // A batch cut short by shutdown is partly delivered and reported to no one here.
    assert!(h.seen.load(Ordering::SeqCst) >= sent);
}
