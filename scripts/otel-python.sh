#!/usr/bin/env bash
# Installs the OpenTelemetry Python SDK and its OTLP exporters (gRPC and HTTP) into
# target/otel-venv, for the otlp input's tests (tests/otlp.rs drives them through
# tests/peers/otel_send.py). Skips the install when the pinned versions are already there.
# Prints the venv's python path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.45.2
venv=target/otel-venv
check="import opentelemetry.sdk.version as v, opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http; assert v.__version__ == '$version'"
if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q \
        "opentelemetry-sdk==$version" \
        "opentelemetry-exporter-otlp-proto-grpc==$version" \
        "opentelemetry-exporter-otlp-proto-http==$version"
fi
echo "$PWD/$venv/bin/python"
