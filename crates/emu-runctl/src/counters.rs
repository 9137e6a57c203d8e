//! Instruction counters and running for a number of instructions, on Sdtrig `icount`
//! triggers armed through the Debug Module.
//!
//! `icount.count` has 14 bits, so a counter counts at most 16383 instructions. A run of
//! more ([`RunControl::run_for`]) is a budget: the hart runs a chunk of up to 16383
//! instructions under an `icount` trigger; when that fires, the thread reporting the halt
//! (the hart's own) writes the next chunk and resumes the hart, without reporting the
//! halt, until the budget is spent. Each chunk costs one trigger write and one resume (a
//! few microseconds), and the count stays exact: `icount` counts every retired
//! instruction and trap, and the engines run no further than a pending count allows. Any
//! other stop (a breakpoint, a halt request) ends the budget and is reported as usual; so
//! does any run-control operation on the hart.

use emu_dm::regs::{self, dmcontrol as dc, dmstatus as ds};

use crate::control::RunControl;
use crate::error::{RcError, Result};
use crate::progbuf::TdataOp;
use crate::session::Session;
use crate::triggers::{ICOUNT_HIT, ICOUNT_MAX, icount_tdata1};
use crate::types::{HartSel, HartStatus, RegId, StopCause, StopEvent, TriggerId};

/// Halts captured: `(hart, dcsr, seq)`.
type Halts = Vec<(usize, u32, u64)>;

/// A [`RunControl::run_for`] under way on one hart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// The `icount` trigger counting the current chunk.
    trig: TriggerId,
    /// Instructions still to run after the current chunk.
    left: u64,
}

impl RunControl {
    /// Arm an instruction counter on `sel`: the hart enters Debug Mode once `count`
    /// instructions (1 to 16383) have retired or trapped outside Debug Mode; the stop is
    /// reported as [`StopCause::Trigger`] with this id. When the hart runs on after that,
    /// the counter starts again from `reload` (0: it stays spent until removed).
    pub fn add_instruction_counter(
        &self,
        sel: impl Into<HartSel>,
        count: u64,
        reload: u64,
    ) -> Result<TriggerId> {
        let mut s = self.inner.session();
        let harts = sel.into().harts(s.harts);
        let r = self.arm_counter(&mut s, &harts, count, reload);
        self.report_unreported(&mut s);
        r
    }

    /// The instructions instruction counter `id` still has to count on halted hart `h` (0
    /// once it has fired).
    pub fn counter_value(&self, id: TriggerId, h: usize) -> Result<u64> {
        let mut s = self.inner.session();
        s.need_halted(h)?;
        let slot = self.counter_slot(id, h)?;
        let v = s.tdata(h, slot, TdataOp::Read)?;
        Ok(v >> 10 & ICOUNT_MAX)
    }

    fn counter_slot(&self, id: TriggerId, h: usize) -> Result<usize> {
        let t = self.inner.triggers();
        let a = t.armed.get(&id).ok_or(RcError::NoSuchTrigger(id.0))?;
        a.slots
            .iter()
            .find(|(x, _)| *x == h)
            .and_then(|(_, v)| v.first())
            .map(|&(slot, _)| slot)
            .ok_or(RcError::NoSuchTrigger(id.0))
    }

