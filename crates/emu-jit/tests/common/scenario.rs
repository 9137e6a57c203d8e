//! The scenario harness of the debug tests: a program at BASE, a spinning trap handler at
//! TRAP, the Debug Module's halt and exception vectors (spinning too) at HALT and EXC, and
//! code a `dret` resumes to at TARGET; every scenario runs on the interpreter, the JIT and
//! the JIT with one-instruction blocks, and must reach the state it states.

#![allow(clippy::unwrap_used, dead_code)] // tests: a panic is the failure report

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::debug::dcsr;
use emu_core::{Bus, DebugVectors, Engine, EngineExit, Hart, HartId, Interpreter, IsaConfig};
use emu_isa::{Op, Xlen};
use emu_jit::{JitConfig, JitEngine};
use emu_machine::SystemBus;

use super::BASE;

pub const TRAP: u64 = BASE + 0x400;
pub const HALT: u64 = BASE + 0x800;
pub const EXC: u64 = BASE + 0x880;
/// Where scenarios put code a `dret` resumes to.
pub const TARGET: u64 = BASE + 0x200;

pub const DCSR: u16 = 0x7b0;
pub const DPC: u16 = 0x7b1;
pub const DSCRATCH0: u16 = 0x7b2;
pub const MSTATUS_MPRV: u64 = 1 << 17;

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Interp,
    Jit,
    JitStep,
}

pub const KINDS: [Kind; 3] = [Kind::Interp, Kind::Jit, Kind::JitStep];

pub fn engine(kind: Kind) -> Box<dyn Engine> {
    match kind {
        Kind::Interp => Box::new(Interpreter::default()),
        Kind::Jit | Kind::JitStep => Box::new(
            JitEngine::new(JitConfig {
                single_step: matches!(kind, Kind::JitStep),
                ..JitConfig::default()
            })
            .unwrap(),
        ),
    }
}

pub struct Setup<'a> {
    /// Code at BASE.
    pub main: &'a dyn Fn(&mut Asm),
    /// Code at TARGET (where debug programs resume to).
    pub target: &'a dyn Fn(&mut Asm),
    pub hart: &'a dyn Fn(&mut Hart),
}

pub fn nothing(_: &mut Asm) {}

/// `j .`: where a run ends parked.
pub fn spin(a: &mut Asm) {
    let here = a.here();
    a.j(here);
}
pub fn as_is(_: &mut Hart) {}

pub fn assemble(base: u64, f: &dyn Fn(&mut Asm)) -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, base);
    f(&mut a);
    a.finish().unwrap()
}

pub fn prepare(s: &Setup<'_>) -> (SystemBus, Hart) {
    let bus = super::bus_with(&assemble(BASE, s.main));
    super::load(&bus, TARGET, &assemble(TARGET, s.target));
    for at in [TRAP, HALT, EXC] {
        super::load(&bus, at, &assemble(at, &spin));
    }
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    h.csr.mtvec = TRAP;
    h.debug.vectors = DebugVectors {
        halt: HALT,
        exception: EXC,
    };
    // User mode may run everywhere.
    h.csr.pmpaddr[0] = u64::MAX >> 10;
    h.csr.pmpcfg[0] = 0x1f;
    (s.hart)(&mut h);
    (bus, h)
}

/// Run for `budget` instructions (fewer if the hart waits); the instructions executed.
pub fn run(e: &mut dyn Engine, h: &mut Hart, bus: &SystemBus, budget: u64) -> u64 {
    let mut done = 0;
    for _ in 0..1000 {
        if done >= budget {
            break;
        }
        let r = e.run(h, bus, bus.irq_lines(h.id), budget - done, &mut || false);
        done += r.executed;
        if r.exit == EngineExit::Waiting {
            break;
        }
    }
    done
}

/// Run the scenario on every engine and check the result.
pub fn check(s: Setup<'_>, budget: u64, expect: &dyn Fn(&Hart, u64)) {
    for kind in KINDS {
        let (bus, mut h) = prepare(&s);
        let mut e = engine(kind);
        let n = run(e.as_mut(), &mut h, &bus, budget);
        eprintln!("{kind:?}");
        expect(&h, n);
    }
}

pub fn cause(h: &Hart) -> u32 {
    (h.debug.dcsr & dcsr::CAUSE) >> 6
}

/// Debug-mode code that resumes at TARGET with `dcsr` bits `set` (and `clear`ed).
pub fn resume_to_target(set: u32, clear: u32) -> impl Fn(&mut Asm) {
    move |a: &mut Asm| {
        a.li(T0, TARGET as i64);
        a.csrw(DPC, T0);
        a.li(T0, set as i64);
        a.csrs(DCSR, T0);
        a.li(T0, clear as i64);
        a.csrc(DCSR, T0);
        a.op0(Op::Dret);
    }
}

pub fn in_debug_mode(h: &mut Hart) {
    h.debug_mode = true;
}
