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
//! - [`dm`]: [`DebugModule`], the DMI registers and the hart-side protocol.
//!
//! Must not depend on: the machine (it receives a waker and is mapped into the bus by the
//! machine), the JIT, or any front end.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dm;
pub mod program;
pub mod regs;
pub mod rom;

pub use dm::{DebugModule, Waker};
pub use program::HartCaps;
