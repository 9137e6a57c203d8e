//! The Debug Module: its state, and the hart side of the protocol (the memory harts see in
//! Debug Mode). The DMI side is in `dmi.rs`, abstract commands in `command.rs`,
//! system bus access in `sba.rs`.
//!
//! Front ends (MCD, GDB, the JTAG DTM, the run-control API) call
//! [`DebugModule::dmi_read`] and [`DebugModule::dmi_write`] from their own threads. Harts
//! reach the DM only by executing the ROM and abstract programs, whose loads and stores
//! arrive as [`DebugModule::mem_read`] / [`DebugModule::mem_write`], and by
//! [`DebugModule::service`], which the machine calls before running a hart to hand over
//! halt requests. Commands complete synchronously: a DMI write that needs a hart to act
//! runs it on the caller's thread when it sleeps ([`Platform::run_here`]), or wakes it and
//! waits (a short spin on a progress counter, then a condition variable) with a time limit
//! after which `busy` simply stays set.
//!
//! Lock order: a hart (the machine's per-hart lock) before the DM's state, never the other
//! way round; the DM calls into the platform only with its state unlocked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use emu_core::{DebugCause, Hart};

use crate::auth::Authenticator;
use crate::control::Platform;
use crate::program::{EBREAK, HartCaps};
use crate::regs::{self, CmdErr};
use crate::rom;

/// How long a DMI access waits for harts to act before leaving `busy` (or the halted/running
/// state) to be observed later.
const WAIT: Duration = Duration::from_millis(500);
/// How long a waiting DMI access spins on the progress counter before it sleeps.
const SPIN: Duration = Duration::from_micros(200);
/// How long of that spin is without yielding the core.
const HOT_SPIN: Duration = Duration::from_micros(20);
/// How often a DMI access that sleeps waiting for harts wakes to offer to run them itself.
const OFFER_EVERY: Duration = Duration::from_millis(2);

/// Something harts did that front ends may want to know at once (the run-control API turns
/// these into stop events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmEvent {
    /// Hart `hart` entered Debug Mode; `dcsr` as it was on entry (its `cause` field says why).
    Halted {
        /// The hart.
        hart: usize,
        /// `dcsr` on entry.
        dcsr: u32,
        /// How many times the hart has halted, this halt included: a report of a halt that
        /// arrives late is told from a newer one by it.
        seq: u64,
    },
    /// Hart `hart` left Debug Mode (`step`: with `dcsr.step`, so it halts again shortly).
    Resumed {
        /// The hart.
        hart: usize,
        /// It resumed to execute one instruction.
        step: bool,
    },
    /// The harts were reset (`system`: with the devices).
    Reset {
        /// A system reset (`ndmreset`) rather than a hart reset.
        system: bool,
    },
}

/// Receives [`DmEvent`]s: called on the thread of whoever made the hart act, with the DM's
/// state locked (so before anyone sees the change an event reports). It must not call into
/// the Debug Module, nor block for long.
pub type EventSink = Box<dyn Fn(DmEvent) + Send + Sync>;

/// How the Debug Module is built beyond the hart count.
#[derive(Default)]
pub struct DmConfig {
    /// Require authentication through `authdata` (off by default).
    pub auth: Option<Box<dyn Authenticator>>,
    /// Unavailable harts stay reported unavailable until `ackunavail` (`stickyunavail`).
    pub sticky_unavail: bool,
    /// Access Register reaches GPRs only, as in many small Debug Modules: CSRs and FPRs
    /// answer `cmderr` 2 (not supported), so a debugger must use the program buffer.
    pub gpr_only_access: bool,
    /// Address of the configuration string, reported in `confstrptr0..3` (`None`: no
    /// configuration string, `confstrptrvalid` = 0).
    pub confstrptr: Option<u128>,
}

impl std::fmt::Debug for DmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmConfig")
            .field("auth", &self.auth.is_some())
            .field("sticky_unavail", &self.sticky_unavail)
            .field("gpr_only_access", &self.gpr_only_access)
            .field("confstrptr", &self.confstrptr)
            .finish()
    }
}

