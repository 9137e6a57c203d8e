//! The small RV64 loops the debug tests and benchmarks run: a store and a load of known
//! addresses in an endless loop, so breakpoints, watchpoints and steps have exact places to
//! stop (the run-control and MCD tests), a plain counting loop (the Debug Module's
//! tests, the debug latency benchmarks), and a loop that traps three ways (trap catches).

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

/// Where [`trapping_elf`]'s pieces are.
#[derive(Clone, Debug)]
pub struct Trapping {
    /// The program.
    pub elf: Vec<u8>,
    /// The `ecall`.
    pub ecall: u64,
    /// The illegal word.
    pub illegal: u64,
    /// The handler's first instruction.
    pub handler: u64,
}

/// A loop that traps three ways each round, with an M-mode handler that counts each and
/// returns past it: an `ecall` (exception 11; `s1` counts), an illegal instruction
/// (exception 2; `s2`) and a machine software interrupt (3; `s3`), raised by writing the
/// CLINT's `msip` and cleared by the handler. `s0` counts rounds.
pub fn trapping_elf() -> Trapping {
    let mut a = Asm::new(Xlen::X64, BASE);
    let handler = a.label();
    let irq = a.label();
    let not_illegal = a.label();
    a.la(T0, handler);
    a.csrw(0x305, T0); // mtvec
    a.li(T0, 8);
    a.csrs(0x304, T0); // mie.MSIE
    a.csrs(0x300, T0); // mstatus.MIE
    a.li(T3, emu_machine::map::CLINT_BASE as i64); // hart 0's msip
    a.li(T4, 1);
    let lp = a.here();
    a.addi(S0, S0, 1);
    let ecall = a.pc();
    a.op0(Op::Ecall);
    let illegal = a.pc();
    a.word(0);
    a.store(Op::Sw, T4, T3, 0);
    a.addi(ZERO, ZERO, 0);
    a.addi(ZERO, ZERO, 0);
    a.j(lp);
    a.bind(handler);
    let handler_at = a.pc();
    a.csrr(T1, 0x342); // mcause
    a.branch(Op::Blt, T1, ZERO, irq);
    a.csrr(T2, 0x341); // mepc
    a.addi(T2, T2, 4);
    a.csrw(0x341, T2);
    a.li(T2, 2);
    a.branch(Op::Bne, T1, T2, not_illegal);
    a.addi(S2, S2, 1);
    a.op0(Op::Mret);
    a.bind(not_illegal);
    a.addi(S1, S1, 1);
    a.op0(Op::Mret);
    a.bind(irq);
    a.store(Op::Sw, ZERO, T3, 0);
    a.addi(S3, S3, 1);
    a.op0(Op::Mret);
    Trapping {
        elf: loop_elf(a),
        ecall,
        illegal,
        handler: handler_at,
    }
}

/// The ELF of a loop assembled at [`BASE`].
fn loop_elf(a: Asm) -> Vec<u8> {
    let code = a
        .finish()
        .unwrap_or_else(|e| panic!("assemble the loop: {e}"));
    emu_asm::elf::write_elf(Xlen::X64, BASE, &code, BASE, &[])
}
