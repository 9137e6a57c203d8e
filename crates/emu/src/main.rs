//! # emu: the command-line emulator
//!
//! Owns the CLI (clap), the wiring of a machine from options, and process-level concerns:
//! reading the ELF, stdin to the UART, exit codes, one-line errors. Everything else lives in
//! the library crates.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use emu_core::IsaConfig;
use emu_machine::{Console, Machine, MachineConfig};

/// The built-in demo guest (assembled at build time by build.rs from src/demo_src.rs).
const DEMO_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/demo.elf"));

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// The reference interpreter.
    Interp,
    /// The Cranelift JIT (integer ALU, multiply, loads and stores, branches and jumps are
    /// translated; other instructions run through helpers).
    Jit,
}

/// emu: a RISC-V (RV32/RV64) system emulator with QEMU virt's memory map.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Guest ELF to run. Without one, emu runs its built-in demo guest.
    elf: Option<PathBuf>,
    /// Number of harts, each on its own host thread.
    #[arg(long, default_value_t = 1)]
    smp: usize,
    /// RAM size: bytes, or with a K, M or G suffix (default 128M).
    #[arg(short = 'm', long = "memory", default_value = "128M")]
    memory: String,
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// Start with all harts halted (for the debug front ends).
    #[arg(long)]
    halted: bool,
    /// Print every executed instruction with its disassembly to stderr.
    #[arg(long)]
    trace: bool,
    /// ISA string overriding the default (everything emu implements at the ELF's XLEN),
    /// e.g. rv64imac or rv32gc_zba_zbb.
    #[arg(long)]
    isa: Option<String>,
    /// Stop after this many instructions per hart (exit code 124).
    #[arg(long)]
    max_instructions: Option<u64>,
    /// Sdtrig triggers per hart (breakpoints and watchpoints a debugger can arm).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(0..=64))]
    triggers: u8,
    /// Require Debug Module authentication with this 32-bit shared secret (hex or decimal):
    /// a debugger must answer the challenge in `authdata` before the DM responds.
    #[arg(long, value_parser = parse_u32)]
    dm_auth_secret: Option<u32>,
    /// Keep harts that were unavailable (held in reset) reported unavailable until the
    /// debugger acknowledges (`dmstatus.stickyunavail`).
    #[arg(long)]
    dm_sticky_unavail: bool,
    /// The Debug Module's Access Register command reaches GPRs only, as in many small DMs:
    /// debuggers must read CSRs and FPRs through the program buffer.
    #[arg(long)]
    dm_abstract_gpr_only: bool,
    /// Serve GDB's remote protocol on this TCP port (0 picks one; emu prints it).
    #[arg(long)]
    gdb_port: Option<u16>,
    /// Shorthand for --gdb-port 1234 (as QEMU's -s).
    #[arg(short = 's')]
    gdb_default: bool,
    /// Shorthand for --halted (as QEMU's -S).
    #[arg(short = 'S')]
    halted_short: bool,
    /// Serve a JTAG Debug Transport Module over OpenOCD's remote_bitbang protocol on this
    /// TCP port (0 picks one; emu prints it). OpenOCD config: openocd/emu.cfg.
    #[arg(long, conflicts_with = "rbb_socket")]
    rbb_port: Option<u16>,
    /// Serve the remote_bitbang protocol on this Unix-domain socket instead of TCP (a
    /// socket left behind by an earlier emu is replaced; OpenOCD: `remote_bitbang port 0`,
    /// `remote_bitbang host PATH`).
    #[arg(long)]
    rbb_socket: Option<std::path::PathBuf>,
    /// Run-Test/Idle cycles each DMI operation needs before its result can be scanned out
    /// (the DTM advertises none): a debugger giving fewer sees `busy` and must recover
    /// with dmireset. For testing debuggers against slow silicon.
    #[arg(long, default_value_t = 0)]
    jtag_min_idle: u32,
    /// Serve the MCD API (QMP-style JSON, docs/mcd.md) on this TCP port; without a value,
    /// port 1235 (the MCD client library's default). 0 picks one; emu prints it.
    #[arg(long, num_args = 0..=1, default_missing_value = "1235")]
    mcd_port: Option<u16>,
    /// Address the MCD server listens on (default: --debug-listen).
    #[arg(long, requires = "mcd_port")]
    mcd_listen: Option<String>,
    /// Keep the host's idle CPUs polling instead of sleeping while emu runs (Linux PM QoS,
    /// `/dev/cpu_dma_latency`; needs permission to write it). On a virtual machine this
    /// takes tens of microseconds off every debugger round trip, at the cost of power on
    /// every CPU of the host; it affects the whole host, so it is off by default.
    #[arg(long)]
    low_latency: bool,
    /// Address the debug servers listen on (default 127.0.0.1: a debug port is full control
    /// of the machine).
    #[arg(long, default_value = "127.0.0.1")]
    debug_listen: String,
}

