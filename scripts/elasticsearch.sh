#!/usr/bin/env bash
# Starts and stops a real Elasticsearch 8.19.21 on 127.0.0.1 for tests and local runs.
#
#   scripts/elasticsearch.sh start [1|3]   start one node or a three-node cluster, wait for it, print URLs
#   scripts/elasticsearch.sh stop          stop every node of this run directory
#   scripts/elasticsearch.sh status        print the URL of each running node and the cluster health
#
# The distribution is Elastic's "integ-test" zip from Maven Central, fetched once with
# `mvn dependency:copy` into the cache and unpacked once into the run directory (it has no
# bundled JDK; it runs on the machine's Java 17 through ES_JAVA_HOME). Elasticsearch refuses to
# run as root, so the nodes run as the unprivileged user `es`, created if missing.
#
# Environment:
#   SLUICE_CACHE            download cache (default $HOME/.cache/sluice)
#   SLUICE_ES_RUN           distribution, node configs, data and logs (default /tmp/sluice-es)
#   SLUICE_ES_PORT          HTTP port of node 1; node i listens on PORT+i-1 (default 9200)
#   SLUICE_ES_TRANSPORT_PORT  transport port of node 1, likewise (default 9300)
#   SLUICE_ES_WRITE_QUEUE   if set, every node gets `thread_pool.write.size: 1` and this
#                           `thread_pool.write.queue_size`: a node that answers some bulk items
#                           with 429 es_rejected_execution_exception (0: all of them, 1: some)
#   SLUICE_ES_MAX_CONTENT   if set, `http.max_content_length` (e.g. 1mb): larger requests get 413
#   SLUICE_ES_SECURE        if set, security on: HTTPS with a certificate signed by a CA made
#                           for the run directory ($SLUICE_ES_RUN/certs/ca.pem; the node's
#                           certificate names 127.0.0.1 and localhost) and the user `elastic`
#                           with password $SLUICE_ES_PASSWORD (default sluice-test-pw)
#   SLUICE_ES_HEAP          JVM heap (default 512m)
set -euo pipefail

VERSION=8.19.21
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
RUN=${SLUICE_ES_RUN:-/tmp/sluice-es}
PORT=${SLUICE_ES_PORT:-9200}
TPORT=${SLUICE_ES_TRANSPORT_PORT:-9300}
HEAP=${SLUICE_ES_HEAP:-512m}
DIST="$RUN/elasticsearch-$VERSION"
ES_USER=es
SECURE=${SLUICE_ES_SECURE:-}
PASSWORD=${SLUICE_ES_PASSWORD:-sluice-test-pw}
CERTS="$RUN/certs"

log() { echo "elasticsearch.sh: $*" >&2; }

as_es() {
    if [ "$(id -u)" = 0 ]; then
        su "$ES_USER" -s /bin/bash -c "$1"
    else
        bash -c "$1"
    fi
}

ensure_user() {
    [ "$(id -u)" = 0 ] || return 0
    id "$ES_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$ES_USER"
}

ensure_distribution() {
    local zip="$CACHE/elasticsearch-$VERSION.zip"
    if [ ! -s "$zip" ]; then
        mkdir -p "$CACHE"
        log "fetching Elasticsearch $VERSION from Maven Central into $CACHE"
        mvn -q -B dependency:copy \
            -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$VERSION:zip" \
            -DoutputDirectory="$CACHE" >&2
    fi
    if [ ! -x "$DIST/bin/elasticsearch" ]; then
        mkdir -p "$RUN"
        rm -rf "$DIST.partial"
        mkdir -p "$DIST.partial"
        unzip -q "$zip" -d "$DIST.partial"
        mv "$DIST.partial/elasticsearch-$VERSION" "$DIST"
        rmdir "$DIST.partial"
    fi
    if [ "$(id -u)" = 0 ]; then
        chown -R "$ES_USER:" "$RUN"
        # The user `es` must be able to reach the run directory through its parents.
        chmod o+x "$RUN"
    fi
}

