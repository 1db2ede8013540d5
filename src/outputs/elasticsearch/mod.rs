//! `output { elasticsearch { … } }`: batches of events into Elasticsearch's `_bulk` API, with
//! nothing lost on the way.
//!
//! A batch is encoded once ([`encoder`]), cut into requests of at most `bulk_max_bytes`, and
//! sent through a node pool with failover ([`client`]). Each item's answer is classified
//! ([`response`]): items that were taken are finalized as delivered; back-pressure and
//! transient failures send only those items again after an exponential backoff with jitter
//! ([`retry`]), without limit; items Elasticsearch will never accept go to the dead-letter
//! queue with ES's reason, and are delivered once the DLQ has fsynced them. A whole request
//! that fails (no node answered, a timeout, a 429 or 5xx) is retried the same way; a 413
//! splits the request in two. A batch's receipt therefore resolves only when each of its
//! events is in Elasticsearch or durably in the DLQ.
//!
//! Several batches are in flight at once (`max_in_flight_requests`), and the encoded bytes in
//! flight are bounded (`max_in_flight_bytes`): when ES slows down, `run` stops reading batches
//! and the bounded queue in front of it pushes back on the inputs.

pub mod client;
pub mod encoder;
mod gzip;
pub mod jaeger;
mod metrics;
pub mod plugin;
pub mod response;
pub mod retry;
pub mod template;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::{Method, StatusCode};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use crate::dlq::{DeadLetterEntry, DlqWriter};
use crate::event::{Event, Text, Timestamp, Value};
use crate::outputs::OutputContext;
use crate::pipeline::receipt::Delivery;

pub use client::{Client, ClientConfig, ClientError, VerificationMode};
pub use encoder::Action;
pub use metrics::Metrics;
pub use response::{ItemError, Verdict};
pub use template::{TemplateBody, TemplateConfig};

use encoder::{BulkBuffer, Encoded, Id, ItemTarget};
use jaeger::{JaegerConfig, JaegerSchema};
use retry::Backoff;

/// Renders an event's index name. The second argument is the time its `%{+…}` date parts
/// come from: the event's `@timestamp`, or the ingest time when the timestamp guard
/// rejected it. The plugin renders its `index` [`crate::event::Template`] through one with
/// `render_at`; a closure keeps the output usable without a configuration.
pub type IndexFn = Box<dyn Fn(&Event, Timestamp) -> String + Send + Sync>;
/// Renders a per-event string setting (`document_id`, `routing`, `pipeline`).
pub type EventFn = Box<dyn Fn(&Event) -> String + Send + Sync>;

/// Every setting of the output, with Logstash's names and defaults.
pub struct ElasticsearchConfig {
    /// The plugin id, in logs and dead letters.
    pub id: String,
    /// `hosts` (default `127.0.0.1:9200`), credentials, TLS, `compression_level` and `timeout`.
    pub client: ClientConfig,
    /// `index`; default `logstash-%{+yyyy.MM.dd}`.
    pub index: IndexFn,
    /// `action`; default `index`.
    pub action: Action,
    pub document_id: Option<EventFn>,
    pub routing: Option<EventFn>,
    pub pipeline: Option<EventFn>,
    /// `doc_as_upsert` for `update`.
    pub doc_as_upsert: bool,
    /// First wait before a retry; default 2 s.
    pub retry_initial_interval: Duration,
    /// Longest wait between retries; default 64 s.
    pub retry_max_interval: Duration,
    /// Install the index template before the first write; default true.
    pub manage_template: bool,
    /// A file with a whole `_index_template` body to install instead of the built-in one.
    pub template: Option<PathBuf>,
    /// default `logstash`.
    pub template_name: String,
    pub template_overwrite: bool,
    /// The index patterns of the built-in template; default `logstash-*`. The plugin derives
    /// them from `index` (its fixed prefix and `*`).
    pub template_index_patterns: Vec<String>,
    /// Derive `_id` from the event's origin (Beats: agent id, file, offset; otherwise a hash
    /// of its content) and write with `create`, so a retry never makes a duplicate. Ignored
    /// when `document_id` is set. Default false.
    pub idempotent_ids: bool,
    /// A `@timestamp` older than `past` or further ahead than `future` (relative to now) is
    /// not trusted for the index date: the event goes to the index of its ingest time, tagged
    /// `_timestamp_out_of_range`. Default 365 days back, 1 day ahead.
    pub timestamp_guard: Option<TimestampGuard>,
    /// Largest bulk request body before compression; default 20 MiB.
    pub bulk_max_bytes: usize,
    /// Requests in flight at once; default 4.
    pub max_in_flight_requests: usize,
    /// Encoded bytes of the batches in flight; default 64 MiB.
    pub max_in_flight_bytes: usize,
    /// Where permanently refused events go; without one they fail their batch. One writer
    /// per pipeline directory, shared by the pipeline's outputs.
    pub dead_letter_queue: Option<Arc<Mutex<DlqWriter>>>,
    /// `schema => "jaeger"`: events are spans, written as Jaeger's span and service documents
    /// ([`jaeger`]); `index`, `action`, `document_id`, `routing`, the template settings and the
    /// timestamp guard give way to the schema's own.
    pub jaeger: Option<JaegerConfig>,
}

