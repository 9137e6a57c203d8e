//! IEEE 754 arithmetic with RISC-V semantics: every rounding mode including RMM, the five
//! accrued exception flags, canonical NaNs, NaN boxing, and the RISC-V rules for min/max,
//! comparisons and saturating float-to-integer conversion.
//!
//! Arithmetic is done in software with `rustc_apfloat` (LLVM's APFloat, ported), so results
//! do not depend on the host FPU's state. Square root, which APFloat lacks, uses the host's
//! correctly rounded `sqrt` plus an exact residual to apply the rounding mode.

use emu_isa::Fmt;
use rustc_apfloat::ieee::{Double, Half, Single};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};

mod compare;
mod convert;
#[cfg(test)]
mod tests;

pub use compare::{Cmp, classify, cmp, min_max, sign_inject};
pub use convert::{IntKind, convert, from_int, to_int};

/// Invalid operation.
pub const NV: u8 = 0x10;
/// Divide by zero.
pub const DZ: u8 = 0x08;
/// Overflow.
pub const OF: u8 = 0x04;
/// Underflow.
pub const UF: u8 = 0x02;
/// Inexact.
pub const NX: u8 = 0x01;

/// A result: the raw value (boxed for narrow formats, or an integer) and the flags raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpOut {
    /// Register value.
    pub val: u64,
    /// Exception flags to OR into `fflags`.
    pub flags: u8,
}

/// The rounding mode for `rm` (already resolved from `dyn`); `None` for the reserved values.
pub fn round_mode(rm: u8) -> Option<Round> {
    Some(match rm {
        0 => Round::NearestTiesToEven,
        1 => Round::TowardZero,
        2 => Round::TowardNegative,
        3 => Round::TowardPositive,
        4 => Round::NearestTiesToAway,
        _ => return None,
    })
}

fn flags(s: Status) -> u8 {
    let mut f = 0;
    if s.contains(Status::INVALID_OP) {
        f |= NV;
    }
    if s.contains(Status::DIV_BY_ZERO) {
        f |= DZ;
    }
    if s.contains(Status::OVERFLOW) {
        f |= OF;
    }
    if s.contains(Status::INEXACT) {
        f |= NX;
        // Underflow is only signalled together with inexactness (IEEE default handling).
        if s.contains(Status::UNDERFLOW) {
            f |= UF;
        }
    }
    f
}

/// Layout facts of a format.
#[derive(Clone, Copy)]
struct Layout {
    bits: u32,
    man: u32,
}

fn layout(fmt: Fmt) -> Layout {
    match fmt {
        Fmt::H => Layout { bits: 16, man: 10 },
        Fmt::D => Layout { bits: 64, man: 52 },
        _ => Layout { bits: 32, man: 23 },
    }
}

fn width_mask(fmt: Fmt) -> u64 {
    let b = layout(fmt).bits;
    if b == 64 { u64::MAX } else { (1u64 << b) - 1 }
}

/// The canonical NaN of `fmt` (not boxed).
pub fn canonical_nan(fmt: Fmt) -> u64 {
    match fmt {
        Fmt::H => 0x7e00,
        Fmt::D => 0x7ff8_0000_0000_0000,
        _ => 0x7fc0_0000,
    }
}

/// The value of register contents `raw` as a `fmt` number: narrower values must be NaN-boxed,
/// otherwise they read as the canonical NaN.
pub fn unbox(fmt: Fmt, raw: u64) -> u64 {
    let m = width_mask(fmt);
    if fmt == Fmt::D || raw | m == u64::MAX {
        raw & m
    } else {
        canonical_nan(fmt)
    }
}

/// NaN-box a `fmt` value for writing to a register.
pub fn nanbox(fmt: Fmt, v: u64) -> u64 {
    let m = width_mask(fmt);
    (v & m) | !m
}

fn is_nan(fmt: Fmt, v: u64) -> bool {
    let l = layout(fmt);
    let exp_mask = ((1u64 << (l.bits - 1 - l.man)) - 1) << l.man;
    v & exp_mask == exp_mask && v & ((1u64 << l.man) - 1) != 0
}

fn is_snan(fmt: Fmt, v: u64) -> bool {
    let l = layout(fmt);
    is_nan(fmt, v) && v & (1u64 << (l.man - 1)) == 0
}

fn sign(fmt: Fmt, v: u64) -> bool {
    v >> (layout(fmt).bits - 1) & 1 == 1
}

/// Arithmetic operations with two or three operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// a + b.
    Add,
    /// a - b.
    Sub,
    /// a * b.
    Mul,
    /// a / b.
    Div,
    /// a * b + c.
    Madd,
    /// a * b - c.
    Msub,
    /// -(a * b) + c.
    Nmsub,
    /// -(a * b) - c.
    Nmadd,
}

fn compute<F: Float>(op: Arith, fa: F, fb: F, fc: F, rm: Round) -> StatusAnd<F> {
    match op {
        Arith::Add => fa.add_r(fb, rm),
        Arith::Sub => fa.sub_r(fb, rm),
        Arith::Mul => fa.mul_r(fb, rm),
        Arith::Div => fa.div_r(fb, rm),
        Arith::Madd => fa.mul_add_r(fb, fc, rm),
        Arith::Msub => fa.mul_add_r(fb, -fc, rm),
        Arith::Nmsub => (-fa).mul_add_r(fb, fc, rm),
        Arith::Nmadd => (-fa).mul_add_r(fb, -fc, rm),
    }
}

