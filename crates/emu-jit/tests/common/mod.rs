//! What the JIT's tests share: a 1 MiB machine bus with code loaded at [`BASE`].

#![allow(clippy::unwrap_used, dead_code)] // tests: a panic is the failure report

use std::sync::Arc;

use emu_core::{Bus, PhysAddr};
use emu_machine::{Console, Signals, SystemBus};

pub mod scenario;

/// Where RAM starts and programs are loaded.
pub const BASE: u64 = 0x8000_0000;

/// A bus with 1 MiB of RAM holding `code` at [`BASE`].
pub fn bus_with(code: &[u8]) -> SystemBus {
    let (console, _) = Console::capture();
    let bus = SystemBus::new(1 << 20, 1, console, Arc::new(Signals::default())).unwrap();
    load(&bus, BASE, code);
    bus
}

/// Write `bytes` to the bus at `at`.
pub fn load(bus: &dyn Bus, at: u64, bytes: &[u8]) {
    for (k, b) in bytes.iter().enumerate() {
        bus.write(PhysAddr(at + k as u64), 1, *b as u64).unwrap();
    }
}

/// Little-endian bytes of 32-bit instruction words.
pub fn words(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|w| w.to_le_bytes()).collect()
}
