//! System Bus Access: `sbcs`, `sbaddress0/1` and `sbdata0/1` reach physical memory and
//! devices without involving any hart (so they work while harts run). The bus is 64 bits
//! wide (`sbasize` = 64) with 8- to 64-bit accesses, so `sbaddress2/3` and `sbdata2/3` do not
//! exist (they read 0, as the spec has absent registers do). Accesses complete before the
//! DMI access that starts them returns: `sbbusy` is never seen set, `sbbusyerror` never
//! happens.

use std::sync::{Arc, MutexGuard};

use emu_core::{Bus, BusFault, PhysAddr};

use crate::dm::{DebugModule, State};
use crate::regs::{self, SbError, sbcs};

/// The system bus as held through a batch of DMI accesses: fetched at the batch's first
/// system-bus access and kept to its end, so a batch without one (a halt, a command) does
/// not fetch it at all.
#[derive(Default)]
pub(crate) struct HeldBus {
    /// A batch is under way.
    pub(crate) batch: bool,
    pub(crate) bus: Option<Arc<dyn Bus>>,
}

impl std::fmt::Debug for HeldBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldBus")
            .field("batch", &self.batch)
            .field("held", &self.bus.is_some())
            .finish()
    }
}

impl DebugModule {
    /// Physical `[start, end)` of main RAM on the system bus, where reads have no side
    /// effects: the part of the memory map a debugger's configuration would give it.
    pub fn main_memory(&self) -> Option<(u64, u64)> {
        self.platform.get().and_then(|p| p.bus())?.ram_range()
    }

