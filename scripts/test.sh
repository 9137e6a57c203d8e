#!/usr/bin/env bash
# Runs every test of the workspace, including the end-to-end tests against GNU objdump,
# QEMU, gdb-multiarch and OpenOCD. Installs the Debian packages those tests need when they are missing (root, apt).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v qemu-system-riscv64 >/dev/null || need+=(qemu-system-misc)
command -v riscv64-unknown-elf-objdump >/dev/null || need+=(binutils-riscv64-unknown-elf)
command -v riscv64-unknown-elf-gcc >/dev/null || need+=(gcc-riscv64-unknown-elf)
command -v gdb-multiarch >/dev/null || need+=(gdb-multiarch)
command -v openocd >/dev/null || need+=(openocd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo test --workspace -- --include-ignored --nocapture
# The embedding examples the README points to must keep working, not only building (their
# asserts check what they print). `cargo test --workspace` built them; they run from there
# (a `cargo run -p` would resolve features for one package and rebuild Cranelift).
examples="${CARGO_TARGET_DIR:-target}/debug/examples"
"$examples/embed"
"$examples/debug_session"
