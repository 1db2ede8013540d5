//! `output { elasticsearch { … } }`: reads the block's settings, with Logstash's names and
//! defaults, into an [`ElasticsearchConfig`], and runs [`ElasticsearchOutput`] with the
//! pipeline's id, the plugin id and the pipeline's dead-letter queue.
//!
//! The output is built (hosts parsed, CA files read) while the configuration is compiled, so
//! a bad setting is a configuration error and not a failure at start.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use super::jaeger::index::{DateLayout, StartTimeWindow};
use super::jaeger::{IndexSettings, JaegerConfig, TagsAsFields};
use super::{Action, ElasticsearchConfig, ElasticsearchOutput, EventFn, TimestampGuard};
use super::{ClientConfig, IndexFn, VerificationMode};
use crate::config::error::ConfigError;
use crate::config::settings::Settings;
use crate::event::{Event, Template};
use crate::outputs::{BoxFuture, Output, OutputContext};

struct ElasticsearchPlugin {
    output: ElasticsearchOutput,
    reads_event_fields: bool,
}

pub fn build(settings: &Settings) -> Result<Box<dyn Output>, ConfigError> {
    let (config, reads_event_fields) = config(settings)?;
    let output = ElasticsearchOutput::new(config).map_err(|e| settings.error(e.to_string()))?;
    Ok(Box::new(ElasticsearchPlugin {
        output,
        reads_event_fields,
    }))
}

impl Output for ElasticsearchPlugin {
    fn reads_event_fields(&self) -> bool {
        self.reads_event_fields
    }

    fn run(
        self: Box<Self>,
        batches: mpsc::Receiver<Vec<Event>>,
        ctx: OutputContext,
    ) -> BoxFuture<()> {
        let mut output = self.output;
        output.attach(&ctx);
        Box::pin(output.run(batches))
    }
}

