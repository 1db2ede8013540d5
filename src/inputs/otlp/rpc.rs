//! `google.rpc.Status` with `google.rpc.RetryInfo`: the error body OTLP/HTTP answers with, and
//! the details of a gRPC `UNAVAILABLE` that tell the sender how long to back off.

use std::time::Duration;

use bytes::Bytes;
use prost::Message;

#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

/// An encoded `google.rpc.Status`, with a `RetryInfo` detail when `retry_after` is given.
pub fn status(code: tonic::Code, message: &str, retry_after: Option<Duration>) -> Bytes {
    let details = retry_after
        .map(|delay| Any {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
            value: RetryInfo {
                retry_delay: Some(ProtoDuration {
                    seconds: delay.as_secs() as i64,
                    nanos: delay.subsec_nanos() as i32,
                }),
            }
            .encode_to_vec(),
        })
        .into_iter()
        .collect();
    Bytes::from(
        RpcStatus {
            code: code as i32,
            message: message.into(),
            details,
        }
        .encode_to_vec(),
    )
}

/// The same status as OTLP/JSON writes it (`{"code":…,"message":…}`).
pub fn status_json(code: tonic::Code, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "code": code as i32, "message": message }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_rides_in_the_status_details() {
        let bytes = status(
            tonic::Code::Unavailable,
            "busy",
            Some(Duration::from_millis(1500)),
        );
        let decoded = RpcStatus::decode(bytes).unwrap();
        assert_eq!(decoded.code, 14);
        assert_eq!(
            decoded.details[0].type_url,
            "type.googleapis.com/google.rpc.RetryInfo"
        );
        let info = RetryInfo::decode(&decoded.details[0].value[..]).unwrap();
        assert_eq!(
            info.retry_delay,
            Some(ProtoDuration {
                seconds: 1,
                nanos: 500_000_000
            })
        );
    }
}
