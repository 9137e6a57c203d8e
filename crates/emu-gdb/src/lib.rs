//! # emu-gdb: the GDB remote serial protocol front end
//!
//! Owns `emu --gdb-port`: a TCP server speaking GDB's remote protocol through the `gdbstub`
//! crate, with every operation carried out through the run-control API (`emu-runctl`), so
//! GDB sees the same halted state, stop causes and triggers as the MCD and JTAG front ends.
//! Harts are GDB threads; registers use GDB's RISC-V numbering (shared with the MCD
//! REGISTERS space); software breakpoints are `ebreak`s written into memory (only the
//! blocks holding them are retranslated), hardware breakpoints and watchpoints are Sdtrig
//! triggers armed through the Debug Module.
//!
//! Layers: [`arch`] (register numbering, target description) → [`target`] (the machine as
//! a `gdbstub` target; [`hex`] encodes its `m` replies) → [`frame`] (whole packets only
//! reach the stub) → [`server`] (connections, stop events; `conn` buffers their replies).
//!
//! Must not depend on the machine, the JIT or the Debug Module's internals: the binary
//! hands it a [`emu_runctl::RunControl`] and a [`Host`] for what lies outside the harts.

pub mod arch;
mod conn;
pub mod frame;
pub mod hex;
pub mod server;
pub mod target;

/// What [`GdbServer::serve`] reads GDB's bytes from.
pub use emu_sock::Quiet;
pub use server::{Ended, GdbServer};

pub use target::EmuTarget;

/// A region of the guest's physical memory map (GDB's `info mem`, its memory map XML).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Read-only (GDB then uses hardware breakpoints there).
    pub rom: bool,
}

/// What the server needs from the emulator beyond the harts.
pub trait Host: Send + Sync {
    /// The guest's exit code, once the guest has ended.
    fn exit_code(&self) -> Option<i32>;
    /// The memory map.
    fn memory_map(&self) -> Vec<Region>;
    /// GDB's `kill`: end the emulator.
    fn kill(&self);
    /// The guest's ELF file, as an absolute path on this host (GDB's `qXfer:exec-file`: a
    /// GDB started without a file loads this one's symbols). None: nothing to offer (a
    /// built-in or embedded guest).
    fn exec_file(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// A [`Host`] with nothing to say: the guest never ends, no memory map, `kill` ignored
/// (for embedding the stub where the debugger only needs the harts, and for benches,
/// tests and fuzzing).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHost;

impl Host for NoHost {
    fn exit_code(&self) -> Option<i32> {
        None
    }
    fn memory_map(&self) -> Vec<Region> {
        Vec::new()
    }
    fn kill(&self) {}
}

/// `host` with `path` offered as the guest's ELF ([`Host::exec_file`]), for an embedder
/// whose host knows of no file (GDB then finds the guest's symbols by itself).
#[derive(Clone, Debug)]
pub struct WithExecFile<H> {
    /// Everything else.
    pub host: H,
    /// The guest's ELF, absolute.
    pub path: std::path::PathBuf,
}

impl<H: Host> Host for WithExecFile<H> {
    fn exit_code(&self) -> Option<i32> {
        self.host.exit_code()
    }
    fn memory_map(&self) -> Vec<Region> {
        self.host.memory_map()
    }
    fn kill(&self) {
        self.host.kill()
    }
    fn exec_file(&self) -> Option<std::path::PathBuf> {
        Some(self.path.clone())
    }
}
