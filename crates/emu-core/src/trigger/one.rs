//! One trigger: its registers in XLEN-independent form, `tdata1` as each type lays it out,
//! and the match rules (match types, sizes, address or data select, privilege and context
//! conditions). The module around it keeps the triggers and applies chains and timing.

use emu_isa::Xlen;

use super::{Context, Event, ty};
use crate::types::Priv;

/// One trigger's registers, kept in XLEN-independent form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// `tdata1.type`.
    pub ty: u8,
    /// `tdata1.dmode`: only Debug Mode may write this trigger.
    pub dmode: bool,
    /// The type-specific fields anchored at bit 0 (all below bit 27, the same on both
    /// XLENs), plus [`TOP_HIT`] for the `hit` bit itrigger, etrigger and tmexttrigger keep
    /// just below `dmode` (mcontrol's read-only `maskmax` there is not stored).
    pub data: u64,
    /// `tdata2`.
    pub tdata2: u64,
    /// `tdata3` (`textra`).
    pub tdata3: u64,
}

/// Where [`Trigger::data`] keeps the `hit` bit that `tdata1` shows at XLEN-6.
pub const TOP_HIT: u64 = 1 << 58;
/// mcontrol's `maskmax` (XLEN-6:XLEN-11, read-only): any NAPOT size is supported.
const MASKMAX: u64 = 63;
/// Bits of `tdata1` holding bottom-anchored fields.
pub(super) const LOW: u64 = (1 << 27) - 1;

impl Default for Trigger {
    /// An mcontrol6 trigger with nothing enabled: what OpenOCD and GDB look for, and what
    /// writing 0 to `tdata1` leaves.
    fn default() -> Self {
        Trigger {
            ty: ty::MCONTROL6,
            dmode: false,
            data: 0,
            tdata2: 0,
            tdata3: 0,
        }
    }
}

/// `bits` bits of `v` from bit `lo`.
pub(crate) fn field(v: u64, lo: u32, bits: u32) -> u64 {
    (v >> lo) & ((1 << bits) - 1)
}

impl Trigger {
    /// `tdata1` as read at `xlen`.
    pub fn tdata1(&self, xlen: Xlen) -> u64 {
        let n = xlen.bits();
        let mut v = (self.ty as u64) << (n - 4) | (self.dmode as u64) << (n - 5);
        v |= self.data & LOW;
        if self.data & TOP_HIT != 0 {
            v |= 1 << (n - 6);
        }
        if self.ty == ty::MCONTROL {
            v |= MASKMAX << (n - 11);
        }
        v
    }

    /// The action field (0 breakpoint, 1 Debug Mode, ...), wherever the type keeps it.
    pub fn action(&self) -> u64 {
        match self.ty {
            ty::MCONTROL | ty::MCONTROL6 => field(self.data, 12, 4),
            _ => field(self.data, 0, 6),
        }
    }

    /// Whether the trigger chains to the next (an address/data trigger with `chain` set).
    pub fn chains(&self) -> bool {
        matches!(self.ty, ty::MCONTROL | ty::MCONTROL6) && self.data >> 11 & 1 != 0
    }

    /// Whether the trigger takes no part in matching: it cannot match, and it does not
    /// chain to the next (a disarmed member of a chain still stops the chain firing).
    pub fn inert(&self) -> bool {
        !self.armed() && !self.chains()
    }

    /// The trigger can match at all (type and enable bits).
    pub fn armed(&self) -> bool {
        match self.ty {
            ty::MCONTROL | ty::MCONTROL6 => self.data & 7 != 0,
            ty::ICOUNT => field(self.data, 6, 4) & 0b1011 != 0, // m, s, u (bit 8 is pending)
            ty::ITRIGGER | ty::ETRIGGER => field(self.data, 6, 4) & 0b1011 != 0,
            ty::TMEXTTRIGGER => field(self.data, 6, 16) != 0,
            _ => false,
        }
    }

    /// Privilege bits: m, s, u (positions differ by type).
    pub fn mode_enabled(&self, prv: Priv) -> bool {
        let (m, s, u) = match self.ty {
            ty::MCONTROL | ty::MCONTROL6 => (6, 4, 3),
            ty::ICOUNT | ty::ITRIGGER | ty::ETRIGGER => (9, 7, 6),
            _ => return true,
        };
        let bit = match prv {
            Priv::M => m,
            Priv::S => s,
            Priv::U => u,
        };
        self.data >> bit & 1 != 0
    }

