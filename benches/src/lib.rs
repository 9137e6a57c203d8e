//! # emu-benches: workloads shared by the criterion benchmarks
//!
//! Owns the guest programs the benchmarks run (built with emu-asm) and the set-up of a bare
//! hart on a machine bus, so benchmarks measure the engine and not the set-up.
#![warn(missing_docs)]

use emu_asm::reg::*;
use emu_asm::{Asm, elf};
use emu_core::{Hart, StepOutcome};
use emu_isa::{Op, Xlen};
use emu_machine::{Console, Machine, MachineConfig, SystemBus};
use std::sync::Arc;

/// Load address of the workloads.
pub const BASE: u64 = 0x8000_0000;

/// A tight ALU loop: `iters` iterations of 4 instructions (3 ALU + branch), then the finisher.
pub fn alu_loop(iters: i64) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    a.li(T0, iters);
    a.li(T1, 0);
    let top = a.here();
    a.r(Op::Add, T1, T1, T0);
    a.i(Op::Xori, T2, T1, 0x55);
    a.addi(T0, T0, -1);
    a.branch(Op::Bne, T0, ZERO, top);
    finish(a)
}

/// A loop that never ends (`s0 += 1; s1 += 2`): a running hart for the debug latency
/// benchmarks to halt, step and read.
pub fn endless_loop() -> Vec<u8> {
    emu_tests::debug_loop::counting_elf()
}

/// A load/store loop: `iters` iterations of a word load, add, store and pointer bump over a
/// 2 KiB buffer (8 instructions per iteration), then the finisher.
pub fn mem_loop(iters: i64) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    mem_loop_body(&mut a, iters);
    finish(a)
}

/// [`mem_loop`] in S-mode under Sv39 (identity gigapages for devices and RAM) with a PMP
/// entry in force: every access is translated, so this measures the software TLB.
pub fn mem_loop_sv39(iters: i64) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let root = BASE + 0x20_0000;
    a.li(T0, -1);
    a.i(Op::Srli, T0, T0, 10);
    a.csrw(0x3b0, T0); // pmpaddr0: everything
    a.li(T0, 0x1f);
    a.csrw(0x3a0, T0); // pmpcfg0: NAPOT, RWX
    a.li(T1, root as i64);
    for (slot, pa) in [(0, 0u64), (2, BASE)] {
        a.li(T0, (((pa >> 12) << 10) | 0xcf) as i64); // V R W X A D
        a.store(Op::Sd, T0, T1, 8 * slot);
    }
    a.li(T0, (8i64 << 60) | (root >> 12) as i64);
    a.csrw(0x180, T0); // satp: Sv39
    a.li(T0, 1 << 11);
    a.csrs(0x300, T0); // mstatus.MPP = S
    let smode = a.label();
    a.la(T0, smode);
    a.csrw(0x341, T0);
    a.op0(Op::Mret);
    a.bind(smode);
    mem_loop_body(&mut a, iters);
    finish(a)
}

fn mem_loop_body(a: &mut Asm, iters: i64) {
    a.li(T0, iters);
    a.li(S0, (BASE + 0x10_0000) as i64);
    a.li(S1, 0);
    let top = a.here();
    a.i(Op::Andi, T1, S1, 0x7f8);
    a.r(Op::Add, T1, T1, S0);
    a.load(Op::Ld, T2, T1, 0);
    a.r(Op::Add, T2, T2, T0);
    a.store(Op::Sd, T2, T1, 0);
    a.addi(S1, S1, 8);
    a.addi(T0, T0, -1);
    a.branch(Op::Bne, T0, ZERO, top);
}

/// Exit through the test finisher, then spin.
fn finish(mut a: Asm) -> Vec<u8> {
    a.li(T0, 0x10_0000);
    a.li(T1, 0x5555);
    a.store(Op::Sw, T1, T0, 0);
    let end = a.here();
    a.j(end);
    let code = a
        .finish()
        .unwrap_or_else(|e| panic!("benchmark program: {e}"));
    elf::write_elf(Xlen::X64, BASE, &code, BASE, &[])
}

/// Where [`straight_line`]'s block starts.
pub const STRAIGHT_LINE_START: u64 = BASE + 64;

/// Straight-line code for translation benchmarks: `n` instructions (a mix of ALU
/// operations, loads and stores) and a jump back to the start, so the block is `n + 1`
/// instructions long (`n` at most 31). The block starts at [`STRAIGHT_LINE_START`].
pub fn straight_line(n: usize) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    a.li(S0, (BASE + 0x10_0000) as i64);
    let top = a.label();
    a.j(top);
    a.align((STRAIGHT_LINE_START - BASE) as usize);
    a.bind(top);
    for k in 0..n {
        let r = 5 + (k % 3) as u8; // t0..t2
        match k % 6 {
            0 => a.r(Op::Add, r, r, S1),
            1 => a.i(Op::Xori, r, r, k as i64),
            2 => a.load(Op::Ld, r, S0, 8 * k as i64),
            3 => a.i(Op::Slli, r, r, 3),
            4 => a.store(Op::Sd, r, S0, 8 * k as i64),
            _ => a.r(Op::Mul, r, r, S1),
        }
    }
    a.j(top);
    let code = a
        .finish()
        .unwrap_or_else(|e| panic!("benchmark program: {e}"));
    elf::write_elf(Xlen::X64, BASE, &code, BASE, &[])
}

