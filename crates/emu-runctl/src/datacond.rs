//! Conditions on the value a watched access moves, as Sdtrig data triggers (`mcontrol`
//! with `select` = 1) chained after a watchpoint's address triggers: the chain fires only
//! when the address and the value both match one access.
//!
//! What the hardware compares decides what can be asked: one value (`match` equal or not
//! equal), one value with its low bits ignored (NAPOT, or not NAPOT), or a range of values
//! (`>=` chained to `<`; a range cannot be negated, as a chain is an AND). The Debug
//! Specification reduces the value and `tdata2` to the access's size before comparing, so
//! a 1-byte store of 5 matches a condition of 0x105; a size condition rules that out.

use emu_isa::Xlen;

use crate::error::{RcError, Result};

/// A condition on the value a watched load or store moves, for
/// [`crate::RunControl::add_watchpoint_if`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataCond {
    /// The lowest value that matches.
    pub lo: u64,
    /// The highest value that matches (`lo` for one value).
    pub hi: u64,
    /// Value bits that take no part: 0, or the low `k` bits (`2^k - 1`), for one value.
    pub ignore: u64,
    /// Stop when the value does not match instead (one value only).
    pub negate: bool,
    /// The access size in bytes, 1, 2, 4 or 8; 0 for any.
    pub size: u8,
}

impl DataCond {
    /// Any access whose value is `v`.
    pub fn equals(v: u64) -> DataCond {
        DataCond {
            lo: v,
            hi: v,
            ignore: 0,
            negate: false,
            size: 0,
        }
    }

    /// The condition in words: `value == 5`, `value & !0xff == 0x1200`,
    /// `10 <= value <= 12`, with `, 8-byte accesses` for a size.
    pub fn describe(&self) -> String {
        let not = if self.negate { "!=" } else { "==" };
        let mut s = if self.lo != self.hi {
            format!("{:#x} <= value <= {:#x}", self.lo, self.hi)
        } else if self.ignore != 0 {
            format!(
                "value & !{:#x} {not} {:#x}",
                self.ignore,
                self.lo & !self.ignore
            )
        } else {
            format!("value {not} {:#x}", self.lo)
        };
        if self.size != 0 {
            s += &format!(", {}-byte accesses", self.size);
        }
        s
    }
}

/// `mcontrol.select`: compare the data, not the address.
const SELECT: u64 = 1 << 19;

/// The data triggers for `c`: `(match, tdata2, tdata1 bits)` each, to chain after the
/// address triggers (the caller adds the kinds, action, chain and timing).
pub(crate) fn parts(c: &DataCond, xlen: Xlen) -> Result<Vec<(u64, u64, u64)>> {
    // mcontrol's size: sizelo in bits 17:16, and on RV64 sizehi in 22:21 (8 bytes is
    // 0b0101); RV32's mcontrol cannot say 8 bytes.
    let size = match (c.size, xlen) {
        (0, _) => 0,
        (1, _) => 1 << 16,
        (2, _) => 2 << 16,
        (4, _) => 3 << 16,
        (8, Xlen::X64) => 1 << 21 | 1 << 16,
        (8, Xlen::X32) => {
            return Err(RcError::Unsupported(
                "an RV32 hart's mcontrol has no size code for 8 bytes",
            ));
        }
        _ => {
            return Err(RcError::Unsupported(
                "a data size of 1, 2, 4 or 8 bytes, or 0",
            ));
        }
    };
    let bits = SELECT | size;
    let not = if c.negate { 8 } else { 0 };
    if c.hi < c.lo {
        return Err(RcError::Unsupported("an empty range of values"));
    }
    if c.lo == c.hi {
        return match c.ignore {
            0 => Ok(vec![(not, c.lo, bits)]),
            m if m != u64::MAX && (m + 1).is_power_of_two() => {
                // NAPOT compares the bits above the lowest 0 of tdata2.
                Ok(vec![(not | 1, c.lo & !m | m >> 1, bits)])
            }
            _ => Err(RcError::Unsupported(
                "ignored value bits must be the lowest ones (a mask 2^k - 1)",
            )),
        };
    }
    if c.ignore != 0 || c.negate {
        return Err(RcError::Unsupported(
            "a range of values cannot ignore bits or be negated",
        ));
    }
    Ok(match c.hi.checked_add(1) {
        Some(end) => vec![(2, c.lo, bits), (3, end, bits)],
        None => vec![(2, c.lo, bits)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(lo: u64, hi: u64, ignore: u64, negate: bool, size: u8) -> DataCond {
        DataCond {
            lo,
            hi,
            ignore,
            negate,
            size,
        }
    }

    #[test]
    fn conditions_map_to_data_triggers() {
        type Row = (DataCond, Option<Vec<(u64, u64, u64)>>);
        let rows: Vec<Row> = vec![
            (DataCond::equals(7), Some(vec![(0, 7, SELECT)])),
            (c(7, 7, 0, true, 0), Some(vec![(8, 7, SELECT)])),
            (c(7, 7, 0, false, 1), Some(vec![(0, 7, SELECT | 1 << 16)])),
            (c(7, 7, 0, false, 4), Some(vec![(0, 7, SELECT | 3 << 16)])),
            (
                c(7, 7, 0, false, 8),
                Some(vec![(0, 7, SELECT | 1 << 21 | 1 << 16)]),
            ),
            (c(7, 7, 0, false, 3), None),
            // 0x12345600..=0x123456ff: NAPOT with the low 7 bits set.
            (
                c(0x1234_5678, 0x1234_5678, 0xff, false, 0),
                Some(vec![(1, 0x1234_567f, SELECT)]),
            ),
            (
                c(0x1234_5678, 0x1234_5678, 0xff, true, 0),
                Some(vec![(9, 0x1234_567f, SELECT)]),
            ),
            (c(5, 5, 1, false, 0), Some(vec![(1, 4, SELECT)])),
            (c(5, 5, 0xf0, false, 0), None),
            (c(5, 5, u64::MAX, false, 0), None),
            (
                c(10, 20, 0, false, 2),
                Some(vec![(2, 10, SELECT | 2 << 16), (3, 21, SELECT | 2 << 16)]),
            ),
            (c(10, u64::MAX, 0, false, 0), Some(vec![(2, 10, SELECT)])),
            (c(10, 20, 0, true, 0), None),
            (c(10, 20, 1, false, 0), None),
            (c(20, 10, 0, false, 0), None),
        ];
        for (cond, want) in rows {
            assert_eq!(parts(&cond, Xlen::X64).ok(), want, "{cond:?}");
        }
        // RV32: the same but for 8 bytes, which its mcontrol cannot encode.
        assert_eq!(
            parts(&c(7, 7, 0, false, 4), Xlen::X32).ok(),
            Some(vec![(0, 7, SELECT | 3 << 16)])
        );
        assert!(parts(&c(7, 7, 0, false, 8), Xlen::X32).is_err());
    }

    #[test]
    fn conditions_in_words() {
        let rows = [
            (DataCond::equals(5), "value == 0x5"),
            (c(5, 5, 0, true, 0), "value != 0x5"),
            (c(0x1234, 0x1234, 0xff, false, 0), "value & !0xff == 0x1200"),
            (
                c(10, 12, 0, false, 8),
                "0xa <= value <= 0xc, 8-byte accesses",
            ),
        ];
        for (cond, want) in rows {
            assert_eq!(cond.describe(), want);
        }
    }
}
