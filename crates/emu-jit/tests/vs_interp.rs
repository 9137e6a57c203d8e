//! Property: from the same state, the JIT and the reference interpreter reach the same
//! architectural state (registers, pc, privilege, CSRs, memory) after the same number of
//! instructions, for random instruction sequences of every extension, including traps,
//! illegal encodings and reserved rounding modes.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_core::{Bus, Engine, Hart, HartId, Interpreter, IsaConfig, PhysAddr};
use emu_isa::table::rows;
use emu_isa::{Xlen, decode32, encode32};
use emu_jit::{JitConfig, JitEngine};
use emu_machine::SystemBus;
use proptest::prelude::*;

mod common;
use common::BASE;

fn setup(words: &[u32], regs: &[u64], isa: IsaConfig) -> (SystemBus, Hart) {
    let bus = common::bus_with(&common::words(words));
    let mut h = Hart::new(HartId(0), isa, BASE);
    h.csr.mstatus |= 3 << 13;
    // Traps land after the code, in a handler that skips the trapping instruction:
    // csrr t6, mepc; addi t6, t6, 4; csrw mepc, t6; mret.
    h.csr.mtvec = BASE + 4 * words.len() as u64;
    common::load(
        &bus,
        h.csr.mtvec,
        &common::words(&[0x3410_2ff3, 0x004f_8f93, 0x341f_9073, 0x3020_0073]),
    );
    for (r, v) in regs.iter().enumerate().skip(1) {
        // Half the registers point into RAM (beyond the code) so memory operations land.
        h.x[r] = h.norm(if r % 2 == 0 {
            BASE + 0x8000 + (v & 0x7ff8)
        } else {
            *v
        });
    }
    for f in 0..32 {
        h.f[f] = regs[f % regs.len()].rotate_left(f as u32);
    }
    (bus, h)
}

fn valid_word(seed: u64, xlen: Xlen) -> u32 {
    let table: Vec<_> = rows().filter(|r| r.width.allows(xlen)).collect();
    let r = table[(seed % table.len() as u64) as usize];
    let w = ((seed >> 16) as u32 & !r.mask) | r.bits;
    // Keep control flow inside the program: branches and jumps become harmless no-ops.
    let i = decode32(w, xlen);
    if i.ends_block()
        && !matches!(
            i.op,
            emu_isa::Op::Csrrw | emu_isa::Op::Csrrs | emu_isa::Op::Csrrc
        )
    {
        return 0x0000_0013;
    }
    encode32(&i, xlen).unwrap_or(0x13)
}

/// Register values: random, and the edge cases of division, shifts and sign extension.
fn operand() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => any::<u64>(),
        1 => prop::sample::select(vec![
            0,
            1,
            u64::MAX,
            1 << 63,
            (1 << 63) - 1,
            0x8000_0000,
            0xffff_ffff_8000_0000,
            0xffff_ffff,
            0x7fff_ffff,
            63,
            31,
            32,
        ]),
    ]
}

/// The JIT's two compilers: every block compiled quickly (these programs never run one
/// hot), and every block compiled for speed at once.
const TIERS: [u64; 2] = [u64::MAX, 0];

fn compare(words: &[u32], regs: &[u64], isa: &IsaConfig, budget: u64, single_step: bool) {
    for hot_after in TIERS {
        let cfg = JitConfig {
            single_step,
            hot_after,
            ..JitConfig::default()
        };
        compare_in_calls(words, regs, isa, budget, budget, cfg);
    }
}

/// From the same state, the interpreter runs `budget` instructions in one call and the JIT
/// (configured by `cfg`) in calls of at most `chunk`: the same count, registers, pc,
/// privilege, CSRs and memory (and, in one call, the same way of stopping).
fn compare_in_calls(
    words: &[u32],
    regs: &[u64],
    isa: &IsaConfig,
    budget: u64,
    chunk: u64,
    cfg: JitConfig,
) {
    let (bus_a, mut a) = setup(words, regs, isa.clone());
    let (bus_b, mut b) = setup(words, regs, isa.clone());
    let ra = Interpreter::default().run(&mut a, &bus_a, 0, budget, &mut || false);
    let mut jit = JitEngine::new(cfg).unwrap();
    let (mut done, mut last) = (0, None);
    while done < budget {
        let r = jit.run(&mut b, &bus_b, 0, (budget - done).min(chunk), &mut || false);
        last = Some(r);
        if r.executed == 0 {
            break;
        }
        done += r.executed;
    }
    if chunk >= budget {
        assert_eq!(Some(ra), last);
    }
    assert_eq!(ra.executed, done);
    assert_eq!(
        jit.stats.failed, 0,
        "translation failed: {:?}",
        jit.last_error
    );
    assert_eq!((a.pc, a.prv, a.x, a.f), (b.pc, b.prv, b.x, b.f));
    assert_eq!(a.csr, b.csr);
    for off in (0..0x1_0000u64).step_by(8) {
        let at = PhysAddr(BASE + off);
        assert_eq!(bus_a.read(at, 8), bus_b.read(at, 8), "memory at {at:?}");
    }
}