/// Every setting of the block, read through `settings` so that unknown ones are reported;
/// and whether writing an event reads its fields ([`Output::reads_event_fields`]): a sprintf
/// setting naming a field outside `[@metadata]`, or `idempotent_ids` (the id comes from the
/// Beats origin fields or the content). The document itself is written from an untouched
/// event's JSON as received.
fn config(settings: &Settings) -> Result<(ElasticsearchConfig, bool), ConfigError> {
    let defaults = ElasticsearchConfig::default();
    let templates_read_fields = std::cell::Cell::new(false);
    let template = |name: &'static str| -> Result<Option<Template>, ConfigError> {
        match settings.string(name)? {
            None => Ok(None),
            Some(source) => {
                let template = Template::compile(&source)
                    .map_err(|e| settings.invalid(settings.raw(name).expect("given"), e))?;
                if template.reads_fields() {
                    templates_read_fields.set(true);
                }
                Ok(Some(template))
            }
        }
    };
    let event_fn = |name: &'static str| -> Result<Option<EventFn>, ConfigError> {
        Ok(template(name)?.map(|t| -> EventFn { Box::new(move |e| t.render_to_string(e)) }))
    };
    // At least a second: a zero timeout fails every request, a zero retry interval hammers a
    // cluster that is pushing back.
    let seconds = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
        let value = settings.integer_in(name, 1..=i64::from(u32::MAX), default.as_secs() as i64)?;
        Ok(Duration::from_secs(value as u64))
    };
    let size = |name: &'static str, default: usize| -> Result<usize, ConfigError> {
        Ok(settings.integer_in(name, 1..=i64::MAX, default as i64)? as usize)
    };

    let jaeger = match settings.choice("schema", &["logstash", "jaeger"], "logstash")? {
        "jaeger" => Some(jaeger_config(settings)?),
        _ => None,
    };
    let mut hosts: Vec<String> = settings
        .string_list("hosts")?
        .into_iter()
        .map(|h| h.node)
        .collect();
    if hosts.is_empty() {
        hosts = defaults.client.hosts.clone();
    }
    let index = template("index")?.unwrap_or_else(|| {
        Template::compile("logstash-%{+yyyy.MM.dd}").expect("the default index compiles")
    });
    let action = Action::parse(settings.choice(
        "action",
        &["index", "create", "update", "delete"],
        "index",
    )?)
    .expect("every choice is an action");
    let manage_template = settings.boolean_or("manage_template", defaults.manage_template)?;
    let template_file = settings.string("template")?.map(PathBuf::from);
    let template_index_patterns = if manage_template && template_file.is_none() && jaeger.is_none()
    {
        vec![index_pattern(settings, &index)?]
    } else {
        Vec::new()
    };
    let timestamp_guard = if settings.boolean_or("timestamp_guard", true)? {
        let days = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            let days = settings.integer_in(name, 0..=100_000, default as i64)?;
            Ok(Duration::from_secs(days as u64 * 86_400))
        };
        Some(TimestampGuard {
            past: days("timestamp_guard_past_days", 365)?,
            future: days("timestamp_guard_future_days", 1)?,
        })
    } else {
        settings.integer("timestamp_guard_past_days")?;
        settings.integer("timestamp_guard_future_days")?;
        None
    };
    let config = ElasticsearchConfig {
        id: defaults.id.clone(),
        client: ClientConfig {
            hosts,
            user: settings.string("user")?,
            password: settings.string("password")?,
            api_key: settings.string("api_key")?,
            ssl_enabled: settings.boolean("ssl_enabled")?,
            ssl_certificate_authorities: settings
                .string_list("ssl_certificate_authorities")?
                .into_iter()
                .map(|p| PathBuf::from(p.node))
                .collect(),
            ssl_verification_mode: VerificationMode::parse(settings.choice(
                "ssl_verification_mode",
                &["full", "none"],
                "full",
            )?)
            .expect("every choice is a mode"),
            compression_level: settings.integer_in("compression_level", 0..=9, 1)? as u32,
            timeout: seconds("timeout", defaults.client.timeout)?,
        },
        index: index_fn(index),
        action,
        document_id: event_fn("document_id")?,
        routing: event_fn("routing")?,
        pipeline: event_fn("pipeline")?,
        doc_as_upsert: settings.boolean_or("doc_as_upsert", false)?,
        retry_initial_interval: seconds("retry_initial_interval", defaults.retry_initial_interval)?,
        retry_max_interval: seconds("retry_max_interval", defaults.retry_max_interval)?,
        manage_template,
        template: template_file,
        template_name: settings.string_or("template_name", &defaults.template_name)?,
        template_overwrite: settings.boolean_or("template_overwrite", false)?,
        template_index_patterns,
        idempotent_ids: settings.boolean_or("idempotent_ids", false)?,
        timestamp_guard,
        bulk_max_bytes: size("bulk_max_bytes", defaults.bulk_max_bytes)?,
        max_in_flight_requests: size("max_in_flight_requests", defaults.max_in_flight_requests)?,
        max_in_flight_bytes: size("max_in_flight_bytes", defaults.max_in_flight_bytes)?,
        dead_letter_queue: None,
        jaeger,
    };
    let reads_event_fields = config.idempotent_ids || templates_read_fields.get();
    Ok((config, reads_event_fields))
}

/// Settings that `schema => jaeger` decides itself.
const NOT_WITH_JAEGER: &[&str] = &[
    "index",
    "action",
    "document_id",
    "routing",
    "doc_as_upsert",
    "template",
    "template_name",
    "idempotent_ids",
    "timestamp_guard",
    "timestamp_guard_past_days",
    "timestamp_guard_future_days",
];

