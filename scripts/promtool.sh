#!/usr/bin/env bash
# Installs promtool (Prometheus 3.x, module version v0.316.0) from the Go module proxy once,
# under target/peers/bin, and prints its path. Used to check and unit-test the alert rules.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/peers/bin"
if [ ! -x "$bin/promtool" ]; then
    mkdir -p "$bin"
    GOTOOLCHAIN=local GOBIN="$bin" go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0 >&2
fi
echo "$bin/promtool"
