//! Sdext (Debug Mode) as the Debug Specification 1.0 describes it, checked on the
//! interpreter, the JIT and the JIT with one-instruction blocks: every scenario states the
//! expected architectural result, and all three engines must reach it.
//! The layout is the scenario harness's (`common/scenario.rs`).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::debug::dcsr;
use emu_core::{Bus, DebugCause, EngineExit, Hart, HartId, IsaConfig, Priv};
use emu_isa::{Op, Xlen};

mod common;
use common::BASE;
use common::scenario::*;

#[test]
fn dcsr_after_reset() {
    let h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    assert_eq!(h.debug.dcsr >> 28, 4, "debugver 1.0");
    assert_eq!(h.debug.dcsr & dcsr::PRV, 3);
    assert_eq!(h.debug.dcsr & dcsr::CAUSE, 0);
    assert_ne!(h.debug.dcsr & dcsr::STOPCOUNT, 0);
    assert_ne!(h.debug.dcsr & dcsr::MPRVEN, 0);
    assert_eq!(
        h.debug.dcsr & (dcsr::STEP | dcsr::EBREAKM | dcsr::STOPTIME),
        0
    );
}

/// The core debug registers exist only in Debug Mode.
#[test]
fn debug_csrs_only_in_debug_mode() {
    for csr in [DCSR, DPC, DSCRATCH0, 0x7b3] {
        check(
            Setup {
                main: &|a| a.csrr(T1, csr),
                target: &nothing,
                hart: &as_is,
            },
            20,
            &|h, _| {
                assert_eq!(h.pc, TRAP);
                assert_eq!(h.csr.mcause, 2, "illegal instruction");
            },
        );
    }
}

/// dcsr's read-only fields ignore writes; prv is WARL (2 keeps the old value); dscratch
/// and dpc hold what is written (dpc with bit 0 clear).
#[test]
fn debug_csr_fields() {
    check(
        Setup {
            main: &|a| {
                a.li(T0, -1);
                a.csrw(DCSR, T0);
                a.csrr(S0, DCSR);
                a.li(T0, 0);
                a.csrw(DCSR, T0);
                a.csrr(S1, DCSR);
                a.li(T0, 2);
                a.csrw(DCSR, T0);
                a.csrr(A0, DCSR);
                a.li(T0, 0x1234_5679);
                a.csrw(DPC, T0);
                a.csrr(A1, DPC);
                a.csrw(DSCRATCH0, T0);
                a.csrr(A2, DSCRATCH0);
                a.li(T0, 0x55);
                a.csrw(0x7b3, T0);
                a.csrr(A3, 0x7b3);
                spin(a);
            },
            target: &nothing,
            hart: &in_debug_mode,
        },
        200,
        &|h, _| {
            let writable = dcsr::EBREAKM
                | dcsr::EBREAKS
                | dcsr::EBREAKU
                | dcsr::STEPIE
                | dcsr::STOPCOUNT
                | dcsr::STOPTIME
                | dcsr::MPRVEN
                | dcsr::STEP
                | dcsr::PRV;
            assert_eq!(h.x[S0 as usize], (dcsr::DEBUGVER | writable) as u64);
            assert_eq!(
                h.x[S1 as usize],
                dcsr::DEBUGVER as u64,
                "prv 0 (U) is legal"
            );
            assert_eq!(h.x[A0 as usize], dcsr::DEBUGVER as u64, "prv 2 keeps U");
            assert_eq!(h.x[A1 as usize], 0x1234_5678);
            assert_eq!(h.x[A2 as usize], 0x1234_5679);
            assert_eq!(h.x[A3 as usize], 0x55);
        },
    );
}

