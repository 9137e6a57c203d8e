//! Integer operations, open-coded: register-register and immediate arithmetic, shifts,
//! compares, multiplication and division (with RISC-V's results for division by zero
//! and overflow), and the few that call a helper.

use super::*;

impl Tx<'_, '_> {
    /// The value of pure ALU operation `op` computed by the pure helper.
    pub(super) fn alu_helper(&mut self, op: Op, a: Value, b: Value) -> Value {
        let f = self
            .b
            .ins()
            .iconst(I64, crate::helpers::alu_value as *const () as usize as i64);
        let opv = self.b.ins().iconst(I32, op as u32 as i64);
        let x = self.b.ins().iconst(I32, (self.xlen == Xlen::X64) as i64);
        let call = self.b.ins().call_indirect(self.alu_sig, f, &[opv, a, b, x]);
        self.b.inst_results(call)[0]
    }

    /// Division or remainder with RISC-V's results for a zero divisor (all ones, or the
    /// dividend) and for signed overflow (the dividend, or zero), without host traps.
    pub(super) fn divrem(
        &mut self,
        a: Value,
        b: Value,
        ty: Type,
        signed: bool,
        rem: bool,
    ) -> Value {
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let bad = if signed {
            let min = if ty == I32 { i32::MIN as i64 } else { i64::MIN };
            let a_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
            let b_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
            let ovf = self.b.ins().band(a_min, b_m1);
            self.b.ins().bor(zero, ovf)
        } else {
            zero
        };
        // Dividing by one gives the overflow results (MIN / 1 = MIN, MIN % 1 = 0).
        let one = self.b.ins().iconst(ty, 1);
        let safe = self.b.ins().select(bad, one, b);
        let r = match (signed, rem) {
            (true, false) => self.b.ins().sdiv(a, safe),
            (false, false) => self.b.ins().udiv(a, safe),
            (true, true) => self.b.ins().srem(a, safe),
            (false, true) => self.b.ins().urem(a, safe),
        };
        let on_zero = if rem { a } else { self.b.ins().iconst(ty, -1) };
        self.b.ins().select(zero, on_zero, r)
    }

