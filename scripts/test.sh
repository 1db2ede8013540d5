#!/usr/bin/env bash
# Runs Sluice's whole test suite on a fresh machine: installs what the tests need, then
# formatting, lints and every test. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Debian packages the peers' scripts use (the Elasticsearch script unzips and polls with curl),
# and the terminal tests/top.rs runs `sluice top` in.
missing=()
for tool in curl unzip tmux; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

# The SMTP server the email output's tests send to (tests/peers/smtp_sink.py).
if ! target/smtp-venv/bin/python -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m venv target/smtp-venv
    target/smtp-venv/bin/pip install -q aiosmtpd==1.4.6
fi

# The real Python Beats client (tests/beats_pylogbeat.rs drives it through
# tests/peers/pylogbeat_send.py), in a virtualenv of its own under target/, with Python
# `cryptography`, which writes the encrypted keys of the ssl_key_passphrase tests
# (tests/peers/encrypt_key.py).
venv=target/py-venv
if ! "$venv/bin/python" -c 'import pylogbeat, cryptography; assert pylogbeat.__version__ == "2.1.0"; assert cryptography.__version__ == "46.0.3"' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pylogbeat==2.1.0 cryptography==46.0.3
fi
export SLUICE_PYTHON="$PWD/$venv/bin/python"

# The real Filebeat 7.17.29 (tests/beats_filebeat.rs), built from the Go module proxy into
# target/peers/bin/ once (about 100 s cold; skipped when present).
scripts/filebeat.sh

# The OpenTelemetry Python SDK and its OTLP exporters (tests/otlp.rs).
SLUICE_OTEL_PYTHON="$(scripts/otel-python.sh | tail -n 1)"
export SLUICE_OTEL_PYTHON

# The real Jaeger clients tests/jaeger_input.rs drives (jaeger-client 4.8.0, the OpenTelemetry
# Jaeger Thrift exporter 1.21.0), each in its own virtualenv under target/.
scripts/jaeger-peers.sh

# The real Jaeger v2 that tests/jaeger_es.rs runs query-only against the test node: built once
# from the Go module proxy into target/peers/bin (a few minutes cold, nothing when cached).
# telemetrygen (OTLP volume in tests/otlp.rs) comes from the same script.
peers_bin=$(scripts/jaeger.sh install all | tail -n 1)
export SLUICE_TELEMETRYGEN="$peers_bin/telemetrygen"

echo "== Kubernetes manifests, decoded strictly into k8s.io/api types"
GOTOOLCHAIN=local go -C deploy/kubernetes/validate test -count=1 ./...

echo "== Prometheus alert rules: checked and unit-tested with promtool"
promtool=$(scripts/promtool.sh)
"$promtool" check rules deploy/prometheus/sluice-rules.yml
(cd deploy/prometheus && "$promtool" test rules sluice-rules.test.yml)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked --all-targets

echo "== scale-out: Filebeat loadbalancing over 2 Sluices into 3 Elasticsearch nodes, one of each killed"
scripts/scale-test.sh

echo "== the FROM scratch image, end to end with podman (scripts/container-test.sh)"
scripts/container-test.sh
