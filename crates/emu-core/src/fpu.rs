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

/// `fmin`/`fmax` (IEEE 754-2019 minimumNumber/maximumNumber; -0 < +0).
pub fn min_max(fmt: Fmt, a: u64, b: u64, max: bool) -> FpOut {
    let fl = if is_snan(fmt, a) || is_snan(fmt, b) {
        NV
    } else {
        0
    };
    let val = match (is_nan(fmt, a), is_nan(fmt, b)) {
        (true, true) => canonical_nan(fmt),
        (true, false) => b,
        (false, true) => a,
        _ => {
            let lt = less(fmt, a, b) || (sign(fmt, a) && !sign(fmt, b));
            if lt != max { a } else { b }
        }
    };
    FpOut { val, flags: fl }
}

fn cmp_g<F: Float>(a: u64, b: u64) -> Option<std::cmp::Ordering> {
    F::from_bits(a as u128).partial_cmp(&F::from_bits(b as u128))
}

fn compare(fmt: Fmt, a: u64, b: u64) -> Option<std::cmp::Ordering> {
    match fmt {
        Fmt::H => cmp_g::<Half>(a, b),
        Fmt::D => cmp_g::<Double>(a, b),
        _ => cmp_g::<Single>(a, b),
    }
}

fn less(fmt: Fmt, a: u64, b: u64) -> bool {
    compare(fmt, a, b) == Some(std::cmp::Ordering::Less)
}

/// Comparison kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `feq` (quiet).
    Eq,
    /// `flt` (signaling).
    Lt,
    /// `fle` (signaling).
    Le,
}

/// `feq`/`flt`/`fle`: result 0 or 1.
pub fn cmp(fmt: Fmt, a: u64, b: u64, kind: Cmp) -> FpOut {
    use std::cmp::Ordering::*;
    let any_nan = is_nan(fmt, a) || is_nan(fmt, b);
    let fl = match kind {
        Cmp::Eq if is_snan(fmt, a) || is_snan(fmt, b) => NV,
        Cmp::Lt | Cmp::Le if any_nan => NV,
        _ => 0,
    };
    let o = compare(fmt, a, b);
    let r = match kind {
        Cmp::Eq => o == Some(Equal),
        Cmp::Lt => o == Some(Less),
        Cmp::Le => matches!(o, Some(Less | Equal)),
    };
    FpOut {
        val: r as u64,
        flags: fl,
    }
}

/// `fclass`: the one-hot class mask.
pub fn classify(fmt: Fmt, a: u64) -> u64 {
    let l = layout(fmt);
    let exp = (a >> l.man) & ((1 << (l.bits - 1 - l.man)) - 1);
    let exp_max = (1 << (l.bits - 1 - l.man)) - 1;
    let man = a & ((1 << l.man) - 1);
    let neg = sign(fmt, a);
    let bit = match (exp, man) {
        (e, 0) if e == exp_max => {
            if neg {
                0
            } else {
                7
            }
        }
        (e, _) if e == exp_max => {
            if is_snan(fmt, a) {
                8
            } else {
                9
            }
        }
        (0, 0) => {
            if neg {
                3
            } else {
                4
            }
        }
        (0, _) => {
            if neg {
                2
            } else {
                5
            }
        }
        _ => {
            if neg {
                1
            } else {
                6
            }
        }
    };
    1 << bit
}

/// Integer destination of a float-to-integer conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntKind {
    /// Signed 32-bit (`.w`).
    W,
    /// Unsigned 32-bit (`.wu`).
    Wu,
    /// Signed 64-bit (`.l`).
    L,
    /// Unsigned 64-bit (`.lu`).
    Lu,
}

impl IntKind {
    fn range(self) -> (i128, i128) {
        match self {
            IntKind::W => (i32::MIN as i128, i32::MAX as i128),
            IntKind::Wu => (0, u32::MAX as i128),
            IntKind::L => (i64::MIN as i128, i64::MAX as i128),
            IntKind::Lu => (0, u64::MAX as i128),
        }
    }
    /// Sign-extend the result to 64 bits as RV64 registers hold it.
    fn to_reg(self, v: i128) -> u64 {
        match self {
            IntKind::W | IntKind::Wu => v as u32 as i32 as i64 as u64,
            IntKind::L | IntKind::Lu => v as u64,
        }
    }
}

