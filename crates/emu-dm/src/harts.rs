//! The harts as the DMI shows and drives them: which `dmcontrol` selects, `dmstatus` and
//! the halt summaries, `dmcontrol`'s requests and resets, halt and resume groups
//! (`dmcs2`) with the external triggers, and the board's reset line.

use std::sync::MutexGuard;
use std::sync::atomic::Ordering;

use crate::dm::{DebugModule, DmEvent, EXT_TRIGGERS, HartState, State, fresh_state};
use crate::regs::{dmcontrol as dc, dmcs2 as g2, dmstatus as ds};
use crate::rom;

impl DebugModule {
    /// The harts `dmcontrol` selects: `hartsel`, plus the hart array mask with `hasel`.
    pub(crate) fn selected(&self, st: &State) -> Vec<usize> {
        let n = st.harts.len();
        let mut v: Vec<usize> = Vec::new();
        if (st.hartsel as usize) < n {
            v.push(st.hartsel as usize);
        }
        if st.hasel {
            for (i, h) in st.harts.iter().enumerate() {
                if h.in_array && !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        v
    }

    fn hartsel_mask(&self) -> u32 {
        let bits = usize::BITS - (self.ports.len().saturating_sub(1)).leading_zeros();
        ((1u64 << bits.max(1)) - 1) as u32
    }

    fn unavail(&self, h: &HartState) -> bool {
        h.held || (self.sticky_unavail && h.was_unavail)
    }

    pub(crate) fn dmstatus(&self, st: &State) -> u32 {
        let sel = self.selected(st);
        let mut v = ds::VERSION_1_0 | ds::IMPEBREAK | ds::HASRESETHALTREQ;
        if st.authenticated {
            v |= ds::AUTHENTICATED;
        }
        if self.sticky_unavail {
            v |= ds::STICKYUNAVAIL;
        }
        if self.confstrptr.is_some() {
            v |= ds::CONFSTRPTRVALID;
        }
        if st.ndmreset {
            v |= ds::NDMRESETPENDING;
        }
        if !st.authenticated {
            return v;
        }
        let all = |f: &dyn Fn(&HartState) -> bool| {
            !sel.is_empty() && sel.iter().all(|&i| f(&st.harts[i]))
        };
        let any = |f: &dyn Fn(&HartState) -> bool| sel.iter().any(|&i| f(&st.harts[i]));
        type Test<'a> = &'a dyn Fn(&HartState) -> bool;
        let pairs: [(Test<'_>, u32, u32); 5] = [
            (&|h| h.halted && !h.held, ds::ALLHALTED, ds::ANYHALTED),
            (
                &|h| !h.halted && !self.unavail(h),
                ds::ALLRUNNING,
                ds::ANYRUNNING,
            ),
            (&|h| h.resumeack, ds::ALLRESUMEACK, ds::ANYRESUMEACK),
            (&|h| h.havereset, ds::ALLHAVERESET, ds::ANYHAVERESET),
            (&|h| self.unavail(h), ds::ALLUNAVAIL, ds::ANYUNAVAIL),
        ];
        for (f, a, y) in pairs {
            if all(f) {
                v |= a;
            }
            if any(f) {
                v |= y;
            }
        }
        // hartsel beyond the last hart: nonexistent.
        if st.hartsel as usize >= st.harts.len() {
            v |= ds::ANYNONEXISTENT;
            if sel.is_empty() {
                v |= ds::ALLNONEXISTENT;
            }
        }
        v
    }

    /// `haltsum`: bit k = any hart halted among `group` harts starting at `base + k*group`.
    pub(crate) fn haltsum(&self, st: &State, base: u32, group: u32) -> u32 {
        (0..32).fold(0, |v, k| {
            let lo = (base as usize).saturating_add((k * group) as usize);
            let hi = lo.saturating_add(group as usize).min(st.harts.len());
            let any = (lo..hi).any(|i| st.harts[i].halted);
            v | (any as u32) << k
        })
    }

    pub(crate) fn dmcs2(&self, st: &State) -> u32 {
        let sel = st.dmcs2;
        let resume = sel & g2::GROUPTYPE != 0;
        let group = if sel & g2::HGSELECT != 0 {
            let k = (sel >> g2::EXTTRIGGER_SHIFT & 0xf) as usize % EXT_TRIGGERS;
            if resume {
                0 // external triggers belong to halt groups only
            } else {
                st.ext_in_group[k]
            }
        } else {
            st.harts
                .get(st.hartsel as usize)
                .map_or(0, |h| if resume { h.resume_group } else { h.halt_group })
        };
        sel | (group as u32) << g2::GROUP_SHIFT
    }

    pub(crate) fn write_dmcs2(&self, st: &mut State, v: u32) {
        // The selection fields stick; `group` and `hgwrite` act.
        let k = (v >> g2::EXTTRIGGER_SHIFT & 0xf) as usize % EXT_TRIGGERS;
        st.dmcs2 = v & (g2::GROUPTYPE | g2::HGSELECT) | (k as u32) << g2::EXTTRIGGER_SHIFT;
        if v & g2::HGWRITE == 0 {
            return;
        }
        let group = (v >> g2::GROUP_SHIFT & 0x1f) as u8;
        let resume = v & g2::GROUPTYPE != 0;
        if v & g2::HGSELECT != 0 {
            if !resume {
                st.ext_in_group[k] = group;
                st.ext_out_group[k] = group;
            }
            return;
        }
        for h in self.selected(st) {
            let hs = &mut st.harts[h];
            if resume {
                hs.resume_group = group;
            } else {
                hs.halt_group = group;
            }
        }
    }

    /// An external trigger input fired: halt its halt group.
    pub fn external_trigger(&self, input: usize) {
        let mut st = self.lock();
        if let Some(&g) = st.ext_in_group.get(input)
            && g != 0
        {
            self.halt_group(&mut st, g, None);
        }
        self.unlock(st);
    }

    /// How many times external trigger output `output` fired (its halt group halted).
    pub fn external_trigger_out(&self, output: usize) -> u64 {
        self.lock().ext_out_count.get(output).copied().unwrap_or(0)
    }

    /// Whether `setkeepalive` is in effect for hart `h`.
    pub fn keepalive(&self, h: usize) -> bool {
        self.lock().harts.get(h).is_some_and(|s| s.keepalive)
    }

    pub(crate) fn write_dmcontrol<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        v: u32,
    ) -> MutexGuard<'a, State> {
        if v & dc::DMACTIVE == 0 {
            // Reset the DM (not the harts): registers back to their reset values.
            let n = st.harts.len();
            let keep: Vec<HartState> = st.harts.clone();
            // Authentication is reset with the module.
            let authenticated = !self.auth_required();
            let events = std::mem::take(&mut st.events);
            *st = fresh_state(n, authenticated);
            st.events = events;
            for (h, k) in st.harts.iter_mut().zip(keep) {
                h.halted = k.halted;
                h.halts = k.halts;
                h.havereset = k.havereset;
                h.held = k.held;
                h.entry_dcsr = k.entry_dcsr;
            }
            for p in &self.ports {
                p.haltreq.store(false, Ordering::Release);
                p.quick.store(false, Ordering::Release);
                p.flags.store(0, Ordering::Release);
            }
            self.retag(&mut st);
            return st;
        }
        st.dmactive = true;
        let ndm = v & dc::NDMRESET != 0;
        let hartreset = v & dc::HARTRESET != 0;
        if st.busy {
            // While a command runs, hartsel and the request bits must not change; a reset
            // (the way out of a hung command) still acts on the current selection.
            let harts = self.selected(&st);
            return self.resets(st, &harts, ndm, hartreset);
        }
        let sel = (v >> dc::HARTSELHI_SHIFT & 0x3ff) << 10 | (v >> dc::HARTSELLO_SHIFT & 0x3ff);
        st.hartsel = sel & self.hartsel_mask();
        st.hasel = v & dc::HASEL != 0;
        let harts = self.selected(&st);
        for &h in &harts {
            let hs = &mut st.harts[h];
            if v & dc::ACKHAVERESET != 0 {
                hs.havereset = false;
            }
            if v & dc::ACKUNAVAIL != 0 {
                hs.was_unavail = false;
            }
            if v & dc::SETKEEPALIVE != 0 {
                hs.keepalive = true;
            } else if v & dc::CLRKEEPALIVE != 0 {
                hs.keepalive = false;
            }
            if v & dc::SETRESETHALTREQ != 0 {
                hs.resethaltreq = true;
            } else if v & dc::CLRRESETHALTREQ != 0 {
                hs.resethaltreq = false;
            }
        }
        // Resets: asserting holds the harts (or the system) in reset; deasserting lets
        // them run (halting at once with resethaltreq).
        let mut st = self.resets(st, &harts, ndm, hartreset);
        // haltreq is a per-hart bit written for the selected harts.
        let halt = v & dc::HALTREQ != 0;
        for &h in &harts {
            self.ports[h].haltreq.store(halt, Ordering::Release);
        }
        if halt {
            let want: Vec<usize> = harts
                .iter()
                .copied()
                .filter(|&h| !st.harts[h].held)
                .collect();
            let done = |s: &State| want.iter().all(|&h| s.harts[h].halted);
            // Harts that run guest code (neither halted nor asleep in `wfi`) stop on their
            // own threads only.
            let running =
                |&h: &usize| !st.harts[h].halted && !self.ports[h].wfi.load(Ordering::Acquire);
            st = if !want.is_empty() && want.iter().all(running) {
                self.hurry(st, &want, done)
            } else {
                self.kick(st, &want, done)
            };
        } else if v & dc::RESUMEREQ != 0 {
            st = self.resume(st, &harts);
        }
        st
    }

    /// The board's reset line (JTAG nRESET, a probe's SRST): asserting it resets every
    /// hart and device and holds them, as `ndmreset` does, but leaves the Debug Module's
    /// own registers alone (the spec's connector section: nRESET must not reset the debug
    /// logic). Releasing it lets them run, unless `ndmreset` still holds them.
    pub fn reset_line(&self, assert: bool) {
        let Some(p) = self.platform.get() else {
            return;
        };
        let mut st = self.lock();
        if st.srst == assert || st.ndmreset {
            st.srst = assert;
            self.unlock(st);
            return;
        }
        st.srst = assert;
        let all: Vec<usize> = (0..st.harts.len()).collect();
        for hs in st.harts.iter_mut() {
            hs.held = assert;
            if assert {
                hs.was_unavail = true;
            }
        }
        if assert {
            st.events.push(DmEvent::Reset { system: true });
        }
        self.notify();
        self.unlock(st);
        p.reset(&all, true, assert);
    }

    /// Apply `ndmreset` / `hartreset` edges.
    fn resets<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        harts: &[usize],
        ndm: bool,
        hartreset: bool,
    ) -> MutexGuard<'a, State> {
        let Some(p) = self.platform.get() else {
            return st;
        };
        let (targets, system, assert) = if ndm != st.ndmreset {
            st.ndmreset = ndm;
            if st.srst {
                // The reset line holds the system either way.
                return st;
            }
            ((0..st.harts.len()).collect(), true, ndm)
        } else {
            let held_now = harts.iter().any(|&h| st.harts[h].held);
            if hartreset == held_now || st.ndmreset {
                return st;
            }
            (harts.to_vec(), false, hartreset)
        };
        for &h in &targets {
            let hs = &mut st.harts[h];
            hs.held = assert;
            if assert {
                hs.was_unavail = true;
            }
        }
        if assert {
            st.events.push(DmEvent::Reset { system });
        }
        self.notify();
        self.unlock(st);
        p.reset(&targets, system, assert);
        self.lock()
    }

    /// `resumereq` for `harts`, with their resume groups.
    fn resume<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        harts: &[usize],
    ) -> MutexGuard<'a, State> {
        let mut set: Vec<usize> = harts.to_vec();
        let groups: Vec<u8> = harts
            .iter()
            .map(|&h| st.harts[h].resume_group)
            .filter(|&g| g != 0)
            .collect();
        for (i, hs) in st.harts.iter().enumerate() {
            if groups.contains(&hs.resume_group) && !set.contains(&i) {
                set.push(i);
            }
        }
        let mut go = Vec::new();
        for &h in &set {
            let hs = &mut st.harts[h];
            hs.resumeack = false;
            if hs.halted && !hs.held {
                self.ports[h]
                    .flags
                    .fetch_or(rom::FLAG_RESUME, Ordering::Release);
                self.ports[h].released.store(false, Ordering::Release);
                go.push(h);
            } else if !hs.halted {
                // Resuming a running hart acknowledges at once.
                hs.resumeack = true;
            }
        }
        if go.is_empty() {
            return st;
        }
        let st = self.kick(st, &go, |s| go.iter().all(|&h| s.harts[h].resumeack));
        // A step: the first dmstatus read afterwards shows the hart halted again.
        self.follow(st, &go, |s| go.iter().all(|&h| !s.harts[h].stepping))
    }
}
