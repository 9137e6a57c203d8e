//! Physical memory protection: 16 entries, OFF/TOR/NA4/NAPOT, the lock bit, and the
//! lowest-numbered-match rule.

use crate::hart::Hart;
use crate::trap::Access;
use crate::types::Priv;

const R: u8 = 1;
const W: u8 = 2;
const X: u8 = 4;
const L: u8 = 0x80;

impl Hart {
    /// The byte range `[lo, hi)` entry `i` covers, or `None` when it is off.
    fn pmp_range(&self, i: usize) -> Option<(u64, u64)> {
        let cfg = self.csr.pmpcfg[i];
        let addr = self.csr.pmpaddr[i];
        match (cfg >> 3) & 3 {
            0 => None,
            1 => {
                let lo = if i == 0 {
                    0
                } else {
                    self.csr.pmpaddr[i - 1] << 2
                };
                Some((lo, addr << 2))
            }
            // An address register holds at most 54 bits (WARL), but one set past that (a
            // test, a state restored from elsewhere) must not overflow: clamp to the top.
            2 => Some((addr << 2, (addr << 2).saturating_add(4))),
            _ => {
                let t = addr.trailing_ones();
                if t >= 62 {
                    return Some((0, u64::MAX));
                }
                let size = 8u64 << t;
                let base = (addr << 2) & !(size - 1);
                Some((base, base.saturating_add(size)))
            }
        }
    }

    /// Whether an access of `size` bytes at physical `pa` is allowed for privilege `prv`.
    pub fn pmp_allows(&self, pa: u64, size: u64, access: Access, prv: Priv) -> bool {
        // No entry is active (A = OFF everywhere): only M-mode may access.
        if u128::from_le_bytes(self.csr.pmpcfg) & 0x1818_1818_1818_1818_1818_1818_1818_1818 == 0 {
            return prv == Priv::M;
        }
        let end = pa.saturating_add(size);
        for i in 0..16 {
            let Some((lo, hi)) = self.pmp_range(i) else {
                continue;
            };
            if end <= lo || pa >= hi {
                continue;
            }
            if pa < lo || end > hi {
                return false; // matches only part of the access
            }
            let cfg = self.csr.pmpcfg[i];
            if prv == Priv::M && cfg & L == 0 {
                return true;
            }
            let need = match access {
                Access::Fetch => X,
                Access::Load => R,
                Access::Store => W,
            };
            return cfg & need != 0;
        }
        prv == Priv::M
    }
}
