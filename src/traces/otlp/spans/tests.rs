use super::*;
use crate::traces::otlp::wire::{
    AnyValue, ExportTraceServiceRequest, InstrumentationScope, KeyValue as WireKeyValue, Resource,
    ResourceSpans, ScopeSpans, SpanEvent, SpanLink, Status,
};

const TRACE: u128 = 0x5b8efff798038103d269b633813fc60c;

fn string(key: &'static str, value: &'static [u8]) -> WireKeyValue {
    WireKeyValue {
        key: Bytes::from_static(key.as_bytes()),
        value: Some(AnyValue {
            value: Some(any_value::Value::String(Bytes::from_static(value))),
        }),
    }
}

fn span(span_id: u64) -> wire::Span {
    wire::Span {
        trace_id: Bytes::copy_from_slice(&TRACE.to_be_bytes()),
        span_id: Bytes::copy_from_slice(&span_id.to_be_bytes()),
        name: Bytes::from_static(b"GET /"),
        start_time_unix_nano: 1_700_000_000_123_456_789,
        end_time_unix_nano: 1_700_000_000_223_456_789,
        ..Default::default()
    }
}

fn request(resource: Vec<WireKeyValue>, spans: Vec<wire::Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: Bytes::from_static(b"my.lib"),
                    version: Bytes::from_static(b"1.2"),
                    attributes: vec![],
                }),
                spans,
            }],
        }],
    }
}

fn tag<'a>(span: &'a Span, key: &str) -> Option<&'a TagValue> {
    span.tags.iter().find(|t| t.key == *key).map(|t| &t.value)
}

#[test]
fn a_full_span_maps_as_jaeger_writes_it() {
    let mut s = span(0xeee19b7ec3c1b174);
    s.parent_span_id = Bytes::copy_from_slice(&0xeee19b7ec3c1b173u64.to_be_bytes());
    s.kind = 3;
    s.flags = 0x101;
    s.trace_state = Bytes::from_static(b"rojo=00f067aa0ba902b7");
    s.attributes = vec![string("http.method", b"GET")];
    s.status = Some(Status {
        code: 2,
        message: Bytes::from_static(b"boom"),
    });
    s.events = vec![SpanEvent {
        time_unix_nano: 1_700_000_000_200_000_000,
        name: Bytes::from_static(b"retry"),
        attributes: vec![string("attempt", b"2")],
    }];
    let other_trace = 7u128;
    s.links = vec![
        SpanLink {
            trace_id: Bytes::copy_from_slice(&other_trace.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&9u64.to_be_bytes()),
            attributes: vec![],
        },
        SpanLink {
            trace_id: Bytes::copy_from_slice(&other_trace.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&10u64.to_be_bytes()),
            attributes: vec![string("opentracing.ref_type", b"child_of")],
        },
        // The parent again, as a child_of link: the parent's CHILD_OF, written once.
        SpanLink {
            trace_id: Bytes::copy_from_slice(&TRACE.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&0xeee19b7ec3c1b173u64.to_be_bytes()),
            attributes: vec![string("opentracing.ref_type", b"child_of")],
        },
    ];
    let mapped = map_request(request(
        vec![
            string("service.name", b"checkout"),
            string("host.name", b"h1"),
        ],
        vec![s],
    ));
    assert_eq!(mapped.rejected.total(), 0);
    let span = &mapped.spans[0];
    assert_eq!(span.trace_id, TRACE);
    assert_eq!(span.span_id, 0xeee19b7ec3c1b174);
    assert_eq!(span.parent_span_id, 0xeee19b7ec3c1b173);
    assert_eq!(span.operation_name, *"GET /");
    assert_eq!(span.flags, 0x101);
    assert_eq!(span.start_time_us, 1_700_000_000_123_456);
    assert_eq!(span.duration_us, 100_000);
    assert_eq!(span.process.service_name, *"checkout");
    assert_eq!(
        span.process.tags,
        vec![KeyValue::new("host.name", TagValue::String("h1".into()))]
    );
    let keys: Vec<&str> = span.tags.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "otel.scope.name",
            "otel.scope.version",
            "http.method",
            "span.kind",
            "error",
            "otel.status_description",
            "w3c.tracestate"
        ]
    );
    assert_eq!(
        tag(span, "span.kind"),
        Some(&TagValue::String("client".into()))
    );
    assert_eq!(tag(span, "error"), Some(&TagValue::Bool(true)));
    assert_eq!(
        tag(span, "otel.status_description"),
        Some(&TagValue::String("boom".into()))
    );
    assert_eq!(span.logs.len(), 1);
    assert_eq!(span.logs[0].timestamp_us, 1_700_000_000_200_000);
    assert_eq!(
        span.logs[0].fields,
        vec![
            KeyValue::new("event", TagValue::String("retry".into())),
            KeyValue::new("attempt", TagValue::String("2".into())),
        ]
    );
    assert_eq!(
        span.references,
        vec![
            SpanRef {
                ref_type: RefType::FollowsFrom,
                trace_id: 7,
                span_id: 9
            },
            SpanRef {
                ref_type: RefType::ChildOf,
                trace_id: 7,
                span_id: 10
            },
        ]
    );
}

