//! Sdtrig on the hart: the trigger CSRs, and where each trigger type is asked.
//!
//! [`crate::trigger`] is the model (registers and match rules); this module connects it to
//! the hart: CSR numbers, the execute check before an instruction, the load/store checks
//! inside the memory units, icount after each instruction, itrigger/etrigger after a trap,
//! and tmexttrigger inputs. Every engine goes through these methods, so the interpreter and
//! the JIT fire the same triggers at the same points. A [`TriggerSummary`] says which
//! kinds are armed at all, so an unarmed hart pays one flag test per check site; the JIT
//! also reads [`WatchHull`] from generated code.

use emu_isa::Xlen;

use crate::bus::Bus;
use crate::debug::DebugCause;
use crate::hart::{Hart, mstatus};
use crate::trap::Exception;
use crate::trigger::{self, Context, Cover, Event, Fire, Triggers, field, ty};
use crate::types::Priv;

/// Which kinds of trigger are armed, recomputed on every trigger register write that
/// changes what the triggers can match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TriggerSummary {
    /// Some address/data trigger watches execution.
    pub exec: bool,
    /// ... and one of them acts after the instruction (mcontrol `timing` = 1).
    pub exec_after: bool,
    /// Some address/data trigger watches loads or stores.
    pub data: bool,
    /// Some icount trigger is enabled in some mode (or pending).
    pub icount: bool,
    /// Some itrigger or etrigger is armed.
    pub traps: bool,
    /// Bumped on every such change (engines compare it to what they translated for); a
    /// write that leaves a trigger unable to match before and after (a disabled trigger's
    /// `tdata2`, say) changes nothing and keeps it.
    pub version: u64,
}

/// The addresses loads and stores may match, for a one-compare filter in front of the
/// exact check: an access at `va` needs the exact check when `va - lo < len` (unsigned).
/// The ranges start 7 bytes early so that an access of up to 8 bytes reaching into a
/// watched range from below is caught. `len` = 0: nothing watched.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchHull {
    /// Lowest load address to check.
    pub load_lo: u64,
    /// Number of load addresses to check from `load_lo`.
    pub load_len: u64,
    /// Lowest store address to check.
    pub store_lo: u64,
    /// Number of store addresses to check from `store_lo`.
    pub store_len: u64,
}

impl WatchHull {
    fn of(covers: &[Cover]) -> WatchHull {
        let mut load: Option<(u64, u64)> = None;
        let mut store: Option<(u64, u64)> = None;
        for c in covers {
            let (lo, hi) = (c.lo.saturating_sub(7), c.hi);
            for (on, acc) in [(c.load, &mut load), (c.store, &mut store)] {
                if on {
                    *acc = Some(acc.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
                }
            }
        }
        let len =
            |r: Option<(u64, u64)>| r.map_or((0, 0), |(lo, hi)| (lo, (hi - lo).saturating_add(1)));
        let (load_lo, load_len) = len(load);
        let (store_lo, store_len) = len(store);
        WatchHull {
            load_lo,
            load_len,
            store_lo,
            store_len,
        }
    }
}

/// The exception a firing trigger asks for: Debug Mode wins over a breakpoint (the
/// breakpoint trigger's hit bit is still set, as the spec requires).
fn fire_exception(f: &Fire) -> Exception {
    if f.debug {
        Exception::EnterDebug(DebugCause::Trigger)
    } else {
        Exception::Breakpoint(f.tval)
    }
}

const ICOUNT_PENDING: u64 = 1 << 8;

fn icount_count(data: u64) -> u64 {
    field(data, 10, 14)
}

impl Hart {
    /// Give the hart `n` triggers (8 after construction), all reset.
    pub fn set_trigger_count(&mut self, n: usize) {
        self.triggers = Triggers::new(n);
        self.triggers_changed();
    }

    /// Recompute [`Hart::trig`] and [`Hart::watch`] after the trigger registers changed.
    pub fn triggers_changed(&mut self) {
        let xlen = self.xlen();
        let mut s = TriggerSummary {
            version: self.trig.version.wrapping_add(1),
            ..TriggerSummary::default()
        };
        for t in &self.triggers.t {
            if !t.armed() {
                continue;
            }
            match t.ty {
                ty::MCONTROL | ty::MCONTROL6 => {
                    let (x, st, l) = t.kinds();
                    s.exec |= x;
                    s.exec_after |= x && t.ty == ty::MCONTROL && t.data >> 18 & 1 != 0;
                    s.data |= st || l;
                }
                ty::ICOUNT => s.icount = true,
                ty::ITRIGGER | ty::ETRIGGER => s.traps = true,
                _ => {}
            }
        }
        self.trig = s;
        self.covers = self.triggers.chain_covers(xlen);
        self.watch = WatchHull::of(&self.covers);
    }

