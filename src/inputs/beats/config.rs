//! `input { beats { … } }`: Logstash's setting names (and units) to [`BeatsSettings`].
//!
//! Every beats-specific setting of logstash-input-beats is read here; the obsolete ones
//! (`ssl`, `ssl_verify_mode`) are refused with a hint rather than silently ignored. Values
//! are checked here, where the error can point at them: an `ssl_cipher_suites` name rustls
//! does not implement, or a list leaving an enabled protocol version without a suite. (The
//! files `ssl_*` name are read when the input starts.) The common input settings (`id`,
//! `type`, `tags`, `add_field`, `codec`, `enable_metric`) are left to the pipeline, which
//! applies them to every input alike. Settings of our own carry the limits Logstash does not
//! have.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::event::EcsCompatibility;
use super::server::BeatsSettings;
use super::tls::{CipherSuite, ClientAuthentication, Passphrase, TlsSettings, TlsVersion};
use crate::config::ast::{ConfigValue, Number, Plugin, Setting};
use crate::config::error::{unknown_name_help, ConfigError};

/// Settings every input has; the pipeline handles them.
const COMMON: [&str; 6] = ["id", "type", "tags", "add_field", "codec", "enable_metric"];

/// Logstash tuning knobs with no meaning here (the tokio runtime schedules connections).
const IGNORED: [&str; 2] = ["executor_threads", "event_loop_threads"];

const KNOWN: [&str; 24] = [
    "host",
    "port",
    "ssl_enabled",
    "ssl_certificate",
    "ssl_key",
    "ssl_certificate_authorities",
    "ssl_client_authentication",
    "ssl_supported_protocols",
    "ssl_handshake_timeout",
    "client_inactivity_timeout",
    "add_hostname",
    "include_codec_tag",
    "ecs_compatibility",
    "max_frame_bytes",
    "max_window_events",
    "max_window_bytes",
    "max_pending_bytes",
    "max_windows_ahead",
    "keepalive_interval",
    "unacked_window_timeout",
    "ssl_key_passphrase",
    "ssl_cipher_suites",
    "ssl",
    "ssl_verify_mode",
];

/// Every beats-specific setting name this module reads (or refuses with a hint).
pub fn setting_names() -> impl Iterator<Item = &'static str> {
    KNOWN.iter().chain(&IGNORED).copied()
}

