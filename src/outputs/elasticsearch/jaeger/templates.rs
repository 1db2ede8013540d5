//! The ES 8 composable index templates of Jaeger's span and service indices, written from
//! Jaeger's description (`jaeger-span-8.json`, `jaeger-service-8.json` in its
//! `internal/storage/v1/elasticsearch/mappings`; `tests/jaeger_es.rs` compares them).
//!
//! They must be in place before the first span is written: without them dynamic mapping makes
//! `traceID` a `text` field and Jaeger Query's term lookups find nothing (Jaeger #374).
//! Identifiers, names and every key/type/value are `keyword` (`ignore_above` 256), so typed
//! tag values are searchable in their string form; the tag lists are `nested` with dynamic
//! mapping off, and elevated tags (`tag.*`, `process.tag.*`) become keywords.

use serde_json::{json, Value as Json};

/// Shards, replicas and priority of one template (Jaeger's `indices.spans.*` /
/// `indices.services.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexSettings {
    pub shards: u32,
    pub replicas: u32,
    pub priority: u32,
}

impl Default for IndexSettings {
    /// Jaeger's defaults.
    fn default() -> IndexSettings {
        IndexSettings {
            shards: 5,
            replicas: 1,
            priority: 0,
        }
    }
}

/// The `_index_template` body for `<p>jaeger-span-*`; `index_base` is `<p>jaeger-span-`.
pub fn span_template(index_base: &str, settings: IndexSettings) -> Vec<u8> {
    let keyword = || json!({"type": "keyword", "ignore_above": 256});
    let key_values = || {
        json!({
            "type": "nested",
            "dynamic": false,
            "properties": {"key": keyword(), "value": keyword(), "type": keyword()}
        })
    };
    let mappings = json!({
        "dynamic_templates": tag_dynamic_templates(),
        "properties": {
            "traceID": keyword(),
            "parentSpanID": keyword(),
            "spanID": keyword(),
            "operationName": keyword(),
            "startTime": {"type": "long"},
            "startTimeMillis": {"type": "date", "format": "epoch_millis"},
            "duration": {"type": "long"},
            "flags": {"type": "integer"},
            "logs": {
                "type": "nested",
                "dynamic": false,
                "properties": {"timestamp": {"type": "long"}, "fields": key_values()}
            },
            "process": {
                "properties": {
                    "serviceName": keyword(),
                    "tag": {"type": "object"},
                    "tags": key_values()
                }
            },
            "references": {
                "type": "nested",
                "dynamic": false,
                "properties": {"refType": keyword(), "traceID": keyword(), "spanID": keyword()}
            },
            "tag": {"type": "object"},
            "tags": key_values()
        }
    });
    body(index_base, settings, mappings)
}

/// The `_index_template` body for `<p>jaeger-service-*`; `index_base` is
/// `<p>jaeger-service-`.
pub fn service_template(index_base: &str, settings: IndexSettings) -> Vec<u8> {
    let keyword = json!({"type": "keyword", "ignore_above": 256});
    let mappings = json!({
        "dynamic_templates": tag_dynamic_templates(),
        "properties": {"serviceName": keyword, "operationName": keyword}
    });
    body(index_base, settings, mappings)
}

fn tag_dynamic_templates() -> Json {
    let keyword = json!({"type": "keyword", "ignore_above": 256});
    json!([
        {"span_tags_map": {"mapping": keyword, "path_match": "tag.*"}},
        {"process_tags_map": {"mapping": keyword, "path_match": "process.tag.*"}}
    ])
}

fn body(index_base: &str, settings: IndexSettings, mappings: Json) -> Vec<u8> {
    let template = json!({
        "priority": settings.priority,
        "index_patterns": [format!("{index_base}*")],
        "template": {
            "settings": {
                "index.number_of_shards": settings.shards,
                "index.number_of_replicas": settings.replicas,
                "index.mapping.nested_fields.limit": 50,
                "index.requests.cache.enable": true
            },
            "mappings": mappings
        },
        "_meta": {"managed_by": "sluice"}
    });
    serde_json::to_vec(&template).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_template_has_jaegers_mappings() {
        let settings = IndexSettings {
            shards: 1,
            replicas: 0,
            priority: 7,
        };
        let t: Json = serde_json::from_slice(&span_template("p-jaeger-span-", settings)).unwrap();
        assert_eq!(t["index_patterns"], json!(["p-jaeger-span-*"]));
        assert_eq!(t["priority"], 7);
        assert_eq!(t["template"]["settings"]["index.number_of_shards"], 1);
        assert_eq!(t["template"]["settings"]["index.number_of_replicas"], 0);
        let p = &t["template"]["mappings"]["properties"];
        assert_eq!(
            p["traceID"],
            json!({"type": "keyword", "ignore_above": 256})
        );
        assert_eq!(p["startTime"]["type"], "long");
        assert_eq!(p["flags"]["type"], "integer");
        assert_eq!(p["startTimeMillis"]["format"], "epoch_millis");
        for nested in [
            &p["tags"],
            &p["process"]["properties"]["tags"],
            &p["logs"],
            &p["logs"]["properties"]["fields"],
            &p["references"],
        ] {
            assert_eq!(nested["type"], "nested");
            assert_eq!(nested["dynamic"], false);
        }
        let dynamic = &t["template"]["mappings"]["dynamic_templates"];
        assert_eq!(dynamic[0]["span_tags_map"]["path_match"], "tag.*");
        assert_eq!(
            dynamic[1]["process_tags_map"]["path_match"],
            "process.tag.*"
        );
    }

    #[test]
    fn service_template_maps_both_names_as_keywords() {
        let t: Json = serde_json::from_slice(&service_template(
            "jaeger-service-",
            IndexSettings::default(),
        ))
        .unwrap();
        assert_eq!(t["index_patterns"], json!(["jaeger-service-*"]));
        assert_eq!(t["template"]["settings"]["index.number_of_shards"], 5);
        let p = &t["template"]["mappings"]["properties"];
        assert_eq!(p["serviceName"]["type"], "keyword");
        assert_eq!(p["operationName"]["ignore_above"], 256);
    }
}
