#!/usr/bin/env bash
# End-to-end cost of ingesting spans into Jaeger's Elasticsearch schema: the same telemetrygen
# v0.161.0 load (OTLP gRPC, several workers, a fixed span count) into the real Jaeger v2.13
# collector (`otlp` receiver → `batch` → `jaeger_storage_exporter`) and into `sluice run`
# (release build; `otlp` input → `elasticsearch { schema => jaeger }`), one after the other,
# each writing to the same plain one-node Elasticsearch 8.19.21 (1 GiB heap, started by
# scripts/elasticsearch.sh in its own run directory) under its own index prefix. A
# measurement, not a test. For each collector it prints:
#
# - CPU-seconds (user + system, /proc/PID/stat) the collector process spent from the start of
#   the load until the last span was in Elasticsearch, per 100 k spans;
# - its peak resident memory (VmHWM);
# - the wall time from the start of the load until every span was searchable;
# - the spans Elasticsearch holds under its prefix (both must be all of them);
#
# then the ratio of CPU-seconds per span, Jaeger's over Sluice's.
#
#   scripts/bench-traces-e2e.sh [WORKERS] [TRACES_PER_WORKER] [RATE]
#
# Defaults: 4 workers × 25 000 traces of 2 spans (200 000 spans), each worker at 100 spans/s.
# The rate is capped because telemetrygen's own SDK queue (2048 spans) drops spans it cannot
# export fast enough; unthrottled, most spans never leave it, whoever the collector is.
#
# SLUICE_RUN_ARGS adds flags to `sluice run` (e.g. `-b 1000` for larger pipeline batches).
#
# The Elasticsearch node is left running for the next run (SLUICE_ES_RUN=/tmp/sluice-es-bench
# scripts/elasticsearch.sh stop ends it); each run deletes its own indices at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${1:-4}
TRACES=${2:-25000}
RATE=${3:-100}
# telemetrygen writes a root and one child per trace.
SPANS=$((WORKERS * TRACES * 2))
export SLUICE_ES_RUN=/tmp/sluice-es-bench SLUICE_ES_PORT=9270 SLUICE_ES_TRANSPORT_PORT=9370
export SLUICE_ES_HEAP=1g
URL=http://127.0.0.1:$SLUICE_ES_PORT

scripts/elasticsearch.sh start 1 >/dev/null
# The disk is shared with every build on the machine: past Elasticsearch's low watermark (85 %)
# a new index's shards are never allocated and the run would wait forever.
curl -fsS -XPUT "$URL/_cluster/settings" -H 'Content-Type: application/json' \
    -d '{"persistent":{"cluster.routing.allocation.disk.threshold_enabled":false}}' >/dev/null
peers=$(scripts/jaeger.sh install all | tail -n 1)
cargo build --release --quiet --bin sluice
run=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# shellcheck source=scripts/proc-stats.sh
. scripts/proc-stats.sh
count() {
    curl -fsS -XPOST "$URL/$1jaeger-span-*/_refresh" >/dev/null 2>&1 || true
    curl -fsS "$URL/$1jaeger-span-*/_count" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("count", 0))' 2>/dev/null || echo 0
}
# Waits until PORT takes connections; fails with LOG when the process PID ended first.
wait_for_port() {
    local port=$1 pid=$2 log=$3
    for _ in $(seq 1200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the collector exited before listening on $port:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "nothing listens on $port" >&2
    return 1
}

# Runs the load against the collector PID listening on PORT, writing under PREFIX; prints
# "cpu_seconds wall_seconds spans_stored peak_rss_mib".
measure() {
    local pid=$1 port=$2 prefix=$3 cpu0 start stored last_change end cpu1
    cpu0=$(cpu "$pid")
    start=$(date +%s.%N)
    "$peers/telemetrygen" traces --otlp-endpoint "127.0.0.1:$port" --otlp-insecure \
        --workers "$WORKERS" --traces "$TRACES" --rate "$RATE" --child-spans 1 --service bench \
        --telemetry-attributes 'http.request.method="GET"' \
        --telemetry-attributes 'http.response.status_code=200' \
        --otlp-attributes 'host.name="bench-1"' >"$work/telemetrygen.log" 2>&1
    # Every span searchable, or no progress for 30 s (spans lost).
    stored=0
    last_change=$(date +%s)
    while [ "$stored" -lt "$SPANS" ] && [ $(($(date +%s) - last_change)) -lt 30 ]; do
        sleep 0.5
        local now
        now=$(count "$prefix")
        if [ "$now" != "$stored" ]; then
            stored=$now
            last_change=$(date +%s)
        fi
    done
    end=$(date +%s.%N)
    cpu1=$(cpu "$pid")
    echo "$(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN { print a - b }') \
$(awk -v a="$end" -v b="$start" 'BEGIN { print a - b }') $stored $(peak_rss_mib "$pid")"
}

# Jaeger v2.13 as a collector: its own sample Elasticsearch config (cmd/jaeger/
# config-elasticsearch.yaml) without the query side, bound to loopback, one
# shard and no replica per index (as Sluice below), its telemetry off.
jaeger_prefix=bench-jaeger-$run
jaeger_port=$(free_port)
cat >"$work/jaeger.yaml" <<EOF
service:
  extensions: [jaeger_storage]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter]}
  telemetry: {metrics: {level: none}, logs: {level: warn}}
