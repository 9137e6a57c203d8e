//! Memory-mapped devices.

pub mod clint;
pub mod plic;
pub mod uart;
