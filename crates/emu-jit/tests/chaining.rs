//! Linked blocks: a block that leaves by a plain jump or branch runs the block found there
//! last time without going back through the dispatcher. Each test builds a loop of several
//! blocks (never a self-loop, which iterates inside one block), checks that the links are
//! taken, and then changes what a link points at: the guest rewrites the code, a debugger
//! writes it, the guest remaps its page, an execute trigger is armed on it. The JIT must
//! reach the interpreter's state (and the stated result) every time.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_asm::reg::*;
use emu_asm::{Asm, Label};
use emu_core::{Bus, Engine, Hart, HartId, Interpreter, IsaConfig, PhysAddr};
use emu_isa::{Inst, Op, Xlen, encode32};
use emu_jit::{JitConfig, JitEngine};
use emu_machine::SystemBus;

mod common;
use common::BASE;

/// Where traps land (a spin).
const TRAP: u64 = BASE + 0x8000;

fn addi(rd: u8, rs1: u8, imm: i64) -> u32 {
    encode32(
        &Inst {
            rd,
            rs1,
            imm,
            ..Inst::new(Op::Addi)
        },
        Xlen::X64,
    )
    .unwrap()
}

fn machine(code: &[u8]) -> (SystemBus, Hart) {
    let bus = common::bus_with(code);
    let mut trap = Asm::new(Xlen::X64, TRAP);
    let spin = trap.here();
    trap.j(spin);
    common::load(&bus, TRAP, &trap.finish().unwrap());
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    h.csr.mtvec = TRAP;
    (bus, h)
}

/// Run `e` for `budget` instructions in calls of at most `chunk`, as the machine does.
fn run(e: &mut dyn Engine, h: &mut Hart, bus: &SystemBus, budget: u64, chunk: u64) {
    let mut done = 0;
    while done < budget {
        let r = e.run(h, bus, 0, (budget - done).min(chunk), &mut || false);
        assert!(r.executed > 0, "no progress at {:#x}", h.pc);
        done += r.executed;
    }
    assert_eq!(done, budget, "budgets are exact");
}

const TSELECT: u16 = 0x7a0;
const TDATA1: u16 = 0x7a1;
const TDATA2: u16 = 0x7a2;
const TCONTROL: u16 = 0x7a5;

/// Arm trigger 0 as an M-mode execute breakpoint at `at` (mcontrol6, action 0), as a
/// debugger writes it.
fn arm_breakpoint(h: &mut Hart, at: u64) {
    h.csr_write(TSELECT, 0).unwrap();
    h.csr_write(TDATA2, at).unwrap();
    h.csr_write(TDATA1, (6 << 60) | (1 << 6) | (1 << 2))
        .unwrap();
}

fn same(a: &Hart, b: &Hart, what: &str) {
    assert_eq!((a.pc, a.prv, a.x), (b.pc, b.prv, b.x), "{what}");
    assert_eq!(a.csr, b.csr, "{what}");
}

/// The interpreter and the JIT, each on its own machine with the same program.
struct Pair {
    bus_a: SystemBus,
    a: Hart,
    interp: Interpreter,
    bus_b: SystemBus,
    b: Hart,
    jit: JitEngine,
}

impl Pair {
    fn new(code: &[u8]) -> Pair {
        Pair::with(code, JitConfig::default())
    }

    /// A pair whose JIT is configured by `cfg`.
    fn with(code: &[u8], cfg: JitConfig) -> Pair {
        let (bus_a, a) = machine(code);
        let (bus_b, b) = machine(code);
        Pair {
            bus_a,
            a,
            interp: Interpreter::default(),
            bus_b,
            b,
            jit: JitEngine::new(cfg).unwrap(),
        }
    }

    /// Run both for `budget` instructions and check they agree.
    fn run(&mut self, budget: u64, what: &str) {
        self.run_in(budget, 4096, what);
    }

    /// [`Pair::run`] in calls of at most `chunk` instructions.
    fn run_in(&mut self, budget: u64, chunk: u64, what: &str) {
        run(&mut self.interp, &mut self.a, &self.bus_a, budget, chunk);
        run(&mut self.jit, &mut self.b, &self.bus_b, budget, chunk);
        same(&self.a, &self.b, what);
    }

    /// Both harts, as a debugger reaches them between runs.
    fn harts(&mut self) -> [&mut Hart; 2] {
        [&mut self.a, &mut self.b]
    }
}