/// A machine loaded with `elf` and its single hart, ready to step by hand.
pub fn machine(elf: &[u8]) -> (Arc<SystemBus>, Hart) {
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        console,
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, elf).unwrap_or_else(|e| panic!("benchmark program: {e}"));
    let hart = m
        .harts
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("one hart"));
    (m.bus, hart)
}

/// Step `hart` `n` times (interrupt lines sampled once), returning how many retired.
pub fn step_n(hart: &mut Hart, bus: &SystemBus, n: u64) -> u64 {
    let mut retired = 0;
    for _ in 0..n {
        if hart.step_with_lines(bus, 0) == StepOutcome::Retired {
            retired += 1;
        }
    }
    retired
}

/// With `EMU_BENCH_LOW_LATENCY=1` in the environment, hold the host's idle CPUs polling
/// for as long as the returned value lives: what `emu --low-latency` does, here for the
/// benchmark's whole run, so emu and whatever is measured beside it (QEMU, OpenOCD, the
/// floor) run on the same host settings.
pub fn low_latency() -> Option<emu_sock::CpuLatencyHold> {
    if std::env::var_os("EMU_BENCH_LOW_LATENCY").is_none_or(|v| v != "1") {
        return None;
    }
    match emu_sock::hold_cpu_latency(0) {
        Ok(h) => {
            eprintln!("note: idle CPUs held polling (EMU_BENCH_LOW_LATENCY=1)");
            Some(h)
        }
        Err(e) => panic!("EMU_BENCH_LOW_LATENCY=1, but /dev/cpu_dma_latency: {e}"),
    }
}

/// A latency distribution in one line, from samples in nanoseconds (sorted here):
/// `median 1.68 us, p90 2.20, p99 5.10, p99.9 20.00, max 590.00; mean 2.12 us`.
pub fn distribution(ns: &mut [u64]) -> String {
    ns.sort_unstable();
    let n = ns.len();
    let us = |v: u64| v as f64 / 1000.0;
    let at = |q: f64| {
        us(ns
            .get(((n as f64 * q) as usize).min(n.saturating_sub(1)))
            .copied()
            .unwrap_or(0))
    };
    let mean = us(ns.iter().sum::<u64>()) / n.max(1) as f64;
    format!(
        "median {:.2} us, p90 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2}; mean {mean:.2} us",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        at(1.0)
    )
}

/// Whether `name` is an executable on `PATH` (benchmarks that need a tool skip without it).
pub fn on_path(name: &str) -> bool {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join(name).is_file())
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Longest a scripted gdb-multiarch session may take.
const GDB_BATCH_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Run gdb-multiarch in batch mode on `elf`, connected with `target` (a `target ...`
/// command), then `cmds`, which must end by echoing `bench-done`; its wall time.
pub fn gdb_batch(elf: &std::path::Path, target: &str, cmds: &[String]) -> std::time::Duration {
    let mut c = std::process::Command::new("gdb-multiarch");
    c.args(["-batch", "-nx", "-ex", "set confirm off"])
        .arg(elf)
        .args(["-ex", target]);
    for cmd in cmds {
        c.args(["-ex", cmd]);
    }
    let t = std::time::Instant::now();
    let child = c
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("gdb-multiarch: {e}"));
    // A session that hangs (a breakpoint never hit) fails the bench instead of stalling it.
    let pid = child.id().to_string();
    let (done, watch) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if watch.recv_timeout(GDB_BATCH_LIMIT).is_err() {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid])
                .status();
        }
    });
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("gdb-multiarch: {e}"));
    let d = t.elapsed();
    let _ = done.send(());
    let _ = watchdog.join();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bench-done"),
        "gdb-multiarch run failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

/// A one-hart machine on the JIT engine running `elf`, halted at its reset vector (for the
/// debug front ends' benchmarks); its console is captured.
pub fn start_halted_jit(elf: &[u8]) -> emu_machine::RunningMachine {
    start_jit(elf, true)
}

/// A one-hart machine on the JIT engine running `elf` (halted at its reset vector with
/// `halted`); its console is captured.
pub fn start_jit(elf: &[u8], halted: bool) -> emu_machine::RunningMachine {
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        harts: 1,
        console,
        halted,
        engine: Some(Arc::new(|_| {
            Box::new(
                emu_jit::JitEngine::new(emu_jit::JitConfig::default())
                    .unwrap_or_else(|e| panic!("{e}")),
            ) as Box<dyn emu_core::Engine>
        })),
        ..MachineConfig::default()
    };
    Machine::new(cfg, elf)
        .unwrap_or_else(|e| panic!("{e}"))
        .start()
}