/// The settings of `schema => jaeger`, named after Jaeger's Elasticsearch options.
fn jaeger_config(settings: &Settings) -> Result<JaegerConfig, ConfigError> {
    for name in NOT_WITH_JAEGER {
        if let Some(setting) = settings.raw(name) {
            return Err(settings.invalid(
                setting,
                "does not apply with `schema => jaeger`, which names its own indices and ids",
            ));
        }
    }
    let defaults = JaegerConfig::default();
    let date_layout = match settings.raw("date_layout") {
        Some(setting) => {
            let layout = settings.string("date_layout")?.unwrap_or_default();
            DateLayout::parse(&layout).map_err(|e| settings.invalid(setting, e))?
        }
        None => {
            let separator = settings.string_or("index_date_separator", "-")?;
            let hourly = settings.choice("rollover_frequency", &["day", "hour"], "day")? == "hour";
            DateLayout::from_separator(&separator, hourly).map_err(|e| {
                settings.invalid(settings.raw("index_date_separator").expect("given"), e)
            })?
        }
    };
    let dot_replacement = settings.string_or("tags_as_fields_dot_replacement", "@")?;
    if dot_replacement.contains('.') {
        return Err(settings.invalid(
            settings
                .raw("tags_as_fields_dot_replacement")
                .expect("given"),
            "a replacement for `.` cannot contain `.`",
        ));
    }
    Ok(JaegerConfig {
        index_prefix: settings.string_or("index_prefix", "")?,
        date_layout,
        tags_as_fields: TagsAsFields {
            all: settings.boolean_or("tags_as_fields_all", false)?,
            // Jaeger v2 always elevates `span.kind` and `error`, whatever the user lists
            // (`ensureRequiredFields` in its Elasticsearch storage factory).
            keys: settings
                .string_list("tags_as_fields")?
                .into_iter()
                .map(|k| k.node.into_boxed_str())
                .chain(["span.kind".into(), "error".into()])
                .collect(),
            dot_replacement: dot_replacement.into_boxed_str(),
        },
        window: StartTimeWindow {
            max_span_age: duration(settings, "max_span_age", defaults.window.max_span_age)?,
            max_clock_skew: duration(settings, "max_clock_skew", defaults.window.max_clock_skew)?,
        },
        span_index: index_settings(settings, ["span_shards", "span_replicas", "span_priority"])?,
        service_index: index_settings(
            settings,
            ["service_shards", "service_replicas", "service_priority"],
        )?,
        ..defaults
    })
}

/// One template's shards, replicas and priority, read from the settings `names` (in that order).
fn index_settings(
    settings: &Settings,
    [shards, replicas, priority]: [&'static str; 3],
) -> Result<IndexSettings, ConfigError> {
    let default = IndexSettings::default();
    let value = |name, min, default: u32| -> Result<u32, ConfigError> {
        Ok(settings.integer_in(name, min..=1024, i64::from(default))? as u32)
    };
    Ok(IndexSettings {
        shards: value(shards, 1, default.shards)?,
        replicas: value(replicas, 0, default.replicas)?,
        priority: value(priority, 0, default.priority)?,
    })
}

/// A duration as a number of seconds or with a unit: `90s`, `30m`, `72h`, `3d`.
fn duration(
    settings: &Settings,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let Some(setting) = settings.raw(name) else {
        return Ok(default);
    };
    let text = settings.string(name)?.unwrap_or_default();
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    number
        .parse::<u64>()
        .ok()
        .filter(|_| seconds > 0)
        .and_then(|n| n.checked_mul(seconds))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            settings.invalid(
                setting,
                "expected a duration such as `90s`, `30m`, `72h` or `3d`",
            )
        })
}

/// The index renders with the time the output chose (the event's `@timestamp`, or the ingest
/// time when the guard distrusts it) rather than the event's own.
fn index_fn(index: Template) -> IndexFn {
    Box::new(move |event, ts| {
        let mut out = String::with_capacity(index.source().len() + 8);
        index.render_at(event, ts, &mut out);
        out
    })
}