/// State of one hart as the DM tracks it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HartState {
    pub(crate) halted: bool,
    /// Halts so far (entries into the park loop from running).
    pub(crate) halts: u64,
    pub(crate) resumeack: bool,
    /// The hart resumed with `dcsr.step` and has not halted again yet.
    pub(crate) stepping: bool,
    pub(crate) havereset: bool,
    /// Flag byte the ROM reads (`FLAG_GO`, `FLAG_RESUME`, `FLAG_CLEANUP`).
    pub(crate) flags: u8,
    /// `hawindow` bit: in the hart array mask.
    pub(crate) in_array: bool,
    /// Halt out of reset (`setresethaltreq`).
    pub(crate) resethaltreq: bool,
    /// `setkeepalive`: a hint emu records (its harts never power down on their own).
    pub(crate) keepalive: bool,
    /// Held in reset (`hartreset` or `ndmreset` asserted): unavailable.
    pub(crate) held: bool,
    /// Was unavailable and not yet acknowledged (`stickyunavail`).
    pub(crate) was_unavail: bool,
    /// Halt group (0: none).
    pub(crate) halt_group: u8,
    /// Resume group (0: none).
    pub(crate) resume_group: u8,
    /// `dcsr` when the hart last entered Debug Mode.
    pub(crate) entry_dcsr: u32,
}

/// A running abstract command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cmd {
    pub(crate) hart: usize,
    /// The hart reported GOING (it runs the program or the cleanup).
    pub(crate) going: bool,
    /// The program has a cleanup to run after an exception.
    pub(crate) has_cleanup: bool,
    /// The borrowing part is over (the program buffer runs).
    pub(crate) xfer_done: bool,
    /// Quick Access: where it is.
    pub(crate) quick: Option<Quick>,
}

/// Quick Access steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quick {
    /// Waiting for the hart to halt.
    Halting,
    /// The program buffer runs.
    Running,
    /// The hart was told to resume.
    Resuming,
}

/// System bus access state.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sba {
    pub(crate) readonaddr: bool,
    pub(crate) access: u32,
    pub(crate) autoincrement: bool,
    pub(crate) readondata: bool,
    pub(crate) error: u32,
    pub(crate) address: u64,
    pub(crate) data: u64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) dmactive: bool,
    pub(crate) authenticated: bool,
    pub(crate) hartsel: u32,
    pub(crate) hasel: bool,
    pub(crate) hawindowsel: u32,
    pub(crate) data: [u32; regs::DATA_COUNT as usize],
    pub(crate) progbuf: [u32; regs::PROGBUF_SIZE as usize],
    pub(crate) abstractauto: u32,
    pub(crate) command: u32,
    pub(crate) busy: bool,
    pub(crate) cmderr: u32,
    pub(crate) cmd: Option<Cmd>,
    pub(crate) program: [u32; rom::PROGRAM_WORDS],
    pub(crate) cleanup: [u32; rom::CLEANUP_WORDS],
    /// Borrowed-register slots the programs use.
    pub(crate) save: [u8; 64],
    pub(crate) harts: Vec<HartState>,
    /// `ndmreset` as last written.
    pub(crate) ndmreset: bool,
    /// The board reset line (JTAG nRESET / SRST) is asserted.
    pub(crate) srst: bool,
    /// `dmcs2` selection: `grouptype`, `dmexttrigger`, `hgselect`.
    pub(crate) dmcs2: u32,
    /// Halt group of each external trigger input (`hgselect` = 1).
    pub(crate) ext_in_group: [u8; EXT_TRIGGERS],
    /// Halt group of each external trigger output.
    pub(crate) ext_out_group: [u8; EXT_TRIGGERS],
    /// How many times each external trigger output fired.
    pub(crate) ext_out_count: [u64; EXT_TRIGGERS],
    pub(crate) sba: Sba,
    /// The system bus, held through a batch of DMI reads (`dmi_read_many`).
    pub(crate) held_bus: crate::sba::HeldBus,
    /// Content of the program area → the tag the JIT keys those blocks by.
    pub(crate) tags: HashMap<Vec<u32>, u64>,
    pub(crate) next_tag: u64,
    /// The program buffer changed since the tag was worked out.
    pub(crate) tag_stale: bool,
    /// Events to deliver once the lock is released.
    pub(crate) events: Vec<DmEvent>,
    /// Commands already turned into programs.
    pub(crate) plans: HashMap<u32, Result<crate::command::Plan, CmdErr>>,
}

