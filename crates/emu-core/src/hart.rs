//! The hart's architectural state, trap entry, `xRET`, and the choice of which pending
//! interrupt to take.

use emu_isa::Xlen;

use crate::bus::Bus;
use crate::config::IsaConfig;
use crate::trap::{Exception, INTERRUPT_PRIORITY};
use crate::types::{HartId, Priv};

/// `mstatus` bit positions (RV64 layout; RV32 views are derived from it).
pub mod mstatus {
    /// S-mode interrupt enable.
    pub const SIE: u64 = 1 << 1;
    /// M-mode interrupt enable.
    pub const MIE: u64 = 1 << 3;
    /// S-mode previous interrupt enable.
    pub const SPIE: u64 = 1 << 5;
    /// M-mode previous interrupt enable.
    pub const MPIE: u64 = 1 << 7;
    /// S-mode previous privilege.
    pub const SPP: u64 = 1 << 8;
    /// M-mode previous privilege (2 bits).
    pub const MPP: u64 = 3 << 11;
    /// FP unit state (2 bits).
    pub const FS: u64 = 3 << 13;
    /// Modify privilege.
    pub const MPRV: u64 = 1 << 17;
    /// Permit supervisor user memory access.
    pub const SUM: u64 = 1 << 18;
    /// Make executable readable.
    pub const MXR: u64 = 1 << 19;
    /// Trap virtual memory.
    pub const TVM: u64 = 1 << 20;
    /// Timeout wait.
    pub const TW: u64 = 1 << 21;
    /// Trap sret.
    pub const TSR: u64 = 1 << 22;
    /// U-mode XLEN (RV64; read-only 2).
    pub const UXL: u64 = 3 << 32;
    /// S-mode XLEN (RV64; read-only 2).
    pub const SXL: u64 = 3 << 34;
}

/// An LR reservation: the physical address, size and the value loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// Physical address reserved.
    pub addr: u64,
    /// 4 or 8.
    pub size: usize,
    /// Value `lr` returned (zero-extended), compared by `sc`.
    pub value: u64,
}

/// All CSR storage. Fields hold the architectural value (WARL-legalised on write).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Csrs {
    pub mstatus: u64,
    pub medeleg: u64,
    pub mideleg: u64,
    pub mie: u64,
    /// Software-writable `mip` bits; device lines are ORed in on read.
    pub mip: u64,
    pub mtvec: u64,
    pub mcounteren: u64,
    pub mscratch: u64,
    pub mepc: u64,
    pub mcause: u64,
    pub mtval: u64,
    pub menvcfg: u64,
    pub mcountinhibit: u64,
    pub mcycle: u64,
    pub minstret: u64,
    pub stvec: u64,
    pub scounteren: u64,
    pub sscratch: u64,
    pub sepc: u64,
    pub scause: u64,
    pub stval: u64,
    pub satp: u64,
    pub senvcfg: u64,
    pub fflags: u8,
    pub frm: u8,
    pub pmpcfg: [u8; 16],
    pub pmpaddr: [u64; 16],
}

/// One hart.
#[derive(Clone, Debug)]
pub struct Hart {
    /// Hart index (`mhartid`).
    pub id: HartId,
    /// Implemented ISA.
    pub isa: IsaConfig,
    /// Integer registers. RV32 values are kept sign-extended to 64 bits.
    pub x: [u64; 32],
    /// Floating-point registers (NaN-boxed).
    pub f: [u64; 32],
    /// Program counter (zero-extended on RV32).
    pub pc: u64,
    /// Current privilege mode.
    pub prv: Priv,
    /// CSR state.
    pub csr: Csrs,
    /// LR reservation, if any.
    pub reservation: Option<Reservation>,
    /// The hart executed `wfi` and waits for an interrupt.
    pub waiting: bool,
    /// Sdext Debug Mode. Engines translate Debug Mode code separately (counters and the
    /// icount/itrigger triggers do not count it).
    pub debug_mode: bool,
    /// Sdext state: `dcsr`, `dpc`, `dscratch*`, stepping and halt requests.
    pub debug: crate::debug::DebugState,
    /// Sdtrig: the Trigger Module (8 triggers unless [`Hart::set_trigger_count`] says).
    pub triggers: crate::trigger::Triggers,
    /// Which trigger kinds are armed, and a version engines compare to what they translated
    /// for (recomputed on every trigger register write that changes what can match).
    pub trig: crate::sdtrig::TriggerSummary,
    /// The address filter in front of exact load/store trigger checks (read by the JIT's
    /// generated code).
    pub watch: crate::sdtrig::WatchHull,
    /// What each trigger chain may match ([`crate::trigger::Triggers::chain_covers`]), as
    /// of the last change: the watch hull and the JIT's invalidation both start from it.
    pub covers: Vec<crate::trigger::Cover>,
    /// The execute event last checked before its instruction (for `timing` = 1 triggers).
    pub(crate) exec_event: Option<crate::trigger::Event>,
    /// A trigger that acts after the current instruction retires.
    pub(crate) after_fire: Option<Exception>,
    /// A tmexttrigger input fired; taken at the next instruction boundary.
    pub(crate) ext_fire: Option<Exception>,
    /// Set by a CSR write to `minstret` so the retiring instruction does not also count.
    pub(crate) instret_written: bool,
    /// Set by a CSR write to `mcycle`, likewise.
    pub(crate) cycle_written: bool,
}

