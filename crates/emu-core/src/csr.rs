//! CSR access: the privilege and read-only checks encoded in CSR numbers, the counter-enable
//! rules, and each register's WARL legalisation.

use emu_isa::Xlen;

use crate::bus::Bus;
use crate::hart::{Hart, mstatus as ms};
use crate::types::Priv;

/// Bits of `mip`/`mie` that exist (SSIP, MSIP, STIP, MTIP, SEIP, MEIP).
const IRQ_MASK: u64 = 0xaaa;
/// `mip` bits M-mode software may write.
const MIP_WRITABLE: u64 = 0x222;
/// Exceptions that may be delegated (all but ecall-from-M and the reserved codes).
const MEDELEG_MASK: u64 = 0xb3ff;
/// `sstatus` view of `mstatus`.
const SSTATUS_MASK: u64 = ms::SIE | ms::SPIE | ms::SPP | ms::FS | ms::SUM | ms::MXR | ms::UXL;

/// Why a CSR access is refused: it is an illegal instruction either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsrDenied;

impl Hart {
    fn fs_on(&self) -> bool {
        self.csr.mstatus & ms::FS != 0
    }

    /// Mark the FP state dirty (after writing an FP register or `fflags`).
    pub fn set_fs_dirty(&mut self) {
        self.csr.mstatus |= ms::FS;
    }

    fn counter_allowed(&self, idx: u64) -> bool {
        match self.prv {
            Priv::M => true,
            Priv::S => self.csr.mcounteren >> idx & 1 != 0,
            Priv::U => self.csr.mcounteren >> idx & 1 != 0 && self.csr.scounteren >> idx & 1 != 0,
        }
    }

    fn mstatus_read(&self) -> u64 {
        let v = self.csr.mstatus;
        let dirty = v & ms::FS == ms::FS;
        match self.isa.xlen {
            Xlen::X64 => v | (dirty as u64) << 63,
            Xlen::X32 => (v & 0x7fff_ffff) | (dirty as u64) << 31,
        }
    }

    fn mstatus_write(&mut self, v: u64, mask: u64) {
        let mut new = (self.csr.mstatus & !mask) | (v & mask);
        // MPP is WARL: the reserved value 2 keeps the previous mode.
        if (new & ms::MPP) >> 11 == 2 {
            new = (new & !ms::MPP) | (self.csr.mstatus & ms::MPP);
        }
        self.csr.mstatus = new;
    }

    /// Check the number-encoded rules and existence of CSR `csr` for a read or write.
    fn csr_check(&self, csr: u16, write: bool) -> Result<(), CsrDenied> {
        let min_priv = (csr >> 8) & 3;
        if (self.prv as u16) < min_priv || (write && csr >> 10 == 3) {
            return Err(CsrDenied);
        }
        // 0x7b0..0x7bf: only Debug Mode may touch the core debug registers.
        if csr & 0xff0 == 0x7b0 && !self.debug_mode {
            return Err(CsrDenied);
        }
        Ok(())
    }

