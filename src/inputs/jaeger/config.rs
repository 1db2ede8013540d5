//! `input { jaeger { … } }`: the settings, named after the Jaeger endpoints they configure.
//!
//! Every endpoint has its port setting, with Jaeger's port as the default; `false` turns the
//! endpoint off and `0` takes any free port (the address is logged). TLS (`ssl_*`, as the
//! `beats` input spells them) applies to the HTTP collector endpoint; the agent's UDP ports and
//! the sampling endpoint are plain, as in Jaeger.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::error::ConfigError;
use crate::config::settings::{scalar_string, Settings};
use crate::inputs::beats::tls::{ClientAuthentication, TlsSettings};

#[derive(Clone, Debug, PartialEq)]
pub struct JaegerSettings {
    /// UDP, Thrift compact `emitBatch` (`thrift_compact_port`, 6831).
    pub thrift_compact: Option<SocketAddr>,
    /// UDP, Thrift binary `emitBatch` (`thrift_binary_port`, 6832).
    pub thrift_binary: Option<SocketAddr>,
    /// HTTP `POST /api/traces` (`thrift_http_port`, 14268).
    pub thrift_http: Option<SocketAddr>,
    /// gRPC `jaeger.api_v2.CollectorService/PostSpans` (`grpc_port`, 14250).
    pub grpc: Option<SocketAddr>,
    /// HTTP `GET /sampling` (`sampling_port`, 5778).
    pub sampling: Option<SocketAddr>,
    /// Datagrams longer than this are dropped (`max_packet_size`, 65000 as in Jaeger).
    pub max_packet_size: usize,
    /// Decoded datagrams waiting for the pipeline; beyond this they are dropped, so a full
    /// pipeline never stops the socket being read (`udp_queue_size`, 1000).
    pub udp_queue_size: usize,
    /// The largest HTTP body or gRPC message taken (`max_request_bytes`, 4 MiB as Jaeger's
    /// gRPC limit).
    pub max_request_bytes: usize,
    /// How long a request waits for room in the pipeline's queue before it is answered 503
    /// (`max_queue_wait_ms`, 5 s).
    pub max_queue_wait: Duration,
    /// Jaeger's `sampling_strategies` JSON file, re-read at start only.
    pub sampling_strategies_file: Option<PathBuf>,
    /// The probabilistic strategy served when there is no file (Jaeger's default, 0.001).
    pub default_sampling_probability: f64,
    pub tls: Option<TlsSettings>,
}

/// Reads the plugin block.
pub fn from_settings(s: &Settings) -> Result<JaegerSettings, ConfigError> {
    let host: IpAddr = match s.raw("host") {
        None => IpAddr::from([0, 0, 0, 0]),
        Some(setting) => s
            .string("host")?
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| s.invalid(setting, "expected an IP address such as 0.0.0.0 or ::"))?,
    };
    let port = |name: &'static str, default: u16| -> Result<Option<SocketAddr>, ConfigError> {
        if let Some(setting) = s.raw(name) {
            if scalar_string(&setting.value).as_deref() == Some("false") {
                return Ok(None);
            }
        }
        let port = s.integer_in(name, 0..=65535, i64::from(default))?;
        Ok(Some(SocketAddr::new(host, port as u16)))
    };
    Ok(JaegerSettings {
        thrift_compact: port("thrift_compact_port", 6831)?,
        thrift_binary: port("thrift_binary_port", 6832)?,
        thrift_http: port("thrift_http_port", 14268)?,
        grpc: port("grpc_port", 14250)?,
        sampling: port("sampling_port", 5778)?,
        max_packet_size: s.integer_in("max_packet_size", 1..=65535, 65000)? as usize,
        udp_queue_size: s.integer_in("udp_queue_size", 1..=1_000_000, 1000)? as usize,
        max_request_bytes: s.integer_in("max_request_bytes", 1..=1 << 30, 4 << 20)? as usize,
        max_queue_wait: Duration::from_millis(s.integer_in(
            "max_queue_wait_ms",
            0..=3_600_000,
            5000,
        )? as u64),
        sampling_strategies_file: s.string("sampling_strategies_file")?.map(PathBuf::from),
        default_sampling_probability: probability(s)?,
        tls: tls(s)?,
    })
}

