//! The compiled plan a worker runs over each batch: filter steps with their conditionals,
//! then the routing of events to outputs.
//!
//! Conditionals split a batch (Logstash's compiled execution does the same): each event goes
//! to the first branch whose condition holds, every group runs its branch's steps, and the
//! groups join again after the `if`. Every branch counts the events it saw and matched, so a
//! user can see a branch that never matches.

use std::sync::Arc;

use super::condition::Condition;
use super::receipt::Delivery;
use crate::event::Event;
use crate::filters::{CommonOptions, Filter, Outcome};
use crate::observe::metrics::Counter;

pub struct Plan {
    pub filters: Vec<FilterStep>,
    pub outputs: Vec<OutputStep>,
    /// How many outputs `OutputStep::Output` indices refer to.
    pub output_count: usize,
}

impl Plan {
    /// Whether running the plan looks at every event's fields: any filter, or a conditional
    /// choosing outputs.
    pub fn reads_every_event(&self) -> bool {
        !self.filters.is_empty()
            || self
                .outputs
                .iter()
                .any(|step| matches!(step, OutputStep::If(_)))
    }
}

pub enum FilterStep {
    Filter(FilterNode),
    If(IfStep<FilterStep>),
}

pub enum OutputStep {
    /// Send to the output with this index.
    Output(usize),
    If(IfStep<OutputStep>),
}

pub struct IfStep<S> {
    pub branches: Vec<Branch<S>>,
    pub otherwise: Vec<S>,
}

pub struct Branch<S> {
    pub condition: Condition,
    pub body: Vec<S>,
    pub evaluated: Counter,
    pub matched: Counter,
}

/// One filter plugin in the plan, with its common options and counters.
pub struct FilterNode {
    pub id: Arc<str>,
    pub filter: Box<dyn Filter>,
    pub common: CommonOptions,
    pub events_in: Counter,
    pub events_out: Counter,
    /// Events the filter did not apply to (grok without a match, a date it could not read…).
    pub failures: Counter,
}

impl FilterNode {
    fn apply(&self, events: &mut Vec<Event>) {
        self.events_in.add(events.len() as u64);
        events.retain_mut(|event| match self.filter.filter(event) {
            Outcome::Matched => {
                self.common.apply(event);
                true
            }
            Outcome::Failed => {
                self.failures.inc();
                true
            }
            Outcome::Dropped => {
                event.finalize(Delivery::Delivered);
                false
            }
        });
        self.events_out.add(events.len() as u64);
    }
}

impl<S> IfStep<S> {
    /// Hands each item to the first branch whose condition `holds` for it, or to
    /// `otherwise`; calls `run` once per non-empty group.
    fn dispatch<T>(
        &self,
        items: Vec<T>,
        holds: impl Fn(&Condition, &T) -> bool,
        mut run: impl FnMut(&[S], Vec<T>),
    ) {
        let mut remaining = items;
        for branch in &self.branches {
            if remaining.is_empty() {
                return;
            }
            branch.evaluated.add(remaining.len() as u64);
            let (hit, miss): (Vec<T>, Vec<T>) = remaining
                .into_iter()
                .partition(|item| holds(&branch.condition, item));
            branch.matched.add(hit.len() as u64);
            if !hit.is_empty() {
                run(&branch.body, hit);
            }
            remaining = miss;
        }
        if !remaining.is_empty() {
            run(&self.otherwise, remaining);
        }
    }
}

impl Plan {
    /// Runs the filter steps over `events` in place; dropped events leave the vector.
    pub fn run_filters(&self, events: &mut Vec<Event>) {
        run_filter_steps(&self.filters, events);
    }

    /// Splits `events` into one batch per output, cloning an event that goes to several.
    /// An event no output wants has finished its journey: it is finalized as delivered.
    pub fn route(&self, events: Vec<Event>) -> Vec<Vec<Event>> {
        let mut targets: Vec<Vec<usize>> = vec![Vec::new(); self.output_count];
        route_steps(
            &self.outputs,
            (0..events.len()).collect(),
            &events,
            &mut targets,
        );
        let mut wanted = vec![0u32; events.len()];
        for list in &targets {
            for &i in list {
                wanted[i] += 1;
            }
        }
        let mut slots: Vec<Option<Event>> = events.into_iter().map(Some).collect();
        for (slot, &count) in slots.iter_mut().zip(&wanted) {
            if count == 0 {
                if let Some(mut event) = slot.take() {
                    event.finalize(Delivery::Delivered);
                }
            }
        }
        targets
            .into_iter()
            .map(|list| {
                list.into_iter()
                    .map(|i| {
                        wanted[i] -= 1;
                        if wanted[i] == 0 {
                            slots[i].take().expect("each slot is taken once, last")
                        } else {
                            slots[i].as_ref().expect("still held").clone()
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

fn run_filter_steps(steps: &[FilterStep], events: &mut Vec<Event>) {
    for step in steps {
        if events.is_empty() {
            return;
        }
        match step {
            FilterStep::Filter(node) => node.apply(events),
            FilterStep::If(if_step) => {
                let batch = std::mem::take(events);
                if_step.dispatch(
                    batch,
                    |c, e| c.eval(e),
                    |body, mut group| {
                        run_filter_steps(body, &mut group);
                        events.append(&mut group);
                    },
                );
            }
        }
    }
}

fn route_steps(
    steps: &[OutputStep],
    items: Vec<usize>,
    events: &[Event],
    targets: &mut [Vec<usize>],
) {
    for step in steps {
        match step {
            OutputStep::Output(o) => targets[*o].extend_from_slice(&items),
            OutputStep::If(if_step) => if_step.dispatch(
                items.clone(),
                |c, &i| c.eval(&events[i]),
                |body, group| route_steps(body, group, events, targets),
            ),
        }
    }
}