/// External trigger inputs and outputs of the DM (`dmcs2.dmexttrigger`).
pub const EXT_TRIGGERS: usize = 4;

/// Lock-free per-hart signals for whoever runs the hart.
#[derive(Debug, Default)]
pub(crate) struct Port {
    pub(crate) haltreq: AtomicBool,
    /// Halt for the hart's halt group.
    pub(crate) grouphalt: AtomicBool,
    /// Halt for a Quick Access command.
    pub(crate) quick: AtomicBool,
    /// Halt as soon as it runs after a reset (`resethaltreq`).
    pub(crate) resethalt: AtomicBool,
    /// Resumed without a step: whoever runs it may hand it back.
    pub(crate) released: AtomicBool,
    /// Asleep in a guest `wfi` (told by the hart's thread; for debuggers' state displays).
    pub(crate) wfi: AtomicBool,
}

/// A Debug Module for `n` harts.
pub struct DebugModule {
    pub(crate) state: Mutex<State>,
    pub(crate) changed: Condvar,
    /// Bumped whenever a hart reports something (waiters spin on it before sleeping).
    pub(crate) progress: AtomicU64,
    /// Waiters asleep on `changed` (notifying nobody costs a system call otherwise).
    pub(crate) sleepers: AtomicUsize,
    pub(crate) ports: Vec<Port>,
    pub(crate) caps: HartCaps,
    pub(crate) rom: Vec<u8>,
    /// Tag of the current program-area content ([`DebugModule::code_tag`]).
    pub(crate) tag: AtomicU64,
    pub(crate) platform: OnceLock<Box<dyn Platform>>,
    pub(crate) sink: OnceLock<EventSink>,
    pub(crate) auth: Mutex<Option<Box<dyn Authenticator>>>,
    pub(crate) sticky_unavail: bool,
    pub(crate) gpr_only_access: bool,
    pub(crate) confstrptr: Option<u128>,
}

impl std::fmt::Debug for DebugModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebugModule")
            .field("harts", &self.ports.len())
            .field("caps", &self.caps)
            .finish_non_exhaustive()
    }
}

pub(crate) fn fresh_state(n: usize, authenticated: bool) -> State {
    State {
        dmactive: false,
        authenticated,
        hartsel: 0,
        hasel: false,
        hawindowsel: 0,
        data: [0; regs::DATA_COUNT as usize],
        progbuf: [0; regs::PROGBUF_SIZE as usize],
        abstractauto: 0,
        command: 0,
        busy: false,
        cmderr: 0,
        cmd: None,
        program: [EBREAK; rom::PROGRAM_WORDS],
        cleanup: [EBREAK; rom::CLEANUP_WORDS],
        save: [0; 64],
        harts: vec![
            HartState {
                havereset: true,
                ..HartState::default()
            };
            n
        ],
        ndmreset: false,
        srst: false,
        dmcs2: 0,
        ext_in_group: [0; EXT_TRIGGERS],
        ext_out_group: [0; EXT_TRIGGERS],
        ext_out_count: [0; EXT_TRIGGERS],
        sba: Sba {
            access: 2,
            ..Sba::default()
        },
        held_bus: crate::sba::HeldBus::default(),
        tags: HashMap::new(),
        next_tag: 1,
        tag_stale: false,
        events: Vec::new(),
        plans: HashMap::new(),
    }
}

impl DebugModule {
    /// A Debug Module for `harts` harts (at most [`rom::MAX_HARTS`]) with capabilities `caps`.
    pub fn new(harts: usize, caps: HartCaps) -> DebugModule {
        Self::with_config(harts, caps, DmConfig::default())
    }

