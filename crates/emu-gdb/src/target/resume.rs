//! Resuming: GDB's `vCont` actions recorded per hart, then carried out together through
//! the run-control API (continue, step, scheduler locking).

use super::*;

impl MultiThreadResume for EmuTarget {
    fn resume(&mut self) -> Result<(), RcError> {
        self.bare = None;
        if let Some(code) = self.host.exit_code() {
            self.pending = Some((0, MultiThreadStopReason::Exited(code as u8)));
            return Ok(());
        }
        // As QEMU: a step moves only the stepping hart; the others stay halted.
        if let Some(h) = self.actions.iter().position(|a| *a == Action::Step) {
            self.actions.fill(Action::Stay);
            let cause = self.rc.step(h)?;
            self.pending = Some((h, self.stop_reason(h, cause)));
            return Ok(());
        }
        // Harts GDB named nothing for continue too, unless scheduler locking holds them.
        let locked = self.locked;
        let go: Vec<usize> = (0..self.harts)
            .filter(|&h| match self.actions[h] {
                Action::Continue => true,
                Action::Stay => !locked,
                Action::Step => false,
            })
            .collect();
        self.actions.fill(Action::Stay);
        if go.is_empty() {
            return Ok(());
        }
        // A hart that stopped with the last one reported is reported now, nothing run.
        if let Some(d) = self.take_deferred(&go) {
            self.pending = Some((d.hart, d.reason));
            return Ok(());
        }
        self.running = go.clone();
        self.rc.resume(HartSel::Group(go))
    }

    fn clear_resume_actions(&mut self) -> Result<(), RcError> {
        self.actions.fill(Action::Stay);
        self.locked = false;
        Ok(())
    }

    fn support_scheduler_locking(&mut self) -> Option<MultiThreadSchedulerLockingOps<'_, Self>> {
        Some(self)
    }

    fn set_resume_action_continue(
        &mut self,
        t: Tid,
        _signal: Option<Signal>,
    ) -> Result<(), RcError> {
        if let Some(a) = self.actions.get_mut(hart(t)) {
            *a = Action::Continue;
        }
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<MultiThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl MultiThreadSingleStep for EmuTarget {
    fn set_resume_action_step(&mut self, t: Tid, _signal: Option<Signal>) -> Result<(), RcError> {
        if let Some(a) = self.actions.get_mut(hart(t)) {
            *a = Action::Step;
        }
        Ok(())
    }
}

impl MultiThreadSchedulerLocking for EmuTarget {
    fn set_resume_action_scheduler_lock(&mut self) -> Result<(), RcError> {
        self.locked = true;
        Ok(())
    }
}
