//! The machine: configuration, loading a program, and running each hart on its own host
//! thread until the guest exits.

use std::sync::Arc;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use emu_core::{Bus, Engine, EngineExit, Hart, HartId, Interpreter, IsaConfig};
use emu_dm::{DebugModule, HartCaps};
use emu_isa::{Xlen, disasm};

use crate::bootrom::boot_rom;
use crate::bus::{Htif, SystemBus};
use crate::console::Console;
use crate::elf::{ElfError, LoadedElf, parse_elf};
use crate::map::{DM_BASE, DM_SIZE, RAM_BASE, RAM_DEFAULT_SIZE, ROM_BASE};
use crate::signals::{ExitReason, Signals};

/// Makes the execution engine of each hart (called once per hart, on the hart's thread).
pub type EngineFactory = Arc<dyn Fn(HartId) -> Box<dyn Engine> + Send + Sync>;

/// How to build a machine.
#[derive(Clone)]
pub struct MachineConfig {
    /// Number of harts (`--smp`).
    pub harts: usize,
    /// RAM size in bytes (`-m`).
    pub ram_size: u64,
    /// ISA override; `None` takes everything emu implements at the ELF's XLEN.
    pub isa: Option<IsaConfig>,
    /// Start with all harts halted until [`RunControl::resume`].
    pub halted: bool,
    /// Print every executed instruction to stderr.
    pub trace: bool,
    /// Stop after this many instructions per hart (tests and differential runs).
    pub max_instructions: Option<u64>,
    /// Where guest console output goes.
    pub console: Console,
    /// The execution engine; `None` is the reference interpreter.
    pub engine: Option<EngineFactory>,
    /// Sdtrig triggers per hart (`--triggers`).
    pub triggers: usize,
}

impl std::fmt::Debug for MachineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MachineConfig")
            .field("harts", &self.harts)
            .field("ram_size", &self.ram_size)
            .field("isa", &self.isa)
            .field("halted", &self.halted)
            .field("trace", &self.trace)
            .field("max_instructions", &self.max_instructions)
            .field("engine", &self.engine.is_some())
            .field("triggers", &self.triggers)
            .finish_non_exhaustive()
    }
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            harts: 1,
            ram_size: RAM_DEFAULT_SIZE,
            isa: None,
            halted: false,
            trace: false,
            max_instructions: None,
            console: Console::stdout(),
            engine: None,
            triggers: 8,
        }
    }
}

/// Why a machine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// The program image is unusable.
    #[error(transparent)]
    Elf(#[from] ElfError),
    /// The ISA override conflicts with the ELF.
    #[error("ISA is RV{isa} but the ELF is ELFCLASS{elf}")]
    XlenMismatch {
        /// XLEN of the ISA.
        isa: u32,
        /// Class of the ELF.
        elf: u32,
    },
    /// Bad configuration value.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Host resources (memory mapping) failed.
    #[error("host error: {0}")]
    Host(#[from] std::io::Error),
}

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// The guest's or host's exit request, or `None` when the instruction limit stopped it.
    pub reason: Option<ExitReason>,
    /// Final state of every hart whose thread finished normally.
    pub harts: Vec<Hart>,
    /// Ids of harts whose thread could not start or panicked (an emu bug, never the guest's
    /// doing); the other harts were stopped.
    pub failed: Vec<u32>,
}

impl RunOutcome {
    /// The process exit code emu should return.
    pub fn exit_code(&self) -> i32 {
        if !self.failed.is_empty() {
            return 70; // EX_SOFTWARE: internal error
        }
        match self.reason {
            Some(ExitReason::Guest(c)) => c,
            Some(ExitReason::Host) => 0,
            None => 124,
        }
    }
}

/// Halt/resume of whole harts from the host (the Debug Module replaces this with Debug Mode).
#[derive(Debug, Default)]
pub struct RunControl {
    halted: Mutex<bool>,
    cond: Condvar,
}

impl RunControl {
    /// Let halted harts run.
    pub fn resume(&self) {
        *self.halted.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.cond.notify_all();
    }

