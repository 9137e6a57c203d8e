//! Sdext (Debug Specification 1.0, chapter 4): Debug Mode, `dcsr`, `dpc`, `dscratch0/1`,
//! `dret`, the reasons to enter Debug Mode and their priorities, single step through
//! `dcsr.step`, and what Debug Mode changes (no traps, no interrupts, counters and `time`
//! optionally stopped).
//!
//! The hart side only: the Debug Module (another crate) owns the ROM at
//! [`DebugVectors::halt`] that parks a halted hart, and raises halt requests by setting
//! [`DebugState::request`].

use crate::bus::Bus;
use crate::hart::{Hart, mstatus as ms};
use crate::types::Priv;

/// Why a hart entered Debug Mode (`dcsr.cause`). The derived order is the priority of the
/// Debug Specification's table, highest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DebugCause {
    /// The hart came out of reset with `resethaltreq` set (5).
    ResetHaltReq,
    /// Another hart of its halt group halted (6).
    Group,
    /// The debugger set `dmcontrol.haltreq` (3).
    HaltReq,
    /// A trigger with action 1 fired (2).
    Trigger,
    /// `ebreak` with the matching `dcsr.ebreak*` bit (1).
    Ebreak,
    /// One instruction stepped with `dcsr.step` (4).
    Step,
}

impl DebugCause {
    /// The `dcsr.cause` encoding.
    pub fn code(self) -> u32 {
        match self {
            DebugCause::Ebreak => 1,
            DebugCause::Trigger => 2,
            DebugCause::HaltReq => 3,
            DebugCause::Step => 4,
            DebugCause::ResetHaltReq => 5,
            DebugCause::Group => 6,
        }
    }

    /// The cause for a `dcsr.cause` value.
    pub fn from_code(code: u32) -> Option<DebugCause> {
        Some(match code {
            1 => DebugCause::Ebreak,
            2 => DebugCause::Trigger,
            3 => DebugCause::HaltReq,
            4 => DebugCause::Step,
            5 => DebugCause::ResetHaltReq,
            6 => DebugCause::Group,
            _ => return None,
        })
    }
}

/// Where Debug Mode code lives: the Debug Module's entry points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugVectors {
    /// Entered on every Debug Mode entry, and by `ebreak` in Debug Mode (the end of a
    /// program buffer).
    pub halt: u64,
    /// Entered when an instruction in Debug Mode raises an exception.
    pub exception: u64,
}

impl Default for DebugVectors {
    fn default() -> Self {
        DebugVectors {
            halt: 0x800,
            exception: 0x880,
        }
    }
}

/// `dcsr` bit positions and fields.
pub mod dcsr {
    /// `debugver` (31:28): 4 is version 1.0.
    pub const DEBUGVER: u32 = 4 << 28;
    /// `ebreakm`.
    pub const EBREAKM: u32 = 1 << 15;
    /// `ebreaks`.
    pub const EBREAKS: u32 = 1 << 13;
    /// `ebreaku`.
    pub const EBREAKU: u32 = 1 << 12;
    /// `stepie`: interrupts are taken while stepping.
    pub const STEPIE: u32 = 1 << 11;
    /// `stopcount`: counters stop in Debug Mode.
    pub const STOPCOUNT: u32 = 1 << 10;
    /// `stoptime`: `time` stops in Debug Mode.
    pub const STOPTIME: u32 = 1 << 9;
    /// `cause` (8:6).
    pub const CAUSE: u32 = 7 << 6;
    /// `mprven`: `mstatus.MPRV` applies in Debug Mode.
    pub const MPRVEN: u32 = 1 << 4;
    /// `step`.
    pub const STEP: u32 = 1 << 2;
    /// `prv` (1:0).
    pub const PRV: u32 = 3;
}