node_url() {
    if [ -n "$SECURE" ]; then
        echo "https://127.0.0.1:$((PORT + $1 - 1))"
    else
        echo "http://127.0.0.1:$((PORT + $1 - 1))"
    fi
}

# curl as a client of this cluster: trusting its CA and logged in when security is on.
es_curl() {
    if [ -n "$SECURE" ]; then
        curl --cacert "$CERTS/ca.pem" -u "elastic:$PASSWORD" "$@"
    else
        curl "$@"
    fi
}

# A CA and a certificate for 127.0.0.1/localhost, made once per run directory.
ensure_certs() {
    [ -s "$CERTS/node.pem" ] && return 0
    mkdir -p "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=sluice test CA" \
        -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$CERTS/node.key" -out "$CERTS/node.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$CERTS/san.ext"
    openssl x509 -req -in "$CERTS/node.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
        -CAcreateserial -days 3650 -extfile "$CERTS/san.ext" -out "$CERTS/node.pem" 2>/dev/null
    chmod 644 "$CERTS"/*
}

node_running() {
    local pidfile="$RUN/n$1/es.pid"
    [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

write_config() {
    local i=$1 count=$2 dir="$RUN/n$1"
    mkdir -p "$dir/data" "$dir/logs"
    rm -rf "$dir/config"
    cp -r "$DIST/config" "$dir/config"
    {
        echo "cluster.name: sluice-test"
        echo "node.name: n$i"
        echo "network.host: 127.0.0.1"
        echo "http.port: $((PORT + i - 1))"
        echo "transport.port: $((TPORT + i - 1))"
        if [ -n "$SECURE" ]; then
            echo "xpack.security.enabled: true"
            echo "xpack.security.http.ssl.enabled: true"
            echo "xpack.security.http.ssl.certificate: certs/node.pem"
            echo "xpack.security.http.ssl.key: certs/node.key"
            echo "xpack.security.transport.ssl.enabled: false"
        else
            echo "xpack.security.enabled: false"
        fi
        echo "path.data: $dir/data"
        echo "path.logs: $dir/logs"
        echo "action.destructive_requires_name: false"
        # These nodes share a disk with builds and other clusters, and the disk's reserved
        # space counts as used: the watermarks would refuse new shards (a red cluster) on a
        # machine with gigabytes free. Tests that need the flood-stage block set it themselves.
        echo "cluster.routing.allocation.disk.threshold_enabled: false"
        if [ "$count" = 1 ]; then
            echo "discovery.type: single-node"
        else
            local seeds="" names="" j
            for j in $(seq 1 "$count"); do
                seeds="$seeds${seeds:+, }\"127.0.0.1:$((TPORT + j - 1))\""
                names="$names${names:+, }\"n$j\""
            done
            echo "discovery.seed_hosts: [$seeds]"
            echo "cluster.initial_master_nodes: [$names]"
        fi
        if [ -n "${SLUICE_ES_WRITE_QUEUE:-}" ]; then
            echo "thread_pool.write.size: 1"
            echo "thread_pool.write.queue_size: $SLUICE_ES_WRITE_QUEUE"
        fi
        if [ -n "${SLUICE_ES_MAX_CONTENT:-}" ]; then
            echo "http.max_content_length: $SLUICE_ES_MAX_CONTENT"
        fi
    } >>"$dir/config/elasticsearch.yml"
    sed -i "s/^-Xms.*/-Xms$HEAP/; s/^-Xmx.*/-Xmx$HEAP/" "$dir/config/jvm.options" 2>/dev/null || true
    if [ -n "$SECURE" ]; then
        mkdir -p "$dir/config/certs"
        cp "$CERTS/node.pem" "$CERTS/node.key" "$CERTS/ca.pem" "$dir/config/certs/"
    fi
    [ "$(id -u)" = 0 ] && chown -R "$ES_USER:" "$dir"
    if [ -n "$SECURE" ]; then
        # The built-in user `elastic` starts with the keystore's bootstrap password.
        as_es "cd '$DIST' && ES_PATH_CONF='$dir/config' ES_JAVA_HOME='$(java_home)' \
            ./bin/elasticsearch-keystore create >/dev/null 2>&1; \
            printf '%s' '$PASSWORD' | ES_PATH_CONF='$dir/config' ES_JAVA_HOME='$(java_home)' \
            ./bin/elasticsearch-keystore add -x -f bootstrap.password >/dev/null"
    fi
    return 0
}