    /// The context the match rules need.
    fn trig_ctx(&self) -> Context {
        let asid = match self.xlen() {
            Xlen::X32 => field(self.csr.satp, 22, 9),
            Xlen::X64 => field(self.csr.satp, 44, 16),
        };
        Context {
            prv: self.prv,
            debug_mode: self.debug_mode,
            sie: self.csr.mstatus & mstatus::SIE != 0,
            bp_delegated: self.csr.medeleg >> 3 & 1 != 0,
            asid,
        }
    }

    fn fire(&mut self, e: &Event, after: bool) -> Option<Fire> {
        let f = self.triggers.check(e, &self.trig_ctx(), self.xlen(), after);
        if f.none() {
            return None;
        }
        self.triggers.record_hits(&f, !after);
        Some(f)
    }

    /// Execute triggers that act before the instruction at `pc`: `Err` with the exception
    /// to raise when one fires. Engines call this before executing an instruction whose
    /// address an execute trigger may match (the interpreter whenever one is armed).
    pub fn check_execute(&mut self, bus: &dyn Bus) -> Result<(), Exception> {
        self.exec_event = None;
        if !self.trig.exec || self.debug_mode {
            return Ok(());
        }
        // Address triggers outrank fetch faults, so an instruction that cannot be fetched
        // is still matched on its address (as 2 bytes, or 4 without C).
        let e = match self.fetch(bus) {
            Ok((inst, raw)) => Event::Execute {
                pc: self.pc,
                len: inst.len as u64,
                bits: Some(raw as u64),
            },
            Err(_) => Event::Execute {
                pc: self.pc,
                len: if self.isa.c { 2 } else { 4 },
                bits: None,
            },
        };
        self.exec_event = Some(e);
        match self.fire(&e, false) {
            Some(f) => Err(fire_exception(&f)),
            None => Ok(()),
        }
    }

    /// After the instruction checked by [`Hart::check_execute`] retired: execute triggers
    /// with `timing` = 1 (the exception follows, with `pc` after the instruction).
    pub fn check_execute_after(&mut self) {
        if let Some(e) = self.exec_event.take()
            && self.trig.exec_after
            && let Some(f) = self.fire(&e, true)
        {
            self.after_fire.get_or_insert(fire_exception(&f));
        }
    }

    /// Load triggers that act before a load of `size` bytes at virtual address `addr`
    /// (`Err`: the access must not happen). Called by the memory, atomic and FP units.
    #[inline]
    pub(crate) fn watch_load(&mut self, addr: u64, size: usize) -> Result<(), Exception> {
        if !self.trig.data {
            return Ok(());
        }
        self.watch_before(Event::Load {
            addr,
            size: size as u64,
            value: None,
        })
    }

    /// Store triggers (address, and data on the low `size` bytes of `value`) that act
    /// before the store.
    #[inline]
    pub(crate) fn watch_store(
        &mut self,
        addr: u64,
        size: usize,
        value: u64,
    ) -> Result<(), Exception> {
        if !self.trig.data {
            return Ok(());
        }
        let mask = if size >= 8 {
            u64::MAX
        } else {
            (1 << (8 * size)) - 1
        };
        let e = Event::Store {
            addr,
            size: size as u64,
            value: value & mask,
        };
        self.watch_before(e)?;
        // mcontrol `timing` = 1: acts once the store retired (a store that faults after
        // this never retires, and taking its trap drops the pending exception).
        if let Some(f) = self.fire(&e, true) {
            self.after_fire.get_or_insert(fire_exception(&f));
        }
        Ok(())
    }

    fn watch_before(&mut self, e: Event) -> Result<(), Exception> {
        match self.fire(&e, false) {
            Some(f) => Err(fire_exception(&f)),
            None => Ok(()),
        }
    }

    /// Load triggers on the loaded value, which act after the instruction retires.
    #[inline]
    pub(crate) fn watch_load_value(&mut self, addr: u64, size: usize, value: u64) {
        if !self.trig.data {
            return;
        }
        let e = Event::Load {
            addr,
            size: size as u64,
            value: Some(value),
        };
        if let Some(f) = self.fire(&e, true) {
            self.after_fire.get_or_insert(fire_exception(&f));
        }
    }

