#!/usr/bin/env bash
# The real-log checks of docs/BENCHMARKS.md for one bootstrap seed: a champion bootstrapped
# the way the server does at first start (3,000 simulated entities, difficulty 1, seed SEED)
# into OUT/var/registry, then `vigil-eval realcheck` on the labelled Zeek day, the three
# Cowrie logs and the four T-Pot logs; prints one summary line per log (the Markdown and
# JSON are in OUT).
#
#   tools/realchecks.sh SEED [OUT]        (OUT defaults to /tmp/realcheck-SEED)
#
# Run from the checkout, with ../shared beside it; builds the dev profile first.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:?usage: tools/realchecks.sh SEED [OUT]}
out=${2:-/tmp/realcheck-$seed}
shared=../shared/datasets
rm -rf "$out" && mkdir -p "$out/var"
printf '[learning.bootstrap]\nseed = %s\n' "$seed" > "$out/vigil.toml"
cargo build -q -p vigil-eval && cargo build -q -p vigil-engine --example embed
VIGIL_CONFIG="$out/vigil.toml" ./target/debug/examples/embed "$out/var/registry" \
  "$shared/cowrie/cowrie_scriptzteam_2017-11-15_partial.json.gz" > "$out/embed.tsv" 2> "$out/embed.log"
check() { # NAME FORMAT LOG
  ./target/debug/vigil-eval realcheck --format "$2" --input "$3" --registry "$out/var/registry" \
    --config "$out/vigil.toml" --json "$out/$1.json" > "$out/$1.md"
  python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
cells = " ".join("%s %d/%d" % (a["class"], a["agreeing"], a["sources"]) for a in c["agreement"])
print("%s: %s; called Normal %.1f%% of %d" % (sys.argv[2], cells, 100 * c["normal_share"], c["sources"]))
' "$out/$1.json" "$1"
}
check zeek-008 zeek "$shared/zeek/stratosphere_008-zeek-mixed_conn.log.labeled.gz"
for log in kareiva_2018-05-06_to_2018-07-02 scriptzteam_2017-11-04 scriptzteam_2017-11-15_partial; do
  check "$log" cowrie "$shared/cowrie/cowrie_$log.json.gz"
done
for sensor in tanner elasticpot adbhoney; do
  check "$sensor" "$sensor" "$shared/tpot/${sensor}_sweetie-tpot_rotations30-16.json.gz"
done
check heralding heralding "$shared/tpot/heralding_sweetie-tpot_rotations25-22.json.gz"
