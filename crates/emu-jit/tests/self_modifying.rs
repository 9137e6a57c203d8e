//! Code that rewrites the instructions just ahead of it: every such store drops the block
//! that holds them, so the next block is translated again. The engine translates the next
//! few blocks as single instructions then, so the translation work stays proportional to
//! the instructions run instead of to their square; the state must be the interpreter's.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::{Engine, Hart, HartId, Interpreter, IsaConfig};
use emu_isa::{Inst, Op, Xlen, encode32};
use emu_jit::{JitConfig, JitEngine};

mod common;
use common::BASE;

#[test]
fn code_rewritten_just_ahead_is_translated_an_instruction_at_a_time() {
    const PAIRS: usize = 200;
    // PAIRS times: `sw t1, 4(t0)` over the `addi t0, t0, 8` that follows it (with the
    // same bits, so the program's meaning does not change), then that addi, which moves t0
    // to the next pair's store.
    let step = Inst {
        rd: T0,
        rs1: T0,
        imm: 8,
        ..Inst::new(Op::Addi)
    };
    let mut a = Asm::new(Xlen::X64, BASE);
    let first = a.label();
    a.li(T1, encode32(&step, Xlen::X64).unwrap() as i64);
    a.la(T0, first);
    a.bind(first);
    for _ in 0..PAIRS {
        a.store(Op::Sw, T1, T0, 4);
        a.inst(step);
    }
    a.addi(S0, S0, 1);
    let spin = a.here();
    a.j(spin);
    let code = a.finish().unwrap();
    let budget = 2 * PAIRS as u64 + 100;
    let bus_a = common::bus_with(&code);
    let bus_b = common::bus_with(&code);
    let mut ha = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut hb = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    Interpreter::default().run(&mut ha, &bus_a, 0, budget, &mut || false);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    let r = jit.run(&mut hb, &bus_b, 0, budget, &mut || false);
    assert_eq!(r.executed, budget);
    assert_eq!((ha.pc, ha.x), (hb.pc, hb.x));
    assert_eq!(hb.x[S0 as usize], 1, "ran past the pairs");
    // One instruction translated per instruction run (and a few blocks' worth besides):
    // whole blocks after each store would be about 16 per instruction.
    assert!(
        jit.stats.translated < 3 * 2 * PAIRS as u64,
        "{:?}",
        jit.stats
    );
}
