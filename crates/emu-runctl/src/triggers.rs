//! Breakpoints and watchpoints as Sdtrig triggers, armed through abstract commands that
//! write `tselect`/`tdata1`/`tdata2` on each hart (one program-buffer command per trigger,
//! `crate::progbuf`): an address is one trigger (`match`
//! equal), an aligned power-of-two range one NAPOT trigger, any other range a chain of two
//! (`>=` and `<`). Every trigger has `dmode` = 1 (the guest cannot touch it) and action 1
//! (enter Debug Mode). Execute triggers use `mcontrol6`; watchpoints use `mcontrol`, whose
//! `timing` bit chooses a stop before the access or after it. A watchpoint with a condition
//! on the value chains data triggers after the address's (`crate::datacond`).

use std::collections::BTreeMap;
use std::sync::MutexGuard;

use emu_dm::regs::CmdErr;
use emu_isa::Xlen;

use crate::control::RunControl;
use crate::datacond::DataCond;
use crate::error::{RcError, Result};
use crate::progbuf::TdataOp;
use crate::session::Session;
use crate::types::{HartSel, HartStatus, RegId, StopCause, TrapKind, TriggerId, WatchKind};

const TSELECT: u16 = 0x7a0;
const TDATA2: u16 = 0x7a2;
/// `etrigger`/`itrigger` mode bits m (9), s (7) and u (6): traps taken from any mode.
const TRAP_MODES: u64 = 1 << 9 | 1 << 7 | 1 << 6;
/// `etrigger`/`itrigger` action 1 (enter Debug Mode).
const TRAP_ACTION_DEBUG: u64 = 1;

/// Whether a hart entered Debug Mode with `dcsr` for a halt request.
fn by_request(dcsr: u32) -> bool {
    StopCause::from_dcsr(dcsr) == StopCause::HaltRequest
}
/// Disarming writes zeros through the arming program: arm and disarm share one program
/// buffer content, so alternating them rewrites nothing.
const DISARM: TdataOp = TdataOp::Write2 {
    tdata2: 0,
    tdata1: 0,
};

/// Privilege bits m, s, u and (mcontrol6) vs, vu: match in every mode.
const MODES: u64 = 1 << 6 | 1 << 4 | 1 << 3;
const ACTION_DEBUG: u64 = 1 << 12;
const CHAIN: u64 = 1 << 11;
const EXEC: u64 = 1 << 2;
const STORE: u64 = 1 << 1;
const LOAD: u64 = 1;
/// Hit bits: mcontrol's `hit` (20), mcontrol6's `hit0` (22) and `hit1` (25).
const HITS: u64 = 1 << 20 | 1 << 22 | 1 << 25;
/// `icount`'s hit bit.
pub(crate) const ICOUNT_HIT: u64 = 1 << 24;
/// The largest `icount.count` (14 bits).
pub const ICOUNT_MAX: u64 = 0x3fff;

/// An `icount` trigger counting `count` instructions in M, S and U mode, then entering
/// Debug Mode (action 1).
pub(crate) fn icount_tdata1(xlen: Xlen, count: u64) -> u64 {
    tdata1(xlen, 3, count << 10 | 1 << 9 | 1 << 7 | 1 << 6 | 1)
}

/// What kind of trigger the API armed, with what only that kind has.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What {
    /// A breakpoint on every instruction in `[lo, hi)`.
    Break,
    /// A watchpoint on `[lo, hi)`: which accesses, whether it acts after them (else
    /// before), and a condition on the value.
    Watch {
        kind: WatchKind,
        after: bool,
        cond: Option<DataCond>,
    },
    /// An instruction counter (`icount`): the count it starts again from once it has
    /// fired and the hart runs on (0: it stays spent).
    Counter { reload: u64 },
    /// A trap catch: which traps, and their cause mask.
    Catch { kind: TrapKind, causes: u64 },
}

impl Armed {
    /// An instruction counter's reload count.
    fn reload(&self) -> Option<u64> {
        match self.what {
            What::Counter { reload } => Some(reload),
            _ => None,
        }
    }
}