fn to_int_g<F: Float>(fmt: Fmt, a: u64, kind: IntKind, rm: Round) -> FpOut {
    let (lo, hi) = kind.range();
    if is_nan(fmt, a) {
        return FpOut {
            val: kind.to_reg(hi),
            flags: NV,
        };
    }
    let x = F::from_bits(a as u128);
    let r = x.round_to_integral(rm);
    let ri = r.value;
    if ri.is_infinite() {
        let v = if ri.is_negative() { lo } else { hi };
        return FpOut {
            val: kind.to_reg(v),
            flags: NV,
        };
    }
    // Exact: |ri| < 2^1024 fits i128 only when in range, which is all we accept.
    let mut exact = true;
    let big = ri.to_i128_r(128, Round::TowardZero, &mut exact);
    let v = big.value;
    if big.status.contains(Status::INVALID_OP) || v < lo || v > hi {
        let sat = if ri.is_negative() { lo } else { hi };
        return FpOut {
            val: kind.to_reg(sat),
            flags: NV,
        };
    }
    let inexact = !ri.bitwise_eq(x) && (!ri.is_zero() || !x.is_zero());
    FpOut {
        val: kind.to_reg(v),
        flags: if inexact { NX } else { 0 },
    }
}

/// `fcvt.{w,wu,l,lu}.fmt`: saturating conversion of an unboxed `fmt` value.
pub fn to_int(fmt: Fmt, a: u64, kind: IntKind, rm: Round) -> FpOut {
    match fmt {
        Fmt::H => to_int_g::<Half>(fmt, a, kind, rm),
        Fmt::D => to_int_g::<Double>(fmt, a, kind, rm),
        _ => to_int_g::<Single>(fmt, a, kind, rm),
    }
}

fn from_int_g<F: Float>(v: i128, rm: Round) -> FpOut {
    let r: StatusAnd<F> = F::from_i128_r(v, rm);
    let mut fl = flags(r.status);
    // Only half precision can overflow from a 64-bit integer; see `clamped_overflow`.
    if fl & NX != 0 && fl & OF == 0 && r.value.abs().bitwise_eq(F::largest()) {
        let limit = F::largest().ilogb() + 1;
        if v.unsigned_abs() >= 1u128 << limit {
            fl |= OF;
        }
    }
    FpOut {
        val: r.value.to_bits() as u64,
        flags: fl,
    }
}

/// `fcvt.fmt.{w,wu,l,lu}` from register value `x` (interpreted per `kind`).
pub fn from_int(fmt: Fmt, x: u64, kind: IntKind, rm: Round) -> FpOut {
    let v: i128 = match kind {
        IntKind::W => x as u32 as i32 as i128,
        IntKind::Wu => x as u32 as i128,
        IntKind::L => x as i64 as i128,
        IntKind::Lu => x as i128,
    };
    match fmt {
        Fmt::H => from_int_g::<Half>(v, rm),
        Fmt::D => from_int_g::<Double>(v, rm),
        _ => from_int_g::<Single>(v, rm),
    }
}

fn convert_g<S: Float + FloatConvert<D>, D: Float>(from: Fmt, to: Fmt, a: u64, rm: Round) -> FpOut {
    if is_nan(from, a) {
        return FpOut {
            val: canonical_nan(to),
            flags: if is_snan(from, a) { NV } else { 0 },
        };
    }
    let mut lost = false;
    let x = S::from_bits(a as u128);
    let r: StatusAnd<D> = x.convert_r(rm, &mut lost);
    let mut fl = flags(r.status);
    if fl & NX != 0 && fl & OF == 0 && r.value.abs().bitwise_eq(D::largest()) {
        // See `clamped_overflow`: halve (exact), truncate, compare with 2^emax.
        let h: StatusAnd<D> = x.scalbn(-1).convert_r(Round::TowardZero, &mut lost);
        if h.value.ilogb() >= D::largest().ilogb() {
            fl |= OF;
        }
    }
    FpOut {
        val: r.value.to_bits() as u64,
        flags: fl,
    }
}

/// `fcvt.to.from` between floating-point formats.
pub fn convert(from: Fmt, to: Fmt, a: u64, rm: Round) -> FpOut {
    match (from, to) {
        (Fmt::S, Fmt::D) => convert_g::<Single, Double>(from, to, a, rm),
        (Fmt::D, Fmt::S) => convert_g::<Double, Single>(from, to, a, rm),
        (Fmt::H, Fmt::S) => convert_g::<Half, Single>(from, to, a, rm),
        (Fmt::S, Fmt::H) => convert_g::<Single, Half>(from, to, a, rm),
        (Fmt::H, Fmt::D) => convert_g::<Half, Double>(from, to, a, rm),
        (Fmt::D, Fmt::H) => convert_g::<Double, Half>(from, to, a, rm),
        _ => FpOut { val: a, flags: 0 },
    }
}