/// Reads a `beats` plugin block.
pub fn settings_from_plugin(plugin: &Plugin) -> Result<BeatsSettings, ConfigError> {
    let mut settings = BeatsSettings::default();
    let mut host: IpAddr = settings.address.ip();
    let mut port: Option<u16> = None;
    let mut ssl_enabled = false;
    let mut certificate: Option<PathBuf> = None;
    let mut key: Option<PathBuf> = None;
    let mut key_passphrase: Option<Passphrase> = None;
    let mut authorities: Vec<PathBuf> = Vec::new();
    let mut client_auth: Option<ClientAuthentication> = None;
    let mut protocols: Option<Vec<TlsVersion>> = None;
    let mut handshake = Duration::from_secs(10);
    let mut cipher_suites: Option<(&Setting, Vec<CipherSuite>)> = None;
    let mut first_ssl_setting = None;

    for s in &plugin.settings {
        let c = &mut settings.connection;
        match s.name.as_str() {
            "host" => {
                host = string(s)?.parse().map_err(|_| {
                    ConfigError::at(
                        s.value.span,
                        "`host` must be an IP address such as 0.0.0.0 or ::",
                    )
                })?
            }
            "port" => {
                port = Some(u16::try_from(integer(s)?).map_err(|_| {
                    ConfigError::at(s.value.span, "`port` must be between 0 and 65535")
                })?)
            }
            "ssl_enabled" => ssl_enabled = boolean(s)?,
            "ssl_certificate" => certificate = Some(string(s)?.into()),
            "ssl_key" => key = Some(string(s)?.into()),
            "ssl_certificate_authorities" => {
                authorities = strings(s)?.into_iter().map(PathBuf::from).collect()
            }
            "ssl_client_authentication" => {
                client_auth = Some(match string(s)?.as_str() {
                    "none" => ClientAuthentication::None,
                    "optional" => ClientAuthentication::Optional,
                    "required" => ClientAuthentication::Required,
                    _ => return Err(invalid(s, "one of `none`, `optional`, `required`")),
                })
            }
            "ssl_supported_protocols" => {
                let mut list = Vec::new();
                for name in strings(s)? {
                    list.push(
                        TlsVersion::parse(&name)
                            .ok_or_else(|| invalid(s, "a list of `TLSv1.2` and `TLSv1.3`"))?,
                    );
                }
                protocols = Some(list)
            }
            // Milliseconds, as in Logstash.
            "ssl_handshake_timeout" => handshake = Duration::from_millis(positive(s)?),
            // Seconds, as in Logstash.
            "client_inactivity_timeout" => {
                c.client_inactivity_timeout = Duration::from_secs(positive(s)?)
            }
            "add_hostname" => c.events.add_hostname = boolean(s)?,
            "include_codec_tag" => c.events.include_codec_tag = boolean(s)?,
            "ecs_compatibility" => {
                c.events.ecs_compatibility = match string(s)?.as_str() {
                    "disabled" => EcsCompatibility::Disabled,
                    "v1" | "v8" => EcsCompatibility::V1,
                    _ => return Err(invalid(s, "one of `disabled`, `v1`, `v8`")),
                }
            }
            "max_frame_bytes" => c.limits.max_frame_bytes = size(s)?,
            "max_window_events" => {
                c.limits.max_window_events =
                    u32::try_from(positive(s)?).map_err(|_| invalid(s, "a count below 2^32"))?
            }
            "max_window_bytes" => c.limits.max_window_bytes = size(s)?,
            "max_pending_bytes" => settings.max_pending_bytes = size(s)?,
            "max_windows_ahead" => c.max_windows_ahead = size(s)?,
            "keepalive_interval" => c.keepalive_interval = Duration::from_secs(positive(s)?),
            "unacked_window_timeout" => {
                c.unacked_window_timeout = Duration::from_secs(positive(s)?)
            }
            "ssl_key_passphrase" => key_passphrase = Some(Passphrase(string(s)?)),
            "ssl_cipher_suites" => cipher_suites = Some((s, cipher_suite_list(s)?)),
            "ssl" => {
                return Err(
                    ConfigError::at(s.span, "`ssl` is obsolete").with_help("use `ssl_enabled`")
                )
            }
            "ssl_verify_mode" => {
                return Err(ConfigError::at(s.span, "`ssl_verify_mode` is obsolete")
                    .with_help("use `ssl_client_authentication` (none, optional, required)"))
            }
            name if COMMON.contains(&name) || IGNORED.contains(&name) => {}
            name => {
                let valid: Vec<&str> = KNOWN
                    .iter()
                    .chain(&COMMON)
                    .chain(&IGNORED)
                    .copied()
                    .collect();
                return Err(ConfigError::at(
                    s.span,
                    format!("unknown setting `{name}` for input plugin `beats`"),
                )
                .with_help(unknown_name_help(name, &valid)));
            }
        }
        if s.name.starts_with("ssl_") && s.name != "ssl_enabled" {
            first_ssl_setting.get_or_insert(s);
        }
    }

    let Some(port) = port else {
        return Err(
            ConfigError::at(plugin.span, "input plugin `beats` needs `port`")
                .with_help("Filebeat's default is `port => 5044`"),
        );
    };
    settings.address = SocketAddr::new(host, port);
    if ssl_enabled {
        let (Some(certificate), Some(key)) = (certificate, key) else {
            return Err(ConfigError::at(
                plugin.span,
                "`ssl_enabled => true` needs `ssl_certificate` and `ssl_key`",
            ));
        };
        let mut tls = TlsSettings::new(certificate, key);
        tls.key_passphrase = key_passphrase;
        tls.certificate_authorities = authorities;
        tls.client_authentication = client_auth;
        if let Some(protocols) = protocols {
            tls.supported_protocols = protocols;
        }
        tls.handshake_timeout = handshake;
        if let Some((s, suites)) = cipher_suites {
            check_every_protocol_has_a_suite(s, &suites, &tls.supported_protocols)?;
            tls.cipher_suites = suites;
        }
        settings.tls = Some(tls);
    } else if let Some(s) = first_ssl_setting {
        return Err(ConfigError::at(
            s.span,
            format!("`{}` is set but `ssl_enabled` is not true", s.name),
        )
        .with_help("add `ssl_enabled => true`, or remove the ssl_* settings"));
    }
    Ok(settings)
}

