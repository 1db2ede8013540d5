#!/usr/bin/env bash
# End-to-end throughput of the real binary into a real Elasticsearch on this machine:
# `sluice run` with the generator (access-log lines), grok, and the elasticsearch output
# (defaults: gzip level 1, 4 requests in flight) into a plain one-node Elasticsearch 8.19.21
# (1 GiB heap) started by scripts/elasticsearch.sh in its own run directory. A measurement,
# not a test: it prints events/s and the CPU seconds each process spent over the run —
# Elasticsearch's from /proc/<pid>/stat before and after, Sluice's from its rusage — and the
# share of the machine's CPU time each took.
#
#   scripts/bench-es-e2e.sh [EVENTS]        (default 300000)
#
# The node is left running for the next run (SLUICE_ES_RUN=/tmp/sluice-es-bench
# scripts/elasticsearch.sh stop ends it).
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${1:-300000}
export SLUICE_ES_RUN=/tmp/sluice-es-bench SLUICE_ES_PORT=9270 SLUICE_ES_TRANSPORT_PORT=9370
export SLUICE_ES_HEAP=1g
URL=http://127.0.0.1:$SLUICE_ES_PORT

scripts/elasticsearch.sh start 1 >/dev/null
# The disk is shared with every build on the machine: past Elasticsearch's low watermark (85 %)
# a new index's shards are never allocated and the run would wait forever.
curl -fsS -XPUT "$URL/_cluster/settings" -H 'Content-Type: application/json' \
    -d '{"persistent":{"cluster.routing.allocation.disk.threshold_enabled":false}}' >/dev/null
cargo build --release --quiet --bin sluice
es_pid=$(cat "$SLUICE_ES_RUN/n1/es.pid")
index=sluice-bench-$(date +%s)

# shellcheck source=scripts/proc-stats.sh
. scripts/proc-stats.sh

config=$(cat <<EOF
input { generator { count => $EVENTS lines => [
  '2026-11-24T16:17:54.123Z INFO [uvicorn.access] 10.42.0.17 - "GET /api/v1/manga/4411/chapters?page=2 HTTP/1.1" 200 5120 37ms',
  '2026-11-24T16:17:54.130Z WARN [uvicorn.access] 10.42.3.201 - "POST /api/v1/auth/refresh HTTP/1.1" 401 312 4ms',
  '2026-11-24T16:17:54.131Z INFO [uvicorn.access] 10.42.1.9 - "GET /api/v1/search?q=one%20piece&limit=50 HTTP/1.1" 200 48211 212ms'
] add_field => { "[agent][type]" => "filebeat" "[agent][version]" => "7.17.29"
                 "[log][file][path]" => "/var/log/mangakai/access.log" "service" => "mangakai-backend" } } }
filter { grok { match => { "message" => '%{TIMESTAMP_ISO8601:ts} %{LOGLEVEL:level} \[%{DATA:logger}\] %{IP:client_ip} - "%{WORD:method} %{NOTSPACE:path} HTTP/%{NUMBER:http_version}" %{NUMBER:status:int} %{NUMBER:bytes:int} %{NUMBER:duration_ms:int}ms' } } }
output { elasticsearch { hosts => ["$URL"] index => "$index-%{+YYYY.MM.dd}" template_name => "$index" } }
EOF
)

es_before=$(cpu "$es_pid")
start=$(date +%s.%N)
TIMEFORMAT='%U %S'
sluice_cpu=$({ time target/release/sluice run --api.enabled false -e "$config" 2>/tmp/sluice-bench-e2e.log; } 2>&1 | awk '{ print $1 + $2 }')
end=$(date +%s.%N)
es_after=$(cpu "$es_pid")

curl -fsS -XPOST "$URL/$index-*/_refresh" >/dev/null
count=$(curl -fsS "$URL/$index-*/_count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
size=$(curl -fsS "$URL/_cat/indices/$index-*?bytes=b&h=store.size" | awk '{ s += $1 } END { print s }')
cores=$(nproc)
python3 - "$EVENTS" "$count" "$start" "$end" "$es_before" "$es_after" "$sluice_cpu" "$cores" "$size" <<'EOF'
import sys
events, count, start, end, es0, es1, sluice, cores, size = sys.argv[1:]
wall = float(end) - float(start)
es = float(es1) - float(es0)
sluice = float(sluice)
machine = wall * int(cores)
print(f"events: {int(events)} sent, {int(count)} in Elasticsearch ({int(size) / int(count):.0f} B stored each)")
print(f"wall: {wall:.1f} s, {int(count) / wall:,.0f} events/s")
print(f"Elasticsearch CPU: {es:.1f} s ({100 * es / machine:.0f} % of the machine's {cores} cores over the run), "
      f"{1e6 * es / int(count):.1f} µs per event")
print(f"Sluice CPU: {sluice:.1f} s ({100 * sluice / machine:.0f} %), {1e6 * sluice / int(count):.1f} µs per event")
print(f"Elasticsearch's share of the two processes' CPU: {100 * es / (es + sluice):.0f} %")
if int(count) != int(events):
    sys.exit("not every event arrived")
EOF
curl -fsS -XDELETE "$URL/$index-*" >/dev/null