/// `s0` counts down from `n`; block A decrements and leaves by a branch, block B adds 3 to
/// `s1` and jumps back to A. Returns the code and B's label.
fn two_blocks(n: i64) -> (Vec<u8>, u64) {
    let mut a = Asm::new(Xlen::X64, BASE);
    let (lp, b, out) = (a.label(), a.label(), a.label());
    a.li(S0, n);
    a.li(S1, 0);
    a.bind(lp);
    a.addi(S0, S0, -1);
    a.branch(Op::Beq, S0, ZERO, out);
    a.bind(b);
    a.addi(S1, S1, 3);
    a.addi(S2, S2, 1);
    a.j(lp);
    a.bind(out);
    a.j(out);
    let at = a.addr_of(b).unwrap();
    (a.finish().unwrap(), at)
}

#[test]
fn a_loop_of_two_blocks_runs_linked() {
    let (code, _) = two_blocks(1000);
    // Budgets that end the loop mid-chain (and mid-block) as well as past its end.
    agree_and_link(
        &code,
        &[(5203, 4096), (5203, 13), (2500, 7), (999, 1000), (5, 2)],
        5203,
    );
}

/// Run `code` (a loop adding 3 to s1 999 times) on both engines for `budget` instructions
/// in calls of `chunk`, for each pair: the same state; the whole loop run at budget `end`;
/// and in long calls, all but a few blocks reached through a link or a jump.
/// All but a few of the blocks `e` ran were reached through a link or a jump.
fn mostly_chained(e: &JitEngine) {
    let s = e.stats;
    assert!(s.chained > s.executed * 9 / 10, "{s:?}");
}

fn agree_and_link(code: &[u8], cases: &[(u64, u64)], end: u64) {
    for &(budget, chunk) in cases {
        let mut p = Pair::new(code);
        p.run_in(
            budget,
            chunk,
            &format!("budget {budget} in calls of {chunk}"),
        );
        if budget == end {
            assert_eq!(p.b.x[S1 as usize], 3 * 999, "the loop ran to its end");
        }
        if budget > 1000 && chunk > 100 {
            mostly_chained(&p.jit);
        }
    }
}

#[test]
fn guest_rewrites_a_linked_block() {
    // A: s0 -= 1, then to B, except when s0 == 50, to P. P: store `addi s1, s1, 5` over B's
    // first instruction, then to B. B: s1 += 3 (5 once patched); back to A while s0 != 0.
    let mut a = Asm::new(Xlen::X64, BASE);
    let (lp, p, b, out) = (a.label(), a.label(), a.label(), a.label());
    a.li(S0, 100);
    a.li(S1, 0);
    a.li(T4, 50);
    a.la(T2, b);
    a.li(T3, addi(S1, S1, 5) as i64);
    a.bind(lp);
    a.addi(S0, S0, -1);
    a.branch(Op::Bne, S0, T4, b);
    a.bind(p);
    a.store(Op::Sw, T3, T2, 0);
    a.j(b);
    a.bind(b);
    a.addi(S1, S1, 3);
    a.branch(Op::Bne, S0, ZERO, lp);
    a.bind(out);
    a.j(out);
    let mut p = Pair::new(&a.finish().unwrap());
    p.run(700, "patched");
    // 49 iterations before the patch add 3, the 51 from it on add 5.
    assert_eq!(p.b.x[S1 as usize], 49 * 3 + 51 * 5);
    assert!(p.jit.stats.chained > 100, "{:?}", p.jit.stats);
    assert!(p.jit.stats.invalidated >= 1, "{:?}", p.jit.stats);
}

#[test]
fn debugger_rewrites_a_linked_block() {
    let (code, b_at) = two_blocks(1000);
    let mut p = Pair::new(&code);
    p.run(400, "warm");
    assert!(p.jit.stats.chained > 50, "{:?}", p.jit.stats);
    // Between two runs, as a debugger's memory write: B now adds 7.
    for bus in [&p.bus_a, &p.bus_b] {
        bus.write(PhysAddr(b_at), 4, addi(S1, S1, 7) as u64)
            .unwrap();
        bus.note_host_write(b_at, b_at + 4);
    }
    // Two set-up instructions and 79 iterations of five, then A and B's first: the hart
    // stands at B's second instruction with s0 = 920.
    assert_eq!((p.b.pc, p.b.x[S0 as usize]), (b_at + 4, 920));
    let s1 = p.b.x[S1 as usize];
    p.run(6000, "written by the debugger");
    // The 919 iterations left all add 7.
    assert_eq!(p.b.x[S1 as usize] - s1, 7 * 919);
}

#[test]
fn breakpoint_armed_in_a_linked_loop_is_hit() {
    let (code, b_at) = two_blocks(1000);
    let mut p = Pair::new(&code);
    p.run(400, "warm");
    assert!(p.jit.stats.chained > 50, "{:?}", p.jit.stats);
    // As a debugger arms it, with the hart at B's second instruction: mcontrol6, execute,
    // M-mode, on B's first, which the loop reaches from A's exit.
    assert_eq!(p.b.pc, b_at + 4);
    for h in p.harts() {
        // M-mode breakpoints trap only with tcontrol.mte set.
        h.csr_write(TCONTROL, 1 << 3).unwrap();
        arm_breakpoint(h, b_at);
    }
    p.run(50, "armed");
    assert_eq!((p.b.csr.mcause, p.b.csr.mepc), (3, b_at), "breakpoint");
}