    /// The exception a trigger asked for after the instruction that just retired (mcontrol
    /// `timing` = 1, load data). Engines raise it right after retiring the instruction.
    pub fn take_after_fire(&mut self) -> Option<Exception> {
        self.after_fire.take()
    }

    /// How many more instructions may run in the current mode before an icount trigger
    /// could become pending: `None` when no icount trigger counts here (engines run
    /// freely), else at least 1. Debug Mode never counts.
    #[inline]
    pub fn icount_budget(&self) -> Option<u64> {
        if !self.trig.icount || self.debug_mode {
            return None;
        }
        self.triggers
            .t
            .iter()
            .filter(|t| t.ty == ty::ICOUNT && t.mode_enabled(self.prv))
            .map(|t| icount_count(t.data))
            .filter(|&c| c > 0)
            .min()
    }

    /// `n` instructions retired or trapped (each counted once) after being fetched in mode
    /// `prv` outside Debug Mode: count them down; reaching 0 makes the trigger pending.
    pub fn icount_tick(&mut self, prv: Priv, n: u64) {
        if !self.trig.icount || n == 0 {
            return;
        }
        let ctx = Context {
            prv,
            ..self.trig_ctx()
        };
        let (mc, sc, xlen) = (self.triggers.mcontext, self.triggers.scontext, self.xlen());
        for t in &mut self.triggers.t {
            if t.ty != ty::ICOUNT || !t.mode_enabled(prv) || !t.context_matches(&ctx, mc, sc, xlen)
            {
                continue;
            }
            let c = icount_count(t.data);
            if c == 0 {
                continue;
            }
            let left = c.saturating_sub(n);
            t.data = (t.data & !(0x3fff << 10)) | left << 10;
            if left == 0 {
                t.data |= ICOUNT_PENDING;
            }
        }
    }

    /// A pending icount trigger enabled in the current mode fires before the next
    /// instruction: `Some(exception)` to raise.
    fn icount_fire(&mut self) -> Option<Exception> {
        if !self.trig.icount || self.debug_mode {
            return None;
        }
        let ctx = self.trig_ctx();
        let mut fire = Fire::default();
        for i in 0..self.triggers.t.len() {
            let t = self.triggers.t[i];
            let action = t.action();
            // Action 0 obeys the re-entrancy rule (tcontrol.mte; SIE when delegated).
            if t.ty != ty::ICOUNT
                || t.data & ICOUNT_PENDING == 0
                || !t.mode_enabled(ctx.prv)
                || !self.triggers.action_allowed(action, &ctx)
            {
                continue;
            }
            self.triggers.t[i].data &= !ICOUNT_PENDING;
            fire.add(i, action);
        }
        if fire.none() {
            return None;
        }
        self.triggers.record_hits(&fire, true);
        Some(fire_exception(&fire))
    }

    /// After a trap was taken from `from` (exception or interrupt `code`): itrigger and
    /// etrigger fire before the handler's first instruction.
    fn trap_fire(&mut self, code: u64, interrupt: bool, from: Priv) -> Option<Exception> {
        if !self.trig.traps || self.debug_mode || code >= self.xlen().bits() as u64 {
            return None;
        }
        let want = if interrupt {
            ty::ITRIGGER
        } else {
            ty::ETRIGGER
        };
        let ctx = self.trig_ctx();
        let (mc, sc, xlen) = (self.triggers.mcontext, self.triggers.scontext, self.xlen());
        let mut fire = Fire::default();
        for (i, t) in self.triggers.t.iter().enumerate() {
            let action = t.action();
            if t.ty == want
                && t.mode_enabled(from)
                && t.tdata2 >> code & 1 != 0
                && t.context_matches(&ctx, mc, sc, xlen)
                && self.triggers.action_allowed(action, &ctx)
            {
                fire.add(i, action);
            }
        }
        if fire.none() {
            return None;
        }
        self.triggers.record_hits(&fire, true);
        // tval is 0 for these triggers.
        Some(fire_exception(&Fire { tval: 0, ..fire }))
    }

    /// Take a trap and then the itrigger/etrigger that fires on it, if any.
    pub(crate) fn trap_and_triggers(
        &mut self,
        code: u64,
        interrupt: bool,
        tval: u64,
        bus: &dyn Bus,
    ) {
        let from = self.prv;
        self.take_trap(code, interrupt, tval);
        if let Some(e) = self.trap_fire(code, interrupt, from) {
            self.fired(e, bus);
        }
    }