extensions:
  jaeger_storage:
    backends:
      es:
        elasticsearch:
          server_urls: [$URL]
          version: 8
          # GET / (Jaeger's ping) answers 405 on this node: no health check.
          disable_health_check: true
          create_mappings: true
          indices:
            index_prefix: $jaeger_prefix
            spans: {shards: 1, replicas: 0}
            services: {shards: 1, replicas: 0}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$jaeger_port"}
processors:
  batch:
exporters:
  jaeger_storage_exporter: {trace_storage: es}
EOF
"$peers/jaeger" --config "$work/jaeger.yaml" 2>"$work/jaeger.log" &
jaeger_pid=$!
wait_for_port "$jaeger_port" "$jaeger_pid" "$work/jaeger.log"
read -r j_cpu j_wall j_stored j_rss < <(measure "$jaeger_pid" "$jaeger_port" "$jaeger_prefix-")
kill "$jaeger_pid"
wait "$jaeger_pid" || true

# Sluice, release build, default pipeline settings unless SLUICE_RUN_ARGS says otherwise.
sluice_prefix=bench-sluice-$run
sluice_port=$(free_port)
# shellcheck disable=SC2086 # SLUICE_RUN_ARGS is a list of flags
target/release/sluice run --api.enabled false ${SLUICE_RUN_ARGS:-} -e "
input { otlp { host => \"127.0.0.1\" grpc_port => $sluice_port http_port => 0 } }
output { elasticsearch { hosts => [\"$URL\"] schema => jaeger index_prefix => \"$sluice_prefix\"
  span_shards => 1 span_replicas => 0 service_shards => 1 service_replicas => 0 } }" \
    2>"$work/sluice.log" &
sluice_pid=$!
wait_for_port "$sluice_port" "$sluice_pid" "$work/sluice.log"
read -r s_cpu s_wall s_stored s_rss < <(measure "$sluice_pid" "$sluice_port" "$sluice_prefix-")
kill -TERM "$sluice_pid"
wait "$sluice_pid" || true

python3 - "$SPANS" "$WORKERS" "$TRACES" "$j_cpu" "$j_wall" "$j_stored" "$j_rss" \
    "$s_cpu" "$s_wall" "$s_stored" "$s_rss" "$(cut -d' ' -f1-3 /proc/loadavg)" "$RATE" <<'EOF'
import sys
spans, workers, traces = map(int, sys.argv[1:4])
rows = {}
for name, args in (("Jaeger v2.13", sys.argv[4:8]), ("Sluice", sys.argv[8:12])):
    cpu, wall, stored, rss = float(args[0]), float(args[1]), int(args[2]), int(args[3])
    rows[name] = cpu
    print(f"{name:13} CPU {cpu:6.1f} s = {1e5 * cpu / spans:5.2f} s per 100 k spans, "
          f"peak RSS {rss} MiB, wall {wall:5.1f} s ({spans / wall:,.0f} spans/s), "
          f"in Elasticsearch {stored}/{spans} ({100 * stored / spans:.1f} %)")
print(f"load: telemetrygen traces, {workers} workers x {traces} traces x 2 spans, "
      f"{sys.argv[13]} spans/s per worker, OTLP gRPC; "
      f"load average at the end {sys.argv[12]}")
print(f"Jaeger's CPU-seconds per span over Sluice's: {rows['Jaeger v2.13'] / rows['Sluice']:.2f}x")
EOF
curl -fsS -XDELETE "$URL/$jaeger_prefix-jaeger-*,$sluice_prefix-jaeger-*" >/dev/null
