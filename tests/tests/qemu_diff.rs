//! Differential testing against QEMU: the same generated guest ELFs run on emu's interpreter
//! and on `qemu-system-riscv{32,64} -M virt -bios none -kernel X`; the architectural state each
//! prints at the end must be identical. The corpus is fixed by its seeds; the test reports how
//! many programs and instructions it compared.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use emu_isa::Xlen;
use emu_tests::diffgen::{
    Group, Program, Scenario, privileged_program, random_program, uart_echo_program,
};
use emu_tests::run::{
    run_emu, run_emu_jit_with, run_emu_with_input, run_qemu, run_qemu_with_input,
};

/// Body length of each random program.
const BODY: usize = 200;

/// What line `line` of a dump holds.
fn label(prog: &Program, line: usize) -> String {
    // fcsr and x1..x31 take one line each, then f0..f31 (two lines each on RV32), the trap
    // log, and scratch memory.
    let f_lines = if prog.xlen == Xlen::X64 { 32 } else { 64 };
    match line {
        0 => "fcsr".into(),
        1..=31 => format!("x{line}"),
        l if l < 32 + f_lines => format!("f{}", (l - 32) * 32 / f_lines),
        l if l == 32 + f_lines => "trap count".into(),
        l => format!("trap log or scratch line {}", l - 33 - f_lines),
    }
}

/// Run `progs` on both emulators (two at a time) and return the failures.
fn compare_all(tag: &str, progs: Vec<Program>) -> (usize, usize, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("emu-qemu-diff-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let insns = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(p) = progs.get(k) else { return };
                    let path = dir.join(format!("p{k}.elf"));
                    std::fs::write(&path, &p.elf).expect("write elf");
                    let theirs = run_qemu(&path, p.xlen.bits(), 1, Duration::from_secs(20));
                    insns.fetch_add(p.body, Ordering::Relaxed);
                    // Every program on the interpreter and on the JIT; every fourth also on the
                    // JIT with every block a single instruction.
                    let mut engines = vec![("interp", run_emu(&p.elf, 1, None, 5_000_000).0)];
                    engines.push(("jit", run_emu_jit_with(&p.elf, 5_000_000, b"", false).0));
                    if k.is_multiple_of(4) {
                        engines.push(("jit single-step", run_emu_jit_with(&p.elf, 5_000_000, b"", true).0));
                    }
                    for (engine, ours) in engines {
                    if ours != theirs {
                        let a: Vec<&str> = ours.output.lines().collect();
                        let b: Vec<&str> = theirs.output.lines().collect();
                        let first = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)).unwrap_or(0);
                        let keep = std::env::temp_dir().join(format!("emu-diff-{}.elf", p.name.replace('/', "-")));
                        let _ = std::fs::write(&keep, &p.elf);
                        failures.lock().unwrap_or_else(|e| e.into_inner()).push(format!(
                            "{} [{engine}]: exit emu {} qemu {}; first difference at {} ({}): emu {:?} qemu {:?}; ELF kept at {}",
                            p.name,
                            ours.code,
                            theirs.code,
                            first,
                            label(p, first),
                            a.get(first),
                            b.get(first),
                            keep.display()
                        ));
                    }
                    }
                    let _ = std::fs::remove_file(&path);
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    (
        progs.len(),
        insns.load(Ordering::Relaxed),
        failures.into_inner().unwrap_or_else(|e| e.into_inner()),
    )
}

fn report(what: &str, (n, insns, failures): (usize, usize, Vec<String>)) {
    eprintln!(
        "{what}: {n} programs, {insns} generated instructions compared with QEMU on the \
         interpreter and the JIT (a quarter also single-stepped), {} mismatches",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} programs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn random_instructions_match_qemu() {
    let per_group: u64 = std::env::var("EMU_DIFF_PER_GROUP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let mut progs = Vec::new();
    for xlen in [Xlen::X64, Xlen::X32] {
        for g in Group::ALL {
            for seed in 0..per_group {
                progs.push(random_program(xlen, g, seed, BODY));
            }
        }
    }
    report("random instruction corpus", compare_all("random", progs));
}

#[test]
fn privileged_scenarios_match_qemu() {
    let per: u64 = std::env::var("EMU_DIFF_PER_SCENARIO")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let mut progs = Vec::new();
    for xlen in [Xlen::X64, Xlen::X32] {
        for sc in Scenario::ALL {
            for seed in 0..per {
                progs.push(privileged_program(xlen, sc, seed));
            }
        }
    }
    report(
        "privileged scenario corpus",
        compare_all("privileged", progs),
    );
}

/// UART input, PLIC and external interrupts: the same keystrokes give the same echo.
#[test]
fn uart_interrupts_match_qemu() {
    let input = b"hello, Emu 123q";
    for xlen in [Xlen::X64, Xlen::X32] {
        let p = uart_echo_program(xlen);
        let path = std::env::temp_dir().join(format!(
            "emu-uart-{}-{}.elf",
            std::process::id(),
            xlen.bits()
        ));
        std::fs::write(&path, &p.elf).expect("write elf");
        let (ours, _) = run_emu_with_input(&p.elf, 1, None, 10_000_000, input);
        let theirs = run_qemu_with_input(&path, xlen.bits(), 1, Duration::from_secs(20), input);
        let _ = std::fs::remove_file(&path);
        assert_eq!(ours.output, "HELLO, EMU 123\n", "{xlen:?}");
        assert_eq!(ours, theirs, "{xlen:?}");
    }
}