/// Sign injection (`fsgnj`, `fsgnjn`, `fsgnjx`) on unboxed values; `kind` 0, 1, 2.
pub fn sign_inject(fmt: Fmt, a: u64, b: u64, kind: u8) -> u64 {
    let sb = 1u64 << (layout(fmt).bits - 1);
    let s = match kind {
        0 => b & sb,
        1 => !b & sb,
        _ => (a ^ b) & sb,
    };
    (a & !sb) | s
}

#[cfg(test)]
mod tests {
    use super::*;

    const RNE: Round = Round::NearestTiesToEven;

    #[test]
    fn add_rounding_modes_and_flags() {
        // 1 + 2^-24 is a tie in single precision.
        let one = 1.0f32.to_bits() as u64;
        let tiny = (2.0f32).powi(-24).to_bits() as u64;
        let r = arith(Fmt::S, Arith::Add, one, tiny, 0, RNE);
        assert_eq!(
            r,
            FpOut {
                val: one,
                flags: NX
            }
        );
        let r = arith(Fmt::S, Arith::Add, one, tiny, 0, Round::TowardPositive);
        assert_eq!(r.val, (1.0f32 + f32::EPSILON).to_bits() as u64);
        let r = arith(Fmt::S, Arith::Add, one, tiny, 0, Round::NearestTiesToAway);
        assert_eq!(r.val, (1.0f32 + f32::EPSILON).to_bits() as u64);
    }

    #[test]
    fn nan_rules() {
        let snan = 0x7f80_0001u64;
        let qnan = 0x7fc0_1234u64;
        let one = 1.0f32.to_bits() as u64;
        assert_eq!(
            arith(Fmt::S, Arith::Add, snan, one, 0, RNE),
            FpOut {
                val: 0x7fc0_0000,
                flags: NV
            }
        );
        assert_eq!(
            arith(Fmt::S, Arith::Add, qnan, one, 0, RNE),
            FpOut {
                val: 0x7fc0_0000,
                flags: 0
            }
        );
        let inf = f32::INFINITY.to_bits() as u64;
        let r = arith(Fmt::S, Arith::Madd, inf, 0, qnan, RNE);
        assert_eq!(
            r,
            FpOut {
                val: 0x7fc0_0000,
                flags: NV
            }
        );
        assert_eq!(
            min_max(Fmt::S, qnan, one, false),
            FpOut { val: one, flags: 0 }
        );
        assert_eq!(
            min_max(Fmt::S, snan, one, true),
            FpOut {
                val: one,
                flags: NV
            }
        );
        assert_eq!(min_max(Fmt::S, 0x8000_0000, 0, false).val, 0x8000_0000);
        assert_eq!(min_max(Fmt::S, 0x8000_0000, 0, true).val, 0);
        assert_eq!(cmp(Fmt::S, qnan, one, Cmp::Eq), FpOut { val: 0, flags: 0 });
        assert_eq!(cmp(Fmt::S, qnan, one, Cmp::Lt), FpOut { val: 0, flags: NV });
    }

    #[test]
    fn boxing() {
        assert_eq!(unbox(Fmt::S, 0x0000_0000_3f80_0000), 0x7fc0_0000);
        assert_eq!(unbox(Fmt::S, 0xffff_ffff_3f80_0000), 0x3f80_0000);
        assert_eq!(unbox(Fmt::H, 0xffff_ffff_ffff_3c00), 0x3c00);
        assert_eq!(unbox(Fmt::H, 0xffff_ffff_fff0_3c00), 0x7e00);
        assert_eq!(nanbox(Fmt::S, 0x3f80_0000), 0xffff_ffff_3f80_0000);
    }

    #[test]
    fn conversions_saturate() {
        let big = 3.0e9f32.to_bits() as u64;
        assert_eq!(
            to_int(Fmt::S, big, IntKind::W, RNE),
            FpOut {
                val: i32::MAX as u64,
                flags: NV
            }
        );
        assert_eq!(
            to_int(Fmt::S, big, IntKind::Wu, RNE),
            FpOut {
                val: 3_000_000_000u32 as i32 as i64 as u64,
                flags: 0
            }
        );
        let neg_half = (-0.5f32).to_bits() as u64;
        assert_eq!(
            to_int(Fmt::S, neg_half, IntKind::Wu, Round::TowardZero),
            FpOut { val: 0, flags: NX }
        );
        assert_eq!(
            to_int(
                Fmt::S,
                (-1.5f32).to_bits() as u64,
                IntKind::Wu,
                Round::TowardZero
            )
            .flags,
            NV
        );
        assert_eq!(
            to_int(Fmt::S, 0x7fc0_0000, IntKind::L, RNE),
            FpOut {
                val: i64::MAX as u64,
                flags: NV
            }
        );
        assert_eq!(
            to_int(Fmt::D, (-2.5f64).to_bits(), IntKind::L, RNE),
            FpOut {
                val: -2i64 as u64,
                flags: NX
            }
        );
        assert_eq!(
            to_int(
                Fmt::D,
                (-2.5f64).to_bits(),
                IntKind::L,
                Round::NearestTiesToAway
            )
            .val,
            -3i64 as u64
        );
    }

