//! The Debug Module: DMI registers on one side, the hart-visible memory on the other.
//!
//! Front ends (MCD, GDB, the JTAG DTM, the run-control API) call [`DebugModule::dmi_read`]
//! and [`DebugModule::dmi_write`] from their own threads. Harts reach the DM only by
//! executing the ROM and abstract programs, whose loads and stores arrive as
//! [`DebugModule::mem_read`] / [`DebugModule::mem_write`] from the hart threads, and by
//! [`DebugModule::service`], which the machine's hart loop calls between batches to hand
//! over halt requests. Commands complete synchronously: a DMI write that starts one waits
//! (on a condition variable, no polling) until the hart reports back, with a time limit
//! after which `busy` simply stays set.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use emu_core::{DebugCause, Hart};

use crate::program::{self, HartCaps, Reg};
use crate::regs::{
    self, CmdErr, abstractcs, access_register as ar, dmcontrol as dc, dmstatus as ds,
};
use crate::rom;

/// How long a DMI access waits for harts to act before leaving `busy` (or the halted/running
/// state) to be observed later.
const WAIT: Duration = Duration::from_millis(500);

/// Wakes hart threads (parked in Debug Mode or running a batch) so they look at the DM.
pub type Waker = Box<dyn Fn() + Send + Sync>;

/// State of one hart as the DM tracks it.
#[derive(Clone, Copy, Debug, Default)]
struct HartState {
    halted: bool,
    resumeack: bool,
    /// The hart resumed with `dcsr.step` and has not halted again yet.
    stepping: bool,
    havereset: bool,
    /// Flag byte the ROM reads (`FLAG_GO`, `FLAG_RESUME`).
    flags: u8,
    /// `hawindow` bit: in the hart array mask.
    in_array: bool,
}

#[derive(Debug)]
struct State {
    dmactive: bool,
    hartsel: u32,
    hasel: bool,
    hawindowsel: u32,
    data: [u32; regs::DATA_COUNT as usize],
    progbuf: [u32; regs::PROGBUF_SIZE as usize],
    abstractauto: u32,
    command: u32,
    busy: bool,
    cmderr: u32,
    /// The hart running the current command, and whether it reported GOING.
    cmd_hart: Option<(usize, bool)>,
    program: [u32; rom::PROGRAM_WORDS],
    harts: Vec<HartState>,
    /// Content of the program area → the tag the JIT keys those blocks by.
    tags: HashMap<Vec<u32>, u64>,
    next_tag: u64,
}

/// Lock-free per-hart signals for the hart thread.
#[derive(Debug, Default)]
struct Port {
    haltreq: AtomicBool,
}

/// A Debug Module for `n` harts.
pub struct DebugModule {
    state: Mutex<State>,
    changed: Condvar,
    ports: Vec<Port>,
    caps: HartCaps,
    rom: Vec<u8>,
    /// Tag of the current program-area content ([`DebugModule::code_tag`]).
    tag: AtomicU64,
    waker: OnceLock<Waker>,
}

impl std::fmt::Debug for DebugModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebugModule")
            .field("harts", &self.ports.len())
            .field("caps", &self.caps)
            .finish_non_exhaustive()
    }
}

fn fresh_state(n: usize) -> State {
    State {
        dmactive: false,
        hartsel: 0,
        hasel: false,
        hawindowsel: 0,
        data: [0; regs::DATA_COUNT as usize],
        progbuf: [0; regs::PROGBUF_SIZE as usize],
        abstractauto: 0,
        command: 0,
        busy: false,
        cmderr: 0,
        cmd_hart: None,
        program: [EBREAK; rom::PROGRAM_WORDS],
        harts: vec![
            HartState {
                havereset: true,
                ..HartState::default()
            };
            n
        ],
        tags: HashMap::new(),
        next_tag: 1,
    }
}

const EBREAK: u32 = 0x0010_0073;

