//! Abstract commands as programs: what the Debug Module writes at [`crate::rom::PROGRAM`]
//! for the hart to execute (Access Register), assembled with `emu-asm`.
//!
//! Register use: the ROM restores `s0` before jumping here, so every GPR holds the halted
//! program's value; programs that need a scratch register save `s0` in `dscratch0` (or
//! `dscratch1` when the command accesses `dscratch0` itself) and restore it before they end.

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_isa::{Fmt, Op, Xlen};

use crate::regs::CmdErr;
use crate::rom::{DATA, PROGBUF, PROGRAM, PROGRAM_WORDS};

const MSTATUS: u16 = 0x300;
const DSCRATCH0: u16 = 0x7b2;
const DSCRATCH1: u16 = 0x7b3;
/// `mstatus.FS` = dirty.
const FS_DIRTY: i64 = 3 << 13;

/// What the hart can do, for checking commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HartCaps {
    /// Base width.
    pub xlen: Xlen,
    /// Single-precision FP registers exist.
    pub f: bool,
    /// Double-precision FP registers exist.
    pub d: bool,
}

/// The register an Access Register command names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// A CSR number.
    Csr(u16),
    /// x0..x31.
    Gpr(u8),
    /// f0..f31.
    Fpr(u8),
}

impl Reg {
    /// Decode `regno`; `None` for numbers emu does not have.
    pub fn from_regno(regno: u32) -> Option<Reg> {
        match regno {
            0..=0xfff => Some(Reg::Csr(regno as u16)),
            0x1000..=0x101f => Some(Reg::Gpr((regno - 0x1000) as u8)),
            0x1020..=0x103f => Some(Reg::Fpr((regno - 0x1020) as u8)),
            _ => None,
        }
    }
}

/// The program for one Access Register transfer (without the final `ebreak` or jump to the
/// program buffer), or the `cmderr` that refuses it.
///
/// `bytes`: 4 or 8 (`aarsize` 2 or 3). Reads narrower than the register take its low bits;
/// a narrower write sign-extends (as `lw` does).
pub fn transfer(reg: Reg, bytes: u32, write: bool, caps: HartCaps) -> Result<Vec<u32>, CmdErr> {
    let xbytes = caps.xlen.bits() / 8;
    let mut a = Asm::new(caps.xlen, PROGRAM);
    let data = DATA as i64;
    let (load, store) = if bytes == 8 {
        (Op::Ld, Op::Sd)
    } else {
        (Op::Lw, Op::Sw)
    };
    match reg {
        Reg::Gpr(r) => {
            if bytes > xbytes {
                return Err(CmdErr::NotSupported);
            }
            if write {
                a.load(load, r, ZERO, data);
            } else {
                a.store(store, r, ZERO, data);
            }
        }
        Reg::Csr(csr) => {
            if bytes > xbytes {
                return Err(CmdErr::NotSupported);
            }
            let save = if csr == DSCRATCH0 {
                DSCRATCH1
            } else {
                DSCRATCH0
            };
            a.csrw(save, S0);
            if write {
                a.load(load, S0, ZERO, data);
                a.csrw(csr, S0);
            } else {
                a.csrr(S0, csr);
                a.store(store, S0, ZERO, data);
            }
            a.csrr(S0, save);
        }
        Reg::Fpr(r) => {
            let fmt = match bytes {
                4 if caps.f => Fmt::S,
                8 if caps.d => Fmt::D,
                _ => return Err(CmdErr::NotSupported),
            };
            // The FP unit may be off (mstatus.FS = 0): turn it on for the access. A read puts
            // mstatus back as it was; a write leaves FS dirty unless the unit was off.
            a.csrw(DSCRATCH0, S0);
            a.csrr(S0, MSTATUS);
            a.csrw(DSCRATCH1, S0);
            a.li(S0, FS_DIRTY);
            a.csrs(MSTATUS, S0);
            if write {
                a.fload(fmt, r, ZERO, data);
            } else {
                a.fstore(fmt, r, ZERO, data);
            }
            a.csrr(S0, DSCRATCH1);
            a.csrw(MSTATUS, S0);
            if write {
                let off = a.label();
                a.i(Op::Srli, S0, S0, 13);
                a.i(Op::Andi, S0, S0, 3);
                a.branch(Op::Beq, S0, ZERO, off);
                a.li(S0, FS_DIRTY);
                a.csrs(MSTATUS, S0);
                a.bind(off);
            }
            a.csrr(S0, DSCRATCH0);
        }
    }
    words(a)
}

/// Finish an abstract program: `ebreak`, or run on into the program buffer (`postexec`).
pub fn finish(mut prog: Vec<u32>, postexec: bool) -> Result<Vec<u32>, CmdErr> {
    let at = PROGRAM + 4 * prog.len() as u64;
    let mut a = Asm::new(Xlen::X32, at);
    if postexec {
        let pb = a.label_at(PROGBUF);
        a.j(pb);
    } else {
        a.op0(Op::Ebreak);
    }
    prog.extend(words(a)?);
    if prog.len() > PROGRAM_WORDS {
        return Err(CmdErr::Other);
    }
    Ok(prog)
}

fn words(a: Asm) -> Result<Vec<u32>, CmdErr> {
    let bytes = a.finish().map_err(|_| CmdErr::Other)?;
    Ok(bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RV64: HartCaps = HartCaps {
        xlen: Xlen::X64,
        f: true,
        d: true,
    };

    #[test]
    fn sizes_and_registers_emu_refuses() {
        let rv32 = HartCaps {
            xlen: Xlen::X32,
            f: true,
            d: false,
        };
        assert_eq!(
            transfer(Reg::Gpr(5), 8, false, rv32),
            Err(CmdErr::NotSupported)
        );
        assert_eq!(
            transfer(Reg::Fpr(1), 8, false, rv32),
            Err(CmdErr::NotSupported)
        );
        assert!(transfer(Reg::Gpr(5), 4, false, rv32).is_ok());
        assert!(transfer(Reg::Csr(0x300), 8, true, RV64).is_ok());
        assert_eq!(Reg::from_regno(0xc000), None);
        assert_eq!(Reg::from_regno(0x1005), Some(Reg::Gpr(5)));
    }

    #[test]
    fn every_program_fits() {
        for write in [false, true] {
            for reg in [Reg::Gpr(31), Reg::Csr(0x7b2), Reg::Fpr(31)] {
                let p = transfer(reg, 8, write, RV64);
                assert!(p.as_ref().is_ok_and(|p| !p.is_empty()), "{reg:?}");
                assert!(finish(p.unwrap_or_default(), true).is_ok(), "{reg:?}");
            }
        }
    }
}
