//! # emu-mcd: the MCD API server (`emu --mcd-port`)
//!
//! Owns the wire side of the Multi-Core Debug API: each MCD API function is one JSON
//! command in QMP style (`{"execute": "mcd-step", "arguments": {...}}`), answered by one
//! `{"return": {..., "return-status": N}}` line (protocol: `docs/mcd.md`). Every command
//! runs on the run-control API ([`emu_runctl::RunControl`]), so MCD control goes through
//! the Debug Module like a hardware debugger, and MCD sees the same halted state,
//! registers and triggers as GDB and OpenOCD.
//!
//! Layers, each usable without the one after it:
//! - [`wire`]: the API's numeric values and the structures as they travel (serde);
//! - [`stream`]: splitting a byte stream into JSON objects, whatever arrives;
//! - [`error`]: MCD errors (`error-code` + text) and the `Result` alias;
//! - `args`: typed access to a command's `arguments`, with errors that name the member;
//! - `regs`: the REGISTERS space and register groups (GDB's numbering);
//! - [`session`]: one client's state (server and cores opened, triggers, last errors) and
//!   the dispatch of the 33 commands, implemented by theme in its submodules: the
//!   hierarchy, memory and registers, run control and reset, triggers;
//! - `txjson`: the reply to a transaction list, its data written from a table;
//! - [`server`]: the TCP listener, one client at a time, testable over any byte stream.
//!
//! Must not depend on the machine, the JIT, or any other front end.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
pub mod error;
mod regs;
pub mod server;
pub mod session;
pub mod stream;
mod txjson;

pub use emu_mcd_wire as wire;
pub use error::{McdError, Result};
pub use server::{McdServer, ServerInfo};
pub use session::{BlockKind, MemBlock, Session};
