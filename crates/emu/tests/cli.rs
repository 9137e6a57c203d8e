//! The `emu` command line: the demo, exit codes from the test finisher and HTIF, the UART,
//! several harts sharing memory atomically, and one-line errors for bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

use emu_asm::reg::*;
use emu_asm::{Asm, elf};
use emu_isa::{Op, Xlen};

const BASE: u64 = 0x8000_0000;

fn emu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(args)
        .output()
        .expect("run emu")
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("emu-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).expect("write temp file");
    p
}

fn program(xlen: Xlen, build: impl FnOnce(&mut Asm), symbols: &[elf::Symbol]) -> Vec<u8> {
    let mut a = Asm::new(xlen, BASE);
    build(&mut a);
    let code = a.finish().expect("assembles");
    elf::write_elf(xlen, BASE, &code, BASE, symbols)
}

fn finisher(a: &mut Asm, value: i64) {
    a.li(T0, 0x10_0000);
    a.li(T1, value);
    a.store(Op::Sw, T1, T0, 0);
    let l = a.here();
    a.j(l);
}

fn puts(a: &mut Asm, s: &str) {
    a.li(T0, 0x1000_0000);
    for b in s.bytes() {
        a.li(T1, b as i64);
        a.store(Op::Sb, T1, T0, 0);
    }
}

#[test]
fn both_engines_run_the_demo_identically() {
    let jit = emu(&["--engine", "jit"]);
    let interp = emu(&["--engine", "interp"]);
    assert_eq!(jit.status.code(), Some(0));
    assert_eq!(jit.stdout, interp.stdout);
}

