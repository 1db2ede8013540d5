//! The agent's sampling endpoint (HTTP 5778): clients such as jaeger-client ask it which
//! sampling strategy their service should use.
//!
//! Strategies come from a file in Jaeger's `sampling_strategies` format
//! (`default_strategy`, `service_strategies`, each with `type` `probabilistic` or
//! `ratelimiting`, `param`, and `operation_strategies`), or are one probabilistic default.
//! As in Jaeger's static strategy store, per-operation strategies are probabilistic only, and
//! a probabilistic service inherits the default's operation strategies it does not override.
//!
//! Paths: `GET /sampling?service=` answers in protobuf JSON with enum *names*
//! (`"PROBABILISTIC"`: jaeger-client compares the string); the legacy `GET /?service=` answers
//! the same with numeric enums, as the Thrift JSON of old agents did; and
//! `GET /baggageRestrictions?service=` answers `[]` (no restrictions).

use std::collections::HashMap;
use std::path::Path;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::http::{reply, Handler, Reply};
use super::metrics::sampling_request;

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct StrategiesFile {
    default_strategy: Option<ServiceStrategy>,
    #[serde(default)]
    service_strategies: Vec<ServiceStrategy>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct ServiceStrategy {
    #[serde(default)]
    service: String,
    #[serde(flatten)]
    strategy: Strategy,
    #[serde(default)]
    operation_strategies: Vec<OperationStrategy>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
struct OperationStrategy {
    operation: String,
    #[serde(flatten)]
    strategy: Strategy,
}

#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
struct Strategy {
    #[serde(rename = "type")]
    kind: Kind,
    param: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Probabilistic,
    Ratelimiting,
}

/// Every service's strategy, ready to answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Strategies {
    default: ServiceStrategy,
    services: HashMap<String, ServiceStrategy>,
}

/// The legacy endpoint's numbers for the strategy types.
fn enum_number(name: &str) -> u8 {
    match name {
        "PROBABILISTIC" => 0,
        _ => 1,
    }
}

impl Strategies {
    /// One probabilistic strategy for every service.
    pub fn probabilistic(probability: f64) -> Strategies {
        Strategies {
            default: ServiceStrategy {
                service: String::new(),
                strategy: Strategy {
                    kind: Kind::Probabilistic,
                    param: probability,
                },
                operation_strategies: Vec::new(),
            },
            services: HashMap::new(),
        }
    }

    /// Reads Jaeger's strategies file; `default_probability` applies when it has no
    /// `default_strategy`.
    pub fn from_file(path: &Path, default_probability: f64) -> Result<Strategies, String> {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Strategies::from_json(&text, default_probability)
            .map_err(|e| format!("{} is not a sampling strategies file: {e}", path.display()))
    }

    fn from_json(text: &[u8], default_probability: f64) -> Result<Strategies, String> {
        let file: StrategiesFile = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        let mut strategies = Strategies::probabilistic(default_probability);
        if let Some(default) = file.default_strategy {
            strategies.default = default;
        }
        let all = std::iter::once(&strategies.default).chain(&file.service_strategies);
        for s in all.clone() {
            check(&s.strategy)?;
            for op in &s.operation_strategies {
                check(&op.strategy)?;
            }
        }
        for mut service in file.service_strategies {
            if service.strategy.kind == Kind::Probabilistic {
                for inherited in &strategies.default.operation_strategies {
                    if !service
                        .operation_strategies
                        .iter()
                        .any(|o| o.operation == inherited.operation)
                    {
                        service.operation_strategies.push(inherited.clone());
                    }
                }
            }
            strategies.services.insert(service.service.clone(), service);
        }
        Ok(strategies)
    }

    /// The answer for `service` in protobuf JSON, enum names as strings.
    pub fn response(&self, service: &str) -> Json {
        let s = self.services.get(service).unwrap_or(&self.default);
        let mut response = match s.strategy.kind {
            Kind::Probabilistic => json!({
                "strategyType": "PROBABILISTIC",
                "probabilisticSampling": {"samplingRate": s.strategy.param},
            }),
            Kind::Ratelimiting => json!({
                "strategyType": "RATE_LIMITING",
                "rateLimitingSampling": {"maxTracesPerSecond": s.strategy.param as i64},
            }),
        };
        let operations: Vec<Json> = s
            .operation_strategies
            .iter()
            .filter(|o| o.strategy.kind == Kind::Probabilistic)
            .map(|o| json!({"operation": o.operation, "probabilisticSampling": {"samplingRate": o.strategy.param}}))
            .collect();
        if s.strategy.kind == Kind::Probabilistic && !operations.is_empty() {
            response["operationSampling"] = json!({
                "defaultSamplingProbability": s.strategy.param,
                "defaultLowerBoundTracesPerSecond": 0.0,
                "perOperationStrategies": operations,
                "defaultUpperBoundTracesPerSecond": 0.0,
            });
        }
        response
    }

    /// The legacy answer: the same with the strategy type as its enum number.
    pub fn legacy_response(&self, service: &str) -> Json {
        let mut response = self.response(service);
        let number = enum_number(response["strategyType"].as_str().unwrap_or_default());
        response["strategyType"] = json!(number);
        response
    }
}

fn check(strategy: &Strategy) -> Result<(), String> {
    let ok = match strategy.kind {
        Kind::Probabilistic => (0.0..=1.0).contains(&strategy.param),
        Kind::Ratelimiting => strategy.param >= 0.0 && strategy.param.fract() == 0.0,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} param {} is out of range (a probability, or whole traces per second)",
            strategy.kind, strategy.param
        ))
    }
}

