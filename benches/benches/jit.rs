//! JIT throughput (guest instructions per second) against the interpreter on the same
//! programs, and translation cost per block and per guest instruction.
//!
//! `cargo bench -p emu-benches --bench jit`
//!
//! The realistic workload (`benches/workloads/coremark_like.c`) is compiled at bench time
//! with `riscv64-unknown-elf-gcc` (Debian's gcc-riscv64-unknown-elf); without it that group
//! is left out with a note.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use emu_benches::{
    BASE, STRAIGHT_LINE_START, alu_loop, machine, mem_loop, mem_loop_sv39, step_n, straight_line,
};
use emu_core::{Engine, Hart, Interpreter};
use emu_jit::{JitConfig, JitEngine};
use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;

const N: u64 = 1_000_000;

fn jit() -> JitEngine {
    JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn throughput(c: &mut Criterion) {
    for (name, elf, prologue) in [
        ("alu_loop", alu_loop(i64::MAX / 2), 64),
        ("mem_loop", mem_loop(i64::MAX / 2), 64),
        ("mem_loop_sv39", mem_loop_sv39(i64::MAX / 2), 200),
    ] {
        let mut g = c.benchmark_group(format!("guest/{name}"));
        g.throughput(Throughput::Elements(N));
        g.sample_size(20);
        let (bus, mut hart) = machine(&elf);
        step_n(&mut hart, &bus, prologue);
        let mut jit = jit();
        g.bench_function("jit", |b| {
            b.iter(|| black_box(jit.run(&mut hart, &*bus, 0, N, &mut || false)))
        });
        let mut interp = Interpreter::default();
        g.bench_function("interp", |b| {
            b.iter(|| black_box(interp.run(&mut hart, &*bus, 0, N, &mut || false)))
        });
        g.finish();
    }
}

/// Build the CoreMark-like C program, if the cross compiler is installed.
fn coremark_like() -> Option<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("workloads");
    let out = std::env::temp_dir().join(format!("emu-coremark-like-{}.elf", std::process::id()));
    let status = Command::new("riscv64-unknown-elf-gcc")
        .args([
            "-march=rv64gc",
            "-mabi=lp64d",
            "-O2",
            "-nostdlib",
            "-ffreestanding",
            "-mcmodel=medany",
            "-Wl,--no-warn-rwx-segments",
            "-T",
        ])
        .arg(dir.join("link.ld"))
        .arg(dir.join("start.S"))
        .arg(dir.join("coremark_like.c"))
        .arg("-o")
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {
            let elf = std::fs::read(&out).ok();
            let _ = std::fs::remove_file(&out);
            elf
        }
        _ => {
            eprintln!("note: riscv64-unknown-elf-gcc not available; guest/coremark_like left out");
            None
        }
    }
}

