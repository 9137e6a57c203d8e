//! # emu-asm: build guest programs in Rust
//!
//! Owns a small programmatic assembler ([`Asm`]: labels, branch/jump fixups, `li`/`la`
//! pseudo-instructions) and an ELF writer ([`elf::write_elf`]). Everything is encoded by
//! emu-isa's encoder, so the programs emu's tests, demo and differential corpus run are the
//! project's own and need no external toolchain.
//!
//! Depends on emu-isa only. Pure: no I/O.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod elf;

use emu_isa::{EncodeError, Fmt, Inst, Op, Xlen, encode32};

/// Register numbers by ABI name.
#[allow(missing_docs)]
pub mod reg {
    pub const ZERO: u8 = 0;
    pub const RA: u8 = 1;
    pub const SP: u8 = 2;
    pub const GP: u8 = 3;
    pub const TP: u8 = 4;
    pub const T0: u8 = 5;
    pub const T1: u8 = 6;
    pub const T2: u8 = 7;
    pub const S0: u8 = 8;
    pub const S1: u8 = 9;
    pub const A0: u8 = 10;
    pub const A1: u8 = 11;
    pub const A2: u8 = 12;
    pub const A3: u8 = 13;
    pub const A4: u8 = 14;
    pub const A5: u8 = 15;
    pub const A6: u8 = 16;
    pub const A7: u8 = 17;
    pub const S2: u8 = 18;
    pub const S3: u8 = 19;
    pub const S4: u8 = 20;
    pub const S5: u8 = 21;
    pub const S6: u8 = 22;
    pub const S7: u8 = 23;
    pub const S8: u8 = 24;
    pub const S9: u8 = 25;
    pub const S10: u8 = 26;
    pub const S11: u8 = 27;
    pub const T3: u8 = 28;
    pub const T4: u8 = 29;
    pub const T5: u8 = 30;
    pub const T6: u8 = 31;
}

/// A position in the program, bound with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(usize);

/// Assembly failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsmError {
    /// An instruction has no encoding or its immediate does not fit.
    #[error("cannot encode {inst:?}: {err:?}")]
    Encode {
        /// The instruction.
        inst: Box<Inst>,
        /// Why.
        err: EncodeError,
    },
    /// A label was used but never bound.
    #[error("label {0} used but never bound")]
    Unbound(usize),
}

#[derive(Debug, Clone, Copy)]
enum Fixup {
    /// Branch or jal at offset: set imm to target - pc.
    Rel(Inst),
    /// auipc+addi pair (la) at offset.
    La(u8),
}

/// A program under construction at a fixed base address.
#[derive(Debug, Clone)]
pub struct Asm {
    /// Base width the code is for.
    pub xlen: Xlen,
    base: u64,
    code: Vec<u8>,
    labels: Vec<Option<u64>>,
    fixups: Vec<(usize, Label, Fixup)>,
    error: Option<AsmError>,
}

impl Asm {
    /// An empty program that will be loaded at `base`.
    pub fn new(xlen: Xlen, base: u64) -> Asm {
        Asm {
            xlen,
            base,
            code: Vec::new(),
            labels: Vec::new(),
            fixups: Vec::new(),
            error: None,
        }
    }

    /// Address of the next byte emitted.
    pub fn pc(&self) -> u64 {
        self.base + self.code.len() as u64
    }

    /// Load address of the program.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// A fresh, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// A label for absolute address `addr` (code that lies outside what is assembled here).
    pub fn label_at(&mut self, addr: u64) -> Label {
        self.labels.push(Some(addr));
        Label(self.labels.len() - 1)
    }

    /// Bind `l` to the current position.
    pub fn bind(&mut self, l: Label) {
        let pc = self.pc();
        self.labels[l.0] = Some(pc);
    }

    /// A label bound here.
    pub fn here(&mut self) -> Label {
        let l = self.label();
        self.bind(l);
        l
    }

    /// The address of a bound label.
    pub fn addr_of(&self, l: Label) -> Option<u64> {
        self.labels.get(l.0).copied().flatten()
    }

    /// Emit one instruction (32-bit encoding).
    pub fn inst(&mut self, i: Inst) {
        match encode32(&i, self.xlen) {
            Ok(w) => self.code.extend_from_slice(&w.to_le_bytes()),
            Err(err) => {
                self.error.get_or_insert(AsmError::Encode {
                    inst: Box::new(i),
                    err,
                });
                self.code.extend_from_slice(&0u32.to_le_bytes());
            }
        }
    }

