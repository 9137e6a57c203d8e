//! The interpreter on arbitrary code and register state: never panics, whatever it executes
//! (illegal encodings, faults, traps to garbage vectors, MMU on with garbage page tables).
#![no_main]

use std::sync::Mutex;

use emu_core::{AmoOp, Bus, BusFault, Hart, HartId, IsaConfig, PhysAddr};
use emu_isa::Xlen;
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x8000_0000;

struct Ram(Mutex<Vec<u8>>);

impl Bus for Ram {
    fn read(&self, a: PhysAddr, size: usize) -> Result<u64, BusFault> {
        let m = self.0.lock().unwrap();
        let o = a.0.checked_sub(BASE).filter(|o| o + size as u64 <= m.len() as u64).ok_or(BusFault::Unmapped(a))?;
        Ok((0..size).fold(0, |v, k| v | (m[o as usize + k] as u64) << (8 * k)))
    }
    fn write(&self, a: PhysAddr, size: usize, val: u64) -> Result<(), BusFault> {
        let mut m = self.0.lock().unwrap();
        let o = a.0.checked_sub(BASE).filter(|o| o + size as u64 <= m.len() as u64).ok_or(BusFault::Unmapped(a))?;
        for k in 0..size {
            m[o as usize + k] = (val >> (8 * k)) as u8;
        }
        Ok(())
    }
    fn amo(&self, a: PhysAddr, size: usize, op: AmoOp, val: u64) -> Result<u64, BusFault> {
        let old = self.read(a, size)?;
        self.write(a, size, op.apply(old, val, size))?;
        Ok(old)
    }
    fn compare_exchange(&self, a: PhysAddr, size: usize, e: u64, n: u64) -> Result<bool, BusFault> {
        let ok = self.read(a, size)? == e;
        if ok {
            self.write(a, size, n)?;
        }
        Ok(ok)
    }
    fn irq_lines(&self, _: HartId) -> u64 {
        0
    }
    fn mtime(&self) -> u64 {
        0
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let xlen = if data[0] & 1 == 0 { Xlen::X64 } else { Xlen::X32 };
    let mut mem = vec![0u8; 64 * 1024];
    let n = data.len().min(mem.len());
    mem[..n].copy_from_slice(&data[..n]);
    let bus = Ram(Mutex::new(mem));
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