#[test]
fn ok_status_and_unspecified_kind() {
    let mut s = span(1);
    s.status = Some(Status {
        code: 1,
        message: Bytes::new(),
    });
    let mapped = map_request(request(vec![], vec![s]));
    let span = &mapped.spans[0];
    assert_eq!(
        tag(span, "otel.status_code"),
        Some(&TagValue::String("OK".into()))
    );
    assert_eq!(tag(span, "error"), None);
    assert_eq!(tag(span, "span.kind"), None);
    assert_eq!(tag(span, "otel.status_description"), None);
}

#[test]
fn bad_ids_reject_their_span_alone() {
    let mut short_trace = span(1);
    short_trace.trace_id = Bytes::copy_from_slice(&5u64.to_be_bytes());
    let mut zero_trace = span(2);
    zero_trace.trace_id = Bytes::from_static(&[0; 16]);
    let mut zero_span = span(3);
    zero_span.span_id = Bytes::from_static(&[0; 8]);
    let mut no_span = span(4);
    no_span.span_id = Bytes::new();
    let mut bad_parent = span(5);
    bad_parent.parent_span_id = Bytes::from_static(&[1; 3]);
    let mapped = map_request(request(
        vec![],
        vec![
            short_trace,
            zero_trace,
            zero_span,
            no_span,
            bad_parent,
            span(6),
        ],
    ));
    assert_eq!(mapped.spans.len(), 1);
    assert_eq!(mapped.spans[0].span_id, 6);
    let reasons: Vec<_> = mapped.rejected.iter().collect();
    assert_eq!(
        reasons,
        [
            (Rejection::TraceIdLength, 1),
            (Rejection::TraceIdZero, 1),
            (Rejection::SpanIdLength, 1),
            (Rejection::SpanIdZero, 1),
            (Rejection::ParentSpanIdLength, 1),
        ]
    );
    assert!(mapped
        .rejected
        .message()
        .starts_with("1 rejected: trace_id must be 16 bytes"));
}

#[test]
fn service_names_are_sanitized_as_jaeger_does() {
    let name = |resource| {
        map_request(request(resource, vec![span(1)])).spans[0]
            .process
            .service_name
            .to_string()
    };
    assert_eq!(name(vec![]), "missing-service-name");
    assert_eq!(
        name(vec![string("service.name", b"")]),
        "empty-service-name"
    );
    let wrong = WireKeyValue {
        key: Bytes::from_static(b"service.name"),
        value: Some(AnyValue {
            value: Some(any_value::Value::Int(3)),
        }),
    };
    assert_eq!(name(vec![wrong]), "service-name-wrong-type");
}

