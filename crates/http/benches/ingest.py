#!/usr/bin/env python3
"""Ingest a whole Cowrie log through POST /v1/events in batches under a byte budget, on one
keep-alive connection, and report events/s (server time as the client sees it).

    python3 ingest.py LOG.json.gz [HOST:PORT] [BATCH_BYTES] [TOKEN]

TOKEN: an ingest or admin token (ingest needs one unless server.open_ingest).

Stdlib only. The log is read and cut into batches before the clock starts.
"""
import gzip
import http.client
import json
import sys
import time


def batches(path, limit):
    opener = gzip.open if path.endswith(".gz") else open
    batch, size = [], 0
    with opener(path, "rb") as f:
        for line in f:
            if size + len(line) > limit and batch:
                yield b"".join(batch), len(batch)
                batch, size = [], 0
            batch.append(line)
            size += len(line)
    if batch:
        yield b"".join(batch), len(batch)


def main():
    path = sys.argv[1]
    host, port = (sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1:18091").split(":")
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else (1 << 20) - 4096
    todo = list(batches(path, limit))
    conn = http.client.HTTPConnection(host, int(port))
    accepted = lines = 0
    start = time.perf_counter()
    for body, n in todo:
        conn.request("POST", "/v1/events?format=cowrie", body,
                     {"Content-Type": "application/x-ndjson", **({"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 else {})})
        reply = conn.getresponse()
        data = reply.read()
        if reply.status != 200:
            sys.exit(f"HTTP {reply.status}: {data[:300]!r}")
        accepted += json.loads(data)["accepted"]
        lines += n
    seconds = time.perf_counter() - start
    print(f"{len(todo)} batches, {lines} lines, {accepted} events accepted in {seconds:.2f} s: "
          f"{accepted / seconds:,.0f} events/s")


if __name__ == "__main__":
    main()
