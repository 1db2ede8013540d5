//! `pipelines.yml`: several pipelines in one process, as Logstash runs them.
//!
//! The file is a list of pipelines, each a flat map of Logstash's dotted setting names
//! (`pipeline.id`, `path.config` or `config.string`, `pipeline.workers`, `pipeline.batch.size`,
//! `pipeline.batch.delay`, `queue.type`, `queue.max_events`, `dead_letter_queue.*`,
//! `path.dead_letter_queue`, `config.support_escapes`). A setting a pipeline leaves out takes
//! the command line's value, as Logstash takes `logstash.yml`'s. Anything else is an error
//! naming the pipeline and the setting: a misspelt key must not silently fall back to a default.
//! A relative `path.config` is taken from the file's own directory, so a settings directory
//! and its pipelines can move together (into a container, a ConfigMap) unchanged.

use std::path::{Path, PathBuf};
use std::time::Duration;

use yaml_rust2::{Yaml, YamlLoader};

use super::{ConfigSource, PipelineSpec};
use crate::dlq::StoragePolicy;

/// Settings Sluice reads from a pipeline entry.
const KNOWN: &[&str] = &[
    "pipeline.id",
    "path.config",
    "config.string",
    "config.support_escapes",
    "pipeline.workers",
    "pipeline.batch.size",
    "pipeline.batch.delay",
    "queue.type",
    "queue.max_events",
    "dead_letter_queue.enable",
    "dead_letter_queue.max_bytes",
    "dead_letter_queue.storage_policy",
    "path.dead_letter_queue",
];

/// Logstash settings that are valid there but have no meaning (yet) in Sluice; named as such
/// rather than as typos.
const NOT_SUPPORTED: &[&str] = &[
    "pipeline.ordered",
    "pipeline.ecs_compatibility",
    "pipeline.plugin_classloaders",
    "pipeline.separate_logs",
    "pipeline.unsafe_shutdown",
    "queue.page_capacity",
    "queue.max_bytes",
    "queue.checkpoint.acks",
    "queue.checkpoint.writes",
    "queue.checkpoint.interval",
    "queue.drain",
    "path.queue",
    "config.reload.automatic",
    "config.reload.interval",
    "dead_letter_queue.flush_interval",
    "dead_letter_queue.retain.age",
];