/// A loop that calls a function through a register and returns by `ret` (both `jalr`,
/// whose targets the dispatcher finds at run time): `s0` counts down from `n`, the function
/// adds 3 to `s1`. Returns the code and the function's address.
fn calls(n: i64) -> (Vec<u8>, u64) {
    let mut a = Asm::new(Xlen::X64, BASE);
    let (lp, f, out) = (a.label(), a.label(), a.label());
    a.li(S0, n);
    a.la(T3, f);
    a.bind(lp);
    a.addi(S0, S0, -1);
    a.branch(Op::Beq, S0, ZERO, out);
    a.i(Op::Jalr, RA, T3, 0);
    a.j(lp);
    a.bind(out);
    a.j(out);
    a.align(64);
    a.bind(f);
    a.addi(S1, S1, 3);
    a.addi(S2, S2, 1);
    a.ret();
    let at = a.addr_of(f).unwrap();
    (a.finish().unwrap(), at)
}

#[test]
fn calls_and_returns_run_linked() {
    let (code, _) = calls(1000);
    agree_and_link(&code, &[(8000, 4096), (8000, 11), (3001, 5), (7, 3)], 8000);
}

#[test]
fn breakpoint_on_a_called_function_is_hit() {
    for by_jal in [false, true] {
        breakpoint_on_a_function(by_jal);
    }
}

/// A function called by `jalr` (or `jal`) carries an execute breakpoint from the start,
/// which cannot fire in M-mode while tcontrol.mte is clear; the loop sets mte when s0
/// reaches 500 (a CSR write, which changes no block's flags), and the next call must trap
/// although the call's block was linked to the function's (or found it by `jalr`) before.
fn breakpoint_on_a_function(by_jal: bool) {
    let mut a = Asm::new(Xlen::X64, BASE);
    let (lp, call, f, out) = (a.label(), a.label(), a.label(), a.label());
    a.li(S0, 1000);
    a.la(T3, f);
    a.li(T4, 500);
    a.li(T5, 1 << 3);
    a.bind(lp);
    a.addi(S0, S0, -1);
    a.branch(Op::Beq, S0, ZERO, out);
    a.branch(Op::Bne, S0, T4, call);
    a.csrw(TCONTROL, T5);
    a.bind(call);
    if by_jal {
        a.jal(RA, f);
    } else {
        a.i(Op::Jalr, RA, T3, 0);
    }
    a.j(lp);
    a.bind(out);
    a.j(out);
    a.align(64);
    a.bind(f);
    a.addi(S1, S1, 3);
    a.ret();
    let f = a.addr_of(f).unwrap();
    let mut p = Pair::new(&a.finish().unwrap());
    for h in p.harts() {
        arm_breakpoint(h, f);
    }
    p.run(6000, &format!("by jal {by_jal}"));
    assert_eq!((p.b.csr.mcause, p.b.csr.mepc), (3, f), "breakpoint");
    // Calls made with s0 = 999 down to 501 added 3 each.
    assert_eq!((p.b.x[S0 as usize], p.b.x[S1 as usize]), (500, 3 * 499));
    assert!(p.jit.stats.chained > 1000, "{:?}", p.jit.stats);
}

// Sv39: the loop runs at virtual page LOOP_VA (-> LOOP_PA) and calls a function at
// FUNC_VA, whose page maps to F1 and, after the remap, to F2.
const ROOT: u64 = BASE + 0x1_0000;
const L1: u64 = BASE + 0x1_1000;
const L0: u64 = BASE + 0x1_2000;
const LOOP_PA: u64 = BASE + 0x2_0000;
const F1: u64 = BASE + 0x2_1000;
const F2: u64 = BASE + 0x2_2000;
const LOOP_VA: u64 = 0x4000_0000;
const FUNC_VA: u64 = LOOP_VA + 0x1000;
const ROUNDS: i64 = 3;
const CALLS: i64 = 200;

fn pte(pa: u64, flags: u64) -> i64 {
    (((pa >> 12) << 10) | flags) as i64
}

/// The function's page: `jal` back to the loop after adding `k` to a0 (`back`: the
/// virtual address to return to; a `jal`, so that both ways are linkable).
fn function(k: i64, back: u64) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, FUNC_VA);
    a.addi(A0, A0, k);
    let ret = a.label_at(back);
    a.j(ret);
    a.finish().unwrap()
}

