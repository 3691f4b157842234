#!/usr/bin/env bash
# Runs the same compare / train / evaluate / recommend / similar commands with a burnrec
# binary and writes every result into OUT (JSON rows, stdout tables), so that two builds
# (before and after a refactor) can be diffed: `diff -r OUT_A OUT_B` after dropping timings.
# Usage: scripts/same_numbers.sh BIN OUT [ML100K_DIR]
# (Neural models run 1–2 epochs, on a k-core of the bundled data, so that a debug build finishes.)
set -euo pipefail
BIN=$1; OUT=$2; ML=${3:-../shared/datasets/ml-100k}
mkdir -p "$OUT"
run() { local name=$1; shift; "$BIN" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || echo "exit $?" >> "$OUT/$name.out"; }
run bundled compare --quiet --epochs 2 --json "$OUT/bundled.json"
run official compare --quiet --dataset "ml-100k:$ML" --split official-5fold --models all-classic --json "$OUT/official.json"
run loo_topn compare --quiet --dataset "ml-100k:$ML" --split leave-one-out --protocol full,sampled --models all-top-n --json "$OUT/loo_topn.json"
run loo_neural compare --quiet --split leave-one-out --protocol full,sampled --models mf,gmf,mlp,neumf,deep-hybrid --epochs 1 --min-item-interactions 20 --json "$OUT/loo_neural.json"
run valid compare --quiet --models burn-mf,mf --epochs 2 --valid-ratio 0.1 --patience 1 --protocol rating,full --min-item-interactions 20 --json "$OUT/valid.json"
run cold compare --quiet --split cold-items --protocol full --models popularity,content,hybrid --json "$OUT/cold.json"
D=$(mktemp -d)
run train_als train --quiet --model als --split leave-one-out --out "$D/als"
run eval_als evaluate --model-dir "$D/als"
run rec_als recommend --model-dir "$D/als" --user 1 -k 10
run hist_als recommend --model-dir "$D/als" --history 1,260,1196 -k 10
run sim_als similar --model-dir "$D/als" --item 1 -k 10
run train_hybrid train --quiet --model hybrid --split leave-one-out --out "$D/hybrid"
run hist_hybrid recommend --model-dir "$D/hybrid" --history 1,260,1196 -k 10
run train_svd train --quiet --model svd --split random --out "$D/svd"
run rec_svd recommend --model-dir "$D/svd" --user 1 -k 10
rm -rf "$D"
# Timings differ from run to run: drop them.
for f in "$OUT"/*.json; do
  python3 - "$f" <<'PY'
import json, sys
p = sys.argv[1]
rows = json.load(open(p))
def clean(r):
    return {k: v for k, v in r.items() if not (k.endswith("_s") or k.endswith("_per_s") or k.endswith("_s_std"))}
for r in rows:
    for k in [k for k in r if k.endswith("_s") or k.endswith("_per_s")]:
        del r[k]
    if "folds" in r:
        r["folds"] = [clean(f) for f in r["folds"]]
json.dump(rows, open(p, "w"), indent=1, sort_keys=True)
PY
done
sed -i -E 's/ in [0-9.]+ s;/ in _ s;/' "$OUT"/*.err
