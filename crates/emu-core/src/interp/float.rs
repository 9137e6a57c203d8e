//! The F, D and Zfh instructions: `mstatus.FS`, rounding modes, NaN boxing and the
//! accrued flags around the arithmetic of `fpu`.

use super::*;

impl Hart {
    fn fp_enabled(&self) -> bool {
        self.csr.mstatus & ms::FS != 0
    }

    fn rounding(&self, i: &Inst, raw: u32) -> Result<rustc_apfloat::Round, Exception> {
        let rm = if i.rm == 7 { self.csr.frm } else { i.rm };
        fpu::round_mode(rm).ok_or(Exception::Illegal(raw as u64))
    }

    fn set_f(&mut self, rd: u8, fmt: Fmt, v: u64) {
        self.f[rd as usize & 31] = fpu::nanbox(fmt, v);
        self.set_fs_dirty();
    }

    fn get_f(&self, r: u8, fmt: Fmt) -> u64 {
        fpu::unbox(fmt, self.f[r as usize & 31])
    }

    fn accrue(&mut self, flags: u8) {
        if flags != 0 {
            self.csr.fflags |= flags;
            self.set_fs_dirty();
        }
    }

    /// Execute a floating-point instruction (`OpClass::Float`), including the `mstatus.FS`
    /// check; the caller has checked that the hart implements `i`.
    pub fn exec_float(&mut self, i: &Inst, raw: u32, bus: &dyn Bus) -> Result<(), Exception> {
        if !self.fp_enabled() {
            return Err(Exception::Illegal(raw as u64));
        }
        self.exec_fp(i, raw, bus)?;
        self.pc = self.next_pc(i);
        Ok(())
    }

    fn exec_fp(&mut self, i: &Inst, raw: u32, bus: &dyn Bus) -> Result<(), Exception> {
        use Op::*;
        let fmt = i.fmt;
        let width = match fmt {
            Fmt::H => 2,
            Fmt::D => 8,
            _ => 4,
        };
        match i.op {
            Fload => {
                let va = self.addr(self.get_x(i.rs1).wrapping_add(i.imm as u64));
                self.watch_load(va, width)?;
                let v = self.load(va, width, bus)?;
                self.watch_load_value(va, width, v);
                self.set_f(i.rd, fmt, v);
            }
            Fstore => {
                let va = self.addr(self.get_x(i.rs1).wrapping_add(i.imm as u64));
                let v = self.f[i.rs2 as usize & 31];
                self.watch_store(va, width, v)?;
                self.store(va, width, v, bus)?;
            }
            Fmadd | Fmsub | Fnmsub | Fnmadd | Fadd | Fsub | Fmul | Fdiv => {
                let rm = self.rounding(i, raw)?;
                let op = match i.op {
                    Fmadd => Arith::Madd,
                    Fmsub => Arith::Msub,
                    Fnmsub => Arith::Nmsub,
                    Fnmadd => Arith::Nmadd,
                    Fadd => Arith::Add,
                    Fsub => Arith::Sub,
                    Fmul => Arith::Mul,
                    _ => Arith::Div,
                };
                let r = fpu::arith(
                    fmt,
                    op,
                    self.get_f(i.rs1, fmt),
                    self.get_f(i.rs2, fmt),
                    self.get_f(i.rs3, fmt),
                    rm,
                );
                self.set_f(i.rd, fmt, r.val);
                self.accrue(r.flags);
            }
            Fsqrt => {
                let rm = self.rounding(i, raw)?;
                let r = fpu::sqrt(fmt, self.get_f(i.rs1, fmt), rm);
                self.set_f(i.rd, fmt, r.val);
                self.accrue(r.flags);
            }
            Fsgnj | Fsgnjn | Fsgnjx => {
                let k = match i.op {
                    Fsgnj => 0,
                    Fsgnjn => 1,
                    _ => 2,
                };
                let v = fpu::sign_inject(fmt, self.get_f(i.rs1, fmt), self.get_f(i.rs2, fmt), k);
                self.set_f(i.rd, fmt, v);
            }
            Fmin | Fmax => {
                let r = fpu::min_max(
                    fmt,
                    self.get_f(i.rs1, fmt),
                    self.get_f(i.rs2, fmt),
                    i.op == Fmax,
                );
                self.set_f(i.rd, fmt, r.val);
                self.accrue(r.flags);
            }
            FcvtWF | FcvtWuF | FcvtLF | FcvtLuF => {
                let rm = self.rounding(i, raw)?;
                let kind = match i.op {
                    FcvtWF => IntKind::W,
                    FcvtWuF => IntKind::Wu,
                    FcvtLF => IntKind::L,
                    _ => IntKind::Lu,
                };
                let r = fpu::to_int(fmt, self.get_f(i.rs1, fmt), kind, rm);
                self.set_x(i.rd, r.val);
                self.accrue(r.flags);
            }
            FcvtFW | FcvtFWu | FcvtFL | FcvtFLu => {
                let rm = self.rounding(i, raw)?;
                let kind = match i.op {
                    FcvtFW => IntKind::W,
                    FcvtFWu => IntKind::Wu,
                    FcvtFL => IntKind::L,
                    _ => IntKind::Lu,
                };
                let r = fpu::from_int(fmt, self.get_x(i.rs1), kind, rm);
                self.set_f(i.rd, fmt, r.val);
                self.accrue(r.flags);
            }
            FcvtFF => {
                let rm = self.rounding(i, raw)?;
                let src = Fmt::from_code(i.rs2 as u32).ok_or(Exception::Illegal(raw as u64))?;
                let need_src = match src {
                    Fmt::D => self.isa.d,
                    Fmt::H => self.isa.zfh,
                    _ => self.isa.f,
                };
                if !need_src {
                    return Err(Exception::Illegal(raw as u64));
                }
                let r = fpu::convert(src, fmt, self.get_f(i.rs1, src), rm);
                self.set_f(i.rd, fmt, r.val);
                self.accrue(r.flags);
            }
            FmvXF => {
                let v = self.f[i.rs1 as usize & 31];
                let v = match fmt {
                    Fmt::H => v as u16 as i16 as i64 as u64,
                    Fmt::D => v,
                    _ => v as u32 as i32 as i64 as u64,
                };
                self.set_x(i.rd, v);
            }
            FmvFX => {
                let v = self.get_x(i.rs1);
                self.set_f(i.rd, fmt, v);
            }
            Fclass => {
                let v = fpu::classify(fmt, self.get_f(i.rs1, fmt));
                self.set_x(i.rd, v);
            }
            Feq | Flt | Fle => {
                let k = match i.op {
                    Feq => Cmp::Eq,
                    Flt => Cmp::Lt,
                    _ => Cmp::Le,
                };
                let r = fpu::cmp(fmt, self.get_f(i.rs1, fmt), self.get_f(i.rs2, fmt), k);
                self.set_x(i.rd, r.val);
                self.accrue(r.flags);
            }
            _ => return Err(Exception::Illegal(raw as u64)),
        }
        Ok(())
    }
}