    pub(crate) fn sba_read<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        addr: u8,
    ) -> (u32, MutexGuard<'a, State>) {
        let s = st.sba;
        let v = match addr {
            regs::SBCS => {
                sbcs::VERSION_1
                    | if s.readonaddr { sbcs::READONADDR } else { 0 }
                    | s.access << sbcs::ACCESS_SHIFT
                    | if s.autoincrement {
                        sbcs::AUTOINCREMENT
                    } else {
                        0
                    }
                    | if s.readondata { sbcs::READONDATA } else { 0 }
                    | s.error << sbcs::ERROR_SHIFT
                    | 64 << sbcs::ASIZE_SHIFT
                    | sbcs::ACCESS_8_TO_64
            }
            regs::SBADDRESS0 => s.address as u32,
            regs::SBADDRESS1 => (s.address >> 32) as u32,
            regs::SBDATA0 => {
                let v = s.data as u32;
                if s.readondata && s.error == 0 {
                    st = self.sb_access(st, false);
                }
                v
            }
            regs::SBDATA1 => (s.data >> 32) as u32,
            _ => 0,
        };
        (v, st)
    }

    pub(crate) fn sba_write<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        addr: u8,
        v: u32,
    ) -> MutexGuard<'a, State> {
        let idle = st.sba.error == 0;
        match addr {
            regs::SBCS => {
                // sbbusyerror is never set (accesses are synchronous): its W1C is a no-op.
                let s = &mut st.sba;
                s.error &= !(v >> sbcs::ERROR_SHIFT & 7);
                s.readonaddr = v & sbcs::READONADDR != 0;
                s.access = v >> sbcs::ACCESS_SHIFT & 7;
                s.autoincrement = v & sbcs::AUTOINCREMENT != 0;
                s.readondata = v & sbcs::READONDATA != 0;
            }
            regs::SBADDRESS0 => {
                st.sba.address = st.sba.address & !0xffff_ffff | v as u64;
                if st.sba.readonaddr && idle {
                    st = self.sb_access(st, false);
                }
            }
            regs::SBADDRESS1 => {
                st.sba.address = st.sba.address & 0xffff_ffff | (v as u64) << 32;
            }
            regs::SBDATA0 => {
                st.sba.data = st.sba.data & !0xffff_ffff | v as u64;
                if idle {
                    st = self.sb_access(st, true);
                }
            }
            regs::SBDATA1 => {
                st.sba.data = st.sba.data & 0xffff_ffff | (v as u64) << 32;
            }
            _ => {}
        }
        st
    }

    /// A run of `sbdata0`/`sbdata1` reads (`addrs`, nothing else) when it streams main
    /// RAM (`sbreadondata` and `sbautoincrement` set, no error, every bus read it starts
    /// inside RAM): served here, each read's value into `out`, as the single reads would
    /// leave things, without the DMI register decode and the access's checks per word. A
    /// debugger reading a page over the system bus is such a run. Returns how many of
    /// `addrs` it served: all, fewer when a bus read failed (its error is set, as the
    /// single access sets it), 0 where the run does not qualify.
    pub(crate) fn sb_stream(&self, st: &mut State, addrs: &[u8], out: &mut [u32]) -> usize {
        let s = st.sba;
        let reads = addrs.iter().filter(|&&a| a == regs::SBDATA0).count() as u64;
        if !st.dmactive
            || !st.authenticated
            || s.error != 0
            || !s.readondata
            || !s.autoincrement
            || s.access > 3
            || reads == 0
        {
            return 0;
        }
        let size = 1u64 << s.access;
        if !s.address.is_multiple_of(size) {
            return 0;
        }
        let Some(bus) = self.system_bus(st) else {
            return 0;
        };
        let in_ram = s
            .address
            .checked_add(reads * size)
            .is_some_and(|end| ram_holds(&*bus, s.address, end));
        let mut served = 0;
        if in_ram {
            let (mut data, mut at) = (s.data, s.address);
            for (&a, o) in addrs.iter().zip(out.iter_mut()) {
                served += 1;
                if a == regs::SBDATA1 {
                    *o = (data >> 32) as u32;
                    continue;
                }
                *o = data as u32;
                match bus.read(PhysAddr(at), size as usize) {
                    Ok(v) => {
                        data = v;
                        at += size;
                    }
                    Err(e) => {
                        // As the single access would: the error set, data and address kept.
                        st.sba.error = sb_error(e);
                        break;
                    }
                }
            }
            st.sba.data = data;
            st.sba.address = at;
        }
        if st.held_bus.batch {
            st.held_bus.bus = Some(bus);
        }
        served
    }

    /// The system bus: the one held for the batch (taken: put it back if the batch goes
    /// on), else the platform's.
    fn system_bus(&self, st: &mut State) -> Option<Arc<dyn Bus>> {
        st.held_bus
            .bus
            .take()
            .or_else(|| self.platform.get().and_then(|p| p.bus()))
    }

    /// One bus access at `sbaddress` of `sbaccess` size; the bus is used with the DM's
    /// state unlocked (the access may reach the DM's own memory).
    fn sb_access<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        write: bool,
    ) -> MutexGuard<'a, State> {
        let s = st.sba;
        let size = match s.access {
            0..=3 => 1usize << s.access,
            _ => {
                st.sba.error = SbError::Size as u32;
                return st;
            }
        };
        if !s.address.is_multiple_of(size as u64) {
            st.sba.error = SbError::Alignment as u32;
            return st;
        }
        let batch = st.held_bus.batch;
        let Some(bus) = self.system_bus(&mut st) else {
            st.sba.error = SbError::Other as u32;
            return st;
        };
        let a = PhysAddr(s.address);
        let end = s.address.wrapping_add(size as u64);
        // A read of main RAM reaches nothing that could want the DM's state, so it is made
        // with the state held: a debugger reading memory pays no unlock per word.
        let in_ram = !write && s.address < end && ram_holds(&*bus, s.address, end);
        let (r, mut st) = if in_ram {
            (bus.read(a, size), st)
        } else {
            self.unlock(st);
            let r = if write {
                bus.write(a, size, s.data).map(|()| {
                    bus.note_host_write(s.address, end);
                    s.data
                })
            } else {
                bus.read(a, size)
            };
            (r, self.lock())
        };
        if batch {
            // Kept for the rest of the batch, which drops it (the DM never keeps the bus
            // that owns it).
            st.held_bus.bus = Some(bus);
        }
        match r {
            Ok(v) => {
                if !write {
                    st.sba.data = v;
                }
                if st.sba.autoincrement {
                    st.sba.address = s.address.wrapping_add(size as u64);
                }
            }
            Err(e) => st.sba.error = sb_error(e),
        }
        st
    }
}

/// Main RAM holds all of `[start, end)`: reads there have no side effects and reach
/// nothing that could want the DM's state.
fn ram_holds(bus: &dyn Bus, start: u64, end: u64) -> bool {
    bus.ram_range()
        .is_some_and(|(lo, hi)| lo <= start && end <= hi)
}

/// The `sberror` a failed bus access sets.
fn sb_error(e: BusFault) -> u32 {
    let e = match e {
        BusFault::Unmapped(_) => SbError::BadAddress,
        _ => SbError::Other,
    };
    e as u32
}
