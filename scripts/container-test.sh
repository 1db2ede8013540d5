#!/usr/bin/env bash
# Runs the shipped image the way a user would, end to end, and fails on any loss:
#
# 1. builds it (scripts/container-build.sh: podman + runc, static musl release build);
# 2. starts a plain-HTTP Elasticsearch 8.19.21 of its own on 127.0.0.1 (scripts/elasticsearch.sh,
#    run directory /tmp/sluice-es-container, port 9270) and removes what an earlier run left;
# 3. runs the image with its default command (the shipped config/pipelines.yml: the MangakAI
#    log pipeline and the traces pipeline) in its own network namespace (slirp4netns), its
#    ports published on 127.0.0.1 only and Elasticsearch reached on the host's loopback through
#    ELASTICSEARCH_HOSTS; /var/lib/sluice is a host directory owned by uid 10001;
# 4. checks `/ready` answers 200 and `podman healthcheck run` (the image's `sluice health`)
#    reports healthy;
# 5. sends pylogbeat 2.1.0 events (every window must be ACKed) and jaeger_client 4.8.0 spans
#    over UDP;
# 6. stops it with SIGTERM (`podman stop`, 60 s before SIGKILL): it must drain and exit 0;
# 7. counts what Elasticsearch holds: every event and every span, exactly.
#
# Needs the virtualenvs scripts/test.sh makes (target/py-venv for pylogbeat) and
# scripts/jaeger-peers.sh (target/jaeger-client-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

windows=${SLUICE_CT_WINDOWS:-20}
per_window=${SLUICE_CT_PER_WINDOW:-250}
traces=${SLUICE_CT_TRACES:-25}
events=$((windows * per_window))
spans=$((traces * 2))

log() { echo "container-test.sh: $*" >&2; }
fail() {
    log "FAILED: $*"
    exit 1
}

scripts/jaeger-peers.sh
image=$(scripts/container-build.sh)
# The container's own network stack, which reaches the host's loopback (podman recommends it
# but does not depend on it).
if ! command -v slirp4netns >/dev/null; then
    apt-get update -qq >&2 && apt-get install -y -qq slirp4netns >&2
fi
log "image $image, $(podman image inspect --format '{{.Size}}' "$image") bytes"

export SLUICE_ES_RUN=/tmp/sluice-es-container SLUICE_ES_PORT=9270 SLUICE_ES_TRANSPORT_PORT=9370
es=http://127.0.0.1:$SLUICE_ES_PORT
scripts/elasticsearch.sh start 1 >/dev/null
# A scratch node on a shared build disk: past the disk monitor's high watermark (90 % used) it
# would leave new indices unassigned and every write waiting.
curl -fsS -X PUT -H 'Content-Type: application/json' "$es/_cluster/settings" \
    -d '{"transient": {"cluster.routing.allocation.disk.threshold_enabled": false}}' >/dev/null

name=sluice-container-test-$$
data=$(mktemp -d /tmp/sluice-container-test.XXXXXX)
cleanup() {
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
    rm -rf "$data"
    scripts/elasticsearch.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Indices an earlier run wrote; deleted by exact name (this Elasticsearch refuses wildcards).
for index in $(curl -fsS "$es/_cat/indices/mangakai-logs-*,jaeger-*?h=index"); do
    curl -fsS -X DELETE "$es/$index" >/dev/null
done

# The user the image runs as must be able to write its data directory (the dead-letter queue).
# Without systemd, podman logs that it cannot schedule the health check's timer; the check
# itself is run on demand below.
chown 10001:10001 "$data"
podman --runtime runc run --detach --name "$name" \
    --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 \
    --network slirp4netns:allow_host_loopback=true \
    --env ELASTICSEARCH_HOSTS="http://10.0.2.2:$SLUICE_ES_PORT" \
    --volume "$data:/var/lib/sluice" \
    --publish 127.0.0.1::5044 --publish 127.0.0.1::9600 \
    --publish 127.0.0.1::6831/udp --publish 127.0.0.1::5778 \
    "$image" >/dev/null

host_port() { podman port "$name" "$1" | head -n 1 | sed 's/.*://'; }
beats_port=$(host_port 5044/tcp)
api_port=$(host_port 9600/tcp)
agent_port=$(host_port 6831/udp)
sampling_port=$(host_port 5778/tcp)

ready=
for _ in $(seq 1 60); do
    if curl -fsS "http://127.0.0.1:$api_port/ready" >/dev/null 2>&1; then
        ready=1
        break
    fi
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || break
    sleep 1
done
[ -n "$ready" ] || {
    podman logs "$name" >&2
    fail "/ready did not answer 200 within 60 s"
}
log "/ready answers 200"
podman healthcheck run "$name" >/dev/null || fail "podman healthcheck run: unhealthy"
log "podman healthcheck run: healthy"

summary=$(target/py-venv/bin/python tests/peers/pylogbeat_send.py 127.0.0.1 "$beats_port" \
    "$windows" "$per_window" | tail -n 1)
python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if "error" not in s and s["acked_events"]==int(sys.argv[2]) else 1)' \
    "$summary" "$events" || fail "pylogbeat: not every window was ACKed: $summary"
log "pylogbeat: $events events ACKed"

service=containertest$$
target/jaeger-client-venv/bin/python tests/peers/jaeger_client_send.py seed \
    "$agent_port" "$sampling_port" "$service" "$traces" >/dev/null
log "jaeger_client: $traces traces ($spans spans) sent to the agent port"

started=$(date +%s)
podman stop --time 60 "$name" >/dev/null
status=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[ "$status" = 0 ] || {
    podman logs "$name" >&2
    fail "after SIGTERM the container exited $status, not 0"
}
log "SIGTERM: drained and exited 0 in $(($(date +%s) - started)) s"

curl -fsS -X POST "$es/mangakai-logs-*,jaeger-span-*/_refresh" >/dev/null
count() { curl -fsS "$es/$1/_count?q=$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
stored_events=$(count 'mangakai-logs-*' 'message:pylogbeat')
stored_spans=$(count 'jaeger-span-*' "process.serviceName:$service")
[ "$stored_events" = "$events" ] || fail "Elasticsearch holds $stored_events of the $events events"
[ "$stored_spans" = "$spans" ] || fail "Elasticsearch holds $stored_spans of the $spans spans"
log "Elasticsearch holds all $events events and all $spans spans"
