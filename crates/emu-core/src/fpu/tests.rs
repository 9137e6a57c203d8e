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
