//! # emu-machine: the `virt` board
//!
//! Owns the physical machine around the harts: guest RAM (one anonymous mapping), the boot
//! ROM, the UART 16550, CLINT, PLIC and SiFive test finisher at QEMU `virt`'s addresses, HTIF
//! `tohost`/`fromhost`, ELF loading, and the threads that run the harts.
//!
//! Layer map: [`map`] (addresses) → [`ram`], [`dev`] (devices), [`console`], [`signals`] →
//! [`bus`] (the [`emu_core::Bus`] implementation) → [`elf`], [`bootrom`] → [`machine`].
//!
//! Depends on emu-core and emu-isa only; it knows nothing of the JIT or debug front ends
//! (they plug in through emu-core's traits).
#![warn(missing_docs)]

pub mod bootrom;
pub mod bus;
pub mod console;
pub mod dev;
pub mod elf;
mod harts;
pub mod hostwrites;
pub mod machine;
pub mod map;
pub mod ram;
pub mod signals;

pub use bus::SystemBus;
pub use console::Console;
pub use machine::{
    EngineFactory, Machine, MachineConfig, MachineError, RunOutcome, RunningMachine,
};
pub use signals::{ExitReason, Signals};
