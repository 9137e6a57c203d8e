//! Abstract commands as programs: what the Debug Module writes at [`crate::rom::PROGRAM`]
//! for the hart to execute (Access Register, Access Memory, Quick Access), assembled with
//! `emu-asm`.
//!
//! Register use: the ROM restores `s0` before jumping here, so every GPR holds the halted
//! program's value. A program that needs scratch registers (or changes CSRs it must put
//! back) saves them in the DM's [`SAVE`] slots and restores them before it ends; its
//! [`Program::cleanup`] does the same restoring for the case where an instruction in
//! between raised an exception (the DM then runs the cleanup instead of the rest).

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_isa::{Fmt, Op, Xlen};

use crate::regs::CmdErr;
use crate::rom::{CLEANUP, CLEANUP_WORDS, DATA, PROGBUF, PROGRAM, PROGRAM_WORDS, SAVE, XFER_DONE};

const MSTATUS: u16 = 0x300;
const FFLAGS: u16 = 0x001;
const FCSR: u16 = 0x003;
const DCSR: u16 = 0x7b0;
/// `mstatus.FS` = dirty.
const FS_DIRTY: i64 = 3 << 13;
/// `mstatus.MPRV`.
const MPRV: i64 = 1 << 17;
/// `dcsr.mprven`.
const MPRVEN: i64 = 1 << 4;

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

/// A command's program: the body the hart runs, and the cleanup the DM has it run instead
/// of the rest when the body raises an exception before its end (empty: nothing to undo).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// Instructions at [`PROGRAM`] (without the final `ebreak` or jump).
    pub body: Vec<u32>,
    /// Instructions at [`CLEANUP`] (without the final `ebreak`).
    pub cleanup: Vec<u32>,
}

/// An assembler at [`PROGRAM`] with XLEN-sized saves to the [`SAVE`] slots.
struct Gen {
    a: Asm,
    xlen: Xlen,
}

impl Gen {
    fn new(xlen: Xlen, at: u64) -> Gen {
        Gen {
            a: Asm::new(xlen, at),
            xlen,
        }
    }
    fn xload(&self) -> Op {
        if self.xlen == Xlen::X64 {
            Op::Ld
        } else {
            Op::Lw
        }
    }
    fn xstore(&self) -> Op {
        if self.xlen == Xlen::X64 {
            Op::Sd
        } else {
            Op::Sw
        }
    }
    fn save(&mut self, r: u8, slot: u64) {
        let op = self.xstore();
        self.a.store(op, r, ZERO, (SAVE + 8 * slot) as i64);
    }
    fn restore(&mut self, r: u8, slot: u64) {
        let op = self.xload();
        self.a.load(op, r, ZERO, (SAVE + 8 * slot) as i64);
    }
    /// Restore CSR `csr` from `slot` through `s0`.
    fn restore_csr(&mut self, csr: u16, slot: u64) {
        self.restore(S0, slot);
        self.a.csrw(csr, S0);
    }
    fn words(self) -> Result<Vec<u32>, CmdErr> {
        words(self.a)
    }
    /// Turn the FP unit on for an access (it may be off: `mstatus.FS` = 0), keeping
    /// `mstatus` in slot 1. Uses `s0`, which the caller has saved.
    fn fp_on(&mut self) {
        self.a.csrr(S0, MSTATUS);
        self.save(S0, 1);
        self.a.li(S0, FS_DIRTY);
        self.a.csrs(MSTATUS, S0);
    }
    /// Undo [`Gen::fp_on`]: after a read `mstatus` is as it was; after a write FS is
    /// dirty, unless the unit was off (then it stays off, as the program left it).
    fn fp_off(&mut self, write: bool) {
        self.restore_csr(MSTATUS, 1);
        if write {
            let off = self.a.label();
            self.a.i(Op::Srli, S0, S0, 13);
            self.a.i(Op::Andi, S0, S0, 3);
            self.a.branch(Op::Beq, S0, ZERO, off);
            self.a.li(S0, FS_DIRTY);
            self.a.csrs(MSTATUS, S0);
            self.a.bind(off);
        }
    }
}

