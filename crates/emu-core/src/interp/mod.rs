//! The reference interpreter: fetch, decode and execute one instruction with every
//! architectural check. Simple on purpose: it is the oracle faster engines are tested against.

use emu_isa::{Fmt, Inst, IntAccess, Op, OpClass, decode};

use crate::alu::alu;
use crate::bus::{AmoOp, Bus};
use crate::fpu::{self, Arith, Cmp, IntKind};
use crate::hart::{Hart, Reservation, mstatus as ms};
use crate::trap::{Access, Exception};
use crate::types::{PhysAddr, Priv};

const PAGE: u64 = 4096;

mod atomic;
mod float;

impl Hart {
    /// Fetch and decode the instruction at `pc`. Returns it with its raw bits (for `mtval`).
    pub fn fetch(&self, bus: &dyn Bus) -> Result<(Inst, u32), Exception> {
        self.fetch_at(self.pc, bus)
    }

    /// Fetch and decode the instruction at virtual address `pc` with the hart's current
    /// translation and privilege (engines translating ahead of execution use this).
    pub fn fetch_at(&self, pc: u64, bus: &dyn Bus) -> Result<(Inst, u32), Exception> {
        // Common case: the whole word lies in one page: one translation, one read.
        let (lo, hi) = if pc % PAGE <= PAGE - 4 {
            let pa = self.translate(pc, 2, Access::Fetch, bus)?;
            match bus.read(PhysAddr(pa), 4) {
                // The upper half needs its own PMP check (a region may end mid-word).
                Ok(w) if self.pmp_allows(pa + 2, 2, Access::Fetch, self.prv) => {
                    (w as u16, Some((w >> 16) as u16))
                }
                Ok(w) => (w as u16, None),
                Err(_) => (self.fetch16(pc, bus)?, None),
            }
        } else {
            (self.fetch16(pc, bus)?, None)
        };
        if lo & 3 != 3 {
            let i = decode(lo, 0, self.isa.xlen);
            let illegal =
                i.is_illegal() || (emu_isa::compressed::is_zcb(lo) && !self.isa.zcb) || !self.isa.c;
            return Ok((
                if illegal {
                    Inst {
                        len: 2,
                        ..Inst::ILLEGAL
                    }
                } else {
                    i
                },
                lo as u32,
            ));
        }
        let hi = match hi {
            Some(h) => h,
            None => self.fetch16(self.addr(pc.wrapping_add(2)), bus)?,
        };
        let raw = lo as u32 | (hi as u32) << 16;
        Ok((decode(lo, hi, self.isa.xlen), raw))
    }

    fn fetch16(&self, va: u64, bus: &dyn Bus) -> Result<u16, Exception> {
        let pa = self.translate(va, 2, Access::Fetch, bus)?;
        bus.read(PhysAddr(pa), 2)
            .map(|v| v as u16)
            .map_err(|_| Exception::InstAccess(va))
    }

    /// Execute the instruction at `pc`, advancing `pc` and the counters on success.
    pub fn execute_one(&mut self, bus: &dyn Bus) -> Result<(), Exception> {
        let (inst, raw) = self.fetch(bus)?;
        self.execute(&inst, raw, bus)?;
        self.retire();
        Ok(())
    }

    /// Count one retired instruction (unless inhibited or overwritten by a CSR write).
    pub fn retire(&mut self) {
        if self.counters_stopped() {
            self.cycle_written = false;
            self.instret_written = false;
            return;
        }
        if !self.cycle_written && self.csr.mcountinhibit & 1 == 0 {
            self.csr.mcycle = self.csr.mcycle.wrapping_add(1);
        }
        if !self.instret_written && self.csr.mcountinhibit & 4 == 0 {
            self.csr.minstret = self.csr.minstret.wrapping_add(1);
        }
        self.cycle_written = false;
        self.instret_written = false;
    }

    fn check_target(&self, t: u64) -> Result<u64, Exception> {
        if !self.isa.c && t & 3 != 0 {
            Err(Exception::InstMisaligned(t))
        } else {
            Ok(t)
        }
    }

    /// Load `size` bytes from virtual address `va` (misaligned allowed, also across pages).
    pub fn load(&self, va: u64, size: usize, bus: &dyn Bus) -> Result<u64, Exception> {
        if (va % PAGE) + size as u64 > PAGE {
            let mut v = 0;
            for k in 0..size {
                v |= self.load(self.addr(va.wrapping_add(k as u64)), 1, bus)? << (8 * k);
            }
            return Ok(v);
        }
        let pa = self.translate(va, size as u64, Access::Load, bus)?;
        bus.read(PhysAddr(pa), size)
            .map_err(|_| Exception::LoadAccess(va))
    }

