//! [`RunControl`]: run control, registers and resets. Memory, triggers and stop events are
//! in their own files.

use std::sync::{Arc, Mutex, MutexGuard};

use emu_dm::DebugModule;
use emu_dm::regs::{self, dmcontrol as dc, dmstatus as ds};

use crate::error::{RcError, Result};
use crate::events::Events;
use crate::session::Session;
use crate::triggers::Triggers;
use crate::types::{HartSel, HartStatus, RegId, StopCause, StopEvent};

/// The run-control API over one Debug Module. Cheap to share (`Arc`); every method takes
/// `&self` and serialises its DMI sequence with the others.
pub struct RunControl {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) session: Mutex<Session>,
    pub(crate) triggers: Mutex<Triggers>,
    pub(crate) events: Events,
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl")
            .field("harts", &self.harts())
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn triggers(&self) -> MutexGuard<'_, Triggers> {
        self.triggers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RunControl {
    /// Take control of `dm`: activate it and receive its events. A Debug Module serves one
    /// `RunControl` (share it between front ends); `None` when `dm` already has one.
    pub fn new(dm: Arc<DebugModule>) -> Option<RunControl> {
        let harts = dm.harts();
        let s = Session::new(dm.clone());
        s.w(regs::DMCONTROL, dc::DMACTIVE);
        let inner = Arc::new(Inner {
            session: Mutex::new(s),
            triggers: Mutex::new(Triggers::new(harts)),
            events: Events::new(harts),
        });
        if !Events::attach(&inner, &dm) {
            return None;
        }
        Some(RunControl { inner })
    }

    /// Number of harts.
    pub fn harts(&self) -> usize {
        self.inner.session().harts
    }

    /// Where hart `h` is. A hart running for a number of instructions
    /// ([`RunControl::run_for`]) is running until its budget ends, even at the moments it
    /// is halted between two chunks.
    pub fn status(&self, h: usize) -> Result<HartStatus> {
        let mut s = self.inner.session();
        let st = s.status_of(h)?;
        Ok(if st == HartStatus::Halted && self.budgeted(h) {
            HartStatus::Running
        } else {
            st
        })
    }

    /// Whether running hart `h` sleeps in a guest `wfi`, waiting for an interrupt (false
    /// for a halted hart).
    pub fn waiting(&self, h: usize) -> bool {
        let s = self.inner.session();
        s.dm.waiting(h)
    }

    /// Halt `sel` (several harts at once through the hart array). Returns when they are
    /// halted.
    pub fn halt(&self, sel: impl Into<HartSel>) -> Result<()> {
        let mut s = self.inner.session();
        let harts = sel.into().harts(s.harts);
        for &h in &harts {
            s.check_hart(h)?;
        }
        for &h in &harts {
            // Running for n instructions: that ends. Halted between two chunks, it runs
            // on, so that what stops it is this halt request (as its dcsr will say).
            let (halts, chunk_end) = self.cancel_budget(&mut s, h)?;
            if chunk_end {
                self.resume_locked(&mut s, &[h])?;
            }
            self.publish(&mut s, halts);
        }
        if let [h] = harts[..] {
            return self.halt_one(&mut s, h);
        }
        // Request and release in one batch: the DM returns from the request once the harts
        // halted; dmstatus after the release still shows them halted. Harts halted already
        // need no status read first: the request changes nothing for them, and the DM
        // answers it at once (a front end's all-stop after a breakpoint halts every hart,
        // of which usually none runs).
        let (r, halts) = self.capturing(&harts, || s.control_seq(&harts, &[dc::HALTREQ, 0]));
        self.publish(&mut s, halts);
        let st = r?;
        if st & ds::ALLHALTED == 0 {
            return Err(if st & ds::ANYUNAVAIL != 0 {
                RcError::Unavailable(harts[0])
            } else {
                RcError::Timeout("halt")
            });
        }
        Ok(())
    }

    /// [`RunControl::halt`] of one hart, the way of every front end's interrupt: one DMI
    /// batch (status, request, release, status), and the halt that came in it, if any,
    /// read from the Debug Module afterwards instead of collected from its events (see
    /// [`crate::events::Events::begin_capture_untold`]). The capture starts and ends with
    /// the batch's first and last access as the hart's thread sees them: started before
    /// the batch, a breakpoint's halt in between would be left to the operation, and the
    /// status before would then show the hart halted already, a halt nobody reported.
    fn halt_one(&self, s: &mut Session, h: usize) -> Result<()> {
        let events = &self.inner.events;
        let (before, after) = s.request_halt(
            h,
            || events.begin_capture_untold(&[h]),
            || events.end_capture_untold(&[h]),
        )?;
        if before & ds::ALLHALTED == 0
            && after & ds::ALLHALTED != 0
            && let Some((dcsr, seq)) = s.dm.last_halt(h)
        {
            self.publish(s, vec![(h, dcsr, seq)]);
        }
        if after & ds::ALLHALTED == 0 {
            return Err(if after & ds::ANYUNAVAIL != 0 {
                RcError::Unavailable(h)
            } else {
                RcError::Timeout("halt")
            });
        }
        Ok(())
    }

    /// Resume `sel` (at once, through the hart array). A hart halted on one of the API's
    /// breakpoints (or before a watched access) first steps over it, so resuming does not
    /// stop there again.
    pub fn resume(&self, sel: impl Into<HartSel>) -> Result<()> {
        let mut s = self.inner.session();
        let harts = sel.into().harts(s.harts);
        for &h in &harts {
            s.check_hart(h)?;
            self.settle_budget(&mut s, h)?;
        }
        // Settling a running hart's budget halts it for the removal. A stop that came
        // first keeps it halted and is reported; the hart was running when asked to
        // resume, so that stop stands.
        if s.unreported.is_empty() {
            return self.resume_locked(&mut s, &harts);
        }
        let stopped: Vec<usize> = s.unreported.iter().map(|&(h, _, _)| h).collect();
        self.report_unreported(&mut s);
        let harts: Vec<usize> = harts.into_iter().filter(|h| !stopped.contains(h)).collect();
        self.resume_locked(&mut s, &harts)
    }

    /// [`RunControl::resume`] with the session held.
    pub(crate) fn resume_locked(&self, s: &mut Session, harts: &[usize]) -> Result<()> {
        let mut go = Vec::new();
        for &h in harts {
            match s.status_of(h)? {
                HartStatus::Halted => go.push(h),
                HartStatus::Running => {}
                HartStatus::Unavailable => return Err(RcError::Unavailable(h)),
            }
        }
        for &h in &go {
            // What stopped it would stop it again at once: step over that first.
            let held = self.holding(s, h, true)?;
            if !held.is_empty() {
                // The step over is the resume's business: no stop to report.
                self.capturing(&[h], || self.step_locked(s, h, held)).0?;
            }
            self.clear_hits(s, h)?;
            s.set_step(h, false)?;
        }
        if go.is_empty() {
            return Ok(());
        }
        if s.control(&go, dc::RESUMEREQ)? & ds::ALLRESUMEACK == 0 {
            return Err(RcError::Timeout("resume"));
        }
        Ok(())
    }

    /// Execute one instruction on halted hart `h` (a breakpoint at its pc, or the
    /// watchpoint it stopped before, does not stop it again first). Returns why it halted
    /// again: a step, or a trigger or ebreak it ran into.
    pub fn step(&self, h: usize) -> Result<StopCause> {
        let mut s = self.inner.session();
        s.need_halted(h)?;
        self.settle_budget(&mut s, h)?;
        let held = self.holding(&mut s, h, false)?;
        let (r, halts) = self.capturing(&[h], || self.step_locked(&mut s, h, held));
        r?;
        // Why it halted is in the halt the step caused (dcsr on entry): no register read.
        let (dcsr, seq) = match halts.iter().rev().find(|(x, _, _)| *x == h) {
            Some(&(_, d, q)) => (d, q),
            None => (
                s.read_reg(h, RegId::Csr(crate::session::DCSR))? as u32,
                s.dm.halts(h),
            ),
        };
        let e = self.resolve(&mut s, h, dcsr, seq);
        self.inner.events.publish(e);
        Ok(e.cause)
    }

    /// Step hart `h` with the trigger slots `parked` disarmed for the step (run it under
    /// [`RunControl::capturing`]: the halt it causes tells why it stopped).
    fn step_locked(&self, s: &mut Session, h: usize, parked: Vec<(usize, u64)>) -> Result<()> {
        self.clear_hits(s, h)?;
        self.park(s, h, &parked)?;
        let r = (|| {
            s.set_step(h, true)?;
            // The DM returns once the hart halted again (or its time limit passed).
            if s.control(&[h], dc::RESUMEREQ)? & ds::ALLHALTED == 0 {
                return Err(RcError::Timeout("finish a step"));
            }
            Ok(())
        })();
        self.unpark(s, h, parked)?;
        r
    }

    /// Run `f` capturing the halts of `harts` (the operation's own doing): its result and
    /// the halts, `(hart, dcsr, seq)`.
    pub(crate) fn capturing<T>(
        &self,
        harts: &[usize],
        f: impl FnOnce() -> T,
    ) -> (T, Vec<(usize, u32, u64)>) {
        self.inner.events.begin_capture(harts);
        let r = f();
        let halts = self.inner.events.end_capture(harts);
        (r, halts)
    }

    /// Publish captured halts with their causes resolved.
    pub(crate) fn publish(&self, s: &mut Session, halts: Vec<(usize, u32, u64)>) {
        for (hart, dcsr, seq) in halts {
            let e = self.resolve(s, hart, dcsr, seq);
            self.inner.events.publish(e);
        }
    }

    /// The stop event for hart `hart`, halted with `dcsr`: a trigger cause is resolved to
    /// the API's trigger whose hit bits are set.
    pub(crate) fn resolve(&self, s: &mut Session, hart: usize, dcsr: u32, seq: u64) -> StopEvent {
        // The same halt resolves the same way (the hit bits stay until the hart runs):
        // once is enough.
        if let Some(Some(e)) = s.resolved.get(hart)
            && e.seq == seq
        {
            return *e;
        }
        let cause = match StopCause::from_dcsr(dcsr) {
            StopCause::Trigger(None) => {
                StopCause::Trigger(self.hit_trigger(s, hart).ok().flatten())
            }
            c => c,
        };
        let e = StopEvent { hart, cause, seq };
        if let Some(r) = s.resolved.get_mut(hart) {
            *r = Some(e);
        }
        e
    }

    /// How many times hart `h` has halted: the `seq` of its latest stop event. A front end
    /// that resumes the hart reads it first, so that a late report of a halt from before
    /// the resume is not taken for the next one.
    pub fn halts(&self, h: usize) -> u64 {
        self.inner.session().dm.halts(h)
    }

    /// The stop event of halted hart `h`, made now (`dcsr.cause`, a trigger resolved from
    /// the hit bits, which stay set until it runs again): the event published for this
    /// halt, same cause and `seq`, for a front end that sees the hart halted before the
    /// event arrives.
    pub fn stop_event(&self, h: usize) -> Result<StopEvent> {
        let mut s = self.inner.session();
        s.need_halted(h)?;
        let seq = s.dm.halts(h);
        if let Some(Some(e)) = s.resolved.get(h)
            && e.seq == seq
        {
            return Ok(*e);
        }
        let dcsr = s.read_reg(h, RegId::Csr(0x7b0))? as u32;
        Ok(self.resolve(&mut s, h, dcsr, seq))
    }

    /// Whether halted hart `h` translates the addresses it uses now: it is not in M-mode
    /// (`dcsr.prv`) and `satp` names a translation mode. A hart without S-mode has no
    /// `satp` and never translates. The front ends read memory over the system bus when
    /// it does not (no hart involved), through Access Memory when it does.
    pub fn translates(&self, h: usize) -> Result<bool> {
        let mut s = self.inner.session();
        s.need_halted(h)?;
        if s.read_reg(h, RegId::Csr(0x7b0))? & 3 == 3 {
            return Ok(false);
        }
        match s.read_reg(h, RegId::Csr(0x180)) {
            Ok(satp) => Ok(match s.xlen {
                emu_isa::Xlen::X32 => satp >> 31 & 1 != 0,
                emu_isa::Xlen::X64 => satp >> 60 != 0,
            }),
            Err(RcError::NoSuchRegister | RcError::Command(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Read register `r` of halted hart `h`.
    pub fn read_register(&self, h: usize, r: RegId) -> Result<u64> {
        let mut s = self.inner.session();
        s.check_hart(h)?;
        s.read_reg(h, r).map_err(|e| s.not_halted(h, e))
    }

    /// Write register `r` of halted hart `h`.
    pub fn write_register(&self, h: usize, r: RegId, v: u64) -> Result<()> {
        let mut s = self.inner.session();
        s.check_hart(h)?;
        s.write_reg(h, r, v).map_err(|e| s.not_halted(h, e))
    }

    /// Reset hart `h` (`Some`) or the whole system (`None`: every hart and device, the
    /// program loaded again). With `halt`, the harts halt before their first instruction;
    /// otherwise they run. Triggers the API armed are forgotten (a reset clears them).
    pub fn reset(&self, hart: Option<usize>, halt: bool) -> Result<()> {
        let mut s = self.inner.session();
        let harts = match hart {
            Some(h) => {
                s.check_hart(h)?;
                vec![h]
            }
            None => (0..s.harts).collect(),
        };
        let req = if halt {
            dc::SETRESETHALTREQ
        } else {
            dc::CLRRESETHALTREQ
        };
        for &h in &harts {
            s.control(&[h], req)?;
        }
        let (assert, first) = match hart {
            Some(h) => (dc::HARTRESET, h),
            None => (dc::NDMRESET, 0),
        };
        let (r, _) = self.capturing(&harts, || -> Result<()> {
            s.control_seq(&[first], &[assert, 0]).map(drop)
        });
        r?;
        for &h in &harts {
            s.step_set[h] = false;
            s.control(
                &[h],
                dc::ACKHAVERESET | dc::ACKUNAVAIL | dc::CLRRESETHALTREQ,
            )?;
        }
        self.inner.triggers().forget(&harts);
        if halt {
            for &h in &harts {
                // Out of reset the hart's own thread takes it into Debug Mode: wait for
                // that (woken by the DM, no polling), then confirm through dmstatus.
                s.dm.wait_halted(h, std::time::Duration::from_secs(2));
                if s.status_of(h)? != HartStatus::Halted {
                    return Err(RcError::Timeout("halt after reset"));
                }
            }
        }
        s.forget_selection();
        Ok(())
    }

    /// Receive a [`StopEvent`] whenever a hart halts (for any reason, including the API's
    /// own steps and halts), with breakpoint and watchpoint hits resolved to their
    /// [`crate::TriggerId`]. Events are pushed; nothing polls.
    pub fn subscribe(&self) -> crate::events::Subscription {
        self.inner.events.subscribe(false)
    }

    /// [`RunControl::subscribe`] to the halts the API's own operations cause (halts, steps,
    /// resets, from any front end): with [`RunControl::on_stop`], which gets the others,
    /// every stop arrives once.
    pub fn subscribe_caused(&self) -> crate::events::Subscription {
        self.inner.events.subscribe(true)
    }

    /// Call `f` with every halt no operation of the API caused (a running hart's
    /// breakpoint, watchpoint or `ebreak`, a halt group, an external trigger) as soon as its
    /// cause is resolved and before subscribers hear of it (those of
    /// [`RunControl::subscribe`] get it too): on the halting hart's own thread, once it
    /// let go of the hart, or, for a halt raised on another thread, on the API's event
    /// thread. `f` must return soon (the hart's thread runs nothing else meanwhile) and
    /// must not wait for another hook's caller; it may use the API. Registered until the
    /// returned hook is dropped.
    pub fn on_stop(
        &self,
        f: impl Fn(StopEvent) + Send + Sync + 'static,
    ) -> crate::events::StopHook {
        self.inner.events.hook(Arc::new(f))
    }

    /// How many subscriptions are live (dropped ones are forgotten at the next
    /// [`RunControl::subscribe`]).
    pub fn subscribers(&self) -> usize {
        self.inner.events.subscribers()
    }

    /// The Debug Module this controls (for front ends that also speak DMI, like the DTM).
    pub fn dm(&self) -> Arc<DebugModule> {
        self.inner.session().dm.clone()
    }
}
