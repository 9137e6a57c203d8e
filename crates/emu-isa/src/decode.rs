//! Decoding of 32-bit instruction words through the opcode table.

use std::sync::OnceLock;

use crate::inst::{Fmt, Inst, Op, Xlen};
use crate::table::{Form, Row, rows};

/// Rows bucketed by major opcode (bits 6:2), so a decode scans a handful of rows.
fn buckets() -> &'static [Vec<&'static Row>; 32] {
    static B: OnceLock<[Vec<&'static Row>; 32]> = OnceLock::new();
    B.get_or_init(|| {
        let mut b: [Vec<&'static Row>; 32] = Default::default();
        for r in rows() {
            b[((r.bits >> 2) & 31) as usize].push(r);
        }
        b
    })
}

fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

fn sext(v: u64, width: u32) -> i64 {
    let sh = 64 - width;
    ((v << sh) as i64) >> sh
}

/// Immediate of an I-type word.
pub(crate) fn imm_i(w: u32) -> i64 {
    (w as i32 >> 20) as i64
}
/// Immediate of an S-type word.
pub(crate) fn imm_s(w: u32) -> i64 {
    sext(((bits(w, 31, 25) << 5) | bits(w, 11, 7)) as u64, 12)
}
/// Immediate of a B-type word.
pub(crate) fn imm_b(w: u32) -> i64 {
    let v = (bits(w, 31, 31) << 12)
        | (bits(w, 7, 7) << 11)
        | (bits(w, 30, 25) << 5)
        | (bits(w, 11, 8) << 1);
    sext(v as u64, 13)
}
/// Immediate of a U-type word.
pub(crate) fn imm_u(w: u32) -> i64 {
    (w & 0xffff_f000) as i32 as i64
}
/// Immediate of a J-type word.
pub(crate) fn imm_j(w: u32) -> i64 {
    let v = (bits(w, 31, 31) << 20)
        | (bits(w, 19, 12) << 12)
        | (bits(w, 20, 20) << 11)
        | (bits(w, 30, 21) << 1);
    sext(v as u64, 21)
}

/// Decode one 32-bit instruction word (its low two bits must be `11`). Anything that is not a
/// valid instruction for `xlen` decodes to [`Inst::ILLEGAL`].
pub fn decode32(w: u32, xlen: Xlen) -> Inst {
    if w & 3 != 3 {
        return Inst::ILLEGAL;
    }
    let Some(row) = buckets()[((w >> 2) & 31) as usize]
        .iter()
        .find(|r| w & r.mask == r.bits && r.width.allows(xlen))
    else {
        return Inst::ILLEGAL;
    };
    let mut i = Inst {
        op: row.op,
        fmt: row.fmt,
        rd: bits(w, 11, 7) as u8,
        rs1: bits(w, 19, 15) as u8,
        rs2: bits(w, 24, 20) as u8,
        rs3: bits(w, 31, 27) as u8,
        rm: bits(w, 14, 12) as u8,
        imm: 0,
        len: 4,
    };
    match row.form {
        Form::I | Form::Load => i.imm = imm_i(w),
        Form::Store => i.imm = imm_s(w),
        Form::Branch => i.imm = imm_b(w),
        Form::U => i.imm = imm_u(w),
        Form::Jal => i.imm = imm_j(w),
        Form::Shift => {
            let sh = bits(w, 25, 20);
            if xlen == Xlen::X32 && sh >= 32 {
                return Inst::ILLEGAL;
            }
            i.imm = sh as i64;
        }
        Form::ShiftW => i.imm = bits(w, 24, 20) as i64,
        Form::Csr | Form::CsrI => i.imm = bits(w, 31, 20) as i64,
        Form::Amo | Form::Lr => i.rm = bits(w, 26, 25) as u8,
        Form::Fence => i.imm = bits(w, 31, 20) as i64,
        Form::FcvtFF => match Fmt::from_code(i.rs2 as u32) {
            Some(src) if src != row.fmt => {}
            _ => return Inst::ILLEGAL,
        },
        Form::R
        | Form::Unary
        | Form::None
        | Form::SfenceVma
        | Form::R4
        | Form::FRrm
        | Form::FR
        | Form::FUrm
        | Form::FU => {}
    }
    if matches!(i.op, Op::FmvXF | Op::FmvFX) && i.fmt == Fmt::D && xlen == Xlen::X32 {
        return Inst::ILLEGAL;
    }
    // Clear fields the form does not use, so equal instructions compare equal.
    match row.form {
        Form::R | Form::FR => {
            i.rs3 = 0;
            i.rm = 0;
        }
        Form::I
        | Form::Load
        | Form::Shift
        | Form::ShiftW
        | Form::Unary
        | Form::Csr
        | Form::CsrI => {
            i.rs2 = 0;
            i.rs3 = 0;
            i.rm = 0;
        }
        Form::Store | Form::Branch => {
            i.rd = 0;
            i.rs3 = 0;
            i.rm = 0;
        }
        Form::U | Form::Jal => {
            i.rs1 = 0;
            i.rs2 = 0;
            i.rs3 = 0;
            i.rm = 0;
        }
        Form::Amo => i.rs3 = 0,
        Form::Lr => {
            i.rs2 = 0;
            i.rs3 = 0;
        }
        Form::Fence | Form::None => {
            i.rd = 0;
            i.rs1 = 0;
            i.rs2 = 0;
            i.rs3 = 0;
            i.rm = 0;
            if row.form == Form::None {
                i.imm = 0;
            }
        }
        Form::SfenceVma => {
            i.rd = 0;
            i.rs3 = 0;
            i.rm = 0;
        }
        Form::R4 => {}
        Form::FRrm => i.rs3 = 0,
        Form::FUrm | Form::FcvtFF => {
            i.rs3 = 0;
            if row.form == Form::FUrm {
                i.rs2 = 0;
            }
        }
        Form::FU => {
            i.rs2 = 0;
            i.rs3 = 0;
            i.rm = 0;
        }
    }
    // fence and fence.i keep their register fields: they are reserved for future use and
    // executing them must ignore them, but the disassembler does not print them either.
    i
}

/// Decode the instruction that starts with the 16-bit parcel `lo` (and continues with `hi`
/// when it is a 32-bit instruction). Returns the instruction; its `len` says how many bytes it
/// used.
pub fn decode(lo: u16, hi: u16, xlen: Xlen) -> Inst {
    if lo & 3 == 3 {
        decode32(lo as u32 | (hi as u32) << 16, xlen)
    } else {
        crate::compressed::decode16(lo, xlen)
    }
}
