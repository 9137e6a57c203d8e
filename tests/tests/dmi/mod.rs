//! The debugger side shared by the Debug Module tests: a machine running a counting loop,
//! and DMI helpers (halt, resume, Access Register).

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use emu_asm::reg::*;
use emu_core::{Engine, Interpreter};
use emu_dm::DebugModule;
use emu_dm::regs::{self, abstractcs, dmcontrol as dc};
use emu_jit::{JitConfig, JitEngine};
use emu_machine::{Console, Machine, MachineConfig, RunningMachine};

pub const BASE: u64 = emu_tests::debug_loop::BASE;
pub const DCSR: u32 = 0x7b0;
pub const DPC: u32 = 0x7b1;
pub const MINSTRET: u32 = 0xb02;

/// `loop: addi s0, s0, 1; addi s1, s1, 2; j loop` on every hart.
pub fn counting_loop() -> Vec<u8> {
    emu_tests::debug_loop::counting_elf()
}

pub fn start(engine: &str, harts: usize) -> RunningMachine {
    start_with(engine, harts, |_| {})
}

/// [`start`] with configuration changes.
pub fn start_with(
    engine: &str,
    harts: usize,
    f: impl FnOnce(&mut MachineConfig),
) -> RunningMachine {
    let (console, _) = Console::capture();
    let factory: emu_machine::EngineFactory = if engine == "jit" {
        Arc::new(|_| Box::new(JitEngine::new(JitConfig::default()).unwrap()) as Box<dyn Engine>)
    } else {
        Arc::new(|_| Box::new(Interpreter::default()) as Box<dyn Engine>)
    };
    let mut cfg = MachineConfig {
        harts,
        console,
        engine: Some(factory),
        ..MachineConfig::default()
    };
    f(&mut cfg);
    Machine::new(cfg, &counting_loop()).unwrap().start()
}

pub fn stop(m: RunningMachine) {
    m.signals.exit_host();
    let out = m.join();
    assert!(out.failed.is_empty());
}

/// A debugger's view of the DMI.
pub struct Dbg<'a>(pub &'a DebugModule);

impl Dbg<'_> {
    pub fn r(&self, a: u8) -> u32 {
        self.0.dmi_read(a)
    }
    pub fn w(&self, a: u8, v: u32) {
        self.0.dmi_write(a, v)
    }
    pub fn select(&self, hart: u32) {
        self.w(regs::DMCONTROL, hart << dc::HARTSELLO_SHIFT | dc::DMACTIVE);
    }
    pub fn halt(&self, hart: u32) {
        self.w(
            regs::DMCONTROL,
            dc::HALTREQ | hart << dc::HARTSELLO_SHIFT | dc::DMACTIVE,
        );
        self.select(hart);
    }
    pub fn resume(&self, hart: u32) {
        self.w(
            regs::DMCONTROL,
            dc::RESUMEREQ | hart << dc::HARTSELLO_SHIFT | dc::DMACTIVE,
        );
    }
    pub fn cmderr(&self) -> u32 {
        self.r(regs::ABSTRACTCS) >> abstractcs::CMDERR_SHIFT & 7
    }
    pub fn clear_cmderr(&self) {
        self.w(regs::ABSTRACTCS, 7 << abstractcs::CMDERR_SHIFT);
    }
    /// Access Register, 64-bit, transfer.
    pub fn access(&self, regno: u32, write: bool) {
        let w = if write { 1 << 16 } else { 0 };
        self.w(regs::COMMAND, 3 << 20 | 1 << 17 | w | regno);
        assert_eq!(
            self.r(regs::ABSTRACTCS) & abstractcs::BUSY,
            0,
            "synchronous"
        );
    }
    pub fn read_reg(&self, regno: u32) -> u64 {
        self.access(regno, false);
        self.r(regs::DATA0) as u64 | (self.r(regs::DATA0 + 1) as u64) << 32
    }
    pub fn write_reg(&self, regno: u32, v: u64) {
        self.w(regs::DATA0, v as u32);
        self.w(regs::DATA0 + 1, (v >> 32) as u32);
        self.access(regno, true);
    }
    pub fn gpr(&self, r: u8) -> u64 {
        self.read_reg(0x1000 + r as u32)
    }
    /// Halt `hart` once it is in the counting loop (it starts in the boot ROM).
    pub fn halt_in_loop(&self, hart: u32) {
        for _ in 0..1000 {
            self.halt(hart);
            let pc = self.read_reg(DPC);
            if (BASE..BASE + 12).contains(&pc) && self.gpr(S0) > 0 {
                return;
            }
            self.resume(hart);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        panic!("hart {hart} never reached the loop");
    }
}

pub fn each_engine(f: impl Fn(&str)) {
    for e in ["interp", "jit"] {
        eprintln!("engine {e}");
        f(e);
    }
}