    #[test]
    fn sqrt_directed() {
        let two = 2.0f64.to_bits();
        let rne = sqrt(Fmt::D, two, RNE);
        assert_eq!(
            rne,
            FpOut {
                val: 2f64.sqrt().to_bits(),
                flags: NX
            }
        );
        let up = sqrt(Fmt::D, two, Round::TowardPositive).val;
        let down = sqrt(Fmt::D, two, Round::TowardZero).val;
        assert_eq!(up - down, 1, "directed results bracket the root");
        assert_eq!(
            sqrt(Fmt::D, 4.0f64.to_bits(), Round::TowardZero),
            FpOut {
                val: 2.0f64.to_bits(),
                flags: 0
            }
        );
        assert_eq!(
            sqrt(Fmt::S, (-1.0f32).to_bits() as u64, RNE),
            FpOut {
                val: 0x7fc0_0000,
                flags: NV
            }
        );
        assert_eq!(sqrt(Fmt::S, 0x8000_0000, RNE).val, 0x8000_0000);
        // Smallest subnormal double.
        let r = sqrt(Fmt::D, 1, RNE);
        assert_eq!(r.val, f64::from_bits(1).sqrt().to_bits());
        let h = sqrt(Fmt::H, 0x4000, RNE); // sqrt(2) in half
        assert_eq!(
            h,
            FpOut {
                val: 0x3da8,
                flags: NX
            }
        );
    }

    #[test]
    fn classes() {
        assert_eq!(classify(Fmt::S, f32::NEG_INFINITY.to_bits() as u64), 1 << 0);
        assert_eq!(classify(Fmt::S, 0x8000_0000), 1 << 3);
        assert_eq!(classify(Fmt::S, 1), 1 << 5);
        assert_eq!(classify(Fmt::S, 0x7f80_0001), 1 << 8);
        assert_eq!(classify(Fmt::D, f64::NAN.to_bits()), 1 << 9);
        assert_eq!(classify(Fmt::H, 0x3c00), 1 << 6);
    }

    #[test]
    fn overflow_flag_when_clamped() {
        // -2^31 / 2^-148 overflows; toward zero it gives -MAX with OF|NX (as softfloat does).
        let r = arith(Fmt::S, Arith::Div, 0xcefffdf0, 2, 0, Round::TowardZero);
        assert_eq!(
            r,
            FpOut {
                val: 0xff7f_ffff,
                flags: OF | NX
            }
        );
        // MAX + 1ulp/4 toward zero is MAX without overflow: the unbounded result is MAX.
        let max = f32::MAX.to_bits() as u64;
        let quarter = (2.0f32).powi(127 - 25).to_bits() as u64;
        assert_eq!(
            arith(Fmt::S, Arith::Add, max, quarter, 0, Round::TowardZero),
            FpOut {
                val: max,
                flags: NX
            }
        );
        // 70000 to half, toward zero: MAX_HALF with overflow.
        assert_eq!(
            from_int(Fmt::H, 70000, IntKind::W, Round::TowardZero),
            FpOut {
                val: 0x7bff,
                flags: OF | NX
            }
        );
        assert_eq!(
            convert(Fmt::D, Fmt::S, f64::MAX.to_bits(), Round::TowardZero),
            FpOut {
                val: max,
                flags: OF | NX
            }
        );
    }

    #[test]
    fn underflow_after_rounding() {
        // Smallest normal * 0.5 (exact subnormal): no flags.
        let min = f32::MIN_POSITIVE.to_bits() as u64;
        let half = 0.5f32.to_bits() as u64;
        assert_eq!(arith(Fmt::S, Arith::Mul, min, half, 0, RNE).flags, 0);
        // Smallest subnormal * 0.5: rounds to zero, inexact and underflow.
        assert_eq!(arith(Fmt::S, Arith::Mul, 1, half, 0, RNE).flags, UF | NX);
    }
}
