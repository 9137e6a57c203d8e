//! The Debug Module's memory as harts see it (0x0..0x1000, only in Debug Mode) and the ROM
//! that parks halted harts. The ROM is the project's own, assembled with `emu-asm` when the
//! Debug Module is made.
//!
//! Protocol between a hart and the DM, all through this memory:
//! - entering Debug Mode (halt vector [`HALT_VECTOR`]) the hart saves `s0`/`s1` in
//!   `dscratch0/1`, writes its `dcsr` to its word at `ENTERED + 4 * hartid` (so the DM knows
//!   why it halted), writes its hart id to [`HALTED`] and parks: it reads its flag byte at
//!   `FLAGS + hartid` (into `s1`; the guest's `s1` stays in `dscratch1` until the hart
//!   leaves the ROM), and with nothing to do executes `wfi`, which in Debug Mode blocks the
//!   hart's host thread until the DM changes something (or a debugger's thread runs it);
//! - flag [`FLAG_GO`]: the hart writes [`GOING`], restores `s0`/`s1` and jumps to the abstract
//!   program at [`PROGRAM`], which ends in `ebreak` (back to the halt vector, so the hart
//!   reports [`HALTED`] again: the command is done) or runs on into the program buffer
//!   (which ends in an `ebreak` of its own or the implicit one after it);
//! - flag [`FLAG_CLEANUP`]: the same, into [`CLEANUP`]: after an exception in the part of a
//!   command that borrowed registers, the DM has the hart put them back;
//! - flag [`FLAG_RESUME`]: the hart writes its `dcsr` to its word at `RESUMING + 4 *
//!   hartid`, restores `s0`/`s1` and executes `dret`;
//! - an exception in Debug Mode goes to [`EXCEPTION_VECTOR`], which writes [`EXCEPTION`]
//!   and returns to the halt vector with `ebreak`.
//!
//! Programs borrow registers by saving them in [`SAVE`] (eight XLEN-sized slots) and mark
//! the end of the part that borrowed them by writing [`XFER_DONE`]. Every address is below
//! 2 KiB, so the code reaches it as `offset(x0)`.

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_isa::{Op, Xlen};

/// Size of the Debug Module's window at physical address 0.
pub const DM_SIZE: u64 = 0x1000;
/// A hart writes its id here when it (re-)enters the park loop.
pub const HALTED: u64 = 0x100;
/// A hart writes its id here when it starts an abstract command (or its cleanup).
pub const GOING: u64 = 0x104;
/// A hart writes here when an abstract command raised an exception.
pub const EXCEPTION: u64 = 0x10c;
/// A program writes here when the part that borrowed registers is done.
pub const XFER_DONE: u64 = 0x110;
/// Eight 8-byte slots where programs save the registers they borrow.
pub const SAVE: u64 = 0x140;
/// `data0..data11` as the hart sees them.
pub const DATA: u64 = 0x180;
/// The abstract command's program (up to [`PROGRAM_WORDS`] instructions).
pub const PROGRAM: u64 = 0x200;
/// Room for the abstract program.
pub const PROGRAM_WORDS: usize = 32;
/// The program buffer, right after the abstract program.
pub const PROGBUF: u64 = PROGRAM + 4 * PROGRAM_WORDS as u64;
/// The implicit `ebreak` after the program buffer (`impebreak`).
pub const IMPEBREAK: u64 = PROGBUF + 4 * 16;
/// The command's cleanup code (restores what its program borrowed).
pub const CLEANUP: u64 = IMPEBREAK + 4;
/// Room for the cleanup code.
pub const CLEANUP_WORDS: usize = 15;
/// One flag byte per hart.
pub const FLAGS: u64 = 0x300;
/// Flag: run the abstract program.
pub const FLAG_GO: u8 = 1;
/// Flag: resume.
pub const FLAG_RESUME: u8 = 2;
/// Flag: run the cleanup code.
pub const FLAG_CLEANUP: u8 = 4;
/// Most harts the Debug Module serves (flag bytes and per-hart words).
pub const MAX_HARTS: usize = 64;
/// One word per hart: written with `dcsr` just before the hart resumes (so the DM knows
/// whether it steps).
pub const RESUMING: u64 = 0x400;
/// One word per hart: written with `dcsr` when the hart enters Debug Mode (the cause).
pub const ENTERED: u64 = 0x500;
/// Where a hart enters Debug Mode (`DebugVectors::halt`).
pub const HALT_VECTOR: u64 = 0x800;
/// Where an exception in Debug Mode goes (`DebugVectors::exception`).
pub const EXCEPTION_VECTOR: u64 = 0x880;