/// `ssl_cipher_suites`: IANA names, each one rustls implements.
fn cipher_suite_list(s: &Setting) -> Result<Vec<CipherSuite>, ConfigError> {
    let names = strings(s)?;
    if names.is_empty() {
        return Err(invalid(s, "a list of at least one cipher suite"));
    }
    names
        .iter()
        .map(|name| {
            CipherSuite::parse(name).ok_or_else(|| {
                ConfigError::at(
                    s.value.span,
                    format!(
                        "`ssl_cipher_suites`: `{name}` is not a cipher suite Sluice implements"
                    ),
                )
                .with_help(format!(
                    "use IANA names among {} (CBC suites and RSA key exchange are not offered)",
                    CipherSuite::names().join(", ")
                ))
            })
        })
        .collect()
}

/// A protocol version left without a suite could never be negotiated: a mistake, not a wish.
fn check_every_protocol_has_a_suite(
    s: &Setting,
    suites: &[CipherSuite],
    protocols: &[TlsVersion],
) -> Result<(), ConfigError> {
    for &version in protocols {
        if !suites.iter().any(|suite| suite.version() == version) {
            return Err(ConfigError::at(
                s.value.span,
                format!(
                    "`ssl_cipher_suites` names no suite for {}, which `ssl_supported_protocols` enables",
                    version.name()
                ),
            )
            .with_help(format!(
                "add a {} suite, or leave {} out of `ssl_supported_protocols`",
                version.name(),
                version.name()
            )));
        }
    }
    Ok(())
}

fn invalid(s: &Setting, expected: &str) -> ConfigError {
    ConfigError::at(s.value.span, format!("`{}` must be {expected}", s.name))
}

/// A string or a bareword.
fn string(s: &Setting) -> Result<String, ConfigError> {
    match &s.value.node {
        ConfigValue::String(v) | ConfigValue::Bareword(v) => Ok(v.clone()),
        _ => Err(invalid(s, "a string")),
    }
}

/// One string or an array of strings.
fn strings(s: &Setting) -> Result<Vec<String>, ConfigError> {
    match &s.value.node {
        ConfigValue::String(v) | ConfigValue::Bareword(v) => Ok(vec![v.clone()]),
        ConfigValue::Array(items) => items
            .iter()
            .map(|i| match &i.node {
                ConfigValue::String(v) | ConfigValue::Bareword(v) => Ok(v.clone()),
                _ => Err(invalid(s, "a list of strings")),
            })
            .collect(),
        _ => Err(invalid(s, "a string or a list of strings")),
    }
}

fn boolean(s: &Setting) -> Result<bool, ConfigError> {
    match &s.value.node {
        ConfigValue::Boolean(b) => Ok(*b),
        ConfigValue::String(v) | ConfigValue::Bareword(v) if v == "true" || v == "false" => {
            Ok(v == "true")
        }
        _ => Err(invalid(s, "`true` or `false`")),
    }
}

/// An integer, written as a number or, as Logstash also accepts, a quoted one.
fn integer(s: &Setting) -> Result<i64, ConfigError> {
    match &s.value.node {
        ConfigValue::Number(Number::Integer(i)) => Ok(*i),
        ConfigValue::String(v) => v.trim().parse().map_err(|_| invalid(s, "an integer")),
        _ => Err(invalid(s, "an integer")),
    }
}

fn positive(s: &Setting) -> Result<u64, ConfigError> {
    match u64::try_from(integer(s)?) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid(s, "a positive integer")),
    }
}

