//! `email`: sends events as mail over SMTP, with Logstash's settings and defaults
//! (docs/EMAIL.md). Every string setting is a sprintf template rendered per event.
//!
//! Events are finalized `Delivered` only once the SMTP server accepted the mail that carries
//! them; until then the output takes no more batches, so a server that is down holds the
//! pipeline back instead of losing alerts.
//!
//! Beyond Logstash, `digest_interval` turns a storm of events into a few summary mails: the
//! events of an interval are collected (the interval starts with the first of them) and sent
//! as one mail when it ends, with their count and the first `digest_max_events` bodies.

mod mail;
mod sender;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Mechanism;
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::mail::{Rendered, Shape, Templates};
use self::sender::{Outcome, Sender, ServerConfig};
use super::{BoxFuture, Output, OutputContext};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, Template};
use crate::pipeline::receipt::{Delivery, Finalizers};

pub struct EmailOutput {
    server: ServerConfig,
    templates: Templates,
    shape: Shape,
    digest: Option<DigestConfig>,
}

#[derive(Clone, Copy)]
struct DigestConfig {
    interval: Duration,
    max_events: usize,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Output>, ConfigError> {
    let compile = |name: &str, source: String| {
        Template::compile(&source).map_err(|e| settings.error(format!("`{name}`: {e}")))
    };
    let optional = |name: &'static str| -> Result<Option<Template>, ConfigError> {
        settings.string(name)?.map(|s| compile(name, s)).transpose()
    };
    let templates = Templates {
        from: compile(
            "from",
            settings.string_or("from", "logstash.alert@example.com")?,
        )?,
        to: compile("to", settings.required_string("to")?)?,
        cc: optional("cc")?,
        bcc: optional("bcc")?,
        replyto: optional("replyto")?,
        subject: compile("subject", settings.string_or("subject", "")?)?,
        body: compile("body", settings.string_or("body", "")?)?,
        htmlbody: optional("htmlbody")?,
    };
    let content_type = settings.string_or("contenttype", "text/html; charset=UTF-8")?;
    let html_type = ContentType::parse(&content_type)
        .map_err(|e| settings.error(format!("`contenttype` {content_type:?}: {e}")))?;
    let attachments: Vec<PathBuf> = settings
        .string_list("attachments")?
        .into_iter()
        .map(|a| PathBuf::from(a.node))
        .collect();
    if settings.string("template_file")?.is_some() {
        return Err(settings.error(
            "`template_file` (a Mustache template) is not supported by Sluice; \
             write the mail with `body`/`htmlbody` and %{field} references instead",
        ));
    }
    settings.choice("via", &["smtp"], "smtp")?;
    // Logstash's `debug` turns on the mail library's protocol log; Sluice's SMTP client logs
    // at `RUST_LOG=lettre=debug` instead, so the setting has nothing left to switch.
    settings.boolean("debug")?;

    let use_tls = settings.boolean_or("use_tls", false)?;
    let implicit_tls = settings.boolean_or("implicit_tls", false)?;
    if use_tls && implicit_tls {
        return Err(settings.error(
            "`use_tls` (STARTTLS) and `implicit_tls` exclude each other; \
             port 465 usually wants `implicit_tls`, 587 `use_tls`",
        ));
    }
    let address = settings.string_or("address", "localhost")?;
    let mut extra_roots = Vec::new();
    for file in settings.string_list("ssl_certificate_authorities")? {
        let pem = std::fs::read(&file.node).map_err(|e| {
            settings.error(format!(
                "`ssl_certificate_authorities` {:?}: {e}",
                file.node
            ))
        })?;
        extra_roots.push(pem);
    }
    let tls = ServerConfig::tls(&address, use_tls, implicit_tls, &extra_roots)
        .map_err(|e| settings.error(format!("`address` {address:?} for TLS: {e}")))?;
    let username = settings.string("username")?;
    let password = settings.string("password")?;
    let credentials = match (username, password) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        _ => return Err(settings.error("`username` and `password` go together")),
    };
    let mechanism = match settings.string("authentication")?.as_deref() {
        None => None,
        Some(a) if a.eq_ignore_ascii_case("plain") => Some(Mechanism::Plain),
        Some(a) if a.eq_ignore_ascii_case("login") => Some(Mechanism::Login),
        Some(other) => {
            return Err(settings.error(format!(
                "`authentication` {other:?} is not supported: use `plain` or `login` \
                 (CRAM-MD5 is obsolete; use TLS with PLAIN instead)"
            )))
        }
    };
    let retry_initial = settings.integer_in("retry_initial_interval", 1..=3600, 1)?;
    let retry_max = settings.integer_in("retry_max_interval", 1..=86_400, 64)?;
    let digest_interval = settings.integer_in("digest_interval", 0..=86_400, 0)?;
    let digest_max_events = settings.integer_in("digest_max_events", 1..=10_000, 10)?;
    let server = ServerConfig {
        address,
        port: settings.integer_in("port", 1..=65_535, 25)? as u16,
        tls,
        credentials,
        mechanism,
        domain: settings.string_or("domain", "localhost")?,
        retry_initial: Duration::from_secs(retry_initial as u64),
        retry_max: Duration::from_secs(retry_max as u64),
    };
    Ok(Box::new(EmailOutput {
        server,
        templates,
        shape: Shape {
            html_type,
            attachments,
        },
        digest: (digest_interval > 0).then(|| DigestConfig {
            interval: Duration::from_secs(digest_interval as u64),
            max_events: digest_max_events as usize,
        }),
    }))
}

