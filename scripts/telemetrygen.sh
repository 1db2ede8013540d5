#!/usr/bin/env bash
# Builds telemetrygen (OpenTelemetry Collector contrib's load generator for OTLP traces and
# logs) from the Go module proxy into target/peers/bin, for tests/otlp.rs's volume test.
# Skips the build when that version is already there. Prints the binary's path last.
# (The jaeger-es work ships scripts/jaeger.sh, which builds the same tool; one of the two
# is to be kept when both are merged.)
set -euo pipefail
cd "$(dirname "$0")/.."

version=v0.161.0
bin="$PWD/target/peers/bin"
if ! [ -x "$bin/telemetrygen" ] || ! [ "$(cat "$bin/telemetrygen.version" 2>/dev/null)" = "$version" ]; then
    mkdir -p "$bin"
    GOBIN="$bin" GOFLAGS=-mod=mod go install \
        "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$version"
    echo "$version" > "$bin/telemetrygen.version"
fi
echo "$bin/telemetrygen"
