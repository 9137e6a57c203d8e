//! # emu-jit: guest code to host code with Cranelift
//!
//! Owns translation of guest basic blocks into host functions, the code heap they live in,
//! the block cache keyed by (virtual pc, physical pc, flags), invalidation when guest code
//! pages are written or `fence.i` runs, and the dispatcher that implements
//! [`emu_core::Engine`].
//!
//! Layer map: [`flags`] (what a block depends on) → [`translate`] (IR building) →
//! [`codemap`] (which guest bytes hold code) → [`tlb`] (virtual page → host memory) →
//! [`heap`] (executable memory) → [`helpers`] (what generated code calls) → [`engine`]
//! (cache and dispatch).
//!
//! Depends on emu-core (hart state, Bus trait) and Cranelift; never on devices, the machine
//! or the debug front ends, so it can be embedded on its own.
#![warn(missing_docs)]

pub mod codemap;
pub mod engine;
pub mod flags;
pub mod heap;
pub mod helpers;
pub mod tlb;
pub mod translate;

pub use engine::{BlockKey, JitConfig, JitEngine, JitError, JitStats};
