#!/usr/bin/env bash
# Builds the real Jaeger v2 and telemetrygen from the Go module proxy, once, for tests and
# benches that run them against Sluice.
#
#   scripts/jaeger.sh install [jaeger|telemetrygen|all]   build what is missing (default: jaeger),
#                                                          print the directory holding the binaries
#
# `jaeger` is Jaeger v2.13.0, which lives in the v1 module at tag v1.76.0 (the same commit).
# `go install …@v1.76.0` refuses that module (its go.mod has a `replace`), so it is built inside
# the downloaded module, where the `replace` applies. telemetrygen v0.161.0 installs directly.
# Builds are serialised with a lock, so several test binaries may ask at once.
#
# Environment:
#   SLUICE_PEERS_BIN   where the binaries go (default <repo>/target/peers/bin)
set -euo pipefail

JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_VERSION=v1.76.0
TELEMETRYGEN=github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen
TELEMETRYGEN_VERSION=v0.161.0

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SLUICE_PEERS_BIN:-$ROOT/target/peers/bin}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { echo "jaeger.sh: $*" >&2; }

# The version stamp beside each binary says which version it is, so a bump rebuilds it.
built() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.version" 2>/dev/null)" = "$2" ]; }

build_jaeger() {
    built jaeger "$JAEGER_VERSION" && return 0
    log "building jaeger $JAEGER_VERSION (v2.13.0) from the Go module proxy; a few minutes cold"
    local dir src
    dir=$(go mod download -json "$JAEGER_MODULE@$JAEGER_VERSION" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    src=$(mktemp -d)
    # The module cache is read-only; the build needs a writable copy for go.sum updates.
    cp -r "$dir/." "$src"
    chmod -R u+w "$src"
    (cd "$src" && go build -o "$BIN/jaeger.partial" ./cmd/jaeger) >&2
    rm -rf "$src"
    mv "$BIN/jaeger.partial" "$BIN/jaeger"
    echo "$JAEGER_VERSION" >"$BIN/jaeger.version"
}

build_telemetrygen() {
    built telemetrygen "$TELEMETRYGEN_VERSION" && return 0
    log "installing telemetrygen $TELEMETRYGEN_VERSION from the Go module proxy"
    GOBIN="$BIN" go install "$TELEMETRYGEN@$TELEMETRYGEN_VERSION" >&2
    echo "$TELEMETRYGEN_VERSION" >"$BIN/telemetrygen.version"
}

cmd_install() {
    mkdir -p "$BIN"
    exec 9>"$BIN/.lock"
    flock 9
    case "${1:-jaeger}" in
    jaeger) build_jaeger ;;
    telemetrygen) build_telemetrygen ;;
    all) build_jaeger && build_telemetrygen ;;
    *)
        log "install takes jaeger, telemetrygen or all"
        exit 2
        ;;
    esac
    echo "$BIN"
}

case "${1:-}" in
install) cmd_install "${2:-jaeger}" ;;
*)
    echo "usage: $0 install [jaeger|telemetrygen|all]" >&2
    exit 2
    ;;
esac