impl What {
    /// A breakpoint or a watchpoint: an address range the user asked for.
    fn on_addresses(&self) -> bool {
        matches!(self, What::Break | What::Watch { .. })
    }
}

/// What the API armed.
#[derive(Clone, Debug)]
pub(crate) struct Armed {
    /// `[lo, hi)` for a breakpoint or a watchpoint (0..0 otherwise).
    lo: u64,
    hi: u64,
    what: What,
    /// Its hit bits in `tdata1`.
    hit: u64,
    /// Per hart: its slots and the `tdata1` written to each.
    pub(crate) slots: Vec<(usize, Vec<(usize, u64)>)>,
}

/// What a breakpoint or watchpoint stops on, in words.
fn describe(lo: u64, hi: u64, what: &What) -> String {
    let at = if hi - lo == 1 {
        format!("{lo:#x}")
    } else {
        format!("{lo:#x}..{hi:#x}")
    };
    let &What::Watch { kind, after, cond } = what else {
        return format!("break {at}");
    };
    let k = match kind {
        WatchKind::Read => "read",
        WatchKind::Write => "write",
        WatchKind::Access => "access",
    };
    let when = if after { "after" } else { "before" };
    match cond {
        Some(c) => format!("watch {k} {at} {when}, if {}", c.describe()),
        None => format!("watch {k} {at} {when}"),
    }
}

/// The API's triggers and each hart's free slots.
#[derive(Debug)]
pub(crate) struct Triggers {
    /// Per hart: `None` until probed, then which slots the API uses.
    used: Vec<Option<Vec<bool>>>,
    pub(crate) armed: BTreeMap<TriggerId, Armed>,
    next: u32,
    /// Per hart: a [`RunControl::run_for`] under way.
    pub(crate) budget: Vec<Option<crate::counters::Budget>>,
    /// Counters of budgets that ended, `(hart, id)`: taken out when the hart runs again.
    pub(crate) spent: Vec<(usize, TriggerId)>,
    /// Per hart: the `seq` of a chunk's end whose budget was cancelled before the event
    /// thread saw it (not to be reported).
    pub(crate) swallow: Vec<Option<u64>>,
    /// Per hart: hit bits were seen set and must be cleared before it runs again.
    dirty: Vec<bool>,
}

impl Triggers {
    pub(crate) fn new(harts: usize) -> Triggers {
        Triggers {
            used: vec![None; harts],
            armed: BTreeMap::new(),
            next: 1,
            budget: vec![None; harts],
            spent: Vec::new(),
            swallow: vec![None; harts],
            dirty: vec![false; harts],
        }
    }

    /// A reset cleared the triggers of `harts`.
    pub(crate) fn forget(&mut self, harts: &[usize]) {
        for a in self.armed.values_mut() {
            a.slots.retain(|(h, _)| !harts.contains(h));
        }
        self.armed.retain(|_, a| !a.slots.is_empty());
        for &h in harts {
            if let Some(Some(u)) = self.used.get_mut(h) {
                u.fill(false);
            }
            if let Some(b) = self.budget.get_mut(h) {
                *b = None;
            }
        }
        self.spent.retain(|(h, _)| !harts.contains(h));
    }
}

/// One trigger in one slot ([`RunControl::arm_single`]): what to write, which `tdata1`
/// fields must read back as written (WARL), whether `tdata2` must too, and the error when
/// the hart refuses.
#[derive(Clone, Copy)]
struct Single {
    tdata1: u64,
    tdata2: u64,
    keep: u64,
    tdata2_sticks: bool,
    refusal: &'static str,
}

/// What [`on_each`] armed: per hart, its slots and the `tdata1` written to each.
type Done = Vec<(usize, Vec<(usize, u64)>)>;