#[test]
fn negative_durations_become_zero_and_extreme_times_do_not_overflow() {
    let mut backwards = span(1);
    backwards.end_time_unix_nano = backwards.start_time_unix_nano - 5_000_000;
    let mut far = span(2);
    far.start_time_unix_nano = u64::MAX - 10;
    far.end_time_unix_nano = 0;
    let mut unset = span(3);
    unset.start_time_unix_nano = 0;
    unset.end_time_unix_nano = u64::MAX;
    let mapped = map_request(request(vec![], vec![backwards, far, unset]));
    assert_eq!(mapped.spans[0].duration_us, 0);
    assert_eq!(
        tag(&mapped.spans[0], "@jaeger@warnings"),
        Some(&TagValue::String(
            "[\"Negative duration detected, sanitizing end timestamp. Original end timestamp: \
             2023-11-14 22:13:20.118456789 +0000 UTC, adjusted to: 2023-11-14 22:13:20.12345679 \
             +0000 UTC\"]"
                .into()
        )),
        "Jaeger's sanitizer warning, times as Go writes them"
    );
    assert_eq!(mapped.spans[1].start_time_us, (u64::MAX / 1000) as i64);
    assert_eq!(mapped.spans[1].duration_us, 0);
    assert_eq!(mapped.spans[2].duration_us, (u64::MAX / 1000) as i64);
    assert_eq!(tag(&mapped.spans[2], "@jaeger@warnings"), None);
}

#[test]
fn go_times_drop_trailing_zeros_of_the_fraction() {
    assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
    assert_eq!(
        go_time(1_700_000_000_100_000_000),
        "2023-11-14 22:13:20.1 +0000 UTC"
    );
    assert_eq!(
        go_time(1_700_000_000_000_000_001),
        "2023-11-14 22:13:20.000000001 +0000 UTC"
    );
}

#[test]
fn a_link_to_the_parent_gives_the_parent_reference_its_type() {
    let parent = 0xeee19b7ec3c1b173u64;
    let mut s = span(2);
    s.parent_span_id = Bytes::copy_from_slice(&parent.to_be_bytes());
    s.links = vec![
        SpanLink {
            trace_id: Bytes::copy_from_slice(&7u128.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&9u64.to_be_bytes()),
            attributes: vec![],
        },
        SpanLink {
            trace_id: Bytes::copy_from_slice(&TRACE.to_be_bytes()),
            span_id: Bytes::copy_from_slice(&parent.to_be_bytes()),
            attributes: vec![],
        },
    ];
    let mapped = map_request(request(vec![], vec![s]));
    let span = &mapped.spans[0];
    assert_eq!(span.parent_span_id, 0, "no CHILD_OF parent any more");
    let follows_from = |trace_id, span_id| SpanRef {
        ref_type: RefType::FollowsFrom,
        trace_id,
        span_id,
    };
    assert_eq!(
        span.references,
        vec![follows_from(TRACE, parent), follows_from(7, 9)],
        "the parent first, as Jaeger writes it"
    );
}

#[test]
fn invalid_utf8_is_replaced_and_kept_as_binary() {
    let mut s = span(1);
    s.name = Bytes::from_static(b"GET \xff");
    s.attributes = vec![string("k", b"v\xc3")];
    let mapped = map_request(request(vec![], vec![s]));
    let span = &mapped.spans[0];
    assert_eq!(span.operation_name, *"invalid-span-name");
    assert_eq!(
        tag(span, "invalid-span-name"),
        Some(&TagValue::Binary(Bytes::from_static(b"GET \xff")))
    );
    assert_eq!(
        tag(span, "k"),
        Some(&TagValue::Binary(Bytes::from_static(b"v\xc3")))
    );
}

#[test]
fn strings_are_slices_of_the_request_buffer() {
    use prost::Message;
    let buffer =
        Bytes::from(request(vec![string("service.name", b"svc")], vec![span(1)]).encode_to_vec());
    let decoded = ExportTraceServiceRequest::decode(buffer.clone()).unwrap();
    let mapped = map_request(decoded);
    let name = mapped.spans[0].operation_name.as_bytes().as_ptr() as usize;
    let range = buffer.as_ptr() as usize..buffer.as_ptr() as usize + buffer.len();
    assert!(range.contains(&name), "the operation name was copied");
}