/// What [`Hart::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// An instruction retired.
    Retired,
    /// An exception was taken (the hart is now at its handler).
    Exception(Exception),
    /// An interrupt was taken (cause code).
    Interrupt(u64),
    /// The hart is waiting in `wfi` for an interrupt; nothing executed.
    Waiting,
    /// A halt request brought the hart into Debug Mode; nothing executed.
    Halted(crate::debug::DebugCause),
}

impl Hart {
    /// A hart in its reset state, about to fetch from `reset_pc` in M-mode.
    pub fn new(id: HartId, isa: IsaConfig, reset_pc: u64) -> Hart {
        let mut h = Hart {
            id,
            isa,
            x: [0; 32],
            f: [0; 32],
            pc: 0,
            prv: Priv::M,
            csr: Csrs::default(),
            reservation: None,
            waiting: false,
            debug_mode: false,
            debug: Default::default(),
            triggers: crate::trigger::Triggers::new(8),
            trig: Default::default(),
            watch: Default::default(),
            covers: Vec::new(),
            exec_event: None,
            after_fire: None,
            ext_fire: None,
            instret_written: false,
            cycle_written: false,
        };
        h.reset(reset_pc);
        h
    }

    /// Reset: M-mode, `mstatus.MIE = 0`, `MPRV = 0`, PMP off, everything else zero.
    pub fn reset(&mut self, reset_pc: u64) {
        self.x = [0; 32];
        self.f = [0; 32];
        self.pc = reset_pc;
        self.prv = Priv::M;
        self.csr = Csrs::default();
        if self.isa.xlen == Xlen::X64 {
            self.csr.mstatus = mstatus::UXL & (2 << 32) | mstatus::SXL & (2 << 34);
        }
        self.reservation = None;
        self.waiting = false;
        self.debug_mode = false;
        self.debug.reset();
        self.triggers = crate::trigger::Triggers::new(self.triggers.t.len());
        self.exec_event = None;
        self.after_fire = None;
        self.ext_fire = None;
        self.triggers_changed();
    }

    /// Base width.
    #[inline]
    pub fn xlen(&self) -> Xlen {
        self.isa.xlen
    }

    /// Normalise a value for an integer register (sign-extend on RV32).
    #[inline]
    pub fn norm(&self, v: u64) -> u64 {
        match self.isa.xlen {
            Xlen::X32 => v as u32 as i32 as i64 as u64,
            Xlen::X64 => v,
        }
    }

    /// Normalise an address (truncate to 32 bits on RV32).
    #[inline]
    pub fn addr(&self, v: u64) -> u64 {
        match self.isa.xlen {
            Xlen::X32 => v & 0xffff_ffff,
            Xlen::X64 => v,
        }
    }

    /// Write integer register `rd` (writes to x0 are dropped).
    #[inline]
    pub fn set_x(&mut self, rd: u8, v: u64) {
        if rd != 0 {
            self.x[rd as usize & 31] = self.norm(v);
        }
    }

    /// Read integer register `r`.
    #[inline]
    pub fn get_x(&self, r: u8) -> u64 {
        self.x[r as usize & 31]
    }

    /// The `mip` value: software bits plus the lines devices drive.
    #[inline]
    pub fn mip(&self, lines: u64) -> u64 {
        self.csr.mip | lines
    }

    /// The highest-priority interrupt that is pending, enabled and allowed at the current
    /// privilege, if any.
    pub fn pending_interrupt(&self, lines: u64) -> Option<u64> {
        let pending = self.mip(lines) & self.csr.mie;
        if pending == 0 {
            return None;
        }
        let m_on = self.prv < Priv::M || self.csr.mstatus & mstatus::MIE != 0;
        let s_on =
            self.prv < Priv::S || (self.prv == Priv::S && self.csr.mstatus & mstatus::SIE != 0);
        let m = if m_on { pending & !self.csr.mideleg } else { 0 };
        let s = if s_on { pending & self.csr.mideleg } else { 0 };
        for set in [m, s] {
            if let Some(&c) = INTERRUPT_PRIORITY.iter().find(|&&c| set >> c & 1 != 0) {
                return Some(c);
            }
        }
        None
    }

