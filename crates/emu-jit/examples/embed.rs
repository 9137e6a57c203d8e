//! Embedding the JIT on its own: a hart, a bus with RAM, a few instructions, run.
//!
//! `cargo run -p emu-jit --example embed`

use std::sync::Mutex;

use emu_core::{AmoOp, Bus, BusFault, Engine, Hart, HartId, IsaConfig, PhysAddr};
use emu_isa::{Inst, Op, Xlen, encode32};
use emu_jit::{JitConfig, JitEngine};

const BASE: u64 = 0x8000_0000;

/// 64 KiB of RAM at BASE: all the bus this example needs.
struct Ram(Mutex<Vec<u8>>);

impl Ram {
    fn off(&self, a: PhysAddr, size: usize, len: usize) -> Result<usize, BusFault> {
        let o = a.0.checked_sub(BASE).ok_or(BusFault::Unmapped(a))? as usize;
        if o + size <= len {
            Ok(o)
        } else {
            Err(BusFault::Unmapped(a))
        }
    }
}

impl Bus for Ram {
    fn read(&self, a: PhysAddr, size: usize) -> Result<u64, BusFault> {
        let m = self.0.lock().map_err(|_| BusFault::Unmapped(a))?;
        let o = self.off(a, size, m.len())?;
        Ok((0..size).fold(0, |v, k| v | (m[o + k] as u64) << (8 * k)))
    }
    fn write(&self, a: PhysAddr, size: usize, val: u64) -> Result<(), BusFault> {
        let mut m = self.0.lock().map_err(|_| BusFault::Unmapped(a))?;
        let o = self.off(a, size, m.len())?;
        for k in 0..size {
            m[o + k] = (val >> (8 * k)) as u8;
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // sum = 1 + 2 + ... + 1000, then spin.
    let prog = [
        Inst {
            rd: 10,
            imm: 1000,
            ..Inst::new(Op::Addi)
        }, // a0 = 1000
        Inst {
            rd: 11,
            rs1: 11,
            rs2: 10,
            ..Inst::new(Op::Add)
        }, // a1 += a0
        Inst {
            rd: 10,
            rs1: 10,
            imm: -1,
            ..Inst::new(Op::Addi)
        },
        Inst {
            rs1: 10,
            imm: -8,
            ..Inst::new(Op::Bne)
        }, // loop while a0 != 0
        Inst {
            imm: 0,
            ..Inst::new(Op::Jal)
        }, // spin
    ];
    let ram = Ram(Mutex::new(vec![0; 0x1_0000]));
    for (k, i) in prog.iter().enumerate() {
        ram.write(
            PhysAddr(BASE + 4 * k as u64),
            4,
            encode32(i, Xlen::X64)? as u64,
        )?;
    }
    let mut hart = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut jit = JitEngine::new(JitConfig::default())?;
    let stats = jit.run(&mut hart, &ram, 0, 3002, &mut || false);
    println!(
        "a1 = {} after {} instructions; {:?}",
        hart.x[11], stats.executed, jit.stats
    );
    assert_eq!(hart.x[11], 500_500);
    Ok(())
}
