//! Blocks with the same pc and different flags coexist: switching to single-step, Debug
//! Mode or armed watchpoints translates the other variant once, and switching back and forth
//! afterwards translates nothing.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::{Engine, Hart, HartId, IsaConfig};
use emu_isa::{Op, Xlen};
use emu_jit::{JitConfig, JitEngine};

mod common;
use common::BASE;

/// Arm or disarm a store trigger (mcontrol6, M-mode) on an address nobody writes.
fn watch(h: &mut Hart, on: bool) {
    h.csr_write(0x7a0, 0).unwrap();
    h.csr_write(0x7a2, BASE + 0x8000).unwrap();
    let tdata1 = if on { 6 << 60 | 1 << 6 | 1 << 1 } else { 0 };
    h.csr_write(0x7a1, tdata1).unwrap();
    assert_eq!(h.trig.data, on);
}

#[test]
fn flag_variants_coexist() {
    let mut a = Asm::new(Xlen::X64, BASE);
    a.li(A0, 0);
    let lp = a.here();
    a.addi(A0, A0, 1);
    a.r(Op::Xor, A1, A1, A0);
    a.i(Op::Andi, A2, A0, 7);
    a.branch(Op::Bne, A2, ZERO, lp);
    a.j(lp);
    let code = a.finish().unwrap();
    let bus = common::bus_with(&code);
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    let run = |h: &mut Hart, jit: &mut JitEngine, budget: u64| {
        let r = jit.run(h, &bus, 0, budget, &mut || false);
        assert_eq!(r.executed, budget);
    };

    // Warm up every variant: whole blocks, single-step (a budget of 1 instruction at a
    // time), Debug Mode, and with a store watchpoint armed (on an address the loop never
    // touches).
    let warm = |h: &mut Hart, jit: &mut JitEngine| {
        run(h, jit, 1000);
        for _ in 0..8 {
            run(h, jit, 1);
        }
    };
    warm(&mut h, &mut jit);
    h.debug_mode = true;
    warm(&mut h, &mut jit);
    h.debug_mode = false;
    watch(&mut h, true);
    warm(&mut h, &mut jit);
    let compiled = jit.stats.compiled;
    let blocks = jit.block_count();
    assert!(blocks as u64 == compiled, "nothing was dropped");

    // Switching back and forth now translates nothing.
    for round in 0..20 {
        let (debug, watching) = [(false, false), (true, false), (false, true)][round % 3];
        h.debug_mode = debug;
        watch(&mut h, watching);
        run(&mut h, &mut jit, 500);
        for _ in 0..8 {
            run(&mut h, &mut jit, 1);
        }
    }
    assert_eq!(
        jit.stats.compiled, compiled,
        "a variant was translated again"
    );
    // Whole blocks and their single-step variants were both made, for each flag set.
    assert!(compiled >= 3 * 2 * 2, "{compiled} blocks");
}
