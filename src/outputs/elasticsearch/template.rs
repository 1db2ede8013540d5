//! Installing the index template before the first write (`manage_template`).
//!
//! A composable `_index_template` gives daily indices the mappings Kibana expects (ECS-ish:
//! `@timestamp` a date, `message` text, `level`, `tags`, `host.name`, `log.file.path`
//! keywords) instead of whatever dynamic mapping the first document implies. It is installed
//! once per process, cluster and template name; several outputs or processes installing the same
//! template at once is harmless (the last PUT of the same body wins), and without
//! `template_overwrite` an existing template is left as it is.

use std::collections::HashSet;
use std::sync::Mutex;

use hyper::{Method, StatusCode};

use super::client::Client;

/// The template settings (Logstash's names).
#[derive(Clone, Debug)]
pub struct TemplateConfig {
    pub name: String,
    pub body: TemplateBody,
    pub overwrite: bool,
}

/// What is installed under the template's name.
#[derive(Clone, Debug)]
pub enum TemplateBody {
    /// The built-in log template, for these index patterns.
    Builtin(Vec<String>),
    /// A file holding a whole `_index_template` body (`template`).
    File(std::path::PathBuf),
    /// A whole body made by the output (the Jaeger schema's templates).
    Json(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("reading template {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("installing index template `{name}`: {reason}")]
    Install { name: String, reason: String },
}

static INSTALLED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Installs the template unless this process already did. Errors are for the caller to
/// retry with backoff: writing before the template exists would fix the wrong mappings.
pub async fn ensure(client: &Client, config: &TemplateConfig) -> Result<(), TemplateError> {
    // Two outputs writing to different clusters each need the template in theirs.
    let key = format!("{} {}", client.nodes().join(","), config.name);
    if INSTALLED
        .lock()
        .unwrap()
        .as_ref()
        .is_some_and(|s| s.contains(&key))
    {
        return Ok(());
    }
    let path = format!("/_index_template/{}", config.name);
    let failed = |reason: String| TemplateError::Install {
        name: config.name.clone(),
        reason,
    };
    let exists = if config.overwrite {
        false
    } else {
        let reply = client
            .send(Method::GET, &path, "application/json", None)
            .await
            .map_err(|e| failed(e.to_string()))?;
        match reply.status {
            StatusCode::OK => true,
            StatusCode::NOT_FOUND => false,
            other => return Err(failed(format!("GET answered {other}"))),
        }
    };
    if !exists {
        let body = match &config.body {
            TemplateBody::File(file) => {
                std::fs::read(file).map_err(|source| TemplateError::Read {
                    path: file.clone(),
                    source,
                })?
            }
            TemplateBody::Builtin(index_patterns) => builtin(index_patterns),
            TemplateBody::Json(body) => body.clone(),
        };
        let reply = client
            .send(Method::PUT, &path, "application/json", Some(body.into()))
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !reply.status.is_success() {
            return Err(failed(format!(
                "PUT answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )));
        }
        tracing::info!(name = %config.name, "index template installed");
    }
    INSTALLED
        .lock()
        .unwrap()
        .get_or_insert_with(HashSet::new)
        .insert(key);
    Ok(())
}

/// The built-in template: ECS-ish mappings for log lines, strings as keywords by default.
pub fn builtin(index_patterns: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"index_patterns\":[");
    for (i, p) in index_patterns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::event::json::encode_str(p, &mut out);
    }
    out.extend_from_slice(
        br#"],"priority":200,"template":{"settings":{"index":{"refresh_interval":"5s"}},"mappings":{
"dynamic_templates":[{"strings_as_keyword":{"match_mapping_type":"string","mapping":{"type":"keyword","ignore_above":1024}}}],
"properties":{
"@timestamp":{"type":"date"},
"message":{"type":"text"},
"level":{"type":"keyword"},
"tags":{"type":"keyword"},
"host":{"properties":{"name":{"type":"keyword"}}},
"log":{"properties":{"level":{"type":"keyword"},"file":{"properties":{"path":{"type":"keyword"}}}}}
}}},"_meta":{"managed_by":"sluice"}}"#,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_is_json_with_the_mappings() {
        let body = builtin(&["mangakai-logs-*".to_owned()]);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["index_patterns"][0], "mangakai-logs-*");
        let p = &v["template"]["mappings"]["properties"];
        assert_eq!(p["@timestamp"]["type"], "date");
        assert_eq!(p["message"]["type"], "text");
        assert_eq!(
            p["log"]["properties"]["file"]["properties"]["path"]["type"],
            "keyword"
        );
        assert_eq!(p["host"]["properties"]["name"]["type"], "keyword");
    }
}
