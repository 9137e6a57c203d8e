#!/usr/bin/env bash
# Coverage-guided fuzzing of emu's untrusted-input paths, on the stable toolchain.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 60 seconds each, every target)
#
# cargo-fuzz needs nightly for its sanitizers; libFuzzer's coverage feedback does not:
# the same SanitizerCoverage passes are enabled with -C flags that stable rustc accepts.
# Debug assertions and overflow checks stay on, so an arithmetic overflow is a finding.
# Corpora go to fuzz/corpus/TARGET, findings to fuzz/artifacts/ (both ignored by git);
# fuzz/seeds/TARGET (committed) start a target off with valid sessions: MCD requests, GDB
# packets, and the bytes OpenOCD 0.12 sent emu while it examined a hart and used it (recorded through a
# proxy), so that the fuzzer begins deep in the Debug Module rather than at the TAP.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode interp jit_vs_interp mcd gdb rbb)
fi
host=$(rustc -vV | sed -n 's/^host: //p')
# With --target, RUSTFLAGS reach the fuzzed crates but not build scripts and proc macros.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --target "$host" --target-dir target/sancov
mkdir -p artifacts
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== $t ($secs s)"
  seeds=()
  if [ -d "seeds/$t" ]; then seeds=("seeds/$t"); fi
  if ! "target/sancov/$host/release/$t" "corpus/$t" "${seeds[@]}" -max_total_time="$secs" -timeout=10 \
      -artifact_prefix="artifacts/$t-" -print_final_stats=1 2>"artifacts/$t.log"; then
    echo "$t: a finding; see fuzz/artifacts/$t.log"
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added|^#[0-9]+ +DONE" \
    "artifacts/$t.log" || true
done
exit $status
