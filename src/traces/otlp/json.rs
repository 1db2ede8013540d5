//! OTLP/JSON (`application/json` on `/v1/traces` and `/v1/logs`) into the [`wire`] messages.
//!
//! The JSON mapping differs from proto3's canonical one exactly where a generic decoder goes
//! wrong: trace and span ids are **hex**, not base64; enums are integers; 64-bit integers may
//! be strings or numbers; keys are lowerCamelCase (`traceId`). `opentelemetry-proto`'s serde
//! support (the `with-serde` feature) implements those rules; its `String`-holding types are
//! then re-encoded as protobuf and decoded into [`wire`], so JSON and protobuf requests take
//! one mapping path. JSON is the slow format anyway; the protobuf path does not pay for this.
//!
//! serde_json bounds nesting at 128 levels, so hostile depth fails cleanly.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest as JsonLogs;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest as JsonTraces;
use prost::Message;

use super::wire;

/// Why a JSON body was refused.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("invalid OTLP/JSON: {0}")]
    Syntax(#[from] serde_json::Error),
    /// Deeper than protobuf decoding allows (100 messages), though within serde_json's bound.
    #[error("OTLP/JSON nested too deeply: {0}")]
    Depth(#[from] prost::DecodeError),
}

pub fn decode_traces(body: &[u8]) -> Result<wire::ExportTraceServiceRequest, JsonError> {
    let request: JsonTraces = serde_json::from_slice(body)?;
    reencode(&request)
}

pub fn decode_logs(body: &[u8]) -> Result<wire::ExportLogsServiceRequest, JsonError> {
    let request: JsonLogs = serde_json::from_slice(body)?;
    reencode(&request)
}

fn reencode<T: Message + Default>(message: &impl Message) -> Result<T, JsonError> {
    Ok(T::decode(bytes::Bytes::from(message.encode_to_vec()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_string_integers_and_int_enums() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeSpans":[{"scope":{"name":"s"},"spans":[{
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
            "parentSpanId":"eee19b7ec3c1b173","name":"GET /","kind":2,
            "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
            "attributes":[{"key":"n","value":{"intValue":"42"}}],
            "status":{"code":2,"message":"boom"}}]}]}]}"#;
        let request = decode_traces(body).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            &span.trace_id[..],
            &0x5b8efff798038103d269b633813fc60cu128.to_be_bytes()
        );
        assert_eq!(&span.span_id[..], &0xeee19b7ec3c1b174u64.to_be_bytes());
        assert_eq!(span.kind, 2);
        assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(
            span.attributes[0].value.as_ref().unwrap().value,
            Some(wire::any_value::Value::Int(42))
        );
        assert_eq!(span.status.as_ref().unwrap().code, 2);
    }

    #[test]
    fn logs_decode_with_hex_ids() {
        let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{
            "timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"ERROR",
            "body":{"stringValue":"disk full"},
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}"#;
        let request = decode_logs(body).unwrap();
        let record = &request.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.severity_number, 17);
        assert_eq!(&record.severity_text[..], b"ERROR");
        assert_eq!(record.trace_id.len(), 16);
        assert_eq!(record.span_id.len(), 8);
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        for body in [
            &b""[..],
            b"{",
            b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}",
            b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"-1\"}]}]}]}",
            b"{\"resourceSpans\":7}",
        ] {
            assert!(decode_traces(body).is_err(), "{:?}", String::from_utf8_lossy(body));
        }
        let deep = format!(
            "{{\"resourceLogs\":[{{\"scopeLogs\":[{{\"logRecords\":[{{\"body\":{}null{}}}]}}]}}]}}",
            "{\"arrayValue\":{\"values\":[".repeat(400),
            "]}}".repeat(400)
        );
        assert!(decode_logs(deep.as_bytes()).is_err());
    }
}
