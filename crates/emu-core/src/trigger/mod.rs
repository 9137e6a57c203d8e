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

mod one;
#[cfg(test)]
mod tests;

pub(crate) use one::field;
use one::{LOW, xmask};
pub use one::{TOP_HIT, Trigger};

/// What a chain of address/data triggers can match: see [`Triggers::chain_covers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cover {
    /// Instructions executed.
    pub execute: bool,
    /// Stores.
    pub store: bool,
    /// Loads.
    pub load: bool,
    /// The lowest address matched.
    pub lo: u64,
    /// The highest address matched (inclusive).
    pub hi: u64,
}

impl Cover {
    fn everything(xlen: Xlen) -> Cover {
        Cover {
            execute: true,
            store: true,
            load: true,
            lo: 0,
            hi: xmask(xlen),
        }
    }

    /// What both match (`None`: nothing).
    fn and(&self, o: &Cover) -> Option<Cover> {
        let c = Cover {
            execute: self.execute && o.execute,
            store: self.store && o.store,
            load: self.load && o.load,
            lo: self.lo.max(o.lo),
            hi: self.hi.min(o.hi),
        };
        (c.lo <= c.hi && (c.execute || c.store || c.load)).then_some(c)
    }
}

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
        if dmode && i > 0 && !self.t[i - 1].dmode && self.t[i - 1].chains() {
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

    /// What each chain of address/data triggers can match (a lone trigger is a chain of
    /// one): the kinds of access all its members watch and the addresses all of them
    /// cover. A chain fires only when every member matches the same access, so an engine
    /// need look only there: a range as a `ge`/`lt` pair, or an address and a data value,
    /// cover the range or the address, not everything. Conservative like
    /// [`Trigger::coverage`]; chains that can never fire are left out.
    pub fn chain_covers(&self, xlen: Xlen) -> Vec<Cover> {
        let mut out = Vec::new();
        // The chain so far; `None` once a member can match nothing.
        let mut acc = Some(Cover::everything(xlen));
        for t in &self.t {
            if t.inert() {
                // It matches nothing and ends the chain so far, which can never fire.
                acc = Some(Cover::everything(xlen));
                continue;
            }
            let addr_type = matches!(t.ty, ty::MCONTROL | ty::MCONTROL6);
            let member = t.coverage(xlen).filter(|_| addr_type).map(|(lo, hi)| {
                let (execute, store, load) = t.kinds();
                Cover {
                    execute,
                    store,
                    load,
                    lo,
                    hi,
                }
            });
            acc = acc.zip(member).and_then(|(a, m)| a.and(&m));
            if !t.chains() {
                out.extend(acc);
                acc = Some(Cover::everything(xlen));
            }
        }
        // A chain still open at the end has no last member: it never fires.
        out
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
            let chained = t.chains();
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
