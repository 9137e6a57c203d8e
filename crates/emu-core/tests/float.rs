//! Floating-point instructions through the hart: rounding modes (static and dynamic), the
//! accrued flags, NaN boxing, canonical NaNs, and the illegal-instruction cases.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use emu_core::Exception;
use emu_isa::{Fmt, Inst, Op, Xlen};

const BOX: u64 = 0xffff_ffff_0000_0000;

fn fp2(op: Op, fmt: Fmt, a: u64, b: u64, rm: u8, frm: u8) -> (u64, u8) {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.csr.frm = frm;
    h.f[1] = a;
    h.f[2] = b;
    exec(&mut h, &bus, f(op, fmt, 3, 1, 2, rm)).unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
    (h.f[3], h.csr.fflags)
}

#[test]
fn arithmetic_rounding_and_flags() {
    let one = BOX | 0x3f80_0000;
    let third = BOX | 0x3eaa_aaab; // 1/3 rounded up
    type Case = (Op, Fmt, u64, u64, u8, u8, u64, u8);
    let cases: &[Case] = &[
        // op, fmt, a, b, rm, frm, result, flags
        (Op::Fdiv, Fmt::S, one, BOX | 0x4040_0000, 0, 0, third, 1),
        (
            Op::Fdiv,
            Fmt::S,
            one,
            BOX | 0x4040_0000,
            1,
            0,
            BOX | 0x3eaa_aaaa,
            1,
        ), // rtz
        (
            Op::Fdiv,
            Fmt::S,
            one,
            BOX | 0x4040_0000,
            7,
            1,
            BOX | 0x3eaa_aaaa,
            1,
        ), // dyn = rtz
        (Op::Fdiv, Fmt::S, one, BOX, 0, 0, BOX | 0x7f80_0000, 0x08), // 1/0: DZ
        (Op::Fdiv, Fmt::S, BOX, BOX, 0, 0, BOX | 0x7fc0_0000, 0x10), // 0/0: NV, canonical NaN
        (
            Op::Fadd,
            Fmt::D,
            0x7fef_ffff_ffff_ffff,
            0x7fef_ffff_ffff_ffff,
            0,
            0,
            0x7ff0_0000_0000_0000,
            0x05,
        ),
        (
            Op::Fadd,
            Fmt::D,
            0x7fef_ffff_ffff_ffff,
            0x7fef_ffff_ffff_ffff,
            1,
            0,
            0x7fef_ffff_ffff_ffff,
            0x05,
        ),
        (
            Op::Fmul,
            Fmt::D,
            0x0010_0000_0000_0000,
            0x3fe0_0000_0000_0000,
            0,
            0,
            0x0008_0000_0000_0000,
            0,
        ), // exact subnormal
        (Op::Fmul, Fmt::D, 1, 0x3fe0_0000_0000_0000, 0, 0, 0, 0x03), // underflow to zero: UF|NX
        (Op::Fsub, Fmt::S, one, one, 2, 0, BOX | 0x8000_0000, 0),    // x - x = -0 in rdn
        (Op::Fsub, Fmt::S, one, one, 0, 0, BOX, 0),                  // +0 otherwise
        (
            Op::Fmin,
            Fmt::S,
            BOX | 0x8000_0000,
            BOX,
            0,
            0,
            BOX | 0x8000_0000,
            0,
        ),
        (Op::Fmax, Fmt::S, BOX | 0x7f80_0001, one, 0, 0, one, 0x10), // sNaN operand: NV, other result
        (
            Op::Fadd,
            Fmt::H,
            0xffff_ffff_ffff_3c00,
            0xffff_ffff_ffff_3c00,
            0,
            0,
            0xffff_ffff_ffff_4000,
            0,
        ),
        // Improperly boxed single reads as the canonical NaN.
        (
            Op::Fadd,
            Fmt::S,
            0x3f80_0000,
            one,
            0,
            0,
            BOX | 0x7fc0_0000,
            0,
        ),
        (
            Op::Fsgnjn,
            Fmt::S,
            0x3f80_0000,
            one,
            0,
            0,
            BOX | 0xffc0_0000,
            0,
        ),
    ];
    for &(op, fmt, a, b, rm, frm, want, flags) in cases {
        assert_eq!(
            fp2(op, fmt, a, b, rm, frm),
            (want, flags),
            "{op:?}.{fmt:?} {a:#x} {b:#x} rm {rm}"
        );
    }
}

#[test]
fn reserved_rounding_modes_are_illegal() {
    for (rm, frm) in [(5, 0), (6, 0), (7, 5), (7, 6), (7, 7)] {
        let bus = test_bus();
        let mut h = hart(Xlen::X64);
        h.csr.frm = frm;
        let i = f(Op::Fadd, Fmt::S, 3, 1, 2, rm);
        assert!(
            matches!(exec(&mut h, &bus, i), Err(Exception::Illegal(_))),
            "rm {rm} frm {frm}"
        );
        assert_eq!(h.csr.mcause, 2);
    }
}

