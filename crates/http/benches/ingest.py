#!/usr/bin/env python3
"""Ingest a whole log through POST /v1/events in batches under a byte budget, on one
keep-alive connection, and report events/s (server time as the client sees it).

    python3 ingest.py LOG.gz [HOST:PORT] [BATCH_BYTES] [TOKEN] [FORMAT] [REPEAT]

TOKEN: an ingest or admin token (ingest needs one unless server.open_ingest).
FORMAT: cowrie (default) or zeek. A Zeek ASCII log's header lines (`#...` before its first
record) are sent at the head of every batch (sent as text/plain), as a Zeek shipper must.
REPEAT: send the log this many times, each copy's times shifted by one more day (Zeek ASCII
logs only: `ts` is the first column), to measure on more records than one small log holds.

Stdlib only. The log is read and cut into batches before the clock starts.
"""
import gzip
import http.client
import json
import sys
import time


def read_lines(path, repeat):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        lines = f.readlines()
    header = []
    for line in lines:
        if not line.startswith(b"#"):
            break
        header.append(line)
    records = [l for l in lines if not l.startswith(b"#")]
    out = list(records)
    for k in range(1, repeat):
        for line in records:
            ts, rest = line.split(b"\t", 1)
            out.append(b"%.6f\t" % (float(ts) + 86400 * k) + rest)
    return b"".join(header), out


def batches(path, limit, repeat):
    header, lines = read_lines(path, repeat)
    batch, size = [], len(header)
    for line in lines:
        if size + len(line) > limit and batch:
            yield header + b"".join(batch), len(batch)
            batch, size = [], len(header)
        batch.append(line)
        size += len(line)
    if batch:
        yield header + b"".join(batch), len(batch)


def main():
    path = sys.argv[1]
    host, port = (sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1:18091").split(":")
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else (1 << 20) - 4096
    fmt = sys.argv[5] if len(sys.argv) > 5 else "cowrie"
    repeat = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    ctype = "text/plain" if fmt == "zeek" else "application/x-ndjson"
    todo = list(batches(path, limit, repeat))
    conn = http.client.HTTPConnection(host, int(port))
    accepted = lines = 0
    start = time.perf_counter()
    for body, n in todo:
        conn.request("POST", f"/v1/events?format={fmt}", body,
                     {"Content-Type": ctype, **({"Authorization": "Bearer " + sys.argv[4]} if len(sys.argv) > 4 else {})})
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
