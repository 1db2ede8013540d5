//! Receipts: how an input learns that every output has durably taken its events.
//!
//! An input hands a batch to the queue and gets a [`Receipt`] back. Every event of the batch
//! carries a [`Finalizers`] handle on the batch's shared state. Whoever ends an event's
//! journey (an output after a durable write, the `drop` filter, a codec that merged it into
//! another event) records how it ended; when the last handle is gone the receipt resolves with
//! the worst outcome recorded. An event that is dropped without anyone recording an outcome
//! (a bug, a panic) counts as failed: the sender is not acknowledged and sends again.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use smallvec::SmallVec;
use tokio::sync::oneshot;

/// How a batch ended. Ordered: a batch's outcome is the worst of its events'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Delivery {
    /// Every event was durably taken by every output that received it, or deliberately dropped.
    Delivered = 0,
    /// At least one event could not be delivered; the sender must not be acknowledged.
    Failed = 1,
}

struct BatchState {
    outcome: AtomicU8,
    notify: Mutex<Option<oneshot::Sender<Delivery>>>,
}

impl BatchState {
    fn record(&self, outcome: Delivery) {
        self.outcome.fetch_max(outcome as u8, Ordering::AcqRel);
    }
}

impl Drop for BatchState {
    fn drop(&mut self) {
        let outcome = match self.outcome.load(Ordering::Acquire) {
            0 => Delivery::Delivered,
            _ => Delivery::Failed,
        };
        if let Some(tx) = self.notify.get_mut().ok().and_then(Option::take) {
            let _ = tx.send(outcome);
        }
    }
}

/// The input's side: resolves once every event of the batch has ended.
pub struct Receipt {
    rx: oneshot::Receiver<Delivery>,
}

impl Future for Receipt {
    type Output = Delivery;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Delivery> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Delivery::Failed))
    }
}

/// A new receipt and the handle its events carry.
pub fn receipt() -> (Receipt, BatchHandle) {
    let (tx, rx) = oneshot::channel();
    let state = Arc::new(BatchState {
        outcome: AtomicU8::new(Delivery::Delivered as u8),
        notify: Mutex::new(Some(tx)),
    });
    (Receipt { rx }, BatchHandle(state))
}

/// One batch's shared state, to be cloned into each of its events' [`Finalizers`].
#[derive(Clone)]
pub struct BatchHandle(Arc<BatchState>);

/// The batches an event belongs to (usually one; several after a multiline merge).
///
/// Dropping it without [`Finalizers::finalize`] records [`Delivery::Failed`].
#[derive(Default)]
pub struct Finalizers(SmallVec<[Arc<BatchState>; 1]>);

impl Finalizers {
    pub fn new(batch: &BatchHandle) -> Finalizers {
        let mut handles = SmallVec::new();
        handles.push(batch.0.clone());
        Finalizers(handles)
    }

    /// Records how this event ended and releases its hold on its batches.
    pub fn finalize(&mut self, outcome: Delivery) {
        for state in self.0.drain(..) {
            state.record(outcome);
        }
    }

    /// Moves `other`'s batches into this one (an event absorbed another). A batch this one
    /// already holds is not held twice: the lines of one window merged into one event cost
    /// one handle, not one per line.
    pub fn merge(&mut self, mut other: Finalizers) {
        for state in other.0.drain(..) {
            // Dropping the duplicate handle records nothing; this one still holds the batch.
            if !self.0.iter().any(|held| Arc::ptr_eq(held, &state)) {
                self.0.push(state);
            }
        }
    }

    /// How many batches this event holds open.
    pub fn batches(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Clone for Finalizers {
    /// A copy of an event (fan-out to several outputs) holds the batch open until it, too,
    /// has been finalized.
    fn clone(&self) -> Finalizers {
        Finalizers(self.0.clone())
    }
}

impl Drop for Finalizers {
    fn drop(&mut self) {
        self.finalize(Delivery::Failed);
    }
}

impl std::fmt::Debug for Finalizers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Finalizers({})", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_delivered_when_every_event_is_delivered() {
        let (receipt, batch) = receipt();
        let mut events: Vec<_> = (0..3).map(|_| Finalizers::new(&batch)).collect();
        drop(batch);
        let copy = events[0].clone();
        for f in &mut events {
            f.finalize(Delivery::Delivered);
        }
        let mut copy = copy;
        copy.finalize(Delivery::Delivered);
        assert_eq!(receipt.await, Delivery::Delivered);
    }

    #[tokio::test]
    async fn one_failure_fails_the_batch() {
        let (receipt, batch) = receipt();
        let mut a = Finalizers::new(&batch);
        let mut b = Finalizers::new(&batch);
        drop(batch);
        a.finalize(Delivery::Delivered);
        b.finalize(Delivery::Failed);
        assert_eq!(receipt.await, Delivery::Failed);
    }

    #[tokio::test]
    async fn an_event_dropped_without_an_outcome_fails_the_batch() {
        let (receipt, batch) = receipt();
        let a = Finalizers::new(&batch);
        drop(batch);
        drop(a);
        assert_eq!(receipt.await, Delivery::Failed);
    }

    #[tokio::test]
    async fn a_pending_event_keeps_the_receipt_open() {
        let (mut receipt, batch) = receipt();
        let mut a = Finalizers::new(&batch);
        drop(batch);
        assert!(futures_poll_once(&mut receipt).is_none());
        a.finalize(Delivery::Delivered);
        assert_eq!(receipt.await, Delivery::Delivered);
    }

    #[tokio::test]
    async fn merged_events_resolve_every_batch() {
        let (r1, b1) = receipt();
        let (r2, b2) = receipt();
        let mut merged = Finalizers::new(&b1);
        merged.merge(Finalizers::new(&b2));
        drop((b1, b2));
        merged.finalize(Delivery::Delivered);
        assert_eq!(r1.await, Delivery::Delivered);
        assert_eq!(r2.await, Delivery::Delivered);
    }

    #[tokio::test]
    async fn merging_lines_of_one_batch_holds_it_once() {
        let (mut receipt, batch) = receipt();
        let mut merged = Finalizers::new(&batch);
        merged.merge(Finalizers::new(&batch));
        merged.merge(Finalizers::new(&batch));
        drop(batch);
        assert_eq!(merged.batches(), 1);
        assert!(futures_poll_once(&mut receipt).is_none());
        merged.finalize(Delivery::Delivered);
        assert_eq!(receipt.await, Delivery::Delivered);
    }

    fn futures_poll_once(receipt: &mut Receipt) -> Option<Delivery> {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        match Pin::new(receipt).poll(&mut cx) {
            Poll::Ready(d) => Some(d),
            Poll::Pending => None,
        }
    }
}
