//! The interpreter on arbitrary code and register state: never panics, whatever it executes
//! (illegal encodings, faults, traps to garbage vectors, MMU on with garbage page tables).
#![no_main]

use emu_core::bus::RamBus;
use emu_core::{Hart, HartId, IsaConfig};
use emu_isa::Xlen;
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x8000_0000;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let xlen = if data[0] & 1 == 0 {
        Xlen::X64
    } else {
        Xlen::X32
    };
    let bus = RamBus::new(BASE, 64 * 1024);
    for (k, b) in data.iter().take(64 * 1024).enumerate() {
        let _ = emu_core::Bus::write(&bus, emu_core::PhysAddr(BASE + k as u64), 1, *b as u64);
    }
    let mut h = Hart::new(HartId(0), IsaConfig::full(xlen), BASE);
    h.csr.mtvec = BASE + (data[1] as u64) * 4;
    h.csr.satp = u64::from_le_bytes(data[8..16].try_into().unwrap());
    for r in 1..32 {
        h.x[r] = h.norm(BASE + (data[r % data.len()] as u64) * 8);
    }
    for _ in 0..2000 {
        h.step(&bus);
    }
});