/// Reads `path` (a `pipelines.yml`, or a directory holding one) into one spec per pipeline,
/// each starting from `defaults`.
pub fn load(path: &Path, defaults: &PipelineSpec) -> Result<Vec<PipelineSpec>, String> {
    let file = if path.is_dir() {
        path.join("pipelines.yml")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let mut specs = parse(&text, defaults).map_err(|e| format!("{}: {e}", file.display()))?;
    for spec in &mut specs {
        if let ConfigSource::Path(path) = &mut spec.config {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }
    Ok(specs)
}

/// Parses the text of a `pipelines.yml`; relative `path.config`s are left as written.
pub fn parse(text: &str, defaults: &PipelineSpec) -> Result<Vec<PipelineSpec>, String> {
    let documents = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    let entries = match documents.as_slice() {
        [Yaml::Array(entries)] => entries,
        [] | [Yaml::Null] => return Err("no pipelines defined".into()),
        _ => return Err("expected a list of pipelines (`- pipeline.id: …`)".into()),
    };
    let mut specs: Vec<PipelineSpec> = Vec::with_capacity(entries.len());
    for (n, entry) in entries.iter().enumerate() {
        let spec = entry_spec(entry, defaults)
            .map_err(|e| format!("pipeline {} {e}", describe(n, entry)))?;
        if specs.iter().any(|s| s.id == spec.id) {
            return Err(format!("pipeline.id `{}` is defined twice", spec.id));
        }
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err("no pipelines defined".into());
    }
    Ok(specs)
}

/// `#2 (traces)`: the entry's position and, when it has one, its id.
fn describe(n: usize, entry: &Yaml) -> String {
    match entry["pipeline.id"].as_str() {
        Some(id) => format!("#{} (`{id}`)", n + 1),
        None => format!("#{}", n + 1),
    }
}

fn entry_spec(entry: &Yaml, defaults: &PipelineSpec) -> Result<PipelineSpec, String> {
    let Yaml::Hash(map) = entry else {
        return Err("is not a map of settings".into());
    };
    let mut spec = defaults.clone();
    let mut id = None;
    let mut config = None;
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            return Err(format!("has a setting name that is not a string: {key:?}"));
        };
        let setting = Setting { key, value };
        match key {
            "pipeline.id" => id = Some(setting.string()?),
            "path.config" => {
                config = Some(ConfigSource::Path(PathBuf::from(setting.string()?)));
            }
            "config.string" => config = Some(ConfigSource::Inline(setting.string()?)),
            "config.support_escapes" => spec.support_escapes = setting.boolean()?,
            "pipeline.workers" => spec.workers = setting.positive()?,
            "pipeline.batch.size" => spec.batch_size = setting.positive()?,
            "pipeline.batch.delay" => {
                spec.batch_delay = Duration::from_millis(setting.positive()? as u64);
            }
            "queue.type" => match setting.string()?.as_str() {
                "memory" => {}
                "persisted" => {
                    return Err(
                        "sets `queue.type: persisted`: Sluice's queue is in memory; \
                         senders are acknowledged only after the outputs took their events, \
                         so nothing acknowledged is lost without one"
                            .into(),
                    )
                }
                other => return Err(format!("sets `queue.type` to `{other}`: expected `memory`")),
            },
            "queue.max_events" => spec.queue_max_events = Some(setting.positive()?),
            "dead_letter_queue.enable" => spec.dead_letter_queue_enabled = setting.boolean()?,
            "dead_letter_queue.max_bytes" => {
                spec.dead_letter_queue.max_bytes =
                    crate::dlq::parse_size(&setting.string()?).map_err(|e| setting.invalid(&e))?;
            }
            "dead_letter_queue.storage_policy" => {
                let policy = setting.string()?;
                spec.dead_letter_queue.storage_policy =
                    StoragePolicy::parse(&policy).ok_or_else(|| {
                        setting.invalid("expected `block`, `drop_newer` or `drop_older`")
                    })?;
            }
            "path.dead_letter_queue" => {
                spec.dead_letter_queue.path = PathBuf::from(setting.string()?);
            }
            _ if NOT_SUPPORTED.contains(&key) => {
                return Err(format!("sets `{key}`, which Sluice does not support"));
            }
            _ => return Err(unknown(key)),
        }
    }
    spec.id = id.ok_or("has no `pipeline.id`")?;
    spec.config = config.ok_or("has neither `path.config` nor `config.string`")?;
    if map.contains_key(&Yaml::String("path.config".into()))
        && map.contains_key(&Yaml::String("config.string".into()))
    {
        return Err("sets both `path.config` and `config.string`; keep one".into());
    }
    spec.dead_letter_queue.pipeline_id = spec.id.clone();
    Ok(spec)
}

fn unknown(key: &str) -> String {
    let closest = KNOWN
        .iter()
        .map(|known| (strsim::jaro_winkler(key, known), known))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.85);
    match closest {
        Some((_, known)) => format!("has an unknown setting `{key}`; did you mean `{known}`?"),
        None => format!("has an unknown setting `{key}`"),
    }
}

/// One `key: value` of an entry, read as the type its key wants.
struct Setting<'a> {
    key: &'a str,
    value: &'a Yaml,
}

impl Setting<'_> {
    fn invalid(&self, expected: &str) -> String {
        format!("sets `{}` to {}: {expected}", self.key, show(self.value))
    }

    fn string(&self) -> Result<String, String> {
        match self.value {
            Yaml::String(s) => Ok(s.clone()),
            Yaml::Integer(i) => Ok(i.to_string()),
            Yaml::Real(r) => Ok(r.clone()),
            _ => Err(self.invalid("expected a string")),
        }
    }

    fn boolean(&self) -> Result<bool, String> {
        match self.value {
            Yaml::Boolean(b) => Ok(*b),
            Yaml::String(s) if s == "true" => Ok(true),
            Yaml::String(s) if s == "false" => Ok(false),
            _ => Err(self.invalid("expected true or false")),
        }
    }

    fn positive(&self) -> Result<usize, String> {
        let n = match self.value {
            Yaml::Integer(i) => usize::try_from(*i).ok(),
            Yaml::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        n.filter(|&n| n > 0)
            .ok_or_else(|| self.invalid("expected a positive whole number"))
    }
}

