//! # emu-core: one RISC-V hart, architecturally
//!
//! Owns everything a hart is: registers, CSRs (M, S and U mode, with their WARL rules),
//! privilege modes, exceptions and interrupts, Sv32/Sv39/Sv48 translation, PMP, counters,
//! LR/SC reservations and IEEE floating point, plus the reference interpreter that executes
//! one instruction at a time. The interpreter is the oracle every faster engine is checked
//! against.
//!
//! Layer map:
//! - [`types`]: newtypes ([`PhysAddr`], [`HartId`], [`Priv`]);
//! - [`bus`]: the [`Bus`] trait, the hart's only window on memory and devices;
//! - [`config`]: which extensions a hart has;
//! - [`trap`], [`csr`], [`mmu`], [`pmp`], [`fpu`]: pieces of the privileged and FP architecture;
//! - [`debug`]: Sdext (Debug Mode, `dcsr`/`dpc`/`dscratch`, `dret`, single step);
//! - [`trigger`]: the Sdtrig model (trigger registers, match rules); [`sdtrig`]: where the
//!   hart asks it (trigger CSRs, execute/load/store checks, icount, trap triggers);
//! - [`hart`]: the [`Hart`] state; [`interp`]: executing instructions; [`engine`]: the seam
//!   through which the machine runs a hart (interpreter here, JIT in emu-jit).
//!
//! Must not depend on: devices, the machine, Cranelift, or any front end. No `unsafe`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alu;
pub mod bus;
pub mod config;
pub mod csr;
pub mod debug;
pub mod engine;
pub mod fpu;
pub mod hart;
pub mod interp;
pub mod mmu;
pub mod pmp;
pub mod sdtrig;
pub mod trap;
pub mod trigger;
pub mod types;

pub use bus::{AmoOp, Bus, BusFault};
pub use config::{IsaConfig, IsaError};
pub use debug::{DebugCause, DebugState, DebugVectors};
pub use engine::{Engine, EngineExit, Interpreter, Preempt, RunStats};
pub use hart::{Hart, StepOutcome};
pub use trap::{Access, Exception};
pub use types::{HartId, PhysAddr, Priv, VirtAddr};