/// Every form of access the Debug Module's ROM makes to `mhartid`, `dcsr` and `dscratch0/1`
/// (the JIT open-codes them in Debug Mode blocks): pure reads through each read-only form,
/// `csrrw` as a write and as a swap, and set/clear writes beside them.
#[test]
fn debug_mode_scratch_and_id_reads() {
    let csri = |a: &mut Asm, op: Op, rd: u8, csr: u16, uimm: u8| {
        a.inst(emu_isa::Inst {
            rd,
            rs1: uimm,
            imm: csr as i64,
            ..emu_isa::Inst::new(op)
        })
    };
    check(
        Setup {
            main: &|a| {
                a.li(T0, -2);
                a.csrw(DSCRATCH0, T0);
                a.li(T1, 7);
                a.csrrw(A0, DSCRATCH0, T1); // swap: a0 = -2, dscratch0 = 7
                a.csrr(A1, DSCRATCH0);
                a.li(T0, 0x50);
                a.csrrw(ZERO, 0x7b3, T0);
                csri(a, Op::Csrrsi, A2, 0x7b3, 0); // a read: zero immediate
                a.li(T0, 0x41);
                a.csrs(0x7b3, T0); // 0x51
                a.li(T0, 0x10);
                a.csrc(0x7b3, T0); // 0x41
                a.inst(emu_isa::Inst {
                    rd: A3,
                    rs1: ZERO,
                    imm: 0x7b3,
                    ..emu_isa::Inst::new(Op::Csrrc)
                });
                a.csrr(A4, 0xf14);
                csri(a, Op::Csrrci, A5, DCSR, 0);
                a.csrr(A6, DSCRATCH0);
                a.csrrw(A7, DSCRATCH0, A6); // swap with the same value
                a.csrr(S2, DSCRATCH0);
                spin(a);
            },
            target: &nothing,
            hart: &|h| {
                in_debug_mode(h);
                h.id = HartId(5);
                h.debug.dcsr |= dcsr::EBREAKM;
            },
        },
        200,
        &|h, _| {
            let x = |r: u8| h.x[r as usize];
            assert_eq!(x(A0), -2i64 as u64, "csrrw returns the old value");
            assert_eq!(x(A1), 7, "and writes the new one");
            assert_eq!(x(A2), 0x50);
            assert_eq!(x(A3), 0x41, "set then clear");
            assert_eq!(h.debug.dscratch, [7, 0x41]);
            assert_eq!(x(A4), 5, "mhartid");
            assert_eq!(x(A5), h.debug.dcsr as u64);
            assert_ne!(x(A5) & dcsr::EBREAKM as u64, 0);
            assert_eq!((x(A6), x(A7), x(S2)), (7, 7, 7));
        },
    );
}

#[test]
fn ebreak_traps_unless_ebreakm() {
    check(
        Setup {
            main: &|a| a.op0(Op::Ebreak),
            target: &nothing,
            hart: &as_is,
        },
        20,
        &|h, _| {
            assert!(!h.debug_mode);
            assert_eq!((h.pc, h.csr.mcause, h.csr.mepc), (TRAP, 3, BASE));
        },
    );
}

#[test]
fn ebreak_enters_debug_mode_with_ebreakm() {
    check(
        Setup {
            main: &|a| {
                a.addi(T1, T1, 1);
                a.op0(Op::Ebreak);
            },
            target: &nothing,
            hart: &|h| h.debug.dcsr |= dcsr::EBREAKM,
        },
        50,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.pc, HALT);
            assert_eq!(h.debug.dpc, BASE + 4, "dpc is the ebreak");
            assert_eq!(h.debug.cause(), Some(DebugCause::Ebreak));
            assert_eq!(h.debug.dcsr & dcsr::PRV, 3);
            assert_eq!((h.csr.mcause, h.csr.mepc), (0, 0), "no trap");
            assert_eq!(
                h.csr.minstret, 1,
                "only the addi: ebreak and Debug Mode do not count"
            );
        },
    );
}

