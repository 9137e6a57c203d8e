//! Conversions: float to integer (saturating, with RISC-V's NaN and overflow results),
//! integer to float, and between formats.

use super::*;

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
