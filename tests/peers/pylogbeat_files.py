"""Ships log files to a Beats input the way Filebeat's `log` input would, with pylogbeat, the
real Python Lumberjack v2 client, over one connection.

Usage: pylogbeat_files.py HOST PORT [--window N] [--fields-under-root] [--timeout SECONDS]
           [--seed N] STREAM...

Each STREAM is `FILE,SERVICE,HOST_NAME,PATH`: the lines of FILE, as Filebeat on HOST_NAME
would read them from PATH with `fields: {service: SERVICE}` (at the root with
`--fields-under-root`, as the seed's filebeat.yml has it). Like Filebeat, a line ends at
`\\n` (a `\\r` before it is dropped), empty lines and a last line without `\\n` are not sent,
and bytes that are not UTF-8 become U+FFFD. `log.offset` is the line's byte offset.

The streams' lines are interleaved (each stream's in order; `--seed` picks the mix) into
windows of `--window` events. One JSON line is printed per window once it is ACKed, flushed at
once, then a summary; on an error the summary has `"error"` and the exit status is 1.
"""

import argparse
import datetime
import json
import random
import sys
import time
import uuid

from pylogbeat import PyLogBeatClient


def lines_of(path):
    """(offset, text) for every line Filebeat would ship from `path`."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return out  # a line still being written is not shipped
        raw = data[start:end]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if raw:
            out.append((start, raw.decode("utf-8", errors="replace")))
        start = end + 1


def event(stream, offset, message, fields_under_root):
    service, host, path = stream
    agent_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, host))
    doc = {
        "@timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "@metadata": {"beat": "filebeat", "type": "_doc", "version": "8.19.0"},
        "message": message,
        "log": {"file": {"path": path}, "offset": offset},
        "input": {"type": "log"},
        "ecs": {"version": "8.0.0"},
        "host": {"name": host, "hostname": host},
        "agent": {"type": "filebeat", "version": "8.19.0", "id": agent_id, "name": host},
    }
    if fields_under_root:
        doc["service"] = service
    else:
        doc["fields"] = {"service": service}
    return doc


def interleave(streams, rng):
    """Every stream's lines, mixed in runs of 1–20 lines, each stream's order kept."""
    cursors = [0] * len(streams)
    live = [i for i, (_, lines) in enumerate(streams) if lines]
    while live:
        i = rng.choice(live)
        meta, lines = streams[i]
        run = rng.randint(1, 20)
        for offset, text in lines[cursors[i] : cursors[i] + run]:
            yield meta, offset, text
        cursors[i] += run
        if cursors[i] >= len(lines):
            live.remove(i)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("streams", nargs="+")
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--fields-under-root", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    streams = []
    for spec in args.streams:
        file, service, host, path = spec.split(",", 3)
        streams.append(((service, host, path), lines_of(file)))
    events = [
        event(meta, offset, text, args.fields_under_root)
        for meta, offset, text in interleave(streams, random.Random(args.seed))
    ]

    client = PyLogBeatClient(args.host, args.port, timeout=args.timeout)
    summary = {"events": len(events), "acked_events": 0}
    try:
        with client:
            for window, first in enumerate(range(0, len(events), args.window)):
                batch = events[first : first + args.window]
                client.send(batch)
                summary["acked_events"] += len(batch)
                print(json.dumps({"window": window, "events": len(batch), "at": time.time()}), flush=True)
    except Exception as exc:  # reported to the test, which decides
        summary["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(summary), flush=True)
    return 1 if "error" in summary else 0


if __name__ == "__main__":
    sys.exit(main())
