#!/usr/bin/env bash
# Sparse embedding step at 1M rows vs 10k rows (issue #7's target: ≤ 1.5×), measured robustly
# on a noisy machine: N alternating pairs of separate processes (10k, then 1M), each timing
# 40 steps × 9 epochs (8 timed: the first is left out) of `burnrec bench embedding --modes sparse`; prints every step time,
# the median of each size and the ratio of the medians.
#
# Usage: scripts/embedding_ratio.sh [DIM] [N] [BACKEND]     (defaults: 32 7 flex)
# Needs a release build: cargo build --release -p burnrec-runner
set -euo pipefail
BIN=${BURNREC:-target/release/burnrec}
DIM=${1:-32}; N=${2:-7}; BACKEND=${3:-flex}
for _ in $(seq "$N"); do
  for rows in 10000 1000000; do
    "$BIN" bench embedding --rows "$rows" --dim "$DIM" --modes sparse --steps 40 --repeats 9 --backend "$BACKEND" --json 2>/dev/null \
      | python3 -c "import json,sys; r=json.load(sys.stdin)[0]; print(r['rows'], r['step_s'])"
  done
done | python3 -c "
import sys, statistics as st
v = {}
for line in sys.stdin:
    rows, s = line.split()
    v.setdefault(int(rows), []).append(float(s))
a, b = v[10000], v[1000000]
print('backend $BACKEND, d $DIM: step ms at 10k rows', [round(x * 1e3, 2) for x in a], '| at 1M rows', [round(x * 1e3, 2) for x in b])
print('median %.3f ms vs %.3f ms: ratio of medians %.2f; pairwise ratios %s' % (st.median(a) * 1e3, st.median(b) * 1e3, st.median(b) / st.median(a), [round(y / x, 2) for x, y in zip(a, b)]))
"