#[test]
fn ebreaku_from_user_mode() {
    check(
        Setup {
            main: &|a| a.op0(Op::Ebreak),
            target: &nothing,
            hart: &|h| {
                h.prv = Priv::U;
                h.debug.dcsr |= dcsr::EBREAKU;
            },
        },
        20,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.prv, Priv::M);
            assert_eq!(h.debug.dcsr & dcsr::PRV, 0, "prv records U");
            assert_eq!(cause(h), 1);
        },
    );
}

/// In Debug Mode nothing traps: an exception goes to the Debug Module's exception vector
/// and `ebreak` back to its halt vector, without touching the trap CSRs or dcsr.
#[test]
fn exceptions_in_debug_mode() {
    check(
        Setup {
            main: &|a| a.load(Op::Lw, T1, ZERO, 0x10),
            target: &nothing,
            hart: &in_debug_mode,
        },
        20,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.pc, EXC);
            assert_eq!((h.csr.mcause, h.csr.mepc, h.csr.mtval), (0, 0, 0));
        },
    );
    check(
        Setup {
            main: &|a| a.op0(Op::Ebreak),
            target: &nothing,
            hart: &in_debug_mode,
        },
        20,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.pc, HALT);
            assert_eq!((h.csr.mcause, cause(h)), (0, 0));
        },
    );
}

#[test]
fn dret_outside_debug_mode_is_illegal() {
    check(
        Setup {
            main: &|a| a.op0(Op::Dret),
            target: &nothing,
            hart: &as_is,
        },
        20,
        &|h, _| assert_eq!((h.pc, h.csr.mcause), (TRAP, 2)),
    );
}

/// dret resumes at dpc in dcsr.prv and clears MPRV when that is below M.
#[test]
fn dret_resumes_at_dpc_in_dcsr_prv() {
    check(
        Setup {
            main: &|a| {
                a.li(T0, MSTATUS_MPRV as i64);
                a.csrs(0x300, T0);
                resume_to_target(0, dcsr::PRV)(a);
            },
            target: &|a| {
                a.addi(T1, T1, 7);
                spin(a);
            },
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert!(!h.debug_mode);
            assert_eq!(h.prv, Priv::U);
            assert_eq!(h.pc, TARGET + 4);
            assert_eq!(h.x[T1 as usize], 7);
            assert_eq!(h.csr.mstatus & MSTATUS_MPRV, 0);
        },
    );
}

/// Resuming with dcsr.step executes exactly one instruction and re-enters Debug Mode with
/// cause step and dpc at the next instruction.
#[test]
fn step_executes_one_instruction() {
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP, 0),
            target: &|a| {
                a.addi(T1, T1, 1);
                a.addi(T1, T1, 1);
                spin(a);
            },
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.pc, HALT);
            assert_eq!(h.debug.cause(), Some(DebugCause::Step));
            assert_eq!(h.debug.dpc, TARGET + 4);
            assert_eq!(h.x[T1 as usize], 1);
            assert_eq!(h.csr.minstret, 1, "only the stepped instruction counts");
        },
    );
}

#[test]
fn step_over_a_taken_jump_stops_at_its_target() {
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP, 0),
            target: &|a| {
                let far = a.label();
                a.j(far);
                a.addi(T1, T1, 1);
                a.bind(far);
                a.addi(T1, T1, 2);
            },
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Step));
            assert_eq!(h.debug.dpc, TARGET + 8);
            assert_eq!(h.x[T1 as usize], 0);
        },
    );
}

/// A stepped instruction that traps stops at the handler's first instruction, with the trap
/// CSRs written as usual.
#[test]
fn step_over_a_trap_stops_at_the_handler() {
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP, 0),
            target: &|a| a.op0(Op::Ecall),
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Step));
            assert_eq!(h.debug.dpc, TRAP);
            assert_eq!((h.csr.mcause, h.csr.mepc), (11, TARGET));
        },
    );
}

/// A stepped wfi is a nop.
#[test]
fn step_over_wfi() {
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP, 0),
            target: &|a| a.op0(Op::Wfi),
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.debug.dpc, TARGET + 4);
            assert!(!h.waiting);
        },
    );
}

