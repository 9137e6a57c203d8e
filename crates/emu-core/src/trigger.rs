//! Sdtrig's Trigger Module (Debug Specification 1.0, chapter 5): the trigger registers with
//! their WARL rules (`tselect`, `tdata1..3` in every type's layout, `tinfo`, `tcontrol`,
//! `mcontext`/`scontext`) and the matching rules (match types, sizes, address or data
//! select, chains, privilege and context conditions).
//!
//! This module is the model: it legalises writes and answers "which triggers fire for this
//! event". Wiring it to the CSR numbers and to the engines (where an instruction, a load or a
//! store asks it) is separate, so the rules can be tested as tables.

use emu_isa::Xlen;

use crate::types::Priv;

/// Trigger types (`tdata1.type`).
pub mod ty {
    /// Address/data match, the original layout.
    pub const MCONTROL: u8 = 2;
    /// Instruction count.
    pub const ICOUNT: u8 = 3;
    /// Interrupt.
    pub const ITRIGGER: u8 = 4;
    /// Exception.
    pub const ETRIGGER: u8 = 5;
    /// Address/data match, the 1.0 layout.
    pub const MCONTROL6: u8 = 6;
    /// External trigger input.
    pub const TMEXTTRIGGER: u8 = 7;
    /// Exists, but disabled.
    pub const DISABLED: u8 = 15;
}

/// The types every trigger supports (`tinfo.info`).
pub const TINFO_TYPES: u64 = 1 << ty::MCONTROL
    | 1 << ty::ICOUNT
    | 1 << ty::ITRIGGER
    | 1 << ty::ETRIGGER
    | 1 << ty::MCONTROL6
    | 1 << ty::TMEXTTRIGGER
    | 1 << ty::DISABLED;
/// `tinfo.version`: 1 is the Debug Specification 1.0.
pub const TINFO_VERSION: u64 = 1 << 24;

/// Match types (`match`) that exist.
const MATCHES: [u64; 10] = [0, 1, 2, 3, 4, 5, 8, 9, 12, 13];

/// What the hart did, as the match rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Executing the instruction at `pc`, `len` bytes long, with encoding `bits`.
    Execute {
        /// Address.
        pc: u64,
        /// 2 or 4.
        len: u64,
        /// The instruction's bits (data triggers on execution compare these); `None` when
        /// the fetch faults (address triggers still fire, ahead of the fetch fault).
        bits: Option<u64>,
    },
    /// A load of `size` bytes from `addr` (with the value, for data triggers).
    Load {
        /// Effective (virtual) address.
        addr: u64,
        /// Bytes.
        size: u64,
        /// The value loaded (known only after the access).
        value: Option<u64>,
    },
    /// A store of `size` bytes of `value` to `addr`.
    Store {
        /// Effective (virtual) address.
        addr: u64,
        /// Bytes.
        size: u64,
        /// The value stored.
        value: u64,
    },
}

/// Where the hart is, for the privilege and context conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// Privilege mode.
    pub prv: Priv,
    /// In Debug Mode (nothing fires).
    pub debug_mode: bool,
    /// `mstatus.SIE` (with `bp_delegated`: the S-mode re-entrancy rule for action 0).
    pub sie: bool,
    /// Breakpoint exceptions are delegated to S-mode.
    pub bp_delegated: bool,
    /// `satp.ASID`, for `textra.sselect` = 2.
    pub asid: u64,
}

/// What firing triggers ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fire {
    /// Some trigger with action 1 fired: enter Debug Mode.
    pub debug: bool,
    /// Some trigger with action 0 fired: raise a breakpoint exception.
    pub breakpoint: bool,
    /// The triggers that fired (bit per index).
    pub hits: u64,
    /// `tval` for the breakpoint: the matching address (0 for data matches).
    pub tval: u64,
}

impl Fire {
    /// Nothing fired.
    pub fn none(&self) -> bool {
        self.hits == 0
    }

