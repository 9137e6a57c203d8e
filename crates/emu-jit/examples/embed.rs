//! Embedding the JIT on its own: a hart, a bus with RAM, a few instructions, run.
//!
//! `cargo run -p emu-jit --example embed`

use emu_core::bus::RamBus;
use emu_core::{Bus, Engine, Hart, HartId, IsaConfig, PhysAddr};
use emu_isa::{Inst, Op, Xlen, encode32};
use emu_jit::{JitConfig, JitEngine};

const BASE: u64 = 0x8000_0000;

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
    let ram = RamBus::new(BASE, 0x1_0000);
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