/// An ebreak that enters Debug Mode while stepping reports ebreak (higher priority than
/// step), with dpc at the ebreak.
#[test]
fn ebreak_outranks_step() {
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP | dcsr::EBREAKM, 0),
            target: &|a| a.op0(Op::Ebreak),
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Ebreak));
            assert_eq!(h.debug.dpc, TARGET);
        },
    );
}

/// A pending, enabled interrupt (SSIP, M-level here): with stepie = 0 the step executes the
/// instruction and takes no interrupt; with stepie = 1 the interrupt is taken and the hart
/// stops at the handler without executing the instruction.
#[test]
fn stepie_decides_whether_a_step_takes_interrupts() {
    let pending = |h: &mut Hart| {
        h.debug_mode = true;
        h.csr.mip |= 2;
        h.csr.mie |= 2;
        h.csr.mstatus |= 1 << 3;
    };
    let target = |a: &mut Asm| a.addi(T1, T1, 1);
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP, dcsr::STEPIE),
            target: &target,
            hart: &pending,
        },
        100,
        &|h, _| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Step));
            assert_eq!(h.debug.dpc, TARGET + 4);
            assert_eq!((h.x[T1 as usize], h.csr.mcause), (1, 0));
        },
    );
    check(
        Setup {
            main: &resume_to_target(dcsr::STEP | dcsr::STEPIE, 0),
            target: &target,
            hart: &pending,
        },
        100,
        &|h, _| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Step));
            assert_eq!(h.debug.dpc, TRAP);
            assert_eq!(h.x[T1 as usize], 0);
            assert_eq!(h.csr.mcause, 1 << 63 | 1);
            assert_eq!(h.csr.mepc, TARGET);
        },
    );
}

/// Interrupts are masked in Debug Mode.
#[test]
fn no_interrupts_in_debug_mode() {
    check(
        Setup {
            main: &|a| {
                let top = a.here();
                a.addi(T1, T1, 1);
                a.j(top);
            },
            target: &nothing,
            hart: &|h| {
                h.debug_mode = true;
                h.csr.mip |= 2;
                h.csr.mie |= 2;
                h.csr.mstatus |= 1 << 3;
            },
        },
        1000,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.csr.mcause, 0);
            assert!(h.x[T1 as usize] > 100);
        },
    );
}

/// A halt request is taken at the next boundary (dpc = the instruction not yet executed),
/// ahead of a pending interrupt.
#[test]
fn halt_request_outranks_interrupts() {
    check(
        Setup {
            main: &spin,
            target: &nothing,
            hart: &|h| {
                h.debug.request = Some(DebugCause::HaltReq);
                h.csr.mip |= 2;
                h.csr.mie |= 2;
                h.csr.mstatus |= 1 << 3;
            },
        },
        100,
        &|h, _| {
            assert!(h.debug_mode);
            assert_eq!(h.debug.cause(), Some(DebugCause::HaltReq));
            assert_eq!((h.debug.dpc, h.csr.mcause), (BASE, 0));
        },
    );
}

/// A hart waiting in wfi leaves it for a halt request; dpc is after the wfi.
#[test]
fn halt_request_ends_wfi() {
    for kind in KINDS {
        let (bus, mut h) = prepare(&Setup {
            main: &|a| {
                a.op0(Op::Wfi);
                spin(a);
            },
            target: &nothing,
            hart: &as_is,
        });
        let mut e = engine(kind);
        run(e.as_mut(), &mut h, &bus, 100);
        assert!(h.waiting, "{kind:?}");
        h.debug.request = Some(DebugCause::HaltReq);
        run(e.as_mut(), &mut h, &bus, 100);
        assert!(h.debug_mode, "{kind:?}");
        assert_eq!(h.debug.dpc, BASE + 4, "{kind:?}");
        assert!(!h.waiting);
    }
}

