//! The bounded queue between a pipeline's inputs and its workers.
//!
//! Inputs push whole batches from async tasks and wait while the queue is full (that wait is
//! the back-pressure a sender feels: its reads and ACKs slow down, nothing is dropped).
//! Workers are OS threads; they take up to `batch_size` events, waiting up to `batch_delay`
//! for a batch to fill as Logstash's `pipeline.batch.delay` does.
//!
//! A push wakes one worker, not all of them: the others would only find the events taken
//! and go back to sleep, two context switches each for nothing. A worker that leaves events
//! behind passes the wake-up on.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::event::Event;

pub struct Queue {
    state: Mutex<State>,
    capacity: usize,
    /// Workers wait here for events.
    not_empty: Condvar,
    /// Inputs wait here for room.
    room: Notify,
}

struct State {
    events: VecDeque<Event>,
    closed: bool,
}

/// The queue was closed (the pipeline is shutting down); the events were not queued.
#[derive(Debug)]
pub struct Closed(pub Vec<Event>);

impl Queue {
    /// A queue holding at most `capacity` events (at least one).
    pub fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(State {
                events: VecDeque::with_capacity(capacity.max(1)),
                closed: false,
            }),
            capacity: capacity.max(1),
            not_empty: Condvar::new(),
            room: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking worker must not wedge every input: the state stays consistent because
        // every critical section only moves whole events.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Queues every event of `events`, waiting for room as often as needed. A batch larger
    /// than the queue goes in as room frees up.
    pub async fn push(&self, events: Vec<Event>) -> Result<(), Closed> {
        let mut pending: VecDeque<Event> = events.into();
        while !pending.is_empty() {
            let notified = self.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closed {
                    return Err(Closed(pending.into()));
                }
                let room = self.capacity - state.events.len();
                if room > 0 {
                    let n = room.min(pending.len());
                    state.events.extend(pending.drain(..n));
                    drop(state);
                    self.not_empty.notify_one();
                    continue;
                }
            }
            notified.await;
        }
        Ok(())
    }

    /// Takes the next batch: blocks for the first event, then waits at most `delay` for the
    /// batch to reach `batch_size`. Never empty; `None` once the queue is closed and empty.
    pub fn pop_batch(&self, batch_size: usize, delay: Duration) -> Option<Vec<Event>> {
        let batch_size = batch_size.max(1);
        let mut state = self.lock();
        loop {
            while state.events.is_empty() {
                if state.closed {
                    return None;
                }
                state = self
                    .not_empty
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            let deadline = Instant::now() + delay;
            while state.events.len() < batch_size && !state.closed {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                state = self
                    .not_empty
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            // Another worker may have taken the events while this one waited for more.
            if !state.events.is_empty() {
                break;
            }
        }
        let n = batch_size.min(state.events.len());
        let batch: Vec<Event> = state.events.drain(..n).collect();
        let left = !state.events.is_empty();
        drop(state);
        if left {
            self.not_empty.notify_one();
        }
        self.room.notify_waiters();
        Some(batch)
    }

    /// Refuses further pushes and wakes everyone; workers drain what is queued.
    pub fn close(&self) {
        self.lock().closed = true;
        self.not_empty.notify_all();
        self.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Text;
    use std::sync::Arc;

    fn events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| Event::from_message(Text::from(i.to_string())))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_makes_the_input_wait_until_a_worker_takes() {
        let queue = Arc::new(Queue::new(4));
        queue.push(events(4)).await.unwrap();
        let pusher = tokio::spawn({
            let queue = queue.clone();
            async move { queue.push(events(3)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !pusher.is_finished(),
            "push must wait while the queue is full"
        );
        let worker = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.pop_batch(2, Duration::ZERO).unwrap().len())
        };
        assert_eq!(worker.join().unwrap(), 2);
        // Two freed slots take two of the three events; the third still waits.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!pusher.is_finished());
        assert_eq!(queue.len(), 4);
        let queue2 = queue.clone();
        let drained = std::thread::spawn(move || queue2.pop_batch(4, Duration::ZERO))
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(drained.len(), 4);
        pusher.await.unwrap().unwrap();
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn pop_waits_for_a_full_batch_at_most_the_delay() {
        let queue = Queue::new(10);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(queue.push(events(3))).unwrap();
        let batch = queue.pop_batch(125, Duration::from_millis(20)).unwrap();
        assert_eq!(batch.len(), 3);
    }

    #[test]
    fn a_worker_that_finds_the_events_taken_waits_instead_of_taking_nothing() {
        let queue = Arc::new(Queue::new(10));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    queue
                        .pop_batch(125, Duration::from_millis(30))
                        .map(|b| b.len())
                })
            })
            .collect();
        // Both workers are asleep on the empty queue before the push.
        std::thread::sleep(Duration::from_millis(50));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(queue.push(events(3))).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        queue.close();
        let mut taken: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        taken.sort();
        assert_eq!(taken, [None, Some(3)]);
    }

    #[test]
    fn close_lets_workers_drain_then_stop() {
        let queue = Queue::new(10);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(queue.push(events(5))).unwrap();
        queue.close();
        assert!(rt.block_on(queue.push(events(1))).is_err());
        assert_eq!(queue.pop_batch(3, Duration::ZERO).unwrap().len(), 3);
        assert_eq!(queue.pop_batch(3, Duration::ZERO).unwrap().len(), 2);
        assert!(queue.pop_batch(3, Duration::ZERO).is_none());
    }
}