java_home() { dirname "$(dirname "$(readlink -f "$(command -v java)")")"; }

start_node() {
    local i=$1 dir="$RUN/n$1" java_home
    java_home=$(java_home)
    # -d daemonizes; the launcher returns once the node has started (or failed to).
    as_es "cd '$DIST' && ES_PATH_CONF='$dir/config' ES_JAVA_HOME='$java_home' \
        ES_JAVA_OPTS='-Xms$HEAP -Xmx$HEAP' ./bin/elasticsearch -d -p '$dir/es.pid' \
        >'$dir/launcher.log' 2>&1" 9>&- &
}

wait_health() {
    local url=$1 deadline=$((SECONDS + 180)) health
    while [ $SECONDS -lt $deadline ]; do
        health=$(es_curl -fsS "$url/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null || true)
        case "$health" in
        *'"status":"green"'* | *'"status":"yellow"'*) return 0 ;;
        esac
        sleep 1
    done
    log "no green/yellow at $url after 180 s; logs in $RUN/n*/logs"
    return 1
}

cmd_start() {
    local count=${1:-1} i
    case "$count" in 1 | 3) ;; *) log "start takes 1 or 3 nodes"; exit 2 ;; esac
    # Test binaries (and several checkouts' tests) start the same node at once; one start at a
    # time, or a second one sees the node up while the first has not yet recorded its shape.
    # The nodes must not inherit the lock (start_node closes it for them).
    mkdir -p "$RUN"
    exec 9>>"$RUN/start.lock"
    flock 9
    if node_running 1 && [ "$(cat "$RUN/nodes" 2>/dev/null)" != "$count" ]; then
        log "a cluster of another shape is running in $RUN; stop it first"
        exit 1
    fi
    ensure_user
    ensure_distribution
    if [ -n "$SECURE" ]; then
        ensure_certs
        [ "$(id -u)" = 0 ] && chown -R "$ES_USER:" "$CERTS"
    fi
    if [ "$(cat "$RUN/nodes" 2>/dev/null)" != "$count" ]; then
        # A node's data holds its cluster's identity: a single node cannot join a new
        # three-node cluster (nor the reverse), and a half-formed cluster leaves votes behind
        # that block the next bootstrap: anything but a cluster of this shape that reached
        # health starts from empty data.
        rm -rf "$RUN"/n[123]/data
        rm -f "$RUN/nodes"
    fi
    for i in $(seq 1 "$count"); do
        if node_running "$i"; then
            continue
        fi
        write_config "$i" "$count"
        start_node "$i"
    done
    wait
    for i in $(seq 1 "$count"); do
        wait_health "$(node_url "$i")"
    done
    echo "$count" >"$RUN/nodes"
    for i in $(seq 1 "$count"); do
        node_url "$i"
    done
}

cmd_stop() {
    local i pid
    for i in 1 2 3; do
        [ -s "$RUN/n$i/es.pid" ] || continue
        pid=$(cat "$RUN/n$i/es.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 1 60); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.5
            done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        fi
        rm -f "$RUN/n$i/es.pid"
    done
    return 0
}

cmd_status() {
    local i any=1
    for i in 1 2 3; do
        if node_running "$i"; then
            any=0
            node_url "$i"
        fi
    done
    if [ $any = 0 ]; then
        es_curl -fsS "$(node_url 1)/_cluster/health" 2>/dev/null || true
        echo
    else
        log "no node running in $RUN"
    fi
    return $any
}

case "${1:-}" in
start) cmd_start "${2:-1}" ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    echo "usage: $0 start [1|3] | stop | status" >&2
    exit 2
    ;;
esac
