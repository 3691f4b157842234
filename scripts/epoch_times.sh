#!/usr/bin/env bash
# Per-epoch training time of Burn biased MF (ML-100K official folds, 64 factors, batch 1024,
# 20 epochs — the peers' torch_bench.py setting) and NeuMF (ML-100K leave-one-out, paper
# defaults: batch 256 samples, 4 negatives, 20 epochs) on each CPU backend. Run on a quiet
# machine (no cargo build): seconds = fit_s / 20 (fit_s = mean over folds for MF).
#
# Usage: scripts/epoch_times.sh [ML100K_DIR] [BACKENDS...]   (default: ../shared/datasets/ml-100k flex ndarray)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-../shared/datasets/ml-100k}
shift || true
backends=${*:-flex ndarray}
bin=target/release/burnrec
[ -x "$bin" ] || cargo build --release -p burnrec-runner
out=$(mktemp -d)
echo "| model | backend | s / epoch | fit s (20 epochs) |"
echo "| --- | --- | ---: | ---: |"
for b in $backends; do
  "$bin" compare --quiet --backend "$b" --dataset "ml-100k:$dir" --split official-5fold --models burn-mf --json "$out/mf-$b.json" >/dev/null 2>&1
  "$bin" compare --quiet --backend "$b" --dataset "ml-100k:$dir" --split leave-one-out --protocol full --models neumf --json "$out/neumf-$b.json" >/dev/null 2>&1
  for m in mf neumf; do
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))[0]; print(f\"| {r['model']} | {r['backend']} | {r['fit_s']/20:.3f} | {r['fit_s']:.2f} |\")" "$out/$m-$b.json"
  done
done