/// The HTTP side of the endpoint.
pub struct SamplingEndpoint {
    pub strategies: Strategies,
    pub pipeline: std::sync::Arc<str>,
    pub plugin: std::sync::Arc<str>,
}

impl Handler for SamplingEndpoint {
    async fn handle(&self, request: Request<Incoming>) -> Reply {
        if request.method() != Method::GET {
            return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "use GET\n");
        }
        let (path, label) = match request.uri().path() {
            "/sampling" => ("sampling", "sampling"),
            "/" => ("legacy", "legacy"),
            "/baggageRestrictions" => ("baggage", "baggage_restrictions"),
            _ => return reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
        };
        let services: Vec<String> = request
            .uri()
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.strip_prefix("service="))
            .map(percent_decode)
            .collect();
        let [service] = services.as_slice() else {
            return reply(
                StatusCode::BAD_REQUEST,
                "text/plain",
                "'service' parameter must be provided once\n",
            );
        };
        sampling_request(&self.pipeline, &self.plugin, label);
        let body = match path {
            "sampling" => self.strategies.response(service),
            "legacy" => self.strategies.legacy_response(service),
            _ => json!([]),
        };
        reply(StatusCode::OK, "application/json", body.to_string())
    }
}

/// Decodes `%XX` escapes and `+` in a query value; malformed escapes stay as they are.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
      "service_strategies": [
        {"service": "foo", "type": "probabilistic", "param": 0.8,
         "operation_strategies": [{"operation": "op1", "type": "probabilistic", "param": 0.2}]},
        {"service": "bar", "type": "ratelimiting", "param": 5}
      ],
      "default_strategy": {"type": "probabilistic", "param": 0.5,
        "operation_strategies": [{"operation": "/health", "type": "probabilistic", "param": 0.0}]}
    }"#;

    #[test]
    fn services_get_their_strategy_and_others_the_default() {
        let s = Strategies::from_json(FILE.as_bytes(), 0.001).unwrap();
        assert_eq!(
            s.response("bar"),
            json!({"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}})
        );
        let foo = s.response("foo");
        assert_eq!(foo["strategyType"], "PROBABILISTIC");
        assert_eq!(foo["probabilisticSampling"]["samplingRate"], 0.8);
        let ops = &foo["operationSampling"];
        assert_eq!(ops["defaultSamplingProbability"], 0.8);
        assert_eq!(
            ops["perOperationStrategies"],
            json!([
                {"operation": "op1", "probabilisticSampling": {"samplingRate": 0.2}},
                {"operation": "/health", "probabilisticSampling": {"samplingRate": 0.0}},
            ])
        );
        let other = s.response("unknown");
        assert_eq!(other["probabilisticSampling"]["samplingRate"], 0.5);
        assert_eq!(s.legacy_response("bar")["strategyType"], 1);
        assert_eq!(s.legacy_response("foo")["strategyType"], 0);
    }

    #[test]
    fn without_a_file_every_service_is_probabilistic() {
        let s = Strategies::probabilistic(0.25);
        assert_eq!(
            s.response("x"),
            json!({"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.25}})
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        for (text, expected) in [
            ("{", "EOF"),
            (
                r#"{"default_strategy": {"type": "adaptive", "param": 1}}"#,
                "unknown variant",
            ),
            (
                r#"{"default_strategy": {"type": "probabilistic", "param": 2}}"#,
                "out of range",
            ),
            (
                r#"{"service_strategies": [{"service": "a", "type": "ratelimiting", "param": -1}]}"#,
                "out of range",
            ),
        ] {
            let e = Strategies::from_json(text.as_bytes(), 0.001).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(percent_decode("my%20svc+x"), "my svc x");
        assert_eq!(percent_decode("bad%zz%4"), "bad%zz%4");
        assert_eq!(percent_decode("%e6%97%a5"), "日");
    }
}
