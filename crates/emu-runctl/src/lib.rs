//! # emu-runctl: the run-control API the debug front ends share
//!
//! Owns [`RunControl`]: halting, resuming and stepping harts (one, a group, all), reading
//! and writing their registers and memory, arming breakpoints and watchpoints, resets, and
//! stop events pushed to subscribers. Every operation is a sequence of DMI accesses to the
//! Debug Module, exactly as a hardware debugger would issue them through a DTM: the MCD
//! server and the GDB stub see the same halted state, causes and triggers as OpenOCD does
//! through the JTAG DTM.
//!
//! Layer map:
//! - [`types`]: hart sets, register ids, memory spaces, watch kinds, stop events;
//! - [`error`]: the error type, [`RcError`];
//! - [`regmap`]: GDB's register numbering and names, shared by the front ends;
//! - `session`: the DMI sequences (selection, abstract commands) under one lock;
//! - `progbuf`: trigger registers through one program-buffer command;
//! - `bulk`: every GPR and the pc in a few program-buffer commands;
//! - `counters`: instruction counters and runs of a number of instructions (`icount`);
//! - `datacond`: conditions on a watched access's value, as chained data triggers;
//! - [`control`]: [`RunControl`] itself; `memory`, `triggers` and `events` extend it;
//! - `walk`: the hart's page tables walked over the system bus, for long virtual reads and
//!   for writes past page protection.
//!
//! Must not depend on: the machine, the JIT or any front end (it sees only the
//! [`emu_dm::DebugModule`]; from the hart model, `emu-core`, it takes only the shapes of
//! the page tables its walk reads, [`emu_core::mmu::PageMode`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bulk;
pub mod control;
mod counters;
mod datacond;
pub mod error;
mod events;
mod memory;
pub mod monitor;
mod progbuf;
pub mod regmap;
mod session;
pub mod traps;
mod triggers;
pub mod types;
mod walk;

pub use control::RunControl;
pub use datacond::DataCond;
pub use error::{RcError, Result};
pub use events::{Closer, StopHook, Subscription};
pub use triggers::ICOUNT_MAX;
pub use types::{
    CoreRegs, HartSel, HartStatus, MemSpace, RegId, StopCause, StopEvent, TrapKind, TriggerId,
    WatchKind,
};