    /// Read CSR `csr` as the instruction would (with all access checks).
    pub fn csr_read(&self, csr: u16, bus: &dyn Bus) -> Result<u64, CsrDenied> {
        self.csr_check(csr, false)?;
        let rv32 = self.isa.xlen == Xlen::X32;
        let c = &self.csr;
        let v = match csr {
            0x001..=0x003 if !self.isa.f || !self.fs_on() => return Err(CsrDenied),
            0x001 => c.fflags as u64,
            0x002 => c.frm as u64,
            0x003 => (c.frm as u64) << 5 | c.fflags as u64,
            0xc00..=0xc1f | 0xc80..=0xc9f => {
                let idx = (csr & 0x1f) as u64;
                let high = csr >= 0xc80;
                if (high && !rv32) || !self.counter_allowed(idx) {
                    return Err(CsrDenied);
                }
                let full = match idx {
                    0 => c.mcycle,
                    1 => self.time(bus),
                    2 => c.minstret,
                    _ => 0,
                };
                if high { full >> 32 } else { full }
            }
            0x100 => self.mstatus_read() & (SSTATUS_MASK | 1 << 63 | 1 << 31),
            0x104 => c.mie & c.mideleg,
            0x105 => c.stvec,
            0x106 => c.scounteren,
            0x10a => c.senvcfg,
            0x140 => c.sscratch,
            0x141 => c.sepc & self.epc_mask(),
            0x142 => c.scause,
            0x143 => c.stval,
            0x144 => self.mip(bus.irq_lines(self.id)) & c.mideleg,
            0x180 => {
                if self.prv == Priv::S && c.mstatus & ms::TVM != 0 {
                    return Err(CsrDenied);
                }
                c.satp
            }
            0x300 => self.mstatus_read(),
            0x301 => self.isa.misa() & if rv32 { 0xffff_ffff } else { u64::MAX },
            0x302 => c.medeleg,
            0x303 => c.mideleg,
            0x304 => c.mie,
            0x305 => c.mtvec,
            0x306 => c.mcounteren,
            0x30a => c.menvcfg & if rv32 { 0xffff_ffff } else { u64::MAX },
            0x310 | 0x31a if !rv32 => return Err(CsrDenied),
            0x310 => 0,
            0x31a => c.menvcfg >> 32,
            0x320 => c.mcountinhibit,
            0x323..=0x33f => 0,
            0x340 => c.mscratch,
            0x341 => c.mepc & self.epc_mask(),
            0x342 => c.mcause,
            0x343 => c.mtval,
            0x344 => self.mip(bus.irq_lines(self.id)),
            0x34a | 0x34b => 0,
            0x3a0..=0x3a3 => self.pmpcfg_read(csr - 0x3a0)?,
            0x3b0..=0x3bf => c.pmpaddr[(csr - 0x3b0) as usize],
            0x3c0..=0x3ef => 0,
            0xb00 => c.mcycle & self.word_mask(),
            0xb02 => c.minstret & self.word_mask(),
            0xb03..=0xb1f => 0,
            0xb80 | 0xb82 if rv32 => (if csr == 0xb80 { c.mcycle } else { c.minstret }) >> 32,
            0xb83..=0xb9f if rv32 => 0,
            0xf11..=0xf13 | 0xf15 => 0,
            0xf14 => self.id.0 as u64,
            0x7b0..=0x7bf => self.debug_csr_read(csr).ok_or(CsrDenied)?,
            0x5a8 if !self.isa.s => return Err(CsrDenied),
            0x7a0..=0x7af | 0x5a8 => self.trigger_csr_read(csr).ok_or(CsrDenied)?,
            _ => return Err(CsrDenied),
        };
        Ok(v)
    }

    fn word_mask(&self) -> u64 {
        if self.isa.xlen == Xlen::X32 {
            0xffff_ffff
        } else {
            u64::MAX
        }
    }

    pub(crate) fn epc_mask(&self) -> u64 {
        if self.isa.c { !1 } else { !3 }
    }

    fn pmpcfg_read(&self, n: u16) -> Result<u64, CsrDenied> {
        let rv32 = self.isa.xlen == Xlen::X32;
        if !rv32 && n & 1 != 0 {
            return Err(CsrDenied);
        }
        let bytes = if rv32 { 4 } else { 8 };
        let first = n as usize * 4;
        Ok((0..bytes).fold(0u64, |acc, i| {
            acc | (self.csr.pmpcfg[first + i] as u64) << (8 * i)
        }))
    }

    fn pmpcfg_write(&mut self, n: u16, v: u64) -> Result<(), CsrDenied> {
        let rv32 = self.isa.xlen == Xlen::X32;
        if !rv32 && n & 1 != 0 {
            return Err(CsrDenied);
        }
        let bytes = if rv32 { 4 } else { 8 };
        let first = n as usize * 4;
        for i in 0..bytes {
            let e = first + i;
            if self.csr.pmpcfg[e] & 0x80 != 0 {
                continue; // locked
            }
            let mut b = (v >> (8 * i)) as u8 & 0x9f;
            // R=0, W=1 is reserved: keep W only with R.
            if b & 3 == 2 {
                b &= !2;
            }
            self.csr.pmpcfg[e] = b;
        }
        Ok(())
    }

    fn pmpaddr_write(&mut self, i: usize, v: u64) {
        let locked = self.csr.pmpcfg[i] & 0x80 != 0;
        let next_tor_locked = i + 1 < 16 && self.csr.pmpcfg[i + 1] & 0x98 == 0x88;
        if locked || next_tor_locked {
            return;
        }
        let mask = match self.isa.xlen {
            Xlen::X32 => 0xffff_ffff,
            Xlen::X64 => (1u64 << 54) - 1,
        };
        self.csr.pmpaddr[i] = v & mask;
    }

