#!/usr/bin/env bash
# Model variants × backends × embedding updates, beside PyTorch in the same run (issue #7,
# docs/benchmarks.md "Model variants"). For ML-100K and ml-latest-small (leave-one-out training
# set), burnrec's burn-mf, mf, gmf, mlp, neumf and deep-hybrid with their defaults train
# EPOCHS epochs on each backend with dense updates (Adam on every row) and row-sparse ones
# (lazy Adam on the batch's rows); scripts/torch_variants.py trains the same models with
# PyTorch (dense Adam, and nn.Embedding(sparse=True) + SparseAdam). The table gives the median
# epoch time (first epoch left out) and the ratio burnrec / PyTorch for the same update mode.
# Run on a quiet machine (no cargo build).
#
# Usage: scripts/model_variants.sh [ML100K_DIR] [PYTHON] [BACKENDS...]
#   defaults: ../shared/datasets/ml-100k, python3 (needs torch + numpy), flex ndarray
# Env: EPOCHS (3), OUT (a temporary folder; the JSON files are kept there).
set -euo pipefail
cd "$(dirname "$0")/.."
ml100k=${1:-../shared/datasets/ml-100k}
python=${2:-python3}
shift 2 || shift $# || true
backends=${*:-flex ndarray}
epochs=${EPOCHS:-3}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
bin=target/release/burnrec
[ -x "$bin" ] || cargo build --release -p burnrec-runner
models=burn-mf,mf,gmf,mlp,neumf,deep-hybrid
sparse_sets=()
for m in ${models//,/ }; do
  sparse_sets+=(--set "$m.train.embedding_update={\"sparse\":{\"lazy_adam\":{}}}")
done
# ml-latest-small is bundled in the binary; the PyTorch side reads the same files from the repo.
mls_dir=data/ml-latest-small
for ds in ml-100k ml-latest-small; do
  if [ "$ds" = ml-100k ]; then spec="ml-100k:$ml100k"; else spec=bundled; fi
  for b in $backends; do
    for mode in dense sparse; do
      extra=()
      [ "$mode" = sparse ] && extra=("${sparse_sets[@]}")
      echo "burnrec $ds $b $mode" >&2
      "$bin" compare --quiet --backend "$b" --dataset "$spec" --split leave-one-out --protocol sampled \
        --models "$models" --epochs "$epochs" "${extra[@]}" --json "$out/burnrec-$ds-$b-$mode.json" >/dev/null
    done
  done
  echo "pytorch $ds" >&2
  tdir=$ml100k
  [ "$ds" = ml-latest-small ] && tdir=$mls_dir
  "$python" scripts/torch_variants.py --dataset "$ds:$tdir" --epochs "$epochs" --threads 2 --json "$out/torch-$ds.json" >&2
done
"$python" - "$out" $backends <<'EOF'
import json, sys, os
out, backends = sys.argv[1], sys.argv[2:]
print("| dataset | model | update | " + " | ".join(f"{b} s / epoch" for b in backends) + " | PyTorch s / epoch | "
      + " | ".join(f"{b} / PyTorch" for b in backends) + " |")
print("| --- | --- | --- | " + " | ".join("---:" for _ in backends * 2) + " | ---: |")
for ds in ("ml-100k", "ml-latest-small"):
    torch = {(r["model"], r["mode"]): r for r in json.load(open(os.path.join(out, f"torch-{ds}.json")))}
    for mode in ("dense", "sparse"):
        ours = {b: {r["model"]: r for r in json.load(open(os.path.join(out, f"burnrec-{ds}-{b}-{mode}.json")))} for b in backends}
        for model in ours[backends[0]]:
            t = torch[(model, mode)]["epoch_s"]
            s = [ours[b][model]["epoch_s"] for b in backends]
            print(f"| {ds} | {model} | {mode} | " + " | ".join(f"{x:.3f}" for x in s) + f" | {t:.3f} | "
                  + " | ".join(f"{x / t:.2f}" for x in s) + " |")
EOF
echo "JSON: $out" >&2