/// The JIT takes a halt request and runs on into the halt vector in the same call (the
/// Debug Module's ROM reports the halt without a round through the hart's thread), and the
/// request is spent: a `dret` later in that call resumes the hart rather than halting it
/// again at once.
#[test]
fn halt_request_runs_the_halt_vector_in_the_same_call() {
    for kind in [Kind::Jit, Kind::JitStep] {
        let (bus, mut h) = prepare(&Setup {
            main: &spin,
            target: &nothing,
            hart: &|h| h.debug.request = Some(DebugCause::HaltReq),
        });
        common::load(
            &bus,
            HALT,
            &assemble(HALT, &|a| {
                a.addi(T1, T1, 1);
                a.op0(Op::Dret);
            }),
        );
        let mut e = engine(kind);
        let r = e.run(&mut h, &bus, 0, 50, &mut || false);
        assert_eq!(h.x[T1 as usize], 1, "{kind:?}: the halt vector ran once");
        assert!(!h.debug_mode && h.pc == BASE, "{kind:?}");
        assert_eq!(h.debug.request, None, "{kind:?}");
        assert_eq!(r.exit, EngineExit::Budget, "{kind:?}");
    }
}

/// In Debug Mode `wfi` parks the hart until the Debug Module wakes it (clears `waiting`);
/// an interrupt does not.
#[test]
fn wfi_in_debug_mode_parks() {
    for kind in KINDS {
        let (bus, mut h) = prepare(&Setup {
            main: &|a| {
                a.op0(Op::Wfi);
                a.addi(T1, T1, 1);
                spin(a);
            },
            target: &nothing,
            hart: &|h| {
                h.debug_mode = true;
                h.csr.mip |= 2;
                h.csr.mie |= 2;
            },
        });
        let mut e = engine(kind);
        run(e.as_mut(), &mut h, &bus, 100);
        assert!(h.waiting && h.pc == BASE + 4, "{kind:?}");
        h.waiting = false;
        run(e.as_mut(), &mut h, &bus, 100);
        assert_eq!(h.x[T1 as usize], 1, "{kind:?}");
    }
}

/// A nudge reaches a parked hart that was stopped before its `wfi` (after it had looked at
/// its flags): that `wfi` falls through once, so it looks again; the next one parks. A
/// nudge of a hart parked at its `wfi` lets it go on from there, with no extra round.
#[test]
fn a_nudge_before_the_wfi_makes_it_look_again() {
    for kind in KINDS {
        let (bus, mut h) = prepare(&Setup {
            main: &|a| {
                a.op0(Op::Wfi);
                a.addi(T1, T1, 1);
                a.op0(Op::Wfi);
                a.addi(T2, T2, 1);
                a.op0(Op::Wfi);
                a.addi(A0, A0, 1);
                spin(a);
            },
            target: &nothing,
            hart: &|h| h.debug_mode = true,
        });
        let mut e = engine(kind);
        h.nudge();
        run(e.as_mut(), &mut h, &bus, 100);
        assert_eq!(h.x[T1 as usize], 1, "{kind:?}: the first wfi fell through");
        assert!(
            h.waiting && h.pc == BASE + 12,
            "{kind:?}: the second parked"
        );
        assert_eq!(h.x[T2 as usize], 0, "{kind:?}");
        assert!(!h.debug.nudged, "{kind:?}: spent");
        h.nudge();
        run(e.as_mut(), &mut h, &bus, 100);
        assert_eq!(h.x[T2 as usize], 1, "{kind:?}");
        assert!(h.waiting && h.pc == BASE + 20, "{kind:?}: the third parked");
        assert_eq!(h.x[A0 as usize], 0, "{kind:?}");
    }
}