    /// Act on an exception asked for by a trigger outside the instruction flow (icount,
    /// itrigger, etrigger, tmexttrigger): a breakpoint trap (which no trigger watches again)
    /// or Debug Mode.
    fn fired(&mut self, e: Exception, bus: &dyn Bus) {
        match e {
            Exception::EnterDebug(cause) => self.enter_debug(cause, bus),
            e => self.take_trap(e.code(), false, e.tval()),
        }
    }

    /// Signal tmexttrigger inputs (bit per input, 16 inputs): every armed tmexttrigger
    /// selecting one of them fires before the next instruction.
    pub fn external_trigger(&mut self, inputs: u16) {
        if self.debug_mode {
            return;
        }
        let mut fire = Fire::default();
        for (i, t) in self.triggers.t.iter().enumerate() {
            if t.ty == ty::TMEXTTRIGGER && field(t.data, 6, 16) & inputs as u64 != 0 {
                fire.add(i, t.action());
            }
        }
        if !fire.none() {
            self.triggers.record_hits(&fire, true);
            let e = fire_exception(&Fire { tval: 0, ..fire });
            // Debug Mode entry outranks a pending breakpoint.
            if self.ext_fire.is_none() || e != Exception::Breakpoint(0) {
                self.ext_fire = Some(e);
            }
        }
    }

    /// What triggers do at an instruction boundary (after halt requests and interrupts):
    /// a tmexttrigger input or a pending icount. `Some`: the hart trapped or entered Debug
    /// Mode instead of executing.
    pub(crate) fn boundary_triggers(&mut self, bus: &dyn Bus) -> Option<Exception> {
        if self.debug_mode {
            return None;
        }
        let e = self.ext_fire.take().or_else(|| self.icount_fire())?;
        self.fired(e, bus);
        Some(e)
    }

    /// Read a trigger CSR (`None`: not one).
    pub(crate) fn trigger_csr_read(&self, csr: u16) -> Option<u64> {
        let t = &self.triggers;
        let sel = t.t.get(t.select);
        Some(match csr {
            0x7a0 => t.select as u64,
            0x7a1 => sel.map_or(0, |s| s.tdata1(self.xlen())),
            0x7a2 => sel.map_or(0, |s| s.tdata2),
            0x7a3 => sel.map_or(0, |s| s.tdata3),
            0x7a4 => trigger::TINFO_VERSION | trigger::TINFO_TYPES,
            0x7a5 => t.tcontrol,
            0x7a8 => t.mcontext,
            0x7aa | 0x5a8 => t.scontext,
            _ => return None,
        })
    }