    /// Write CSR `csr` as the instruction would (with all access checks and WARL rules).
    pub fn csr_write(&mut self, csr: u16, v: u64) -> Result<(), CsrDenied> {
        self.csr_check(csr, true)?;
        let rv32 = self.isa.xlen == Xlen::X32;
        let v = v & self.word_mask();
        match csr {
            0x001..=0x003 if !self.isa.f || !self.fs_on() => return Err(CsrDenied),
            0x001 => self.csr.fflags = v as u8 & 0x1f,
            0x002 => self.csr.frm = v as u8 & 7,
            0x003 => {
                self.csr.fflags = v as u8 & 0x1f;
                self.csr.frm = (v >> 5) as u8 & 7;
            }
            0x100 => self.mstatus_write(v, SSTATUS_MASK & !ms::UXL),
            0x104 => {
                self.csr.mie =
                    (self.csr.mie & !self.csr.mideleg) | (v & self.csr.mideleg & IRQ_MASK)
            }
            0x105 => self.csr.stvec = legal_tvec(self.csr.stvec, v),
            0x106 => self.csr.scounteren = v & 0xffff_ffff,
            0x10a => self.csr.senvcfg = v & 1,
            0x140 => self.csr.sscratch = v,
            0x141 => self.csr.sepc = v & !1,
            0x142 => self.csr.scause = v,
            0x143 => self.csr.stval = v,
            0x144 => {
                let m = self.csr.mideleg & 0x2; // only SSIP is writable through sip
                self.csr.mip = (self.csr.mip & !m) | (v & m);
            }
            0x180 => {
                if self.prv == Priv::S && self.csr.mstatus & ms::TVM != 0 {
                    return Err(CsrDenied);
                }
                self.satp_write(v);
            }
            0x300 => {
                let mask = ms::SIE
                    | ms::MIE
                    | ms::SPIE
                    | ms::MPIE
                    | ms::SPP
                    | ms::MPP
                    | ms::FS
                    | ms::MPRV
                    | ms::SUM
                    | ms::MXR
                    | ms::TVM
                    | ms::TW
                    | ms::TSR;
                self.mstatus_write(v, mask);
            }
            0x301 => {} // misa is read-only here (a legal WARL choice)
            0x302 => self.csr.medeleg = v & MEDELEG_MASK,
            0x303 => self.csr.mideleg = v & 0x222,
            0x304 => self.csr.mie = v & IRQ_MASK,
            0x305 => self.csr.mtvec = legal_tvec(self.csr.mtvec, v),
            0x306 => self.csr.mcounteren = v & 0xffff_ffff,
            0x30a => {
                let lo = if rv32 { 0xffff_ffff } else { u64::MAX };
                self.csr.menvcfg = (self.csr.menvcfg & !lo) | (v & 1);
            }
            0x310 | 0x31a if !rv32 => return Err(CsrDenied),
            0x310 | 0x31a => {}
            0x320 => self.csr.mcountinhibit = v & 0xffff_fffd,
            0x323..=0x33f => {}
            0x340 => self.csr.mscratch = v,
            0x341 => self.csr.mepc = v & !1,
            0x342 => self.csr.mcause = v,
            0x343 => self.csr.mtval = v,
            0x344 => self.csr.mip = (self.csr.mip & !MIP_WRITABLE) | (v & MIP_WRITABLE),
            0x34a | 0x34b => {}
            0x3a0..=0x3a3 => self.pmpcfg_write(csr - 0x3a0, v)?,
            0x3b0..=0x3bf => self.pmpaddr_write((csr - 0x3b0) as usize, v),
            0x3c0..=0x3ef => {}
            0xb00 => {
                self.csr.mcycle = if rv32 {
                    (self.csr.mcycle & !0xffff_ffff) | v
                } else {
                    v
                };
                self.cycle_written = true;
            }
            0xb02 => {
                self.csr.minstret = if rv32 {
                    (self.csr.minstret & !0xffff_ffff) | v
                } else {
                    v
                };
                self.instret_written = true;
            }
            0xb03..=0xb1f => {}
            0xb80 if rv32 => {
                self.csr.mcycle = (self.csr.mcycle & 0xffff_ffff) | v << 32;
                self.cycle_written = true;
            }
            0xb82 if rv32 => {
                self.csr.minstret = (self.csr.minstret & 0xffff_ffff) | v << 32;
                self.instret_written = true;
            }
            0xb83..=0xb9f if rv32 => {}
            0x7b0..=0x7bf if self.debug_csr_write(csr, v) => {}
            0x5a8 if !self.isa.s => return Err(CsrDenied),
            0x7a0..=0x7af | 0x5a8 if self.trigger_csr_write(csr, v) => {}
            _ => return Err(CsrDenied),
        }
        Ok(())
    }

    fn satp_write(&mut self, v: u64) {
        match self.isa.xlen {
            Xlen::X32 => self.csr.satp = v & 0x803f_ffff | v & (0x1ff << 22),
            Xlen::X64 => {
                let mode = v >> 60;
                if matches!(mode, 0 | 8 | 9) {
                    // ASIDLEN = 16 and PPN = 44 bits: every bit is writable.
                    self.csr.satp = v;
                }
            }
        }
    }
}

/// `xtvec` is WARL: modes 2 and 3 are reserved and leave the register unchanged.
fn legal_tvec(old: u64, new: u64) -> u64 {
    if new & 3 < 2 { new } else { old }
}