#[test]
fn fp_off_or_absent_is_illegal() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.csr.mstatus &= !(3 << 13); // FS = Off
    let i = f(Op::Fadd, Fmt::D, 3, 1, 2, 0);
    assert!(matches!(exec(&mut h, &bus, i), Err(Exception::Illegal(_))));
    // fcsr is not accessible either.
    let csr = Inst {
        rd: 1,
        rs1: 0,
        imm: 3,
        ..Inst::new(Op::Csrrs)
    };
    assert!(matches!(
        exec(&mut h, &bus, csr),
        Err(Exception::Illegal(_))
    ));
    // A hart without D.
    let mut h = emu_core::Hart::new(
        emu_core::HartId(0),
        emu_core::IsaConfig::parse("rv64imafc").unwrap(),
        RAM_BASE,
    );
    h.csr.mstatus |= 3 << 13;
    assert!(matches!(exec(&mut h, &bus, i), Err(Exception::Illegal(_))));
    assert!(exec(&mut h, &bus, f(Op::Fadd, Fmt::S, 3, 1, 2, 0)).is_ok());
}

#[test]
fn conversions_and_moves() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    // fmv.x.w sign-extends the raw low word, whatever the boxing.
    h.f[1] = 0x1234_5678_8000_0001;
    exec(&mut h, &bus, f(Op::FmvXF, Fmt::S, 5, 1, 0, 0)).unwrap();
    assert_eq!(h.x[5], 0xffff_ffff_8000_0001);
    // fmv.w.x boxes.
    h.x[6] = 0xdead_beef_3f80_0000;
    exec(&mut h, &bus, f(Op::FmvFX, Fmt::S, 2, 6, 0, 0)).unwrap();
    assert_eq!(h.f[2], BOX | 0x3f80_0000);
    // fcvt.w.s of NaN saturates to the maximum with NV; fcvt.wu.d of -1 gives 0 with NV.
    h.csr.fflags = 0;
    h.f[1] = BOX | 0x7fc0_0000;
    exec(&mut h, &bus, f(Op::FcvtWF, Fmt::S, 5, 1, 0, 1)).unwrap();
    assert_eq!((h.x[5], h.csr.fflags), (0x7fff_ffff, 0x10));
    h.csr.fflags = 0;
    h.f[1] = (-1.0f64).to_bits();
    exec(&mut h, &bus, f(Op::FcvtWuF, Fmt::D, 5, 1, 0, 1)).unwrap();
    assert_eq!((h.x[5], h.csr.fflags), (0, 0x10));
    // fcvt.s.lu of 2^64-1 rounds (NX) to 2^64.
    h.csr.fflags = 0;
    h.x[7] = u64::MAX;
    exec(&mut h, &bus, f(Op::FcvtFLu, Fmt::S, 4, 7, 0, 0)).unwrap();
    assert_eq!((h.f[4], h.csr.fflags), (BOX | 0x5f80_0000, 1));
    // fcvt.s.d of a signalling NaN: canonical NaN and NV.
    h.csr.fflags = 0;
    h.f[1] = 0x7ff0_0000_0000_0001;
    let cvt = Inst {
        rd: 4,
        rs1: 1,
        rs2: 1,
        rm: 0,
        fmt: Fmt::S,
        ..Inst::new(Op::FcvtFF)
    };
    exec(&mut h, &bus, cvt).unwrap();
    assert_eq!((h.f[4], h.csr.fflags), (BOX | 0x7fc0_0000, 0x10));
    // fclass of -0 and of a boxed half +inf.
    h.f[1] = BOX | 0x8000_0000;
    exec(&mut h, &bus, f(Op::Fclass, Fmt::S, 5, 1, 0, 0)).unwrap();
    assert_eq!(h.x[5], 1 << 3);
    h.f[1] = 0xffff_ffff_ffff_7c00;
    exec(&mut h, &bus, f(Op::Fclass, Fmt::H, 5, 1, 0, 0)).unwrap();
    assert_eq!(h.x[5], 1 << 7);
}

#[test]
fn fflags_accrue_and_dirty_fs() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.csr.mstatus = (h.csr.mstatus & !(3 << 13)) | 1 << 13; // Initial
    h.f[1] = BOX | 0x3f80_0000;
    h.f[2] = BOX;
    exec(&mut h, &bus, f(Op::Fdiv, Fmt::S, 3, 1, 2, 0)).unwrap();
    exec(&mut h, &bus, f(Op::Fdiv, Fmt::S, 3, 2, 2, 0)).unwrap();
    assert_eq!(h.csr.fflags, 0x18, "DZ then NV accumulate");
    assert_eq!(h.csr.mstatus >> 13 & 3, 3, "FS dirty");
}