    /// Whether the address/data trigger matches `event` (ignoring chains).
    pub(super) fn matches_access(&self, e: &Event, xlen: Xlen) -> bool {
        let d = self.data;
        let (kind_bit, addr, size, value) = match *e {
            Event::Execute { pc, len, bits } => (2, pc, len, bits),
            Event::Store { addr, size, value } => (1, addr, size, Some(value)),
            Event::Load { addr, size, value } => (0, addr, size, value),
        };
        if d >> kind_bit & 1 == 0 {
            return false;
        }
        let (select, size_field) = if self.ty == ty::MCONTROL {
            (d >> 19 & 1, field(d, 21, 2) << 2 | field(d, 16, 2))
        } else {
            (d >> 21 & 1, field(d, 16, 3))
        };
        // Sizes in bytes by encoding; mcontrol and mcontrol6 agree up to 64 bits.
        let want = match size_field {
            0 => None,
            1 => Some(1),
            2 => Some(2),
            3 => Some(4),
            4 => Some(6),
            5 => Some(8),
            _ => Some(16),
        };
        if want.is_some_and(|w| w != size) {
            return false;
        }
        let mtype = field(d, 7, 4);
        let mask = match xlen {
            Xlen::X32 => 0xffff_ffff,
            Xlen::X64 => u64::MAX,
        };
        if select == 1 {
            // Data: exactly one compare value, reduced to the access size.
            let Some(v) = value else { return false };
            let bits = (8 * size).min(xlen.bits() as u64);
            let m = if bits >= 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            compare(mtype, self.tdata2 & m, v & m, xlen)
        } else {
            (0..size).any(|k| compare(mtype, self.tdata2 & mask, addr.wrapping_add(k) & mask, xlen))
        }
    }

    /// The addresses this address/data trigger can match, as an inclusive range (`None`:
    /// not an armed address/data trigger). Conservative: data-value compares, negated and
    /// masked matches cover every address. Engines use it to decide where to look.
    pub fn coverage(&self, xlen: Xlen) -> Option<(u64, u64)> {
        if !matches!(self.ty, ty::MCONTROL | ty::MCONTROL6) || !self.armed() {
            return None;
        }
        let all = Some((0, xmask(xlen)));
        let select = if self.ty == ty::MCONTROL {
            self.data >> 19 & 1
        } else {
            self.data >> 21 & 1
        };
        if select == 1 {
            return all;
        }
        let t2 = self.tdata2 & xmask(xlen);
        match field(self.data, 7, 4) {
            0 => Some((t2, t2)),
            1 => {
                let ones = t2.trailing_ones();
                if ones + 1 >= xlen.bits() {
                    return all;
                }
                let size = 1u64 << (ones + 1);
                let base = t2 & !(size - 1);
                Some((base, base + (size - 1)))
            }
            2 => Some((t2, xmask(xlen))),
            3 if t2 == 0 => None,
            3 => Some((0, t2 - 1)),
            _ => all,
        }
    }

    /// Which kinds of access the address/data trigger watches: (execute, store, load).
    pub fn kinds(&self) -> (bool, bool, bool) {
        if !matches!(self.ty, ty::MCONTROL | ty::MCONTROL6) {
            return (false, false, false);
        }
        (self.data & 4 != 0, self.data & 2 != 0, self.data & 1 != 0)
    }

    /// `textra` (tdata3) conditions on mcontext, scontext and the ASID.
    pub(crate) fn context_matches(
        &self,
        ctx: &Context,
        mcontext: u64,
        scontext: u64,
        xlen: Xlen,
    ) -> bool {
        let t = self.tdata3;
        let (mhvalue, mhselect, sbytemask, svalue, sselect) = match xlen {
            Xlen::X32 => (
                field(t, 26, 6),
                field(t, 23, 3),
                field(t, 18, 2),
                field(t, 2, 16),
                field(t, 0, 2),
            ),
            Xlen::X64 => (
                field(t, 51, 13),
                field(t, 48, 3),
                field(t, 36, 4),
                field(t, 2, 32),
                field(t, 0, 2),
            ),
        };
        let mh_ok = match mhselect {
            4 => mcontext == mhvalue,
            _ => true,
        };
        let s_ok = match sselect {
            1 => (0..4)
                .all(|b| sbytemask >> b & 1 != 0 || (scontext ^ svalue) >> (8 * b) & 0xff == 0),
            2 => ctx.asid == svalue,
            _ => true,
        };
        mh_ok && s_ok
    }
}

/// One match-type comparison of `value` against `tdata2`.
pub(super) fn compare(mtype: u64, tdata2: u64, value: u64, xlen: Xlen) -> bool {
    let half = xlen.bits() / 2;
    let low = (1u64 << half) - 1;
    let base = match mtype & 7 {
        0 => value == tdata2,
        1 => {
            // The top bits above the lowest 0 of tdata2 must agree.
            let ones = tdata2.trailing_ones();
            let care = if ones + 1 >= 64 {
                0
            } else {
                !0u64 << (ones + 1)
            };
            (value ^ tdata2) & care & xmask(xlen) == 0
        }
        2 => value >= tdata2,
        3 => value < tdata2,
        4 => (value & low & (tdata2 >> half)) == tdata2 & low,
        5 => ((value >> half) & low & (tdata2 >> half)) == tdata2 & low,
        _ => false,
    };
    if mtype & 8 != 0 { !base } else { base }
}

pub(super) fn xmask(xlen: Xlen) -> u64 {
    match xlen {
        Xlen::X32 => 0xffff_ffff,
        Xlen::X64 => u64::MAX,
    }
}