/// The built-in template's pattern: the index's fixed prefix and `*`
/// (`mangakai-logs-%{+YYYY.MM.dd}` → `mangakai-logs-*`), so the template applies to every
/// index the output writes and, as far as the name tells, to no other.
fn index_pattern(settings: &Settings, index: &Template) -> Result<String, ConfigError> {
    let prefix = index.literal_prefix();
    if prefix.is_empty() {
        // `*` would give every index of the cluster our mappings.
        return Err(settings.error(format!(
            "index `{}` starts with a reference, so no index pattern for the built-in template \
             can be derived from it: set `manage_template => false` or give a `template` file",
            index.source()
        )));
    }
    Ok(format!("{prefix}*"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ast::Plugin;
    use crate::config::load::load_str;
    use crate::event::Object;
    use chrono::TimeZone;
    use std::collections::HashSet;

    /// The first output block of `config`, with its settings.
    fn block(config: &str) -> Plugin {
        let (_, config) = load_str("test", config, false).map_err(|(_, e)| e).unwrap();
        match &config.sections[0].body[0] {
            crate::config::ast::Statement::Plugin(p) => p.clone(),
            _ => panic!("not a plugin"),
        }
    }

    fn read(body: &str) -> Result<ElasticsearchConfig, String> {
        let plugin = block(&format!("output {{ elasticsearch {{ {body} }} }}"));
        let settings = Settings::new(&plugin, "output").map_err(|e| e.message)?;
        let (config, _) = config(&settings).map_err(|e| e.message)?;
        settings.finish().map_err(|e| e.message)?;
        Ok(config)
    }

    #[test]
    fn defaults_are_logstashs() {
        let config = read("").unwrap();
        assert_eq!(config.client.hosts, ["127.0.0.1:9200"]);
        assert_eq!(config.template_index_patterns, ["logstash-*"]);
        assert_eq!(config.action, Action::Index);
        assert_eq!(config.client.compression_level, 1);
        assert_eq!(config.client.timeout, Duration::from_secs(60));
        assert_eq!(
            read("hosts => \"es:9200\"").unwrap().client.hosts,
            ["es:9200"]
        );
        let ts = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(
            (config.index)(&Event::new(Object::new()), ts),
            "logstash-2026.01.02"
        );
    }

    #[test]
    fn every_setting_is_read() {
        let config = read(
            r#"hosts => ["https://a:9200", "b:9201"] index => "mangakai-logs-%{+YYYY.MM.dd}"
               action => create document_id => "%{id}" routing => "%{user}" pipeline => "p"
               doc_as_upsert => false user => elastic password => secret api_key => "i:k"
               ssl_enabled => true ssl_certificate_authorities => "/dev/null"
               ssl_verification_mode => none compression_level => 0 timeout => 5
               retry_initial_interval => 1 retry_max_interval => 8 manage_template => true
               template_name => mangakai template_overwrite => true idempotent_ids => true
               timestamp_guard_past_days => 30 timestamp_guard_future_days => 2
               bulk_max_bytes => 1000 max_in_flight_requests => 2 max_in_flight_bytes => 5000"#,
        )
        .unwrap();
        assert_eq!(config.client.hosts, ["https://a:9200", "b:9201"]);
        assert_eq!(config.template_index_patterns, ["mangakai-logs-*"]);
        assert_eq!(config.template_name, "mangakai");
        assert_eq!(config.action, Action::Create);
        assert_eq!(config.client.api_key.as_deref(), Some("i:k"));
        assert_eq!(config.client.ssl_verification_mode, VerificationMode::None);
        assert_eq!(config.retry_max_interval, Duration::from_secs(8));
        let guard = config.timestamp_guard.unwrap();
        assert_eq!(guard.past, Duration::from_secs(30 * 86_400));
        assert_eq!(guard.future, Duration::from_secs(2 * 86_400));
        assert_eq!(
            (config.max_in_flight_requests, config.bulk_max_bytes),
            (2, 1000)
        );
        let mut event = Event::from_message("m".into());
        event.insert(&crate::event::FieldRef::parse("id").unwrap(), 7.into());
        assert_eq!((config.document_id.unwrap())(&event), "7");
    }

    #[test]
    fn the_index_renders_with_the_time_it_is_given() {
        let config = read(r#"index => "x-%{[@metadata][kind]}-%{+YYYY.MM}""#).unwrap();
        let mut event = Event::from_message("m".into());
        event.insert(
            &crate::event::FieldRef::parse("[@metadata][kind]").unwrap(),
            "app".into(),
        );
        let ts = chrono::Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap();
        assert_eq!((config.index)(&event, ts), "x-app-1999.12");
    }

    #[test]
    fn bad_settings_are_configuration_errors() {
        let error = |body: &str| read(body).err().unwrap();
        assert!(error("action => upsert").contains("`upsert` is not one of the choices"));
        assert!(error("compression_level => 10").contains("outside 0..=9"));
        assert!(error("timeout => 0").contains("outside 1..="));
        assert!(error("index => \"%{[bad]x}\"").contains("invalid field reference"));
        assert!(error("index => \"%{type}-%{+YYYY}\"").contains("manage_template => false"));
        assert!(error("hostz => xy").contains("unknown setting `hostz`"));
        assert!(read("index => \"%{type}\" manage_template => false").is_ok());
    }

    #[test]
    fn the_jaeger_schema_reads_its_settings() {
        let config = read("schema => jaeger").unwrap();
        let jaeger = config.jaeger.unwrap();
        assert_eq!(jaeger.index_prefix, "");
        assert_eq!(jaeger.date_layout, DateLayout::parse("2006-01-02").unwrap());
        assert_eq!(jaeger.window.max_span_age, Duration::from_secs(72 * 3600));
        assert_eq!(jaeger.span_index, IndexSettings::default());
        let elevated: HashSet<&str> = jaeger.tags_as_fields.keys.iter().map(|k| &**k).collect();
        assert_eq!(
            elevated,
            HashSet::from(["span.kind", "error"]),
            "as Jaeger v2"
        );
        assert!(config.template_index_patterns.is_empty());
        assert!(read("").unwrap().jaeger.is_none());

        let jaeger = read(
            r#"schema => jaeger index_prefix => "prod" index_date_separator => "."
               rollover_frequency => hour tags_as_fields => ["http.method", "error"]
               tags_as_fields_all => true tags_as_fields_dot_replacement => "__"
               max_span_age => "2d" max_clock_skew => 90 span_shards => 1 span_replicas => 0
               span_priority => 3 service_shards => 2 service_replicas => 0 service_priority => 4"#,
        )
        .unwrap()
        .jaeger
        .unwrap();
        assert_eq!(jaeger.index_prefix, "prod");
        assert_eq!(
            jaeger.date_layout,
            DateLayout::parse("2006.01.02.15").unwrap()
        );
        assert!(jaeger.tags_as_fields.all);
        assert!(jaeger
            .tags_as_fields
            .keys
            .iter()
            .any(|k| &**k == "http.method"));
        assert_eq!(&*jaeger.tags_as_fields.dot_replacement, "__");
        assert_eq!(jaeger.window.max_span_age, Duration::from_secs(2 * 86_400));
        assert_eq!(jaeger.window.max_clock_skew, Duration::from_secs(90));
        assert_eq!(
            (
                jaeger.span_index.shards,
                jaeger.span_index.replicas,
                jaeger.span_index.priority
            ),
            (1, 0, 3)
        );
        assert_eq!(jaeger.service_index.shards, 2);
        let custom = read(r#"schema => jaeger date_layout => "2006_01_02""#).unwrap();
        assert_eq!(
            custom.jaeger.unwrap().date_layout,
            DateLayout::parse("2006_01_02").unwrap()
        );
    }

    #[test]
    fn bad_jaeger_settings_are_configuration_errors() {
        let error = |body: &str| read(&format!("schema => jaeger {body}")).err().unwrap();
        assert!(error(r#"index => "x""#).contains("does not apply with `schema => jaeger`"));
        assert!(error("document_id => xy").contains("does not apply"));
        assert!(error(r#"date_layout => "2006-01""#).contains("must contain 2006"));
        assert!(error(r#"index_date_separator => "/""#).contains("must contain 2006"));
        assert!(error(r#"tags_as_fields_dot_replacement => ".""#).contains("cannot contain"));
        assert!(error(r#"max_span_age => "72 hours""#).contains("expected a duration"));
        assert!(error(r#"max_span_age => "h""#).contains("expected a duration"));
        assert!(error("span_shards => 0").contains("outside 1..="));
        assert!(error("rollover_frequency => week").contains("not one of the choices"));
        assert!(read("index_prefix => xy")
            .err()
            .unwrap()
            .contains("unknown setting `index_prefix`"));
        assert!(read("schema => zipkin")
            .err()
            .unwrap()
            .contains("not one of the choices"));
    }

    #[test]
    fn update_without_a_document_id_is_refused_when_built() {
        let plugin = block("output { elasticsearch { action => update } }");
        let settings = Settings::new(&plugin, "output").unwrap();
        let error = build(&settings).err().unwrap().message;
        assert!(error.contains("needs a document_id"), "{error}");
    }
}
