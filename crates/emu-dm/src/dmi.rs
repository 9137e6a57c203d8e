//! The DMI side: reads and writes of the Debug Module's registers (7-bit address, 32-bit
//! data), as a DTM or an in-process debugger issues them.

use std::sync::MutexGuard;

use crate::command::set_cmderr;
use crate::dm::{DebugModule, State};
use crate::regs::{self, CmdErr, abstractcs, dmcontrol as dc};
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
        self.batched(|mut st| {
            let n = addrs.len().min(out.len());
            let mut i = 0;
            while i < n {
                // A run of system-bus data reads may stream main RAM in one go; what it
                // does not serve (or any other register) is read one by one.
                let sbdata = |a: &u8| *a == regs::SBDATA0 || *a == regs::SBDATA1;
                let run = addrs[i..n].iter().take_while(|a| sbdata(a)).count().max(1);
                let end = i + run;
                let served = self.sb_stream(&mut st, &addrs[i..end], &mut out[i..end]);
                for k in i + served..end {
                    let (v, s) = self.read_held(st, addrs[k]);
                    out[k] = v;
                    st = s;
                }
                i = end;
            }
            st
        });
    }

    /// Run `f` with the state taken once and the system bus, once a system-bus access
    /// fetched it, held for the rest (not fetched again for each); both let go afterwards
    /// (the DM never keeps the bus that owns it).
    fn batched<'a>(&'a self, f: impl FnOnce(MutexGuard<'a, State>) -> MutexGuard<'a, State>) {
        self.batched_framed(f, || {}, || {});
    }

    /// [`DebugModule::batched`] with `first` called once the state is taken and `last`
    /// once the events gathered under it went to the sink, before it is let go.
    fn batched_framed<'a>(
        &'a self,
        f: impl FnOnce(MutexGuard<'a, State>) -> MutexGuard<'a, State>,
        first: impl FnOnce(),
        last: impl FnOnce(),
    ) {
        let mut st = self.lock();
        first();
        st.held_bus.batch = true;
        let mut st = f(st);
        st.held_bus.batch = false;
        let bus = st.held_bus.bus.take();
        self.deliver(&mut st);
        last();
        drop(st);
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
        self.dmi_batch_framed(ops, reads, || {}, || {});
    }

    /// [`DebugModule::dmi_batch`] with `first` called once the state is taken, before the
    /// first access, and `last` after the last, once the event sink has had the events
    /// gathered meanwhile, before the state is let go. The harts' threads change the state
    /// and call the sink only with the state held, so to them (and to the sink) `first`
    /// happens at one instant with the first access and `last` with the last: a debugger
    /// that tells its sink to treat a hart's halts as its own business in `first` and
    /// stops in `last` gets exactly the halts the status reads between them can see.
    pub fn dmi_batch_framed(
        &self,
        ops: &[DmiOp],
        reads: &mut [u32],
        first: impl FnOnce(),
        last: impl FnOnce(),
    ) {
        self.batched_framed(
            |mut st| {
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
                st
            },
            first,
            last,
        );
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
}
