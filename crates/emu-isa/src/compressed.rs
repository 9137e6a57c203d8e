//! Decoding of 16-bit (C and Zcb) instructions into their 32-bit equivalents.

use crate::inst::{Fmt, Inst, Op, Xlen};

fn b(h: u16, hi: u32, lo: u32) -> u32 {
    ((h as u32) >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

fn sext(v: u32, width: u32) -> i64 {
    let sh = 64 - width;
    (((v as u64) << sh) as i64) >> sh
}

fn mk(op: Op, rd: u32, rs1: u32, rs2: u32, imm: i64) -> Inst {
    Inst {
        op,
        rd: rd as u8,
        rs1: rs1 as u8,
        rs2: rs2 as u8,
        imm,
        len: 2,
        ..Inst::ILLEGAL
    }
}

fn fp(mut i: Inst, fmt: Fmt) -> Inst {
    i.fmt = fmt;
    i
}

const ILLEGAL: Inst = Inst {
    len: 2,
    ..Inst::ILLEGAL
};

/// Decode a 16-bit instruction. Reserved and illegal encodings give an illegal instruction
/// with `len == 2`; HINT encodings decode to the (harmless) instruction they expand to.
pub fn decode16(h: u16, xlen: Xlen) -> Inst {
    let rv64 = xlen == Xlen::X64;
    let f3 = b(h, 15, 13);
    let rdp = b(h, 4, 2) + 8; // rd' / rs2'
    let rs1p = b(h, 9, 7) + 8; // rs1' / rd'
    let rd = b(h, 11, 7);
    let rs2 = b(h, 6, 2);
    // Common immediates.
    let imm6 = sext((b(h, 12, 12) << 5) | b(h, 6, 2), 6);
    let uimm_w = (b(h, 12, 10) << 3) | (b(h, 6, 6) << 2) | (b(h, 5, 5) << 6);
    let uimm_d = (b(h, 12, 10) << 3) | (b(h, 6, 5) << 6);
    let shamt = (b(h, 12, 12) << 5) | b(h, 6, 2);
    match (b(h, 1, 0), f3) {
        (0, 0) => {
            let nzuimm =
                (b(h, 12, 11) << 4) | (b(h, 10, 7) << 6) | (b(h, 6, 6) << 2) | (b(h, 5, 5) << 3);
            if nzuimm == 0 {
                return ILLEGAL;
            }
            mk(Op::Addi, rdp, 2, 0, nzuimm as i64)
        }
        (0, 1) => fp(mk(Op::Fload, rdp, rs1p, 0, uimm_d as i64), Fmt::D),
        (0, 2) => mk(Op::Lw, rdp, rs1p, 0, uimm_w as i64),
        (0, 3) if rv64 => mk(Op::Ld, rdp, rs1p, 0, uimm_d as i64),
        (0, 3) => fp(mk(Op::Fload, rdp, rs1p, 0, uimm_w as i64), Fmt::S),
        (0, 4) => {
            // Zcb loads and stores.
            let ub = (b(h, 5, 5) << 1 | b(h, 6, 6)) as i64;
            let uh = (b(h, 5, 5) << 1) as i64;
            match (b(h, 12, 10), b(h, 6, 6)) {
                (0, _) => mk(Op::Lbu, rdp, rs1p, 0, ub),
                (1, 0) => mk(Op::Lhu, rdp, rs1p, 0, uh),
                (1, 1) => mk(Op::Lh, rdp, rs1p, 0, uh),
                (2, _) => mk(Op::Sb, 0, rs1p, rdp, ub),
                (3, 0) => mk(Op::Sh, 0, rs1p, rdp, uh),
                _ => ILLEGAL,
            }
        }
        (0, 5) => fp(mk(Op::Fstore, 0, rs1p, rdp, uimm_d as i64), Fmt::D),
        (0, 6) => mk(Op::Sw, 0, rs1p, rdp, uimm_w as i64),
        (0, 7) if rv64 => mk(Op::Sd, 0, rs1p, rdp, uimm_d as i64),
        (0, 7) => fp(mk(Op::Fstore, 0, rs1p, rdp, uimm_w as i64), Fmt::S),
        (1, 0) => mk(Op::Addi, rd, rd, 0, imm6),
        (1, 1) if rv64 => {
            if rd == 0 {
                return ILLEGAL;
            }
            mk(Op::Addiw, rd, rd, 0, imm6)
        }
        (1, 1) => mk(Op::Jal, 1, 0, 0, cj_offset(h)),
        (1, 2) => mk(Op::Addi, rd, 0, 0, imm6),
        (1, 3) if rd == 2 => {
            let v = (b(h, 12, 12) << 9)
                | (b(h, 6, 6) << 4)
                | (b(h, 5, 5) << 6)
                | (b(h, 4, 3) << 7)
                | (b(h, 2, 2) << 5);
            if v == 0 {
                return ILLEGAL;
            }
            mk(Op::Addi, 2, 2, 0, sext(v, 10))
        }
        (1, 3) => {
            let v = (b(h, 12, 12) << 17) | (b(h, 6, 2) << 12);
            if v == 0 {
                return ILLEGAL;
            }
            mk(Op::Lui, rd, 0, 0, sext(v, 18))
        }
        (1, 4) => match b(h, 11, 10) {
            0 | 1 => {
                if !rv64 && shamt >= 32 {
                    return ILLEGAL;
                }
                let op = if b(h, 11, 10) == 0 {
                    Op::Srli
                } else {
                    Op::Srai
                };
                mk(op, rs1p, rs1p, 0, shamt as i64)
            }
            2 => mk(Op::Andi, rs1p, rs1p, 0, imm6),
            _ => match (b(h, 12, 12), b(h, 6, 5)) {
                (0, 0) => mk(Op::Sub, rs1p, rs1p, rdp, 0),
                (0, 1) => mk(Op::Xor, rs1p, rs1p, rdp, 0),
                (0, 2) => mk(Op::Or, rs1p, rs1p, rdp, 0),
                (0, 3) => mk(Op::And, rs1p, rs1p, rdp, 0),
                (1, 0) if rv64 => mk(Op::Subw, rs1p, rs1p, rdp, 0),
                (1, 1) if rv64 => mk(Op::Addw, rs1p, rs1p, rdp, 0),
                (1, 2) => mk(Op::Mul, rs1p, rs1p, rdp, 0),
                (1, 3) => match b(h, 4, 2) {
                    0 => mk(Op::Andi, rs1p, rs1p, 0, 0xff),
                    1 => mk(Op::SextB, rs1p, rs1p, 0, 0),
                    2 => mk(Op::ZextH, rs1p, rs1p, 0, 0),
                    3 => mk(Op::SextH, rs1p, rs1p, 0, 0),
                    4 if rv64 => mk(Op::AddUw, rs1p, rs1p, 0, 0),
                    5 => mk(Op::Xori, rs1p, rs1p, 0, -1),
                    _ => ILLEGAL,
                },
                _ => ILLEGAL,
            },
        },
        (1, 5) => mk(Op::Jal, 0, 0, 0, cj_offset(h)),
        (1, 6) | (1, 7) => {
            let v = (b(h, 12, 12) << 8)
                | (b(h, 11, 10) << 3)
                | (b(h, 6, 5) << 6)
                | (b(h, 4, 3) << 1)
                | (b(h, 2, 2) << 5);
            let op = if f3 == 6 { Op::Beq } else { Op::Bne };
            mk(op, 0, rs1p, 0, sext(v, 9))
        }
        (2, 0) => {
            if !rv64 && shamt >= 32 {
                return ILLEGAL;
            }
            mk(Op::Slli, rd, rd, 0, shamt as i64)
        }
        (2, 1) => fp(mk(Op::Fload, rd, 2, 0, ldsp_off(h) as i64), Fmt::D),
        (2, 2) => {
            if rd == 0 {
                return ILLEGAL;
            }
            mk(Op::Lw, rd, 2, 0, lwsp_off(h) as i64)
        }
        (2, 3) if rv64 => {
            if rd == 0 {
                return ILLEGAL;
            }
            mk(Op::Ld, rd, 2, 0, ldsp_off(h) as i64)
        }
        (2, 3) => fp(mk(Op::Fload, rd, 2, 0, lwsp_off(h) as i64), Fmt::S),
        (2, 4) => match (b(h, 12, 12), rd, rs2) {
            (0, 0, 0) => ILLEGAL,
            (0, _, 0) => mk(Op::Jalr, 0, rd, 0, 0),
            (0, _, _) => mk(Op::Add, rd, 0, rs2, 0),
            (_, 0, 0) => mk(Op::Ebreak, 0, 0, 0, 0),
            (_, _, 0) => mk(Op::Jalr, 1, rd, 0, 0),
            _ => mk(Op::Add, rd, rd, rs2, 0),
        },
        (2, 5) => fp(mk(Op::Fstore, 0, 2, rs2, sdsp_off(h) as i64), Fmt::D),
        (2, 6) => mk(Op::Sw, 0, 2, rs2, swsp_off(h) as i64),
        (2, 7) if rv64 => mk(Op::Sd, 0, 2, rs2, sdsp_off(h) as i64),
        (2, 7) => fp(mk(Op::Fstore, 0, 2, rs2, swsp_off(h) as i64), Fmt::S),
        _ => ILLEGAL,
    }
}

fn cj_offset(h: u16) -> i64 {
    let v = (b(h, 12, 12) << 11)
        | (b(h, 11, 11) << 4)
        | (b(h, 10, 9) << 8)
        | (b(h, 8, 8) << 10)
        | (b(h, 7, 7) << 6)
        | (b(h, 6, 6) << 7)
        | (b(h, 5, 3) << 1)
        | (b(h, 2, 2) << 5);
    sext(v, 12)
}

fn lwsp_off(h: u16) -> u32 {
    (b(h, 12, 12) << 5) | (b(h, 6, 4) << 2) | (b(h, 3, 2) << 6)
}
fn ldsp_off(h: u16) -> u32 {
    (b(h, 12, 12) << 5) | (b(h, 6, 5) << 3) | (b(h, 4, 2) << 6)
}
fn swsp_off(h: u16) -> u32 {
    (b(h, 12, 9) << 2) | (b(h, 8, 7) << 6)
}
fn sdsp_off(h: u16) -> u32 {
    (b(h, 12, 10) << 3) | (b(h, 9, 7) << 6)
}

/// Whether parcel `h` is one of the Zcb additions (the hart refuses them without Zcb).
pub fn is_zcb(h: u16) -> bool {
    let q = h & 3;
    let f3 = (h >> 13) & 7;
    match (q, f3) {
        (0, 4) => true,
        (1, 4) => (h >> 10) & 7 == 7 && (h >> 5) & 3 >= 2,
        _ => false,
    }
}
