#!/usr/bin/env bash
# Runs the same guest ELFs under emu and under qemu-system-riscv64 -M virt -bios none, in one
# run, alternating, and prints each one's best wall time and the ratio. The guests exit
# through the test finisher, so both emulators stop by themselves.
#
#   scripts/compare-qemu.sh [ROUNDS]      (default 5)
#
# Needs qemu-system-misc, and gcc-riscv64-unknown-elf for the C workloads (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build --release -q -p emu
cargo run --release -q -p emu-benches --example workloads -- "$out"
cp target/release/emu "$out/emu"
if command -v riscv64-unknown-elf-gcc >/dev/null; then
  for c in benches/workloads/*.c; do
    riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -O2 -nostdlib -ffreestanding -mcmodel=medany \
      -Wl,--no-warn-rwx-segments -T benches/workloads/link.ld benches/workloads/start.S \
      "$c" -o "$out/$(basename "$c" .c).elf"
  done
fi
"$out/emu" >/dev/null   # the demo, also as a smoke test
cp /dev/null "$out/none"

now() { date +%s.%N; }
best() { sort -g | head -1; }
printf '%-22s %10s %10s %10s %8s\n' workload "emu s" "interp s" "qemu s" "qemu/emu"
for elf in "$out"/*.elf; do
  name=$(basename "$elf" .elf)
  : > "$out/t.emu"; : > "$out/t.int"; : > "$out/t.qemu"
  for _ in $(seq "$rounds"); do
    t0=$(now); "$out/emu" "$elf" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$out/t.emu"
    t0=$(now); "$out/emu" --engine interp "$elf" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$out/t.int"
    t0=$(now); qemu-system-riscv64 -M virt -bios none -display none -monitor none -serial stdio \
      -kernel "$elf" >/dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$out/t.qemu"
  done
  e=$(best < "$out/t.emu"); i=$(best < "$out/t.int"); q=$(best < "$out/t.qemu")
  printf '%-22s %10.3f %10.3f %10.3f %8.2f\n' "$name" "$e" "$i" "$q" "$(echo "$q / $e" | bc -l)"
done