/// stopcount = 1: Debug Mode code (dret included) does not count; stopcount = 0: it does.
#[test]
fn stopcount() {
    let target = |a: &mut Asm| {
        a.addi(T1, T1, 1);
        a.op0(Op::Ebreak);
    };
    check(
        Setup {
            main: &resume_to_target(dcsr::EBREAKM, 0),
            target: &target,
            hart: &in_debug_mode,
        },
        100,
        &|h, _| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Ebreak));
            assert_eq!((h.csr.minstret, h.csr.mcycle), (1, 1));
        },
    );
    check(
        Setup {
            main: &resume_to_target(dcsr::EBREAKM, 0),
            target: &target,
            hart: &|h| {
                h.debug_mode = true;
                h.debug.dcsr &= !dcsr::STOPCOUNT;
            },
        },
        100,
        &|h, n| {
            assert_eq!(h.debug.cause(), Some(DebugCause::Ebreak));
            // Everything but the ebreak retired: the debug program, the addi and the
            // parked hart's spinning.
            assert_eq!(h.csr.minstret, n - 1);
        },
    );
}

/// stoptime = 1: `time` reads the value it had on entry while in Debug Mode.
#[test]
fn stoptime() {
    for (stop, frozen) in [(true, true), (false, false)] {
        for kind in KINDS {
            let (bus, mut h) = prepare(&Setup {
                main: &|a| {
                    a.op0(Op::Ebreak);
                },
                target: &nothing,
                hart: &|h| {
                    h.debug.dcsr |= dcsr::EBREAKM;
                    if stop {
                        h.debug.dcsr |= dcsr::STOPTIME;
                    }
                },
            });
            // HALT: csrr t1, time; wfi; csrr t2, time; j .
            let mut a = Asm::new(Xlen::X64, HALT);
            a.csrr(T1, 0xc01);
            a.op0(Op::Wfi);
            a.csrr(T2, 0xc01);
            spin(&mut a);
            common::load(&bus, HALT, &a.finish().unwrap());
            let mut e = engine(kind);
            run(e.as_mut(), &mut h, &bus, 100);
            assert!(h.debug_mode && h.waiting, "{kind:?}");
            std::thread::sleep(std::time::Duration::from_millis(2));
            h.waiting = false;
            run(e.as_mut(), &mut h, &bus, 100);
            let (t1, t2) = (h.x[T1 as usize], h.x[T2 as usize]);
            assert_eq!(t1 == t2, frozen, "{kind:?}: {t1} {t2}");
            assert!(bus.mtime() > t2, "mtime itself runs on");
        }
    }
}

/// mprven = 1: MPRV applies in Debug Mode (a load with MPP = U and no U permission
/// faults); mprven = 0: it is ignored.
#[test]
fn mprven() {
    for (mprven, faults) in [(true, true), (false, false)] {
        check(
            Setup {
                main: &|a| {
                    a.li(T0, BASE as i64 + 0x1000);
                    a.load(Op::Ld, T1, T0, 0);
                    a.li(T2, 1);
                    spin(a);
                },
                target: &nothing,
                hart: &move |h| {
                    h.debug_mode = true;
                    // MPRV with MPP = U; the PMP entry gives U no access anywhere.
                    h.csr.mstatus |= MSTATUS_MPRV;
                    h.csr.pmpcfg[0] = 0x18;
                    if !mprven {
                        h.debug.dcsr &= !dcsr::MPRVEN;
                    }
                },
            },
            100,
            &|h, _| {
                assert_eq!(h.pc == EXC, faults);
                assert_eq!(h.x[T2 as usize] == 1, !faults);
                assert_eq!(h.csr.mcause, 0);
            },
        );
    }
}

/// Halt causes' priority order and encodings (Debug Specification table "Priority of
/// reasons for entering Debug Mode").
#[test]
fn cause_priorities() {
    use DebugCause::*;
    let order = [ResetHaltReq, Group, HaltReq, Trigger, Ebreak, Step];
    let codes: Vec<u32> = order.iter().map(|c| c.code()).collect();
    assert_eq!(codes, [5, 6, 3, 2, 1, 4]);
    let mut sorted = order;
    sorted.sort();
    assert_eq!(sorted, order);
    for c in order {
        assert_eq!(DebugCause::from_code(c.code()), Some(c));
    }
}