#[test]
fn demo_runs_and_passes() {
    let out = emu(&[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Mandelbrot"), "{text}");
    assert!(text.contains("@@@@"), "the set is drawn");
    assert!(text.contains("instructions; exiting"), "{text}");
}

#[test]
fn finisher_exit_codes_and_uart() {
    for (value, code) in [
        (0x5555i64, 0),
        (0x3333 | (7 << 16), 7),
        (0x3333 | (1 << 16), 1),
    ] {
        let elf = program(
            Xlen::X64,
            |a| {
                puts(a, "hi\n");
                finisher(a, value);
            },
            &[],
        );
        let p = temp(&format!("fin{code}"), &elf);
        let out = emu(&[p.to_str().expect("utf8 path")]);
        assert_eq!(out.status.code(), Some(code), "finisher {value:#x}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    }
}

#[test]
fn htif_exit_and_console_rv32() {
    // tohost at BASE + 0x1000: console write of 'A' (device 1, command 1), then exit 3.
    let tohost = BASE + 0x1000;
    let elf = program(
        Xlen::X32,
        |a| {
            a.li(T0, tohost as i64);
            a.li(T1, (1 << 24) | (1 << 16)); // high word: device 1, command 1 (bits 63:56, 55:48)
            a.store(Op::Sw, T1, T0, 4);
            a.li(T1, b'A' as i64);
            a.store(Op::Sw, T1, T0, 0);
            a.li(T1, (3 << 1) | 1);
            a.store(Op::Sw, ZERO, T0, 4);
            a.store(Op::Sw, T1, T0, 0);
            let l = a.here();
            a.j(l);
            a.align(0x1000);
            a.dword(0);
            a.dword(0);
        },
        &[
            elf::Symbol {
                name: "tohost".into(),
                addr: tohost,
            },
            elf::Symbol {
                name: "fromhost".into(),
                addr: tohost + 8,
            },
        ],
    );
    let p = temp("htif", &elf);
    let out = emu(&[p.to_str().expect("utf8 path")]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "A");
}

/// Four harts each add 1 to a shared counter 20 000 times, half with amoadd and half with an
/// lr/sc loop; hart 0 waits for all and reports through the finisher whether the total is
/// exact.
#[test]
fn smp_atomics_are_atomic_across_harts() {
    const N: i64 = 10_000;
    const HARTS: i64 = 4;
    let elf = program(
        Xlen::X64,
        |a| {
            let counter = BASE as i64 + 0x2000;
            let done = BASE as i64 + 0x2008;
            a.li(S0, counter);
            a.li(S1, done);
            a.li(T2, N);
            a.li(T3, 1);
            let amo_loop = a.here();
            a.r(Op::AmoaddD, ZERO, S0, T3);
            a.addi(T2, T2, -1);
            a.branch(Op::Bne, T2, ZERO, amo_loop);
            a.li(T2, N);
            let lrsc = a.here();
            a.r(Op::LrD, T4, S0, 0);
            a.addi(T4, T4, 1);
            a.r(Op::ScD, T5, S0, T4);
            a.branch(Op::Bne, T5, ZERO, lrsc);
            a.addi(T2, T2, -1);
            a.branch(Op::Bne, T2, ZERO, lrsc);
            a.r(Op::AmoaddD, ZERO, S1, T3);
            a.csrr(T0, 0xf14);
            let park = a.label();
            a.branch(Op::Bne, T0, ZERO, park);
            a.li(T1, HARTS);
            let wait = a.here();
            a.load(Op::Ld, T0, S1, 0);
            a.branch(Op::Bne, T0, T1, wait);
            a.load(Op::Ld, T0, S0, 0);
            a.li(T1, 2 * N * HARTS);
            let bad = a.label();
            a.branch(Op::Bne, T0, T1, bad);
            finisher(a, 0x5555);
            a.bind(bad);
            finisher(a, 0x3333 | (9 << 16));
            a.bind(park);
            a.op0(Op::Wfi);
            a.j(park);
        },
        &[],
    );
    let p = temp("smp", &elf);
    let out = emu(&["--smp", "4", p.to_str().expect("utf8 path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "counter total exact: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn trace_prints_disassembly() {
    let elf = program(Xlen::X64, |a| finisher(a, 0x5555), &[]);
    let p = temp("trace", &elf);
    let out = emu(&["--trace", p.to_str().expect("utf8 path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0x0000000000001000 (0x00000297) auipc\tt0,0x0"),
        "{err}"
    );
    assert!(
        err.contains("0x0000000080000000") && err.contains("lui\tt0,0x100"),
        "{err}"
    );
}

#[test]
fn isa_override_restricts_instructions() {
    // fadd.s under rv64imac traps (illegal instruction) to mtvec = 0 -> fetch fault loop;
    // the instruction limit ends the run.
    let elf = program(
        Xlen::X64,
        |a| {
            a.li(T0, 3 << 13);
            a.csrs(0x300, T0);
            a.word(0x00c5_f553); // fadd.s
            finisher(a, 0x5555);
        },
        &[],
    );
    let p = temp("isa", &elf);
    let ok = emu(&[p.to_str().expect("utf8 path")]);
    assert_eq!(ok.status.code(), Some(0));
    let restricted = emu(&[
        "--isa",
        "rv64imac",
        "--max-instructions",
        "10000",
        p.to_str().expect("utf8 path"),
    ]);
    assert_eq!(restricted.status.code(), Some(124));
    let mismatch = emu(&["--isa", "rv32gc", p.to_str().expect("utf8 path")]);
    assert_eq!(mismatch.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&mismatch.stderr).contains("RV32 but the ELF is ELFCLASS64"));
}

#[test]
fn clear_errors_for_bad_input() {
    let not_elf = temp("notelf", b"hello, world\n");
    let mut x86 = program(Xlen::X64, |a| finisher(a, 0x5555), &[]);
    x86[18] = 62; // EM_X86_64
    let x86 = temp("x86", &x86);
    let outside = {
        let mut a = Asm::new(Xlen::X64, 0x4000_0000);
        a.op0(Op::Wfi);
        temp(
            "outside",
            &elf::write_elf(
                Xlen::X64,
                0x4000_0000,
                &a.finish().expect("asm"),
                0x4000_0000,
                &[],
            ),
        )
    };
    let truncated = temp(
        "trunc",
        &program(Xlen::X64, |a| finisher(a, 0x5555), &[])[..40],
    );
    // A segment claiming 2^60 bytes in memory is refused, not allocated (p_memsz of the
    // first program header, at offset 64 + 40 in an ELF64 written by emu-asm).
    let mut huge = program(Xlen::X64, |a| finisher(a, 0x5555), &[]);
    huge[64 + 40..64 + 48].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let huge = temp("huge", &huge);
    let s = |p: &PathBuf| p.to_str().expect("utf8 path").to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["/nonexistent/prog.elf".into()],
            "cannot read /nonexistent/prog.elf",
        ),
        (vec![s(&not_elf)], "not an ELF file"),
        (vec![s(&x86)], "not a RISC-V ELF"),
        (vec![s(&outside)], "outside RAM"),
        (vec![s(&truncated)], "malformed ELF"),
        (vec![s(&huge)], "outside RAM"),
        (vec!["--smp".into(), "0".into()], "--smp must be at least 1"),
        (vec!["--smp".into(), "100".into()], "--smp must be 1..=64"),
        (vec!["-m".into(), "lots".into()], "invalid memory size"),
        (vec!["--isa".into(), "rv64xyz".into()], "invalid --isa"),
        (vec!["--frobnicate".into()], "unexpected argument"),
        (
            vec!["--engine".into(), "magic".into()],
            "invalid value 'magic'",
        ),
    ];
    for (args, want) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = emu(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?} must fail");
        assert!(err.contains(want), "{args:?}: expected {want:?} in {err:?}");
        if !want.contains("unexpected") && !want.contains("invalid value") {
            assert_eq!(
                err.trim_end().lines().count(),
                1,
                "{args:?}: one line, got {err:?}"
            );
        }
    }
}

/// A `tohost` symbol that is not in RAM (here at the top of the address space, where
/// `tohost + 8` would overflow) leaves HTIF off; the program still runs and exits through the
/// finisher.
#[test]
fn tohost_outside_ram_is_ignored() {
    for addr in [u64::MAX - 3, 0x10_0000, BASE - 4] {
        let elf = program(
            Xlen::X64,
            |a| {
                puts(a, "ok");
                finisher(a, (5 << 16) | 0x3333);
            },
            &[elf::Symbol {
                name: "tohost".into(),
                addr,
            }],
        );
        let p = temp("tohost-outside", &elf);
        let out = emu(&[p.to_str().expect("utf8 path")]);
        assert_eq!(out.status.code(), Some(5), "tohost at {addr:#x}: {out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
    }
}

#[test]
fn low_latency_holds_the_idle_cpus_awake_while_emu_runs() {
    use std::time::{Duration, Instant};
    let elf = program(
        Xlen::X64,
        |a| {
            let l = a.here();
            a.j(l);
        },
        &[],
    );
    let p = temp("spin", &elf);
    let before = emu_sock::cpu_latency_target();
    let mut child = Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(["--low-latency", p.to_str().expect("utf8 path")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run emu");
    let until = Instant::now() + Duration::from_secs(10);
    let mut held = false;
    while !held && Instant::now() < until && child.try_wait().ok().flatten().is_none() {
        held = emu_sock::cpu_latency_target().ok() == Some(0);
        std::thread::sleep(Duration::from_millis(10));
    }
    let running = child.try_wait().ok().flatten().is_none();
    let _ = child.kill();
    let out = child.wait_with_output().expect("emu ends");
    assert!(running, "emu keeps running the guest with --low-latency");
    let err = String::from_utf8_lossy(&out.stderr);
    match before {
        // Where the kernel lets emu hold it, it holds it; otherwise it says why and runs on.
        Ok(_) if !err.contains("--low-latency: cannot hold") => {
            assert!(held, "the wake-up latency target went to 0 while emu ran");
            let until = Instant::now() + Duration::from_secs(5);
            while emu_sock::cpu_latency_target().ok() == Some(0)
                && before.as_ref().ok() != Some(&0)
                && Instant::now() < until
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(
                emu_sock::cpu_latency_target().ok(),
                before.ok(),
                "emu's request ended with emu"
            );
        }
        _ => assert!(err.contains("--low-latency: cannot hold"), "{err}"),
    }
}