    /// A Debug Module with the options of `cfg`.
    pub fn with_config(harts: usize, caps: HartCaps, cfg: DmConfig) -> DebugModule {
        let harts = harts.clamp(1, rom::MAX_HARTS);
        let authenticated = cfg.auth.is_none();
        let dm = DebugModule {
            state: Mutex::new(fresh_state(harts, authenticated)),
            changed: Condvar::new(),
            progress: AtomicU64::new(0),
            sleepers: AtomicUsize::new(0),
            ports: (0..harts).map(|_| Port::default()).collect(),
            caps,
            rom: rom::rom(),
            tag: AtomicU64::new(0),
            platform: OnceLock::new(),
            sink: OnceLock::new(),
            auth: Mutex::new(cfg.auth),
            sticky_unavail: cfg.sticky_unavail,
            gpr_only_access: cfg.gpr_only_access,
            confstrptr: cfg.confstrptr,
        };
        {
            let mut st = dm.lock();
            dm.retag(&mut st);
        }
        dm
    }

    /// Install the platform (the machine that runs the harts). Only the first call counts.
    pub fn set_control(&self, p: Box<dyn Platform>) {
        let _ = self.platform.set(p);
    }

    /// Install the receiver of [`DmEvent`]s. Only the first call counts (false for the
    /// others).
    pub fn set_event_sink(&self, s: EventSink) -> bool {
        self.sink.set(s).is_ok()
    }

    /// How many times hart `h` has halted (the `seq` of its latest [`DmEvent::Halted`]).
    pub fn halts(&self, h: usize) -> u64 {
        self.lock().harts.get(h).map_or(0, |hs| hs.halts)
    }

    /// Hart `h`'s thread says whether the hart sleeps in a guest `wfi` (outside Debug
    /// Mode) until an interrupt.
    pub fn set_waiting(&self, h: usize, waiting: bool) {
        if let Some(p) = self.ports.get(h)
            && p.wfi.load(Ordering::Relaxed) != waiting
        {
            p.wfi.store(waiting, Ordering::Release);
        }
    }

    /// Whether hart `h` was last seen asleep in a guest `wfi` (a halt clears it).
    pub fn waiting(&self, h: usize) -> bool {
        self.ports
            .get(h)
            .is_some_and(|p| p.wfi.load(Ordering::Acquire))
    }

    /// Number of harts.
    pub fn harts(&self) -> usize {
        self.ports.len()
    }

    /// What the harts can do.
    pub fn caps(&self) -> HartCaps {
        self.caps
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deliver the events gathered under the state, then release it. Events first, so that
    /// whoever sees a change (a debugger waiting for the halt it asked for) knows the sink
    /// has had its event: told after the unlock, the sink could take a halt the debugger
    /// had already seen and finished with for one nobody asked for.
    pub(crate) fn unlock(&self, mut st: MutexGuard<'_, State>) {
        // Drained in place: the vector keeps its room for the next events.
        match self.sink.get() {
            Some(sink) => st.events.drain(..).for_each(sink),
            None => st.events.clear(),
        }
        drop(st);
    }

    pub(crate) fn wake(&self) {
        if let Some(p) = self.platform.get() {
            p.wake();
        }
    }

    /// Get `harts` to act on what was just written for them: run each on this thread if it
    /// sleeps; otherwise wake its thread, and if that thread has not done the work after a
    /// hot spin, keep offering to run the hart here (the thread lets go of it within a
    /// batch); then sleep (state unlocked meanwhile) until `done`, waking now and then to
    /// offer again.
    pub(crate) fn kick<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.drive(st, harts, done, true)
    }