/// A hart's Sdext state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugState {
    /// `dcsr`, always legal (read-only fields included).
    pub dcsr: u32,
    /// `dpc`.
    pub dpc: u64,
    /// `dscratch0`, `dscratch1`.
    pub dscratch: [u64; 2],
    /// The hart resumed with `dcsr.step`: the next instruction (or the trap it or an
    /// interrupt causes) ends in Debug Mode.
    pub stepping: bool,
    /// A halt request from outside (resethaltreq, halt group, haltreq): taken at the next
    /// instruction boundary while not in Debug Mode. The Debug Module sets and clears it.
    pub request: Option<DebugCause>,
    /// The hart was nudged ([`crate::Hart::nudge`]) while stopped away from its `wfi`: what
    /// it parks on (the Debug Module's flags) may have changed since it last looked, so its
    /// next `wfi` in Debug Mode falls through once. Without it a hart stopped between
    /// reading its flags and its `wfi` would sleep on a change it never saw.
    pub nudged: bool,
    /// `time` as it was on entry to Debug Mode (read instead of `mtime` while in Debug Mode
    /// with `dcsr.stoptime`).
    pub frozen_time: u64,
    /// Where Debug Mode code lives.
    pub vectors: DebugVectors,
    /// Physical `[start, end)` of the Debug Module's memory: reachable only in Debug Mode
    /// (and there without PMP checks); an access fault anywhere else.
    pub dm_range: Option<(u64, u64)>,
}

impl Default for DebugState {
    fn default() -> Self {
        DebugState {
            dcsr: DEBUG_RESET,
            dpc: 0,
            dscratch: [0; 2],
            stepping: false,
            request: None,
            nudged: false,
            frozen_time: 0,
            vectors: DebugVectors::default(),
            dm_range: None,
        }
    }
}

/// `dcsr` after reset: version 1.0, `prv` = M, counters stopped in Debug Mode (so a
/// program stepped through the Debug Module counts what a free run counts), `mprven` on.
const DEBUG_RESET: u32 = dcsr::DEBUGVER | dcsr::STOPCOUNT | dcsr::MPRVEN | 3;

impl DebugState {
    /// Reset `dcsr` and the stepping state; the vectors and a pending request stay (a
    /// request is the Debug Module's to clear).
    pub fn reset(&mut self) {
        self.dcsr = DEBUG_RESET;
        self.dpc = 0;
        self.dscratch = [0; 2];
        self.stepping = false;
        self.nudged = false;
    }

    /// `dcsr.cause` as a [`DebugCause`] (None before the first entry).
    pub fn cause(&self) -> Option<DebugCause> {
        DebugCause::from_code((self.dcsr & dcsr::CAUSE) >> 6)
    }

    fn has(&self, bit: u32) -> bool {
        self.dcsr & bit != 0
    }
}

impl Hart {
    /// Counters do not advance: in Debug Mode with `dcsr.stopcount`.
    #[inline]
    pub fn counters_stopped(&self) -> bool {
        self.debug_mode && self.debug.has(dcsr::STOPCOUNT)
    }

    /// `mstatus.MPRV` takes effect: always outside Debug Mode, in it only with
    /// `dcsr.mprven`.
    #[inline]
    pub fn mprv_active(&self) -> bool {
        self.csr.mstatus & ms::MPRV != 0 && (!self.debug_mode || self.debug.has(dcsr::MPRVEN))
    }

    /// Interrupts may be taken: never in Debug Mode, and while stepping only with
    /// `dcsr.stepie`.
    #[inline]
    pub fn interrupts_allowed(&self) -> bool {
        !self.debug_mode && (!self.debug.stepping || self.debug.has(dcsr::STEPIE))
    }

    /// `ebreak` at the current privilege enters Debug Mode (`dcsr.ebreakm/s/u`).
    pub fn ebreak_enters_debug(&self) -> bool {
        let bit = match self.prv {
            Priv::M => dcsr::EBREAKM,
            Priv::S => dcsr::EBREAKS,
            Priv::U => dcsr::EBREAKU,
        };
        self.debug.has(bit)
    }

    /// Enter Debug Mode for `cause` with `dpc` = the current `pc`: record the privilege,
    /// switch to M-mode and jump to the halt vector. `bus` gives the time to freeze.
    pub fn enter_debug(&mut self, cause: DebugCause, bus: &dyn Bus) {
        let d = &mut self.debug;
        d.dcsr = (d.dcsr & !(dcsr::CAUSE | dcsr::PRV)) | cause.code() << 6 | self.prv as u32;
        d.dpc = self.pc;
        d.stepping = false;
        if d.has(dcsr::STOPTIME) {
            d.frozen_time = bus.mtime();
        }
        self.debug_mode = true;
        self.prv = Priv::M;
        self.pc = self.addr(self.debug.vectors.halt);
        self.waiting = false;
        self.exec_event = None;
        self.after_fire = None;
    }