/// The program for one Access Register transfer, or the `cmderr` that refuses it.
///
/// `bytes`: 4 or 8 (`aarsize` 2 or 3). Reads narrower than the register take its low bits;
/// a narrower write sign-extends (as `lw` does).
pub fn transfer(reg: Reg, bytes: u32, write: bool, caps: HartCaps) -> Result<Program, CmdErr> {
    let xbytes = caps.xlen.bits() / 8;
    let mut g = Gen::new(caps.xlen, PROGRAM);
    let mut c = Gen::new(caps.xlen, CLEANUP);
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
                g.a.load(load, r, ZERO, data);
            } else {
                g.a.store(store, r, ZERO, data);
            }
        }
        Reg::Csr(csr) => {
            if bytes > xbytes {
                return Err(CmdErr::NotSupported);
            }
            // A CSR the hart lacks raises an exception with s0 borrowed.
            g.save(S0, 0);
            // fflags, frm and fcsr exist whenever F does, but trap while the FP unit is
            // off: a debugger reads them at any time, as it does the FPRs.
            let fp = (FFLAGS..=FCSR).contains(&csr) && caps.f;
            if fp {
                g.fp_on();
            }
            if write {
                g.a.load(load, S0, ZERO, data);
                g.a.csrw(csr, S0);
            } else {
                g.a.csrr(S0, csr);
                g.a.store(store, S0, ZERO, data);
            }
            if fp {
                g.fp_off(write);
            }
            g.restore(S0, 0);
            c.restore(S0, 0);
        }
        Reg::Fpr(r) => {
            let fmt = match bytes {
                4 if caps.f => Fmt::S,
                8 if caps.d => Fmt::D,
                _ => return Err(CmdErr::NotSupported),
            };
            g.save(S0, 0);
            g.fp_on();
            if write {
                g.a.fload(fmt, r, ZERO, data);
            } else {
                g.a.fstore(fmt, r, ZERO, data);
            }
            g.fp_off(write);
            g.restore(S0, 0);
        }
    }
    Ok(Program {
        body: g.words()?,
        cleanup: c.words()?,
    })
}

/// An Access Memory command's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemAccess {
    /// `aamsize`: log2 of the access size in bytes.
    pub size: u32,
    /// `aamvirtual`: translate as M-mode with `MPRV` set.
    pub virtual_: bool,
    /// `aampostincrement`.
    pub postincrement: bool,
    /// `write`.
    pub write: bool,
}

/// The program for an Access Memory command: `arg0` (data) at `DATA`, `arg1` (address) at
/// `DATA + XLEN/8`. The access is the hart's own load or store, in M-mode: physical with
/// `dcsr.mprven` cleared for the access, or virtual with `mstatus.MPRV` and `mprven` set.
pub fn access_memory(m: MemAccess, caps: HartCaps) -> Result<Program, CmdErr> {
    let xbytes = u64::from(caps.xlen.bits() / 8);
    let bytes = 1u64 << m.size.min(7);
    if m.size > 3 || bytes > xbytes {
        return Err(CmdErr::NotSupported);
    }
    let arg0 = DATA as i64;
    let arg1 = (DATA + xbytes) as i64;
    let mut g = Gen::new(caps.xlen, PROGRAM);
    let mut c = Gen::new(caps.xlen, CLEANUP);
    g.save(S0, 0);
    g.save(S1, 1);
    g.a.csrr(S0, DCSR);
    g.save(S0, 2);
    g.a.li(S0, MPRVEN);
    if m.virtual_ {
        g.a.csrs(DCSR, S0);
        g.a.csrr(S0, MSTATUS);
        g.save(S0, 3);
        g.a.li(S0, MPRV);
        g.a.csrs(MSTATUS, S0);
    } else {
        g.a.csrc(DCSR, S0);
    }
    let xload = g.xload();
    let xstore = g.xstore();
    g.a.load(xload, S0, ZERO, arg1);
    if m.write {
        g.a.load(xload, S1, ZERO, arg0);
        let st = [Op::Sb, Op::Sh, Op::Sw, Op::Sd][m.size as usize];
        g.a.store(st, S1, S0, 0);
    } else {
        let ld = match (m.size, caps.xlen) {
            (0, _) => Op::Lbu,
            (1, _) => Op::Lhu,
            (2, Xlen::X64) => Op::Lwu,
            (2, _) => Op::Lw,
            _ => Op::Ld,
        };
        g.a.load(ld, S1, S0, 0);
        g.a.store(xstore, S1, ZERO, arg0);
    }
    if m.postincrement {
        g.a.i(Op::Addi, S0, S0, bytes as i64);
        g.a.store(xstore, S0, ZERO, arg1);
    }
    // Put back what was borrowed; the cleanup does the same after a fault.
    for p in [&mut g, &mut c] {
        if m.virtual_ {
            p.restore_csr(MSTATUS, 3);
        }
        p.restore_csr(DCSR, 2);
        p.restore(S0, 0);
        p.restore(S1, 1);
    }
    Ok(Program {
        body: g.words()?,
        cleanup: c.words()?,
    })
}