    /// Open-code an ALU operation; returns false when `i` is not one.
    pub(super) fn alu(&mut self, i: &Inst) -> bool {
        use Op::*;
        let rv32 = self.xlen == Xlen::X32;
        let imm = i.imm;
        let v = match i.op {
            Lui => self.b.ins().iconst(I64, imm),
            Addi => {
                let a = self.get(i.rs1);
                self.b.ins().iadd_imm_s(a, imm)
            }
            Xori => {
                let a = self.get(i.rs1);
                self.b.ins().bxor_imm_s(a, imm)
            }
            Ori => {
                let a = self.get(i.rs1);
                self.b.ins().bor_imm_s(a, imm)
            }
            Andi => {
                let a = self.get(i.rs1);
                self.b.ins().band_imm_s(a, imm)
            }
            Slti | Sltiu => {
                let a = self.get(i.rs1);
                let cc = if i.op == Slti {
                    IntCC::SignedLessThan
                } else {
                    IntCC::UnsignedLessThan
                };
                let c = self.b.ins().icmp_imm_s(cc, a, imm);
                self.b.ins().uextend(I64, c)
            }
            Slli => {
                let a = self.get(i.rs1);
                self.b.ins().ishl_imm_s(a, imm & 63)
            }
            Srli => {
                let a = self.get(i.rs1);
                let a = self.addr(a); // zero-extended on RV32
                self.b.ins().ushr_imm_s(a, imm & 63)
            }
            Srai => {
                let a = self.get(i.rs1);
                self.b.ins().sshr_imm_s(a, imm & 63)
            }
            Add | Sub | Xor | Or | And | Slt | Sltu | Mul => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                match i.op {
                    Add => self.b.ins().iadd(a, b),
                    Sub => self.b.ins().isub(a, b),
                    Xor => self.b.ins().bxor(a, b),
                    Or => self.b.ins().bor(a, b),
                    And => self.b.ins().band(a, b),
                    Mul => self.b.ins().imul(a, b),
                    _ => {
                        let cc = if i.op == Slt {
                            IntCC::SignedLessThan
                        } else {
                            IntCC::UnsignedLessThan
                        };
                        let c = self.b.ins().icmp(cc, a, b);
                        self.b.ins().uextend(I64, c)
                    }
                }
            }
            Sll | Srl | Sra => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let mask = if rv32 { 31 } else { 63 };
                let sh = self.b.ins().band_imm_s(b, mask);
                match i.op {
                    Sll => self.b.ins().ishl(a, sh),
                    Srl => {
                        let a = self.addr(a);
                        self.b.ins().ushr(a, sh)
                    }
                    _ => self.b.ins().sshr(a, sh),
                }
            }
            Mulh | Mulhu | Mulhsu if !rv32 => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                match i.op {
                    Mulh => self.b.ins().smulhi(a, b),
                    Mulhu => self.b.ins().umulhi(a, b),
                    _ => {
                        // mulhsu = mulhu(a, b) - (a < 0 ? b : 0)
                        let hi = self.b.ins().umulhi(a, b);
                        let neg = self.b.ins().sshr_imm_s(a, 63);
                        let corr = self.b.ins().band(neg, b);
                        self.b.ins().isub(hi, corr)
                    }
                }
            }
            Mulh | Mulhu | Mulhsu => {
                // RV32: the 64-bit product of the 32-bit operands, high half.
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let (a, b) = match i.op {
                    Mulh => (a, b),
                    Mulhu => (self.addr(a), self.addr(b)),
                    _ => (a, self.addr(b)),
                };
                let p = self.b.ins().imul(a, b);
                if i.op == Mulhu {
                    self.b.ins().ushr_imm_s(p, 32)
                } else {
                    self.b.ins().sshr_imm_s(p, 32)
                }
            }
            Div | Divu | Rem | Remu | Divw | Divuw | Remw | Remuw => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let word = rv32 || matches!(i.op, Divw | Divuw | Remw | Remuw);
                let signed = matches!(i.op, Div | Rem | Divw | Remw);
                let rem = matches!(i.op, Rem | Remu | Remw | Remuw);
                if word {
                    let a = self.b.ins().ireduce(I32, a);
                    let b = self.b.ins().ireduce(I32, b);
                    let r = self.divrem(a, b, I32, signed, rem);
                    self.b.ins().sextend(I64, r)
                } else {
                    self.divrem(a, b, I64, signed, rem)
                }
            }
            Addiw | Slliw | Srliw | Sraiw | Addw | Subw | Sllw | Srlw | Sraw | Mulw | Rolw
            | Rorw | Roriw | Packw
                if !rv32 =>
            {
                let a = self.get(i.rs1);
                let a32 = self.b.ins().ireduce(I32, a);
                let b32 = match i.op {
                    Addiw | Slliw | Srliw | Sraiw | Roriw => {
                        self.b.ins().iconst(I32, imm & 0xffff_ffff)
                    }
                    _ => {
                        let b = self.get(i.rs2);
                        self.b.ins().ireduce(I32, b)
                    }
                };
                let r = match i.op {
                    Addiw | Addw => self.b.ins().iadd(a32, b32),
                    Subw => self.b.ins().isub(a32, b32),
                    Mulw => self.b.ins().imul(a32, b32),
                    Rolw => self.b.ins().rotl(a32, b32),
                    Rorw | Roriw => self.b.ins().rotr(a32, b32),
                    Packw => {
                        let lo = self.b.ins().band_imm_s(a32, 0xffff);
                        let hi = self.b.ins().ishl_imm_s(b32, 16);
                        self.b.ins().bor(lo, hi)
                    }
                    Slliw | Sllw => {
                        let s = self.b.ins().band_imm_s(b32, 31);
                        self.b.ins().ishl(a32, s)
                    }
                    Srliw | Srlw => {
                        let s = self.b.ins().band_imm_s(b32, 31);
                        self.b.ins().ushr(a32, s)
                    }
                    _ => {
                        let s = self.b.ins().band_imm_s(b32, 31);
                        self.b.ins().sshr(a32, s)
                    }
                };
                self.b.ins().sextend(I64, r)
            }
            Sh1add | Sh2add | Sh3add | AddUw | Sh1addUw | Sh2addUw | Sh3addUw => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let a = if matches!(i.op, Sh1add | Sh2add | Sh3add) {
                    a
                } else {
                    let lo = self.b.ins().ireduce(I32, a);
                    self.b.ins().uextend(I64, lo)
                };
                let n = match i.op {
                    Sh1add | Sh1addUw => 1,
                    Sh2add | Sh2addUw => 2,
                    Sh3add | Sh3addUw => 3,
                    _ => 0,
                };
                let a = self.b.ins().ishl_imm_s(a, n);
                self.b.ins().iadd(a, b)
            }
            SlliUw => {
                let a = self.get(i.rs1);
                let lo = self.b.ins().ireduce(I32, a);
                let a = self.b.ins().uextend(I64, lo);
                self.b.ins().ishl_imm_s(a, imm & 63)
            }
            Andn | Orn | Xnor | Min | Max | Minu | Maxu | CzeroEqz | CzeroNez => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                match i.op {
                    Andn => self.b.ins().band_not(a, b),
                    Orn => self.b.ins().bor_not(a, b),
                    Xnor => self.b.ins().bxor_not(a, b),
                    Min => self.b.ins().smin(a, b),
                    Max => self.b.ins().smax(a, b),
                    Minu => self.b.ins().umin(a, b),
                    Maxu => self.b.ins().umax(a, b),
                    CzeroEqz => {
                        let z = self.b.ins().iconst(I64, 0);
                        self.b.ins().select(b, a, z)
                    }
                    _ => {
                        let z = self.b.ins().iconst(I64, 0);
                        self.b.ins().select(b, z, a)
                    }
                }
            }
            SextB | SextH | ZextH => {
                let a = self.get(i.rs1);
                match i.op {
                    SextB => {
                        let n = self.b.ins().ireduce(types::I8, a);
                        self.b.ins().sextend(I64, n)
                    }
                    SextH => {
                        let n = self.b.ins().ireduce(types::I16, a);
                        self.b.ins().sextend(I64, n)
                    }
                    _ => self.b.ins().band_imm_s(a, 0xffff),
                }
            }
            Clz | Ctz | Cpop | Clzw | Ctzw | Cpopw | Rev8 => {
                let a = self.get(i.rs1);
                let word = rv32 || matches!(i.op, Clzw | Ctzw | Cpopw);
                let x = if word {
                    self.b.ins().ireduce(I32, a)
                } else {
                    a
                };
                let r = match i.op {
                    Clz | Clzw => self.b.ins().clz(x),
                    Ctz | Ctzw => self.b.ins().ctz(x),
                    Cpop | Cpopw => self.b.ins().popcnt(x),
                    _ => self.b.ins().bswap(x),
                };
                if !word {
                    r
                } else if i.op == Rev8 {
                    self.b.ins().sextend(I64, r)
                } else {
                    self.b.ins().uextend(I64, r)
                }
            }
            Rol | Ror | Rori => {
                let a = self.get(i.rs1);
                let b = if i.op == Rori {
                    self.b.ins().iconst(I64, imm)
                } else {
                    self.get(i.rs2)
                };
                let (x, s) = if rv32 {
                    (self.b.ins().ireduce(I32, a), self.b.ins().ireduce(I32, b))
                } else {
                    (a, b)
                };
                // Cranelift rotates by the amount modulo the width, as RISC-V does.
                let r = if i.op == Rol {
                    self.b.ins().rotl(x, s)
                } else {
                    self.b.ins().rotr(x, s)
                };
                if rv32 {
                    self.b.ins().sextend(I64, r)
                } else {
                    r
                }
            }
            Bclr | Bext | Binv | Bset | Bclri | Bexti | Binvi | Bseti => {
                let a = self.get(i.rs1);
                let mask = if rv32 { 31 } else { 63 };
                let sh = if matches!(i.op, Bclri | Bexti | Binvi | Bseti) {
                    self.b.ins().iconst(I64, imm & mask)
                } else {
                    let b = self.get(i.rs2);
                    self.b.ins().band_imm_s(b, mask)
                };
                if matches!(i.op, Bext | Bexti) {
                    let x = self.b.ins().ushr(a, sh);
                    self.b.ins().band_imm_s(x, 1)
                } else {
                    let one = self.b.ins().iconst(I64, 1);
                    let bit = self.b.ins().ishl(one, sh);
                    match i.op {
                        Bclr | Bclri => self.b.ins().band_not(a, bit),
                        Binv | Binvi => self.b.ins().bxor(a, bit),
                        _ => self.b.ins().bor(a, bit),
                    }
                }
            }
            Pack | Packh => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let (m, s) = match (i.op, rv32) {
                    (Packh, _) => (0xff, 8),
                    (_, true) => (0xffff, 16),
                    _ => (0xffff_ffff, 32),
                };
                let lo = self.b.ins().band_imm_s(a, m);
                let hi = if i.op == Pack && !rv32 {
                    b
                } else {
                    self.b.ins().band_imm_s(b, m)
                };
                let hi = self.b.ins().ishl_imm_s(hi, s);
                self.b.ins().bor(lo, hi)
            }
            // The rare bit permutations and carry-less multiplies: a pure helper.
            _ if i.op.class() == OpClass::Alu => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                self.alu_helper(i.op, a, b)
            }
            _ => return false,
        };
        self.set(i.rd, v);
        true
    }
}
