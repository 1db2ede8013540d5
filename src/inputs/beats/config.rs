//! `input { beats { … } }`: Logstash's setting names (and units) to [`BeatsSettings`].
//!
//! Every beats-specific setting of logstash-input-beats is read here; the obsolete ones
//! (`ssl`, `ssl_verify_mode`) are refused with a hint rather than silently ignored. Values
//! are checked here, where the error can point at them: an `ssl_cipher_suites` name rustls
//! does not implement, a list leaving an enabled protocol version without a suite, `enrich`
//! values that contradict each other or the deprecated switches it replaces. (The
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

const KNOWN: [&str; 26] = [
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
    "enrich",
    "ssl_peer_metadata",
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
    let mut enrich: Option<(&Setting, Enrich)> = None;
    let mut include_codec_tag: Option<&Setting> = None;
    let mut ssl_peer_metadata: Option<&Setting> = None;

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
            "include_codec_tag" => {
                c.events.include_codec_tag = boolean(s)?;
                include_codec_tag = Some(s);
            }
            "enrich" => enrich = Some((s, enrichments(s)?)),
            // Deprecated in logstash-input-beats 6.5, obsolete in 7.0; still in many configs.
            "ssl_peer_metadata" => {
                if boolean(s)? {
                    ssl_peer_metadata = Some(s);
                }
            }
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
        if s.name.starts_with("ssl_")
            && !["ssl_enabled", "ssl_peer_metadata"].contains(&s.name.as_str())
        {
            first_ssl_setting.get_or_insert(s);
        }
    }

    let events = &mut settings.connection.events;
    match (enrich, include_codec_tag.or(ssl_peer_metadata)) {
        (Some(_), Some(old)) => {
            return Err(ConfigError::at(
                old.span,
                format!("both `enrich` and the deprecated `{}` are set", old.name),
            )
            .with_help("use only `enrich`"))
        }
        (Some((_, e)), None) => {
            events.source_metadata = e.source_metadata;
            events.include_codec_tag = e.codec_metadata;
            events.ssl_peer_metadata = e.ssl_peer_metadata;
        }
        (None, _) => events.ssl_peer_metadata = ssl_peer_metadata.is_some(),
    }
    if events.ssl_peer_metadata {
        let mode = client_auth.unwrap_or(if authorities.is_empty() {
            ClientAuthentication::None
        } else {
            ClientAuthentication::Required
        });
        if !ssl_enabled || mode == ClientAuthentication::None {
            // `enrich => all` asks for it only where it means something, as in Logstash;
            // naming it where no client certificate can be asked for is a mistake.
            let named = match enrich {
                Some((s, _)) => strings(s)?
                    .iter()
                    .any(|n| n == "ssl_peer_metadata")
                    .then_some(s),
                None => ssl_peer_metadata,
            };
            if let Some(s) = named {
                return Err(ConfigError::at(
                    s.span,
                    "`ssl_peer_metadata` needs client certificates",
                )
                .with_help("set `ssl_enabled => true`, `ssl_certificate_authorities` and `ssl_client_authentication => \"optional\"` or `\"required\"`"));
            }
            events.ssl_peer_metadata = false;
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

/// What `enrich` turns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Enrich {
    source_metadata: bool,
    codec_metadata: bool,
    ssl_peer_metadata: bool,
}

/// `enrich`: enrichments, or one of the aliases `all` and `none` alone.
fn enrichments(s: &Setting) -> Result<Enrich, ConfigError> {
    let names = strings(s)?;
    let alias = |on| Enrich {
        source_metadata: on,
        codec_metadata: on,
        ssl_peer_metadata: on,
    };
    let mut enrich = alias(false);
    for name in &names {
        match name.as_str() {
            "all" | "none" if names.len() > 1 => {
                return Err(ConfigError::at(
                    s.value.span,
                    format!("`enrich`: the alias `{name}` must be the only value"),
                ))
            }
            "all" => enrich = alias(true),
            "none" => {}
            "source_metadata" => enrich.source_metadata = true,
            "codec_metadata" => enrich.codec_metadata = true,
            "ssl_peer_metadata" => enrich.ssl_peer_metadata = true,
            _ => {
                return Err(invalid(
                    s,
                    "a list of `source_metadata`, `codec_metadata`, `ssl_peer_metadata`, or `all` or `none` alone",
                ))
            }
        }
    }
    Ok(enrich)
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

    /// TLS settings with `ssl_client_authentication`, then `more`.
    fn tls_with(
        client_authentication: &str,
        more: Vec<(&'static str, ConfigValue)>,
    ) -> Vec<(&'static str, ConfigValue)> {
        let mut settings = vec![
            ("port", int(5044)),
            ("ssl_enabled", ConfigValue::Boolean(true)),
            ("ssl_certificate", text("c.pem")),
            ("ssl_key", text("k.pem")),
            ("ssl_certificate_authorities", list(&["ca.pem"])),
            ("ssl_client_authentication", text(client_authentication)),
        ];
        settings.extend(more);
        settings
    }

    #[test]
    fn enrich_maps_onto_what_the_input_adds() {
        let events =
            |settings| settings_from_plugin(&plugin(settings)).map(|s| s.connection.events);
        let default = events(vec![("port", int(5044))]).unwrap();
        assert!(default.source_metadata && default.include_codec_tag && !default.ssl_peer_metadata);

        let none = events(vec![("port", int(5044)), ("enrich", text("none"))]).unwrap();
        assert!(!none.source_metadata && !none.include_codec_tag && !none.ssl_peer_metadata);

        // `all` on a port without client certificates: TLS peer data has nothing to say.
        let all = events(vec![("port", int(5044)), ("enrich", text("all"))]).unwrap();
        assert!(all.source_metadata && all.include_codec_tag && !all.ssl_peer_metadata);
        let all = events(tls_with("optional", vec![("enrich", text("all"))])).unwrap();
        assert!(all.ssl_peer_metadata);

        let some = events(tls_with(
            "required",
            vec![("enrich", list(&["ssl_peer_metadata", "codec_metadata"]))],
        ))
        .unwrap();
        assert!(!some.source_metadata && some.include_codec_tag && some.ssl_peer_metadata);

        // The deprecated switch adds to the defaults.
        let old = events(tls_with(
            "required",
            vec![("ssl_peer_metadata", ConfigValue::Boolean(true))],
        ))
        .unwrap();
        assert!(old.source_metadata && old.include_codec_tag && old.ssl_peer_metadata);
    }

    #[test]
    fn enrich_mistakes_are_named() {
        let err = |settings| settings_from_plugin(&plugin(settings)).unwrap_err();
        let e = err(vec![
            ("port", int(5044)),
            ("enrich", list(&["all", "codec_metadata"])),
        ]);
        assert_eq!(
            e.message,
            "`enrich`: the alias `all` must be the only value"
        );
        let e = err(vec![("port", int(5044)), ("enrich", text("source_data"))]);
        assert!(
            e.message.starts_with("`enrich` must be a list of"),
            "{}",
            e.message
        );
        let e = err(vec![
            ("port", int(5044)),
            ("enrich", text("none")),
            ("include_codec_tag", ConfigValue::Boolean(true)),
        ]);
        assert_eq!(
            e.message,
            "both `enrich` and the deprecated `include_codec_tag` are set"
        );
        assert_eq!(e.span, Some(span(3)));
        for asking in [
            ("enrich", text("ssl_peer_metadata")),
            ("ssl_peer_metadata", ConfigValue::Boolean(true)),
        ] {
            let e = err(tls_with("none", vec![asking.clone()]));
            assert_eq!(e.message, "`ssl_peer_metadata` needs client certificates");
            assert_eq!(e.span, Some(span(7)));
            let e = err(vec![("port", int(5044)), asking]);
            assert_eq!(e.message, "`ssl_peer_metadata` needs client certificates");
        }
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
