//! Run, stop, step, state and reset.

use super::*;

impl Session {
    pub(super) fn sel(&self, h: usize, global: bool) -> HartSel {
        if global || self.cores[h].global {
            HartSel::All
        } else {
            HartSel::One(h)
        }
    }

    pub(super) fn run(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let global = a.bool_or("global", false)?;
        let sel = self.sel(h, global);
        self.drain();
        let harts = sel.harts(self.cores.len());
        self.going(&harts);
        self.rc
            .resume(sel)
            .map_err(|e| McdError::rc(run_error(&e), &e))?;
        Ok(Map::new())
    }

    /// `harts` are about to run: what stopped them before is old news.
    fn going(&mut self, harts: &[usize]) {
        for &x in harts {
            let before = self.rc.halts(x);
            let c = &mut self.cores[x];
            c.bare = None;
            c.awaiting = true;
            c.last = None;
            c.until = None;
            c.until_reached = false;
            // Reports of halts before this resume are old news, however late they come.
            c.seen = c.seen.max(before);
        }
    }

    /// `mcd-run-until {core-uid, global, absolute-time, run-until-time}`: run until the
    /// core's time (`mcd-qry-current-time`'s `time-ps`: one instruction per nanosecond)
    /// reaches `run-until-time`, or for that long when `absolute-time` is false; then the
    /// core is in DEBUG with stop-str "run-until time reached". A trigger that hits first
    /// stops it as usual. Each core runs on an Sdtrig instruction counter
    /// ([`RunControl::run_for`]).
    pub(super) fn run_until(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let global = a.bool_or("global", false)?;
        let absolute = a.bool_or("absolute-time", false)?;
        let t: u64 = a.parse("run-until-time")?;
        let harts = self.sel(h, global).harts(self.cores.len());
        let mut plan = Vec::new();
        for &x in &harts {
            if self.rc.status(x) != Ok(HartStatus::Halted) {
                return Err(McdError::usage(format!(
                    "core {x} is running: stop it before mcd-run-until"
                )));
            }
            let n = if absolute {
                t.saturating_sub(self.time_ps(x)?).div_ceil(PS_PER_CYCLE)
            } else {
                t.div_ceil(PS_PER_CYCLE)
            };
            plan.push((x, n));
        }
        self.drain();
        // Harts with the same count go together (all of them, unless times differ).
        let mut rest = plan;
        while let Some(&(_, n)) = rest.first() {
            let (now, later): (Vec<_>, Vec<_>) = rest.iter().partition(|(_, m)| *m == n);
            rest = later;
            let group: Vec<usize> = now.iter().map(|(x, _)| *x).collect();
            if n == 0 {
                // There already: nothing runs, the state stays as it is.
                continue;
            }
            self.going(&group);
            let ids = self
                .rc
                .run_for(HartSel::Group(group), n)
                .map_err(|e| McdError::rc(run_error(&e), &e))?;
            for (x, id) in ids {
                self.cores[x].until = Some(id);
            }
        }
        Ok(Map::new())
    }

    pub(super) fn stop(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let global = a.bool_or("global", false)?;
        let sel = self.sel(h, global);
        self.rc
            .halt(sel)
            .map_err(|e| McdError::rc(run_error(&e), &e))?;
        Ok(Map::new())
    }

    pub(super) fn step(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let global = a.bool_or("global", false)?;
        let kind = a.u32("step-type")?;
        let n = a.u32("n-steps")?;
        if kind != step_type::INSTR && kind != step_type::CYCLES {
            return Err(McdError::param(format!(
                "step-type {kind}: INSTR (2) or CYCLES (1)"
            )));
        }
        if n == 0 || n > MAX_STEPS {
            return Err(McdError::param(format!(
                "n-steps {n}: between 1 and {MAX_STEPS}"
            )));
        }
        let harts = self.sel(h, global).harts(self.cores.len());
        for &x in &harts {
            if self.rc.status(x) != Ok(HartStatus::Halted) {
                return Err(McdError::usage(format!(
                    "core {x} is running: stop it before stepping"
                )));
            }
        }
        for &x in &harts {
            self.cores[x].bare = None;
            // One instruction per cycle: CYCLES steps are instruction steps.
            for _ in 0..n {
                let cause = self
                    .rc
                    .step(x)
                    .map_err(|e| McdError::rc(run_error(&e), &e))?;
                if cause != StopCause::Step {
                    break;
                }
            }
        }
        Ok(Map::new())
    }

    pub(super) fn set_global(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        self.cores[h].global = a.bool("enable")?;
        Ok(Map::new())
    }

    /// Take in the stop events since the last look.
    pub(super) fn drain(&mut self) {
        while let Some(ev) = self.events.as_ref().and_then(|e| e.try_recv().ok()) {
            self.take(ev);
        }
    }