    /// Take a trap: exception `cause` (or interrupt if `interrupt`) with trap value `tval`,
    /// delegated to S-mode when `medeleg`/`mideleg` say so and the hart is not in M-mode.
    pub fn take_trap(&mut self, cause: u64, interrupt: bool, tval: u64) {
        let deleg = if interrupt {
            self.csr.mideleg
        } else {
            self.csr.medeleg
        };
        let to_s = self.prv <= Priv::S && deleg >> cause & 1 != 0;
        let int_bit = if interrupt {
            1u64 << (self.isa.xlen.bits() - 1)
        } else {
            0
        };
        let xcause = self.norm_u(cause | int_bit);
        let pc = self.pc;
        let ms = &mut self.csr.mstatus;
        let vec = if to_s { self.csr.stvec } else { self.csr.mtvec };
        if to_s {
            self.csr.scause = xcause;
            self.csr.sepc = pc;
            self.csr.stval = tval;
            let sie = *ms & mstatus::SIE != 0;
            *ms &= !(mstatus::SPIE | mstatus::SIE | mstatus::SPP);
            if sie {
                *ms |= mstatus::SPIE;
            }
            if self.prv == Priv::S {
                *ms |= mstatus::SPP;
            }
            self.prv = Priv::S;
        } else {
            self.csr.mcause = xcause;
            self.csr.mepc = pc;
            self.csr.mtval = tval;
            let mie = *ms & mstatus::MIE != 0;
            *ms &= !(mstatus::MPIE | mstatus::MIE | mstatus::MPP);
            if mie {
                *ms |= mstatus::MPIE;
            }
            *ms |= (self.prv as u64) << 11;
            self.prv = Priv::M;
            self.triggers.on_trap_to_m();
        }
        let base = vec & !3;
        self.pc = if vec & 3 == 1 && interrupt {
            base.wrapping_add(4 * cause)
        } else {
            base
        };
        self.pc = self.addr(self.pc);
        self.reservation = None;
        self.waiting = false;
        // The instruction did not retire: no trigger acts after it.
        self.exec_event = None;
        self.after_fire = None;
    }

    /// Value as the zero-extended XLEN-bit pattern (for CSRs, which are not sign-extended).
    pub(crate) fn norm_u(&self, v: u64) -> u64 {
        self.addr(v)
    }

    /// Take exception `e`. In Debug Mode nothing traps: the hart goes to the Debug
    /// Module's exception vector (or, for `ebreak`, back to its halt vector).
    /// [`Exception::EnterDebug`] enters Debug Mode (`bus` gives the time to freeze).
    pub fn raise(&mut self, e: Exception, bus: &dyn Bus) {
        if self.debug_mode {
            self.debug_exception(matches!(
                e,
                Exception::Breakpoint(_) | Exception::EnterDebug(_)
            ));
        } else if let Exception::EnterDebug(cause) = e {
            self.enter_debug(cause, bus);
        } else {
            self.trap_and_triggers(e.code(), false, e.tval(), bus);
        }
    }

    /// Execute one instruction (or take one interrupt). See [`StepOutcome`].
    pub fn step(&mut self, bus: &dyn Bus) -> StepOutcome {
        let lines = bus.irq_lines(self.id);
        self.step_with_lines(bus, lines)
    }

    /// What happens at an instruction boundary before the next instruction, in priority
    /// order: enter Debug Mode for a halt request (`Halted`), take a pending interrupt
    /// (`Interrupt`; while single-stepping, Debug Mode follows at the handler), or stay in
    /// `wfi` (`Waiting`: until an enabled interrupt is pending, or in Debug Mode until the
    /// Debug Module clears [`Hart::waiting`]). `None`: the hart goes on to execute. Every
    /// engine starts each step or block here.
    ///
    /// Nearly always nothing is due: that is answered inline from a few fields, without
    /// the call into the full check (a JIT dispatches tens of millions of blocks a second).
    #[inline]
    pub fn before_instruction(&mut self, lines: u64, bus: &dyn Bus) -> Option<StepOutcome> {
        let nothing_due = !self.waiting
            && (self.debug_mode
                || (self.debug.request.is_none()
                    && self.ext_fire.is_none()
                    && !self.trig.icount
                    && (self.mip(lines) & self.csr.mie == 0 || !self.interrupts_allowed())));
        if nothing_due {
            return None;
        }
        self.before_instruction_due(lines, bus)
    }

