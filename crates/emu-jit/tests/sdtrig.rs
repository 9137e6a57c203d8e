//! Sdtrig (Debug Specification 1.0, chapter 5) as guest code sees it, checked on the
//! interpreter, the JIT and the JIT with one-instruction blocks: the trigger CSRs, every
//! trigger type, both actions, timing, chains, match types, icount's exact count, trap
//! triggers, and the re-entrancy rule. Each scenario states the expected architectural
//! result. Layout: the scenario harness's (`common/scenario.rs`).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::debug::dcsr;
use emu_core::{Bus, Engine, Hart, HartId, IsaConfig, PhysAddr};
use emu_isa::{Op, Xlen};
use emu_jit::{JitConfig, JitEngine};

mod common;
use common::BASE;
use common::scenario::*;

const TSELECT: u16 = 0x7a0;
const TDATA1: u16 = 0x7a1;
const TDATA2: u16 = 0x7a2;
const TDATA3: u16 = 0x7a3;
const TINFO: u16 = 0x7a4;
const TCONTROL: u16 = 0x7a5;
const MCONTEXT: u16 = 0x7a8;
const SCONTEXT: u16 = 0x5a8;
const MSTATUS: u16 = 0x300;
const MIE: u16 = 0x304;
const MIP: u16 = 0x344;
const MEPC: u16 = 0x341;

/// Data the scenarios load and store.
const DATA: u64 = BASE + 0x3000;

const MTE: u64 = 1 << 3;
const MPTE: u64 = 1 << 7;

// mcontrol6 (type 6) fields.
const M6: u64 = 6 << 60;
const DMODE: u64 = 1 << 59;
const HIT1: u64 = 1 << 25;
const HIT0: u64 = 1 << 22;
const SELECT6: u64 = 1 << 21;
const ACTION_DEBUG: u64 = 1 << 12;
const CHAIN: u64 = 1 << 11;
const M: u64 = 1 << 6;
const EXEC: u64 = 1 << 2;
const STORE: u64 = 1 << 1;
const LOAD: u64 = 1;
fn matching(m: u64) -> u64 {
    m << 7
}
// mcontrol (type 2) fields.
const MC: u64 = 2 << 60;
const HIT_MC: u64 = 1 << 20;
const TIMING: u64 = 1 << 18;
// icount / itrigger / etrigger fields.
const ICOUNT: u64 = 3 << 60;
const ITRIGGER: u64 = 4 << 60;
const ETRIGGER: u64 = 5 << 60;
const TMEXT: u64 = 7 << 60;
const ICOUNT_HIT: u64 = 1 << 24;
const IM: u64 = 1 << 9;
const IU: u64 = 1 << 6;
const TOP_HIT: u64 = 1 << 58;
fn count(n: u64) -> u64 {
    n << 10
}

/// Program trigger `idx` with `tdata2` and then `tdata1` (as debuggers do).
fn arm(a: &mut Asm, idx: u64, tdata2: u64, tdata1: u64) {
    a.li(T0, idx as i64);
    a.csrw(TSELECT, T0);
    a.li(T0, tdata2 as i64);
    a.csrw(TDATA2, T0);
    a.li(T0, tdata1 as i64);
    a.csrw(TDATA1, T0);
}

/// Program trigger `idx` to match the address of label `at` (loaded with `la`).
fn arm_at(a: &mut Asm, idx: u64, at: emu_asm::Label, tdata1: u64) {
    a.li(T0, idx as i64);
    a.csrw(TSELECT, T0);
    a.la(T0, at);
    a.csrw(TDATA2, T0);
    a.li(T0, tdata1 as i64);
    a.csrw(TDATA1, T0);
}

fn enable_mte(a: &mut Asm) {
    a.li(T0, MTE as i64);
    a.csrw(TCONTROL, T0);
}

fn count_up(a: &mut Asm, n: usize) {
    for _ in 0..n {
        a.addi(S0, S0, 1);
    }
}

fn tdata1(h: &Hart, i: usize) -> u64 {
    h.triggers.t[i].tdata1(Xlen::X64)
}

fn cause(h: &Hart) -> u32 {
    (h.debug.dcsr & dcsr::CAUSE) >> 6
}

