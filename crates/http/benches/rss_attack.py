#!/usr/bin/env python3
"""Replays issue 11's huge-string attack against a running vigil-server and prints its RSS
before and after: 200 requests, each one Cowrie event carrying a 900 KB command, to one
source. Usage: rss_attack.py PORT TOKEN PID"""
import http.client, json, sys

port, token, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

conn = http.client.HTTPConnection("127.0.0.1", port)
before = rss()
command = "A" * (900 << 10)
for i in range(200):
    body = json.dumps({"eventid": "cowrie.command.input", "timestamp": 1525644000 + i,
                       "src_ip": "203.0.113.70", "session": "s", "input": command})
    conn.request("POST", "/v1/events?format=cowrie", body,
                 {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {token}"})
    r = conn.getresponse(); data = r.read()
    assert r.status == 200, data[:200]
after = rss()
print(f"RSS before {before} MB, after 200 x 900 KB commands {after} MB (+{after - before} MB); "
      f"last answer truncated={json.loads(data)['truncated']}")
