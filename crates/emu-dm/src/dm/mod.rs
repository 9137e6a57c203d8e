//! The Debug Module: its state, and the hart side of the protocol (the memory harts see in
//! Debug Mode, `hartside`) and the hand-off to harts' threads (`handoff`). The DMI side is
//! in `dmi.rs`, abstract commands in `command.rs`, system bus access in `sba.rs`.
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

use rustc_hash::FxHashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use emu_core::{DebugCause, Hart};

use crate::auth::Authenticator;
use crate::control::Platform;
use crate::program::{EBREAK, HartCaps};
use crate::regs::{self, CmdErr};
use crate::rom;

mod handoff;
mod hartside;

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
    /// The system bus, held through a batch of DMI accesses (`dmi_batch`, `dmi_read_many`).
    pub(crate) held_bus: crate::sba::HeldBus,
    /// Content of the program area → the tag the JIT keys those blocks by. (This map and
    /// `plans` hash what a debugger writes with a fast hash that does not resist chosen
    /// collisions; both are cleared at a few thousand entries, which bounds what such
    /// keys could cost a lookup.)
    pub(crate) tags: FxHashMap<Vec<u32>, u64>,
    pub(crate) next_tag: u64,
    /// The program buffer changed since the tag was worked out.
    pub(crate) tag_stale: bool,
    /// Events to deliver once the lock is released.
    pub(crate) events: Vec<DmEvent>,
    /// Commands already turned into programs.
    pub(crate) plans: FxHashMap<u32, Result<crate::command::Plan, CmdErr>>,
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
    /// What the DM asks of the parked hart (`FLAG_GO`, `FLAG_RESUME`, `FLAG_CLEANUP`): its
    /// park loop reads where they send it (`rom::next_entry`). Changed with the state
    /// locked, read by the hart without it: a hart that just reported a halt reads them at
    /// once, while the debugger that waited for the halt takes the state to finish its
    /// request; through the lock the two contended in a third of all halts.
    pub(crate) flags: AtomicU8,
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
    /// The GO entry's code (at `rom::GO_ENTRY`).
    pub(crate) go: Vec<u8>,
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
        tags: FxHashMap::default(),
        next_tag: 1,
        tag_stale: false,
        events: Vec::new(),
        plans: FxHashMap::default(),
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
            go: rom::go_entry(),
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

    /// Hart `h`'s latest halt: `dcsr` as it entered Debug Mode, and the halt's number (as
    /// [`DebugModule::halts`] counts them and the [`DmEvent::Halted`] of it says).
    pub fn last_halt(&self, h: usize) -> Option<(u32, u64)> {
        let st = self.lock();
        let r = st.harts.get(h).map(|hs| (hs.entry_dcsr, hs.halts));
        self.unlock(st);
        r
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
        self.deliver(&mut st);
        drop(st);
    }

    /// Hand the events gathered under the state to the sink (see [`DebugModule::unlock`]).
    pub(crate) fn deliver(&self, st: &mut State) {
        // Drained in place: the vector keeps its room for the next events.
        match self.sink.get() {
            Some(sink) => st.events.drain(..).for_each(sink),
            None => st.events.clear(),
        }
    }

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

    /// Wait (up to `timeout`, overrun by at most one of the DM's own waits) until hart
    /// `h` is halted; whether it is. The hart is run on this thread when its own thread
    /// does not take it up: that thread may be busy reporting an earlier halt to a front
    /// end whose lock the caller holds (a reset-and-halt right after a halt waited out
    /// its whole time that way, the hart untouched, until 2026-12-07).
    pub fn wait_halted(&self, h: usize, timeout: Duration) -> bool {
        if h >= self.ports.len() {
            return false;
        }
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        while !st.harts[h].halted && Instant::now() < deadline {
            st = self.kick(st, &[h], |s| s.harts[h].halted);
        }
        let halted = st.harts[h].halted;
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
        p.flags.store(0, Ordering::Release);
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
}
