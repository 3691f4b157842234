#!/usr/bin/env bash
# Bounded fuzzing of burnrec-data's line parsers, for CI.
#
#   fuzz/run.sh [SECONDS]        # default 60 (or $FUZZ_SECONDS)
#
# Installs cargo-fuzz if missing, builds the `parse_lines` target (only the fuzz package and
# burnrec-data without default features: no Burn, no network stack), replays the regression
# inputs in fuzz/regressions/parse_lines/, then fuzzes for SECONDS starting from a temporary
# copy of the seed corpus (the repository is not modified; new corpus entries and crash
# artifacts go to a temp dir). Exits non-zero on a crash, a failed invariant, a timeout, an
# out-of-memory input or a build failure, and ends with one summary line starting
# `fuzz parse_lines:`.
#
# Environment:
#   FUZZ_SECONDS        run time when no argument is given (default 60)
#   FUZZ_SANITIZER      cargo-fuzz sanitizer (default `none`: burnrec-data is safe Rust, and
#                       without ASan the target runs ~7x more inputs per second; `address` works too)
#   FUZZ_ARTIFACT_DIR   where crash inputs are written (default: a temp dir, printed at the end)
#   CARGO_TARGET_DIR    build directory (default fuzz/target)
#   CARGO_FUZZ_VERSION  cargo-fuzz version to install when missing (default 0.13.2)
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
TARGET=parse_lines
SECS="${1:-${FUZZ_SECONDS:-60}}"
SANITIZER="${FUZZ_SANITIZER:-none}"
TARGET_DIR="${CARGO_TARGET_DIR:-$FUZZ_DIR/target}"

# cargo-fuzz passes nightly-only flags (-Z..., -Cpasses=sancov-module, ...) to rustc; this lets
# the stable toolchain accept them. Harmless on nightly.
export RUSTC_BOOTSTRAP=1
export RUST_BACKTRACE=1

fail() {
    echo "fuzz $TARGET: FAILED ($1)" >&2
    exit 1
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz ${CARGO_FUZZ_VERSION:-0.13.2}"
    cargo install cargo-fuzz --locked --version "${CARGO_FUZZ_VERSION:-0.13.2}" || fail "cargo install cargo-fuzz"
fi

# The fuzz package is its own workspace; start its lockfile from the main workspace's so the
# fuzzed burnrec-data is built against the same dependency versions the tests use.
# (fuzz/Cargo.lock is ignored by git.)
cp "$ROOT/Cargo.lock" "$FUZZ_DIR/Cargo.lock"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/burnrec-fuzz.XXXXXX")"
ARTIFACTS="${FUZZ_ARTIFACT_DIR:-$WORK/artifacts}"
mkdir -p "$WORK/corpus" "$ARTIFACTS"
cp "$FUZZ_DIR/corpus/$TARGET/"* "$WORK/corpus/"

echo "==> building fuzz target $TARGET (sanitizer: $SANITIZER)"
start=$SECONDS
cargo fuzz build --fuzz-dir "$FUZZ_DIR" --target-dir "$TARGET_DIR" -s "$SANITIZER" "$TARGET" \
    || fail "build"
echo "==> built in $((SECONDS - start)) s"

echo "==> fuzzing $TARGET for $SECS s (corpus: $WORK/corpus, artifacts: $ARTIFACTS)"
LOG="$WORK/fuzz.log"
start=$SECONDS
set +e
# The first corpus dir receives new inputs; the regression dir is only read. libFuzzer runs
# every existing input first, so a regression fails fast and deterministically.
cargo fuzz run --fuzz-dir "$FUZZ_DIR" --target-dir "$TARGET_DIR" -s "$SANITIZER" "$TARGET" \
    "$WORK/corpus" "$FUZZ_DIR/regressions/$TARGET" -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -max_len=4096 \
    -artifact_prefix="$ARTIFACTS/" -print_final_stats=1 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
took=$((SECONDS - start))

# (`|| true`: a crash on a replayed input prints no coverage line, and pipefail is on.)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n1 || true)
cov=$(grep -Eo 'cov: [0-9]+' "$LOG" | tail -n1 | cut -d' ' -f2 || true)
corpus=$(find "$WORK/corpus" -type f | wc -l | tr -d ' ' || true)

if [ "$rc" -ne 0 ]; then
    echo
    for f in "$ARTIFACTS"/*; do
        [ -f "$f" ] || continue
        echo "==> failing input $f ($(wc -c <"$f" | tr -d ' ') bytes), hex:"
        od -An -tx1 -v "$f" | tr -d ' \n' | fold -w 64
        echo
        echo "    reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz -s $SANITIZER $TARGET $f"
    done
    echo "fuzz $TARGET: FAILED (exit $rc after ${took} s, ${runs:-?} runs; panic message and backtrace above; inputs in $ARTIFACTS)" >&2
    exit 1
fi
echo "fuzz $TARGET: OK (${runs:-?} runs in ${took} s, cov ${cov:-?}, corpus ${corpus} inputs, no crash)"
rm -rf "$WORK"