/// What the GDB server needs to know of the machine beyond its harts.
struct GdbHost {
    signals: Arc<emu_machine::Signals>,
    ram_size: u64,
    /// The guest ELF, absolute (None for the built-in demo guest).
    elf: Option<PathBuf>,
}

/// The machine's physical memory map as MCD memory blocks.
fn mcd_memory_map(ram_size: u64) -> Vec<emu_mcd::MemBlock> {
    use emu_machine::map::{RegionKind, regions};
    use emu_mcd::{BlockKind, MemBlock};
    regions(ram_size)
        .iter()
        .map(|r| MemBlock {
            name: r.name.into(),
            start: r.start,
            len: r.len,
            kind: match r.kind {
                RegionKind::Ram => BlockKind::Ram,
                RegionKind::Rom => BlockKind::Rom,
                RegionKind::Mmio => BlockKind::Mmio,
            },
        })
        .collect()
}

impl emu_gdb::Host for GdbHost {
    fn exit_code(&self) -> Option<i32> {
        match self.signals.exit_reason()? {
            emu_machine::ExitReason::Guest(c) => Some(c),
            emu_machine::ExitReason::Host => Some(0),
        }
    }

    fn memory_map(&self) -> Vec<emu_gdb::Region> {
        // GDB's map lists memory (it refuses accesses outside it): devices are left out.
        use emu_machine::map::{RegionKind, regions};
        regions(self.ram_size)
            .iter()
            .filter(|r| r.kind != RegionKind::Mmio)
            .map(|r| emu_gdb::Region {
                start: r.start,
                len: r.len,
                rom: r.kind == RegionKind::Rom,
            })
            .collect()
    }

    fn exec_file(&self) -> Option<PathBuf> {
        self.elf.clone()
    }

    fn kill(&self) {
        self.signals.exit_host();
    }
}

fn parse_u32(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|e| format!("{s:?} is not a 32-bit number: {e}"))
}

fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let (num, mul) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .with_context(|| format!("invalid memory size {s:?}"))?;
    n.checked_mul(mul)
        .with_context(|| format!("memory size {s:?} is too large"))
}

