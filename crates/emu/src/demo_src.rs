//! Source of the built-in demo guest (assembled at build time by build.rs).
//!
//! Hart 0 prints a banner, draws the Mandelbrot set in fixed-point arithmetic over the UART,
//! prints how many instructions that took (from `minstret`), and exits through the test
//! finisher; other harts park in `wfi`.

use emu_asm::reg::*;
use emu_asm::{Asm, AsmError, Label, elf};
use emu_isa::{Op, Xlen};

const BASE: u64 = 0x8000_0000;
const UART: i64 = 0x1000_0000;
const FINISHER: i64 = 0x10_0000;
/// Fraction bits of the fixed-point numbers.
const FRAC: i64 = 13;
const MAX_ITER: i64 = 48;

fn string(a: &mut Asm, s: &str) -> Label {
    let l = a.here();
    a.bytes(s.as_bytes());
    a.bytes(&[0]);
    l
}

/// The demo as an ELF image.
pub fn demo_elf() -> Result<Vec<u8>, AsmError> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let park = a.label();
    let puts = a.label();
    let putc = a.label();
    let put_dec = a.label();
    let banner = a.label();
    let footer = a.label();
    let footer2 = a.label();
    let palette = a.label();

    // _start
    a.csrr(A0, 0xf14);
    a.branch(Op::Bne, A0, ZERO, park);
    a.li(SP, (BASE + 0x10_0000) as i64);
    a.la(A0, banner);
    a.call(puts);

    // Mandelbrot: s0 = row, s1 = col, s2 = ci, s3 = cr, s4 = zr, s5 = zi, s6 = iter.
    let row_loop = a.label();
    let col_loop = a.label();
    let iter_loop = a.label();
    let escaped = a.label();
    a.li(S0, 0);
    a.bind(row_loop);
    a.li(T0, 819); // 0.1 per row in fixed point
    a.r(Op::Mul, S2, S0, T0);
    a.li(T0, -9830); // -1.2
    a.r(Op::Add, S2, S2, T0);
    a.li(S1, 0);
    a.bind(col_loop);
    a.li(T0, 410); // 0.05 per column
    a.r(Op::Mul, S3, S1, T0);
    a.li(T0, -18022); // -2.2
    a.r(Op::Add, S3, S3, T0);
    a.li(S4, 0);
    a.li(S5, 0);
    a.li(S6, 0);
    a.bind(iter_loop);
    a.r(Op::Mul, T1, S4, S4);
    a.i(Op::Srai, T1, T1, FRAC); // zr^2
    a.r(Op::Mul, T2, S5, S5);
    a.i(Op::Srai, T2, T2, FRAC); // zi^2
    a.r(Op::Add, T3, T1, T2);
    a.li(T4, 4 << FRAC);
    a.branch(Op::Blt, T4, T3, escaped);
    a.r(Op::Mul, T5, S4, S5);
    a.i(Op::Srai, T5, T5, FRAC - 1); // 2 zr zi
    a.r(Op::Add, S5, T5, S2);
    a.r(Op::Sub, S4, T1, T2);
    a.r(Op::Add, S4, S4, S3);
    a.addi(S6, S6, 1);
    a.li(T4, MAX_ITER);
    a.branch(Op::Blt, S6, T4, iter_loop);
    a.bind(escaped);
    // Character: palette[iter * 11 / (MAX_ITER + 1)].
    a.li(T0, 11);
    a.r(Op::Mul, T0, S6, T0);
    a.li(T1, MAX_ITER + 1);
    a.r(Op::Divu, T0, T0, T1);
    a.la(T1, palette);
    a.r(Op::Add, T1, T1, T0);
    a.load(Op::Lbu, A0, T1, 0);
    a.call(putc);
    a.addi(S1, S1, 1);
    a.li(T0, 64);
    a.branch(Op::Blt, S1, T0, col_loop);
    a.li(A0, b'\n' as i64);
    a.call(putc);
    a.addi(S0, S0, 1);
    a.li(T0, 25);
    a.branch(Op::Blt, S0, T0, row_loop);

    a.csrr(S7, 0xb02); // minstret
    a.la(A0, footer);
    a.call(puts);
    a.mv(A0, S7);
    a.call(put_dec);
    a.la(A0, footer2);
    a.call(puts);
    a.li(T0, FINISHER);
    a.li(T1, 0x5555);
    a.store(Op::Sw, T1, T0, 0);
    let spin = a.here();
    a.j(spin);

    a.bind(park);
    a.op0(Op::Wfi);
    a.j(park);

    // puts(a0): print a NUL-terminated string.
    a.bind(puts);
    a.mv(T6, RA);
    a.mv(T5, A0);
    let puts_loop = a.here();
    let puts_done = a.label();
    a.load(Op::Lbu, A0, T5, 0);
    a.branch(Op::Beq, A0, ZERO, puts_done);
    a.call(putc);
    a.addi(T5, T5, 1);
    a.j(puts_loop);
    a.bind(puts_done);
    a.mv(RA, T6);
    a.ret();

    // putc(a0): wait for THR empty, then transmit.
    a.bind(putc);
    a.li(A1, UART);
    let wait = a.here();
    a.load(Op::Lbu, A2, A1, 5);
    a.i(Op::Andi, A2, A2, 0x20);
    a.branch(Op::Beq, A2, ZERO, wait);
    a.store(Op::Sb, A0, A1, 0);
    a.ret();

    // put_dec(a0): print an unsigned number in decimal (digits pushed on the stack).
    a.bind(put_dec);
    a.mv(S8, RA);
    a.mv(S9, SP);
    a.li(S10, 10);
    a.mv(S11, A0);
    let digits = a.here();
    a.r(Op::Remu, T0, S11, S10);
    a.addi(T0, T0, b'0' as i64);
    a.addi(SP, SP, -1);
    a.store(Op::Sb, T0, SP, 0);
    a.r(Op::Divu, S11, S11, S10);
    a.branch(Op::Bne, S11, ZERO, digits);
    let out = a.here();
    let out_done = a.label();
    a.branch(Op::Beq, SP, S9, out_done);
    a.load(Op::Lbu, A0, SP, 0);
    a.addi(SP, SP, 1);
    a.call(putc);
    a.j(out);
    a.bind(out_done);
    a.mv(RA, S8);
    a.ret();

    a.bind(banner);
    string(
        &mut a,
        "emu demo guest: the Mandelbrot set in RV64IM fixed-point arithmetic\n\n",
    );
    a.bind(footer);
    string(&mut a, "\nhart 0 retired ");
    a.bind(footer2);
    string(
        &mut a,
        " instructions; exiting through the test finisher.\n",
    );
    a.bind(palette);
    string(&mut a, " .,:-=+*#%@@");
    let code = a.finish()?;
    Ok(elf::write_elf(Xlen::X64, BASE, &code, BASE, &[]))
}
