//! The DMI side: reads and writes of the Debug Module's registers (7-bit address, 32-bit
//! data), as a DTM or an in-process debugger issues them.

use std::sync::MutexGuard;
use std::sync::atomic::Ordering;

use crate::command::set_cmderr;
use crate::dm::{DebugModule, DmEvent, EXT_TRIGGERS, HartState, State, fresh_state};
use crate::regs::{self, CmdErr, abstractcs, dmcontrol as dc, dmcs2 as g2, dmstatus as ds};
use crate::rom;

/// One DMI access of a [`DebugModule::dmi_batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmiOp {
    /// Read the register at this address.
    Read(u8),
    /// Write this value to the register at this address.
    Write(u8, u32),
}

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

    /// Read DMI register `addr`. Registers emu does not have read 0.
    pub fn dmi_read(&self, addr: u8) -> u32 {
        let (v, st) = self.read_held(self.lock(), addr);
        self.unlock(st);
        v
    }

    /// Read the DMI registers `addrs` in turn into `out` (as many as both hold): what as
    /// many [`DebugModule::dmi_read`]s return, with the state held across them, not taken
    /// again for each. A debugger reading memory over the system bus reads `sbdata1` and
    /// `sbdata0` a thousand times for 4 KiB: taking the state once is most of what such a
    /// read saves.
    pub fn dmi_read_many(&self, addrs: &[u8], out: &mut [u32]) {
        let mut st = self.lock();
        // One hold of the bus for the batch, not one per system-bus access.
        st.held_bus.0 = self.platform.get().and_then(|p| p.bus());
        for (&a, o) in addrs.iter().zip(out) {
            let (v, s) = self.read_held(st, a);
            *o = v;
            st = s;
        }
        let bus = st.held_bus.0.take();
        self.unlock(st);
        drop(bus);
    }

    /// [`DebugModule::dmi_read`] with the state held.
    fn read_held<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        addr: u8,
    ) -> (u32, MutexGuard<'a, State>) {
        if !st.dmactive && addr != regs::DMCONTROL {
            return (0, st);
        }
        if addr == regs::DMSTATUS {
            return (self.dmstatus(&st), st);
        }
        if addr == regs::AUTHDATA && self.auth_required() {
            self.unlock(st);
            let v = self.auth_read();
            return (v, self.lock());
        }
        if !st.authenticated && addr != regs::DMCONTROL {
            return (0, st);
        }
        self.read_locked(st, addr)
    }

    fn read_locked<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        addr: u8,
    ) -> (u32, MutexGuard<'a, State>) {
        let v = match addr {
            a if (regs::DATA0..regs::DATA0 + regs::DATA_COUNT).contains(&a) => {
                let i = (a - regs::DATA0) as usize;
                let v = st.data[i];
                return self.buffer_read(st, v, i);
            }
            a if (regs::PROGBUF0..regs::PROGBUF0 + regs::PROGBUF_SIZE).contains(&a) => {
                let i = (a - regs::PROGBUF0) as usize;
                let v = st.progbuf[i];
                return self.buffer_read(st, v, 16 + i);
            }
            regs::DMCONTROL => {
                let hi = st.hartsel >> 10 & 0x3ff;
                let lo = st.hartsel & 0x3ff;
                let sel = self.selected(&st);
                let held = !sel.is_empty() && sel.iter().all(|&h| st.harts[h].held);
                lo << dc::HARTSELLO_SHIFT
                    | hi << dc::HARTSELHI_SHIFT
                    | if st.hasel { dc::HASEL } else { 0 }
                    | if held && !st.ndmreset {
                        dc::HARTRESET
                    } else {
                        0
                    }
                    | if st.ndmreset { dc::NDMRESET } else { 0 }
                    | st.dmactive as u32
            }
            regs::HARTINFO => {
                // nscratch 2, data registers memory-mapped at DATA.
                2 << 20 | 1 << 16 | (regs::DATA_COUNT as u32) << 12 | rom::DATA as u32
            }
            regs::HALTSUM0 => self.haltsum(&st, st.hartsel & !31, 1),
            regs::HALTSUM1 => self.haltsum(&st, st.hartsel & !0x3ff, 32),
            regs::HALTSUM2 => self.haltsum(&st, st.hartsel & !0x7fff, 1024),
            regs::HALTSUM3 => self.haltsum(&st, 0, 32768),
            regs::HAWINDOWSEL => st.hawindowsel,
            regs::HAWINDOW => {
                let base = 32 * st.hawindowsel as usize;
                (0..32).fold(0, |v, k| {
                    v | (st.harts.get(base + k).is_some_and(|h| h.in_array) as u32) << k
                })
            }
            regs::ABSTRACTCS => {
                (regs::PROGBUF_SIZE as u32) << abstractcs::PROGBUFSIZE_SHIFT
                    | if st.busy { abstractcs::BUSY } else { 0 }
                    | st.cmderr << abstractcs::CMDERR_SHIFT
                    | regs::DATA_COUNT as u32
            }
            regs::ABSTRACTAUTO => st.abstractauto,
            a if (regs::CONFSTRPTR0..=regs::CONFSTRPTR3).contains(&a) => {
                let p = self.confstrptr.unwrap_or(0);
                (p >> (32 * (a - regs::CONFSTRPTR0) as u32)) as u32
            }
            regs::DMCS2 => self.dmcs2(&st),
            // One Debug Module: `nextdm` = 0. `command` is write-only.
            _ => {
                if (regs::SBADDRESS3..=regs::SBDATA3).contains(&addr) {
                    return self.sba_read(st, addr);
                }
                0
            }
        };
        (v, st)
    }

    /// Write DMI register `addr`. Writes to registers emu does not have are ignored.
    pub fn dmi_write(&self, addr: u8, v: u32) {
        let st = self.write_held(self.lock(), addr, v);
        self.unlock(st);
    }

    /// Run the DMI accesses `ops` in turn, the DM's state taken once for all (a command
    /// that waits for harts still lets go of it while it waits); the values read go to
    /// `reads` in order (as many as it holds). What as many [`DebugModule::dmi_read`]s
    /// and [`DebugModule::dmi_write`]s do, less the state changing hands between them: a
    /// debugger's halt (request, release, status) right after the hart reported it is
    /// one hand-over of the state instead of four while the hart's thread still uses it.
    pub fn dmi_batch(&self, ops: &[DmiOp], reads: &mut [u32]) {
        let mut st = self.lock();
        st.held_bus.0 = self.platform.get().and_then(|p| p.bus());
        let mut out = reads.iter_mut();
        for &op in ops {
            st = match op {
                DmiOp::Read(a) => {
                    let (v, s) = self.read_held(st, a);
                    if let Some(o) = out.next() {
                        *o = v;
                    }
                    s
                }
                DmiOp::Write(a, v) => self.write_held(st, a, v),
            };
        }
        let bus = st.held_bus.0.take();
        self.unlock(st);
        drop(bus);
    }

    /// [`DebugModule::dmi_write`] with the state held.
    fn write_held<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        addr: u8,
        v: u32,
    ) -> MutexGuard<'a, State> {
        if addr == regs::AUTHDATA && self.auth_required() {
            self.unlock(st);
            let ok = self.auth_write(v);
            let mut st = self.lock();
            st.authenticated = ok;
            return st;
        }
        if !st.authenticated {
            // Only the DM's reset stays possible.
            if addr == regs::DMCONTROL && v & dc::DMACTIVE == 0 {
                st.dmactive = false;
            } else if addr == regs::DMCONTROL {
                st.dmactive = true;
            }
            return st;
        }
        if addr == regs::DMCONTROL {
            return self.write_dmcontrol(st, v);
        }
        if !st.dmactive {
            return st;
        }
        match addr {
            a if (regs::DATA0..regs::DATA0 + regs::DATA_COUNT).contains(&a) => {
                let i = (a - regs::DATA0) as usize;
                st = self.buffer_write(st, i, |st| st.data[i] = v);
            }
            a if (regs::PROGBUF0..regs::PROGBUF0 + regs::PROGBUF_SIZE).contains(&a) => {
                let i = (a - regs::PROGBUF0) as usize;
                st = self.buffer_write(st, 16 + i, |st| {
                    st.progbuf[i] = v;
                    st.tag_stale = true;
                });
            }
            regs::HAWINDOWSEL => {
                let max = (st.harts.len() as u32).div_ceil(32).saturating_sub(1);
                st.hawindowsel = v.min(max);
            }
            regs::HAWINDOW => {
                let base = 32 * st.hawindowsel as usize;
                for k in 0..32 {
                    if let Some(h) = st.harts.get_mut(base + k) {
                        h.in_array = v >> k & 1 != 0;
                    }
                }
            }
            regs::ABSTRACTCS => {
                // cmderr is write-1-to-clear; nothing else is writable.
                if st.busy {
                    set_cmderr(&mut st, CmdErr::Busy);
                } else {
                    let clear = v >> abstractcs::CMDERR_SHIFT & 7;
                    st.cmderr &= !clear;
                }
            }
            regs::COMMAND => {
                if st.busy {
                    set_cmderr(&mut st, CmdErr::Busy);
                } else {
                    st.command = v;
                    if st.cmderr == 0 {
                        st = self.execute(st);
                    }
                }
            }
            regs::ABSTRACTAUTO => {
                if st.busy {
                    set_cmderr(&mut st, CmdErr::Busy);
                } else {
                    let data_mask = (1u32 << regs::DATA_COUNT) - 1;
                    st.abstractauto = v & (0xffff << 16 | data_mask);
                }
            }
            regs::DMCS2 => self.write_dmcs2(&mut st, v),
            a if (regs::SBADDRESS3..=regs::SBDATA3).contains(&a) => {
                st = self.sba_write(st, a, v);
            }
            _ => {}
        }
        st
    }

    /// Read a data or program buffer word (`auto`: its bit in `abstractauto`): refused
    /// while a command runs; afterwards re-runs the command when the bit is set.
    fn buffer_read<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        value: u32,
        auto: usize,
    ) -> (u32, MutexGuard<'a, State>) {
        if st.busy {
            set_cmderr(&mut st, CmdErr::Busy);
            return (0, st);
        }
        if st.abstractauto >> auto & 1 != 0 && st.cmderr == 0 {
            st = self.execute(st);
        }
        (value, st)
    }

    /// Write a data or program buffer word with `set`, with the same rules.
    fn buffer_write<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        auto: usize,
        set: impl FnOnce(&mut State),
    ) -> MutexGuard<'a, State> {
        if st.busy {
            set_cmderr(&mut st, CmdErr::Busy);
            return st;
        }
        set(&mut st);
        if st.abstractauto >> auto & 1 != 0 && st.cmderr == 0 {
            st = self.execute(st);
        }
        st
    }

    fn unavail(&self, h: &HartState) -> bool {
        h.held || (self.sticky_unavail && h.was_unavail)
    }

    fn dmstatus(&self, st: &State) -> u32 {
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
    fn haltsum(&self, st: &State, base: u32, group: u32) -> u32 {
        (0..32).fold(0, |v, k| {
            let lo = (base as usize).saturating_add((k * group) as usize);
            let hi = lo.saturating_add(group as usize).min(st.harts.len());
            let any = (lo..hi).any(|i| st.harts[i].halted);
            v | (any as u32) << k
        })
    }

    fn dmcs2(&self, st: &State) -> u32 {
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

    fn write_dmcs2(&self, st: &mut State, v: u32) {
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

    fn write_dmcontrol<'a>(
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
            st = self.kick(st, &want, |s| want.iter().all(|&h| s.harts[h].halted));
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
        let all: Vec<usize> = (0..st.harts.len()).collect();
        let (targets, system, assert) = if ndm != st.ndmreset {
            st.ndmreset = ndm;
            if st.srst {
                // The reset line holds the system either way.
                return st;
            }
            (all, true, ndm)
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
