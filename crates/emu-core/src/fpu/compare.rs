//! Comparisons and the operations built on them: `fmin`/`fmax`, `feq`/`flt`/`fle`,
//! `fclass`, and sign injection.

use super::*;

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