    /// Emit a raw 32-bit word.
    pub fn word(&mut self, w: u32) {
        self.code.extend_from_slice(&w.to_le_bytes());
    }

    /// Emit a raw 16-bit parcel.
    pub fn half(&mut self, h: u16) {
        self.code.extend_from_slice(&h.to_le_bytes());
    }

    /// Emit a 64-bit data word.
    pub fn dword(&mut self, d: u64) {
        self.code.extend_from_slice(&d.to_le_bytes());
    }

    /// Emit raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.code.extend_from_slice(b);
    }

    /// Pad with zero bytes to a multiple of `n`.
    pub fn align(&mut self, n: usize) {
        while !self.code.len().is_multiple_of(n) {
            self.code.push(0);
        }
    }

    /// `rd = rs1 op rs2`.
    pub fn r(&mut self, op: Op, rd: u8, rs1: u8, rs2: u8) {
        self.inst(Inst {
            rd,
            rs1,
            rs2,
            ..Inst::new(op)
        });
    }

    /// `rd = rs1 op imm`.
    pub fn i(&mut self, op: Op, rd: u8, rs1: u8, imm: i64) {
        self.inst(Inst {
            rd,
            rs1,
            imm,
            ..Inst::new(op)
        });
    }

    /// `addi rd, rs1, imm`.
    pub fn addi(&mut self, rd: u8, rs1: u8, imm: i64) {
        self.i(Op::Addi, rd, rs1, imm);
    }

    /// `mv rd, rs`.
    pub fn mv(&mut self, rd: u8, rs: u8) {
        self.addi(rd, rs, 0);
    }

    /// Load of kind `op` (lb..ld): `rd = mem[rs1 + off]`.
    pub fn load(&mut self, op: Op, rd: u8, rs1: u8, off: i64) {
        self.i(op, rd, rs1, off);
    }

    /// Store of kind `op` (sb..sd): `mem[rs1 + off] = rs2`.
    pub fn store(&mut self, op: Op, rs2: u8, rs1: u8, off: i64) {
        self.inst(Inst {
            rs1,
            rs2,
            imm: off,
            ..Inst::new(op)
        });
    }

    /// FP load (`fmt` S/D/H).
    pub fn fload(&mut self, fmt: Fmt, rd: u8, rs1: u8, off: i64) {
        self.inst(Inst {
            rd,
            rs1,
            imm: off,
            fmt,
            ..Inst::new(Op::Fload)
        });
    }

    /// FP store.
    pub fn fstore(&mut self, fmt: Fmt, rs2: u8, rs1: u8, off: i64) {
        self.inst(Inst {
            rs1,
            rs2,
            imm: off,
            fmt,
            ..Inst::new(Op::Fstore)
        });
    }

    /// `csrrw rd, csr, rs1`.
    pub fn csrrw(&mut self, rd: u8, csr: u16, rs1: u8) {
        self.inst(Inst {
            rd,
            rs1,
            imm: csr as i64,
            ..Inst::new(Op::Csrrw)
        });
    }

    /// `csrw csr, rs`.
    pub fn csrw(&mut self, csr: u16, rs: u8) {
        self.csrrw(0, csr, rs);
    }

    /// `csrr rd, csr`.
    pub fn csrr(&mut self, rd: u8, csr: u16) {
        self.inst(Inst {
            rd,
            rs1: 0,
            imm: csr as i64,
            ..Inst::new(Op::Csrrs)
        });
    }

    /// `csrs csr, rs`.
    pub fn csrs(&mut self, csr: u16, rs: u8) {
        self.inst(Inst {
            rd: 0,
            rs1: rs,
            imm: csr as i64,
            ..Inst::new(Op::Csrrs)
        });
    }

    /// `csrc csr, rs`.
    pub fn csrc(&mut self, csr: u16, rs: u8) {
        self.inst(Inst {
            rd: 0,
            rs1: rs,
            imm: csr as i64,
            ..Inst::new(Op::Csrrc)
        });
    }

    /// An instruction without operands (ecall, mret, wfi, ...).
    pub fn op0(&mut self, op: Op) {
        self.inst(Inst::new(op));
    }

    /// Load a constant of any size into `rd` (`lui`/`addi`/`slli` sequence).
    pub fn li(&mut self, rd: u8, v: i64) {
        let v = if self.xlen == Xlen::X32 {
            v as i32 as i64
        } else {
            v
        };
        if (-2048..2048).contains(&v) {
            self.addi(rd, 0, v);
            return;
        }
        if v == v as i32 as i64 {
            let lo = (v << 52) >> 52;
            let hi = (v - lo) as i32 as i64;
            self.i(Op::Lui, rd, 0, hi);
            if lo != 0 {
                let op = if self.xlen == Xlen::X64 {
                    Op::Addiw
                } else {
                    Op::Addi
                };
                self.i(op, rd, rd, lo);
            }
            return;
        }
        // 64-bit: build the upper part recursively, then shift in 12 bits at a time.
        let lo = (v << 52) >> 52;
        // Modular arithmetic: the bit pattern is what matters.
        let rest = v.wrapping_sub(lo) >> 12;
        let shift = 12 + rest.trailing_zeros().min(40) as i64;
        let upper = v.wrapping_sub(lo) >> shift;
        self.li(rd, upper);
        self.i(Op::Slli, rd, rd, shift);
        if lo != 0 {
            self.addi(rd, rd, lo);
        }
    }

    /// `la rd, label` (pc-relative auipc + addi).
    pub fn la(&mut self, rd: u8, l: Label) {
        self.fixups.push((self.code.len(), l, Fixup::La(rd)));
        self.word(0);
        self.word(0);
    }

    /// Conditional branch to `l`.
    pub fn branch(&mut self, op: Op, rs1: u8, rs2: u8, l: Label) {
        self.fixups.push((
            self.code.len(),
            l,
            Fixup::Rel(Inst {
                rs1,
                rs2,
                ..Inst::new(op)
            }),
        ));
        self.word(0);
    }

    /// `jal rd, l`.
    pub fn jal(&mut self, rd: u8, l: Label) {
        self.fixups.push((
            self.code.len(),
            l,
            Fixup::Rel(Inst {
                rd,
                ..Inst::new(Op::Jal)
            }),
        ));
        self.word(0);
    }

    /// `j l`.
    pub fn j(&mut self, l: Label) {
        self.jal(0, l);
    }

    /// `call l` (jal ra).
    pub fn call(&mut self, l: Label) {
        self.jal(reg::RA, l);
    }

    /// `ret`.
    pub fn ret(&mut self) {
        self.i(Op::Jalr, 0, reg::RA, 0);
    }

    /// Resolve fixups and return the program bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, AsmError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for (off, l, f) in std::mem::take(&mut self.fixups) {
            let target = self
                .labels
                .get(l.0)
                .copied()
                .flatten()
                .ok_or(AsmError::Unbound(l.0))?;
            let pc = self.base + off as u64;
            let delta = target.wrapping_sub(pc) as i64;
            let words: Vec<Inst> = match f {
                Fixup::Rel(i) => vec![Inst { imm: delta, ..i }],
                Fixup::La(rd) => {
                    let lo = (delta << 52) >> 52;
                    vec![
                        Inst {
                            rd,
                            imm: delta - lo,
                            ..Inst::new(Op::Auipc)
                        },
                        Inst {
                            rd,
                            rs1: rd,
                            imm: lo,
                            ..Inst::new(Op::Addi)
                        },
                    ]
                }
            };
            for (k, i) in words.iter().enumerate() {
                let w = encode32(i, self.xlen).map_err(|err| AsmError::Encode {
                    inst: Box::new(*i),
                    err,
                })?;
                self.code[off + 4 * k..off + 4 * k + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        Ok(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emu_isa::decode32;

    #[test]
    fn labels_and_li() {
        let mut a = Asm::new(Xlen::X64, 0x8000_0000);
        let top = a.here();
        a.li(reg::A0, 0x1234_5678_9abc_def0);
        a.branch(Op::Bne, reg::A0, 0, top);
        let code = a.finish().expect("assembles");
        let last = u32::from_le_bytes(code[code.len() - 4..].try_into().expect("4 bytes"));
        let br = decode32(last, Xlen::X64);
        assert_eq!(br.op, Op::Bne);
        assert_eq!(br.imm, -(code.len() as i64 - 4));
    }

    #[test]
    fn unbound_label_is_an_error() {
        let mut a = Asm::new(Xlen::X32, 0);
        let l = a.label();
        a.j(l);
        assert_eq!(a.finish(), Err(AsmError::Unbound(0)));
    }
}