/// Every ALU operation (base, M, Zb*, Zicond) on every pair of edge-case operands: one
/// program per pair runs each operation into t0 and stores the result, and the JIT must
/// leave the same registers and memory as the interpreter.
#[test]
fn alu_edge_cases() {
    for xlen in [Xlen::X64, Xlen::X32] {
        let isa = IsaConfig::full(xlen);
        let mut words = Vec::new();
        let store = if xlen == Xlen::X64 { 3 << 12 } else { 2 << 12 };
        for r in rows().filter(|r| r.width.allows(xlen)) {
            // rd = t0 (x5), rs1 = ra (x1), rs2 = gp (x3); immediate forms keep their bits.
            let w = r.bits | (5 << 7 | 1 << 15 | 3 << 20) & !r.mask;
            let i = decode32(w, xlen);
            if i.op.class() != emu_isa::OpClass::Alu || !isa.allows(&i) {
                continue;
            }
            let off = 8 * (words.len() as u32 / 2);
            words.push(w);
            // sd/sw t0, off(tp)
            words.push((off >> 5) << 25 | 5 << 20 | 4 << 15 | store | (off & 31) << 7 | 0x23);
        }
        let edge = [
            0,
            1,
            2,
            u64::MAX,
            1 << 63,
            (1 << 63) - 1,
            0x8000_0000,
            0xffff_ffff_8000_0000,
            0xffff_ffff,
            0x7fff_ffff,
            0x1234_5678_9abc_def0,
            63,
        ];
        for a in edge {
            for b in edge {
                let mut regs = [0u64; 32];
                regs[1] = a;
                regs[3] = b;
                compare(&words, &regs, &isa, words.len() as u64, false);
            }
        }
    }
}