    /// A hart that halted on its own is reported by the run-control API (from the hart's
    /// thread) a moment after `dmstatus` shows it halted. Rather than wait for that, resolve
    /// the stop here (the same answer: the trigger's hit bits stay set until the hart runs
    /// again), so the first poll that sees DEBUG has the cause; the event, when it comes,
    /// carries a `seq` already seen and is dropped.
    pub(super) fn await_stop(&mut self, h: usize) {
        if !self.cores[h].awaiting {
            return;
        }
        self.drain();
        if !self.cores[h].awaiting {
            return;
        }
        match self.rc.stop_event(h) {
            Ok(ev) => self.take(ev),
            Err(_) => {
                // Fall back on the event (briefly).
                let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
                while self.cores[h].awaiting {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    match self.events.as_ref().map(|e| e.recv_timeout(left)) {
                        Some(Ok(ev)) => self.take(ev),
                        _ => break,
                    }
                }
            }
        }
        self.cores[h].awaiting = false;
    }

    pub(super) fn take(&mut self, ev: StopEvent) {
        {
            let Some(c) = self.cores.get_mut(ev.hart) else {
                return;
            };
            if ev.seq <= c.seen {
                return;
            }
            c.seen = ev.seq;
            let mut trig = 0;
            if let StopCause::Trigger(Some(id)) = ev.cause
                && let Some((mid, t)) = self.trigs.iter_mut().find(|(_, t)| t.rc_id == id)
            {
                trig = *mid;
                if !t.captured {
                    t.captured = true;
                    c.events |= event::TRIGGER_CHANGE;
                }
            }
            c.until_reached =
                matches!(ev.cause, StopCause::Trigger(Some(id)) if c.until == Some(id));
            c.until = None;
            c.last = Some((ev.cause, trig));
            c.events |= event::STOPPED;
            c.awaiting = false;
        }
    }

    pub(super) fn qry_state(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        self.drain();
        let status = self
            .rc
            .status(h)
            .map_err(|e| McdError::rc(err::GENERAL, &e))?;
        let c = &mut self.cores[h];
        let events = std::mem::take(&mut c.events);
        let mut st = CoreState {
            state: core_state::UNKNOWN,
            event: events,
            hw_thread_id: h as u32,
            trig_id: 0,
            stop_str: String::new(),
            info_str: String::new(),
        };
        match status {
            HartStatus::Running if self.rc.waiting(h) => {
                st.state = core_state::HALTED;
                st.info_str = "halted".into();
            }
            HartStatus::Running => {
                st.state = core_state::RUNNING;
                st.info_str = "running".into();
            }
            HartStatus::Halted => {
                self.await_stop(h);
                let c = &mut self.cores[h];
                st.event |= std::mem::take(&mut c.events);
                st.state = core_state::DEBUG;
                let (cause, trig) = c.last.unwrap_or((StopCause::HaltRequest, 0));
                let until_reached = c.until_reached;
                st.trig_id = trig;
                st.stop_str = match cause {
                    _ if until_reached => "run-until time reached".into(),
                    // A trap catch: a custom trigger of the session's, named by its MCD
                    // id, or one a `catch` command armed (none of the session's triggers,
                    // so the API is asked), by the command's number.
                    StopCause::Trigger(_)
                        if self
                            .trigs
                            .get(&trig)
                            .is_some_and(|t| t.kind == TrigKind::Catch) =>
                    {
                        format!("trap caught (trigger {trig})")
                    }
                    StopCause::Trigger(Some(id))
                        if trig == 0 && self.rc.trap_catch(id).is_some() =>
                    {
                        format!("trap caught (trigger {})", id.0)
                    }
                    _ => stop_text(cause, trig),
                };
                st.info_str = "halted in Debug Mode".into();
            }
            HartStatus::Unavailable => {
                st.info_str = "unavailable (held in reset)".into();
            }
        }
        Ok(members(json!({ "state": st })))
    }

    pub(super) fn qry_rst_classes(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        Ok(members(
            json!({ "rst-class-vector": RST_SYSTEM | RST_HART }),
        ))
    }

    pub(super) fn qry_rst_class_info(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        let class = a.u32("rst-class")?;
        let text = match class {
            0 => "System Reset: every hart and device, the program loaded again (ndmreset)",
            1 => "Hart Reset: this hart alone (hartreset)",
            c => {
                return Err(McdError::param(format!(
                    "no reset class {c}: classes 0 and 1"
                )));
            }
        };
        Ok(members(json!({
            "rst-info": {"class-vector": 1u32 << class, "info-str": text}
        })))
    }

    pub(super) fn rst(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let v = a.u32("rst-class-vector")?;
        let halt = a.bool_or("rst-and-halt", false)?;
        if v == 0 || v & !(RST_SYSTEM | RST_HART) != 0 {
            return Err(McdError::param(format!(
                "rst-class-vector {v:#x}: bit 0 (System Reset) or bit 1 (Hart Reset)"
            )));
        }
        let hart = if v & RST_SYSTEM != 0 { None } else { Some(h) };
        self.rc
            .reset(hart, halt)
            .map_err(|e| McdError::rc(err::GENERAL, &e))?;
        // A reset clears the harts' triggers.
        self.trigs.retain(|_, t| hart.is_some_and(|x| x != t.hart));
        self.drain();
        for (x, c) in self.cores.iter_mut().enumerate() {
            if hart.is_none_or(|y| y == x) {
                c.bare = None;
                c.last = halt.then_some((StopCause::ResetHalt, 0));
            }
        }
        self.regmap = None;
        Ok(Map::new())
    }
}