/// A program that arms an M-mode execute breakpoint on its own third `addi` and runs into
/// it: the instruction does not execute, the trap records its address.
#[test]
fn execute_breakpoint_traps_before_the_instruction() {
    check(
        Setup {
            main: &|a| {
                let bp = a.label();
                enable_mte(a);
                arm_at(a, 0, bp, M6 | M | EXEC);
                a.la(S5, bp);
                count_up(a, 2);
                a.bind(bp);
                count_up(a, 2);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            let bp = h.x[S5 as usize];
            assert_eq!(
                (h.pc, h.csr.mcause, h.csr.mepc, h.csr.mtval),
                (TRAP, 3, bp, bp)
            );
            assert_eq!(
                h.x[S0 as usize], 2,
                "the instruction at the breakpoint did not run"
            );
            assert_eq!(h.triggers.tcontrol, MPTE, "trap to M: mpte = mte, mte = 0");
            assert_eq!(tdata1(h, 0) & (HIT1 | HIT0), HIT0, "hit: before");
        },
    );
}

/// Action 0 does not fire in M-mode while tcontrol.mte is 0 (the re-entrancy rule).
#[test]
fn breakpoints_respect_mte() {
    check(
        Setup {
            main: &|a| {
                let bp = a.label();
                arm_at(a, 0, bp, M6 | M | EXEC);
                count_up(a, 2);
                a.bind(bp);
                count_up(a, 2);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            assert_eq!(h.x[S0 as usize], 4);
            assert_eq!(h.csr.mcause, 0, "no trap");
            assert_eq!(tdata1(h, 0) & (HIT1 | HIT0), 0);
        },
    );
}

/// A dmode execute trigger with action 1 enters Debug Mode before the instruction, with
/// cause trigger and dpc at it. Armed by a Debug Mode program that goes on to `dret` in the
/// same block (trigger writes do not end Debug Mode blocks): it still stops the very first
/// instruction after the `dret`, and a watchpoint armed beside it the first store.
#[test]
fn execute_trigger_enters_debug_mode() {
    for at in [0, 8] {
        check(
            Setup {
                main: &|a| {
                    arm(a, 0, TARGET + at, M6 | DMODE | ACTION_DEBUG | M | EXEC);
                    resume_to_target(0, 0)(a);
                },
                target: &|a| {
                    count_up(a, 4);
                    spin(a);
                },
                hart: &in_debug_mode,
            },
            100,
            &|h, _| {
                assert!(h.debug_mode);
                assert_eq!((h.pc, h.debug.dpc, cause(h)), (HALT, TARGET + at, 2));
                assert_eq!(h.x[S0 as usize], at / 4);
            },
        );
    }
    check(
        Setup {
            main: &|a| {
                arm(a, 0, TARGET + 0x100, M6 | DMODE | ACTION_DEBUG | M | EXEC);
                arm(a, 1, DATA, M6 | DMODE | ACTION_DEBUG | M | STORE);
                a.li(S5, DATA as i64);
                resume_to_target(0, 0)(a);
            },
            target: &|a| {
                count_up(a, 2);
                a.store(Op::Sd, S0, S5, 0);
                count_up(a, 2);
                spin(a);
            },
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!((h.debug.dpc, cause(h)), (TARGET + 8, 2));
            assert_eq!(h.x[S0 as usize], 2);
            assert_ne!(tdata1(h, 1) & HIT0, 0, "the watchpoint hit");
        },
    );
}

/// Breakpoints inside and after a hot loop: the JIT's self-looping block must stop at them.
#[test]
fn breakpoints_in_and_after_a_loop() {
    for inside in [false, true] {
        check(
            Setup {
                main: &|a| {
                    let (lp, body, after) = (a.label(), a.label(), a.label());
                    enable_mte(a);
                    arm_at(a, 0, if inside { body } else { after }, M6 | M | EXEC);
                    a.li(S1, 200);
                    a.bind(lp);
                    a.addi(S0, S0, 1);
                    a.bind(body);
                    a.addi(S2, S2, 1);
                    a.branch(Op::Bne, S0, S1, lp);
                    a.bind(after);
                    a.addi(S3, S3, 1);
                    spin(a);
                },
                target: &nothing,
                hart: &as_is,
            },
            2000,
            &|h, _| {
                assert_eq!((h.pc, h.csr.mcause), (TRAP, 3));
                let (s0, s2) = (h.x[S0 as usize], h.x[S2 as usize]);
                if inside {
                    assert_eq!((s0, s2), (1, 0), "first visit of the loop body");
                } else {
                    assert_eq!((s0, s2, h.x[S3 as usize]), (200, 200, 0));
                }
            },
        );
    }
}

/// The store `op T2, off(T1)` with S5 pointing at it, then `S0 += 1` and a spin.
fn store_at_s5(a: &mut Asm, op: Op, off: i64) {
    let st = a.label();
    a.la(S5, st);
    a.bind(st);
    a.store(op, T2, T1, off);
    a.addi(S0, S0, 1);
    spin(a);
}

/// The hart took a breakpoint exception (mcause 3) at the instruction S5 points to, for
/// an access at `tval`.
fn breakpoint_trap_at_s5(h: &Hart, tval: u64) {
    assert_eq!(
        (h.pc, h.csr.mcause, h.csr.mepc),
        (TRAP, 3, h.x[S5 as usize])
    );
    assert_eq!(h.csr.mtval, tval, "the access's address");
}

/// A store address trigger fires before the store (memory unchanged) on any byte of the
/// access; a store elsewhere does not fire.
#[test]
fn store_address_watchpoint() {
    check(
        Setup {
            main: &|a| {
                enable_mte(a);
                arm(a, 0, DATA + 13, M6 | M | STORE);
                a.li(T1, DATA as i64);
                a.li(T2, 0x1122_3344_5566_7788);
                a.store(Op::Sd, T2, T1, 0); // bytes DATA..DATA+8: no match
                store_at_s5(a, Op::Sd, 8); // covers DATA + 13
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            breakpoint_trap_at_s5(h, DATA + 8);
            assert_eq!(h.x[S0 as usize], 0);
            assert_eq!(tdata1(h, 0) & (HIT1 | HIT0), HIT0);
        },
    );
}

/// A store watchpoint on the first byte of a 64-byte line (the JIT marks the lines store
/// triggers may match in its code map): a store ending just below it does not fire, a
/// misaligned store starting on the line below and reaching into it does.
#[test]
fn store_watchpoint_reached_from_the_line_below() {
    check(
        Setup {
            main: &|a| {
                enable_mte(a);
                arm(a, 0, DATA + 0x40, M6 | M | STORE);
                a.li(T1, DATA as i64);
                a.li(T2, 0x1122_3344_5566_7788);
                a.store(Op::Sd, T2, T1, 0x38); // DATA+0x38..0x40: no match
                a.store(Op::Sw, T2, T1, 0x44); // the watched line, other bytes
                a.load(Op::Ld, S6, T1, 0x38);
                a.load(Op::Lwu, S7, T1, 0x44);
                store_at_s5(a, Op::Sw, 0x3e); // DATA+0x3e..0x42
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            breakpoint_trap_at_s5(h, DATA + 0x3e);
            assert_eq!(h.x[S0 as usize], 0);
            assert_eq!(
                h.x[S6 as usize], 0x1122_3344_5566_7788,
                "the store below ran"
            );
            assert_eq!(h.x[S7 as usize], 0x5566_7788, "and the one beside");
        },
    );
}

/// mcontrol `timing` = 1 on a store: the trap follows the retired store (mepc is the next
/// instruction, tval the access's address).
#[test]
fn store_watchpoint_after_the_access() {
    check(
        Setup {
            main: &|a| {
                enable_mte(a);
                arm(a, 0, DATA + 8, MC | TIMING | M | STORE);
                let next = a.label();
                a.la(S5, next);
                a.li(T1, DATA as i64);
                a.li(T2, 0x1122_3344_5566_7788);
                a.store(Op::Sd, T2, T1, 0); // no match
                a.store(Op::Sd, T2, T1, 8);
                a.bind(next);
                a.addi(S0, S0, 1);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            assert_eq!((h.pc, h.csr.mcause), (TRAP, 3));
            assert_eq!(h.csr.mepc, h.x[S5 as usize], "after the store: it retired");
            assert_eq!(h.csr.mtval, DATA + 8);
            assert_eq!(h.x[S0 as usize], 0, "nothing after it ran");
            assert_eq!(tdata1(h, 0) & HIT_MC, HIT_MC);
        },
    );
}

/// Data-value triggers: a store matches on the value about to be stored (before: memory
/// keeps the old value); a load matches on the value loaded, after the instruction.
#[test]
fn data_value_triggers() {
    check(
        Setup {
            main: &|a| {
                enable_mte(a);
                arm(a, 0, 7, M6 | SELECT6 | M | STORE);
                a.li(T1, DATA as i64);
                a.li(T2, 5);
                a.store(Op::Sw, T2, T1, 0);
                a.li(T2, 7);
                let st = a.label();
                a.la(S5, st);
                a.bind(st);
                a.store(Op::Sw, T2, T1, 0);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            breakpoint_trap_at_s5(h, DATA);
        },
    );
    check(
        Setup {
            main: &|a| {
                enable_mte(a);
                a.li(T1, DATA as i64);
                a.li(T2, 0x42);
                a.store(Op::Sw, T2, T1, 4);
                arm(a, 0, 0x42, M6 | SELECT6 | M | LOAD);
                let after = a.label();
                a.la(S5, after);
                a.load(Op::Lw, A0, T1, 0); // loads 0: no match
                a.load(Op::Lw, A1, T1, 4); // loads 0x42: fires after
                a.bind(after);
                a.addi(S0, S0, 1);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            assert_eq!((h.pc, h.csr.mcause), (TRAP, 3));
            assert_eq!(h.csr.mepc, h.x[S5 as usize], "after the load");
            assert_eq!(h.x[A1 as usize], 0x42, "the load completed");
            assert_eq!(h.x[S0 as usize], 0);
            assert_eq!(tdata1(h, 0) & (HIT1 | HIT0), HIT1 | HIT0, "hit: after");
        },
    );
}

/// mcontrol (type 2) with timing = 1: an execute trigger acts after the instruction.
#[test]
fn mcontrol_timing_after() {
    check(
        Setup {
            main: &|a| {
                let (bp, after) = (a.label(), a.label());
                enable_mte(a);
                arm_at(a, 0, bp, MC | TIMING | M | EXEC);
                a.la(S5, after);
                a.addi(S0, S0, 1);
                a.bind(bp);
                a.addi(S0, S0, 1);
                a.bind(after);
                a.addi(S0, S0, 1);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        100,
        &|h, _| {
            assert_eq!((h.pc, h.csr.mcause), (TRAP, 3));
            assert_eq!(
                h.csr.mepc, h.x[S5 as usize],
                "right after the breakpoint's addi"
            );
            assert_eq!(h.x[S0 as usize], 2);
            assert_ne!(tdata1(h, 0) & HIT_MC, 0);
        },
    );
}

/// Chains: a trigger with chain = 1 fires only together with the next; `>=` chained with
/// `<` is a range breakpoint. NAPOT covers its power-of-two block.
#[test]
fn chains_and_ranges() {
    // (tdata1 low/tdata2 of trigger 0, of trigger 1, first instruction index that fires)
    let cases: [(u64, u64, u64, u64, Option<u64>); 3] = [
        // [TARGET+12, TARGET+20): fires at the 4th instruction.
        (
            matching(2) | CHAIN,
            TARGET + 12,
            matching(3),
            TARGET + 20,
            Some(3),
        ),
        // An empty range: never.
        (
            matching(2) | CHAIN,
            TARGET + 20,
            matching(3),
            TARGET + 12,
            None,
        ),
        // NAPOT: 16 bytes from TARGET+16 (trigger 1 does not chain).
        (matching(1), TARGET + 16 + 7, matching(0), 0, Some(4)),
    ];
    for (t0, a0, t1, a1, first) in cases {
        check(
            Setup {
                main: &|a| {
                    enable_mte(a);
                    arm(a, 0, a0, M6 | M | EXEC | t0);
                    arm(a, 1, a1, M6 | M | EXEC | t1);
                    a.li(T0, TARGET as i64);
                    a.i(Op::Jalr, ZERO, T0, 0);
                },
                target: &|a| {
                    count_up(a, 8);
                    spin(a);
                },
                hart: &as_is,
            },
            100,
            &|h, _| match first {
                Some(k) => {
                    assert_eq!((h.pc, h.csr.mcause, h.csr.mepc), (TRAP, 3, TARGET + 4 * k));
                    assert_eq!(h.x[S0 as usize], k);
                }
                None => assert_eq!((h.x[S0 as usize], h.csr.mcause), (8, 0)),
            },
        );
    }
}

/// The trigger CSRs: tinfo, reset type, tselect's WARL bound, tcontrol/mcontext/scontext
/// widths, and what M-mode may not set (dmode, action 1).
#[test]
fn trigger_csrs() {
    check(
        Setup {
            main: &|a| {
                a.csrr(A0, TINFO);
                a.csrr(A1, TDATA1);
                a.li(T0, 8);
                a.csrw(TSELECT, T0);
                a.csrr(A2, TSELECT);
                a.li(T0, 7);
                a.csrw(TSELECT, T0);
                a.csrr(A3, TSELECT);
                a.li(T0, -1);
                a.csrw(TCONTROL, T0);
                a.csrr(A4, TCONTROL);
                a.csrw(MCONTEXT, T0);
                a.csrr(A5, MCONTEXT);
                a.csrw(SCONTEXT, T0);
                a.csrr(A6, SCONTEXT);
                // M-mode asks for dmode and action 1: gets neither.
                a.li(T0, (M6 | DMODE | ACTION_DEBUG | M | EXEC) as i64);
                a.csrw(TDATA1, T0);
                a.csrr(A7, TDATA1);
                a.li(T0, 0x1234);
                a.csrw(TDATA3, T0);
                a.csrr(S2, TDATA3);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        },
        200,
        &|h, _| {
            let x = |r: u8| h.x[r as usize];
            assert_eq!(x(A0), 1 << 24 | 0x80fc, "version 1; types 2-7 and 15");
            assert_eq!(x(A1), M6, "mcontrol6, nothing enabled");
            assert_eq!((x(A2), x(A3)), (0, 7), "tselect stays below 8");
            assert_eq!(x(A4), MTE | MPTE);
            assert_eq!((x(A5), x(A6)), (0x1fff, 0xffff_ffff));
            assert_eq!(x(A7), M6 | M | EXEC);
            assert_eq!(x(S2), 0x1234);
        },
    );
}

/// Trigger CSRs belong to M-mode (scontext to S): U-mode gets illegal instruction.
#[test]
fn trigger_csrs_from_user_mode() {
    for csr in [TSELECT, TDATA1, TINFO, SCONTEXT] {
        check(
            Setup {
                main: &|a| {
                    a.li(T0, TARGET as i64);
                    a.csrw(MEPC, T0);
                    a.op0(Op::Mret); // MPP = 0 after reset: U-mode
                },
                target: &|a| a.csrr(A0, csr),
                hart: &as_is,
            },
            20,
            &|h, _| assert_eq!((h.pc, h.csr.mcause, h.csr.mepc), (TRAP, 2, TARGET)),
        );
    }
}

/// A dmode trigger cannot be changed from M-mode.
#[test]
fn dmode_triggers_are_debug_mode_only() {
    check(
        Setup {
            main: &|a| {
                arm(a, 0, DATA, M6 | DMODE | ACTION_DEBUG | M | EXEC);
                resume_to_target(0, 0)(a);
            },
            target: &|a| {
                arm(a, 0, 0, 0); // ignored: trigger 0 is dmode
                count_up(a, 4);
                spin(a);
            },
            hart: &in_debug_mode,
        },
        200,
        &|h, _| {
            assert_eq!(h.triggers.t[0].tdata2, DATA);
            assert_eq!(h.x[S0 as usize], 4);
            assert_eq!(tdata1(h, 0) & (DMODE | EXEC), DMODE | EXEC);
        },
    );
}

/// icount in U-mode only, action 0: three U instructions, then a breakpoint trap with
/// tval 0 before the fourth. The M-mode `mret` does not count.
#[test]
fn icount_counts_user_instructions() {
    check(
        Setup {
            main: &|a| {
                enable_mte(a);
                arm(a, 0, 0, ICOUNT | count(3) | IU);
                a.li(T0, TARGET as i64);
                a.csrw(MEPC, T0);
                a.op0(Op::Mret);
            },
            target: &|a| {
                count_up(a, 6);
                spin(a);
            },
            hart: &as_is,
        },
        100,
        &|h, _| {
            assert_eq!((h.pc, h.csr.mcause, h.csr.mtval), (TRAP, 3, 0));
            assert_eq!(h.csr.mepc, TARGET + 12);
            assert_eq!(h.x[S0 as usize], 3);
            let t = tdata1(h, 0);
            assert_eq!(t >> 10 & 0x3fff, 0, "count reached 0");
            assert_eq!(t & (1 << 8), 0, "no longer pending");
            assert_ne!(t & ICOUNT_HIT, 0);
        },
    );
}

/// icount with action 1 is an exact single step of any length, also through a loop the
/// JIT runs as one self-looping block.
#[test]
fn icount_is_exact() {
    for n in [1u64, 2, 51, 1000] {
        check(
            Setup {
                main: &|a| {
                    arm(a, 0, 0, ICOUNT | DMODE | count(n) | IM | 1);
                    resume_to_target(0, 0)(a);
                },
                target: &|a| {
                    let lp = a.here();
                    a.addi(S0, S0, 1);
                    a.j(lp);
                },
                hart: &in_debug_mode,
            },
            5000,
            &|h, _| {
                assert!(h.debug_mode, "n = {n}");
                assert_eq!(cause(h), 2);
                let addis = n.div_ceil(2);
                assert_eq!(h.x[S0 as usize], addis, "n = {n}");
                let next = if n % 2 == 1 { TARGET + 4 } else { TARGET };
                assert_eq!(h.debug.dpc, next, "n = {n}");
            },
        );
    }
}

/// etrigger: an illegal instruction in U-mode traps to M; the trigger fires before the
/// handler's first instruction (dpc = the handler).
#[test]
fn etrigger_fires_at_the_handler() {
    check(
        Setup {
            main: &|a| {
                arm(a, 0, 1 << 2, ETRIGGER | DMODE | IU | 1);
                resume_to_target(0, dcsr::PRV)(a); // dret to U-mode
            },
            target: &|a| {
                a.addi(S0, S0, 1);
                a.csrr(T1, MSTATUS); // illegal in U-mode
                a.addi(S0, S0, 1);
            },
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!((h.debug.dpc, cause(h)), (TRAP, 2));
            assert_eq!((h.csr.mcause, h.csr.mepc), (2, TARGET + 4));
            assert_ne!(tdata1(h, 0) & TOP_HIT, 0);
        },
    );
}

/// itrigger: a supervisor software interrupt taken from U-mode into M; Debug Mode at the
/// handler.
#[test]
fn itrigger_fires_at_the_handler() {
    check(
        Setup {
            main: &|a| {
                arm(a, 0, 1 << 1, ITRIGGER | DMODE | IU | 1);
                a.li(T0, 2);
                a.csrs(MIE, T0);
                a.csrs(MIP, T0);
                resume_to_target(0, dcsr::PRV)(a);
            },
            target: &|a| {
                count_up(a, 4);
                spin(a);
            },
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!((h.debug.dpc, cause(h)), (TRAP, 2));
            assert_eq!(h.csr.mcause, 1 << 63 | 1);
            assert_eq!(h.csr.mepc, TARGET, "taken before the first U instruction");
        },
    );
}

/// tmexttrigger: an external input fires the trigger at the next instruction boundary.
#[test]
fn external_trigger_input() {
    for kind in KINDS {
        let (bus, mut h) = prepare(&Setup {
            main: &|a| {
                let lp = a.here();
                a.addi(S0, S0, 1);
                a.j(lp);
            },
            target: &nothing,
            hart: &as_is,
        });
        h.debug_mode = true; // only Debug Mode may program action 1
        h.csr_write(TDATA1, TMEXT | DMODE | 1 << 8 | 1).unwrap(); // select input 2
        h.debug_mode = false;
        let mut e = engine(kind);
        run(e.as_mut(), &mut h, &bus, 100);
        h.external_trigger(1); // not selected
        run(e.as_mut(), &mut h, &bus, 100);
        assert!(!h.debug_mode, "{kind:?}");
        h.external_trigger(1 << 2);
        run(e.as_mut(), &mut h, &bus, 100);
        assert!(h.debug_mode, "{kind:?}");
        assert_eq!(cause(&h), 2);
        assert_ne!(tdata1(&h, 0) & TOP_HIT, 0);
    }
}

/// RV32: tdata1's fields move with XLEN (type in bits 31:28); a breakpoint fires.
#[test]
fn rv32_layout() {
    let mut a = Asm::new(Xlen::X32, BASE);
    let bp = a.label();
    a.li(T0, MTE as i64);
    a.csrw(TCONTROL, T0);
    a.csrr(A0, TDATA1);
    a.la(T0, bp);
    a.csrw(TDATA2, T0);
    a.li(T0, (6 << 28 | M | EXEC) as i64);
    a.csrw(TDATA1, T0);
    a.csrr(A1, TDATA1);
    a.addi(S0, S0, 1);
    a.bind(bp);
    a.addi(S0, S0, 1);
    let code = a.finish().unwrap();
    for kind in KINDS {
        let bus = common::bus_with(&code);
        let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X32), BASE);
        h.csr.mtvec = TRAP;
        common::load(&bus, TRAP, &common::words(&[0x6f])); // j .
        let mut e = engine(kind);
        run(e.as_mut(), &mut h, &bus, 50);
        assert_eq!(h.x[A0 as usize] as u32, 0x6000_0000, "{kind:?}");
        assert_eq!(h.x[A1 as usize] as u32, (6 << 28 | M | EXEC) as u32);
        assert_eq!((h.pc, h.csr.mcause, h.x[S0 as usize]), (TRAP, 3, 1));
    }
}

/// The JIT: breakpoints and a watchpoint that are never hit, in the page of a hot loop,
/// leave the loop a self-looping block (a handful of dispatches for 100 000 instructions),
/// and arming them retranslates only the blocks they cover.
#[test]
fn never_hit_triggers_keep_loops_fast() {
    let mut a = Asm::new(Xlen::X64, BASE);
    let lp = a.label();
    a.li(T1, DATA as i64);
    a.bind(lp);
    a.addi(S0, S0, 1);
    a.load(Op::Ld, A0, T1, 0);
    let st = a.here();
    a.store(Op::Sd, S0, T1, 8);
    a.j(lp);
    let never = a.here();
    count_up(&mut a, 16);
    let (st, never) = (a.addr_of(st).unwrap(), a.addr_of(never).unwrap());
    let code = a.finish().unwrap();
    let bus = common::bus_with(&code);
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    let go = |h: &mut Hart, jit: &mut JitEngine| {
        let before = jit.stats.executed;
        let r = jit.run(h, &bus, 0, 100_000, &mut || false);
        assert_eq!(r.executed, 100_000);
        jit.stats.executed - before
    };
    go(&mut h, &mut jit);
    h.debug_mode = true;
    for k in 0..8 {
        h.csr_write(TSELECT, k).unwrap();
        h.csr_write(TDATA2, never + 4 * k).unwrap();
        h.csr_write(TDATA1, M6 | DMODE | ACTION_DEBUG | M | EXEC)
            .unwrap();
    }
    h.debug_mode = false;
    let dispatches = go(&mut h, &mut jit);
    assert!(dispatches < 20, "{dispatches} dispatches");
    assert_eq!(jit.stats.invalidated, 0, "the loop's blocks were kept");
    // Ranges as ge/lt chains: an execute range past the loop, and a load/store range of
    // 12 bytes in the page it does not touch. A chain covers what all its members match,
    // so the loop keeps its blocks and its speed (each member alone covers half of all
    // addresses, the loop's among them).
    let chains = [
        (never + 4, matching(2) | CHAIN | EXEC),
        (never + 20, matching(3) | EXEC),
        (DATA + 0x100, matching(2) | CHAIN | STORE | LOAD),
        (DATA + 0x10c, matching(3) | STORE | LOAD),
    ];
    let set = |h: &mut Hart, list: &[(u64, u64)]| {
        h.debug_mode = true;
        for (k, &(t2, low)) in list.iter().enumerate() {
            h.csr_write(TSELECT, k as u64).unwrap();
            h.csr_write(TDATA2, t2).unwrap();
            h.csr_write(TDATA1, M6 | DMODE | ACTION_DEBUG | M | low)
                .unwrap();
        }
        h.debug_mode = false;
    };
    set(&mut h, &chains);
    assert_eq!(
        h.watch.store_len,
        12 + 7,
        "the store range, from 7 bytes below"
    );
    let dispatches = go(&mut h, &mut jit);
    assert!(dispatches < 20, "{dispatches} dispatches with range chains");
    assert_eq!(jit.stats.invalidated, 0, "the loop's blocks were kept");
    assert!(!h.debug_mode);
    let singles: Vec<(u64, u64)> = (0..4).map(|k| (never + 4 * k, EXEC)).collect();
    set(&mut h, &singles);
    // A store watchpoint on a word of the page the loop does not touch.
    h.debug_mode = true;
    h.csr_write(TSELECT, 0).unwrap();
    h.csr_write(TDATA2, DATA + 0x100).unwrap();
    h.csr_write(TDATA1, M6 | DMODE | ACTION_DEBUG | M | STORE | LOAD)
        .unwrap();
    h.debug_mode = false;
    let dispatches = go(&mut h, &mut jit);
    assert!(dispatches < 20, "{dispatches} dispatches");
    assert!(!h.debug_mode);
    // Moved onto the loop's store: it fires, before the store.
    h.debug_mode = true;
    h.csr_write(TDATA2, DATA + 8).unwrap();
    h.debug_mode = false;
    let old = bus.read(PhysAddr(DATA + 8), 8).unwrap();
    jit.run(&mut h, &bus, 0, 100, &mut || false);
    assert!(h.debug_mode);
    assert_eq!(bus.read(PhysAddr(DATA + 8), 8).unwrap(), old);
    assert_eq!(h.debug.dpc, st);
}

/// The number of triggers is configurable: tselect stops at the last one; with none, tdata1
/// reads 0 (no trigger to program).
#[test]
fn trigger_count_is_configurable() {
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    h.set_trigger_count(2);
    for (write, read) in [(1, 1), (2, 1), (0, 0), (7, 0)] {
        h.csr_write(TSELECT, write).unwrap();
        assert_eq!(h.csr_read(TSELECT, &common::bus_with(&[])).unwrap(), read);
    }
    h.set_trigger_count(0);
    let bus = common::bus_with(&[]);
    assert_eq!(h.csr_read(TDATA1, &bus).unwrap(), 0);
    h.csr_write(TDATA1, M6 | M | EXEC).unwrap();
    assert!(!h.trig.exec, "nothing to arm");
}

/// A debugger stepping over a breakpoint disarms it and arms it again each time: the blocks
/// that one change drops come back from the JIT's shelf when the trigger returns, instead of
/// being compiled again; and a block whose code is written meanwhile never comes back.
#[test]
fn rearmed_breakpoints_reuse_their_blocks_and_written_code_is_not_reused() {
    let mut a = Asm::new(Xlen::X64, BASE);
    let lp = a.label();
    a.bind(lp);
    a.addi(S0, S0, 1);
    let at = a.here();
    a.addi(S1, S1, 1);
    a.j(lp);
    let at = a.addr_of(at).unwrap();
    let code = a.finish().unwrap();
    let bus = common::bus_with(&code);
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    let set = |h: &mut Hart, tdata1: u64| {
        h.debug_mode = true;
        h.csr_write(TSELECT, 0).unwrap();
        h.csr_write(TDATA2, at).unwrap();
        h.csr_write(TDATA1, tdata1).unwrap();
        h.debug_mode = false;
    };
    let bp = M6 | DMODE | ACTION_DEBUG | M | EXEC;
    // Stop at the breakpoint, then step over it with it disarmed: `rounds` times.
    let cycle = |h: &mut Hart, jit: &mut JitEngine, rounds: usize| {
        for _ in 0..rounds {
            set(h, bp);
            jit.run(h, &bus, 0, 1000, &mut || false);
            assert!(h.debug_mode);
            assert_eq!(h.debug.dpc, at);
            h.debug_mode = false;
            h.pc = at;
            set(h, 0);
            let r = jit.run(h, &bus, 0, 7, &mut || false);
            assert_eq!(r.executed, 7);
            assert!(!h.debug_mode);
        }
    };
    cycle(&mut h, &mut jit, 2);
    let compiled = jit.stats.compiled;
    let (s0, s1) = (h.x[S0 as usize], h.x[S1 as usize]);
    cycle(&mut h, &mut jit, 10);
    assert_eq!(jit.stats.compiled, compiled, "nothing compiled again");
    assert!(jit.stats.reused >= 10, "{:?}", jit.stats);
    // Each round: to the breakpoint, then 7 more (the addi s1 there, j, and two loops).
    assert_eq!(h.x[S1 as usize] - s1, 10 * 3);
    assert_eq!(h.x[S0 as usize] - s0, 10 * 3);
    // Halted at the breakpoint, the debugger rewrites the instruction there: stepping over
    // it runs the new code, not a block kept from before.
    set(&mut h, bp);
    jit.run(&mut h, &bus, 0, 1000, &mut || false);
    assert!(h.debug_mode);
    common::load(&bus, at, &common::words(&[0x0054_8493])); // addi s1, s1, 5
    bus.note_host_write(at, at + 4); // as a debugger's write says
    let s1 = h.x[S1 as usize];
    h.debug_mode = false;
    h.pc = at;
    set(&mut h, 0);
    jit.run(&mut h, &bus, 0, 7, &mut || false);
    assert_eq!(h.x[S1 as usize] - s1, 5 + 5 + 5);
}
