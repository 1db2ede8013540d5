"""Exports spans or log records with the real OpenTelemetry Python SDK and its OTLP exporters.

Usage: otel_send.py traces|logs grpc|http ENDPOINT COUNT [--timeout SECONDS] [--ca CA.pem]
           [--gzip]
       otel_send.py raw-grpc ENDPOINT
       otel_send.py garbage-grpc ENDPOINT [SIZE]

`traces` records COUNT spans in one trace (a root with COUNT-1 children; the root carries an
attribute of every type, an event and an error status), `logs` COUNT log records through
Python's `logging` inside a span, then hands them to the OTLP exporter in one `export` call,
which returns only when the receiver has answered (after the exporter's own retries). With
`--ca` the exporter speaks TLS (ENDPOINT is then https://) and trusts that CA; with `--gzip`
it compresses its requests. Prints
one JSON line: the result (`SUCCESS` or `FAILURE`), the trace id, the service name and how long
the export took.

`raw-grpc` sends one span through the generated gRPC stub without the exporter's retries and
prints the status code and the `RetryInfo` delay the server attached, if any.
`garbage-grpc` sends bytes that are no protobuf message (SIZE zero bytes, if given) to the
same method and prints the status code.
"""

import json
import logging
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

SERVICE = "otel-python-peer"


def resource():
    return Resource.create({"service.name": SERVICE, "deployment.environment": "test"})


def record_spans(count):
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("sluice.tests", "1.0")
    with tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.method", "GET")
        root.set_attribute("http.status_code", 500)
        root.set_attribute("retry", True)
        root.set_attribute("ratio", 0.25)
        root.set_attribute("ids", [1, 2, 3])
        root.add_event("cache miss", {"key": "orders:7"})
        root.set_status(Status(StatusCode.ERROR, "database down"))
        for i in range(count - 1):
            with tracer.start_as_current_span(f"query {i}") as child:
                child.set_attribute("db.index", i)
        trace_id = root.get_span_context().trace_id
    return memory.get_finished_spans(), trace_id


def record_logs(count):
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=resource())
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    set_logger_provider(provider)
    logger = logging.getLogger("sluice.tests")
    logger.propagate = False
    logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
    logger.setLevel(logging.DEBUG)
    tracer = TracerProvider(resource=resource()).get_tracer("sluice.tests")
    with tracer.start_as_current_span("job") as span:
        for i in range(count):
            logger.error("disk full on /dev/sda%d", i, extra={"disk.index": i})
        trace_id = span.get_span_context().trace_id
    return memory.get_finished_logs(), trace_id


def exporter(signal, protocol, endpoint, timeout, ca, gzip):
    if protocol == "grpc":
        import grpc

        compression = grpc.Compression.Gzip if gzip else None
        if signal == "traces":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as E
        else:
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as E
        if ca is None:
            return E(endpoint=endpoint, insecure=True, timeout=timeout, compression=compression)
        with open(ca, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        return E(endpoint=endpoint, insecure=False, credentials=credentials, timeout=timeout,
                 compression=compression)
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as E
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as E
    from opentelemetry.exporter.otlp.proto.http import Compression

    compression = Compression.Gzip if gzip else Compression.NoCompression
    return E(endpoint=f"{endpoint}/v1/{signal}", timeout=timeout, certificate_file=ca,
             compression=compression)


def export(signal, protocol, endpoint, count, timeout, ca, gzip):
    items, trace_id = record_spans(count) if signal == "traces" else record_logs(count)
    started = time.monotonic()
    result = exporter(signal, protocol, endpoint, timeout, ca, gzip).export(items)
    print(json.dumps({
        "result": result.name,
        "trace_id": format(trace_id, "032x"),
        "service": SERVICE,
        "items": len(items),
        "seconds": time.monotonic() - started,
    }), flush=True)


def raw_grpc(endpoint):
    import grpc
    from google.rpc import error_details_pb2, status_pb2
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    spans, _ = record_spans(1)
    stub = trace_service_pb2_grpc.TraceServiceStub(grpc.insecure_channel(endpoint))
    out = {"code": "OK", "retry_delay_seconds": None}
    try:
        stub.Export(encode_spans(spans), timeout=30)
    except grpc.RpcError as e:
        out["code"] = e.code().name
        out["message"] = e.details()
        for key, value in e.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                status = status_pb2.Status.FromString(value)
                for detail in status.details:
                    info = error_details_pb2.RetryInfo()
                    if detail.Unpack(info):
                        out["retry_delay_seconds"] = info.retry_delay.ToTimedelta().total_seconds()
    print(json.dumps(out), flush=True)


def garbage_grpc(endpoint, size):
    import grpc

    call = grpc.insecure_channel(endpoint).unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    out = {"code": "OK"}
    try:
        call(b"\x00" * size if size else b"\x0a\xff\xff\xff\xff\x0f garbage", timeout=30)
    except grpc.RpcError as e:
        out = {"code": e.code().name, "message": e.details()}
    print(json.dumps(out), flush=True)


def main():
    args = sys.argv[1:]
    if args[0] == "raw-grpc":
        raw_grpc(args[1])
        return
    if args[0] == "garbage-grpc":
        garbage_grpc(args[1], int(args[2]) if len(args) > 2 else 0)
        return
    gzip = "--gzip" in args
    if gzip:
        args.remove("--gzip")
    options = {"--timeout": "10", "--ca": None}
    for name in options:
        if name in args:
            at = args.index(name)
            options[name] = args[at + 1]
            del args[at:at + 2]
    signal, protocol, endpoint, count = args
    export(signal, protocol, endpoint, int(count), float(options["--timeout"]), options["--ca"],
           gzip)


if __name__ == "__main__":
    main()