#[test]
fn remapped_code_page_is_fetched_anew() {
    // M-mode: PMP over everything; Sv39 with the RAM gigapage identity-mapped (so S-mode
    // can write the page tables) and LOOP_VA, FUNC_VA on 4 KiB pages; mret to LOOP_VA.
    let mut m = Asm::new(Xlen::X64, BASE);
    m.li(T0, -1);
    m.i(Op::Srli, T0, T0, 10);
    m.csrw(0x3b0, T0);
    m.li(T0, 0x1f);
    m.csrw(0x3a0, T0);
    m.li(T1, ROOT as i64);
    m.li(T0, pte(BASE, 0xcf));
    m.store(Op::Sd, T0, T1, 16);
    m.li(T0, pte(L1, 1));
    m.store(Op::Sd, T0, T1, 8);
    m.li(T2, L1 as i64);
    m.li(T0, pte(L0, 1));
    m.store(Op::Sd, T0, T2, 0);
    m.li(T2, L0 as i64);
    m.li(T0, pte(LOOP_PA, 0xcb));
    m.store(Op::Sd, T0, T2, 0);
    m.li(T0, pte(F1, 0xcb));
    m.store(Op::Sd, T0, T2, 8);
    m.li(T0, (8i64 << 60) | (ROOT >> 12) as i64);
    m.csrw(0x180, T0);
    m.li(T0, 1 << 11);
    m.csrs(0x300, T0);
    m.li(T0, LOOP_VA as i64);
    m.csrw(0x341, T0);
    m.op0(Op::Mret);
    let boot = m.finish().unwrap();

    // S-mode at LOOP_VA: ROUNDS rounds of CALLS calls; after each round FUNC_VA's page is
    // switched between F1 (adds 1) and F2 (adds 100), with sfence.vma.
    let mut l = Asm::new(Xlen::X64, LOOP_VA);
    let func: Label = l.label_at(FUNC_VA);
    l.li(S1, ROUNDS);
    l.li(T2, L0 as i64);
    l.li(T5, pte(F1, 0xcb));
    l.li(T6, pte(F2, 0xcb));
    let round = l.here();
    l.li(S0, CALLS);
    let lp = l.here();
    l.j(func);
    let back = l.here();
    l.addi(S0, S0, -1);
    l.branch(Op::Bne, S0, ZERO, lp);
    // Swap: the page now maps where it did not.
    l.load(Op::Ld, T0, T2, 8);
    let to_f1 = l.label();
    l.branch(Op::Beq, T0, T6, to_f1);
    l.store(Op::Sd, T6, T2, 8);
    let fenced = l.label();
    l.j(fenced);
    l.bind(to_f1);
    l.store(Op::Sd, T5, T2, 8);
    l.bind(fenced);
    l.op0(Op::SfenceVma);
    l.addi(S1, S1, -1);
    l.branch(Op::Bne, S1, ZERO, round);
    let spin = l.here();
    l.j(spin);
    let back = l.addr_of(back).unwrap();
    let looped = l.finish().unwrap();

    let load = |bus: &SystemBus| {
        common::load(bus, LOOP_PA, &looped);
        common::load(bus, F1, &function(1, back));
        common::load(bus, F2, &function(100, back));
    };
    let mut p = Pair::new(&boot);
    load(&p.bus_a);
    load(&p.bus_b);
    p.run(4000, "remapped");
    // Rounds through F1, F2, F1.
    assert_eq!(p.b.x[A0 as usize], (CALLS * (1 + 100 + 1)) as u64);
    assert!(p.jit.stats.chained > 2 * CALLS as u64, "{:?}", p.jit.stats);
}

/// Blocks start compiled quickly and are compiled again for speed once hot: the linked
/// loop's blocks are promoted, the links then lead to the new code (nearly every block
/// still runs chained), and the state is the interpreter's; also with a threshold of a few
/// instructions, which promotes blocks in the middle of chains.
#[test]
fn hot_blocks_are_compiled_again_for_speed() {
    let (code, _) = two_blocks(100_000);
    for (hot_after, budget, chunk) in [(10_000, 300_000, 4096), (3, 2000, 7), (1, 500, 3)] {
        let cfg = JitConfig {
            hot_after,
            ..JitConfig::default()
        };
        let mut p = Pair::with(&code, cfg);
        p.run_in(budget, chunk, &format!("hot after {hot_after}"));
        let s = p.jit.stats;
        // The loop's two blocks, and for short thresholds the set-up's tail too.
        assert!(s.promoted >= 2, "{s:?}");
        assert!(s.promoted <= s.compiled / 2 + 1, "{s:?}");
        if chunk > 100 {
            mostly_chained(&p.jit);
        }
    }
}
