//! Trigger registers in one abstract command: the program buffer selects a trigger and
//! reads or writes its `tdata` registers, so arming, disarming or inspecting a trigger
//! costs one command instead of four or five Access Register commands.
//!
//! The command is Access Register *read* of `s0` with `postexec`: the transfer saves `s0`
//! in data slot 0, then the program buffer runs. It loads its inputs from the data
//! registers, which `hartinfo` says the hart reaches in its memory map (`dataaccess`, at
//! `dataaddr`), uses `s0` as scratch, stores `tdata1` back, and restores `s0` from slot 0.
//! Data slots are XLEN-wide arguments (`Session::arg`): 0 saved `s0`, 1 the trigger index,
//! 2 `tdata2`, 3 `tdata1` in and out.

use emu_asm::Asm;
use emu_asm::reg::{S0, ZERO};
use emu_dm::DmiOp;
use emu_dm::regs::{self, CmdErr, abstractcs};
use emu_isa::{Op, Xlen};

use crate::error::{RcError, Result};
use crate::session::Session;

const TSELECT: u16 = 0x7a0;
const TDATA1: u16 = 0x7a1;
const TDATA2: u16 = 0x7a2;
/// `s0` as an Access Register number.
const REG_S0: u32 = 0x1008;

/// What the program does to the selected trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TdataOp {
    /// Read `tdata1`.
    Read,
    /// Write `tdata1` (then read it back).
    Write1(u64),
    /// Disable, write `tdata2`, then `tdata1` (then read it back): arming.
    Write2 { tdata2: u64, tdata1: u64 },
}

impl TdataOp {
    fn key(self) -> u8 {
        match self {
            TdataOp::Read => 0,
            TdataOp::Write1(_) => 1,
            TdataOp::Write2 { .. } => 2,
        }
    }
}

/// Assembled program words (the assembler refuses nothing these programs use).
pub(crate) fn words(a: Asm) -> Vec<u32> {
    let bytes = a
        .finish()
        .unwrap_or_else(|e| unreachable!("a fixed program assembles: {e}"));
    bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .collect()
}

/// The program-buffer words for `op` on a hart of width `xlen` whose data registers start at
/// hart address `data` (below 2 KiB, so `offset(x0)` reaches it).
fn program(op: TdataOp, xlen: Xlen, data: u64) -> Vec<u32> {
    let xb = xlen.bits() as i64 / 8;
    let (ld, sd) = if xlen == Xlen::X64 {
        (Op::Ld, Op::Sd)
    } else {
        (Op::Lw, Op::Sw)
    };
    let slot = |k: i64| data as i64 + k * xb;
    let mut a = Asm::new(xlen, 0);
    a.load(ld, S0, ZERO, slot(1));
    a.csrw(TSELECT, S0);
    match op {
        TdataOp::Read => {}
        TdataOp::Write1(_) => {
            a.load(ld, S0, ZERO, slot(3));
            a.csrw(TDATA1, S0);
        }
        TdataOp::Write2 { .. } => {
            // Disabled while tdata2 changes: it never matches a half-written trigger.
            a.csrw(TDATA1, ZERO);
            a.load(ld, S0, ZERO, slot(2));
            a.csrw(TDATA2, S0);
            a.load(ld, S0, ZERO, slot(3));
            a.csrw(TDATA1, S0);
        }
    }
    a.csrr(S0, TDATA1);
    a.store(sd, S0, ZERO, slot(3));
    a.load(ld, S0, ZERO, slot(0));
    a.op0(Op::Ebreak);
    words(a)
}

/// Where the hart sees the data registers, if it does (`hartinfo.dataaccess`).
pub(crate) fn data_address(hartinfo: u32) -> Option<u64> {
    // dataaddr is a signed 12-bit address.
    let addr = ((hartinfo & 0xfff) as i32) << 20 >> 20;
    (hartinfo >> 16 & 1 != 0).then_some(addr as i64 as u64)
}

/// What the Debug Module offers programs, read once it is active.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProgbufInfo {
    /// Where harts see the data registers, if they do (`hartinfo.dataaddr`).
    pub(crate) data: Option<u64>,
    /// Program buffer words (`abstractcs.progbufsize`).
    pub(crate) words: usize,
    /// Data registers (`abstractcs.datacount`).
    pub(crate) data_words: usize,
}

