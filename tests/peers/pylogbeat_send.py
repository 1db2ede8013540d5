"""Sends Filebeat-shaped events to a Beats input with pylogbeat, the real Python client.

Usage: pylogbeat_send.py HOST PORT WINDOWS EVENTS_PER_WINDOW
           [--timeout SECONDS] [--ca CA.pem] [--cert CERT.pem --key KEY.pem]

All windows go over one connection (pylogbeat compresses each one and keeps counting
sequence numbers across windows). `--ca` turns TLS on with server verification;
`--cert`/`--key` add a client certificate.

Prints one JSON line per window once it is ACKed (flushed at once, so a caller sees what was
ACKed even if the connection dies later), then one summary line. On an error the summary has
`"error"` and the exit status is 1. Event `n` (from 0) has `log.offset` n, so a reader can
check exactly which events arrived.
"""

import argparse
import json
import sys
import time

from pylogbeat import PyLogBeatClient


class CountingClient(PyLogBeatClient):
    """pylogbeat itself, counting the ACK 0 keep-alives it reads while waiting for a window."""

    keepalives = 0

    def _read_ack(self):
        super()._read_ack()
        if self._last_ack == 0:
            self.keepalives += 1


def event(n):
    seconds, millis = divmod(n, 1000)
    minutes, seconds = divmod(seconds, 60)
    return {
        "@timestamp": f"2026-11-24T10:{minutes % 60:02}:{seconds:02}.{millis:03}Z",
        "@metadata": {"beat": "filebeat", "type": "_doc", "version": "7.17.29"},
        "message": f"pylogbeat event {n}",
        "host": {"name": "pyhost"},
        "agent": {"id": "5b7f0b3c-1f4e-4a4e-9d51-4a1c0b7e2a10", "type": "filebeat"},
        "log": {"file": {"path": "/var/log/app/app.log"}, "offset": n},
        "fields": {"service": "checkout"},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("windows", type=int)
    parser.add_argument("events_per_window", type=int)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    client = CountingClient(
        args.host,
        args.port,
        timeout=args.timeout,
        ssl_enable=args.ca is not None,
        ssl_verify=True,
        ca_certs=args.ca,
        certfile=args.cert,
        keyfile=args.key,
    )
    acked_events = 0
    summary = {}
    try:
        with client:
            for window in range(args.windows):
                first = window * args.events_per_window
                events = [event(n) for n in range(first, first + args.events_per_window)]
                started = time.monotonic()
                client.send(events)
                acked_events += len(events)
                print(
                    json.dumps(
                        {
                            "window": window,
                            "first_offset": first,
                            "events": len(events),
                            "last_seq": client._sequence,
                            "ack_seconds": round(time.monotonic() - started, 3),
                        }
                    ),
                    flush=True,
                )
    except Exception as exc:  # any failure is reported to the test, which decides
        summary["error"] = f"{type(exc).__name__}: {exc}"
    summary.update(
        {
            "windows": args.windows,
            "events_per_window": args.events_per_window,
            "acked_events": acked_events,
            "keepalives": client.keepalives,
        }
    )
    print(json.dumps(summary), flush=True)
    return 1 if "error" in summary else 0


if __name__ == "__main__":
    sys.exit(main())