    /// Trigger `i` with `action` fired (0: breakpoint, 1: Debug Mode; others affect
    /// nothing here).
    pub fn add(&mut self, i: usize, action: u64) {
        self.hits |= 1 << i;
        match action {
            1 => self.debug = true,
            0 => self.breakpoint = true,
            _ => {}
        }
    }
}

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
const LOW: u64 = (1 << 27) - 1;

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
    fn matches_access(&self, e: &Event, xlen: Xlen) -> bool {
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
fn compare(mtype: u64, tdata2: u64, value: u64, xlen: Xlen) -> bool {
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

fn xmask(xlen: Xlen) -> u64 {
    match xlen {
        Xlen::X32 => 0xffff_ffff,
        Xlen::X64 => u64::MAX,
    }
}

/// The Trigger Module of one hart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triggers {
    /// The triggers.
    pub t: Vec<Trigger>,
    /// `tselect`.
    pub select: usize,
    /// `tcontrol` (mte, mpte).
    pub tcontrol: u64,
    /// `mcontext` (hcontext bits).
    pub mcontext: u64,
    /// `scontext`.
    pub scontext: u64,
}

/// `tcontrol.mte`.
pub const MTE: u64 = 1 << 3;
/// `tcontrol.mpte`.
pub const MPTE: u64 = 1 << 7;

impl Triggers {
    /// `n` triggers, all mcontrol6 with nothing enabled.
    pub fn new(n: usize) -> Triggers {
        Triggers {
            t: vec![Trigger::default(); n],
            select: 0,
            tcontrol: 0,
            mcontext: 0,
            scontext: 0,
        }
    }

    /// Any trigger armed at all (engines skip every check when none is).
    pub fn any_armed(&self) -> bool {
        self.t.iter().any(Trigger::armed)
    }

    /// Write `tselect`: an index beyond the last trigger keeps the old value (so the
    /// enumeration in the spec stops there).
    pub fn write_select(&mut self, v: u64) {
        if v < self.t.len() as u64 {
            self.select = v as usize;
        }
    }

    /// Write `tdata1` of the selected trigger with every WARL rule. `debug_mode`: the write
    /// comes from Debug Mode; `has_s`/`has_u`: the hart's modes.
    pub fn write_tdata1(&mut self, v: u64, xlen: Xlen, debug_mode: bool, has_s: bool, has_u: bool) {
        let i = self.select;
        let Some(&cur) = self.t.get(i) else { return };
        if cur.dmode && !debug_mode {
            return; // only Debug Mode may change a dmode trigger
        }
        let n = xlen.bits();
        let v = v & xmask(xlen);
        let mut new_ty = (v >> (n - 4)) as u8;
        let mut dmode = v >> (n - 5) & 1 != 0 && debug_mode;
        let low = v & LOW;
        let top_hit = if v >> (n - 6) & 1 != 0 { TOP_HIT } else { 0 };
        // A dmode trigger after a chaining non-dmode trigger would let M-mode code steer it.
        if dmode && i > 0 && !self.t[i - 1].dmode && self.chain_bit(i - 1) {
            return;
        }
        if !matches!(
            new_ty,
            ty::MCONTROL
                | ty::ICOUNT
                | ty::ITRIGGER
                | ty::ETRIGGER
                | ty::MCONTROL6
                | ty::TMEXTTRIGGER
                | ty::DISABLED
        ) {
            // 0 (and anything unsupported) leaves a disabled mcontrol6.
            new_ty = ty::MCONTROL6;
            dmode = dmode && v != 0;
            self.t[i] = Trigger {
                ty: new_ty,
                dmode,
                data: 0,
                ..cur
            };
            return;
        }
        let action = |a: u64| if a == 1 && dmode { 1 } else { 0 };
        let modes = |m: u64, s: u64, u: u64| {
            let mut keep = 1 << m;
            if has_s {
                keep |= 1 << s;
            }
            if has_u {
                keep |= 1 << u;
            }
            keep
        };
        let legal_match = |m: u64| if MATCHES.contains(&m) { m } else { 0 };
        let next_dmode = self.t.get(i + 1).is_some_and(|t| t.dmode);
        let chain = |c: u64| if !dmode && next_dmode { 0 } else { c };
        let data = match new_ty {
            ty::MCONTROL => {
                let size = if xlen == Xlen::X64 {
                    field(low, 21, 2) << 2 | field(low, 16, 2)
                } else {
                    field(low, 16, 2)
                };
                let size = if size <= 5 { size } else { 0 };
                (size >> 2) << 21
                    | (low & (1 << 20 | 1 << 19 | 1 << 18))
                    | (size & 3) << 16
                    | action(field(low, 12, 4)) << 12
                    | chain(field(low, 11, 1)) << 11
                    | legal_match(field(low, 7, 4)) << 7
                    | low & (modes(6, 4, 3) | 7)
            }
            ty::MCONTROL6 => {
                let size = field(low, 16, 3);
                let size = if size <= 5 { size } else { 0 };
                (low & (1 << 25 | 1 << 22 | 1 << 21))
                    | size << 16
                    | action(field(low, 12, 4)) << 12
                    | chain(field(low, 11, 1)) << 11
                    | legal_match(field(low, 7, 4)) << 7
                    | low & (modes(6, 4, 3) | 7)
            }
            ty::ICOUNT => {
                (low & (1 << 24 | 0x3fff << 10 | 1 << 8))
                    | low & modes(9, 7, 6)
                    | action(low & 0x3f)
            }
            ty::ITRIGGER | ty::ETRIGGER => top_hit | low & modes(9, 7, 6) | action(low & 0x3f),
            ty::TMEXTTRIGGER => top_hit | (low & (1 << 22 | 0xffff << 6)) | action(low & 0x3f),
            _ => 0,
        };
        self.t[i] = Trigger {
            ty: new_ty,
            dmode,
            data,
            ..cur
        };
    }

    fn chain_bit(&self, i: usize) -> bool {
        let t = &self.t[i];
        matches!(t.ty, ty::MCONTROL | ty::MCONTROL6) && t.data >> 11 & 1 != 0
    }

    /// Write `tdata2`/`tdata3` of the selected trigger (refused for a dmode trigger outside
    /// Debug Mode).
    pub fn write_tdata(&mut self, which: u8, v: u64, xlen: Xlen, debug_mode: bool) {
        let Some(t) = self.t.get_mut(self.select) else {
            return;
        };
        if t.dmode && !debug_mode {
            return;
        }
        let v = v & xmask(xlen);
        if which == 2 {
            t.tdata2 = v;
        } else {
            t.tdata3 = v;
        }
    }

    /// Which address/data triggers fire for `event` (chains, privilege, context and the
    /// re-entrancy rule for action 0 applied). `after`: evaluate the triggers that act after
    /// the event (mcontrol `timing` = 1, mcontrol6 load-data triggers), else those before.
    pub fn check(&self, e: &Event, ctx: &Context, xlen: Xlen, after: bool) -> Fire {
        let mut fire = Fire::default();
        if ctx.debug_mode {
            return fire;
        }
        let mut chain_ok = true;
        for (i, t) in self.t.iter().enumerate() {
            let addr_type = matches!(t.ty, ty::MCONTROL | ty::MCONTROL6);
            let m = addr_type
                && t.mode_enabled(ctx.prv)
                && t.context_matches(ctx, self.mcontext, self.scontext, xlen)
                && t.matches_access(e, xlen)
                && self.timing_after(t, e) == after;
            let chained = addr_type && t.data >> 11 & 1 != 0;
            if chained {
                chain_ok &= m;
                continue;
            }
            let all = chain_ok && m;
            chain_ok = true;
            if !all || !self.action_allowed(t.action(), ctx) {
                continue;
            }
            fire.hits |= 1 << i;
            match t.action() {
                1 => fire.debug = true,
                _ => {
                    fire.breakpoint = true;
                    fire.tval = match *e {
                        Event::Execute { pc, .. } => pc,
                        Event::Load { addr, .. } | Event::Store { addr, .. } => addr,
                    };
                }
            }
        }
        fire
    }

    fn timing_after(&self, t: &Trigger, e: &Event) -> bool {
        let load_data = matches!(e, Event::Load { .. }) && t.data >> 19 & 1 != 0;
        if t.ty == ty::MCONTROL {
            // A load's data exists only after the access, whatever `timing` says.
            t.data >> 18 & 1 != 0 || load_data
        } else {
            // mcontrol6 has no timing: a load's data is known only after the access.
            matches!(e, Event::Load { .. }) && t.data >> 21 & 1 != 0
        }
    }

    /// Re-entrancy: action 0 does not fire in M-mode while `tcontrol.mte` is 0, nor in
    /// S-mode with breakpoints delegated while `SIE` is 0.
    pub(crate) fn action_allowed(&self, action: u64, ctx: &Context) -> bool {
        if action != 0 {
            return true;
        }
        match ctx.prv {
            Priv::M => self.tcontrol & MTE != 0,
            Priv::S => !ctx.bp_delegated || ctx.sie,
            Priv::U => true,
        }
    }

    /// Record `fire`'s hits in the triggers' hit bits (`before`: mcontrol6's hit = 1
    /// "before", else 3 "immediately after").
    pub fn record_hits(&mut self, fire: &Fire, before: bool) {
        for (i, t) in self.t.iter_mut().enumerate() {
            if fire.hits >> i & 1 == 0 {
                continue;
            }
            match t.ty {
                ty::MCONTROL => t.data |= 1 << 20,
                ty::MCONTROL6 => {
                    let code: u64 = if before { 1 } else { 3 };
                    t.data = (t.data & !(1 << 25 | 1 << 22)) | (code >> 1) << 25 | (code & 1) << 22;
                }
                ty::ICOUNT => t.data |= 1 << 24,
                _ => t.data |= TOP_HIT,
            }
        }
    }

    /// A trap to M-mode: `tcontrol.mpte` = `mte`, `mte` = 0.
    pub fn on_trap_to_m(&mut self) {
        let mte = self.tcontrol & MTE != 0;
        self.tcontrol = if mte { MPTE } else { 0 };
    }

    /// `mret`: `tcontrol.mte` = `mpte`.
    pub fn on_mret(&mut self) {
        let mpte = self.tcontrol & MPTE != 0;
        self.tcontrol = (self.tcontrol & MPTE) | if mpte { MTE } else { 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X64: Xlen = Xlen::X64;

    fn ctx(prv: Priv) -> Context {
        Context {
            prv,
            debug_mode: false,
            sie: false,
            bp_delegated: false,
            asid: 0,
        }
    }

    /// mcontrol6 in tdata1 form: type 6, dmode, and the given low bits.
    fn m6(dmode: bool, low: u64) -> u64 {
        6 << 60 | (dmode as u64) << 59 | low
    }

    const EXEC: u64 = 1 << 2;
    const STORE: u64 = 1 << 1;
    const LOAD: u64 = 1;
    const M: u64 = 1 << 6;
    const S: u64 = 1 << 4;
    const U: u64 = 1 << 3;
    const ACTION_DEBUG: u64 = 1 << 12;

    fn armed(low: u64, tdata2: u64) -> Triggers {
        let mut t = Triggers::new(8);
        t.write_tdata(2, tdata2, X64, true);
        t.write_tdata1(m6(true, low), X64, true, true, true);
        t
    }

    fn exec(pc: u64) -> Event {
        Event::Execute {
            pc,
            len: 4,
            bits: Some(0x13),
        }
    }

    /// Every match type, against the spec's definitions (table: match, tdata2, value,
    /// matches).
    #[test]
    fn match_types() {
        let rows: &[(u64, u64, u64, bool)] = &[
            (0, 0x1000, 0x1000, true),
            (0, 0x1000, 0x1004, false),
            (8, 0x1000, 0x1004, true),
            (8, 0x1000, 0x1000, false),
            // napot: bits above the lowest 0 of tdata2 are compared, so 0x1003 is the 8
            // bytes from 0x1000 and 0x1007 the 16 bytes from 0x1000.
            (1, 0x1003, 0x1000, true),
            (1, 0x1003, 0x1007, true),
            (1, 0x1003, 0x1008, false),
            (1, 0x1007, 0x100f, true),
            (1, 0x1007, 0x1010, false),
            (9, 0x1003, 0x1008, true),
            (2, 0x1000, 0x0fff, false),
            (2, 0x1000, 0x1000, true),
            (3, 0x1000, 0x0fff, true),
            (3, 0x1000, 0x1000, false),
            // mask low: low half & mask (high half of tdata2) == low half of tdata2.
            (4, 0x0000_00ff_0000_0012, 0xabcd_0000_1234_5612, true),
            (4, 0x0000_00ff_0000_0012, 0xabcd_0000_1234_5613, false),
            (12, 0x0000_00ff_0000_0012, 0xabcd_0000_1234_5613, true),
            // mask high: high half of the value, masked, against the low half of tdata2.
            (5, 0x0000_ffff_0000_abcd, 0x0000_abcd_0000_0000, true),
            (5, 0x0000_ffff_0000_abcd, 0x0000_abce_0000_0000, false),
            (13, 0x0000_ffff_0000_abcd, 0x0000_abce_0000_0000, true),
        ];
        for &(mtype, tdata2, value, want) in rows {
            assert_eq!(
                compare(mtype, tdata2, value, X64),
                want,
                "match {mtype} tdata2 {tdata2:#x} value {value:#x}"
            );
        }
    }

    #[test]
    fn execute_breakpoint_fires_before_with_its_action() {
        let t = armed(EXEC | M | ACTION_DEBUG, 0x8000_0010);
        let f = t.check(&exec(0x8000_0010), &ctx(Priv::M), X64, false);
        assert!(f.debug && !f.breakpoint && f.hits == 1);
        assert!(
            t.check(&exec(0x8000_0014), &ctx(Priv::M), X64, false)
                .none()
        );
        // Not in U-mode (u = 0), never in Debug Mode.
        assert!(
            t.check(&exec(0x8000_0010), &ctx(Priv::U), X64, false)
                .none()
        );
        let mut dm = ctx(Priv::M);
        dm.debug_mode = true;
        assert!(t.check(&exec(0x8000_0010), &dm, X64, false).none());
    }

    #[test]
    fn any_byte_of_an_access_matches_an_address() {
        let t = armed(STORE | M | ACTION_DEBUG, 0x1003);
        let st = |addr, size| Event::Store {
            addr,
            size,
            value: 0,
        };
        assert!(!t.check(&st(0x1000, 4), &ctx(Priv::M), X64, false).none());
        assert!(t.check(&st(0x1000, 2), &ctx(Priv::M), X64, false).none());
        // A load does not match a store trigger.
        let ld = Event::Load {
            addr: 0x1003,
            size: 1,
            value: None,
        };
        assert!(t.check(&ld, &ctx(Priv::M), X64, false).none());
    }

    #[test]
    fn data_value_triggers() {
        // mcontrol6 select = 1 on loads: compared after the access, with the value.
        let t = armed(1 << 21 | LOAD | M | ACTION_DEBUG, 0x55);
        let ld = |value| Event::Load {
            addr: 0x2000,
            size: 1,
            value,
        };
        assert!(
            t.check(&ld(Some(0x55)), &ctx(Priv::M), X64, false).none(),
            "not before"
        );
        assert!(!t.check(&ld(Some(0x55)), &ctx(Priv::M), X64, true).none());
        assert!(t.check(&ld(Some(0x56)), &ctx(Priv::M), X64, true).none());
        // Compared at the access size: only the low byte of tdata2 counts.
        let t = armed(1 << 21 | LOAD | M | ACTION_DEBUG, 0xff55);
        assert!(!t.check(&ld(Some(0x55)), &ctx(Priv::M), X64, true).none());
    }

    #[test]
    fn sizes_restrict_matches() {
        // size 3 = 32-bit: a compressed instruction does not match.
        let t = armed(3 << 16 | EXEC | M | ACTION_DEBUG, 0x100);
        let c = Event::Execute {
            pc: 0x100,
            len: 2,
            bits: Some(1),
        };
        assert!(t.check(&c, &ctx(Priv::M), X64, false).none());
        assert!(!t.check(&exec(0x100), &ctx(Priv::M), X64, false).none());
    }

    #[test]
    fn chains_need_every_member() {
        let mut t = Triggers::new(8);
        // 0: store to >= 0x1000 (chain); 1: store to < 0x2000.
        t.write_tdata(2, 0x1000, X64, true);
        t.write_tdata1(
            m6(true, 1 << 11 | 2 << 7 | STORE | M | ACTION_DEBUG),
            X64,
            true,
            true,
            true,
        );
        t.write_select(1);
        t.write_tdata(2, 0x2000, X64, true);
        t.write_tdata1(
            m6(true, 3 << 7 | STORE | M | ACTION_DEBUG),
            X64,
            true,
            true,
            true,
        );
        let st = |addr| Event::Store {
            addr,
            size: 1,
            value: 0,
        };
        assert_eq!(t.check(&st(0x1800), &ctx(Priv::M), X64, false).hits, 1 << 1);
        assert!(t.check(&st(0x0800), &ctx(Priv::M), X64, false).none());
        assert!(t.check(&st(0x2800), &ctx(Priv::M), X64, false).none());
    }

    #[test]
    fn dmode_rules() {
        let mut t = Triggers::new(2);
        // Outside Debug Mode dmode cannot be set, and action 1 becomes 0.
        t.write_tdata1(m6(true, EXEC | M | ACTION_DEBUG), X64, false, true, true);
        assert_eq!(t.t[0].tdata1(X64), m6(false, EXEC | M));
        // A dmode trigger is read-only outside Debug Mode (tdata1..3).
        t.write_tdata1(m6(true, EXEC | M | ACTION_DEBUG), X64, true, true, true);
        let before = t.t[0];
        t.write_tdata1(0, X64, false, true, true);
        t.write_tdata(2, 0x1234, X64, false);
        assert_eq!(t.t[0], before);
        // Writing 0 from Debug Mode leaves a disabled mcontrol6.
        t.write_tdata1(0, X64, true, true, true);
        assert_eq!(t.t[0].tdata1(X64), 6 << 60);
        assert!(!t.any_armed());
    }

    #[test]
    fn warl_fields() {
        let mut t = Triggers::new(2);
        // Reserved match 6 and size 7 read back as 0; uncertain and uncertainen stay 0; s
        // and u vanish on a hart without them.
        t.write_tdata1(
            m6(true, 1 << 26 | 7 << 16 | 6 << 7 | 1 << 5 | M | S | U | EXEC),
            X64,
            true,
            false,
            false,
        );
        assert_eq!(t.t[0].tdata1(X64), m6(true, M | EXEC));
        // mcontrol shows maskmax 63; RV32 layout puts type in 31:28.
        t.write_tdata1(2 << 28 | 1 << 27 | EXEC | M, Xlen::X32, true, true, true);
        assert_eq!(
            t.t[0].tdata1(Xlen::X32),
            2 << 28 | 1 << 27 | 63 << 21 | EXEC | M
        );
        // tselect beyond the last trigger keeps the old value.
        t.write_select(1);
        t.write_select(2);
        assert_eq!(t.select, 1);
    }

    #[test]
    fn action0_reentrancy() {
        let mut t = armed(EXEC | M, 0x40);
        t.t[0].dmode = false;
        assert!(
            t.check(&exec(0x40), &ctx(Priv::M), X64, false).none(),
            "mte = 0"
        );
        t.tcontrol = MTE;
        let f = t.check(&exec(0x40), &ctx(Priv::M), X64, false);
        assert!(f.breakpoint && f.tval == 0x40);
        t.on_trap_to_m();
        assert_eq!(t.tcontrol, MPTE);
        t.on_mret();
        assert_eq!(t.tcontrol, MPTE | MTE);
    }

    #[test]
    fn hits_are_recorded() {
        let mut t = armed(EXEC | M | ACTION_DEBUG, 0x40);
        let f = t.check(&exec(0x40), &ctx(Priv::M), X64, false);
        t.record_hits(&f, true);
        assert_eq!(t.t[0].tdata1(X64) >> 22 & 1, 1, "hit0 = 1: before");
    }
}
