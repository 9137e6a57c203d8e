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

/// A load/store loop: `iters` iterations of a word load, add, store and pointer bump over a
/// 2 KiB buffer (8 instructions per iteration), then the finisher.
pub fn mem_loop(iters: i64) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
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