const DCSR: u16 = 0x7b0;
const DSCRATCH0: u16 = 0x7b2;
const DSCRATCH1: u16 = 0x7b3;
const MHARTID: u16 = 0xf14;

/// The ROM's bytes, placed at [`HALT_VECTOR`]. The same code serves RV32 and RV64 harts.
///
/// Laid out for the JIT: CSR reads and `dscratch` writes do not end a translated block and
/// the DM's memory is reached without leaving one, so a parked hart that is given a command
/// runs it in a handful of blocks (park, dispatch, program, re-entry).
pub fn rom() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X32, HALT_VECTOR);
    let (park, act, resume, cleanup) = (a.label(), a.label(), a.label(), a.label());
    // HALT_VECTOR: save s0/s1, report the cause and that the hart is halted.
    a.csrw(DSCRATCH0, S0);
    a.csrw(DSCRATCH1, S1);
    a.csrr(S0, MHARTID);
    a.i(Op::Slli, S0, S0, 2);
    a.csrr(S1, DCSR);
    a.store(Op::Sw, S1, S0, ENTERED as i64);
    a.csrr(S0, MHARTID);
    a.store(Op::Sw, S0, ZERO, HALTED as i64);
    // Park: s1 holds the flags (the guest's s1 stays in dscratch1 until the hart leaves).
    a.bind(park);
    a.csrr(S0, MHARTID);
    a.load(Op::Lbu, S1, S0, FLAGS as i64);
    a.branch(Op::Bne, S1, ZERO, act);
    a.op0(Op::Wfi);
    a.j(park);
    // Resume outranks cleanup, cleanup outranks the program.
    a.bind(act);
    a.i(Op::Andi, S0, S1, FLAG_RESUME as i64);
    a.branch(Op::Bne, S0, ZERO, resume);
    a.csrr(S0, MHARTID);
    a.store(Op::Sw, S0, ZERO, GOING as i64);
    a.i(Op::Andi, S1, S1, FLAG_CLEANUP as i64);
    a.csrr(S0, DSCRATCH0);
    a.branch(Op::Bne, S1, ZERO, cleanup);
    a.csrr(S1, DSCRATCH1);
    let program = a.label_at(PROGRAM);
    a.j(program);
    a.bind(cleanup);
    a.csrr(S1, DSCRATCH1);
    let cleanup_code = a.label_at(CLEANUP);
    a.j(cleanup_code);
    a.bind(resume);
    a.csrr(S0, MHARTID);
    a.i(Op::Slli, S0, S0, 2);
    a.csrr(S1, DCSR);
    a.store(Op::Sw, S1, S0, RESUMING as i64);
    a.csrr(S1, DSCRATCH1);
    a.csrr(S0, DSCRATCH0);
    a.op0(Op::Dret);
    // EXCEPTION_VECTOR: report, then re-enter through the halt vector (ebreak in Debug Mode).
    assert!(
        a.pc() <= EXCEPTION_VECTOR,
        "the ROM's body fits before its exception vector"
    );
    while a.pc() < EXCEPTION_VECTOR {
        a.op0(Op::Fence);
    }
    a.store(Op::Sw, ZERO, ZERO, EXCEPTION as i64);
    a.op0(Op::Ebreak);
    a.finish()
        .unwrap_or_else(|e| unreachable!("the ROM assembles: {e}"))
}