    /// [`DebugModule::kick`] for harts already on their way (a step under way): the same,
    /// without waking their threads first.
    pub(crate) fn follow<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.drive(st, harts, done, false)
    }

    fn drive<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
        wake: bool,
    ) -> MutexGuard<'a, State> {
        if done(&st) {
            return st;
        }
        let Some(p) = self.platform.get() else {
            return self.wait(st, done);
        };
        // Progress as of now: anything the harts report from here on may finish the work.
        let mut seen = self.progress.load(Ordering::Acquire);
        self.unlock(st);
        let mut pending: Vec<usize> = harts.iter().copied().filter(|&h| !p.run_here(h)).collect();
        if wake && !pending.is_empty() {
            p.wake();
        }
        let start = Instant::now();
        let (until, hot, deadline) = (start + SPIN, start + HOT_SPIN, start + WAIT);
        while !pending.is_empty() {
            let t = Instant::now();
            if t >= until {
                break;
            }
            // A hart whose thread holds it is running on another core: its batch ends within
            // microseconds of the wake, so spin hot at first; then yield, as that thread may
            // have been preempted onto this core, and offer to run the hart here. Not
            // before: taking the hart from a thread that is about to act (between two
            // batches) moves it to a cold core, a microsecond lost in one halt of seven.
            let hot_now = t < hot;
            if hot_now {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            let now = self.progress.load(Ordering::Acquire);
            if now != seen {
                seen = now;
                let st = self.lock();
                if done(&st) {
                    return st;
                }
                self.unlock(st);
            }
            if !hot_now {
                pending.retain(|&h| !p.run_here(h));
            }
        }
        // Sleep until done (a hart run here may have work left for its own thread: a long
        // program buffer). While harts are pending, wake every OFFER_EVERY to offer again:
        // a hart's thread may be stuck where it cannot act (descheduled on a busy host, or
        // reporting an earlier halt to a front end whose lock this very caller holds), and
        // then only this thread can run the hart.
        let mut st = self.lock();
        loop {
            let t = Instant::now();
            if done(&st) || t >= deadline {
                return st;
            }
            if pending.is_empty() {
                return self.sleep_until(st, &done, deadline);
            }
            st = self.sleep_until(st, &done, (t + OFFER_EVERY).min(deadline));
            if done(&st) {
                return st;
            }
            self.unlock(st);
            pending.retain(|&h| !p.run_here(h));
            st = self.lock();
        }
    }

    /// Wait until `done` holds or the time limit passes: spin briefly on the progress
    /// counter (a hart running on another core answers in microseconds), then sleep.
    pub(crate) fn wait<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        if done(&st) {
            return st;
        }
        let until = Instant::now() + SPIN;
        loop {
            let seen = self.progress.load(Ordering::Acquire);
            self.unlock(st);
            // Yield while spinning: a hart thread just woken may have been queued on this
            // very core (the scheduler places a wakee next to its waker), where pure
            // spinning would keep it off the CPU for the whole spin.
            while self.progress.load(Ordering::Acquire) == seen && Instant::now() < until {
                std::thread::yield_now();
            }
            st = self.lock();
            if done(&st) || Instant::now() >= until {
                break;
            }
        }
        let deadline = Instant::now() + WAIT;
        self.sleep_until(st, &done, deadline)
    }

    /// Sleep on the condition variable until `done` holds or `until` (state unlocked
    /// meanwhile).
    fn sleep_until<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        done: &impl Fn(&State) -> bool,
        until: Instant,
    ) -> MutexGuard<'a, State> {
        let timeout = until.saturating_duration_since(Instant::now());
        // Counted while the lock is held, so a notifier (which holds it too) sees us.
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let st = self
            .changed
            .wait_timeout_while(st, timeout, |s| !done(s))
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0);
        self.sleepers.fetch_sub(1, Ordering::AcqRel);
        st
    }

    /// Harts reported something: wake waiters. Called with the state locked.
    pub(crate) fn notify(&self) {
        self.progress.fetch_add(1, Ordering::AcqRel);
        if self.sleepers.load(Ordering::Acquire) > 0 {
            self.changed.notify_all();
        }
    }

    // ---------------------------------------------------------------- hart side

    /// Called before a hart runs (by its thread, or whoever runs it): hand over pending halt
    /// requests. In Debug Mode there is nothing to request (and a stale request must not
    /// outlive a resume).
    #[inline]
    pub fn service(&self, hart: &mut Hart) {
        let Some(p) = self.ports.get(hart.id.0 as usize) else {
            return;
        };
        let want = if hart.debug_mode {
            None
        } else if p.haltreq.load(Ordering::Acquire) || p.quick.load(Ordering::Acquire) {
            Some(DebugCause::HaltReq)
        } else if p.grouphalt.load(Ordering::Acquire) {
            Some(DebugCause::Group)
        } else if p.resethalt.load(Ordering::Acquire) {
            Some(DebugCause::ResetHaltReq)
        } else {
            None
        };
        if hart.debug.request != want {
            hart.debug.request = want;
        }
    }

    /// Wait (up to `timeout`) until hart `h` is halted; whether it is.
    pub fn wait_halted(&self, h: usize, timeout: Duration) -> bool {
        let st = self.lock();
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let st = self
            .changed
            .wait_timeout_while(st, timeout, |s| !s.harts.get(h).is_some_and(|x| x.halted))
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0);
        self.sleepers.fetch_sub(1, Ordering::AcqRel);
        let halted = st.harts.get(h).is_some_and(|x| x.halted);
        self.unlock(st);
        halted
    }

    /// A halt request waits for hart `h` (it enters Debug Mode before its next instruction).
    pub fn halt_pending(&self, h: usize) -> bool {
        self.ports.get(h).is_some_and(|p| {
            p.haltreq.load(Ordering::Acquire)
                || p.quick.load(Ordering::Acquire)
                || p.grouphalt.load(Ordering::Acquire)
                || p.resethalt.load(Ordering::Acquire)
        })
    }

    /// Hart `h` resumed without a step since its last halt (whoever runs it may stop).
    pub fn released(&self, h: usize) -> bool {
        self.ports
            .get(h)
            .is_some_and(|p| p.released.load(Ordering::Acquire))
    }

    /// The platform reset `hart` (and holds or released it): record it, and have it halt
    /// before its first instruction if `resethaltreq` is set for it.
    pub fn hart_reset(&self, hart: &mut Hart) {
        let h = hart.id.0 as usize;
        let Some(p) = self.ports.get(h) else {
            return;
        };
        let mut st = self.lock();
        let busy_here = st.cmd.is_some_and(|c| c.hart == h);
        let hs = &mut st.harts[h];
        hs.havereset = true;
        hs.halted = false;
        hs.stepping = false;
        hs.resumeack = false;
        hs.flags = 0;
        let halt = hs.resethaltreq;
        p.resethalt.store(halt, Ordering::Release);
        p.grouphalt.store(false, Ordering::Release);
        p.quick.store(false, Ordering::Release);
        p.released.store(false, Ordering::Release);
        if busy_here {
            // The command's hart went away under it: the command ends, failed.
            st.busy = false;
            st.cmd = None;
            crate::command::set_cmderr(&mut st, CmdErr::Other);
        }
        self.service(hart);
        self.notify();
        self.unlock(st);
    }

    /// Set or clear `resethaltreq` for hart `h` directly (the machine's `--halted`).
    pub fn set_resethaltreq(&self, h: usize, on: bool) {
        let mut st = self.lock();
        if let Some(hs) = st.harts.get_mut(h) {
            hs.resethaltreq = on;
        }
    }

    /// The tag of the code at DM offset `off`: the program area's content changes with every
    /// command, so the JIT keys blocks there by this (same content, same tag: a repeated
    /// command reuses its translation). 0 elsewhere (the ROM never changes).
    pub fn code_tag(&self, off: u64) -> u64 {
        if (rom::PROGRAM..rom::FLAGS).contains(&off) {
            self.tag.load(Ordering::Acquire)
        } else {
            0
        }
    }

    pub(crate) fn retag(&self, st: &mut State) {
        let mut content: Vec<u32> = st.program.to_vec();
        content.extend_from_slice(&st.progbuf);
        content.extend_from_slice(&st.cleanup);
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
        st.tag_stale = false;
    }

    fn mem_byte(&self, st: &State, off: u64) -> u8 {
        let word = |w: u32, o: u64| (w >> (8 * (o % 4))) as u8;
        let n = st.harts.len() as u64;
        match off {
            o if (rom::SAVE..rom::SAVE + 64).contains(&o) => st.save[(o - rom::SAVE) as usize],
            o if (rom::DATA..rom::DATA + 4 * regs::DATA_COUNT as u64).contains(&o) => {
                word(st.data[((o - rom::DATA) / 4) as usize], o)
            }
            o if (rom::PROGRAM..rom::PROGBUF).contains(&o) => {
                word(st.program[((o - rom::PROGRAM) / 4) as usize], o)
            }
            o if (rom::PROGBUF..rom::IMPEBREAK).contains(&o) => {
                word(st.progbuf[((o - rom::PROGBUF) / 4) as usize], o)
            }
            o if (rom::IMPEBREAK..rom::CLEANUP).contains(&o) => word(EBREAK, o),
            o if (rom::CLEANUP..rom::FLAGS).contains(&o) => {
                let i = ((o - rom::CLEANUP) / 4) as usize;
                word(st.cleanup.get(i).copied().unwrap_or(EBREAK), o)
            }
            o if (rom::FLAGS..rom::FLAGS + n).contains(&o) => {
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
        let n = st.harts.len();
        let hart = |v: u64| (v as usize).min(n - 1);
        let per_hart = |base: u64| {
            (base..base + 4 * n as u64)
                .contains(&off)
                .then(|| ((off - base) / 4) as usize)
        };
        match off {
            rom::HALTED => {
                let h = hart(val);
                self.halted(&mut st, h);
            }
            rom::GOING => {
                let h = hart(val);
                st.harts[h].flags &= !(rom::FLAG_GO | rom::FLAG_CLEANUP);
                if let Some(c) = st.cmd.as_mut()
                    && c.hart == h
                {
                    c.going = true;
                }
            }
            rom::XFER_DONE => {
                if let Some(c) = st.cmd.as_mut() {
                    c.xfer_done = true;
                }
            }
            rom::EXCEPTION => crate::command::exception(&mut st),
            o if (rom::SAVE..rom::SAVE + 64).contains(&o) => {
                for k in 0..size.min(8) {
                    if let Some(b) = st.save.get_mut((o - rom::SAVE) as usize + k) {
                        *b = (val >> (8 * k)) as u8;
                    }
                }
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
            _ => {
                if let Some(h) = per_hart(rom::RESUMING) {
                    self.resuming(&mut st, h, val as u32);
                } else if let Some(h) = per_hart(rom::ENTERED) {
                    st.harts[h].entry_dcsr = val as u32;
                }
                // The ROM and the program areas are read-only for harts.
            }
        }
        self.unlock(st);
    }

    /// Hart `h` entered (or re-entered) the park loop.
    fn halted(&self, st: &mut State, h: usize) {
        let fresh = !st.harts[h].halted;
        let hs = &mut st.harts[h];
        hs.halted = true;
        hs.stepping = false;
        let dcsr = hs.entry_dcsr;
        let group = hs.halt_group;
        if fresh {
            hs.halts += 1;
            let seq = hs.halts;
            let p = &self.ports[h];
            p.released.store(false, Ordering::Release);
            p.grouphalt.store(false, Ordering::Release);
            p.resethalt.store(false, Ordering::Release);
            p.wfi.store(false, Ordering::Release);
            st.events.push(DmEvent::Halted { hart: h, dcsr, seq });
            // A hart that halted on its own halts its group (one halted for the group, cause
            // 6, is the group's doing already).
            if group != 0 && dcsr >> 6 & 7 != DebugCause::Group.code() {
                self.halt_group(st, group, Some(h));
            }
        }
        crate::command::hart_halted(self, st, h, fresh);
        self.notify();
    }

    /// Halt every running hart of halt group `g` (and pulse its external trigger outputs).
    pub(crate) fn halt_group(&self, st: &mut State, g: u8, except: Option<usize>) {
        let mut any = false;
        for (i, hs) in st.harts.iter().enumerate() {
            if hs.halt_group == g && Some(i) != except && !hs.halted && !hs.held {
                self.ports[i].grouphalt.store(true, Ordering::Release);
                any = true;
            }
        }
        for (k, &og) in st.ext_out_group.iter().enumerate() {
            if og == g {
                st.ext_out_count[k] += 1;
            }
        }
        if any {
            // The harts run on their own threads; they halt at their next batch.
            self.wake();
        }
    }

    /// Hart `h` is about to `dret` with `dcsr` = `dcsr`.
    fn resuming(&self, st: &mut State, h: usize, dcsr: u32) {
        let step = dcsr & 4 != 0;
        let hs = &mut st.harts[h];
        hs.halted = false;
        hs.resumeack = true;
        hs.flags &= !rom::FLAG_RESUME;
        hs.stepping = step;
        if !step {
            self.ports[h].released.store(true, Ordering::Release);
        }
        st.events.push(DmEvent::Resumed { hart: h, step });
        crate::command::hart_resumed(st, h);
        self.notify();
    }
}
