#!/usr/bin/env bash
# Bounded load test of `burnrec serve` on loopback only (issue #8, docs/benchmarks.md
# "Serving"): trains MODEL (default als) on the bundled ml-latest-small, serves it on
# 127.0.0.1:PORT and runs wrk (Debian package `wrk`) against GET /recommend?user=U&k=10 with
# U drawn uniformly among the 610 users, for DURATION seconds (default 30, at most 60).
# Prints wrk's latency distribution and requests/s, then the server's own /metrics.
#
# Usage: scripts/load_test.sh [MODEL] [DURATION] [CONNECTIONS]   (defaults: als 30 32)
# Env: PORT (18181), THREADS (wrk threads, 2).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-als}
duration=${2:-30}
conns=${3:-32}
port=${PORT:-18181}
threads=${THREADS:-2}
if [ "$duration" -gt 60 ]; then echo "DURATION is capped at 60 s" >&2; exit 2; fi
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
bin=target/release/burnrec
[ -x "$bin" ] || cargo build --release -p burnrec-runner
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" train --model "$model" --quiet --out "$work/model" >/dev/null
"$bin" serve --model-dir "$work/model" --addr "127.0.0.1:$port" >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
cat > "$work/users.lua" <<'EOF'
math.randomseed(42)
request = function()
  return wrk.format("GET", "/recommend?user=" .. math.random(1, 610) .. "&k=10")
end
EOF
echo "model $model, $conns connections, $threads wrk threads, ${duration}s, $(nproc) cores"
wrk -t"$threads" -c"$conns" -d"${duration}s" --latency -s "$work/users.lua" "http://127.0.0.1:$port"
echo "server /metrics (recommend):"
curl -s "http://127.0.0.1:$port/metrics" | python3 -c "import json,sys; m=json.load(sys.stdin); print(json.dumps(m['endpoints']['recommend']))"
kill -TERM "$server"
wait "$server" || true