/// APFloat reports only "inexact" when a rounding mode toward zero clamps an overflowing
/// result to the largest finite number; IEEE 754 (and RISC-V) also raise overflow when the
/// result rounded with unbounded exponent exceeds that number, i.e. when the exact result
/// reaches 2^(emax+1). Decide that by redoing the operation at half scale, truncating.
fn clamped_overflow<F: Float>(op: Arith, fa: F, fb: F, fc: F) -> bool {
    let half = |x: F| x.scalbn(-1);
    let bigger = |x: F, y: F| x.abs() >= y.abs();
    let (a2, b2, c2) = match op {
        Arith::Add | Arith::Sub => (half(fa), half(fb), fc),
        Arith::Mul => {
            if bigger(fa, fb) {
                (half(fa), fb, fc)
            } else {
                (fa, half(fb), fc)
            }
        }
        Arith::Div => (half(fa), fb, fc),
        _ => {
            if bigger(fa, fb) {
                (half(fa), fb, half(fc))
            } else {
                (fa, half(fb), half(fc))
            }
        }
    };
    let r = compute(op, a2, b2, c2, Round::TowardZero).value;
    !r.is_nan() && r.is_finite_non_zero() && r.ilogb() >= F::largest().ilogb()
}

fn arith_g<F: Float>(fmt: Fmt, op: Arith, a: u64, b: u64, c: u64, rm: Round) -> FpOut {
    let (fa, fb, fc) = (
        F::from_bits(a as u128),
        F::from_bits(b as u128),
        F::from_bits(c as u128),
    );
    let r = compute(op, fa, fb, fc, rm);
    let mut fl = flags(r.status);
    if fl & NX != 0
        && fl & OF == 0
        && r.value.abs().bitwise_eq(F::largest())
        && clamped_overflow(op, fa, fb, fc)
    {
        fl |= OF;
    }
    let three = matches!(op, Arith::Madd | Arith::Msub | Arith::Nmsub | Arith::Nmadd);
    if is_snan(fmt, a) || is_snan(fmt, b) || (three && is_snan(fmt, c)) {
        fl |= NV;
    }
    // inf * 0 is invalid even when the addend is a quiet NaN.
    if three && ((fa.is_infinite() && fb.is_zero()) || (fa.is_zero() && fb.is_infinite())) {
        fl |= NV;
    }
    let v = if r.value.is_nan() {
        canonical_nan(fmt)
    } else {
        r.value.to_bits() as u64
    };
    if r.value.is_nan() {
        // A NaN result never also reports inexact/overflow.
        fl &= NV | DZ;
    }
    FpOut { val: v, flags: fl }
}

/// `op` on unboxed `fmt` values (c is used by the fused forms only).
pub fn arith(fmt: Fmt, op: Arith, a: u64, b: u64, c: u64, rm: Round) -> FpOut {
    match fmt {
        Fmt::H => arith_g::<Half>(fmt, op, a, b, c, rm),
        Fmt::D => arith_g::<Double>(fmt, op, a, b, c, rm),
        _ => arith_g::<Single>(fmt, op, a, b, c, rm),
    }
}

/// Square root of an unboxed `fmt` value.
pub fn sqrt(fmt: Fmt, a: u64, rm: Round) -> FpOut {
    if is_nan(fmt, a) {
        return FpOut {
            val: canonical_nan(fmt),
            flags: if is_snan(fmt, a) { NV } else { 0 },
        };
    }
    let zero_or_inf = a & (width_mask(fmt) >> 1) == 0 || classify(fmt, a) & (1 << 7) != 0;
    if sign(fmt, a) && a & (width_mask(fmt) >> 1) != 0 {
        return FpOut {
            val: canonical_nan(fmt),
            flags: NV,
        };
    }
    if zero_or_inf {
        return FpOut { val: a, flags: 0 };
    }
    match fmt {
        Fmt::D => sqrt_f64(f64::from_bits(a), rm),
        Fmt::H => {
            let mut lost = false;
            let x: StatusAnd<Double> =
                Half::from_bits(a as u128).convert_r(Round::NearestTiesToEven, &mut lost);
            narrow_sqrt::<Half>(f64::from_bits(x.value.to_bits() as u64), rm)
        }
        _ => narrow_sqrt::<Single>(f32::from_bits(a as u32) as f64, rm),
    }
}

/// sqrt of a positive finite f64 with rounding mode `rm`.
fn sqrt_f64(x: f64, rm: Round) -> FpOut {
    // Scale tiny inputs so that the residual r*r - x cannot underflow; scaling by an even power
    // of two is exact and commutes with sqrt.
    let small = x < f64::from_bits(0x07b0_0000_0000_0000); // 2^-900
    let xs = if small {
        x * f64::from_bits(0x7e70_0000_0000_0000)
    } else {
        x
    }; // * 2^1000
    let mut r = xs.sqrt();
    let res = r.mul_add(r, -xs);
    match rm {
        Round::TowardZero | Round::TowardNegative if res > 0.0 => {
            r = f64::from_bits(r.to_bits() - 1)
        }
        Round::TowardPositive if res < 0.0 => r = f64::from_bits(r.to_bits() + 1),
        _ => {}
    }
    if small {
        r *= f64::from_bits(0x20b0_0000_0000_0000); // 2^-500
    }
    FpOut {
        val: r.to_bits(),
        flags: if res != 0.0 { NX } else { 0 },
    }
}

/// sqrt for formats narrower than double: the double result is never a rounding boundary of
/// the narrow format unless exact, so rounding it once more with `rm` is correct.
fn narrow_sqrt<F: Float>(x: f64, rm: Round) -> FpOut
where
    Double: FloatConvert<F>,
{
    let r = x.sqrt();
    let res = r.mul_add(r, -x);
    let mut lost = false;
    let n: StatusAnd<F> = Double::from_bits(r.to_bits() as u128).convert_r(rm, &mut lost);
    FpOut {
        val: n.value.to_bits() as u64,
        flags: if res != 0.0 || lost { NX } else { 0 },
    }
}