fn probability(s: &Settings) -> Result<f64, ConfigError> {
    let p = s.float("default_sampling_probability")?.unwrap_or(0.001);
    if !(0.0..=1.0).contains(&p) {
        let setting = s.raw("default_sampling_probability").expect("given");
        return Err(s.invalid(setting, "expected a probability between 0 and 1"));
    }
    Ok(p)
}

fn tls(s: &Settings) -> Result<Option<TlsSettings>, ConfigError> {
    let enabled = s.boolean_or("ssl_enabled", false)?;
    let certificate = s.string("ssl_certificate")?;
    let key = s.string("ssl_key")?;
    let authorities = s.string_list("ssl_certificate_authorities")?;
    // Unset, the beats input's rule applies: `required` when CAs are given, else `none`.
    let client_authentication = match s.choice(
        "ssl_client_authentication",
        &["none", "optional", "required"],
        "",
    )? {
        "none" => Some(ClientAuthentication::None),
        "optional" => Some(ClientAuthentication::Optional),
        "required" => Some(ClientAuthentication::Required),
        _ => None,
    };
    if !enabled {
        if certificate.is_some() || key.is_some() || !authorities.is_empty() {
            return Err(s
                .error("`ssl_*` settings are given but `ssl_enabled` is not true")
                .with_help("add `ssl_enabled => true`, or remove the ssl_* settings"));
        }
        return Ok(None);
    }
    let (Some(certificate), Some(key)) = (certificate, key) else {
        return Err(s.error("`ssl_enabled => true` needs `ssl_certificate` and `ssl_key`"));
    };
    let mut tls = TlsSettings::new(certificate.into(), key.into());
    tls.certificate_authorities = authorities.into_iter().map(|a| a.node.into()).collect();
    tls.client_authentication = client_authentication;
    Ok(Some(tls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::Statement;
    use crate::config::grammar::parse;
    use crate::config::source::FileId;

    fn settings(block: &str) -> Result<JaegerSettings, ConfigError> {
        let source = format!("input {{ jaeger {{ {block} }} }}");
        let sections = parse(&source, FileId(0), false).unwrap();
        let Statement::Plugin(plugin) = &sections[0].body[0] else {
            unreachable!()
        };
        let s = Settings::new(plugin, "input")?;
        let settings = from_settings(&s)?;
        s.finish()?;
        Ok(settings)
    }

    #[test]
    fn defaults_are_jaegers_ports() {
        let s = settings("").unwrap();
        assert_eq!(s.thrift_compact, Some("0.0.0.0:6831".parse().unwrap()));
        assert_eq!(s.thrift_binary, Some("0.0.0.0:6832".parse().unwrap()));
        assert_eq!(s.thrift_http, Some("0.0.0.0:14268".parse().unwrap()));
        assert_eq!(s.grpc, Some("0.0.0.0:14250".parse().unwrap()));
        assert_eq!(s.sampling, Some("0.0.0.0:5778".parse().unwrap()));
        assert_eq!(s.max_packet_size, 65000);
        assert_eq!(s.default_sampling_probability, 0.001);
        assert!(s.tls.is_none());
    }

    #[test]
    fn endpoints_can_be_turned_off_or_moved() {
        let s = settings(r#"host => "127.0.0.1" thrift_binary_port => false sampling_port => 0"#)
            .unwrap();
        assert_eq!(s.thrift_binary, None);
        assert_eq!(s.sampling, Some("127.0.0.1:0".parse().unwrap()));
    }

    #[test]
    fn mistakes_are_named() {
        let e = settings("thrift_http_port => 70000").unwrap_err();
        assert!(e.message.contains("thrift_http_port"), "{}", e.message);
        let e = settings("default_sampling_probability => 2").unwrap_err();
        assert!(e.message.contains("probability"), "{}", e.message);
        let e = settings(r#"ssl_certificate => "c.pem""#).unwrap_err();
        assert!(e.message.contains("ssl_enabled"), "{}", e.message);
        let e = settings("ssl_enabled => true").unwrap_err();
        assert!(e.message.contains("ssl_certificate"), "{}", e.message);
        let e = settings("thrift_compact_prot => 1").unwrap_err();
        assert!(e.help.unwrap().contains("thrift_compact_port"));
    }
}