    /// Whether the harts are held.
    pub fn is_halted(&self) -> bool {
        *self.halted.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_running(&self, signals: &Signals) {
        let mut h = self.halted.lock().unwrap_or_else(|e| e.into_inner());
        while *h && !signals.exiting() {
            h = self
                .cond
                .wait_timeout(h, Duration::from_millis(50))
                .map(|r| r.0)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// A machine ready to run.
#[derive(Debug)]
pub struct Machine {
    /// The bus (RAM and devices).
    pub bus: Arc<SystemBus>,
    /// Harts in their reset state.
    pub harts: Vec<Hart>,
    /// Exit and wake-up signals.
    pub signals: Arc<Signals>,
    /// Host halt/resume.
    pub run_control: Arc<RunControl>,
    /// The Debug Module (DMI for debuggers; harts reach its memory in Debug Mode).
    pub dm: Arc<DebugModule>,
    config: MachineConfig,
}

/// A hart's thread (returning the hart and whether the instruction limit stopped it), or
/// the id of a hart whose thread could not start.
type HartThread = Result<(u32, thread::JoinHandle<(Hart, bool)>), u32>;

/// A machine whose harts run on their threads ([`Machine::start`]).
#[derive(Debug)]
pub struct RunningMachine {
    /// The bus.
    pub bus: Arc<SystemBus>,
    /// Exit and wake-up signals (`exit_host` stops the harts).
    pub signals: Arc<Signals>,
    /// Host halt/resume.
    pub run_control: Arc<RunControl>,
    /// The Debug Module.
    pub dm: Arc<DebugModule>,
    handles: Vec<HartThread>,
    console: Console,
}

impl Machine {
    /// Build a machine and load the ELF image `elf`.
    pub fn new(config: MachineConfig, elf: &[u8]) -> Result<Machine, MachineError> {
        let loaded = parse_elf(elf)?;
        Self::with_program(config, &loaded)
    }

    /// Build a machine around an already parsed program.
    pub fn with_program(config: MachineConfig, prog: &LoadedElf) -> Result<Machine, MachineError> {
        if config.harts == 0 || config.harts > 64 {
            return Err(MachineError::Config(format!(
                "--smp must be 1..=64, got {}",
                config.harts
            )));
        }
        if config.ram_size < 4096 || config.ram_size > (1 << 40) {
            return Err(MachineError::Config(format!(
                "RAM size {} is out of range",
                config.ram_size
            )));
        }
        let xlen = if prog.class_bits == 32 {
            Xlen::X32
        } else {
            Xlen::X64
        };
        let isa = config.isa.clone().unwrap_or_else(|| IsaConfig::full(xlen));
        if isa.xlen != xlen {
            return Err(MachineError::XlenMismatch {
                isa: isa.xlen.bits(),
                elf: prog.class_bits,
            });
        }
        prog.check_fits(RAM_BASE, RAM_BASE + config.ram_size)?;
        let signals = Arc::new(Signals::default());
        let mut bus = SystemBus::new(
            config.ram_size,
            config.harts,
            config.console.clone(),
            signals.clone(),
        )?;
        // RAM starts zeroed, which provides each segment's zero-filled tail.
        for seg in &prog.segments {
            bus.ram.write_bytes(seg.addr - RAM_BASE, &seg.data);
        }
        bus.set_rom(boot_rom(prog.entry, xlen));
        bus.set_htif(prog.tohost.map(|t| Htif {
            tohost: t,
            fromhost: prog.fromhost,
        }));
        let dm = Arc::new(DebugModule::new(
            config.harts,
            HartCaps {
                xlen,
                f: isa.f,
                d: isa.d,
            },
        ));
        bus.set_dm(dm.clone());
        let wake = signals.clone();
        dm.set_waker(Box::new(move || wake.wake_all()));
        let harts = (0..config.harts)
            .map(|i| {
                let mut h = Hart::new(HartId(i as u32), isa.clone(), ROM_BASE);
                h.debug.dm_range = Some((DM_BASE, DM_BASE + DM_SIZE));
                h.set_trigger_count(config.triggers);
                h
            })
            .collect();
        let run_control = Arc::new(RunControl::default());
        if config.halted {
            *run_control.halted.lock().unwrap_or_else(|e| e.into_inner()) = true;
        }
        Ok(Machine {
            bus: Arc::new(bus),
            harts,
            signals,
            run_control,
            dm,
            config,
        })
    }

    /// Run every hart on its own thread until the guest exits, the host asks to stop, or the
    /// instruction limit is reached.
    pub fn run(self) -> RunOutcome {
        self.start().join()
    }

    /// Start every hart on its own thread and return at once (debuggers drive the running
    /// machine through [`RunningMachine::dm`]).
    pub fn start(self) -> RunningMachine {
        let Machine {
            bus,
            harts,
            signals,
            run_control,
            dm,
            config,
        } = self;
        let handles: Vec<_> = harts
            .into_iter()
            .map(|hart| {
                let id = hart.id.0;
                let bus = bus.clone();
                let signals = signals.clone();
                let rc = run_control.clone();
                let dm = dm.clone();
                let cfg = config.clone();
                thread::Builder::new()
                    .name(format!("hart{}", hart.id.0))
                    .spawn(move || hart_thread(hart, &bus, &signals, &rc, &dm, &cfg))
                    .map_err(|_| id)
                    .map(|j| (id, j))
            })
            .collect();
        RunningMachine {
            bus,
            signals,
            run_control,
            dm,
            handles,
            console: config.console.clone(),
        }
    }
}

impl RunningMachine {
    /// Wait for every hart thread to finish (after the guest's or the host's exit request).
    pub fn join(self) -> RunOutcome {
        let RunningMachine {
            signals,
            handles,
            console,
            ..
        } = self;
        let mut out = Vec::new();
        let mut limit_hit = false;
        let mut failed = Vec::new();
        for h in handles {
            match h.map(|(id, j)| (id, j.join())) {
                Ok((_, Ok((hart, hit)))) => {
                    limit_hit |= hit;
                    out.push(hart);
                }
                Ok((id, Err(_))) | Err(id) => {
                    failed.push(id);
                    signals.exit_host();
                }
            }
        }
        console.flush();
        let reason = signals.exit_reason();
        RunOutcome {
            reason: if limit_hit && reason == Some(ExitReason::Host) {
                None
            } else {
                reason
            },
            harts: out,
            failed,
        }
    }
}

fn hart_thread(
    mut hart: Hart,
    bus: &SystemBus,
    signals: &Signals,
    rc: &RunControl,
    dm: &DebugModule,
    cfg: &MachineConfig,
) -> (Hart, bool) {
    let mut engine: Box<dyn Engine> = match (&cfg.engine, cfg.trace) {
        (_, true) => Box::new(Interpreter::with_trace(Box::new(trace))),
        (Some(f), false) => f(hart.id),
        (None, false) => Box::new(Interpreter::default()),
    };
    let mut executed: u64 = 0;
    let limit = cfg.max_instructions.unwrap_or(u64::MAX);
    rc.wait_running(signals);
    while !signals.exiting() {
        // A device write that may change interrupt lines bumps the wake generation; the engine
        // stops then so the new lines are seen before the next instruction. So does the
        // Debug Module when it asks something of the harts.
        let wake_gen = signals.generation();
        dm.service(&mut hart);
        let lines = bus.irq_lines(hart.id);
        let budget = engine.batch_hint().min(limit - executed);
        let stats = engine.run(&mut hart, bus, lines, budget, &mut || {
            signals.generation() != wake_gen
        });
        executed += stats.executed;
        if executed >= limit {
            signals.exit_host();
            return (hart, true);
        }
        if stats.exit == EngineExit::Waiting && hart.debug_mode {
            // Parked in the Debug Module's ROM: sleep until the DM (or anything) wakes the
            // harts, then let the ROM look at its flags again.
            signals.wait(wake_gen, Duration::from_millis(200));
            hart.waiting = false;
        } else if stats.exit == EngineExit::Waiting {
            let seen = signals.generation();
            if hart.mip(bus.irq_lines(hart.id)) & hart.csr.mie == 0 {
                let ns = bus
                    .clint
                    .ns_until_timer(hart.id.0 as usize)
                    .clamp(10_000, 10_000_000);
                signals.wait(seen, Duration::from_nanos(ns));
            }
        }
    }
    (hart, false)
}

fn trace(hart: &Hart, bus: &dyn Bus) {
    let text = match hart.fetch(bus) {
        Ok((i, raw)) => {
            let raw = if i.len == 2 {
                format!("{:#06x}    ", raw & 0xffff)
            } else {
                format!("{raw:#010x}")
            };
            format!("({raw}) {}", disasm(&i, hart.pc, hart.xlen()))
        }
        Err(e) => format!("fetch fault: {e:?}"),
    };
    eprintln!("core {:3}: {:#018x} {text}", hart.id.0, hart.pc);
}
