#!/usr/bin/env bash
# Scale-out, proven: two Sluice processes behind one Filebeat with `loadbalance: true`, writing
# to a three-node Elasticsearch, lose a process and a node while a log is shipped, and every
# line still ends up in Elasticsearch exactly once.
#
#   scripts/scale-test.sh            (CI runs it from scripts/test.sh)
#
# - Filebeat 7.17.29 (scripts/filebeat.sh) tails one log of $SLUICE_SCALE_LINES lines (default
#   200 000; `seq=N` in each), written over $SLUICE_SCALE_PACE_SECONDS (default 60) at least,
#   with the output settings of deploy/kubernetes/filebeat/filebeat.yml (loadbalance, 2 workers
#   per host, ttl 60s, pipelining 0, timeout 30s), both Sluices listed.
# - Each Sluice runs the mangakai filters (grok, date) and the Elasticsearch output with all
#   three nodes and `idempotent_ids => true`: the documented recipe for exactly-once behind
#   retries and failover (docs/OPERATIONS.md, "Scaling out").
# - Elasticsearch 8.19.21, three nodes (scripts/elasticsearch.sh start 3) in /tmp/sluice-es-scale,
#   HTTP 9280–9282, transport 9380–9382; the index has 3 shards and 1 replica.
# - At a quarter of the lines one Sluice is killed with SIGKILL and started again a second
#   later; at 55 % the elected Elasticsearch master is killed with SIGKILL (and stays down).
# - At the end `_count` must equal the line count, and a composite aggregation over `seq` must
#   find every line exactly once. Figures printed: wall time, events/s, each Sluice's share
#   (from its /metrics), resends, and the time to recover after each kill.
#
# SLUICE_SCALE_IDEMPOTENT_IDS=false turns the recipe off, to see the exactly-once check fail.
#
# The Sluice binary is the debug build (`cargo build --bin sluice`, which `cargo test` has
# already made in CI); SLUICE_BIN=target/release/sluice measures the release build instead.
# Every process the script started is stopped on exit, failed or not (the cluster too, unless
# SLUICE_SCALE_KEEP_ES is set); on failure the run directory with every log is kept and named.
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${SLUICE_SCALE_LINES:-200000}
PACE_SECONDS=${SLUICE_SCALE_PACE_SECONDS:-60}
SLUICE=${SLUICE_BIN:-target/debug/sluice}
export SLUICE_ES_RUN=/tmp/sluice-es-scale SLUICE_ES_PORT=9280 SLUICE_ES_TRANSPORT_PORT=9380
NODES=(http://127.0.0.1:9280 http://127.0.0.1:9281 http://127.0.0.1:9282)
INDEX=sluice-scale-$(date +%s)
DEADLINE_SECONDS=900

log() { echo "scale-test [${SECONDS}s]: $*" >&2; }
fail() {
    log "FAILED: $*"
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-scale.XXXXXX")
declare -A pid=() # what this script started and has not stopped: Sluices, Filebeat, log writer

cleanup() {
    local status=$? name
    for name in "${!pid[@]}"; do
        kill -9 "${pid[$name]}" 2>/dev/null || true
        wait "${pid[$name]}" 2>/dev/null || true
    done
    # The run directory's data outlives the cluster: leave no index behind.
    es "/$INDEX" -XDELETE >/dev/null || true
    [ -n "${SLUICE_SCALE_KEEP_ES:-}" ] || scripts/elasticsearch.sh stop || true
    if [ $status = 0 ]; then
        rm -rf "$work"
    else
        log "logs kept in $work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }

# A JSON value from stdin: `json 'd["count"]'`.
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A request (curl arguments after the path) to the first node that answers.
es() {
    local path=$1 node
    shift
    for node in "${NODES[@]}"; do
        if curl -fsS --max-time 5 "$@" "$node$path" 2>/dev/null; then
            return 0
        fi
    done
    return 1
}

count() { es "/$INDEX/_count" | json 'd["count"]' 2>/dev/null || echo 0; }

# The sum of a Prometheus series' samples (every label set) in a scrape file; 0 if absent.
metric() {
    [ -f "$3" ] || {
        echo 0
        return
    }
    awk -v name="$1" -v want="${2:-}" '
        index($0, name) == 1 && (want == "" || index($0, want)) { s += $NF }
        END { printf "%d", s }' "$3"
}

# --- peers and binaries ------------------------------------------------------------------------
scripts/filebeat.sh
FILEBEAT=target/peers/bin/filebeat
if [ -z "${SLUICE_BIN:-}" ]; then
    cargo build --quiet --bin sluice
fi
SLUICE=$(realpath "$SLUICE")
log "Elasticsearch: three nodes in $SLUICE_ES_RUN"
started=$(now)
scripts/elasticsearch.sh start 3 >/dev/null
formed=$(since "$started")
log "cluster formed in $formed s"
# The disk is shared with every build on the machine: past the low watermark (85 %) replicas
# would never be allocated.
# Index creation waits for its shards, which can take longer than a query on a busy machine.
es /_cluster/settings -XPUT -H 'Content-Type: application/json' --max-time 70 \
    -d '{"persistent":{"cluster.routing.allocation.disk.threshold_enabled":false}}' >/dev/null ||
    fail "cluster settings refused"
es "/$INDEX" -XPUT -H 'Content-Type: application/json' --max-time 70 -d '{
  "settings": {"number_of_shards": 3, "number_of_replicas": 1},
  "mappings": {"properties": {"seq": {"type": "long"}}}}' >/dev/null ||
    fail "index $INDEX not created"
es "/_cluster/health/$INDEX?wait_for_status=green&timeout=60s" --max-time 70 >/dev/null ||
    fail "index $INDEX not green"

# --- the log ----------------------------------------------------------------------------------
# Written as a service writes it, over $PACE_SECONDS at least, so that on a fast machine the
# faults still fall while lines flow (here, Elasticsearch sets a slower pace).
mkdir -p "$work/logs"
: >"$work/logs/mangakai.log"
write_log() {
    local chunk=$((LINES / (PACE_SECONDS * 2) + 1)) from=0
    while [ $from -lt "$LINES" ]; do
        awk -v from=$from -v to=$((from + chunk < LINES ? from + chunk : LINES)) 'BEGIN {
            for (i = from; i < to; i++)
                printf "2026-11-24T%02d:%02d:%02d.%03dZ INFO api.chapters seq=%d GET /api/v1/manga/%d/chapters?page=%d 200 %dms user=reader-%d\n",
                    int(i / 3600000) % 24, int(i / 60000) % 60, int(i / 1000) % 60, i % 1000, i, i % 977, i % 13, 3 + i % 211, i % 5003
        }' >>"$work/logs/mangakai.log"
        from=$((from + chunk))
        sleep 0.5
    done
}

# --- two Sluices --------------------------------------------------------------------------------
hosts=$(printf '"%s", ' "${NODES[@]}")
cat >"$work/scale.conf" <<EOF
input { beats { host => "127.0.0.1" port => "\${BEATS_PORT}" } }
filter {
  if [fields][service] == "mangakai-backend" {
    grok { match => { "message" => "%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{DATA:logger} seq=%{INT:seq:int} %{GREEDYDATA:request}" } }
    date { match => [ "timestamp", "ISO8601" ] }
  }
}
output {
  elasticsearch {
    hosts => [${hosts%, }]
    index => "$INDEX"
    manage_template => false
    idempotent_ids => ${SLUICE_SCALE_IDEMPOTENT_IDS:-true}
    retry_initial_interval => 1
    retry_max_interval => 4
  }
}
EOF
declare -A beats_port=([a]=$(free_port) [b]=$(free_port))
declare -A api_port=([a]=$(free_port) [b]=$(free_port))
declare -A incarnation=([a]=0 [b]=0)

start_sluice() {
    local name=$1
    incarnation[$name]=$((incarnation[$name] + 1))
    (cd "$work" && BEATS_PORT=${beats_port[$name]} exec "$SLUICE" run \
        --pipeline.id scale --api.http.port "${api_port[$name]}" -f "$work/scale.conf") \
        >>"$work/sluice-$name.log" 2>&1 &
    pid[sluice-$name]=$!
    local deadline=$((SECONDS + 60))
    until curl -fsS "http://127.0.0.1:${api_port[$name]}/ready" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "sluice $name not ready; see $work/sluice-$name.log"
        sleep 0.2
    done
}

# Its /metrics now, into the file of its current incarnation (the last scrape before a kill
# is what that incarnation counted).
scrape() {
    local name=$1
    curl -fsS --max-time 2 "http://127.0.0.1:${api_port[$name]}/metrics" \
        >"$work/metrics.tmp" 2>/dev/null &&
        mv "$work/metrics.tmp" "$work/metrics-$name-${incarnation[$name]}.prom"
    return 0
}

start_sluice a
start_sluice b
log "sluice a on beats port ${beats_port[a]}, b on ${beats_port[b]} ($SLUICE)"

# --- Filebeat -----------------------------------------------------------------------------------
filebeat_http=$(free_port)
mkdir -p "$work/filebeat"
cat >"$work/filebeat/filebeat.yml" <<EOF
filebeat.inputs:
- type: log
  paths: ["$work/logs/mangakai.log"]
  fields:
    service: mangakai-backend
  multiline.pattern: '^\d{4}-\d{2}-\d{2}'
  multiline.negate: true
  multiline.match: after
# The output settings of deploy/kubernetes/filebeat/filebeat.yml, with both Sluices listed.
output.logstash:
  hosts: ["127.0.0.1:${beats_port[a]}", "127.0.0.1:${beats_port[b]}"]
  loadbalance: true
  worker: 2
  ttl: 60s
  pipelining: 0
  timeout: 30s
http:
  enabled: true
  host: 127.0.0.1
  port: $filebeat_http
logging.metrics.enabled: false
EOF
filebeat_stats() { curl -fsS --max-time 2 "http://127.0.0.1:$filebeat_http/stats"; }

started=$(now)
write_log &
pid[log-writer]=$!
"$FILEBEAT" -e --strict.perms=false -c "$work/filebeat/filebeat.yml" \
    --path.home "$work/filebeat" --path.data "$work/filebeat/data" \
    --path.logs "$work/filebeat/logs" >/dev/null 2>"$work/filebeat/stderr.log" &
pid[filebeat]=$!
log "Filebeat 7.17.29 shipping $LINES lines, written over ${PACE_SECONDS} s"

# --- the faults -----------------------------------------------------------------------------------
# Each tick: Elasticsearch's count, both Sluices' metrics, and the next step when its time has
# come. Recovery times are measured from the kill to the first tick that shows the recovery.
sluice_killed="" sluice_back="" es_killed="" es_master="" es_formed="" es_writes_on=""
declare -A taken_at_es_kill=()
# The longest time the count stood still once lines were arriving, and where it moved again.
longest_stall=0 stall_end=0 last_growth="" last_count=0
while :; do
    n=$(count)
    t=$(now)
    if [ "$n" -gt "$last_count" ]; then
        if [ -n "$last_growth" ] && awk -v g="$(since "$last_growth" "$t")" -v l="$longest_stall" 'BEGIN { exit !(g > l) }'; then
            longest_stall=$(since "$last_growth" "$t") stall_end=$last_count
        fi
        last_growth=$t last_count=$n
    fi
    for name in a b; do scrape "$name"; done
    [ "$n" -ge "$LINES" ] && break
    [ "$(since "$started" "$t" | cut -d. -f1)" -lt "$DEADLINE_SECONDS" ] ||
        fail "$n of $LINES lines in Elasticsearch after $DEADLINE_SECONDS s"
    kill -0 "${pid[filebeat]}" 2>/dev/null || fail "Filebeat exited; see $work/filebeat/stderr.log"

    if [ -z "$sluice_killed" ] && [ "$n" -ge $((LINES / 4)) ]; then
        log "kill -9 sluice a at $n lines"
        scrape a
        kill -9 "${pid[sluice-a]}"
        wait "${pid[sluice-a]}" 2>/dev/null || true
        unset 'pid[sluice-a]'
        sluice_killed=$(now)
        sleep 1
        start_sluice a
        log "sluice a started again $(since "$sluice_killed") s after the kill"
    elif [ -n "$sluice_killed" ] && [ -z "$sluice_back" ] &&
        [ "$(metric sluice_elasticsearch_events_total 'result="taken"' "$work/metrics-a-2.prom")" -gt 0 ]; then
        sluice_back=$(since "$sluice_killed" "$t")
        log "sluice a back: its events taken by Elasticsearch ${sluice_back} s after the kill"
    fi

    if [ -z "$es_killed" ] && [ -n "$sluice_back" ] && [ "$n" -ge $((LINES * 55 / 100)) ]; then
        es_master=$(es '/_cat/master?h=node' | tr -d '[:space:]')
        for name in a b; do
            taken_at_es_kill[$name]=$(metric sluice_elasticsearch_events_total 'result="taken"' \
                "$work/metrics-$name-${incarnation[$name]}.prom")
        done
        log "kill -9 Elasticsearch $es_master (the elected master) at $n lines"
        kill -9 "$(cat "$SLUICE_ES_RUN/$es_master/es.pid")"
        es_killed=$(now)
        killed_url=http://127.0.0.1:$((SLUICE_ES_PORT + ${es_master#n} - 1)) survivors=()
        for node in "${NODES[@]}"; do
            [ "$node" = "$killed_url" ] || survivors+=("$node")
        done
        NODES=("${survivors[@]}")
    elif [ -n "$es_killed" ]; then
        if [ -z "$es_formed" ] && es '/_cluster/health' 2>/dev/null |
            json 'd["number_of_nodes"] == 2 and d["status"] in ("yellow", "green")' | grep -q True; then
            es_formed=$(since "$es_killed" "$t")
            log "cluster of two nodes with a new master ${es_formed} s after the kill"
        fi
        if [ -z "$es_writes_on" ]; then
            on=1
            for name in a b; do
                [ "$(metric sluice_elasticsearch_events_total 'result="taken"' \
                    "$work/metrics-$name-${incarnation[$name]}.prom")" -gt "${taken_at_es_kill[$name]}" ] || on=""
            done
            if [ -n "$on" ]; then
                es_writes_on=$(since "$es_killed" "$t")
                log "both Sluices writing again ${es_writes_on} s after the kill"
            fi
        fi
    fi
    sleep 0.5
done
wall=$(since "$started")
log "$LINES lines in Elasticsearch after $wall s"
[ -n "$sluice_back" ] && [ -n "$es_killed" ] ||
    fail "the log was shipped before both faults happened (sluice back: ${sluice_back:-no}, es killed: ${es_killed:+yes}${es_killed:-no})"

# --- exactly once -------------------------------------------------------------------------------
# Filebeat has nothing left in flight, then a few seconds for late resends to land.
deadline=$((SECONDS + 60))
until filebeat_stats | json 'd["libbeat"]["output"]["events"]["active"] == 0 and d["libbeat"]["pipeline"]["events"]["active"] == 0' |
    grep -q True; do
    [ $SECONDS -lt $deadline ] || fail "Filebeat still has events in flight"
    sleep 0.5
done
sleep 3
for name in a b; do scrape "$name"; done
filebeat_stats >"$work/filebeat-stats.json"
es "/$INDEX/_refresh" -XPOST >/dev/null
final=$(count)
# Every seq 0..LINES-1 once: composite aggregation pages, each bucket's doc_count.
python3 - "$LINES" "$INDEX" "${NODES[0]}" "$final" <<'EOF' || fail "not exactly once"
import json, sys, urllib.request
lines, index, node, final = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
seen, twice, after = 0, [], None
expected = 0
missing = []
while True:
    comp = {"size": 10000, "sources": [{"seq": {"terms": {"field": "seq"}}}]}
    if after:
        comp["after"] = after
    body = json.dumps({"size": 0, "track_total_hits": True, "aggs": {"s": {"composite": comp}}}).encode()
    req = urllib.request.Request(f"{node}/{index}/_search", body, {"Content-Type": "application/json"})
    agg = json.load(urllib.request.urlopen(req, timeout=60))["aggregations"]["s"]
    for b in agg["buckets"]:
        seq = b["key"]["seq"]
        if seq != expected:
            missing.extend(range(expected, min(seq, expected + 10)))
        expected = seq + 1
        seen += 1
        if b["doc_count"] != 1:
            twice.append((seq, b["doc_count"]))
    after = agg.get("after_key")
    if not agg["buckets"] or not after:
        break
if expected != lines:
    missing.extend(range(expected, min(lines, expected + 10)))
print(f"scale-test: _count {final}; distinct seq {seen} of {lines}; seq held more than once: {len(twice)}", file=sys.stderr)
if twice or missing or seen != lines or final != lines:
    print(f"scale-test: duplicates (seq, copies) {twice[:10]}; missing (first) {missing[:10]}", file=sys.stderr)
    sys.exit(1)
EOF

# --- figures ----------------------------------------------------------------------------------
decoded() { metric sluice_beats_events_total '' "$1"; }
taken() { metric sluice_elasticsearch_events_total 'result="taken"' "$1"; }
present() { metric sluice_elasticsearch_events_total 'result="already_present"' "$1"; }
a1=$work/metrics-a-1.prom a2=$work/metrics-a-2.prom b1=$work/metrics-b-1.prom
total_decoded=$(($(decoded "$a1") + $(decoded "$a2") + $(decoded "$b1")))
conflicts=$(es "/$INDEX/_stats/indexing" | json 'd["_all"]["primaries"]["indexing"]["index_failed"]')
fb_failed=$(json 'd["libbeat"]["output"]["events"]["failed"]' <"$work/filebeat-stats.json")
fb_acked=$(json 'd["libbeat"]["output"]["events"]["acked"]' <"$work/filebeat-stats.json")
cat <<EOF
== scale-out: $LINES lines, Filebeat 7.17.29 (loadbalance, 2 workers per host) -> 2 Sluice ($SLUICE) -> Elasticsearch 8.19.21 x3
wall time (Filebeat start to last line in ES):   $wall s
events/s overall:                                 $(awk -v n="$LINES" -v w="$wall" 'BEGIN { printf "%.0f", n / w }')
sluice a, first run (killed):  decoded $(decoded "$a1"), taken by ES $(taken "$a1") (last scrape before the kill)
sluice a, second run:          decoded $(decoded "$a2"), taken by ES $(taken "$a2"), of which already there $(present "$a2")
sluice b:                      decoded $(decoded "$b1"), taken by ES $(taken "$b1"), of which already there $(present "$b1")
resends: Sluices decoded $total_decoded events for $LINES lines ($((total_decoded - LINES)) more than once);
         Filebeat counted $fb_failed events in failed windows (acked $fb_acked);
         Sluices found $(($(present "$a1") + $(present "$a2") + $(present "$b1"))) of their creates already written (409: duplicates idempotent ids prevented);
         the indexing stats of the surviving primaries count $conflicts such 409s
recovery, sluice a killed:     its events taken again ${sluice_back} s after the kill (restarted after 1 s)
recovery, ES $es_master (master) killed:  two-node cluster ${es_formed:-?} s, both Sluices writing again ${es_writes_on:-?} s after the kill
longest stall of the ES count: ${longest_stall} s (at $stall_end lines); the cluster took $formed s to form
exactly once: _count $final, every seq once
EOF
log "done"
