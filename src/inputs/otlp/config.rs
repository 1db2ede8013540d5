//! `input { otlp { … } }`: the settings, with the beats input's `ssl_*` names for TLS and
//! the OpenTelemetry Collector's defaults for ports and sizes.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::inputs::beats::tls::{ClientAuthentication, TlsSettings, TlsVersion};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpSettings {
    /// `host` and `grpc_port` (default 4317).
    pub grpc_address: SocketAddr,
    /// `host` and `http_port` (default 4318).
    pub http_address: SocketAddr,
    /// `max_request_bytes`: a request's body as sent, compressed or not (default 4 MiB, gRPC's
    /// default receive limit).
    pub max_request_bytes: usize,
    /// `max_decompressed_bytes`: a gzip body once inflated (default 16 MiB); a bigger one
    /// (a gzip bomb) is refused without inflating further.
    pub max_decompressed_bytes: usize,
    /// `max_queue_wait_ms`: how long a request waits for room in a full pipeline queue before
    /// the sender is told to back off and retry (default 1000).
    pub max_queue_wait: Duration,
    /// `ssl_enabled => true` and the other `ssl_*` settings; both ports then speak TLS.
    pub tls: Option<TlsSettings>,
}

impl Default for OtlpSettings {
    fn default() -> OtlpSettings {
        let host = IpAddr::from([0, 0, 0, 0]);
        OtlpSettings {
            grpc_address: SocketAddr::new(host, 4317),
            http_address: SocketAddr::new(host, 4318),
            max_request_bytes: 4 << 20,
            max_decompressed_bytes: 16 << 20,
            max_queue_wait: Duration::from_millis(1000),
            tls: None,
        }
    }
}

impl OtlpSettings {
    pub fn from_settings(settings: &Settings) -> Result<OtlpSettings, ConfigError> {
        let defaults = OtlpSettings::default();
        let host: IpAddr = match settings.raw("host") {
            None => defaults.grpc_address.ip(),
            Some(s) => settings
                .string("host")?
                .and_then(|h| h.parse().ok())
                .ok_or_else(|| {
                    settings.invalid(s, "expected an IP address such as 0.0.0.0 or ::")
                })?,
        };
        let port = |name, default: u16| -> Result<u16, ConfigError> {
            Ok(settings.integer_in(name, 0..=65535, i64::from(default))? as u16)
        };
        let size = |name, default: usize| -> Result<usize, ConfigError> {
            Ok(settings.integer_in(name, 1..=i64::from(u32::MAX), default as i64)? as usize)
        };
        Ok(OtlpSettings {
            grpc_address: SocketAddr::new(host, port("grpc_port", 4317)?),
            http_address: SocketAddr::new(host, port("http_port", 4318)?),
            max_request_bytes: size("max_request_bytes", defaults.max_request_bytes)?,
            max_decompressed_bytes: size(
                "max_decompressed_bytes",
                defaults.max_decompressed_bytes,
            )?,
            max_queue_wait: Duration::from_millis(settings.integer_in(
                "max_queue_wait_ms",
                0..=3_600_000,
                1000,
            )? as u64),
            tls: tls_settings(settings)?,
        })
    }
}

/// The beats input's `ssl_*` settings, read through [`Settings`].
fn tls_settings(settings: &Settings) -> Result<Option<TlsSettings>, ConfigError> {
    let enabled = settings.boolean_or("ssl_enabled", false)?;
    let certificate = settings.string("ssl_certificate")?;
    let key = settings.string("ssl_key")?;
    let authorities = settings.string_list("ssl_certificate_authorities")?;
    let client_authentication = match settings.raw("ssl_client_authentication") {
        None => None,
        Some(_) => Some(
            match settings.choice(
                "ssl_client_authentication",
                &["none", "optional", "required"],
                "none",
            )? {
                "optional" => ClientAuthentication::Optional,
                "required" => ClientAuthentication::Required,
                _ => ClientAuthentication::None,
            },
        ),
    };
    let mut protocols = Vec::new();
    for name in settings.string_list("ssl_supported_protocols")? {
        protocols.push(TlsVersion::parse(&name.node).ok_or_else(|| {
            ConfigError::at(
                name.span,
                "`ssl_supported_protocols` takes `TLSv1.2` and `TLSv1.3`",
            )
        })?);
    }
    let handshake_ms = settings.integer_in("ssl_handshake_timeout", 1..=3_600_000, 10_000)?;
    if !enabled {
        return match ["ssl_certificate", "ssl_key", "ssl_certificate_authorities"]
            .into_iter()
            .find(|name| settings.raw(name).is_some())
        {
            Some(name) => Err(settings
                .error(format!("`{name}` is set but `ssl_enabled` is not true"))
                .with_help("add `ssl_enabled => true`, or remove the ssl_* settings")),
            None => Ok(None),
        };
    }
    let (Some(certificate), Some(key)) = (certificate, key) else {
        return Err(settings.error("`ssl_enabled => true` needs `ssl_certificate` and `ssl_key`"));
    };
    let mut tls = TlsSettings::new(PathBuf::from(certificate), PathBuf::from(key));
    tls.certificate_authorities = authorities
        .into_iter()
        .map(|a| PathBuf::from(a.node))
        .collect();
    tls.client_authentication = client_authentication;
    if !protocols.is_empty() {
        tls.supported_protocols = protocols;
    }
    tls.handshake_timeout = Duration::from_millis(handshake_ms as u64);
    Ok(Some(tls))
}
