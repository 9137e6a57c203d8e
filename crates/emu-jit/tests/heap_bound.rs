//! Retranslating the same blocks forever (as breakpoints toggled in a loop would) keeps code
//! memory within the heap's fixed size, and the guest keeps computing the right result.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_core::bus::RamBus;
use emu_core::{Bus, Engine, Hart, HartId, IsaConfig, PhysAddr};
use emu_isa::{Inst, Op, Xlen, encode32};
use emu_jit::{JitConfig, JitEngine};

const BASE: u64 = 0x8000_0000;

/// A RAM-only bus (no inline RAM path: every access takes the helpers) holding `prog`.
fn ram_with(prog: &[Inst]) -> RamBus {
    let ram = RamBus::new(BASE, 0x1_0000);
    for (k, i) in prog.iter().enumerate() {
        let w = encode32(i, Xlen::X64).unwrap();
        ram.write(PhysAddr(BASE + 4 * k as u64), 4, w as u64)
            .unwrap();
    }
    ram
}

#[test]
fn code_heap_stays_bounded_under_endless_retranslation() {
    // A 3-instruction block: a0 += 1; a1 += a0; j back to the start.
    let prog = [
        Inst {
            rd: 10,
            rs1: 10,
            imm: 1,
            ..Inst::new(Op::Addi)
        },
        Inst {
            rd: 11,
            rs1: 11,
            rs2: 10,
            ..Inst::new(Op::Add)
        },
        Inst {
            rd: 0,
            imm: -8,
            ..Inst::new(Op::Jal)
        },
    ];
    let ram = ram_with(&prog);
    let heap = 64 << 10;
    let mut jit = JitEngine::new(JitConfig {
        code_heap: heap,
        ..JitConfig::default()
    })
    .unwrap();
    let mut hart = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    const ROUNDS: u64 = 100_000;
    let mut peak = 0;
    for _ in 0..ROUNDS {
        jit.invalidate_range(BASE, BASE + 12);
        let stats = jit.run(&mut hart, &ram, 0, 3, &mut || false);
        assert_eq!(stats.executed, 3);
        peak = peak.max(jit.code_bytes());
    }
    assert_eq!(hart.x[10], ROUNDS, "every round ran the block once");
    assert_eq!(hart.x[11], ROUNDS * (ROUNDS + 1) / 2);
    assert_eq!(jit.stats.compiled, ROUNDS, "every round retranslated");
    assert!(
        peak <= heap,
        "code memory {peak} exceeds the {heap}-byte heap"
    );
    assert!(jit.stats.flushes > 0, "the heap filled and was recycled");
    assert_eq!(jit.block_count(), 1);
}

/// The budget is exact even when blocks are longer than what is left of it.
#[test]
fn budgets_are_exact() {
    let prog: Vec<Inst> = (0..20)
        .map(|k| Inst {
            rd: 10,
            rs1: 10,
            imm: k,
            ..Inst::new(Op::Addi)
        })
        .collect();
    let ram = ram_with(&prog);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    let mut hart = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut total = 0;
    for budget in [1u64, 3, 7, 2, 5] {
        let s = jit.run(&mut hart, &ram, 0, budget, &mut || false);
        assert_eq!(s.executed, budget);
        total += budget;
        assert_eq!(
            hart.pc,
            BASE + 4 * total,
            "stopped exactly after {total} instructions"
        );
    }
    assert_eq!(hart.x[10], (0..total as i64).sum::<i64>() as u64);
    assert_eq!(jit.stats.failed, 0);
}