    /// A hart parked in Debug Mode should look at what it parks on again (run it after
    /// this). Parked at its `wfi`, it goes on from there, round its loop to look. Stopped
    /// anywhere else, it may be between its look and its `wfi`: that `wfi` falls through
    /// once. (Only then: an extra round of the park loop would cost every command.)
    pub fn nudge(&mut self) {
        self.debug.nudged = !self.waiting;
        self.waiting = false;
    }

    /// `dret`: leave Debug Mode for `dpc` at `dcsr.prv`, single-stepping when `dcsr.step`.
    pub(crate) fn dret(&mut self) {
        let prv = Priv::from_bits((self.debug.dcsr & dcsr::PRV) as u64).unwrap_or(Priv::M);
        if prv != Priv::M {
            self.csr.mstatus &= !ms::MPRV;
        }
        if self.counters_stopped() {
            // dret itself is a Debug Mode instruction: it does not count either.
            self.instret_written = true;
            self.cycle_written = true;
        }
        self.prv = prv;
        self.pc = self.addr(self.debug.dpc & self.epc_mask());
        self.debug_mode = false;
        self.debug.stepping = self.debug.has(dcsr::STEP);
        self.debug.nudged = false;
        self.waiting = false;
    }

    /// A stepped instruction completed (retired or trapped) or an interrupt was taken
    /// while stepping: enter Debug Mode with cause step unless something of higher priority
    /// already brought the hart there.
    pub fn finish_step(&mut self, bus: &dyn Bus) {
        if self.debug.stepping {
            self.debug.stepping = false;
            if !self.debug_mode {
                self.enter_debug(DebugCause::Step, bus);
            }
        }
    }

    /// An exception raised in Debug Mode: no trap; `ebreak` (the end of a program buffer)
    /// goes back to the halt vector, anything else to the exception vector. No trap CSR
    /// changes.
    pub(crate) fn debug_exception(&mut self, ebreak: bool) {
        let v = &self.debug.vectors;
        self.pc = self.addr(if ebreak { v.halt } else { v.exception });
        self.waiting = false;
    }

    /// The hart is in Debug Mode and `[addr, addr + size)` lies in the Debug Module's
    /// memory, which it then reaches untranslated and unchecked by PMP.
    pub fn in_dm_window(&self, addr: u64, size: u64) -> bool {
        self.debug_mode
            && self
                .debug
                .dm_range
                .is_some_and(|(lo, hi)| addr >= lo && addr.saturating_add(size) <= hi)
    }

    /// `time` as the hart reads it (frozen in Debug Mode with `dcsr.stoptime`).
    pub(crate) fn time(&self, bus: &dyn Bus) -> u64 {
        if self.debug_mode && self.debug.has(dcsr::STOPTIME) {
            self.debug.frozen_time
        } else {
            bus.mtime()
        }
    }

    /// Read a core debug register (`dcsr`, `dpc`, `dscratch0/1`); None for other numbers.
    pub(crate) fn debug_csr_read(&self, csr: u16) -> Option<u64> {
        Some(match csr {
            0x7b0 => self.debug.dcsr as u64,
            0x7b1 => self.addr(self.debug.dpc & self.epc_mask()),
            0x7b2 => self.debug.dscratch[0],
            0x7b3 => self.debug.dscratch[1],
            _ => return None,
        })
    }

    /// Write a core debug register with its WARL rules; false for other numbers.
    pub(crate) fn debug_csr_write(&mut self, csr: u16, v: u64) -> bool {
        match csr {
            0x7b0 => {
                let mut writable = dcsr::EBREAKM
                    | dcsr::STEPIE
                    | dcsr::STOPCOUNT
                    | dcsr::STOPTIME
                    | dcsr::MPRVEN
                    | dcsr::STEP;
                if self.isa.s {
                    writable |= dcsr::EBREAKS;
                }
                if self.isa.u {
                    writable |= dcsr::EBREAKU;
                }
                let v = v as u32;
                let d = &mut self.debug.dcsr;
                *d = (*d & !writable) | (v & writable);
                // prv is WARL: a mode the hart lacks (or the reserved 2) keeps the old one.
                let prv = v & dcsr::PRV;
                let ok = match prv {
                    3 => true,
                    1 => self.isa.s,
                    0 => self.isa.u,
                    _ => false,
                };
                if ok {
                    *d = (*d & !dcsr::PRV) | prv;
                }
            }
            0x7b1 => self.debug.dpc = self.addr(v) & !1,
            0x7b2 => self.debug.dscratch[0] = v,
            0x7b3 => self.debug.dscratch[1] = v,
            _ => return false,
        }
        true
    }
}