/// The program words and cleanup words of a command: the body, then `ebreak`, or (with
/// `postexec`) a jump into the program buffer, after marking the end of the borrowing part.
pub fn finish(p: Program, postexec: bool) -> Result<(Vec<u32>, Vec<u32>), CmdErr> {
    let mut prog = p.body;
    let at = PROGRAM + 4 * prog.len() as u64;
    let mut a = Asm::new(Xlen::X32, at);
    if postexec {
        if !p.cleanup.is_empty() {
            // An exception after this point is the program buffer's: nothing to undo.
            a.store(Op::Sw, ZERO, ZERO, XFER_DONE as i64);
        }
        let pb = a.label_at(PROGBUF);
        a.j(pb);
    } else {
        a.op0(Op::Ebreak);
    }
    prog.extend(words(a)?);
    let mut cleanup = p.cleanup;
    cleanup.push(EBREAK);
    if prog.len() > PROGRAM_WORDS || cleanup.len() > CLEANUP_WORDS {
        return Err(CmdErr::Other);
    }
    Ok((prog, cleanup))
}

/// Quick Access: straight into the program buffer.
pub fn quick_access() -> Vec<u32> {
    // `j` to the program buffer: J-type, offset PROGBUF - PROGRAM.
    let mut a = Asm::new(Xlen::X32, PROGRAM);
    let pb = a.label_at(PROGBUF);
    a.j(pb);
    words(a).unwrap_or_default()
}

/// `ebreak`.
pub const EBREAK: u32 = 0x0010_0073;

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
        let m = MemAccess {
            size: 3,
            virtual_: false,
            postincrement: false,
            write: false,
        };
        assert_eq!(access_memory(m, rv32), Err(CmdErr::NotSupported));
        assert!(access_memory(m, RV64).is_ok());
        let m128 = MemAccess { size: 4, ..m };
        assert_eq!(access_memory(m128, RV64), Err(CmdErr::NotSupported));
        assert!(transfer(Reg::Csr(0x300), 8, true, RV64).is_ok());
        assert_eq!(Reg::from_regno(0xc000), None);
        assert_eq!(Reg::from_regno(0x1005), Some(Reg::Gpr(5)));
    }

    #[test]
    fn every_program_fits() {
        for write in [false, true] {
            for reg in [Reg::Gpr(31), Reg::Csr(0x7b2), Reg::Csr(FCSR), Reg::Fpr(31)] {
                let p = transfer(reg, 8, write, RV64);
                assert!(p.as_ref().is_ok_and(|p| !p.body.is_empty()), "{reg:?}");
                assert!(finish(p.unwrap_or_default(), true).is_ok(), "{reg:?}");
            }
            for size in 0..4 {
                for virtual_ in [false, true] {
                    let m = MemAccess {
                        size,
                        virtual_,
                        postincrement: true,
                        write,
                    };
                    let p = access_memory(m, RV64);
                    assert!(p.as_ref().is_ok_and(|p| !p.cleanup.is_empty()), "{m:?}");
                    assert!(finish(p.unwrap_or_default(), false).is_ok(), "{m:?}");
                }
            }
        }
    }
}
