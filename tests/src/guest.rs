//! The project's C guest programs (under `tests/guests/`), built with the RISC-V GCC that
//! `.ci/run` installs, once per process, into a directory the caller names.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Directory holding the guest sources.
pub fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guests")
}

/// Guest `name` built once per process into `out` (later calls return the same path).
pub fn cached(name: &str, out: &Path) -> PathBuf {
    cached_for(name, out, false)
}

/// [`cached`], for RV32 (`rv32`) or RV64.
pub fn cached_for(name: &str, out: &Path, rv32: bool) -> PathBuf {
    static BUILT: Mutex<Vec<(String, bool, PathBuf)>> = Mutex::new(Vec::new());
    let mut b = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, p)) = b.iter().find(|(n, r, _)| n == name && *r == rv32) {
        return p.clone();
    }
    let p = build_for(name, out, rv32);
    b.push((name.to_string(), rv32, p.clone()));
    p
}

/// Build guest `name` (the directory `tests/guests/<name>`: `start.S`, `link.ld` and every
/// `.c` file) for RV64GC with debug information, unoptimised so GDB's line stepping is
/// predictable; the ELF's path under `out`.
pub fn build(name: &str, out: &Path) -> PathBuf {
    build_for(name, out, false)
}

/// [`build`], for RV32GC (`rv32`: `<name>-rv32.elf`) or RV64GC.
pub fn build_for(name: &str, out: &Path, rv32: bool) -> PathBuf {
    let dir = sources().join(name);
    let (elf, march, mabi) = if rv32 {
        (format!("{name}-rv32.elf"), "-march=rv32gc", "-mabi=ilp32d")
    } else {
        (format!("{name}.elf"), "-march=rv64gc", "-mabi=lp64d")
    };
    let elf = out.join(elf);
    let mut srcs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c" || x == "S"))
        .collect();
    srcs.sort();
    std::fs::create_dir_all(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let gcc = crate::tool("riscv64-unknown-elf-gcc");
    let st = Command::new(gcc)
        .args([
            march,
            mabi,
            "-mcmodel=medany",
            "-O0",
            "-g",
            "-nostdlib",
            "-ffreestanding",
            "-Wl,--no-warn-rwx-segments",
            "-T",
        ])
        .arg(dir.join("link.ld"))
        .args(&srcs)
        .arg("-o")
        .arg(&elf)
        .status()
        .expect("run riscv64-unknown-elf-gcc");
    assert!(st.success(), "building guest {name} failed");
    elf
}
