//! Decoder properties: total (never panics), canonical (encode inverts decode), and a table of
//! known encodings with their objdump text.

use emu_isa::{Inst, Op, Xlen, decode, decode32, disasm, encode32};
use proptest::prelude::*;

const XLENS: [Xlen; 2] = [Xlen::X32, Xlen::X64];

/// Every 16-bit parcel decodes (to an instruction or to illegal) on both widths, and each legal
/// one re-encodes as a 32-bit word that decodes to the same instruction.
#[test]
fn all_compressed_halfwords() {
    for xlen in XLENS {
        let mut legal = 0;
        for h in 0..=u16::MAX {
            if h & 3 == 3 {
                continue;
            }
            let i = decode(h, 0, xlen);
            assert_eq!(i.len, 2, "{h:#06x}");
            if i.is_illegal() {
                continue;
            }
            legal += 1;
            let w = encode32(&i, xlen).unwrap_or_else(|e| panic!("{h:#06x} {i:?}: {e:?}"));
            let back = decode32(w, xlen);
            assert_eq!(back, Inst { len: 4, ..i }, "{h:#06x} -> {w:#010x}");
        }
        // 3/4 of the space minus the reserved encodings; both widths have tens of thousands.
        assert!(
            legal > 40_000,
            "{xlen:?}: only {legal} legal compressed parcels"
        );
        let rows = emu_isa::table::rows()
            .filter(|r| r.width.allows(xlen))
            .count();
        eprintln!(
            "{xlen:?}: {legal} legal 16-bit parcels, {rows} 32-bit encodings, {} operations",
            Op::ALL.len()
        );
    }
    assert!(
        decode(0, 0, Xlen::X64).is_illegal(),
        "the all-zero parcel is defined illegal"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]
    /// Any 32-bit word decodes without panicking; a legal one is canonical: encoding it and
    /// decoding again gives the same instruction.
    #[test]
    fn any_word_decodes(w in any::<u32>()) {
        for xlen in XLENS {
            let i = decode32(w | 3, xlen);
            if !i.is_illegal() {
                let e = encode32(&i, xlen).expect("legal instruction must encode");
                prop_assert_eq!(decode32(e, xlen), i);
                let _ = disasm(&i, 0x8000_0000, xlen);
            }
        }
    }
}

/// Known words with the text objdump prints for them (binutils 2.40 spells immediate forms
/// differently; see tests/objdump.rs for the full comparison against it).
#[test]
fn known_encodings() {
    let cases: &[(u32, Xlen, &str)] = &[
        (0x0050_0513, Xlen::X64, "li\ta0,5"),
        (0x0005_8513, Xlen::X64, "mv\ta0,a1"),
        (0x0000_0013, Xlen::X64, "nop"),
        (0x0035_1513, Xlen::X64, "slli\ta0,a0,0x3"),
        (0x1234_5537, Xlen::X64, "lui\ta0,0x12345"),
        (0x0ff0_000f, Xlen::X64, "fence"),
        (0x0330_000f, Xlen::X64, "fence\trw,rw"),
        (0x8330_000f, Xlen::X64, "fence.tso"),
        (0x0100_000f, Xlen::X64, "pause"),
        (0x0000_100f, Xlen::X64, "fence.i"),
        (0x3000_2573, Xlen::X64, "csrr\ta0,mstatus"),
        (0x3005_1073, Xlen::X64, "csrw\tmstatus,a0"),
        (0x3004_5073, Xlen::X64, "csrwi\tmstatus,8"),
        (0x7c05_9573, Xlen::X64, "csrrw\ta0,0x7c0,a1"),
        (0xc000_2573, Xlen::X64, "rdcycle\ta0"),
        (0x00c5_f553, Xlen::X64, "fadd.s\tfa0,fa1,fa2"),
        (0x00c5_8553, Xlen::X64, "fadd.s\tfa0,fa1,fa2,rne"),
        (0x4205_8553, Xlen::X64, "fcvt.d.s\tfa0,fa1"),
        (0xc005_9553, Xlen::X64, "fcvt.w.s\ta0,fa1,rtz"),
        (0x22b5_8553, Xlen::X64, "fmv.d\tfa0,fa1"),
        (0x06b6_252f, Xlen::X64, "amoadd.w.aqrl\ta0,a1,(a2)"),
        (0x1405_a52f, Xlen::X64, "lr.w.aq\ta0,(a1)"),
        (0x18b6_352f, Xlen::X64, "sc.d\ta0,a1,(a2)"),
        (0x0005_00e7, Xlen::X64, "jalr\ta0"),
        (0x0085_02e7, Xlen::X64, "jalr\tt0,8(a0)"),
        (0x0000_8067, Xlen::X64, "ret"),
        (0x0805_c53b, Xlen::X64, "zext.h\ta0,a1"),
        (0x0805_c533, Xlen::X32, "zext.h\ta0,a1"),
        (0x6b85_d513, Xlen::X64, "rev8\ta0,a1"),
        (0x6035_d513, Xlen::X64, "rori\ta0,a1,0x3"),
        (0x6ac5_f543, Xlen::X64, "fmadd.d\tfa0,fa1,fa2,fa3"),
        (0xfea1_3c27, Xlen::X64, "fsd\tfa0,-8(sp)"),
        (
            0x0e00_5533 | (12 << 20) | (11 << 15),
            Xlen::X64,
            "czero.eqz\ta0,a1,a2",
        ),
        (0x7b20_0073, Xlen::X64, "dret"),
    ];
    for &(w, xlen, text) in cases {
        let i = decode32(w, xlen);
        assert_eq!(disasm(&i, 0, xlen), text, "{w:#010x}");
        assert_eq!(encode32(&i, xlen), Ok(w), "{w:#010x} re-encodes");
    }
}

/// Encodings that exist on one width only.
#[test]
fn width_specific() {
    // ld / addiw / slli with shamt 32 are RV64 only.
    for w in [0xff81_3503u32, 0x0055_851b, 0x0205_1513] {
        assert!(decode32(w, Xlen::X32).is_illegal(), "{w:#x} on RV32");
        assert!(!decode32(w, Xlen::X64).is_illegal(), "{w:#x} on RV64");
    }
    // c.jal (RV32) vs c.addiw (RV64).
    assert_eq!(decode(0x2505, 0, Xlen::X32).op, Op::Jal);
    assert_eq!(decode(0x2505, 0, Xlen::X64).op, Op::Addiw);
    // fmv.x.d is RV64 only.
    assert!(decode32(0xe205_0553, Xlen::X32).is_illegal());
    assert_eq!(decode32(0xe205_0553, Xlen::X64).op, Op::FmvXF);
}
