//! # emu-dm: the RISC-V Debug Module (Debug Specification 1.0, chapter 3)
//!
//! Owns the Debug Module: its DMI registers (what a debugger reads and writes through a
//! DTM, or in-process), the memory it shows harts in Debug Mode at physical 0x0..0x1000
//! (ROM, abstract program, program buffer, data registers, per-hart flags), and the
//! abstract commands, which it turns into short programs the hart executes: the DM is
//! execution-based, as the spec describes, so whatever engine runs the hart (the JIT)
//! runs the debug code too.
//!
//! Layer map:
//! - [`regs`]: DMI register addresses and fields;
//! - [`rom`]: the DM's memory map and the park ROM (the project's own assembly);
//! - [`program`]: abstract commands as programs;
//! - [`control`]: what the DM needs from the machine ([`Platform`]);
//! - [`later`]: work an event sink leaves for a hart's own thread, for when it lets go of
//!   the hart;
//! - [`dm`]: [`DebugModule`], its state and the hart-side protocol; `dmi` (register
//!   reads, writes and batches), `harts` (selection, `dmstatus`, `dmcontrol`'s requests
//!   and resets, groups), `command` (abstract commands), `sba` (system bus access) and
//!   [`auth`] extend it.
//!
//! Must not depend on: the machine (it receives a [`Platform`] and is mapped into the bus
//! by the machine), the JIT, or any front end.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod command;
pub mod control;
pub mod dm;
mod dmi;
mod harts;
pub mod later;
pub mod program;
pub mod regs;
pub mod rom;
mod sba;

pub use auth::{Authenticator, SharedSecret};
pub use control::Platform;
pub use dm::{DebugModule, DmConfig, DmEvent, EXT_TRIGGERS, EventSink};
pub use dmi::DmiOp;
pub use program::HartCaps;