    /// Write a trigger CSR with its WARL rules (`false`: not one).
    pub(crate) fn trigger_csr_write(&mut self, csr: u16, v: u64) -> bool {
        let xlen = self.xlen();
        let dm = self.debug_mode;
        let (s, u) = (self.isa.s, self.isa.u);
        let t = &mut self.triggers;
        let before = t.t.get(t.select).copied();
        match csr {
            0x7a0 => t.write_select(v),
            0x7a1 => t.write_tdata1(v, xlen, dm, s, u),
            0x7a2 => t.write_tdata(2, v, xlen, dm),
            0x7a3 => t.write_tdata(3, v, xlen, dm),
            0x7a4 => {} // tinfo is read-only; writes are ignored
            0x7a5 => t.tcontrol = v & (trigger::MTE | trigger::MPTE),
            // hcontext is 6 bits on RV32 and 13 on RV64 (textra's mhvalue width).
            0x7a8 => t.mcontext = v & if xlen == Xlen::X32 { 0x3f } else { 0x1fff },
            0x7aa | 0x5a8 => {
                t.scontext = v & if xlen == Xlen::X32 {
                    0xffff
                } else {
                    0xffff_ffff
                }
            }
            _ => return false,
        }
        if matches!(csr, 0x7a1..=0x7a3) {
            let t = &self.triggers;
            let after = t.t.get(t.select).copied();
            // Arming writes a disabled trigger's `tdata2` and disarming clears `tdata2`
            // after `tdata1`: nothing an engine derives from the triggers changes when a
            // trigger matches nothing before and after and chains as it did, and a new
            // version would make the JIT re-derive its ranges for nothing.
            let same = match (before, after) {
                (Some(b), Some(a)) => {
                    b == a || !b.armed() && !a.armed() && b.chains() == a.chains()
                }
                _ => true,
            };
            if !same {
                self.triggers_changed();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::types::HartId;

    /// A trigger register write: `tselect` (mostly the first three, so that chains form;
    /// sometimes one past the end), `tdata1` of a type worth having (mcontrol, mcontrol6,
    /// icount, disabled, none) with any low fields, a third of them matching no access
    /// kind (disarmed, chained or not), `tdata2` near a few addresses, or `tdata3`.
    fn write() -> impl Strategy<Value = (u16, u64)> {
        let ty = prop::sample::select(vec![2u64, 6, 3, 15, 0]);
        prop_oneof![
            prop_oneof![4 => 0u64..3, 1 => 0u64..10].prop_map(|v| (0x7a0, v)),
            (ty, any::<bool>(), 0u64..1 << 27, 0u32..3).prop_map(|(t, dmode, low, k)| {
                let low = if k == 0 { low & !7 } else { low };
                (0x7a1, t << 60 | (dmode as u64) << 59 | low)
            }),
            (
                prop::sample::select(vec![0u64, 0x8000_0000, 0x8000_1000, u64::MAX]),
                0u64..64
            )
                .prop_map(|(a, d)| (0x7a2, a.wrapping_add(d))),
            any::<u64>().prop_map(|v| (0x7a3, v)),
        ]
    }

    proptest! {
        /// Whatever the writes, the summary, the chain coverage and the watch hull the
        /// hart keeps are those of its triggers as they are: skipping the recompute for a
        /// write that changes nothing a trigger can match never leaves them stale.
        #[test]
        fn the_summary_follows_every_trigger_write(
            writes in prop::collection::vec((write(), any::<bool>()), 1..40),
        ) {
            let isa = crate::IsaConfig::parse("rv64gc").unwrap_or_else(|e| panic!("{e}"));
            let mut h = Hart::new(HartId(0), isa, 0x8000_0000);
            for ((csr, v), debug_mode) in writes {
                h.debug_mode = debug_mode;
                let version = h.trig.version;
                let (trig, covers) = (h.trig, h.covers.clone());
                prop_assert!(h.trigger_csr_write(csr, v));
                let mut fresh = h.clone();
                fresh.triggers_changed();
                let want = fresh.triggers.chain_covers(Xlen::X64);
                prop_assert_eq!(&h.covers, &want);
                prop_assert_eq!(h.watch, WatchHull::of(&want));
                prop_assert_eq!(TriggerSummary { version: 0, ..h.trig }, TriggerSummary { version: 0, ..fresh.trig });
                // A new version exactly when something an engine derives may have changed.
                if h.trig.version == version {
                    prop_assert_eq!(TriggerSummary { version: 0, ..trig }, TriggerSummary { version: 0, ..h.trig });
                    prop_assert_eq!(&covers, &h.covers);
                }
            }
        }
    }

    /// A disabled trigger's `tdata2`, and writing a trigger what it holds, cost no new
    /// version; arming and disarming do.
    #[test]
    fn writes_that_change_nothing_keep_the_version() {
        let isa = crate::IsaConfig::parse("rv64gc").unwrap_or_else(|e| panic!("{e}"));
        let mut h = Hart::new(HartId(0), isa, 0x8000_0000);
        h.debug_mode = true;
        let exec = 6 << 60 | 1 << 59 | 1 << 12 | 1 << 6 | 4; // mcontrol6, dmode, action 1, m, execute
        let rows: [(u16, u64, bool); 13] = [
            (0x7a0, 2, false),
            (0x7a1, 0, false),           // disabled already
            (0x7a2, 0x8000_0100, false), // tdata2 of a disabled trigger
            (0x7a1, exec, true),         // armed
            (0x7a1, exec, false),        // the same again
            (0x7a2, 0x8000_0200, true),  // an armed trigger moves
            (0x7a1, 0, true),            // disarmed
            (0x7a2, 0, false),
            // A disarmed trigger that chains to an armed one: that chain never fires.
            (0x7a1, exec, true),
            (0x7a0, 1, false),
            (0x7a1, 6 << 60 | 1 << 59 | 1 << 11, true), // chained, matching nothing
            (0x7a2, 0x8000_0300, false),                // its tdata2: nothing changes
            (0x7a1, 6 << 60 | 1 << 59, true),           // unchained: trigger 2 fires alone
        ];
        for (csr, v, bumps) in rows {
            let before = h.trig.version;
            assert!(h.trigger_csr_write(csr, v));
            assert_eq!(h.trig.version != before, bumps, "{csr:#x} <- {v:#x}");
        }
    }
}
