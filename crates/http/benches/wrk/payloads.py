"""Writes the load-test payloads of ../README.md into the current directory:
score100.json / lines100.ndjson (the first 100 events of the busiest source of a real Cowrie
log, 91.195.103.212), score10.json (its next 10 events) and compact10.json (10 compact
login failures)."""
import gzip, json, sys

log = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/cowrie/cowrie_scriptzteam_2017-11-04.json.gz"
events = [json.loads(l) for l in gzip.open(log, "rt")]
mine = [e for e in events if e.get("src_ip") == "91.195.103.212"]
json.dump({"events": mine[:100], "format": "cowrie"}, open("score100.json", "w"))
open("lines100.ndjson", "w").write("".join(json.dumps(e) + "\n" for e in mine[:100]))
json.dump({"events": mine[100:110], "format": "cowrie"}, open("score10.json", "w"))
compact = [{"eventid": "cowrie.login.failed", "timestamp": "2018-05-06T22:%02d:%02dZ" % (i // 60, i % 60),
            "src_ip": "203.0.113.7", "session": "a1", "username": "root", "password": "pw%d" % i}
           for i in range(10)]
json.dump({"events": compact, "format": "cowrie"}, open("compact10.json", "w"))
