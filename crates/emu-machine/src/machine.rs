//! The machine: configuration, loading a program, and running each hart on its own host
//! thread until the guest exits.

use std::sync::Arc;
use std::thread;

use emu_core::{Bus, Engine, Hart, HartId, IsaConfig};
use emu_dm::{DebugModule, DmConfig, HartCaps, SharedSecret};
use emu_isa::{Xlen, disasm};

use crate::bootrom::boot_rom;
use crate::bus::{Htif, SystemBus};
use crate::console::Console;
use crate::elf::{ElfError, LoadedElf, Segment, parse_elf};
use crate::harts::{Driver, HartCell, HartSet, hart_ctx, hart_thread};
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
    /// Start with every hart halted in Debug Mode before its first instruction (cause
    /// resethaltreq), for a debugger to resume.
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
    /// Debug Module authentication: the shared secret of [`emu_dm::SharedSecret`]
    /// (`None`: no authentication, the default).
    pub dm_auth_secret: Option<u32>,
    /// Debug Module `stickyunavail`: harts that were unavailable (held in reset) stay
    /// reported so until the debugger acknowledges with `ackunavail`.
    pub dm_sticky_unavail: bool,
    /// The Debug Module's Access Register reaches GPRs only (CSRs and FPRs through the
    /// program buffer), as in many small Debug Modules.
    pub dm_gpr_only_access: bool,
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
            .field("dm_auth", &self.dm_auth_secret.is_some())
            .field("dm_sticky_unavail", &self.dm_sticky_unavail)
            .field("dm_gpr_only_access", &self.dm_gpr_only_access)
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
            dm_auth_secret: None,
            dm_sticky_unavail: false,
            dm_gpr_only_access: false,
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

/// A machine ready to run.
#[derive(Debug)]
pub struct Machine {
    /// The bus (RAM and devices).
    pub bus: Arc<SystemBus>,
    /// Harts in their reset state.
    pub harts: Vec<Hart>,
    /// Exit and wake-up signals.
    pub signals: Arc<Signals>,
    /// The Debug Module (DMI for debuggers; harts reach its memory in Debug Mode).
    pub dm: Arc<DebugModule>,
    /// The program's segments, reloaded by a system reset.
    image: Arc<Vec<Segment>>,
    config: MachineConfig,
}

/// A hart's thread (returning whether the instruction limit stopped it), or
/// the id of a hart whose thread could not start.
type HartThread = Result<(u32, thread::JoinHandle<bool>), u32>;

/// A machine whose harts run on their threads ([`Machine::start`]).
#[derive(Debug)]
pub struct RunningMachine {
    /// The bus.
    pub bus: Arc<SystemBus>,
    /// Exit and wake-up signals (`exit_host` stops the harts).
    pub signals: Arc<Signals>,
    /// The Debug Module.
    pub dm: Arc<DebugModule>,
    handles: Vec<HartThread>,
    set: Arc<HartSet>,
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
        let dm = Arc::new(DebugModule::with_config(
            config.harts,
            HartCaps {
                xlen,
                f: isa.f,
                d: isa.d,
            },
            DmConfig {
                auth: config
                    .dm_auth_secret
                    .map(|s| Box::new(SharedSecret::new(s)) as Box<dyn emu_dm::Authenticator>),
                sticky_unavail: config.dm_sticky_unavail,
                gpr_only_access: config.dm_gpr_only_access,
                confstrptr: None,
            },
        ));
        bus.set_dm(dm.clone());
        let harts: Vec<Hart> = (0..config.harts)
            .map(|i| {
                let mut h = Hart::new(HartId(i as u32), isa.clone(), ROM_BASE);
                h.debug.dm_range = Some((DM_BASE, DM_BASE + DM_SIZE));
                h.set_trigger_count(config.triggers);
                h
            })
            .collect();
        if config.halted {
            // Halted from the first instruction, in Debug Mode (cause resethaltreq).
            for h in 0..config.harts {
                dm.set_resethaltreq(h, true);
            }
        }
        let harts = harts
            .into_iter()
            .map(|mut h: Hart| {
                dm.hart_reset(&mut h);
                h
            })
            .collect();
        Ok(Machine {
            bus: Arc::new(bus),
            harts,
            signals,
            dm,
            image: Arc::new(prog.segments.clone()),
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
            dm,
            image,
            config,
        } = self;
        // Every hart is in its cell before any thread runs (a reset or a debugger may come
        // before a thread is scheduled).
        let ids: Vec<u32> = harts.iter().map(|h| h.id.0).collect();
        let set = Arc::new(HartSet {
            cells: harts
                .into_iter()
                .map(|hart| HartCell::new(hart_ctx(hart, config.engine.as_ref(), config.trace)))
                .collect(),
            signals: signals.clone(),
        });
        // A wake (halt request, interrupt line) reaches harts spinning in translated loops.
        signals.set_preempt(
            set.cells
                .iter()
                .filter_map(|c| c.lock().as_ref().and_then(|ctx| ctx.engine.preempt()))
                .collect(),
        );
        dm.set_control(Box::new(Driver {
            set: set.clone(),
            bus: Arc::downgrade(&bus),
            image,
            reset_pc: ROM_BASE,
        }));
        let limit = config.max_instructions.unwrap_or(u64::MAX);
        let handles: Vec<_> = ids
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let bus = bus.clone();
                let set = set.clone();
                thread::Builder::new()
                    .name(format!("hart{id}"))
                    .spawn(move || hart_thread(i, &set, &bus, limit))
                    .map_err(|_| id)
                    .map(|j| (id, j))
            })
            .collect();
        if config.halted {
            // Debuggers attach to harts that are halted already.
            for h in 0..dm.harts() {
                dm.wait_halted(h, std::time::Duration::from_secs(5));
            }
        }
        RunningMachine {
            bus,
            signals,
            dm,
            handles,
            set,
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
            set,
            ..
        } = self;
        let mut out = Vec::new();
        let mut limit_hit = false;
        let mut failed = Vec::new();
        for h in handles {
            match h.map(|(id, j)| (id, j.join())) {
                Ok((id, Ok(hit))) => {
                    limit_hit |= hit;
                    match set.cells.get(id as usize).and_then(|c| c.lock().take()) {
                        Some(ctx) => out.push(ctx.hart),
                        None => failed.push(id),
                    }
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

pub(crate) fn trace(hart: &Hart, bus: &dyn Bus) {
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