    /// [`Hart::before_instruction`] when something may be due.
    #[inline(never)]
    fn before_instruction_due(&mut self, lines: u64, bus: &dyn Bus) -> Option<StepOutcome> {
        if !self.debug_mode
            && let Some(cause) = self.debug.request
        {
            self.enter_debug(cause, bus);
            return Some(StepOutcome::Halted(cause));
        }
        if self.interrupts_allowed()
            && let Some(cause) = self.pending_interrupt(lines)
        {
            // An interrupt trap counts for icount like an instruction.
            self.icount_tick(self.prv, 1);
            self.trap_and_triggers(cause, true, 0, bus);
            self.finish_step(bus);
            return Some(StepOutcome::Interrupt(cause));
        }
        if let Some(e) = self.boundary_triggers(bus) {
            self.finish_step(bus);
            return Some(match e {
                Exception::EnterDebug(c) => StepOutcome::Halted(c),
                e => StepOutcome::Exception(e),
            });
        }
        if self.waiting {
            if self.debug_mode || self.mip(lines) & self.csr.mie == 0 {
                return Some(StepOutcome::Waiting);
            }
            self.waiting = false;
        }
        None
    }

    /// [`Hart::step`] with the device interrupt lines already sampled (run loops sample them
    /// once per batch of instructions rather than before every instruction).
    pub fn step_with_lines(&mut self, bus: &dyn Bus, lines: u64) -> StepOutcome {
        if let Some(outcome) = self.before_instruction(lines, bus) {
            return outcome;
        }
        let stepping = self.debug.stepping;
        let (prv, dm) = (self.prv, self.debug_mode);
        let outcome = match self.check_execute(bus).and_then(|()| self.execute_one(bus)) {
            Ok(()) => {
                self.check_execute_after();
                match self.take_after_fire() {
                    Some(e) => {
                        self.raise(e, bus);
                        StepOutcome::Exception(e)
                    }
                    None => StepOutcome::Retired,
                }
            }
            Err(e) => {
                self.exec_event = None;
                self.after_fire = None;
                self.raise(e, bus);
                StepOutcome::Exception(e)
            }
        };
        // icount: the instruction retired or trapped (not: Debug Mode entered instead).
        if !dm && !self.debug_mode {
            self.icount_tick(prv, 1);
        }
        if stepping {
            self.finish_step(bus);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::bus::RamBus;
    use crate::debug::{DebugCause, dcsr};

    /// Interrupt bits worth setting: software, timer and external, M and S.
    fn irqs() -> impl Strategy<Value = u64> {
        prop::sample::subsequence(vec![1u64, 3, 5, 7, 9, 11], 0..=6)
            .prop_map(|bits| bits.iter().fold(0, |m, b| m | 1 << b))
    }

    fn rare() -> impl Strategy<Value = bool> {
        prop::bool::weighted(0.15)
    }

    proptest! {
        /// The inline answer of `before_instruction` ("nothing due") is given only where
        /// the full check also finds nothing, and otherwise the full check decides: the
        /// same outcome and the same hart afterwards, whatever the request, interrupt,
        /// trigger, wait and step state.
        #[test]
        fn the_inline_check_agrees_with_the_full_one(
            // Each blocker rare enough that the interrupt paths are reached often.
            (waiting, debug_mode, ext, icount) in (rare(), rare(), rare(), rare()),
            (stepping, stepie) in any::<(bool, bool)>(),
            request in prop::option::weighted(0.2, prop::sample::select(vec![
                DebugCause::HaltReq, DebugCause::Group, DebugCause::ResetHaltReq,
            ])),
            mip in prop_oneof![irqs(), Just(0)],
            (mie, lines, mideleg) in (irqs(), irqs(), irqs()),
            mstatus in prop::sample::select(vec![0, mstatus::MIE, mstatus::SIE, mstatus::MIE | mstatus::SIE]),
            prv in prop::sample::select(vec![Priv::M, Priv::S, Priv::U]),
        ) {
            let bus = RamBus::new(0x8000_0000, 0x1000);
            let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), 0x8000_0000);
            h.waiting = waiting;
            h.debug_mode = debug_mode;
            h.debug.stepping = stepping;
            if stepie {
                h.debug.dcsr |= dcsr::STEPIE;
            }
            h.debug.request = request;
            h.ext_fire = ext.then_some(Exception::EnterDebug(DebugCause::Trigger));
            h.trig.icount = icount;
            h.csr.mip = mip;
            h.csr.mie = mie;
            h.csr.mideleg = mideleg;
            h.csr.mstatus |= mstatus;
            h.prv = prv;
            let mut full = h.clone();
            let a = h.before_instruction(lines, &bus);
            let b = full.before_instruction_due(lines, &bus);
            prop_assert_eq!(a, b);
            prop_assert_eq!(
                (h.pc, h.prv, h.debug_mode, h.waiting, h.debug.request, h.ext_fire),
                (full.pc, full.prv, full.debug_mode, full.waiting, full.debug.request, full.ext_fire)
            );
            prop_assert_eq!(&h.csr, &full.csr);
        }
    }
}