/// Arm on each of `harts` with `f` until one fails: what was armed, and the failure.
fn on_each(
    harts: &[usize],
    mut f: impl FnMut(usize) -> Result<Vec<(usize, u64)>>,
) -> (Done, Option<RcError>) {
    let mut done = Vec::new();
    for &h in harts {
        match f(h) {
            Ok(slots) => done.push((h, slots)),
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

impl Triggers {
    /// Record `a` under a new id.
    fn insert(&mut self, a: Armed) -> TriggerId {
        let id = TriggerId(self.next);
        self.next += 1;
        self.armed.insert(id, a);
        id
    }
}

/// `tdata1` with type `ty`, `dmode` = 1 and `low`.
pub(crate) fn tdata1(xlen: Xlen, ty: u64, low: u64) -> u64 {
    let n = xlen.bits();
    ty << (n - 4) | 1 << (n - 5) | low
}

/// The triggers for `[lo, hi)`: `(match, tdata2, extra tdata1 bits)`, chained when two.
fn plan(lo: u64, hi: u64) -> Vec<(u64, u64, u64)> {
    let len = hi - lo;
    if len == 1 {
        vec![(0, lo, 0)]
    } else if len.is_power_of_two() && lo.is_multiple_of(len) {
        vec![(1, lo | (len / 2 - 1), 0)]
    } else {
        vec![(2, lo, 0), (3, hi, 0)]
    }
}

impl RunControl {
    /// Arm a breakpoint at `addr` (an execute trigger, before the instruction) on `sel`.
    pub fn add_breakpoint(&self, sel: impl Into<HartSel>, addr: u64) -> Result<TriggerId> {
        self.arm(sel.into(), addr, addr.wrapping_add(1), What::Break)
    }

    /// Arm a breakpoint on every instruction whose address is in `[lo, hi)` on `sel`.
    pub fn add_breakpoint_range(
        &self,
        sel: impl Into<HartSel>,
        lo: u64,
        hi: u64,
    ) -> Result<TriggerId> {
        self.arm(sel.into(), lo, hi, What::Break)
    }

    /// Arm a watchpoint on `[lo, hi)` for `kind` accesses on `sel`; `after`: stop after the
    /// access completes (`mcontrol.timing` = 1) rather than before it.
    pub fn add_watchpoint(
        &self,
        sel: impl Into<HartSel>,
        lo: u64,
        hi: u64,
        kind: WatchKind,
        after: bool,
    ) -> Result<TriggerId> {
        let cond = None;
        self.arm(sel.into(), lo, hi, What::Watch { kind, after, cond })
    }

    /// Arm a watchpoint on `[lo, hi)` for `kind` accesses on `sel` that stops only when the
    /// value loaded or stored meets `cond`: data triggers chained after the address's, so
    /// one access must match both. It stops after the access, when a load's value is
    /// known. See [`DataCond`] for what the hardware can compare.
    pub fn add_watchpoint_if(
        &self,
        sel: impl Into<HartSel>,
        lo: u64,
        hi: u64,
        kind: WatchKind,
        cond: DataCond,
    ) -> Result<TriggerId> {
        let (after, cond) = (true, Some(cond));
        self.arm(sel.into(), lo, hi, What::Watch { kind, after, cond })
    }

    /// Disarm trigger `id` on every hart it was armed on.
    pub fn remove_trigger(&self, id: TriggerId) -> Result<()> {
        let mut s = self.inner.session();
        let r = self.remove_locked(&mut s, id);
        self.report_unreported(&mut s);
        r
    }

    pub(crate) fn remove_locked(&self, s: &mut Session, id: TriggerId) -> Result<()> {
        let mut t = self.inner.triggers();
        let a = t.armed.remove(&id).ok_or(RcError::NoSuchTrigger(id.0))?;
        for (h, slots) in &a.slots {
            self.with_halted(s, *h, |s| {
                for &(slot, _) in slots {
                    s.tdata(*h, slot, DISARM)?;
                }
                Ok(())
            })?;
            if let Some(Some(u)) = t.used.get_mut(*h) {
                for &(slot, _) in slots {
                    u[slot] = false;
                }
            }
        }
        Ok(())
    }

    /// The breakpoints and watchpoints the API has armed, with their ranges.
    pub fn triggers(&self) -> Vec<(TriggerId, u64, u64)> {
        self.inner
            .triggers()
            .armed
            .iter()
            .filter(|(_, a)| a.what.on_addresses())
            .map(|(&id, a)| (id, a.lo, a.hi))
            .collect()
    }

    /// The breakpoints and watchpoints the API has armed, each with what it stops on
    /// (`break 0x80000010`, `watch write 0x80001000..0x80001008 after, if value == 5`).
    pub fn trigger_descriptions(&self) -> Vec<(TriggerId, String)> {
        self.inner
            .triggers()
            .armed
            .iter()
            .filter(|(_, a)| a.what.on_addresses())
            .map(|(&id, a)| (id, describe(a.lo, a.hi, &a.what)))
            .collect()
    }

    /// The trap catches the API has armed: which traps, and their cause masks.
    pub fn trap_catches(&self) -> Vec<(TriggerId, TrapKind, u64)> {
        self.inner
            .triggers()
            .armed
            .iter()
            .filter_map(|(&id, a)| match a.what {
                What::Catch { kind, causes } => Some((id, kind, causes)),
                _ => None,
            })
            .collect()
    }

    /// Whether trigger `id` is a trap catch, and which traps it catches (for a front end
    /// telling a caught trap's stop from a breakpoint's).
    pub fn trap_catch(&self, id: TriggerId) -> Option<(TrapKind, u64)> {
        match self.inner.triggers().armed.get(&id)?.what {
            What::Catch { kind, causes } => Some((kind, causes)),
            _ => None,
        }
    }

    /// Stop `sel` when it takes a trap of `kind` whose cause's bit is set in `causes` (bit
    /// n: cause code n), from any privilege mode: an `etrigger` or `itrigger` with action 1
    /// on each hart. The hart stops once the trap is taken, before the handler's first
    /// instruction: the pc is the handler's, and `mcause`/`mepc`/`mtval` (or the S-mode
    /// ones, for a trap delegated to S) say what trapped. A cause the hart cannot catch
    /// (its bit reads back 0 from `tdata2`, which is WARL) refuses the whole catch.
    /// Reported as [`StopCause::Trigger`] with the id returned; removed with
    /// [`RunControl::remove_trigger`].
    pub fn add_trap_catch(
        &self,
        sel: impl Into<HartSel>,
        kind: TrapKind,
        causes: u64,
    ) -> Result<TriggerId> {
        if causes == 0 {
            return Err(RcError::Unsupported("a trap catch needs a cause"));
        }
        let mut s = self.inner.session();
        let mut t = self.inner.triggers();
        let harts = sel.into().harts(s.harts);
        let xlen = s.xlen;
        let ty = match kind {
            TrapKind::Exception => 5,
            TrapKind::Interrupt => 4,
        };
        let v = tdata1(xlen, ty, TRAP_MODES | TRAP_ACTION_DEBUG);
        let single = Single {
            tdata1: v,
            tdata2: causes,
            keep: 0xf << (xlen.bits() - 4) | TRAP_MODES | 0x3f,
            tdata2_sticks: true,
            refusal: "the hart cannot catch those traps",
        };
        let (done, failed) = on_each(&harts, |h| self.arm_single(&mut s, &mut t, h, single));
        let armed = Armed {
            lo: 0,
            hi: 0,
            what: What::Catch { kind, causes },
            hit: 1 << (xlen.bits() - 6),
            slots: done,
        };
        self.record_armed(s, t, armed, failed)
    }

    /// Record `a`, what an arming did on each hart, under a new id; if arming failed on
    /// one, undo the rest (all or nothing) and return the failure. Then publish the stops
    /// the arming found were not its own.
    fn record_armed(
        &self,
        mut s: MutexGuard<'_, Session>,
        mut t: MutexGuard<'_, Triggers>,
        a: Armed,
        failed: Option<RcError>,
    ) -> Result<TriggerId> {
        let id = t.insert(a);
        drop(t);
        if let Some(e) = failed {
            drop(s);
            let _ = self.remove_trigger(id);
            return Err(e);
        }
        self.report_unreported(&mut s);
        Ok(id)
    }

    /// Arm the breakpoint or watchpoint `what` for `[lo, hi)` on `sel`, with the data
    /// triggers of a watchpoint's condition (`crate::datacond`) chained after the
    /// address's.
    fn arm(&self, sel: HartSel, lo: u64, hi: u64, what: What) -> Result<TriggerId> {
        if hi <= lo {
            return Err(RcError::Unsupported("empty address range"));
        }
        let mut s = self.inner.session();
        let xlen = s.xlen;
        let mut parts = plan(lo, hi);
        if let What::Watch { cond: Some(c), .. } = &what {
            parts.extend(crate::datacond::parts(c, xlen)?);
        }
        let mut t = self.inner.triggers();
        let harts = sel.harts(s.harts);
        let (done, failed) = on_each(&harts, |h| {
            self.arm_one(&mut s, &mut t, h, &parts, &what, xlen)
        });
        let armed = Armed {
            lo,
            hi,
            what,
            hit: HITS,
            slots: done,
        };
        self.record_armed(s, t, armed, failed)
    }

    fn arm_one(
        &self,
        s: &mut Session,
        t: &mut Triggers,
        h: usize,
        parts: &[(u64, u64, u64)],
        what: &What,
        xlen: Xlen,
    ) -> Result<Vec<(usize, u64)>> {
        s.check_hart(h)?;
        self.with_halted(s, h, |s| {
            let used = Self::probe(s, t, h)?;
            // Consecutive free slots (a chain must be).
            let n = parts.len();
            let first = (0..used.len().saturating_sub(n - 1))
                .find(|&i| used[i..i + n].iter().all(|u| !u))
                .ok_or(RcError::NoTrigger(h))?;
            let mut slots = Vec::new();
            for (k, &(m, tdata2, extra)) in parts.iter().enumerate() {
                let chain = if k + 1 < n { CHAIN } else { 0 };
                let low = ACTION_DEBUG | chain | m << 7 | MODES | extra;
                let v = match *what {
                    What::Watch { kind, after, .. } => {
                        let rw = match kind {
                            WatchKind::Read => LOAD,
                            WatchKind::Write => STORE,
                            WatchKind::Access => LOAD | STORE,
                        };
                        tdata1(xlen, 2, low | rw | (after as u64) << 18)
                    }
                    // mcontrol6 with vs and vu.
                    _ => tdata1(xlen, 6, low | EXEC | 1 << 24 | 1 << 23),
                };
                let slot = first + k;
                let got = s.tdata(h, slot, TdataOp::Write2 { tdata2, tdata1: v })?;
                // WARL: fields the hart lacks (vs/vu without H) read back 0; the type, the
                // action, what it matches and (mcontrol) data select and size must stick.
                // `sizehi` exists on RV64 only: on RV32 its bits are `maskmax`'s, read-only.
                let sizehi = if xlen == Xlen::X64 { 3 << 21 } else { 0 };
                let keep = 0xf << (xlen.bits() - 4)
                    | sizehi
                    | 1 << 19
                    | 3 << 16
                    | 0xf << 12
                    | 0xf << 7
                    | 7;
                if got & keep != v & keep {
                    s.tdata(h, slot, DISARM)?;
                    return Err(RcError::Unsupported("the hart refused the trigger"));
                }
                slots.push((slot, got));
            }
            if let Some(Some(u)) = t.used.get_mut(h) {
                for &(slot, _) in &slots {
                    u[slot] = true;
                }
            }
            Ok(slots)
        })
    }

    /// Arm an instruction counter on each of `harts`: an `icount` trigger that enters
    /// Debug Mode once `count` instructions have retired (or trapped) outside Debug Mode,
    /// then starts again from `reload` when the hart runs on (0: it stays spent).
    pub(crate) fn arm_counter(
        &self,
        s: &mut Session,
        harts: &[usize],
        count: u64,
        reload: u64,
    ) -> Result<TriggerId> {
        if count == 0 || count > ICOUNT_MAX || reload > ICOUNT_MAX {
            return Err(RcError::Unsupported(
                "an instruction counter counts 1 to 16383 (icount.count has 14 bits)",
            ));
        }
        let mut t = self.inner.triggers();
        let xlen = s.xlen;
        let v = icount_tdata1(xlen, count);
        let single = Single {
            tdata1: v,
            tdata2: 0,
            keep: 0xf << (xlen.bits() - 4) | 0x3fff << 10 | 1 << 9 | 0x3f,
            tdata2_sticks: false,
            refusal: "the hart has no icount trigger",
        };
        let (done, failed) = on_each(harts, |h| self.arm_single(s, &mut t, h, single));
        let id = t.insert(Armed {
            lo: 0,
            hi: 0,
            what: What::Counter { reload },
            hit: ICOUNT_HIT,
            slots: done,
        });
        drop(t);
        if let Some(e) = failed {
            let _ = self.remove_locked(s, id);
            return Err(e);
        }
        Ok(id)
    }

    /// Arm `single` on hart `h` (halted for it if it runs) in its first free slot.
    fn arm_single(
        &self,
        s: &mut Session,
        t: &mut Triggers,
        h: usize,
        single: Single,
    ) -> Result<Vec<(usize, u64)>> {
        s.check_hart(h)?;
        self.with_halted(s, h, |s| {
            let used = Self::probe(s, t, h)?;
            let slot = used.iter().position(|u| !u).ok_or(RcError::NoTrigger(h))?;
            let Single {
                tdata1,
                tdata2,
                keep,
                ..
            } = single;
            let got = s.tdata(h, slot, TdataOp::Write2 { tdata2, tdata1 })?;
            let mut refused = got & keep != tdata1 & keep;
            if single.tdata2_sticks && !refused {
                s.write_reg(h, RegId::Csr(TSELECT), slot as u64)?;
                refused = s.read_reg(h, RegId::Csr(TDATA2))? != tdata2;
            }
            if refused {
                s.tdata(h, slot, DISARM)?;
                return Err(RcError::Unsupported(single.refusal));
            }
            if let Some(Some(u)) = t.used.get_mut(h) {
                u[slot] = true;
            }
            Ok(vec![(slot, got)])
        })
    }

    /// How many triggers hart `h` has (`tselect` is WARL: it keeps only valid indices).
    pub(crate) fn probe(s: &mut Session, t: &mut Triggers, h: usize) -> Result<Vec<bool>> {
        if let Some(Some(u)) = t.used.get(h) {
            return Ok(u.clone());
        }
        let mut n = 0;
        while n < 64 {
            s.write_reg(h, RegId::Csr(TSELECT), n)?;
            if s.read_reg(h, RegId::Csr(TSELECT))? != n {
                break;
            }
            n += 1;
        }
        let u = vec![false; n as usize];
        t.used[h] = Some(u.clone());
        Ok(u)
    }

    /// Run `f` with hart `h` halted: a running hart is halted for it and resumed after,
    /// unless something else stopped it first (kept in `Session::unreported` for the
    /// caller to report). `f` is tried at once, as the hart is usually halted: on a running
    /// one its first command fails (`cmderr` 4) before anything has changed, and it runs
    /// again once the hart is halted.
    pub(crate) fn with_halted<T>(
        &self,
        s: &mut Session,
        h: usize,
        mut f: impl FnMut(&mut Session) -> Result<T>,
    ) -> Result<T> {
        match f(s) {
            Err(RcError::Command(CmdErr::HaltResume)) => {}
            r => return r,
        }
        // The status is read inside the capture: a stop between the read and the capture
        // would otherwise be taken for the API's own halt, and the hart resumed past it.
        let (r, halts) = self.capturing(&[h], || -> Result<bool> {
            match s.status_of(h)? {
                HartStatus::Halted => Ok(false),
                HartStatus::Unavailable => Err(RcError::Unavailable(h)),
                HartStatus::Running => {
                    s.control_seq(&[h], &[emu_dm::regs::dmcontrol::HALTREQ, 0])?;
                    s.need_halted(h)?;
                    Ok(true)
                }
            }
        });
        // What halted it may have come first: a breakpoint, a watchpoint after its access,
        // an ebreak. That is a stop of its own, reported (not from here: resolving it takes
        // the triggers, which the caller may hold), and the hart stays there; resumed, it
        // would run past a watched access unreported.
        let ours = matches!(r, Ok(true)) && halts.iter().all(|&(_, dcsr, _)| by_request(dcsr));
        if !ours {
            Self::keep_unrequested(s, halts);
            r?;
            return f(s);
        }
        s.set_step(h, false)?;
        let r = f(s);
        s.control(&[h], emu_dm::regs::dmcontrol::RESUMEREQ)?;
        r
    }

    /// Keep for the caller to report the `halts` an operation's own halt request captured
    /// that it did not cause (a stop that came first).
    pub(crate) fn keep_unrequested(s: &mut Session, halts: Vec<(usize, u32, u64)>) {
        s.unreported
            .extend(halts.into_iter().filter(|&(_, dcsr, _)| !by_request(dcsr)));
    }

    /// Publish the halts [`RunControl::with_halted`] found were not its doing. Called by
    /// the operations that may run it, once they let go of the triggers (resolving a
    /// trigger's stop takes them).
    pub(crate) fn report_unreported(&self, s: &mut Session) {
        if !s.unreported.is_empty() {
            let halts = std::mem::take(&mut s.unreported);
            self.publish(s, halts);
        }
    }

    /// The slots of the API's triggers that would stop halted hart `h` again before its
    /// next instruction: execute triggers covering its pc, and, when it halted for a
    /// trigger, the watchpoints acting before the access whose hit bits are set. For a
    /// `resume`, a breakpoint at the pc of a hart halted by a request (its own, its
    /// group's, a reset's) is not among them: that breakpoint did not stop the hart, whose
    /// next instruction is the breakpoint's, so it fires. (Stepped over, it was lost: a
    /// GDB all-stop halting the other hart right at its breakpoint, say.)
    pub(crate) fn holding(
        &self,
        s: &mut Session,
        h: usize,
        resuming: bool,
    ) -> Result<Vec<(usize, u64)>> {
        let mine: Vec<Armed> = self
            .inner
            .triggers()
            .armed
            .values()
            .filter(|a| a.slots.iter().any(|(x, _)| *x == h))
            .cloned()
            .collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        let pc = s.read_reg(h, RegId::Pc)?;
        let dcsr = s.read_reg(h, RegId::Csr(crate::session::DCSR))?;
        let cause = StopCause::from_dcsr(dcsr as u32);
        let by_trigger = matches!(cause, StopCause::Trigger(_));
        let requested = matches!(
            cause,
            StopCause::HaltRequest | StopCause::Group | StopCause::ResetHalt
        );
        let mut out = Vec::new();
        for a in &mine {
            let slots = a
                .slots
                .iter()
                .filter(|(x, _)| *x == h)
                .flat_map(|(_, v)| v.iter());
            let before_access = matches!(a.what, What::Watch { after: false, .. });
            if matches!(a.what, What::Break)
                && !(resuming && requested)
                && (a.lo..a.hi).contains(&pc)
            {
                out.extend(slots.copied());
            } else if before_access && by_trigger {
                let slots: Vec<(usize, u64)> = slots.copied().collect();
                let mut hit = false;
                for &(slot, _) in &slots {
                    hit |= s.tdata(h, slot, TdataOp::Read)? & HITS != 0;
                }
                if hit {
                    out.extend(slots);
                }
            }
        }
        Ok(out)
    }

    /// Disarm `slots` of hart `h` (for a step over what they watch).
    pub(crate) fn park(&self, s: &mut Session, h: usize, slots: &[(usize, u64)]) -> Result<()> {
        for &(slot, _) in slots {
            // tdata2 stays: unparking writes tdata1 alone.
            s.tdata(h, slot, TdataOp::Write1(0))?;
        }
        Ok(())
    }

    pub(crate) fn unpark(&self, s: &mut Session, h: usize, slots: Vec<(usize, u64)>) -> Result<()> {
        for (slot, v) in slots {
            s.tdata(h, slot, TdataOp::Write1(v))?;
        }
        Ok(())
    }

    /// Clear the hit bits of hart `h`'s triggers before it runs, if any were seen set.
    pub(crate) fn clear_hits(&self, s: &mut Session, h: usize) -> Result<()> {
        let mut t = self.inner.triggers();
        if !t.dirty.get(h).copied().unwrap_or(false) {
            return Ok(());
        }
        t.dirty[h] = false;
        let slots: Vec<(usize, u64, Option<u64>)> = t
            .armed
            .values()
            .flat_map(|a| {
                a.slots
                    .iter()
                    .filter(|(x, _)| *x == h)
                    .flat_map(|(_, v)| v.iter().map(|&(slot, v)| (slot, v, a.reload())))
            })
            .collect();
        drop(t);
        for (slot, v, reload) in slots {
            match reload {
                None => {
                    s.tdata(h, slot, TdataOp::Write1(v))?;
                }
                Some(n) => {
                    // A counter that fired starts again from its reload value (0: spent);
                    // one still counting keeps its count.
                    if s.tdata(h, slot, TdataOp::Read)? & ICOUNT_HIT != 0 {
                        let v = icount_tdata1(s.xlen, n.min(ICOUNT_MAX));
                        s.tdata(h, slot, TdataOp::Write1(v))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Which of the API's triggers on halted hart `h` fired (hit bits; they stay set until
    /// the hart runs again, so every reader of this stop sees the same answer).
    pub(crate) fn hit_trigger(&self, s: &mut Session, h: usize) -> Result<Option<TriggerId>> {
        let armed: Vec<(TriggerId, usize, u64)> = self
            .inner
            .triggers()
            .armed
            .iter()
            .flat_map(|(&id, a)| {
                a.slots
                    .iter()
                    .filter(|(x, _)| *x == h)
                    .flat_map(move |(_, v)| v.iter().map(move |&(slot, _)| (id, slot, a.hit)))
            })
            .collect();
        let mut found = None;
        for (id, slot, hit) in armed {
            if s.tdata(h, slot, TdataOp::Read)? & hit != 0 {
                found.get_or_insert(id);
            }
        }
        if found.is_some()
            && let Some(d) = self.inner.triggers().dirty.get_mut(h)
        {
            *d = true;
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_become_one_or_two_triggers() {
        assert_eq!(plan(0x1000, 0x1001), vec![(0, 0x1000, 0)]);
        assert_eq!(plan(0x1000, 0x1008), vec![(1, 0x1003, 0)]);
        assert_eq!(plan(0x1000, 0x2000), vec![(1, 0x17ff, 0)]);
        assert_eq!(plan(0x1004, 0x100c), vec![(2, 0x1004, 0), (3, 0x100c, 0)]);
        assert_eq!(plan(0x1000, 0x1003), vec![(2, 0x1000, 0), (3, 0x1003, 0)]);
    }

    fn watch(kind: WatchKind, after: bool, cond: Option<DataCond>) -> What {
        What::Watch { kind, after, cond }
    }

    #[test]
    fn triggers_in_words() {
        let rows = [
            (describe(0x10, 0x11, &What::Break), "break 0x10"),
            (describe(0x10, 0x1c, &What::Break), "break 0x10..0x1c"),
            (
                describe(0x10, 0x18, &watch(WatchKind::Read, false, None)),
                "watch read 0x10..0x18 before",
            ),
            (
                describe(
                    0x10,
                    0x18,
                    &watch(WatchKind::Access, true, Some(DataCond::equals(5))),
                ),
                "watch access 0x10..0x18 after, if value == 0x5",
            ),
        ];
        for (got, want) in rows {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn tdata1_layout() {
        assert_eq!(tdata1(Xlen::X64, 6, EXEC), 6 << 60 | 1 << 59 | EXEC);
        assert_eq!(tdata1(Xlen::X32, 2, LOAD), 2 << 28 | 1 << 27 | LOAD);
    }
}