    /// Resume the halted harts of `sel` for `n` instructions each (retired or trapped
    /// outside Debug Mode, as `icount` counts them), then halt them: each hart's stop is
    /// reported as [`StopCause::Trigger`] with the id returned for it. A hart that stops
    /// earlier for another reason reports that, and its budget ends. With `n` = 0 nothing
    /// runs. Like [`RunControl::resume`], a hart on a breakpoint first steps over it (that
    /// instruction counts).
    pub fn run_for(&self, sel: impl Into<HartSel>, n: u64) -> Result<Vec<(usize, TriggerId)>> {
        let mut s = self.inner.session();
        let harts = sel.into().harts(s.harts);
        for &h in &harts {
            if s.status_of(h)? != HartStatus::Halted {
                return Err(RcError::Running(h));
            }
        }
        for &h in &harts {
            self.settle_budget(&mut s, h)?;
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        let chunk = n.min(ICOUNT_MAX);
        let mut ids = Vec::new();
        for &h in &harts {
            let id = match self.arm_counter(&mut s, &[h], chunk, 0) {
                Ok(id) => id,
                Err(e) => {
                    for &(x, _) in &ids {
                        let _ = self.cancel_budget(&mut s, x);
                    }
                    return Err(e);
                }
            };
            self.inner.triggers().budget[h] = Some(Budget {
                trig: id,
                left: n - chunk,
            });
            ids.push((h, id));
        }
        if let Err(e) = self.resume_locked(&mut s, &harts) {
            for &h in &harts {
                let _ = self.cancel_budget(&mut s, h);
            }
            return Err(e);
        }
        Ok(ids)
    }

    /// Whether hart `h` is running for a number of instructions ([`RunControl::run_for`]):
    /// it counts as running even while halted between two chunks.
    pub(crate) fn budgeted(&self, h: usize) -> bool {
        self.inner
            .triggers()
            .budget
            .get(h)
            .is_some_and(|b| b.is_some())
    }

    /// End hart `h`'s budget, if any, and take out its counter. The hart is halted first
    /// (a halt of the API's own, captured). Returns the halts captured (the caller
    /// publishes them or not) and whether the hart sits at the end of a chunk with
    /// instructions left: a halt that is not a stop, never reported, so a caller that wants
    /// the hart stopped must let it run on and halt it. A hart at the end of its last chunk
    /// has finished the run: that stop stands, and its counter stays until the hart runs
    /// again so the stop resolves to it.
    pub(crate) fn cancel_budget(&self, s: &mut Session, h: usize) -> Result<(Halts, bool)> {
        let b = self
            .inner
            .triggers()
            .budget
            .get_mut(h)
            .and_then(|b| b.take());
        let Some(b) = b else {
            return Ok((Vec::new(), false));
        };
        let (r, mut halts) = self.capturing(&[h], || -> Result<()> {
            if s.status_of(h)? == HartStatus::Running {
                s.control_seq(&[h], &[dc::HALTREQ, 0])?;
            }
            s.need_halted(h)
        });
        r?;
        let dcsr = s.read_reg(h, RegId::Csr(crate::session::DCSR))? as u32;
        let chunk_end = StopCause::from_dcsr(dcsr) == StopCause::Trigger(None)
            && self
                .counter_slot(b.trig, h)
                .and_then(|slot| s.tdata(h, slot, TdataOp::Read))
                .is_ok_and(|v| v & ICOUNT_HIT != 0);
        if chunk_end && b.left == 0 {
            self.inner.triggers().spent.push((h, b.trig));
            return Ok((halts, false));
        }
        if chunk_end {
            // Not a stop: the reporting thread drops its report, and so does the caller.
            let seq = s.dm.halts(h);
            if let Some(w) = self.inner.triggers().swallow.get_mut(h) {
                *w = Some(seq);
            }
            halts.retain(|&(x, _, q)| x != h || q != seq);
        }
        match self.remove_locked(s, b.trig) {
            Ok(()) | Err(RcError::NoSuchTrigger(_)) => Ok((halts, chunk_end)),
            Err(e) => Err(e),
        }
    }

    /// The reporting thread's look at a halt of a budgeted hart: when the chunk's counter
    /// fired and instructions are left, write the next chunk and resume (true: the halt is
    /// not reported). Otherwise the budget ends; the trigger stays armed until the hart
    /// runs again, so the stop resolves to it for every reader.
    pub(crate) fn continue_budget(&self, s: &mut Session, ev: &StopEvent) -> bool {
        let h = ev.hart;
        {
            let mut t = self.inner.triggers();
            if let Some(w) = t.swallow.get_mut(h)
                && *w == Some(ev.seq)
            {
                // The end of a chunk of a budget cancelled since.
                *w = None;
                return true;
            }
        }
        let Some(b) = self.inner.triggers().budget.get(h).copied().flatten() else {
            return false;
        };
        // A late report of an older halt says nothing about where the hart is now.
        if s.dm.halts(h) != ev.seq {
            return false;
        }
        if ev.cause != StopCause::Trigger(Some(b.trig)) || b.left == 0 {
            self.end_budget(h, b.trig);
            return false;
        }
        let chunk = b.left.min(ICOUNT_MAX);
        let r = (|| -> Result<()> {
            let slot = self.counter_slot(b.trig, h)?;
            let v = icount_tdata1(s.xlen, chunk);
            if s.tdata(h, slot, TdataOp::Write1(v))? & ICOUNT_HIT != 0 {
                return Err(RcError::Unsupported("the counter kept its hit bit"));
            }
            if let Some(t) = self.inner.triggers().budget.get_mut(h) {
                *t = Some(Budget {
                    trig: b.trig,
                    left: b.left - chunk,
                });
            }
            self.clear_hits(s, h)?;
            s.set_step(h, false)?;
            s.control(&[h], dc::RESUMEREQ)?;
            if s.r(regs::DMSTATUS) & ds::ALLRESUMEACK == 0 {
                return Err(RcError::Timeout("resume"));
            }
            Ok(())
        })();
        if r.is_err() {
            // The hart stays halted: report the stop as it is.
            self.end_budget(h, b.trig);
            return false;
        }
        true
    }

    /// The budget of hart `h` is over; its counter is forgotten when the hart next runs.
    fn end_budget(&self, h: usize, trig: TriggerId) {
        let mut t = self.inner.triggers();
        if let Some(b) = t.budget.get_mut(h) {
            *b = None;
        }
        t.spent.push((h, trig));
    }

    /// Before hart `h` runs again (or is stepped): end its budget and take out the
    /// counters of budgets that ended (kept so far so that their stop resolved to them).
    pub(crate) fn settle_budget(&self, s: &mut Session, h: usize) -> Result<()> {
        // The hart is about to run or step: what stopped it is old news, unless the
        // cancel's halt request found it stopped by something else just before (a
        // breakpoint, the budget's end): that stop stands (see `RunControl::with_halted`).
        let (halts, _) = self.cancel_budget(s, h)?;
        Self::keep_unrequested(s, halts);
        let spent: Vec<TriggerId> = {
            let mut t = self.inner.triggers();
            if t.spent.is_empty() {
                return Ok(());
            }
            let (mine, rest) = t.spent.drain(..).partition(|(x, _)| *x == h);
            t.spent = rest;
            mine.into_iter().map(|(_, id)| id).collect()
        };
        for id in spent {
            match self.remove_locked(s, id) {
                Ok(()) | Err(RcError::NoSuchTrigger(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