    /// Store the low `size` bytes of `val` at virtual address `va`.
    pub fn store(
        &mut self,
        va: u64,
        size: usize,
        val: u64,
        bus: &dyn Bus,
    ) -> Result<(), Exception> {
        if (va % PAGE) + size as u64 > PAGE {
            // Translate every byte before writing any, so a fault leaves memory untouched.
            let mut pas = [0u64; 8];
            for (k, pa) in pas.iter_mut().enumerate().take(size) {
                *pa =
                    self.translate(self.addr(va.wrapping_add(k as u64)), 1, Access::Store, bus)?;
            }
            for (k, pa) in pas.iter().enumerate().take(size) {
                bus.write(PhysAddr(*pa), 1, val >> (8 * k))
                    .map_err(|_| Exception::StoreAccess(va))?;
            }
            return Ok(());
        }
        let pa = self.translate(va, size as u64, Access::Store, bus)?;
        bus.write(PhysAddr(pa), size, val)
            .map_err(|_| Exception::StoreAccess(va))
    }

    /// Execute decoded instruction `i` (raw bits `raw`) at the current `pc`.
    pub fn execute(&mut self, i: &Inst, raw: u32, bus: &dyn Bus) -> Result<(), Exception> {
        use Op::*;
        let illegal = Exception::Illegal(raw as u64);
        if i.is_illegal() || !self.isa.allows(i) {
            return Err(illegal);
        }
        let pc = self.pc;
        let next = self.addr(pc.wrapping_add(i.len as u64));
        let a = self.get_x(i.rs1);
        let b = self.get_x(i.rs2);
        let imm = i.imm as u64;
        let mut npc = next;
        match i.op.class() {
            OpClass::Memory => return self.exec_memory(i, bus),
            OpClass::System => return self.exec_system(i, raw),
            OpClass::Csr => return self.exec_csr(i, raw, bus),
            OpClass::Atomic => return self.exec_atomic(i, bus),
            OpClass::Float => return self.exec_float(i, raw, bus),
            OpClass::Control | OpClass::Alu => {}
        }
        match i.op {
            Lui => self.set_x(i.rd, imm),
            Auipc => self.set_x(i.rd, pc.wrapping_add(imm)),
            Jal => {
                npc = self.check_target(self.addr(pc.wrapping_add(imm)))?;
                self.set_x(i.rd, next);
            }
            Jalr => {
                npc = self.check_target(self.addr(a.wrapping_add(imm)) & !1)?;
                self.set_x(i.rd, next);
            }
            Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                let taken = match i.op {
                    Beq => a == b,
                    Bne => a != b,
                    Blt => (a as i64) < (b as i64),
                    Bge => (a as i64) >= (b as i64),
                    Bltu => a < b,
                    _ => a >= b,
                };
                if taken {
                    npc = self.check_target(self.addr(pc.wrapping_add(imm)))?;
                }
            }
            Addi | Slti | Sltiu | Xori | Ori | Andi | Slli | Srli | Srai | Addiw | Slliw
            | Srliw | Sraiw | Rori | Roriw | Bclri | Bexti | Binvi | Bseti | SlliUw => {
                let v = alu(i.op, a, imm, self.isa.xlen).ok_or(illegal)?;
                self.set_x(i.rd, v);
            }
            _ => {
                let v = alu(i.op, a, b, self.isa.xlen).ok_or(illegal)?;
                self.set_x(i.rd, v);
            }
        }
        self.pc = npc;
        Ok(())
    }

    fn next_pc(&self, i: &Inst) -> u64 {
        self.addr(self.pc.wrapping_add(i.len as u64))
    }

    /// An aligned access of `size` bytes at `va` in the Debug Module's memory, in Debug
    /// Mode: [`Hart::exec_memory`] sends it to the bus as it is (no translation, PMP or
    /// trigger applies there, see `translate`), which is how the DM's ROM and programs
    /// reach it at every command.
    pub fn dm_direct(&self, va: u64, size: usize) -> bool {
        va.is_multiple_of(size as u64) && self.in_dm_window(va, size as u64)
    }

    /// Execute an integer load or store (`OpClass::Memory`); the caller has checked that the
    /// hart implements `i`.
    pub fn exec_memory(&mut self, i: &Inst, bus: &dyn Bus) -> Result<(), Exception> {
        let Some(IntAccess {
            size,
            signed,
            store,
        }) = i.op.int_access()
        else {
            return Err(Exception::Illegal(0));
        };
        let va = self.addr(self.get_x(i.rs1).wrapping_add(i.imm as u64));
        if store {
            let b = self.get_x(i.rs2);
            if self.dm_direct(va, size) {
                bus.write(PhysAddr(va), size, b)
                    .map_err(|_| Exception::StoreAccess(va))?;
            } else {
                self.watch_store(va, size, b)?;
                self.store(va, size, b, bus)?;
            }
        } else {
            let v = if self.dm_direct(va, size) {
                bus.read(PhysAddr(va), size)
                    .map_err(|_| Exception::LoadAccess(va))?
            } else {
                self.watch_load(va, size)?;
                let v = self.load(va, size, bus)?;
                self.watch_load_value(va, size, v);
                v
            };
            let v = if signed && size < 8 {
                let sh = 64 - 8 * size as u32;
                (((v << sh) as i64) >> sh) as u64
            } else {
                v
            };
            self.set_x(i.rd, v);
        }
        self.pc = self.next_pc(i);
        Ok(())
    }

    /// Execute a fence, environment call, trap return, `wfi` or `sfence.vma`
    /// (`OpClass::System`); the caller has checked that the hart implements `i`.
    pub fn exec_system(&mut self, i: &Inst, raw: u32) -> Result<(), Exception> {
        use Op::*;
        let illegal = Exception::Illegal(raw as u64);
        let pc = self.pc;
        let mut npc = self.next_pc(i);
        match i.op {
            Fence | FenceI => {}
            Ecall => {
                return Err(match self.prv {
                    Priv::U => Exception::EcallU,
                    Priv::S => Exception::EcallS,
                    Priv::M => Exception::EcallM,
                });
            }
            Ebreak if !self.debug_mode && self.ebreak_enters_debug() => {
                return Err(Exception::EnterDebug(crate::debug::DebugCause::Ebreak));
            }
            Ebreak => return Err(Exception::Breakpoint(pc)),
            Mret => {
                if self.prv != Priv::M {
                    return Err(illegal);
                }
                let s = self.csr.mstatus;
                let mpp = Priv::from_bits(s >> 11).unwrap_or(Priv::U);
                let mut n = s & !(ms::MIE | ms::MPP);
                if s & ms::MPIE != 0 {
                    n |= ms::MIE;
                }
                n |= ms::MPIE;
                if mpp != Priv::M {
                    n &= !ms::MPRV;
                }
                self.csr.mstatus = n;
                self.prv = mpp;
                self.triggers.on_mret();
                npc = self.addr(self.csr.mepc & if self.isa.c { !1 } else { !3 });
                self.reservation = None;
            }
            Sret => {
                if self.prv == Priv::U || (self.prv == Priv::S && self.csr.mstatus & ms::TSR != 0) {
                    return Err(illegal);
                }
                let s = self.csr.mstatus;
                let spp = if s & ms::SPP != 0 { Priv::S } else { Priv::U };
                let mut n = s & !(ms::SIE | ms::SPP | ms::MPRV);
                if s & ms::SPIE != 0 {
                    n |= ms::SIE;
                }
                n |= ms::SPIE;
                self.csr.mstatus = n;
                self.prv = spp;
                npc = self.addr(self.csr.sepc & if self.isa.c { !1 } else { !3 });
                self.reservation = None;
            }
            Wfi => {
                let tw = self.csr.mstatus & ms::TW != 0;
                if self.prv == Priv::U || (self.prv == Priv::S && tw) {
                    return Err(illegal);
                }
                // In Debug Mode, a nudge since the park loop last looked at its flags means
                // they may have changed after that look: go round and look again.
                let missed = self.debug_mode && std::mem::take(&mut self.debug.nudged);
                self.waiting = !missed;
            }
            SfenceVma => {
                if self.prv == Priv::U || (self.prv == Priv::S && self.csr.mstatus & ms::TVM != 0) {
                    return Err(illegal);
                }
            }
            Dret if self.debug_mode => {
                self.dret();
                return Ok(());
            }
            Dret => return Err(illegal),
            _ => return Err(illegal),
        }
        self.pc = npc;
        Ok(())
    }

    /// Execute a CSR instruction (`OpClass::Csr`); the caller has checked that the hart
    /// implements `i`.
    pub fn exec_csr(&mut self, i: &Inst, raw: u32, bus: &dyn Bus) -> Result<(), Exception> {
        use Op::*;
        let illegal = Exception::Illegal(raw as u64);
        let csr = i.imm as u16;
        let src = match i.op {
            Csrrwi | Csrrsi | Csrrci => i.rs1 as u64,
            _ => self.get_x(i.rs1),
        };
        // csrrw/csrrwi with rd = x0 do not read; csrrs/c with a zero source do not write.
        let reads = !(matches!(i.op, Csrrw | Csrrwi) && i.rd == 0);
        let writes = matches!(i.op, Csrrw | Csrrwi) || i.rs1 != 0;
        let old = if reads || writes && !matches!(i.op, Csrrw | Csrrwi) {
            self.csr_read(csr, bus).map_err(|_| illegal)?
        } else {
            0
        };
        if writes {
            let new = match i.op {
                Csrrw | Csrrwi => src,
                Csrrs | Csrrsi => old | src,
                _ => old & !src,
            };
            self.csr_write(csr, new).map_err(|_| illegal)?;
            if matches!(csr, 1..=3) {
                self.set_fs_dirty();
            }
        } else if !reads {
            // Neither reads nor writes cannot happen (csrrw always writes); keep checks total.
            self.csr_read(csr, bus).map_err(|_| illegal)?;
        }
        if reads {
            self.set_x(i.rd, old);
        }
        self.pc = self.addr(self.pc.wrapping_add(i.len as u64));
        Ok(())
    }
}