fn run(cli: Cli) -> Result<i32> {
    // Held until emu ends.
    let _latency = cli.low_latency.then(|| {
        emu_sock::hold_cpu_latency(0)
            .map_err(|e| {
                eprintln!(
                    "emu: --low-latency: cannot hold /dev/cpu_dma_latency ({e}); going on without"
                )
            })
            .ok()
    });
    let elf = match &cli.elf {
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => DEMO_ELF.to_vec(),
    };
    let isa = match &cli.isa {
        Some(s) => Some(IsaConfig::parse(s).with_context(|| format!("invalid --isa {s:?}"))?),
        None => None,
    };
    let engine: Option<emu_machine::EngineFactory> = match cli.engine {
        Engine::Interp => None,
        Engine::Jit => {
            // Fail early, with one line, when the host cannot run the JIT.
            emu_jit::JitEngine::new(emu_jit::JitConfig::default())
                .context("cannot start the JIT")?;
            Some(Arc::new(|_| {
                match emu_jit::JitEngine::new(emu_jit::JitConfig::default()) {
                    Ok(j) => Box::new(j) as Box<dyn emu_core::Engine>,
                    Err(_) => Box::new(emu_core::Interpreter::default()),
                }
            }))
        }
    };
    let console = Console::stdout();
    let gdb_port = cli.gdb_port.or(cli.gdb_default.then_some(1234));
    let halted = cli.halted || cli.halted_short;
    let ram_size = parse_size(&cli.memory)?;
    let config = MachineConfig {
        harts: cli.smp,
        ram_size,
        isa,
        halted,
        trace: cli.trace,
        max_instructions: cli.max_instructions,
        console: console.clone(),
        engine,
        triggers: cli.triggers as usize,
        dm_auth_secret: cli.dm_auth_secret,
        dm_sticky_unavail: cli.dm_sticky_unavail,
        dm_gpr_only_access: cli.dm_abstract_gpr_only,
    };
    let name = cli
        .elf
        .as_ref()
        .map_or("demo guest".to_string(), |p| p.display().to_string());
    let machine = Machine::new(config, &elf).with_context(|| format!("cannot load {name}"))?;
    let rbb = cli.rbb_port.is_some() || cli.rbb_socket.is_some();
    if cli.jtag_min_idle != 0 && !rbb {
        anyhow::bail!("--jtag-min-idle needs --rbb-port or --rbb-socket");
    }
    if cli.mcd_port.is_some() && rbb {
        anyhow::bail!(
            "--mcd-port and --rbb-port both drive the Debug Module; use one (MCD and GDB \
             can share it)"
        );
    }
    if gdb_port.is_some() && rbb {
        anyhow::bail!(
            "--gdb-port and --rbb-port both drive the Debug Module; use one (GDB can reach \
             emu through OpenOCD's GDB server)"
        );
    }
    if rbb {
        let signals = machine.signals.clone();
        let running = machine.start();
        let dtm = emu_jtag::Dtm::new(
            running.dm.clone(),
            emu_jtag::DtmConfig {
                min_idle: cli.jtag_min_idle,
                idle_hint: 0,
            },
        );
        let server = emu_jtag::RbbServer::new(dtm);
        server.set_reporter(Box::new(|s: emu_jtag::Session| {
            if s.ended == emu_jtag::Ended::Refused {
                eprintln!("emu: refused a remote bitbang probe: another one is connected");
                return;
            }
            eprintln!(
                "emu: remote bitbang probe left ({:?}): {} DMI operations, {} answered busy, \
                 {} stray bytes, {} reads",
                s.ended, s.dmi_ops, s.busy, s.ignored, s.reads
            );
        }));
        if let Some(path) = &cli.rbb_socket {
            server
                .listen_unix(path)
                .with_context(|| format!("cannot listen on {}", path.display()))?;
            eprintln!(
                "Listening for remote bitbang connection on {}.",
                path.display()
            );
        } else if let Some(port) = cli.rbb_port {
            let addr = server
                .listen((cli.debug_listen.as_str(), port))
                .with_context(|| format!("cannot listen on {}:{port}", cli.debug_listen))?;
            // Tools parse this line for the port (the words are Spike's).
            eprintln!(
                "Listening for remote bitbang connection on port {}.",
                addr.port()
            );
        }
        spawn_stdin(console, signals);
        return Ok(finish(running.join()));
    }
    if gdb_port.is_none() && cli.mcd_port.is_none() {
        if halted {
            eprintln!("emu: harts are halted; no debug front end is configured to resume them");
        }
        spawn_stdin(console, machine.signals.clone());
        return Ok(finish(machine.run()));
    };
    let signals = machine.signals.clone();
    let running = machine.start();
    // One run-control API for both front ends: they see the same harts and triggers.
    let rc = Arc::new(
        emu_runctl::RunControl::new(running.dm.clone())
            .context("the Debug Module has a run-control client already")?,
    );
    if let Some(port) = cli.mcd_port {
        let listen = cli.mcd_listen.as_deref().unwrap_or(&cli.debug_listen);
        let addr = emu_mcd::McdServer::with_memory_map(rc.clone(), mcd_memory_map(ram_size))
            .listen((listen, port))
            .with_context(|| format!("cannot listen on {listen}:{port}"))?;
        // Tools parse this line for the port.
        eprintln!("emu: MCD server listening on {addr}");
    }
    let gdb = match gdb_port {
        Some(port) => {
            let host = Arc::new(GdbHost {
                signals: signals.clone(),
                ram_size,
                // GDB may open it by this name from anywhere (it was read above, so it
                // exists; `canonicalize` fails only if it went since).
                elf: cli.elf.as_ref().and_then(|p| std::fs::canonicalize(p).ok()),
            });
            let server = emu_gdb::GdbServer::new(rc, host);
            let addr = server
                .listen((cli.debug_listen.as_str(), port))
                .with_context(|| format!("cannot listen on {}:{port}", cli.debug_listen))?;
            // Tools parse this line for the port.
            eprintln!("emu: GDB server listening on {addr}");
            Some(server)
        }
        None => None,
    };
    spawn_stdin(console, signals);
    let out = running.join();
    if let Some(server) = gdb {
        server.guest_exited(out.exit_code());
    }
    Ok(finish(out))
}

/// Report how the run ended; emu's exit code.
fn finish(out: emu_machine::RunOutcome) -> i32 {
    if !out.failed.is_empty() {
        eprintln!(
            "emu: internal error: hart thread(s) {:?} failed",
            out.failed
        );
    }
    if out.reason.is_none() {
        eprintln!("emu: instruction limit reached");
    }
    out.exit_code()
}

/// Feed host stdin to the guest UART.
fn spawn_stdin(console: Console, signals: Arc<emu_machine::Signals>) {
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut buf = [0u8; 256];
            let mut stdin = std::io::stdin();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        console.push_input(&buf[..n]);
                        signals.wake_all();
                    }
                }
            }
        });
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if cli.smp == 0 {
        eprintln!("emu: error: --smp must be at least 1");
        return ExitCode::from(2);
    }
    match run(cli) {
        Ok(code) => ExitCode::from((code & 0xff) as u8),
        Err(e) => {
            eprintln!("emu: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128M").ok(), Some(128 << 20));
        assert_eq!(parse_size("4096").ok(), Some(4096));
        assert_eq!(parse_size("1g").ok(), Some(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999G").is_err());
    }

    #[test]
    fn demo_is_embedded() {
        assert_eq!(&DEMO_ELF[..4], b"\x7fELF");
    }
}
