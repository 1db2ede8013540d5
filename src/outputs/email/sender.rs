//! Hands messages to the SMTP server until it accepts them.
//!
//! A connection failure, a timeout or a 4xx reply is tried again with exponential backoff,
//! for as long as it takes: the events wait unacknowledged meanwhile, so the inputs slow down
//! instead of losing alerts. Only a 5xx reply (the server refuses this very message, e.g. an
//! unknown recipient) gives up, because sending it again would be refused again.

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::observe::metrics::{registry, Counter};
use crate::outputs::elasticsearch::retry::Backoff;

/// How to reach the server; everything `build` needs from the settings.
pub struct ServerConfig {
    pub address: String,
    pub port: u16,
    /// `None`: no TLS at all.
    pub tls: Option<Tls>,
    pub credentials: Option<(String, String)>,
    /// `None`: whatever the server offers, PLAIN first.
    pub mechanism: Option<Mechanism>,
    /// The name sent with EHLO (`domain`).
    pub domain: String,
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl ServerConfig {
    /// How to speak TLS to `address`: STARTTLS (`use_tls`, required rather than
    /// opportunistic, see docs/EMAIL.md), or TLS from the first byte (`implicit_tls`, SMTPS).
    /// The server's certificate must chain to the Mozilla roots or to one of `extra_roots`
    /// (PEM files' contents).
    pub fn tls(
        address: &str,
        starttls: bool,
        implicit: bool,
        extra_roots: &[Vec<u8>],
    ) -> Result<Option<Tls>, String> {
        if !starttls && !implicit {
            return Ok(None);
        }
        let mut builder = TlsParameters::builder(address.to_owned());
        for pem in extra_roots {
            builder = builder
                .add_root_certificate(Certificate::from_pem(pem).map_err(|e| e.to_string())?);
        }
        let params = builder.build_rustls().map_err(|e| e.to_string())?;
        Ok(Some(if implicit {
            Tls::Wrapper(params)
        } else {
            Tls::Required(params)
        }))
    }
}

pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    backoff: Backoff,
    sent: Counter,
    failures: Counter,
    retries: Counter,
}

/// What became of a message.
pub enum Outcome {
    Accepted,
    /// Refused for good, with the server's reason.
    Refused(String),
}

impl Sender {
    pub fn new(config: &ServerConfig, pipeline: &str, plugin: &str) -> Sender {
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.address.as_str())
                .port(config.port)
                .hello_name(ClientId::Domain(config.domain.clone()));
        if let Some(tls) = &config.tls {
            builder = builder.tls(tls.clone());
        }
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        if let Some(mechanism) = config.mechanism {
            builder = builder.authentication(vec![mechanism]);
        }
        let r = registry();
        let labels: &[(&str, &str)] = &[("pipeline", pipeline), ("plugin", plugin)];
        Sender {
            transport: builder.build(),
            backoff: Backoff::new(config.retry_initial, config.retry_max),
            sent: r.counter(
                "sluice_email_sent_total",
                "Mails the SMTP server accepted.",
                labels,
            ),
            failures: r.counter(
                "sluice_email_failures_total",
                "Attempts to send a mail that failed (each retry that fails counts again).",
                labels,
            ),
            retries: r.counter(
                "sluice_email_retries_total",
                "Attempts to send a mail again after a failure.",
                labels,
            ),
        }
    }

    /// Counts a mail that could not even be built (see `Shape::message`) as a failure.
    pub fn count_unbuildable(&self) {
        self.failures.inc();
    }

    /// Sends `message`, retrying until the server accepts it or refuses it for good.
    pub async fn send(&mut self, message: Message) -> Outcome {
        loop {
            match self.transport.send(message.clone()).await {
                Ok(_) => {
                    self.sent.inc();
                    self.backoff.reset();
                    return Outcome::Accepted;
                }
                Err(e) => {
                    self.failures.inc();
                    if e.is_permanent() {
                        return Outcome::Refused(e.to_string());
                    }
                    let wait = self.backoff.next_delay();
                    tracing::warn!(error = %e, retry_in = ?wait, "email: sending failed; will retry");
                    tokio::time::sleep(wait).await;
                    self.retries.inc();
                }
            }
        }
    }
}