fn show(value: &Yaml) -> String {
    match value {
        Yaml::String(s) => format!("`{s}`"),
        Yaml::Integer(i) => format!("`{i}`"),
        Yaml::Real(r) => format!("`{r}`"),
        Yaml::Boolean(b) => format!("`{b}`"),
        Yaml::Null => "nothing".into(),
        Yaml::Array(_) => "a list".into(),
        Yaml::Hash(_) => "a map".into(),
        _ => "an unreadable value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> PipelineSpec {
        PipelineSpec::new("main", ConfigSource::QuickStart)
    }

    fn error(text: &str) -> String {
        parse(text, &defaults()).unwrap_err()
    }

    #[test]
    fn each_pipeline_takes_its_own_settings_over_the_defaults() {
        let specs = parse(
            r#"
- pipeline.id: logs
  path.config: "pipelines/mangakai.conf"
  pipeline.workers: 3
  pipeline.batch.size: 500
  queue.max_events: 4000
  dead_letter_queue.enable: true
- pipeline.id: traces
  config.string: "input { generator { count => 1 } } output { null {} }"
  pipeline.batch.delay: 5
  queue.type: memory
"#,
            &defaults(),
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        let (logs, traces) = (&specs[0], &specs[1]);
        assert_eq!(logs.id, "logs");
        assert!(
            matches!(&logs.config, ConfigSource::Path(p) if p == Path::new("pipelines/mangakai.conf"))
        );
        assert_eq!(logs.settings().workers, 3);
        assert_eq!(logs.settings().batch_size, 500);
        assert_eq!(logs.settings().queue_capacity, 4000);
        let dlq = logs.dead_letter_queue().unwrap();
        assert_eq!(dlq.pipeline_id, "logs");
        assert_eq!(traces.id, "traces");
        assert!(matches!(&traces.config, ConfigSource::Inline(_)));
        assert_eq!(traces.settings().batch_delay, Duration::from_millis(5));
        assert_eq!(traces.settings().batch_size, defaults().batch_size);
        assert_eq!(
            traces.settings().queue_capacity,
            traces.workers * traces.batch_size,
            "the queue follows workers × batch size unless set"
        );
        assert!(traces.dead_letter_queue().is_none());
    }

    #[test]
    fn mistakes_name_the_pipeline_and_the_setting() {
        assert_eq!(
            error("- pipeline.id: a\n  path.config: x\n  pipeline.worker: 2\n"),
            "pipeline #1 (`a`) has an unknown setting `pipeline.worker`; did you mean `pipeline.workers`?"
        );
        assert_eq!(
            error("- pipeline.id: a\n  path.config: x\n- pipeline.id: a\n  path.config: y\n"),
            "pipeline.id `a` is defined twice"
        );
        assert_eq!(
            error("- path.config: x\n"),
            "pipeline #1 has no `pipeline.id`"
        );
        assert_eq!(
            error("- pipeline.id: a\n"),
            "pipeline #1 (`a`) has neither `path.config` nor `config.string`"
        );
        assert_eq!(
            error("- pipeline.id: a\n  path.config: x\n  config.string: y\n"),
            "pipeline #1 (`a`) sets both `path.config` and `config.string`; keep one"
        );
        assert_eq!(
            error("- pipeline.id: a\n  path.config: x\n  pipeline.workers: 0\n"),
            "pipeline #1 (`a`) sets `pipeline.workers` to `0`: expected a positive whole number"
        );
        assert_eq!(
            error("- pipeline.id: a\n  path.config: x\n  pipeline.ordered: auto\n"),
            "pipeline #1 (`a`) sets `pipeline.ordered`, which Sluice does not support"
        );
        assert!(
            error("- pipeline.id: a\n  path.config: x\n  queue.type: persisted\n")
                .contains("Sluice's queue is in memory")
        );
        assert_eq!(
            error("- pipeline.id: a\n  path.config: x\n  dead_letter_queue.storage_policy: lose\n"),
            "pipeline #1 (`a`) sets `dead_letter_queue.storage_policy` to `lose`: expected `block`, `drop_newer` or `drop_older`"
        );
    }

    #[test]
    fn hostile_or_malformed_files_are_errors() {
        assert_eq!(error(""), "no pipelines defined");
        assert_eq!(error("[]"), "no pipelines defined");
        assert_eq!(
            error("pipeline.id: a\n"),
            "expected a list of pipelines (`- pipeline.id: …`)"
        );
        assert_eq!(
            error("- just a string\n"),
            "pipeline #1 is not a map of settings"
        );
        assert!(error("- pipeline.id: [unclosed\n").contains("line"));
        assert!(error("- pipeline.id: {a: 1}\n  path.config: x\n").contains("expected a string"));
        // A billion-laughs style alias bomb: aliases are not expanded into settings.
        let bomb = "- &a {pipeline.id: x, path.config: y}\n- *a\n";
        assert!(parse(bomb, &defaults()).is_err());
    }
}