/// Harts without C trap on jumps and taken branches to addresses that are not 4-byte
/// aligned, before writing the link register; the JIT checks this inline.
#[test]
fn misaligned_targets_without_c() {
    let words = [
        (6 << 20) | (5 << 7) | 0x13,       // addi t0, zero, 6
        (5 << 15) | (1 << 7) | 0x67,       // jalr ra, 0(t0): target 6, misaligned
        (6 << 7) | 0x63,                   // beq zero, zero, +6: taken, misaligned
        (1 << 12) | (6 << 7) | 0x63,       // bne zero, zero, +6: not taken
        (5 << 21) | (1 << 7) | 0x6f,       // jal ra, +10: misaligned
        (1 << 20) | (6 << 7) | 0x13,       // addi t1, zero, 1
        (0x7f << 25) | (0x1d << 7) | 0x63, // beq zero, zero, -4 (aligned)
    ];
    for isa in ["rv64imafd", "rv32imafd"] {
        let isa = IsaConfig::parse(isa).unwrap();
        for budget in [1, 2, 5, 9, 17, 40, 100] {
            for single_step in [false, true] {
                compare(&words, &[0; 32], &isa, budget, single_step);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn jit_and_interpreter_agree(seeds in proptest::collection::vec(any::<u64>(), 16..96), regs in proptest::collection::vec(operand(), 32), rv32 in any::<bool>()) {
        let xlen = if rv32 { Xlen::X32 } else { Xlen::X64 };
        let words: Vec<u32> = seeds.iter().map(|&s| valid_word(s, xlen)).collect();
        // Panics inside count as failures, and proptest still shrinks the case.
        compare(&words, &regs, &IsaConfig::full(xlen), 4 * words.len() as u64, false);
    }
}

/// `addi t4, t4, -1; bne t4, zero, <start>` closing a loop whose body is `body` (t4 is the
/// counter, so body words naming x29 as rd become nops).
fn counted_loop(body: &[u32]) -> Vec<u32> {
    let mut words: Vec<u32> = body
        .iter()
        .map(|&w| if (w >> 7) & 31 == 29 { 0x13 } else { w })
        .collect();
    let addi = emu_isa::Inst {
        rd: 29,
        rs1: 29,
        imm: -1,
        ..emu_isa::Inst::new(emu_isa::Op::Addi)
    };
    words.push(encode32(&addi, Xlen::X64).unwrap());
    let bne = emu_isa::Inst {
        rs1: 29,
        imm: -4 * words.len() as i64,
        ..emu_isa::Inst::new(emu_isa::Op::Bne)
    };
    words.push(encode32(&bne, Xlen::X64).unwrap());
    words
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Self-looping blocks keep registers and counters in host registers across
    /// iterations; random bodies (loads, stores, helpers, traps) and budgets that stop the
    /// loop anywhere must leave the same state as the interpreter.
    #[test]
    fn self_loops_agree(seeds in proptest::collection::vec(any::<u64>(), 1..12), regs in proptest::collection::vec(operand(), 32), iters in 1u64..20, extra in 0u64..40, rv32 in any::<bool>()) {
        let xlen = if rv32 { Xlen::X32 } else { Xlen::X64 };
        let body: Vec<u32> = seeds.iter().map(|&s| valid_word(s, xlen)).collect();
        let words = counted_loop(&body);
        let mut regs = regs;
        regs[29] = iters;
        let budget = iters * words.len() as u64 / 2 + extra;
        compare(&words, &regs, &IsaConfig::full(xlen), budget, false);
        compare(&words, &regs, &IsaConfig::full(xlen), 4 * iters * words.len() as u64, false);
    }
}

/// Jump or branch `op` (with `rd`, `rs1`, `rs2` where it has them) to `skip` instructions
/// ahead.
fn forward(op: emu_isa::Op, rd: u8, rs1: u8, rs2: u8, skip: u32) -> u32 {
    let i = emu_isa::Inst {
        rd,
        rs1,
        rs2,
        imm: 4 * skip as i64,
        ..emu_isa::Inst::new(op)
    };
    encode32(&i, Xlen::X64).unwrap()
}

/// `jal rd, +4*skip`.
fn jal_forward(skip: u32, rd: u8) -> u32 {
    forward(emu_isa::Op::Jal, rd, 0, 0, skip)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The translator runs on at the target of a `jal` forward within the page: random
    /// code with forward jumps (some across a page boundary, which ends the block), a loop
    /// back to the start, and budgets that stop anywhere, must leave the same state as the
    /// interpreter, link registers and skipped instructions included.
    #[test]
    fn forward_jumps_agree(
        seeds in proptest::collection::vec(any::<u64>(), 8..48),
        jumps in proptest::collection::vec((any::<prop::sample::Index>(), 1u32..9, 0u8..32), 1..8),
        regs in proptest::collection::vec(operand(), 32),
        lead in 0usize..1040,
        iters in 1u64..4,
        budget in 1u64..300,
        rv32 in any::<bool>(),
    ) {
        let xlen = if rv32 { Xlen::X32 } else { Xlen::X64 };
        let mut body: Vec<u32> = seeds.iter().map(|&s| valid_word(s, xlen)).collect();
        for (at, skip, rd) in jumps {
            let at = at.index(body.len());
            // Stay inside the body (a jump to its end lands on the loop's closing pair).
            let skip = skip.min((body.len() - at) as u32);
            body[at] = jal_forward(skip, rd % 29);
        }
        // Nops first, so the code sits anywhere in its page or across the next one.
        let mut words = vec![0x13; lead];
        words.extend(counted_loop(&body));
        let mut regs = regs;
        regs[29] = iters;
        let isa = IsaConfig::full(xlen);
        compare(&words, &regs, &isa, lead as u64 + budget, false);
        compare(&words, &regs, &isa, lead as u64 + 2 * iters * words.len() as u64, false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Blocks that leave by a branch or jump run the block found there last time without
    /// the dispatcher (linked): random code cut into blocks by forward conditional branches
    /// on random registers and forward jumps, in a loop (so the links are made and then
    /// taken), placed anywhere in its page or across two, with budgets that stop anywhere,
    /// in one call or in calls of a few instructions, must leave the interpreter's state.
    #[test]
    fn linked_blocks_agree(
        seeds in proptest::collection::vec(any::<u64>(), 8..48),
        branches in proptest::collection::vec((any::<prop::sample::Index>(), 1u32..9, 0u8..32, 0u8..32, 0usize..7), 1..10),
        regs in proptest::collection::vec(operand(), 32),
        lead in 0usize..1040,
        iters in 1u64..6,
        budget in 1u64..600,
        chunk in 1u64..64,
        hot in 1u64..40,
        rv32 in any::<bool>(),
    ) {
        use emu_isa::Op::*;
        let xlen = if rv32 { Xlen::X32 } else { Xlen::X64 };
        let mut body: Vec<u32> = seeds.iter().map(|&s| valid_word(s, xlen)).collect();
        for (at, skip, rs1, rs2, op) in branches {
            let at = at.index(body.len());
            let skip = skip.min((body.len() - at) as u32);
            body[at] = if op == 6 {
                jal_forward(skip, rs1 % 29)
            } else {
                // Not on the loop counter t4 (x29), so the loop still ends.
                let op = [Beq, Bne, Blt, Bge, Bltu, Bgeu][op];
                forward(op, 0, rs1 % 29, rs2 % 29, skip)
            };
        }
        let mut words = vec![0x13; lead];
        words.extend(counted_loop(&body));
        let mut regs = regs;
        regs[29] = iters;
        let isa = IsaConfig::full(xlen);
        let total = lead as u64 + budget;
        compare(&words, &regs, &isa, total, false);
        compare(&words, &regs, &isa, lead as u64 + 2 * iters * words.len() as u64, false);
        // Blocks compiled for speed after 1 to 39 instructions: some are, mid-chain.
        let cfg = JitConfig {
            hot_after: hot,
            ..JitConfig::default()
        };
        compare_in_calls(&words, &regs, &isa, total, chunk, cfg);
    }
}