#[derive(Clone, Copy, Debug)]
pub struct TimestampGuard {
    pub past: Duration,
    pub future: Duration,
}

/// Logstash's `%{+yyyy.MM.dd}` date part.
pub fn daily(prefix: &str) -> IndexFn {
    let prefix = prefix.to_owned();
    Box::new(move |_, ts| format!("{prefix}{}", ts.format("%Y.%m.%d")))
}

impl Default for ElasticsearchConfig {
    fn default() -> ElasticsearchConfig {
        ElasticsearchConfig {
            id: "elasticsearch".into(),
            client: ClientConfig::default(),
            index: daily("logstash-"),
            action: Action::Index,
            document_id: None,
            routing: None,
            pipeline: None,
            doc_as_upsert: false,
            retry_initial_interval: Duration::from_secs(2),
            retry_max_interval: Duration::from_secs(64),
            manage_template: true,
            template: None,
            template_name: "logstash".into(),
            template_overwrite: false,
            template_index_patterns: vec!["logstash-*".into()],
            idempotent_ids: false,
            timestamp_guard: Some(TimestampGuard {
                past: Duration::from_secs(365 * 24 * 3600),
                future: Duration::from_secs(24 * 3600),
            }),
            bulk_max_bytes: 20 * 1024 * 1024,
            max_in_flight_requests: 4,
            max_in_flight_bytes: 64 * 1024 * 1024,
            dead_letter_queue: None,
            jaeger: None,
        }
    }
}

/// The tag an event gets when its `@timestamp` was not used for its index.
pub const TIMESTAMP_GUARD_TAG: &str = "_timestamp_out_of_range";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("action `{0}` needs a document_id")]
    NeedsDocumentId(&'static str),
}

pub struct ElasticsearchOutput {
    shared: Arc<Shared>,
}

struct Shared {
    config: ElasticsearchConfig,
    client: Client,
    metrics: Arc<Metrics>,
    requests: Semaphore,
    bulk_path: String,
    jaeger: Option<JaegerSchema>,
}

/// One event on its way, with where it goes.
struct Item {
    event: Event,
    index: String,
}

/// What became of the items of one round of requests.
#[derive(Default)]
struct Round {
    taken: Vec<usize>,
    retry: Vec<usize>,
    dead: Vec<(usize, ItemError)>,
}

/// A batch, encoded.
struct Prepared {
    items: Vec<Item>,
    encoded: Encoded,
    action: Action,
    /// The Jaeger service documents the batch's spans need first.
    services: Option<ServiceDocs>,
}

/// Service documents not yet known to be written, encoded; `docs[i]` is item `i`.
struct ServiceDocs {
    docs: Vec<jaeger::ServiceDoc>,
    encoded: Encoded,
}

impl ElasticsearchOutput {
    pub fn new(config: ElasticsearchConfig) -> Result<ElasticsearchOutput, ConfigError> {
        if config.max_in_flight_requests == 0 {
            return Err(ConfigError::Zero("max_in_flight_requests"));
        }
        if config.bulk_max_bytes == 0 || config.max_in_flight_bytes == 0 {
            return Err(ConfigError::Zero("bulk_max_bytes and max_in_flight_bytes"));
        }
        if matches!(config.action, Action::Update | Action::Delete) && config.document_id.is_none()
        {
            return Err(ConfigError::NeedsDocumentId(config.action.as_str()));
        }
        let client = Client::new(&config.client)?;
        Ok(ElasticsearchOutput {
            shared: Arc::new(Shared {
                requests: Semaphore::new(config.max_in_flight_requests),
                client,
                metrics: Arc::new(Metrics::default()),
                bulk_path: format!("/_bulk?{}", response::FILTER_PATH),
                jaeger: config.jaeger.clone().map(JaegerSchema::new),
                config,
            }),
        })
    }

