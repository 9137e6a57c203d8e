//! The C test program (`tests/c/session.c`), compiled against `include/mcd_api.h` and
//! linked with the library, first checks that C and Rust agree on every structure's
//! layout, then runs a whole MCD session against a live emu machine and MCD server.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use emu_machine::{Console, Machine, MachineConfig, RunningMachine};
use emu_mcd::{BlockKind, McdServer, MemBlock};
use emu_runctl::RunControl;
use emu_tests::debug_loop::{BASE, DATA};

/// Where cargo put `libemu_mcd_client.so` for this build: `cargo test` builds the
/// cdylib next to this test in `deps` (only `cargo build` copies it one level up, where a
/// stale copy may lie).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
    let dir = exe
        .parent()
        .unwrap_or_else(|| panic!("no directory above {}", exe.display()))
        .to_path_buf();
    assert!(
        dir.join("libemu_mcd_client.so").exists(),
        "libemu_mcd_client.so is not in {}",
        dir.display()
    );
    dir
}

/// Compiles the C program once per test process.
fn program() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let here = Path::new(env!("CARGO_MANIFEST_DIR"));
            let lib = lib_dir();
            let out = lib.join("mcd_c_session");
            let status = Command::new("cc")
                .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1"])
                .arg("-I")
                .arg(here.join("include"))
                .arg(here.join("tests/c/session.c"))
                .arg("-L")
                .arg(&lib)
                .arg("-lemu_mcd_client")
                .arg(format!("-Wl,-rpath,{}", lib.display()))
                .arg("-o")
                .arg(&out)
                .status()
                .unwrap_or_else(|e| panic!("cc: {e}"));
            assert!(status.success(), "compiling tests/c/session.c failed");
            out
        })
        .clone()
}

/// The C program, loading this build's library: cargo's test environment puts
/// `target/debug` on `LD_LIBRARY_PATH`, and a copy left there by an earlier `cargo build`
/// would otherwise win over the program's run path.
fn run_program() -> Command {
    let mut c = Command::new(program());
    c.env("LD_LIBRARY_PATH", lib_dir());
    c
}

#[test]
fn c_and_rust_agree_on_every_structure_layout() {
    let out = run_program()
        .arg("layout")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let c: Vec<(String, usize, usize)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = |s: &str| s.parse::<usize>().unwrap_or_else(|e| panic!("{l}: {e}"));
            (f[0].to_string(), n(f[1]), n(f[2]))
        })
        .collect();
    let rust: Vec<(String, usize, usize)> = emu_mcd_client::abi::layouts()
        .into_iter()
        .map(|(n, s, a)| (n.to_string(), s, a))
        .collect();
    assert_eq!(c, rust);
    // Sizes the MCD API 1.1 fixes on LP64 Linux (every enum 32 bits, bool 8 bits).
    let size = |name: &str| rust.iter().find(|r| r.0 == name).map(|r| r.1);
    assert_eq!(size("mcd_core_con_info_st"), Some(596));
    assert_eq!(size("mcd_trig_simple_core_st"), Some(64));
    assert_eq!(size("mcd_trig_complex_core_st"), Some(112));
    assert_eq!(size("mcd_tx_st"), Some(56));
    assert_eq!(size("mcd_register_info_st"), Some(88));
}

fn start() -> (RunningMachine, u16) {
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        harts: 1,
        console,
        halted: true,
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, &emu_tests::debug_loop::elf())
        .unwrap_or_else(|e| panic!("{e}"))
        .start();
    let rc = Arc::new(RunControl::new(m.dm.clone()).unwrap_or_else(|| panic!("run control")));
    let map = vec![
        MemBlock {
            name: "rom".into(),
            start: 0x1000,
            len: 0xf000,
            kind: BlockKind::Rom,
        },
        MemBlock {
            name: "ram".into(),
            start: BASE,
            len: 128 << 20,
            kind: BlockKind::Ram,
        },
    ];
    let addr = McdServer::with_memory_map(rc, map)
        .listen("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
    (m, addr.port())
}

#[test]
fn a_c_tool_runs_a_whole_session_against_a_live_emu() {
    let (m, port) = start();
    let out = run_program()
        .args([
            "run".to_string(),
            port.to_string(),
            format!("{BASE:#x}"),
            format!("{DATA:#x}"),
            "0x1000".to_string(),
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the C session failed: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "session ok\n");
    // The machine is still there for the next client.
    m.signals.exit_host();
    assert!(m.join().failed.is_empty());
}
