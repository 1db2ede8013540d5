#!/usr/bin/env bash
# Installs the real Jaeger clients the `jaeger` input's tests drive (tests/jaeger_*.rs), each
# in a virtualenv of its own under target/, skipped when already there:
# - target/jaeger-client-venv: jaeger-client 4.8.0, the seed application's tracer (plus `six`,
#   which it imports but its current `thrift` dependency no longer pulls in);
# - target/otel-jaeger-venv: opentelemetry-exporter-jaeger-thrift 1.21.0, which only imports
#   beside the SDK and API of its own release.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/jaeger-client-venv
if ! "$venv/bin/python" -c 'import jaeger_client, six' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q jaeger-client==4.8.0 six
fi

venv=target/otel-jaeger-venv
if ! "$venv/bin/python" -c 'import opentelemetry.exporter.jaeger.thrift' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q opentelemetry-exporter-jaeger-thrift==1.21.0 \
        opentelemetry-sdk==1.21.0 opentelemetry-api==1.21.0
fi
