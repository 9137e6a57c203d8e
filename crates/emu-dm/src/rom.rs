//! The Debug Module's memory as harts see it (0x0..0x1000, only in Debug Mode) and the ROM
//! that parks halted harts. The ROM is the project's own, assembled with `emu-asm` when the
//! Debug Module is made.
//!
//! Protocol between a hart and the DM, all through this memory:
//! - entering Debug Mode (halt vector [`HALT_VECTOR`]) the hart saves `s0`/`s1` in
//!   `dscratch0/1` and writes its `dcsr` to its word at `ENTERED + 4 * hartid`: that write
//!   tells the DM it is halted, and why. Then it parks: it reads its word at
//!   `NEXT + 4 * hartid` (into `s1`; the guest's `s1` stays in `dscratch1` until the hart
//!   leaves the ROM) and jumps there. The DM answers with where the hart's flags (`FLAG_*`,
//!   which it sets) send it, in order of precedence:
//! - flag [`FLAG_RESUME`] ([`RESUME_ENTRY`]): the hart writes its `dcsr` to its word at
//!   `RESUMING + 4 * hartid`, restores `s0`/`s1` and executes `dret`;
//! - flag [`FLAG_CLEANUP`] ([`CLEANUP_ENTRY`]): the hart writes [`GOING`], restores
//!   `s0`/`s1` and jumps to the command's cleanup code at [`CLEANUP`]: after an exception in
//!   the part of a command that borrowed registers, the DM has the hart put them back;
//! - flag [`FLAG_GO`] ([`GO_ENTRY`]): the same, falling through into the abstract program at
//!   [`PROGRAM`], which ends in `ebreak` (back to the halt vector, so the hart reports
//!   itself halted again: the command is done) or runs on into the program buffer (which
//!   ends in an `ebreak` of its own or the implicit one after it);
//! - none ([`SLEEP`]): `wfi`, which in Debug Mode blocks the hart's host thread until the
//!   DM changes something (or a debugger's thread runs it), then the park loop again;
//! - an exception in Debug Mode goes to [`EXCEPTION_VECTOR`], which writes [`EXCEPTION`]
//!   and returns to the halt vector with `ebreak`.
//!
//! Laid out for the JIT, where every branch or jump ends a translated block: an abstract
//! command runs as four blocks (park, the GO entry with the program, the halt vector with
//! the park loop, sleep), a resume as two.
//!
//! Programs borrow registers by saving them in [`SAVE`] (eight XLEN-sized slots) and mark
//! the end of the part that borrowed them by writing [`XFER_DONE`]. Every address is below
//! 2 KiB, so the code reaches it as `offset(x0)`.

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_isa::{Op, Xlen};

/// Size of the Debug Module's window at physical address 0.
pub const DM_SIZE: u64 = 0x1000;
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
/// The GO entry: what a hart runs on its way into the abstract program (it reports GOING
/// and restores `s0`/`s1`), just before it, so one translated block holds both.
pub const GO_ENTRY: u64 = PROGRAM - 16;
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
/// One word per hart: where its park loop goes next (what the DM answers from the hart's
/// flags: [`next_entry`]).
pub const NEXT: u64 = 0x300;
/// Flag: run the abstract program.
pub const FLAG_GO: u8 = 1;
/// Flag: resume.
pub const FLAG_RESUME: u8 = 2;
/// Flag: run the cleanup code.
pub const FLAG_CLEANUP: u8 = 4;
/// Most harts the Debug Module serves (per-hart words).
pub const MAX_HARTS: usize = 64;
/// One word per hart: written with `dcsr` just before the hart resumes (so the DM knows
/// whether it steps).
pub const RESUMING: u64 = 0x400;
/// One word per hart: written with `dcsr` when the hart enters Debug Mode (the cause):
/// this write reports the hart halted.
pub const ENTERED: u64 = 0x500;
/// Where a hart enters Debug Mode (`DebugVectors::halt`).
pub const HALT_VECTOR: u64 = 0x800;
/// Where a parked hart with nothing to do sleeps.
pub const SLEEP: u64 = HALT_VECTOR + 0x20;
/// Where a parked hart resumes from.
pub const RESUME_ENTRY: u64 = HALT_VECTOR + 0x30;
/// Where a parked hart goes into the command's cleanup code from.
pub const CLEANUP_ENTRY: u64 = HALT_VECTOR + 0x50;
/// Where an exception in Debug Mode goes (`DebugVectors::exception`).
pub const EXCEPTION_VECTOR: u64 = 0x880;

/// Where a parked hart with flags `flags` goes next (its word at `NEXT`).
pub fn next_entry(flags: u8) -> u32 {
    let at = if flags & FLAG_RESUME != 0 {
        RESUME_ENTRY
    } else if flags & FLAG_CLEANUP != 0 {
        CLEANUP_ENTRY
    } else if flags & FLAG_GO != 0 {
        GO_ENTRY
    } else {
        SLEEP
    };
    at as u32
}

