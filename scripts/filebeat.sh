#!/usr/bin/env bash
# Builds the real Filebeat 7.17.29 that tests/beats_filebeat.rs ships logs with, once, into
# target/peers/bin/filebeat (skipped when that binary is already there and is this version).
#
# Filebeat is built from its Go module as fetched from the Go module proxy, inside its own
# module directory so that the module's `replace` directives apply (`go install …@v7.17.29`
# ignores them and fails). Beats 8.x cannot be had this way: its tags are not valid versions of
# the `v7` module path. 7.17 speaks the same Lumberjack v2. About 100 s cold.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=7.17.29
BIN="$PWD/target/peers/bin"
OUT="$BIN/filebeat"

if [ -x "$OUT" ] && "$OUT" version 2>/dev/null | grep -q "version $VERSION "; then
    exit 0
fi

export GOFLAGS=-mod=mod GOTOOLCHAIN=local
mkdir -p "$BIN"
dir=$(go mod download -json "github.com/elastic/beats/v7@v$VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
# The module cache is read-only; the build writes go.sum updates into its module directory.
src=$(mktemp -d "${TMPDIR:-/tmp}/beats-src.XXXXXX")
trap 'rm -rf "$src"' EXIT
cp -r "$dir/." "$src"
chmod -R u+w "$src"
echo "filebeat.sh: building Filebeat $VERSION into $OUT" >&2
(cd "$src" && go build -o "$OUT.partial" ./filebeat)
mv "$OUT.partial" "$OUT"
