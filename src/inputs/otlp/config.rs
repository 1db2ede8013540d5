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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::{Plugin, Statement};
    use crate::config::load::load_str;

    fn read(body: &str) -> Result<OtlpSettings, String> {
        let text = format!("input {{ otlp {{ {body} }} }}");
        let (_, config) = load_str("test", &text, false).map_err(|(_, e)| e).unwrap();
        let plugin: Plugin = match &config.sections[0].body[0] {
            Statement::Plugin(p) => p.clone(),
            _ => panic!("not a plugin"),
        };
        let settings = Settings::new(&plugin, "input").map_err(|e| e.message)?;
        let otlp = OtlpSettings::from_settings(&settings).map_err(|e| e.message)?;
        settings.string("codec").map_err(|e| e.message)?;
        settings.finish().map_err(|e| e.message)?;
        Ok(otlp)
    }

    #[test]
    fn defaults_are_the_collectors() {
        assert_eq!(read("").unwrap(), OtlpSettings::default());
        let s = read(
            r#"host => "127.0.0.1" grpc_port => 14317 http_port => 0 max_request_bytes => 1024
               max_decompressed_bytes => 4096 max_queue_wait_ms => 0"#,
        )
        .unwrap();
        assert_eq!(s.grpc_address.to_string(), "127.0.0.1:14317");
        assert_eq!(s.http_address.to_string(), "127.0.0.1:0");
        assert_eq!(
            (s.max_request_bytes, s.max_decompressed_bytes),
            (1024, 4096)
        );
        assert_eq!(s.max_queue_wait, Duration::ZERO);
    }

    #[test]
    fn tls_takes_the_beats_names() {
        let s = read(
            r#"ssl_enabled => true ssl_certificate => "c.pem" ssl_key => "k.pem"
               ssl_certificate_authorities => ["ca.pem"] ssl_client_authentication => "optional"
               ssl_supported_protocols => ["TLSv1.3"] ssl_handshake_timeout => 500"#,
        )
        .unwrap();
        let tls = s.tls.unwrap();
        assert_eq!(tls.certificate, PathBuf::from("c.pem"));
        assert_eq!(tls.certificate_authorities, vec![PathBuf::from("ca.pem")]);
        assert_eq!(
            tls.client_authentication,
            Some(ClientAuthentication::Optional)
        );
        assert_eq!(tls.supported_protocols, vec![TlsVersion::Tls13]);
        assert_eq!(tls.handshake_timeout, Duration::from_millis(500));
    }

    #[test]
    fn mistakes_are_named() {
        let error = |body| read(body).unwrap_err();
        assert!(error(r#"host => "localhost""#).contains("IP address"));
        assert!(error("grpc_port => 70000").contains("outside 0..=65535"));
        assert!(error("max_request_bytes => 0").contains("outside"));
        assert!(error(r#"ssl_certificate => "c.pem""#).contains("`ssl_enabled` is not true"));
        assert!(error("ssl_enabled => true").contains("needs `ssl_certificate` and `ssl_key`"));
        assert!(error(r#"ssl_supported_protocols => "SSLv3""#).contains("TLSv1.2"));
        assert!(error("grcp_port => 1").contains("unknown setting `grcp_port`"));
    }
}