/// The events of the current digest interval, reduced to what the summary mail needs.
struct Digest {
    /// When the summary goes out.
    due: Instant,
    interval: Duration,
    /// The first event's mail: its addresses and subject head the summary.
    first: Rendered,
    /// The first `max_events` bodies.
    bodies: Vec<String>,
    count: usize,
    /// Every collected event's hold on its batch, released when the summary was accepted.
    finalizers: Finalizers,
}

impl Digest {
    fn summary(&self) -> Rendered {
        let mut body = format!(
            "{} events in {} s; the first {}:\n",
            self.count,
            self.interval.as_secs(),
            self.bodies.len()
        );
        for b in &self.bodies {
            body.push_str("\n---\n");
            body.push_str(b);
        }
        Rendered {
            subject: format!("[{} events] {}", self.count, self.first.subject),
            body,
            // One text body per event; HTML bodies do not concatenate into one document.
            htmlbody: String::new(),
            ..self.first.clone()
        }
    }
}

impl Output for EmailOutput {
    fn run(
        self: Box<Self>,
        mut batches: mpsc::Receiver<Vec<Event>>,
        ctx: OutputContext,
    ) -> BoxFuture<()> {
        Box::pin(async move {
            let mut sender = Sender::new(&self.server, &ctx.pipeline, &ctx.id);
            let mut digest: Option<Digest> = None;
            loop {
                let next = match &digest {
                    Some(d) => tokio::time::timeout_at(d.due, batches.recv()).await,
                    None => Ok(batches.recv().await),
                };
                match next {
                    Ok(Some(batch)) => {
                        for event in batch {
                            match self.digest {
                                None => self.send_one(&mut sender, event, &ctx).await,
                                Some(config) => self.collect(&mut digest, config, event),
                            }
                        }
                    }
                    Ok(None) => {
                        if let Some(d) = digest.take() {
                            self.send_digest(&mut sender, d, &ctx).await;
                        }
                        return;
                    }
                    Err(_due) => {
                        if let Some(d) = digest.take() {
                            self.send_digest(&mut sender, d, &ctx).await;
                        }
                    }
                }
            }
        })
    }
}

impl EmailOutput {
    async fn send_one(&self, sender: &mut Sender, mut event: Event, ctx: &OutputContext) {
        let mail = self.templates.render(&event);
        let outcome = self.deliver(sender, &mail, ctx).await;
        event.finalize(outcome);
    }

    fn collect(&self, digest: &mut Option<Digest>, config: DigestConfig, mut event: Event) {
        let d = digest.get_or_insert_with(|| Digest {
            due: Instant::now() + config.interval,
            interval: config.interval,
            first: self.templates.render(&event),
            bodies: Vec::new(),
            count: 0,
            finalizers: Finalizers::default(),
        });
        if d.bodies.len() < config.max_events {
            d.bodies.push(self.templates.body.render_to_string(&event));
        }
        d.count += 1;
        d.finalizers.merge(event.take_finalizers());
    }

    async fn send_digest(&self, sender: &mut Sender, mut digest: Digest, ctx: &OutputContext) {
        let outcome = self.deliver(sender, &digest.summary(), ctx).await;
        digest.finalizers.finalize(outcome);
    }

    /// Sends `mail`; how its events end.
    async fn deliver(&self, sender: &mut Sender, mail: &Rendered, ctx: &OutputContext) -> Delivery {
        let message = match self.shape.message(mail) {
            Ok(m) => m,
            Err(e) => {
                sender.count_unbuildable();
                tracing::error!(plugin = %ctx.id, error = %e, "email: cannot build the mail; dropping it");
                return Delivery::Failed;
            }
        };
        match sender.send(message).await {
            Outcome::Accepted => Delivery::Delivered,
            Outcome::Refused(reason) => {
                tracing::error!(plugin = %ctx.id, %reason, "email: the SMTP server refused the mail");
                Delivery::Failed
            }
        }
    }
}
