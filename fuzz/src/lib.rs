//! What the fuzz targets share: a small running machine (two harts on the interpreter,
//! halted at reset, an endless loop at the start of RAM) and its run-control API, made
//! again when an input has ended it (a debugger may write the exit device).

use std::sync::{Arc, Mutex, MutexGuard};

use emu_machine::{Console, Machine, MachineConfig, RunningMachine};
use emu_runctl::RunControl;

/// A running machine and the run-control API on its Debug Module.
pub struct Rig {
    /// The machine.
    pub machine: RunningMachine,
    /// Its run-control API.
    pub rc: Arc<RunControl>,
    /// Which rig this is (1 for the first): servers made for one are not for the next.
    pub generation: u64,
}

/// The guest: an endless loop at the start of RAM.
pub fn elf() -> Vec<u8> {
    let mut a = emu_asm::Asm::new(emu_isa::Xlen::X64, 0x8000_0000);
    let top = a.here();
    a.j(top);
    let code = a.finish().expect("assemble");
    emu_asm::elf::write_elf(emu_isa::Xlen::X64, 0x8000_0000, &code, 0x8000_0000, &[])
}

impl Rig {
    fn new(generation: u64) -> Rig {
        let (console, _) = Console::capture();
        let cfg = MachineConfig {
            harts: 2,
            console,
            halted: true,
            ..MachineConfig::default()
        };
        let machine = Machine::new(cfg, &elf()).expect("the machine").start();
        let rc = Arc::new(RunControl::new(machine.dm.clone()).expect("run control"));
        Rig {
            machine,
            rc,
            generation,
        }
    }
}

/// The shared rig, alive (a new one if the last input ended the machine).
pub fn rig() -> MutexGuard<'static, Option<Rig>> {
    static RIG: Mutex<Option<Rig>> = Mutex::new(None);
    let mut g = RIG.lock().unwrap_or_else(|e| e.into_inner());
    let mut generation = 1;
    if g.as_ref().is_some_and(|r| r.machine.signals.exiting())
        && let Some(old) = g.take()
    {
        generation = old.generation + 1;
        old.machine.signals.exit_host();
        drop(old.machine.join());
    }
    if g.is_none() {
        *g = Some(Rig::new(generation));
    }
    g
}

/// Where an input splits into the chunks a socket might deliver: after byte `data[0]`
/// (modulo the length) and again half-way through the rest.
pub fn chunks(data: &[u8]) -> Vec<Vec<u8>> {
    let n = data.len();
    if n == 0 {
        return Vec::new();
    }
    let a = usize::from(data[0]) % n;
    let b = a + (n - a) / 2;
    [&data[..a], &data[a..b], &data[b..]]
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Where a server's replies go: nowhere.
pub struct Sink;

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
