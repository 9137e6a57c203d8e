//! Encoding of instructions into 32-bit words: the inverse of [`crate::decode32`]. Tests and the
//! guest-program generators use it to build programs without an assembler.

use crate::inst::{Inst, Xlen};
use crate::table::{Form, rows};

/// Why an instruction could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// No encoding of this operation exists for the given XLEN.
    NoEncoding,
    /// The immediate does not fit its field or is misaligned.
    ImmOutOfRange,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EncodeError::NoEncoding => "no encoding for this operation at this XLEN",
            EncodeError::ImmOutOfRange => "immediate out of range or misaligned",
        })
    }
}

impl std::error::Error for EncodeError {}

fn fits_signed(v: i64, bits: u32) -> bool {
    let lim = 1i64 << (bits - 1);
    (-lim..lim).contains(&v)
}

/// Encode `i` as a 32-bit word for a hart of width `xlen`. Compressed instructions are encoded
/// as their 32-bit equivalents.
pub fn encode32(i: &Inst, xlen: Xlen) -> Result<u32, EncodeError> {
    let row = rows()
        .find(|r| r.op == i.op && r.fmt == i.fmt && r.width.allows(xlen))
        .ok_or(EncodeError::NoEncoding)?;
    let rd = (i.rd as u32 & 31) << 7;
    let rs1 = (i.rs1 as u32 & 31) << 15;
    let rs2 = (i.rs2 as u32 & 31) << 20;
    let rs3 = (i.rs3 as u32 & 31) << 27;
    let rm = (i.rm as u32 & 7) << 12;
    let imm = i.imm;
    let w = match row.form {
        Form::R | Form::FR => rd | rs1 | rs2,
        Form::I | Form::Load => {
            if !fits_signed(imm, 12) {
                return Err(EncodeError::ImmOutOfRange);
            }
            rd | rs1 | ((imm as u32 & 0xfff) << 20)
        }
        Form::Store => {
            if !fits_signed(imm, 12) {
                return Err(EncodeError::ImmOutOfRange);
            }
            let v = imm as u32;
            rs1 | rs2 | ((v & 0x1f) << 7) | ((v >> 5 & 0x7f) << 25)
        }
        Form::Branch => {
            if !fits_signed(imm, 13) || imm & 1 != 0 {
                return Err(EncodeError::ImmOutOfRange);
            }
            let v = imm as u32;
            rs1 | rs2
                | ((v >> 11 & 1) << 7)
                | ((v >> 1 & 0xf) << 8)
                | ((v >> 5 & 0x3f) << 25)
                | ((v >> 12 & 1) << 31)
        }
        Form::U => {
            if !fits_signed(imm, 32) || imm & 0xfff != 0 {
                return Err(EncodeError::ImmOutOfRange);
            }
            rd | (imm as u32 & 0xffff_f000)
        }
        Form::Jal => {
            if !fits_signed(imm, 21) || imm & 1 != 0 {
                return Err(EncodeError::ImmOutOfRange);
            }
            let v = imm as u32;
            rd | ((v >> 12 & 0xff) << 12)
                | ((v >> 11 & 1) << 20)
                | ((v >> 1 & 0x3ff) << 21)
                | ((v >> 20 & 1) << 31)
        }
        Form::Shift | Form::ShiftW => {
            let max = if row.form == Form::ShiftW {
                32
            } else {
                xlen.bits() as i64
            };
            if !(0..max).contains(&imm) {
                return Err(EncodeError::ImmOutOfRange);
            }
            rd | rs1 | ((imm as u32) << 20)
        }
        Form::Unary | Form::FU => rd | rs1,
        Form::Csr | Form::CsrI => {
            if !(0..4096).contains(&imm) {
                return Err(EncodeError::ImmOutOfRange);
            }
            rd | rs1 | ((imm as u32) << 20)
        }
        Form::Amo => rd | rs1 | rs2 | ((i.rm as u32 & 3) << 25),
        Form::Lr => rd | rs1 | ((i.rm as u32 & 3) << 25),
        Form::Fence => {
            if !(0..4096).contains(&imm) {
                return Err(EncodeError::ImmOutOfRange);
            }
            rd | rs1 | ((imm as u32) << 20)
        }
        Form::None => 0,
        Form::SfenceVma => rs1 | rs2,
        Form::R4 => rd | rs1 | rs2 | rs3 | rm,
        Form::FRrm => rd | rs1 | rs2 | rm,
        Form::FUrm => rd | rs1 | rm,
        Form::FcvtFF => rd | rs1 | rs2 | rm,
    };
    Ok(w | row.bits)
}
