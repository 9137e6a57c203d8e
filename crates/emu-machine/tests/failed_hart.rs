//! A hart thread that panics (an emu bug, never the guest's doing) stops the machine and is
//! reported: the run names the hart and emu's exit code says internal error, not success.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::sync::Arc;

use emu_asm::{Asm, elf};
use emu_core::{Bus, Engine, Hart, RunStats};
use emu_isa::Xlen;
use emu_machine::{Console, EngineFactory, Machine, MachineConfig};

struct Broken;

impl Engine for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn run(
        &mut self,
        _: &mut Hart,
        _: &dyn Bus,
        _: u64,
        _: u64,
        _: &mut dyn FnMut() -> bool,
    ) -> RunStats {
        panic!("deliberate engine failure");
    }
}

#[test]
fn a_panicking_hart_thread_is_an_internal_error() {
    let mut a = Asm::new(Xlen::X64, 0x8000_0000);
    let l = a.here();
    a.j(l);
    let code = a.finish().unwrap();
    let image = elf::write_elf(Xlen::X64, 0x8000_0000, &code, 0x8000_0000, &[]);
    let factory: EngineFactory = Arc::new(|_| Box::new(Broken) as Box<dyn Engine>);
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        harts: 2,
        console,
        engine: Some(factory),
        ..MachineConfig::default()
    };
    let out = Machine::new(cfg, &image).unwrap().run();
    let mut failed = out.failed.clone();
    failed.sort();
    assert_eq!(failed, vec![0, 1]);
    assert_eq!(out.exit_code(), 70);
}
