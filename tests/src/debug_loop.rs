//! The small RV64 loops the debug tests and benchmarks run: a store and a load of known
//! addresses in an endless loop, so breakpoints, watchpoints and steps have exact places to
//! stop (the run-control and MCD tests), and a plain counting loop (the Debug Module's
//! tests, the debug latency benchmarks).

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_isa::{Op, Xlen};

/// Where the program is loaded (its entry).
pub const BASE: u64 = 0x8000_0000;
/// The loop stores `s0` at `DATA` and loads `t1` from `DATA + 8`.
pub const DATA: u64 = BASE + 0x1000;
/// Offset of the store from `BASE`.
pub const STORE_AT: u64 = 4 * 4;
/// Offset of the load from `BASE`.
pub const LOAD_AT: u64 = 5 * 4;

/// `t0 = DATA; loop: addi s0,s0,1; sd s0,0(t0); ld t1,8(t0); addi s1,s1,2; j loop`, as an
/// ELF.
pub fn elf() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    a.li(T0, DATA as i64); // at most 3 instructions here; padded to 3
    while a.pc() < BASE + 12 {
        a.addi(ZERO, ZERO, 0);
    }
    let lp = a.here();
    a.addi(S0, S0, 1);
    a.store(Op::Sd, S0, T0, 0);
    a.load(Op::Ld, T1, T0, 8);
    a.addi(S1, S1, 2);
    a.j(lp);
    loop_elf(a)
}

/// `loop: addi s0,s0,1; addi s1,s1,2; j loop` at [`BASE`], as an ELF: a hart that runs for
/// ever, touching no memory, its progress visible in `s0` and `s1`.
pub fn counting_elf() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let lp = a.here();
    a.addi(S0, S0, 1);
    a.addi(S1, S1, 2);
    a.j(lp);
    loop_elf(a)
}

/// The ELF of a loop assembled at [`BASE`].
fn loop_elf(a: Asm) -> Vec<u8> {
    let code = a
        .finish()
        .unwrap_or_else(|e| panic!("assemble the loop: {e}"));
    emu_asm::elf::write_elf(Xlen::X64, BASE, &code, BASE, &[])
}
