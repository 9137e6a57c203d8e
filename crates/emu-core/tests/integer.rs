//! Table-driven tests of the integer instructions (I, M, Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx,
//! Zicond) with the edge cases the spec calls out: overflow, sign extension, shift-amount
//! masking, division by zero and signed overflow, x0 as destination.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use emu_isa::{Op, Xlen};

const X64: Xlen = Xlen::X64;
const X32: Xlen = Xlen::X32;
const M64: u64 = u64::MAX;

#[test]
fn base_register_register() {
    let cases: &[(Xlen, Op, u64, u64, u64)] = &[
        (X64, Op::Add, M64, 1, 0),
        (
            X64,
            Op::Add,
            0x7fff_ffff_ffff_ffff,
            1,
            0x8000_0000_0000_0000,
        ),
        (X32, Op::Add, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000), // wraps, sign-extended
        (X64, Op::Sub, 0, 1, M64),
        (X64, Op::Sll, 1, 65, 2), // shift amount masked to 6 bits
        (X32, Op::Sll, 1, 33, 2), // ... and to 5 bits on RV32
        (X64, Op::Srl, 0x8000_0000_0000_0000, 63, 1),
        (X32, Op::Srl, 0x8000_0000, 31, 1),
        (X64, Op::Sra, 0x8000_0000_0000_0000, 63, M64),
        (X32, Op::Sra, 0x8000_0000, 4, 0xffff_ffff_f800_0000),
        (X64, Op::Slt, M64, 0, 1),
        (X64, Op::Sltu, M64, 0, 0),
        (X32, Op::Sltu, 0xffff_ffff, 1, 0),
        (X64, Op::Addw, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        (X64, Op::Subw, 0, 1, M64),
        (X64, Op::Sllw, 1, 31, 0xffff_ffff_8000_0000),
        (X64, Op::Srlw, 0xffff_ffff_8000_0000, 31, 1),
        (X64, Op::Sraw, 0x8000_0000, 31, M64),
        (X64, Op::Xor, 0xf0f0, 0xff00, 0x0ff0),
        (X64, Op::And, 0xf0f0, 0xff00, 0xf000),
        (X64, Op::Or, 0xf0f0, 0xff00, 0xfff0),
    ];
    for &(xlen, op, a, b, want) in cases {
        assert_eq!(alu(xlen, op, a, b), want, "{xlen:?} {op:?} {a:#x} {b:#x}");
    }
}

#[test]
fn base_immediates() {
    let cases: &[(Xlen, Op, u64, i64, u64)] = &[
        (X64, Op::Addi, 1, -2, M64),
        (X64, Op::Sltiu, 0, -1, 1), // immediate sign-extended, then compared unsigned
        (X64, Op::Slti, 0, -1, 0),
        (X64, Op::Xori, 0, -1, M64),
        (X64, Op::Srai, 0x8000_0000_0000_0000, 63, M64),
        (X64, Op::Addiw, 0x7fff_ffff, 1, 0xffff_ffff_8000_0000),
        (X64, Op::Addiw, 0x1_0000_0000, 0, 0), // sext.w
        (X64, Op::Sraiw, 0x8000_0000, 0, 0xffff_ffff_8000_0000),
        (X64, Op::Slliw, 0x1, 31, 0xffff_ffff_8000_0000),
        (X32, Op::Srli, 0xffff_ffff, 28, 0xf),
    ];
    for &(xlen, op, a, imm, want) in cases {
        assert_eq!(
            alu_imm(xlen, op, a, imm),
            want,
            "{xlen:?} {op:?} {a:#x} {imm}"
        );
    }
}

#[test]
fn x0_is_never_written() {
    let bus = test_bus();
    let mut h = hart(X64);
    h.x[1] = 5;
    exec(&mut h, &bus, i(Op::Addi, 0, 1, 1)).unwrap();
    exec(&mut h, &bus, i(Op::Lui, 0, 0, 0x1000)).unwrap();
    assert_eq!(h.x[0], 0);
}

#[test]
fn multiply_divide() {
    let min64 = 0x8000_0000_0000_0000u64;
    let cases: &[(Xlen, Op, u64, u64, u64)] = &[
        (X64, Op::Div, 7, 0, M64), // division by zero: all ones
        (X64, Op::Divu, 7, 0, M64),
        (X64, Op::Rem, 7, 0, 7), // remainder by zero: the dividend
        (X64, Op::Remu, 7, 0, 7),
        (X64, Op::Div, min64, M64, min64), // signed overflow: dividend
        (X64, Op::Rem, min64, M64, 0),
        (X64, Op::Div, (-7i64) as u64, 2, (-3i64) as u64), // rounds toward zero
        (X64, Op::Rem, (-7i64) as u64, 2, M64),
        (
            X32,
            Op::Div,
            0x8000_0000,
            0xffff_ffff,
            0xffff_ffff_8000_0000,
        ),
        (X32, Op::Divu, 0xffff_ffff, 2, 0x7fff_ffff),
        (X32, Op::Remu, 0xffff_ffff, 0x10, 0xf),
        (X64, Op::Mulh, M64, M64, 0),
        (X64, Op::Mulhu, M64, M64, M64 - 1),
        (X64, Op::Mulhsu, M64, M64, M64), // -1 * (2^64-1) >> 64 = -1
        (X32, Op::Mulh, 0x8000_0000, 0x8000_0000, 0x4000_0000),
        (
            X32,
            Op::Mulhu,
            0xffff_ffff,
            0xffff_ffff,
            0xffff_ffff_ffff_fffe,
        ),
        (X32, Op::Mulhsu, 0xffff_ffff, 0xffff_ffff, M64),
        (X64, Op::Mulw, 0x8000_0000, 2, 0),
        (X64, Op::Divw, 0x8000_0000, M64, 0xffff_ffff_8000_0000),
        (X64, Op::Divuw, 0xffff_ffff, 0, M64),
        (X64, Op::Remw, 0x1_0000_0007, 0, 7), // operand truncated, result sign-extended
        (X64, Op::Remuw, 0x8000_0001, 0x10, 1),
    ];
    for &(xlen, op, a, b, want) in cases {
        assert_eq!(alu(xlen, op, a, b), want, "{xlen:?} {op:?} {a:#x} {b:#x}");
    }
}

#[test]
fn bit_manipulation() {
    let cases: &[(Xlen, Op, u64, u64, u64)] = &[
        (X64, Op::Sh1add, 3, 1, 7),
        (X64, Op::Sh3addUw, 0xffff_ffff_0000_0001, 0, 8),
        (X64, Op::AddUw, M64, 1, 0x1_0000_0000),
        (X64, Op::Andn, 0xff, 0x0f, 0xf0),
        (X64, Op::Orn, 0, M64, 0),
        (X64, Op::Xnor, 0, 0, M64),
        (X64, Op::Clz, 0, 0, 64),
        (X32, Op::Clz, 0, 0, 32),
        (X32, Op::Clz, 1, 0, 31),
        (X64, Op::Ctz, 0x8000_0000_0000_0000, 0, 63),
        (X64, Op::Cpop, M64, 0, 64),
        (X32, Op::Cpop, M64, 0, 32),
        (X64, Op::Clzw, 0x1_0000_0000, 0, 32),
        (X64, Op::Ctzw, 0, 0, 32),
        (X64, Op::Ctzw, 0x01a8_0000_0000_0000, 0, 32), // only the low word counts
        (X64, Op::Max, M64, 0, 0),
        (X64, Op::Maxu, M64, 0, M64),
        (X64, Op::Min, M64, 0, M64),
        (X64, Op::SextB, 0x80, 0, 0xffff_ffff_ffff_ff80),
        (X64, Op::SextH, 0x8000, 0, 0xffff_ffff_ffff_8000),
        (X64, Op::ZextH, M64, 0, 0xffff),
        (X64, Op::Rol, 0x8000_0000_0000_0001, 1, 3),
        (X32, Op::Ror, 1, 1, 0xffff_ffff_8000_0000),
        (X64, Op::Rolw, 0x8000_0000, 1, 1),
        (
            X64,
            Op::OrcB,
            0x0100_0000_0000_2000,
            0,
            0xff00_0000_0000_ff00,
        ),
        (
            X64,
            Op::Rev8,
            0x0102_0304_0506_0708,
            0,
            0x0807_0605_0403_0201,
        ),
        (X32, Op::Rev8, 0x0102_0304, 0, 0x0403_0201),
        (X64, Op::Clmul, 3, 3, 5),
        (X64, Op::Clmulh, 0x8000_0000_0000_0000, 2, 1),
        (X64, Op::Clmulr, 0x8000_0000_0000_0000, 2, 2),
        (X32, Op::Clmulh, 0x8000_0000, 2, 1),
        (X64, Op::Bclr, M64, 64 + 3, M64 - 8), // index masked to 6 bits
        (X64, Op::Bext, 8, 3, 1),
        (X64, Op::Binv, 0, 63, 0x8000_0000_0000_0000),
        (X64, Op::Bset, 0, 0, 1),
        (
            X64,
            Op::Pack,
            0x1111_2222_3333_4444,
            0x5555_6666_7777_8888,
            0x7777_8888_3333_4444,
        ),
        (X32, Op::Pack, 0x1111_2222, 0x3333_4444, 0x4444_2222),
        (X64, Op::Packh, 0x1234, 0x5678, 0x7834),
        (
            X64,
            Op::Packw,
            0x1234_8765,
            0xabcd_8001,
            0xffff_ffff_8001_8765,
        ),
        (
            X64,
            Op::Brev8,
            0x0102_0408_1020_4080,
            0,
            0x8040_2010_0804_0201,
        ),
        (X32, Op::Zip, 0xffff_0000, 0, 0xffff_ffff_aaaa_aaaa),
        (X32, Op::Unzip, 0xaaaa_aaaa, 0, 0xffff_ffff_ffff_0000),
        (
            X64,
            Op::Xperm8,
            0x0807_0605_0403_0201,
            0x0001_0203_0405_0607,
            0x0102_0304_0506_0708,
        ),
        (
            X64,
            Op::Xperm8,
            0x0807_0605_0403_0201,
            0xff,
            0x0101_0101_0101_0100,
        ), // index 0xff is out of range: 0
        (X32, Op::Xperm4, 0x7654_3210, 0x0123_4567, 0x0123_4567),
        (X64, Op::CzeroEqz, 5, 0, 0),
        (X64, Op::CzeroEqz, 5, 1, 5),
        (X64, Op::CzeroNez, 5, 1, 0),
    ];
    for &(xlen, op, a, b, want) in cases {
        assert_eq!(alu(xlen, op, a, b), want, "{xlen:?} {op:?} {a:#x} {b:#x}");
    }
    assert_eq!(alu_imm(X64, Op::Rori, 1, 1), 0x8000_0000_0000_0000);
    assert_eq!(alu_imm(X64, Op::Roriw, 1, 1), 0xffff_ffff_8000_0000);
    assert_eq!(
        alu_imm(X64, Op::SlliUw, 0xffff_ffff_8000_0000, 1),
        0x1_0000_0000
    );
    assert_eq!(alu_imm(X64, Op::Bexti, 0x8000_0000_0000_0000, 63), 1);
}