impl DebugModule {
    /// A Debug Module for `harts` harts (at most [`rom::MAX_HARTS`]) with capabilities `caps`.
    pub fn new(harts: usize, caps: HartCaps) -> DebugModule {
        let harts = harts.clamp(1, rom::MAX_HARTS);
        let dm = DebugModule {
            state: Mutex::new(fresh_state(harts)),
            changed: Condvar::new(),
            ports: (0..harts).map(|_| Port::default()).collect(),
            caps,
            rom: rom::rom(),
            tag: AtomicU64::new(0),
            waker: OnceLock::new(),
        };
        {
            let mut st = dm.lock();
            dm.retag(&mut st);
        }
        dm
    }

    /// Install how to wake hart threads (the machine's signal). Only the first call counts.
    pub fn set_waker(&self, w: Waker) {
        let _ = self.waker.set(w);
    }

    /// Number of harts.
    pub fn harts(&self) -> usize {
        self.ports.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        if let Some(w) = self.waker.get() {
            w();
        }
    }

    /// Wait (releasing the lock) until `done` holds or the time limit passes.
    fn wait<'a>(
        &self,
        st: MutexGuard<'a, State>,
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.changed
            .wait_timeout_while(st, WAIT, |s| !done(s))
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0)
    }

    // ---------------------------------------------------------------- hart side

    /// Called by the hart's thread before it runs: hand over a pending halt request.
    #[inline]
    pub fn service(&self, hart: &mut Hart) {
        let Some(p) = self.ports.get(hart.id.0 as usize) else {
            return;
        };
        let want = p.haltreq.load(Ordering::Acquire);
        if want != matches!(hart.debug.request, Some(DebugCause::HaltReq)) {
            hart.debug.request = want.then_some(DebugCause::HaltReq);
        }
    }

    /// The tag of the code at DM offset `off`: the program area's content changes with every
    /// command, so the JIT keys blocks there by this (same content, same tag: a repeated
    /// command reuses its translation). 0 elsewhere (the ROM never changes).
    pub fn code_tag(&self, off: u64) -> u64 {
        if (rom::PROGRAM..rom::IMPEBREAK + 4).contains(&off) {
            self.tag.load(Ordering::Acquire)
        } else {
            0
        }
    }

    fn retag(&self, st: &mut State) {
        let mut content: Vec<u32> = st.program.to_vec();
        content.extend_from_slice(&st.progbuf);
        let tag = match st.tags.get(&content) {
            Some(&t) => t,
            None => {
                // Bounded: forgetting old contents only costs their retranslation.
                if st.tags.len() >= 4096 {
                    st.tags.clear();
                }
                let t = st.next_tag;
                st.next_tag += 1;
                st.tags.insert(content, t);
                t
            }
        };
        self.tag.store(tag, Ordering::Release);
    }

    fn mem_byte(&self, st: &State, off: u64) -> u8 {
        let word = |w: u32, o: u64| (w >> (8 * (o % 4))) as u8;
        match off {
            o if (rom::DATA..rom::DATA + 4 * regs::DATA_COUNT as u64).contains(&o) => {
                word(st.data[((o - rom::DATA) / 4) as usize], o)
            }
            o if (rom::PROGRAM..rom::PROGBUF).contains(&o) => {
                word(st.program[((o - rom::PROGRAM) / 4) as usize], o)
            }
            o if (rom::PROGBUF..rom::IMPEBREAK).contains(&o) => {
                word(st.progbuf[((o - rom::PROGBUF) / 4) as usize], o)
            }
            o if (rom::IMPEBREAK..rom::IMPEBREAK + 4).contains(&o) => word(EBREAK, o),
            o if (rom::FLAGS..rom::FLAGS + st.harts.len() as u64).contains(&o) => {
                st.harts[(o - rom::FLAGS) as usize].flags
            }
            o if o >= rom::HALT_VECTOR => self
                .rom
                .get((o - rom::HALT_VECTOR) as usize)
                .copied()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// A hart reads `size` bytes at DM offset `off`.
    pub fn mem_read(&self, off: u64, size: usize) -> u64 {
        let st = self.lock();
        (0..size as u64).fold(0, |v, k| {
            v | (self.mem_byte(&st, off + k) as u64) << (8 * k)
        })
    }

    /// A hart writes `size` bytes of `val` at DM offset `off`.
    pub fn mem_write(&self, off: u64, size: usize, val: u64) {
        let mut st = self.lock();
        let hart = |v: u64, st: &State| (v as usize).min(st.harts.len().saturating_sub(1));
        match off {
            rom::HALTED => {
                let h = hart(val, &st);
                let hs = &mut st.harts[h];
                hs.halted = true;
                hs.stepping = false;
                if let Some((c, true)) = st.cmd_hart
                    && c == h
                {
                    st.busy = false;
                    st.cmd_hart = None;
                    self.after_command(&mut st);
                }
                self.changed.notify_all();
            }
            rom::GOING => {
                let h = hart(val, &st);
                st.harts[h].flags &= !rom::FLAG_GO;
                if let Some((c, _)) = st.cmd_hart
                    && c == h
                {
                    st.cmd_hart = Some((c, true));
                }
            }
            rom::EXCEPTION if st.busy => self.set_cmderr(&mut st, CmdErr::Exception),
            o if (rom::RESUMING..rom::RESUMING + 4 * st.harts.len() as u64).contains(&o) => {
                let h = ((o - rom::RESUMING) / 4) as usize;
                let hs = &mut st.harts[h];
                hs.halted = false;
                hs.resumeack = true;
                hs.flags &= !rom::FLAG_RESUME;
                hs.stepping = val & 4 != 0; // dcsr.step
                self.changed.notify_all();
            }
            o if (rom::DATA..rom::DATA + 4 * regs::DATA_COUNT as u64).contains(&o) => {
                for k in 0..size as u64 {
                    let b = o + k - rom::DATA;
                    if let Some(w) = st.data.get_mut((b / 4) as usize) {
                        let sh = 8 * (b % 4);
                        *w = (*w & !(0xff << sh)) | (((val >> (8 * k)) as u32 & 0xff) << sh);
                    }
                }
            }
            _ => {} // the ROM and the program areas are read-only for harts
        }
    }

    // ---------------------------------------------------------------- DMI side

    /// The harts `dmcontrol` selects: `hartsel`, plus the hart array mask with `hasel`.
    fn selected(&self, st: &State) -> Vec<usize> {
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
        let st = self.lock();
        if !st.dmactive && addr != regs::DMCONTROL {
            return 0;
        }
        match addr {
            a if (regs::DATA0..regs::DATA0 + regs::DATA_COUNT).contains(&a) => {
                let i = (a - regs::DATA0) as usize;
                let v = st.data[i];
                self.buffer_read(st, v, i)
            }
            regs::DMCONTROL => {
                let hi = st.hartsel >> 10 & 0x3ff;
                let lo = st.hartsel & 0x3ff;
                lo << dc::HARTSELLO_SHIFT
                    | hi << dc::HARTSELHI_SHIFT
                    | if st.hasel { dc::HASEL } else { 0 }
                    | st.dmactive as u32
            }
            regs::DMSTATUS => self.dmstatus(&st),
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
            regs::COMMAND => 0, // write-only
            regs::ABSTRACTAUTO => st.abstractauto,
            a if (regs::PROGBUF0..regs::PROGBUF0 + regs::PROGBUF_SIZE).contains(&a) => {
                let i = (a - regs::PROGBUF0) as usize;
                let v = st.progbuf[i];
                self.buffer_read(st, v, 16 + i)
            }
            _ => 0,
        }
    }

    /// Write DMI register `addr`. Writes to registers emu does not have are ignored.
    pub fn dmi_write(&self, addr: u8, v: u32) {
        let mut st = self.lock();
        if addr == regs::DMCONTROL {
            self.write_dmcontrol(st, v);
            return;
        }
        if !st.dmactive {
            return;
        }
        match addr {
            a if (regs::DATA0..regs::DATA0 + regs::DATA_COUNT).contains(&a) => {
                let i = (a - regs::DATA0) as usize;
                self.buffer_write(st, i, |st| st.data[i] = v);
            }
            a if (regs::PROGBUF0..regs::PROGBUF0 + regs::PROGBUF_SIZE).contains(&a) => {
                let i = (a - regs::PROGBUF0) as usize;
                self.buffer_write(st, 16 + i, |st| {
                    st.progbuf[i] = v;
                    self.retag(st);
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
                    self.set_cmderr(&mut st, CmdErr::Busy);
                } else {
                    let clear = v >> abstractcs::CMDERR_SHIFT & 7;
                    st.cmderr &= !clear;
                }
            }
            regs::COMMAND => {
                if st.busy {
                    self.set_cmderr(&mut st, CmdErr::Busy);
                    return;
                }
                st.command = v;
                if st.cmderr == 0 {
                    drop(self.execute(st));
                }
            }
            regs::ABSTRACTAUTO => {
                if st.busy {
                    self.set_cmderr(&mut st, CmdErr::Busy);
                    return;
                }
                let data_mask = (1u32 << regs::DATA_COUNT) - 1;
                st.abstractauto = v & (0xffff << 16 | data_mask);
            }
            _ => {}
        }
    }

    /// Read a data or program buffer word (`auto`: its bit in `abstractauto`): refused
    /// while a command runs; afterwards re-runs the command when the bit is set.
    fn buffer_read(&self, mut st: MutexGuard<'_, State>, value: u32, auto: usize) -> u32 {
        if st.busy {
            self.set_cmderr(&mut st, CmdErr::Busy);
            return 0;
        }
        if st.abstractauto >> auto & 1 != 0 {
            drop(self.autoexec(st));
        }
        value
    }

    /// Write a data or program buffer word with `set`, with the same rules.
    fn buffer_write(
        &self,
        mut st: MutexGuard<'_, State>,
        auto: usize,
        set: impl FnOnce(&mut State),
    ) {
        if st.busy {
            self.set_cmderr(&mut st, CmdErr::Busy);
            return;
        }
        set(&mut st);
        if st.abstractauto >> auto & 1 != 0 {
            drop(self.autoexec(st));
        }
    }

    fn set_cmderr(&self, st: &mut State, e: CmdErr) {
        if st.cmderr == 0 {
            st.cmderr = e as u32;
        }
    }

    fn dmstatus(&self, st: &State) -> u32 {
        let sel = self.selected(st);
        let mut v = ds::VERSION_1_0 | ds::AUTHENTICATED | ds::IMPEBREAK;
        let all = |f: &dyn Fn(&HartState) -> bool| {
            !sel.is_empty() && sel.iter().all(|&i| f(&st.harts[i]))
        };
        let any = |f: &dyn Fn(&HartState) -> bool| sel.iter().any(|&i| f(&st.harts[i]));
        type Test<'a> = &'a dyn Fn(&HartState) -> bool;
        let pairs: [(Test<'_>, u32, u32); 4] = [
            (&|h| h.halted, ds::ALLHALTED, ds::ANYHALTED),
            (&|h| !h.halted, ds::ALLRUNNING, ds::ANYRUNNING),
            (&|h| h.resumeack, ds::ALLRESUMEACK, ds::ANYRESUMEACK),
            (&|h| h.havereset, ds::ALLHAVERESET, ds::ANYHAVERESET),
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
            let lo = base as usize + (k * group) as usize;
            let hi = (lo + group as usize).min(st.harts.len());
            let any = (lo..hi).any(|i| st.harts[i].halted);
            v | (any as u32) << k
        })
    }

    fn write_dmcontrol(&self, mut st: MutexGuard<'_, State>, v: u32) {
        if v & dc::DMACTIVE == 0 {
            // Reset the DM (not the harts): registers back to their reset values.
            let n = st.harts.len();
            let keep: Vec<HartState> = st.harts.clone();
            *st = fresh_state(n);
            for (h, k) in st.harts.iter_mut().zip(keep) {
                h.halted = k.halted;
                h.havereset = k.havereset;
            }
            for p in &self.ports {
                p.haltreq.store(false, Ordering::Release);
            }
            self.retag(&mut st);
            return;
        }
        st.dmactive = true;
        let sel = (v >> dc::HARTSELHI_SHIFT & 0x3ff) << 10 | (v >> dc::HARTSELLO_SHIFT & 0x3ff);
        st.hartsel = sel & self.hartsel_mask();
        st.hasel = v & dc::HASEL != 0;
        let harts = self.selected(&st);
        if v & dc::ACKHAVERESET != 0 {
            for &h in &harts {
                st.harts[h].havereset = false;
            }
        }
        // haltreq is a per-hart bit written for the selected harts.
        let halt = v & dc::HALTREQ != 0;
        for &h in &harts {
            self.ports[h].haltreq.store(halt, Ordering::Release);
        }
        if halt {
            self.wake();
            st = self.wait(st, |s| harts.iter().all(|&h| s.harts[h].halted));
        } else if v & dc::RESUMEREQ != 0 {
            let mut any = false;
            for &h in &harts {
                let hs = &mut st.harts[h];
                hs.resumeack = false;
                if hs.halted {
                    hs.flags |= rom::FLAG_RESUME;
                    any = true;
                }
            }
            if any {
                self.wake();
                st = self.wait(st, |s| harts.iter().all(|&h| s.harts[h].resumeack));
                // A step: the first dmstatus read afterwards shows the hart halted again.
                st = self.wait(st, |s| harts.iter().all(|&h| !s.harts[h].stepping));
            }
        }
        drop(st);
    }

    /// Re-run the last command (abstractauto).
    fn autoexec<'a>(&self, st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if st.cmderr != 0 {
            return st;
        }
        self.execute(st)
    }

    /// Start `command` on the selected hart and wait for it to finish.
    fn execute<'a>(&self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let cmd = st.command;
        let hart = st.hartsel as usize;
        let prog = match self.build(cmd) {
            Ok(p) => p,
            Err(e) => {
                self.set_cmderr(&mut st, e);
                return st;
            }
        };
        if !st.harts.get(hart).is_some_and(|h| h.halted) {
            self.set_cmderr(&mut st, CmdErr::HaltResume);
            return st;
        }
        let Some(prog) = prog else {
            // Nothing to execute (no transfer, no postexec): done at once.
            self.after_command(&mut st);
            return st;
        };
        st.program = [EBREAK; rom::PROGRAM_WORDS];
        st.program[..prog.len()].copy_from_slice(&prog);
        self.retag(&mut st);
        st.busy = true;
        st.cmd_hart = Some((hart, false));
        st.harts[hart].flags |= rom::FLAG_GO;
        self.wake();
        self.wait(st, |s| !s.busy)
    }

    /// The program for `cmd`, `None` when it executes nothing, or the error.
    fn build(&self, cmd: u32) -> Result<Option<Vec<u32>>, CmdErr> {
        match cmd >> 24 {
            regs::cmdtype::ACCESS_REGISTER => {
                let size = cmd >> ar::AARSIZE_SHIFT & 7;
                let transfer = cmd & ar::TRANSFER != 0;
                let postexec = cmd & ar::POSTEXEC != 0;
                let mut prog = Vec::new();
                if transfer {
                    let bytes = match size {
                        2 => 4,
                        3 => 8,
                        _ => return Err(CmdErr::NotSupported),
                    };
                    let reg = Reg::from_regno(cmd & 0xffff).ok_or(CmdErr::NotSupported)?;
                    prog = program::transfer(reg, bytes, cmd & ar::WRITE != 0, self.caps)?;
                }
                if !transfer && !postexec {
                    return Ok(None);
                }
                program::finish(prog, postexec).map(Some)
            }
            _ => Err(CmdErr::NotSupported),
        }
    }

    /// After a command: `aarpostincrement` advances `regno`.
    fn after_command(&self, st: &mut State) {
        let cmd = st.command;
        if cmd >> 24 == regs::cmdtype::ACCESS_REGISTER
            && cmd & ar::POSTINCREMENT != 0
            && cmd & ar::TRANSFER != 0
        {
            let regno = (cmd & 0xffff).wrapping_add(1) & 0xffff;
            st.command = cmd & !0xffff | regno;
        }
    }
}