fn size(s: &Setting) -> Result<usize, ConfigError> {
    usize::try_from(positive(s)?).map_err(|_| invalid(s, "a smaller number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::Spanned;
    use crate::config::source::{FileId, Span};

    fn span(column: u32) -> Span {
        Span {
            file: FileId(0),
            line: 1,
            column,
        }
    }

    fn plugin(settings: Vec<(&str, ConfigValue)>) -> Plugin {
        Plugin {
            name: "beats".into(),
            settings: settings
                .into_iter()
                .enumerate()
                .map(|(i, (name, node))| Setting {
                    name: name.into(),
                    value: Spanned {
                        node,
                        span: span(100 + i as u32),
                    },
                    span: span(i as u32 + 1),
                })
                .collect(),
            span: span(0),
        }
    }

    fn int(i: i64) -> ConfigValue {
        ConfigValue::Number(Number::Integer(i))
    }

    fn text(s: &str) -> ConfigValue {
        ConfigValue::String(s.into())
    }

    #[test]
    fn logstash_settings_map_with_their_units() {
        let s = settings_from_plugin(&plugin(vec![
            ("port", int(5044)),
            ("host", text("127.0.0.1")),
            ("client_inactivity_timeout", int(120)),
            ("ecs_compatibility", ConfigValue::Bareword("v8".into())),
            ("add_hostname", ConfigValue::Boolean(true)),
            ("include_codec_tag", ConfigValue::Boolean(false)),
            ("ssl_enabled", ConfigValue::Boolean(true)),
            ("ssl_certificate", text("/etc/sluice/cert.pem")),
            ("ssl_key", text("/etc/sluice/key.pem")),
            ("ssl_key_passphrase", text("s3cret")),
            (
                "ssl_certificate_authorities",
                ConfigValue::Array(vec![Spanned {
                    node: text("/ca.pem"),
                    span: span(9),
                }]),
            ),
            (
                "ssl_client_authentication",
                ConfigValue::Bareword("optional".into()),
            ),
            ("ssl_supported_protocols", text("TLSv1.3")),
            ("ssl_handshake_timeout", int(2500)),
            (
                "ssl_cipher_suites",
                list(&["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"]),
            ),
            ("max_window_events", int(4096)),
            ("tags", ConfigValue::Array(vec![])),
        ]))
        .unwrap();
        assert_eq!(s.address.to_string(), "127.0.0.1:5044");
        let c = &s.connection;
        assert_eq!(c.client_inactivity_timeout, Duration::from_secs(120));
        assert_eq!(c.events.ecs_compatibility, EcsCompatibility::V1);
        assert!(c.events.add_hostname && !c.events.include_codec_tag);
        assert_eq!(c.limits.max_window_events, 4096);
        let tls = s.tls.unwrap();
        assert_eq!(tls.key_passphrase, Some(Passphrase("s3cret".into())));
        assert!(!format!("{tls:?}").contains("s3cret"), "printed: {tls:?}");
        assert_eq!(tls.certificate_authorities, vec![PathBuf::from("/ca.pem")]);
        assert_eq!(
            tls.client_authentication,
            Some(ClientAuthentication::Optional)
        );
        assert_eq!(tls.supported_protocols, vec![TlsVersion::Tls13]);
        assert_eq!(tls.handshake_timeout, Duration::from_millis(2500));
        assert_eq!(
            tls.cipher_suites,
            ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"]
                .map(|n| CipherSuite::parse(n).unwrap())
        );
    }

    fn list(items: &[&str]) -> ConfigValue {
        ConfigValue::Array(
            items
                .iter()
                .map(|i| Spanned {
                    node: text(i),
                    span: span(50),
                })
                .collect(),
        )
    }

    fn with_suites(protocols: &[&str], suites: &[&str]) -> Result<BeatsSettings, ConfigError> {
        settings_from_plugin(&plugin(vec![
            ("port", int(5044)),
            ("ssl_enabled", ConfigValue::Boolean(true)),
            ("ssl_certificate", text("c.pem")),
            ("ssl_key", text("k.pem")),
            ("ssl_supported_protocols", list(protocols)),
            ("ssl_cipher_suites", list(suites)),
        ]))
    }

    #[test]
    fn cipher_suites_take_iana_names_of_both_versions() {
        let names = [
            "TLS_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ];
        let tls = with_suites(&["TLSv1.2", "TLSv1.3"], &names)
            .unwrap()
            .tls
            .unwrap();
        let versions: Vec<TlsVersion> = tls.cipher_suites.iter().map(|s| s.version()).collect();
        assert_eq!(
            versions,
            [TlsVersion::Tls13, TlsVersion::Tls12, TlsVersion::Tls12]
        );
        // Every name offered back in the help parses.
        let all = CipherSuite::names();
        assert_eq!(all.len(), 9);
        assert!(all.iter().all(|n| CipherSuite::parse(n).is_some()));
        // rustls' own spelling of the TLS 1.3 names is not Logstash's.
        assert!(CipherSuite::parse("TLS13_AES_256_GCM_SHA384").is_none());
    }

    #[test]
    fn cipher_suites_rustls_lacks_are_named_with_the_supported_ones() {
        for name in [
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "tls_aes_256_gcm_sha384",
            "",
        ] {
            let e = with_suites(&["TLSv1.3"], &["TLS_AES_256_GCM_SHA384", name]).unwrap_err();
            assert_eq!(e.span, Some(span(105)), "{name}");
            assert_eq!(
                e.message,
                format!("`ssl_cipher_suites`: `{name}` is not a cipher suite Sluice implements")
            );
            let help = e.help.unwrap();
            assert!(help.contains("TLS_AES_128_GCM_SHA256, "), "{help}");
            assert!(
                help.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                "{help}"
            );
        }
        let e = with_suites(&["TLSv1.3"], &[]).unwrap_err();
        assert_eq!(
            e.message,
            "`ssl_cipher_suites` must be a list of at least one cipher suite"
        );
    }

    #[test]
    fn every_enabled_protocol_needs_a_suite() {
        let e = with_suites(&["TLSv1.2", "TLSv1.3"], &["TLS_AES_256_GCM_SHA384"]).unwrap_err();
        assert_eq!(e.span, Some(span(105)));
        assert_eq!(
            e.message,
            "`ssl_cipher_suites` names no suite for TLSv1.2, which `ssl_supported_protocols` enables"
        );
        let e =
            with_suites(&["TLSv1.3"], &["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]).unwrap_err();
        assert!(e.message.contains("no suite for TLSv1.3"), "{}", e.message);
        // Without `ssl_supported_protocols` both versions are enabled.
        let e = settings_from_plugin(&plugin(vec![
            ("port", int(5044)),
            ("ssl_enabled", ConfigValue::Boolean(true)),
            ("ssl_certificate", text("c.pem")),
            ("ssl_key", text("k.pem")),
            ("ssl_cipher_suites", text("TLS_AES_128_GCM_SHA256")),
        ]))
        .unwrap_err();
        assert!(e.message.contains("no suite for TLSv1.2"), "{}", e.message);
        assert!(with_suites(&["TLSv1.2"], &["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]).is_ok());
    }

    #[test]
    fn defaults_need_only_a_port() {
        let s = settings_from_plugin(&plugin(vec![("port", text("5044"))])).unwrap();
        assert_eq!(s.address.to_string(), "0.0.0.0:5044");
        assert!(s.tls.is_none());
        assert_eq!(s.connection, BeatsSettings::default().connection);
    }

    #[test]
    fn mistakes_are_reported_where_they_are() {
        let err = |settings| settings_from_plugin(&plugin(settings)).unwrap_err();

        let e = err(vec![("prot", int(5044))]);
        assert_eq!(e.span, Some(span(1)));
        assert!(e.help.unwrap().starts_with("did you mean `port`?"));

        let e = err(vec![("host", text("0.0.0.0"))]);
        assert_eq!(e.message, "input plugin `beats` needs `port`");

        let e = err(vec![("port", int(70_000))]);
        assert_eq!(e.span, Some(span(100)));

        let e = err(vec![
            ("port", int(5044)),
            ("ssl_certificate", text("c.pem")),
        ]);
        assert_eq!(
            e.message,
            "`ssl_certificate` is set but `ssl_enabled` is not true"
        );

        let e = err(vec![
            ("port", int(5044)),
            ("ssl_enabled", ConfigValue::Boolean(true)),
        ]);
        assert!(e.message.contains("needs `ssl_certificate` and `ssl_key`"));

        let e = err(vec![("port", int(5044)), ("ssl_verify_mode", text("peer"))]);
        assert_eq!(
            e.help.as_deref(),
            Some("use `ssl_client_authentication` (none, optional, required)")
        );

        let e = err(vec![("port", int(5044)), ("ecs_compatibility", text("v2"))]);
        assert_eq!(
            e.message,
            "`ecs_compatibility` must be one of `disabled`, `v1`, `v8`"
        );

        let e = err(vec![
            ("port", int(5044)),
            ("client_inactivity_timeout", int(0)),
        ]);
        assert_eq!(
            e.message,
            "`client_inactivity_timeout` must be a positive integer"
        );
    }
}