/// The whole CoreMark-like program from a fresh machine to its exit through the test
/// finisher, translation included (as a user running it would see), on both engines.
fn realistic(c: &mut Criterion) {
    let Some(elf) = coremark_like() else { return };
    let run = |engine: &mut dyn Engine| {
        let (bus, mut hart) = machine(&elf);
        let mut executed = 0;
        while bus.signals.exit_reason().is_none() {
            executed += engine
                .run(&mut hart, &*bus, 0, 1 << 20, &mut || false)
                .executed;
        }
        executed
    };
    let instructions = run(&mut jit());
    assert_eq!(instructions, run(&mut Interpreter::default()));
    let mut g = c.benchmark_group("guest/coremark_like");
    g.throughput(Throughput::Elements(instructions));
    g.sample_size(10);
    for (name, interp) in [("jit", false), ("interp", true)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || machine(&elf),
                |(bus, mut hart)| {
                    let mut engine: Box<dyn Engine> = if interp {
                        Box::new(Interpreter::default())
                    } else {
                        Box::new(jit())
                    };
                    while bus.signals.exit_reason().is_none() {
                        engine.run(&mut hart, &*bus, 0, 1 << 20, &mut || false);
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// Translation: drop the block and run it once, for blocks of 2, 8 and 32 instructions
/// (ALU operations, loads, stores, multiplies);
/// the throughput figure is guest instructions translated per second.
fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("translate");
    for n in [1usize, 7, 31] {
        let (bus, mut hart) = machine(&straight_line(n));
        while hart.pc != STRAIGHT_LINE_START {
            step_n(&mut hart, &bus, 1);
        }
        let pc = hart.pc;
        let len = n as u64 + 1;
        let mut jit = jit();
        g.throughput(Throughput::Elements(len));
        g.bench_function(format!("block_{len}_insns"), |b| {
            b.iter(|| {
                jit.invalidate_range(pc, pc + 4 * len);
                hart.pc = pc;
                black_box(jit.run(&mut hart, &*bus, 0, len, &mut || false))
            })
        });
    }
    g.finish();
}

/// Sdtrig's cost on a hot loop (mem_loop): no triggers, 8 armed breakpoints in the loop's
/// code page that never hit, and a load/store watchpoint on the loop's data page (on a word
/// it does not touch); then the same as 12-byte ranges, which are not a power of two and
/// so a chained `ge`/`lt` pair each (what MCD and the API arm for such ranges). The goal
/// is at least 0.9x of no triggers; for scale, QEMU 7.2 runs such a loop 47x slower with
/// one breakpoint in the page and 13-20x with a watchpoint.
fn triggers(c: &mut Criterion) {
    const CODE_PAGE_FREE: u64 = BASE + 0x800; // after the program, same page
    const DATA_PAGE_FREE: u64 = BASE + 0x10_0800; // the loop touches 0x10_0000..0x10_0800
    let mut g = c.benchmark_group("triggers/mem_loop");
    g.throughput(Throughput::Elements(N));
    g.sample_size(20);
    const GE_CHAIN: u64 = 2 << 7 | 1 << 11;
    const LT: u64 = 3 << 7;
    let setups = [
        "none",
        "8_breakpoints",
        "watchpoint",
        "range_breakpoint",
        "range_watchpoint",
    ];
    for setup in setups {
        let (bus, mut hart) = machine(&mem_loop(i64::MAX / 2));
        step_n(&mut hart, &bus, 64);
        hart.debug_mode = true;
        match setup {
            "8_breakpoints" => {
                for i in 0..8 {
                    arm(&mut hart, i, CODE_PAGE_FREE + 4 * i, 4);
                }
            }
            "watchpoint" => arm(&mut hart, 0, DATA_PAGE_FREE, 3),
            "range_breakpoint" => {
                arm(&mut hart, 0, CODE_PAGE_FREE, GE_CHAIN | 4);
                arm(&mut hart, 1, CODE_PAGE_FREE + 12, LT | 4);
            }
            "range_watchpoint" => {
                arm(&mut hart, 0, DATA_PAGE_FREE, GE_CHAIN | 3);
                arm(&mut hart, 1, DATA_PAGE_FREE + 12, LT | 3);
            }
            _ => {}
        }
        hart.debug_mode = false;
        let mut jit = jit();
        g.bench_function(setup, |b| {
            b.iter(|| {
                let r = jit.run(&mut hart, &*bus, 0, N, &mut || false);
                assert!(!hart.debug_mode, "a trigger fired");
                black_box(r)
            })
        });
    }
    g.finish();
}

/// The same three setups on the CoreMark-like program (whole run, fresh machine each
/// time): 8 breakpoints in its one hot code page (on the other harts' park loop and on
/// read-only data, never executed by hart 0) and a load/store watchpoint in its stack
/// region, 2 KiB below the top, where its small frames never reach.
fn triggers_realistic(c: &mut Criterion) {
    let Some(elf) = coremark_like() else { return };
    let Ok(prog) = emu_machine::elf::parse_elf(&elf) else {
        panic!("coremark_like ELF")
    };
    let sym = |n: &str| prog.symbol(n).unwrap_or_else(|| panic!("symbol {n}"));
    let park = sym("_start") + 0x24; // `2: wfi; j 2b` in start.S
    let text = sym("text");
    let bps = [
        park,
        park + 2,
        park + 4,
        text,
        text + 4,
        text + 8,
        text + 12,
        text + 16,
    ];
    let watch = sym("_stack_top") - 0x800;
    let mut g = c.benchmark_group("triggers/coremark_like");
    g.sample_size(10);
    for setup in ["none", "8_breakpoints", "watchpoint"] {
        g.bench_function(setup, |b| {
            b.iter_batched(
                || {
                    let (bus, mut hart) = machine(&elf);
                    hart.debug_mode = true;
                    match setup {
                        "8_breakpoints" => {
                            for (i, &a) in bps.iter().enumerate() {
                                arm(&mut hart, i as u64, a, 4);
                            }
                        }
                        "watchpoint" => arm(&mut hart, 0, watch, 3),
                        _ => {}
                    }
                    hart.debug_mode = false;
                    (bus, hart)
                },
                |(bus, mut hart)| {
                    let mut engine = jit();
                    while bus.signals.exit_reason().is_none() {
                        engine.run(&mut hart, &*bus, 0, 1 << 20, &mut || false);
                        assert!(!hart.debug_mode, "a trigger fired");
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// Program trigger `i` as a debugger would (dmode, action 1: enter Debug Mode, M-mode) on
/// `addr` with the mcontrol6 bits `low`: the accesses (4 execute, 2 store, 1 load), and
/// for ranges the match type and chain. The hart must be in Debug Mode.
fn arm(h: &mut Hart, i: u64, addr: u64, low: u64) {
    let ok = h.csr_write(0x7a0, i).is_ok()
        && h.csr_write(0x7a2, addr).is_ok()
        && h.csr_write(0x7a1, 6 << 60 | 1 << 59 | 1 << 12 | 1 << 6 | low)
            .is_ok();
    assert!(ok, "trigger CSRs");
}

criterion_group!(
    benches,
    throughput,
    realistic,
    compile,
    triggers,
    triggers_realistic
);
criterion_main!(benches);