    /// Takes the plugin id and the dead-letter queue from the pipeline that runs the output,
    /// and moves its metrics into the process registry under the pipeline's and plugin's
    /// labels; before `run`, as the pipeline starts it.
    pub fn attach(&mut self, ctx: &OutputContext) {
        let shared = Arc::get_mut(&mut self.shared).expect("attached before running");
        shared.config.id = ctx.id.to_string();
        shared.config.dead_letter_queue = ctx.dead_letter_queue.clone();
        shared.metrics = Arc::new(Metrics::registered(
            &ctx.pipeline,
            &ctx.id,
            &shared.client.nodes(),
        ));
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.shared.metrics.clone()
    }

    /// Writes every batch received until the channel closes, then waits for the batches in
    /// flight and returns. Each event is finalized when Elasticsearch or the DLQ has it.
    pub async fn run(self, mut batches: mpsc::Receiver<Vec<Event>>) {
        let shared = self.shared;
        // In KiB so that the budget fits the semaphore's u32 permits.
        let budget_kib = (shared.config.max_in_flight_bytes / 1024).clamp(1, u32::MAX as usize);
        let bytes = Arc::new(Semaphore::new(budget_kib));
        let mut template_installed = !shared.config.manage_template;
        let mut tasks = JoinSet::new();
        let mut buffer = BulkBuffer::default();
        let mut service_buffer = BulkBuffer::default();
        while let Some(batch) = batches.recv().await {
            if batch.is_empty() {
                continue;
            }
            if !template_installed {
                shared.install_template().await;
                template_installed = true;
            }
            while tasks.try_join_next().is_some() {}
            let prepared = match &shared.jaeger {
                Some(jaeger) => {
                    shared.prepare_spans(jaeger, batch, &mut buffer, &mut service_buffer)
                }
                None => shared.prepare(batch, &mut buffer),
            };
            let kib = (prepared.encoded.size_total() / 1024).clamp(1, budget_kib) as u32;
            let permit = bytes
                .clone()
                .acquire_many_owned(kib)
                .await
                .expect("the byte budget is never closed");
            let shared = shared.clone();
            let size = prepared.encoded.size_total() as i64;
            shared.metrics.in_flight_bytes.add(size);
            tasks.spawn(async move {
                shared.deliver(prepared).await;
                shared.metrics.in_flight_bytes.add(-size);
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

impl Shared {
    /// Waits, retrying with backoff, until the template is in place: documents written
    /// before it would get dynamic mappings that cannot be changed afterwards.
    async fn install_template(&self) {
        let templates = match &self.jaeger {
            Some(jaeger) => jaeger
                .templates()
                .into_iter()
                .map(|(name, body)| TemplateConfig {
                    name,
                    body: TemplateBody::Json(body),
                    overwrite: self.config.template_overwrite,
                })
                .collect(),
            None => vec![TemplateConfig {
                name: self.config.template_name.clone(),
                body: match &self.config.template {
                    Some(file) => TemplateBody::File(file.clone()),
                    None => TemplateBody::Builtin(self.config.template_index_patterns.clone()),
                },
                overwrite: self.config.template_overwrite,
            }],
        };
        for config in templates {
            let mut backoff = self.backoff();
            while let Err(e) = template::ensure(&self.client, &config).await {
                let wait = backoff.next_delay();
                tracing::warn!(output = %self.config.id, error = %e, ?wait, "index template not installed yet; retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(
            self.config.retry_initial_interval,
            self.config.retry_max_interval,
        )
    }

    /// Applies the timestamp guard, names each event's index and id, and encodes the batch.
    fn prepare(&self, batch: Vec<Event>, buffer: &mut BulkBuffer) -> Prepared {
        let config = &self.config;
        self.metrics.events_in.add(batch.len() as u64);
        let idempotent = config.idempotent_ids && config.document_id.is_none();
        let action = if idempotent {
            Action::Create
        } else {
            config.action
        };
        let now = crate::event::now();
        let mut items = Vec::with_capacity(batch.len());
        for mut event in batch {
            let date = match (event.timestamp(), config.timestamp_guard) {
                (Some(ts), Some(guard)) if !guard.accepts(ts, now) => {
                    event.add_tag(Text::from_static(TIMESTAMP_GUARD_TAG));
                    self.metrics.events_timestamp_guarded.inc();
                    now
                }
                (Some(ts), _) => ts,
                (None, _) => now,
            };
            let index = (config.index)(&event, date);
            let given = config.document_id.as_ref().map(|f| f(&event));
            let origin = if idempotent { origin_id(&event) } else { None };
            let routing = config.routing.as_ref().map(|f| f(&event));
            let pipeline = config.pipeline.as_ref().map(|f| f(&event));
            let id = match (&given, &origin) {
                (Some(id), _) => Id::Given(id),
                (None, Some(origin)) => Id::Given(origin),
                (None, None) if idempotent => Id::ContentHash,
                (None, None) => Id::Auto,
            };
            let target = ItemTarget {
                index: &index,
                id,
                routing: routing.as_deref(),
                pipeline: pipeline.as_deref(),
            };
            buffer.push(action, config.doc_as_upsert, &target, &event);
            items.push(Item { event, index });
        }
        Prepared {
            items,
            encoded: buffer.finish(),
            action,
            services: None,
        }
    }

    /// `prepare` for the Jaeger schema: each span's document into its dated span index, and
    /// the service documents the batch needs that are not known to be written.
    fn prepare_spans(
        &self,
        jaeger: &JaegerSchema,
        batch: Vec<Event>,
        buffer: &mut BulkBuffer,
        service_buffer: &mut BulkBuffer,
    ) -> Prepared {
        self.metrics.events_in.add(batch.len() as u64);
        let now = crate::event::now();
        let now_us = now.timestamp_micros();
        let clock = std::time::Instant::now();
        let mut items = Vec::with_capacity(batch.len());
        let mut docs: Vec<jaeger::ServiceDoc> = Vec::new();
        for mut event in batch {
            let placement = jaeger.place(&mut event, now_us);
            if placement.clamped {
                self.metrics.events_start_time_clamped.inc();
            }
            if let Some((doc, body)) = jaeger.service_doc(&event, &placement, clock) {
                if !docs.iter().any(|d| d.key == doc.key) {
                    let target = ItemTarget {
                        index: &doc.index,
                        id: Id::Given(&doc.id),
                        ..Default::default()
                    };
                    service_buffer.push_with(Action::Index, false, &target, |out| {
                        out.extend_from_slice(&body)
                    });
                    docs.push(doc);
                }
            }
            let pipeline = self.config.pipeline.as_ref().map(|f| f(&event));
            let target = ItemTarget {
                index: &placement.span_index,
                id: Id::Auto,
                routing: None,
                pipeline: pipeline.as_deref(),
            };
            buffer.push_with(Action::Index, false, &target, |out| {
                jaeger.encode(&event, out)
            });
            items.push(Item {
                event,
                index: placement.span_index,
            });
        }
        let services = (!docs.is_empty()).then(|| ServiceDocs {
            docs,
            encoded: service_buffer.finish(),
        });
        Prepared {
            items,
            encoded: buffer.finish(),
            action: Action::Index,
            services,
        }
    }

    /// Sends the batch until every item is taken or dead-lettered (its service documents, if
    /// any, first: a span is not delivered before Jaeger Query can list its service).
    async fn deliver(&self, mut batch: Prepared) {
        if let Some(services) = batch.services.take() {
            self.deliver_services(services).await;
        }
        let mut pending: Vec<usize> = (0..batch.items.len()).collect();
        let mut backoff = self.backoff();
        loop {
            let round = self
                .send_round(&batch.encoded, batch.action, &pending)
                .await;
            for &i in &round.taken {
                batch.items[i].event.finalize(Delivery::Delivered);
            }
            self.metrics.events_taken.add(round.taken.len() as u64);
            if !round.dead.is_empty() {
                self.dead_letter(&mut batch, round.dead).await;
            }
            match self
                .next_round(round.retry, !round.taken.is_empty(), &mut backoff)
                .await
            {
                Some(retry) => pending = retry,
                None => return,
            }
        }
    }

    /// Writes the Jaeger service documents until each is taken (then remembered as written)
    /// or refused for good (then only counted: not remembered, so a later span tries again).
    async fn deliver_services(&self, services: ServiceDocs) {
        let jaeger = self
            .jaeger
            .as_ref()
            .expect("service documents come from the schema");
        let mut pending: Vec<usize> = (0..services.docs.len()).collect();
        let mut backoff = self.backoff();
        loop {
            let round = self
                .send_round(&services.encoded, Action::Index, &pending)
                .await;
            let keys = round.taken.iter().map(|&i| services.docs[i].key);
            jaeger.written(keys, std::time::Instant::now());
            self.metrics
                .service_documents_written
                .add(round.taken.len() as u64);
            for (i, e) in &round.dead {
                self.metrics.service_documents_refused.inc();
                tracing::warn!(output = %self.config.id, index = %services.docs[*i].index, status = e.status, kind = %e.kind, reason = %e.reason, "Elasticsearch refused a service document");
            }
            match self
                .next_round(round.retry, !round.taken.is_empty(), &mut backoff)
                .await
            {
                Some(retry) => pending = retry,
                None => return,
            }
        }
    }

    /// Sends the `pending` items of `encoded` once, in requests of at most `bulk_max_bytes`.
    async fn send_round(&self, encoded: &Encoded, action: Action, pending: &[usize]) -> Round {
        let mut round = Round::default();
        let sizes = pending.iter().map(|&i| encoded.size(i));
        for range in encoder::split(sizes, self.config.bulk_max_bytes) {
            let taken = self
                .send(
                    encoded,
                    action,
                    pending[range].to_vec(),
                    &mut round.retry,
                    &mut round.dead,
                )
                .await;
            round.taken.extend(taken);
        }
        round
    }

    /// The items to send again, after the backoff's wait; `None` when there are none.
    async fn next_round(
        &self,
        mut retry: Vec<usize>,
        progressed: bool,
        backoff: &mut Backoff,
    ) -> Option<Vec<usize>> {
        if retry.is_empty() {
            return None;
        }
        if progressed {
            backoff.reset();
        }
        retry.sort_unstable();
        let wait = backoff.next_delay();
        tracing::debug!(output = %self.config.id, items = retry.len(), ?wait, "retrying items");
        tokio::time::sleep(wait).await;
        Some(retry)
    }

    /// Sends `ids` (splitting on 413) and sorts them into taken (returned), retry and dead.
    async fn send(
        &self,
        encoded: &Encoded,
        action: Action,
        ids: Vec<usize>,
        retry: &mut Vec<usize>,
        dead: &mut Vec<(usize, ItemError)>,
    ) -> Vec<usize> {
        let mut taken = Vec::new();
        let mut work = vec![ids];
        while let Some(ids) = work.pop() {
            let body = encoded.body(&ids);
            self.metrics.bulk_requests.inc();
            self.metrics.bulk_bytes.add(body.len() as u64);
            let reply = {
                let _permit = self.requests.acquire().await.expect("never closed");
                let started = std::time::Instant::now();
                let reply = self
                    .client
                    .send(
                        Method::POST,
                        &self.bulk_path,
                        "application/x-ndjson",
                        Some(body),
                    )
                    .await;
                self.metrics
                    .bulk_seconds
                    .observe(started.elapsed().as_secs_f64());
                for (gauge, up) in self.metrics.nodes_up.iter().zip(self.client.nodes_up()) {
                    gauge.set(i64::from(up));
                }
                reply
            };
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => {
                    self.metrics.bulk_requests_unanswered.inc();
                    tracing::warn!(output = %self.config.id, error = %e, items = ids.len(), "bulk request failed; will retry");
                    retry.extend(ids);
                    continue;
                }
            };
            match reply.status {
                StatusCode::OK => {}
                StatusCode::PAYLOAD_TOO_LARGE if ids.len() > 1 => {
                    let (a, b) = ids.split_at(ids.len() / 2);
                    work.push(b.to_vec());
                    work.push(a.to_vec());
                    continue;
                }
                StatusCode::PAYLOAD_TOO_LARGE => {
                    dead.push((
                        ids[0],
                        ItemError {
                            status: 413,
                            kind: "request_entity_too_large".into(),
                            reason: "a single document is larger than the cluster accepts (http.max_content_length)".into(),
                        },
                    ));
                    continue;
                }
                status => {
                    self.metrics.bulk_requests_refused.inc();
                    let answer = String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)]);
                    tracing::warn!(output = %self.config.id, %status, %answer, items = ids.len(), "bulk request refused; will retry");
                    retry.extend(ids);
                    continue;
                }
            }
            match response::parse(&reply.body, action, ids.len()) {
                Ok(verdicts) => {
                    let mut first_retry = None;
                    let mut errors: HashMap<(u16, String), u64> = HashMap::new();
                    for (i, verdict) in ids.into_iter().zip(verdicts) {
                        if let Verdict::Retry(e) | Verdict::Dead(e) = &verdict {
                            *errors.entry((e.status, e.kind.clone())).or_default() += 1;
                        }
                        match verdict {
                            Verdict::Taken => taken.push(i),
                            Verdict::AlreadyPresent => {
                                taken.push(i);
                                self.metrics.events_already_present.inc();
                            }
                            Verdict::Retry(e) => {
                                first_retry.get_or_insert(e);
                                retry.push(i);
                                self.metrics.items_retried.inc();
                            }
                            Verdict::Dead(e) => dead.push((i, e)),
                        }
                    }
                    self.metrics.item_errors(&errors);
                    if let Some(e) = first_retry {
                        tracing::debug!(output = %self.config.id, status = e.status, kind = %e.kind, reason = %e.reason, "items to retry");
                    }
                }
                Err(e) => {
                    self.metrics.bulk_requests_unanswered.inc();
                    tracing::warn!(output = %self.config.id, error = %e, "bulk answer unusable; will retry its items");
                    retry.extend(ids);
                }
            }
        }
        taken
    }

    /// Puts permanently refused items into the DLQ, waiting for room under `block`.
    async fn dead_letter(&self, batch: &mut Prepared, dead: Vec<(usize, ItemError)>) {
        for (i, e) in &dead {
            tracing::warn!(
                output = %self.config.id,
                index = %batch.items[*i].index,
                status = e.status,
                kind = %e.kind,
                reason = %e.reason,
                "Elasticsearch refused an event for good"
            );
        }
        let Some(dlq) = self.config.dead_letter_queue.clone() else {
            self.metrics.events_failed.add(dead.len() as u64);
            for (i, _) in dead {
                batch.items[i].event.finalize(Delivery::Failed);
            }
            return;
        };
        // The DLQ fsyncs: do it off the async threads, lending it the events meanwhile.
        let mut letters: Vec<(Event, String, ItemError, usize)> = dead
            .into_iter()
            .map(|(i, e)| {
                let item = &mut batch.items[i];
                let event = std::mem::replace(&mut item.event, Event::new(Default::default()));
                (event, item.index.clone(), e, i)
            })
            .collect();
        let mut backoff = self.backoff();
        let plugin = self.config.id.clone();
        let action = batch.action.as_str();
        while !letters.is_empty() {
            let dlq = dlq.clone();
            let plugin = plugin.clone();
            let (returned, result) = tokio::task::spawn_blocking(move || {
                let entries: Vec<_> = letters
                    .iter()
                    .map(|(event, index, e, _)| DeadLetterEntry {
                        plugin: &plugin,
                        plugin_type: "elasticsearch",
                        index,
                        action,
                        status: e.status,
                        error_type: &e.kind,
                        reason: &e.reason,
                        event,
                    })
                    .collect();
                let mut writer = dlq.lock().unwrap();
                let result = writer.append(&entries);
                let size = writer.size();
                drop((writer, entries));
                (letters, result.map(|appended| (appended, size)))
            })
            .await
            .expect("the DLQ writer does not panic");
            letters = returned;
            match result {
                Ok((appended, size)) => {
                    self.metrics.dlq_bytes.set(size as i64);
                    let settled = appended.written + appended.dropped;
                    self.metrics
                        .events_dead_lettered
                        .add(appended.written as u64);
                    self.metrics.events_dlq_dropped.add(appended.dropped as u64);
                    if appended.dropped > 0 {
                        tracing::error!(output = %self.config.id, events = appended.dropped, "dead-letter queue full (drop_newer): events dropped");
                    }
                    // Written or deliberately dropped: either way the event's journey ends.
                    for (mut event, _, _, _) in letters.drain(..settled) {
                        event.finalize(Delivery::Delivered);
                    }
                    if letters.is_empty() {
                        break;
                    }
                    let wait = backoff.next_delay();
                    tracing::warn!(output = %self.config.id, waiting = letters.len(), ?wait, "dead-letter queue full (block): waiting for room");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let wait = backoff.next_delay();
                    tracing::error!(output = %self.config.id, error = %e, ?wait, "dead-letter queue write failed; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

impl TimestampGuard {
    fn accepts(&self, ts: Timestamp, now: Timestamp) -> bool {
        let past = chrono::TimeDelta::from_std(self.past).unwrap_or(chrono::TimeDelta::MAX);
        let future = chrono::TimeDelta::from_std(self.future).unwrap_or(chrono::TimeDelta::MAX);
        now.checked_sub_signed(past).is_none_or(|lo| ts >= lo)
            && now.checked_add_signed(future).is_none_or(|hi| ts <= hi)
    }
}

/// A deterministic `_id` from where a Beats event came from: the agent, the file, the offset
/// in it. `None` when the event does not say (then a content hash is used).
fn origin_id(event: &Event) -> Option<String> {
    let fields = event.fields();
    let agent = fields.get("agent")?.as_object()?.get("id")?;
    let log = fields.get("log")?.as_object()?;
    let offset = log.get("offset")?;
    let file = log.get("file")?.as_object()?;
    let mut key = Vec::with_capacity(128);
    let mut part = |v: &Value| {
        crate::event::json::encode_value(v, &mut key);
        key.push(0);
    };
    part(agent);
    match (file.get("device_id"), file.get("inode")) {
        (Some(device), Some(inode)) => {
            part(device);
            part(inode);
        }
        _ => part(file.get("path")?),
    }
    part(offset);
    Some(String::from_utf8(encoder::hash_hex(&key).to_vec()).expect("hex is ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FieldRef, Object};

    fn beats_event(offset: i64) -> Event {
        let mut e = Event::new(Object::new());
        let set = |e: &mut Event, f: &str, v: Value| {
            e.insert(&FieldRef::parse(f).unwrap(), v);
        };
        set(&mut e, "[agent][id]", "5b1c".into());
        set(&mut e, "[log][file][path]", "/var/log/app.log".into());
        set(&mut e, "[log][offset]", offset.into());
        e
    }

    #[test]
    fn origin_ids_depend_on_agent_file_and_offset_only() {
        let a = origin_id(&beats_event(10)).unwrap();
        let mut again = beats_event(10);
        again.insert(&FieldRef::parse("message").unwrap(), "other".into());
        assert_eq!(origin_id(&again).unwrap(), a);
        assert_ne!(origin_id(&beats_event(11)).unwrap(), a);
        assert_eq!(a.len(), 32);
        assert!(origin_id(&Event::new(Object::new())).is_none());
    }

    #[test]
    fn update_and_delete_need_a_document_id() {
        for action in [Action::Update, Action::Delete] {
            let config = ElasticsearchConfig {
                action,
                ..ElasticsearchConfig::default()
            };
            assert!(matches!(
                ElasticsearchOutput::new(config),
                Err(ConfigError::NeedsDocumentId(_))
            ));
        }
        let config = ElasticsearchConfig {
            action: Action::Update,
            document_id: Some(Box::new(|_| "1".into())),
            ..ElasticsearchConfig::default()
        };
        assert!(ElasticsearchOutput::new(config).is_ok());
    }

    #[test]
    fn the_guard_accepts_a_window_around_now() {
        let guard = TimestampGuard {
            past: Duration::from_secs(365 * 86400),
            future: Duration::from_secs(86400),
        };
        let now = crate::event::now();
        let day = chrono::TimeDelta::days(1);
        assert!(guard.accepts(now, now));
        assert!(guard.accepts(now - day * 300, now));
        assert!(!guard.accepts(now - day * 400, now));
        assert!(!guard.accepts(now + day * 2, now));
    }
}