const DCSR: u16 = 0x7b0;
const DSCRATCH0: u16 = 0x7b2;
const DSCRATCH1: u16 = 0x7b3;
const MHARTID: u16 = 0xf14;

/// Pad with `fence`s (no-ops here) up to `addr`.
fn pad_to(a: &mut Asm, addr: u64) {
    assert!(a.pc() <= addr, "the ROM's code before {addr:#x} fits");
    while a.pc() < addr {
        a.op0(Op::Fence);
    }
}

/// The park loop: `s0` = 4 * hartid; go where the word at `NEXT` says.
fn park(a: &mut Asm) {
    a.load(Op::Lw, S1, S0, NEXT as i64);
    a.i(Op::Jalr, ZERO, S1, 0);
}

/// Report GOING and restore `s0`/`s1` (the guest's) on the way into a command's code.
fn going(a: &mut Asm) {
    a.csrr(S0, MHARTID);
    a.store(Op::Sw, S0, ZERO, GOING as i64);
    a.csrr(S0, DSCRATCH0);
    a.csrr(S1, DSCRATCH1);
}

/// The ROM's bytes, placed at [`HALT_VECTOR`]. The same code serves RV32 and RV64 harts.
///
/// CSR reads and `dscratch` writes do not end a translated block and the DM's memory is
/// reached without leaving one: the blocks end only at the jumps.
pub fn rom() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X32, HALT_VECTOR);
    // HALT_VECTOR: save s0/s1, report the cause (which reports the hart halted), park.
    a.csrw(DSCRATCH0, S0);
    a.csrw(DSCRATCH1, S1);
    a.csrr(S0, MHARTID);
    a.i(Op::Slli, S0, S0, 2);
    a.csrr(S1, DCSR);
    a.store(Op::Sw, S1, S0, ENTERED as i64);
    park(&mut a);
    // Nothing to do: sleep until the DM changes something, then look again.
    pad_to(&mut a, SLEEP);
    a.op0(Op::Wfi);
    park(&mut a);
    pad_to(&mut a, RESUME_ENTRY);
    a.csrr(S1, DCSR);
    a.store(Op::Sw, S1, S0, RESUMING as i64);
    a.csrr(S1, DSCRATCH1);
    a.csrr(S0, DSCRATCH0);
    a.op0(Op::Dret);
    pad_to(&mut a, CLEANUP_ENTRY);
    going(&mut a);
    let cleanup_code = a.label_at(CLEANUP);
    a.j(cleanup_code);
    // EXCEPTION_VECTOR: report, then re-enter through the halt vector (ebreak in Debug Mode).
    pad_to(&mut a, EXCEPTION_VECTOR);
    a.store(Op::Sw, ZERO, ZERO, EXCEPTION as i64);
    a.op0(Op::Ebreak);
    a.finish()
        .unwrap_or_else(|e| unreachable!("the ROM assembles: {e}"))
}

/// The GO entry's bytes, placed at [`GO_ENTRY`]: they run on into the program.
pub fn go_entry() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X32, GO_ENTRY);
    going(&mut a);
    assert_eq!(
        a.pc(),
        PROGRAM,
        "the GO entry ends where the program starts"
    );
    a.finish()
        .unwrap_or_else(|e| unreachable!("the GO entry assembles: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The park loop's destinations, in order of precedence.
    #[test]
    fn flags_choose_the_next_entry() {
        let table = [
            (0, SLEEP),
            (FLAG_GO, GO_ENTRY),
            (FLAG_CLEANUP, CLEANUP_ENTRY),
            (FLAG_CLEANUP | FLAG_GO, CLEANUP_ENTRY),
            (FLAG_RESUME, RESUME_ENTRY),
            (FLAG_RESUME | FLAG_GO, RESUME_ENTRY),
            (FLAG_RESUME | FLAG_CLEANUP | FLAG_GO, RESUME_ENTRY),
        ];
        for (flags, at) in table {
            assert_eq!(next_entry(flags) as u64, at, "flags {flags:#x}");
        }
    }

    #[test]
    fn the_code_fits_its_places() {
        let r = rom();
        assert!(r.len() as u64 <= DM_SIZE - HALT_VECTOR);
        assert_eq!(go_entry().len() as u64, PROGRAM - GO_ENTRY);
        // Every area below the program lies below the GO entry.
        assert!(DATA + 4 * crate::regs::DATA_COUNT as u64 <= GO_ENTRY);
        assert!(CLEANUP + 4 * CLEANUP_WORDS as u64 <= NEXT);
        assert!(NEXT + 4 * MAX_HARTS as u64 <= RESUMING);
    }
}