/// Which program the session keeps in the program buffer: trigger programs are
/// [`TdataOp::key`]; [`GPR_PROGRAMS`] and up are the bulk register reads.
pub(crate) type ProgKey = u8;
/// The first key of the bulk register programs (`crate::bulk`).
pub(crate) const GPR_PROGRAMS: ProgKey = 16;
/// The first key of the register-set programs (`crate::bulk`), after the most bulk groups
/// there can be (32 registers in groups of at least two).
pub(crate) const SET_PROGRAMS: ProgKey = GPR_PROGRAMS + 16;

impl Session {
    /// The DM's program buffer and data registers as harts see them.
    pub(crate) fn progbuf_info(&mut self) -> ProgbufInfo {
        *self.progbuf.get_or_insert_with(|| {
            let cs = self.dm.dmi_read(regs::ABSTRACTCS);
            ProgbufInfo {
                data: data_address(self.dm.dmi_read(regs::HARTINFO)),
                words: (cs >> abstractcs::PROGBUFSIZE_SHIFT & 0x1f) as usize,
                data_words: (cs & abstractcs::DATACOUNT) as usize,
            }
        })
    }

    /// Leave program `key` in the program buffer: its words as DMI writes appended to
    /// `ops` (to go in one batch with the command), none when it is there already. `build`
    /// makes the words from the hart width and the data address the first time. Returns
    /// the data address.
    pub(crate) fn program_ops(
        &mut self,
        key: ProgKey,
        build: impl FnOnce(Xlen, u64) -> Vec<u32>,
        ops: &mut Vec<DmiOp>,
    ) -> Result<u64> {
        let info = self.progbuf_info();
        let data = info.data.ok_or(RcError::Unsupported(
            "data registers not in the hart's memory",
        ))?;
        if self.progbuf_op != Some(key) {
            let xlen = self.xlen;
            let words = self
                .programs
                .entry(key)
                .or_insert_with(|| build(xlen, data));
            if words.len() > info.words {
                return Err(RcError::Unsupported("program buffer too small"));
            }
            ops.extend(
                words
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| DmiOp::Write(regs::PROGBUF0 + i as u8, w)),
            );
            self.progbuf_op = Some(key);
        }
        Ok(data)
    }

    /// Apply `op` to trigger `slot` of halted hart `h`; `tdata1` as it reads afterwards.
    pub(crate) fn tdata(&mut self, h: usize, slot: usize, op: TdataOp) -> Result<u64> {
        self.select(h)?;
        let mut ops = Vec::with_capacity(32);
        self.program_ops(op.key(), |xlen, data| program(op, xlen, data), &mut ops)?;
        let (tdata2, tdata1) = match op {
            TdataOp::Read => (0, 0),
            TdataOp::Write1(v) => (0, v),
            TdataOp::Write2 { tdata2, tdata1 } => (tdata2, tdata1),
        };
        // Program, arguments, the command, its outcome and `tdata1` as it reads after: one
        // DMI batch.
        let xb = self.xbytes();
        for (k, v) in [(1, slot as u64), (2, tdata2), (3, tdata1)] {
            Self::arg_writes(&mut ops, k, xb, v);
        }
        let size = if xb == 8 { 3 } else { 2 };
        let mut got = [0u64];
        match self.command_batch(
            ops,
            size << 20 | 1 << 18 | 1 << 17 | REG_S0,
            3..4,
            xb,
            &mut got,
        ) {
            Ok(()) => Ok(got[0]),
            Err(e) => {
                if e == RcError::Command(CmdErr::Exception) {
                    // The program faulted after the transfer saved s0 in slot 0 (which it
                    // never writes): put s0 back from there.
                    self.command(size << 20 | 1 << 17 | 1 << 16 | REG_S0)?;
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_address_is_signed_twelve_bits() {
        assert_eq!(data_address(1 << 16 | 0x180), Some(0x180));
        assert_eq!(data_address(1 << 16 | 0xf00), Some(0xffff_ffff_ffff_ff00));
        assert_eq!(data_address(0x180), None);
    }

    #[test]
    fn programs_fit_the_program_buffer() {
        for xlen in [Xlen::X32, Xlen::X64] {
            for op in [
                TdataOp::Read,
                TdataOp::Write1(0),
                TdataOp::Write2 {
                    tdata2: 0,
                    tdata1: 0,
                },
            ] {
                let p = program(op, xlen, 0x180);
                assert!(p.len() <= 16, "{op:?} {xlen:?}: {} words", p.len());
                // Ends in ebreak, and restores s0 from slot 0 just before.
                assert_eq!(p.last(), Some(&0x0010_0073));
            }
        }
    }
}
