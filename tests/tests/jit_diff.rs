//! The JIT against the reference interpreter: every program of the differential corpus
//! (random instructions of every group, privileged scenarios, the UART/PLIC echo) must print
//! the same final state under both engines.

use emu_isa::Xlen;
use emu_tests::diffgen::{Group, Scenario, privileged_program, random_program, uart_echo_program};
use emu_tests::run::{run_emu, run_emu_jit, run_emu_with_input};

#[test]
fn jit_matches_interpreter_on_the_corpus() {
    let mut progs = Vec::new();
    for xlen in [Xlen::X64, Xlen::X32] {
        for g in Group::ALL {
            for seed in 0..8 {
                progs.push(random_program(xlen, g, 1000 + seed, 200));
            }
        }
        for sc in Scenario::ALL {
            for seed in 0..8 {
                progs.push(privileged_program(xlen, sc, 1000 + seed));
            }
        }
    }
    let mut failures = Vec::new();
    for p in &progs {
        let (interp, _) = run_emu(&p.elf, 1, None, 5_000_000);
        let (jit, _) = run_emu_jit(&p.elf, 5_000_000, b"");
        if interp != jit {
            let a: Vec<&str> = interp.output.lines().collect();
            let b: Vec<&str> = jit.output.lines().collect();
            let first = (0..a.len().max(b.len()))
                .find(|&i| a.get(i) != b.get(i))
                .unwrap_or(0);
            failures.push(format!(
                "{}: line {first}: interp {:?} jit {:?}",
                p.name,
                a.get(first),
                b.get(first)
            ));
        }
    }
    eprintln!(
        "JIT vs interpreter: {} programs, {} differ",
        progs.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn jit_uart_interrupts() {
    for xlen in [Xlen::X64, Xlen::X32] {
        let p = uart_echo_program(xlen);
        let (interp, _) = run_emu_with_input(&p.elf, 1, None, 10_000_000, b"abc q");
        let (jit, _) = run_emu_jit(&p.elf, 10_000_000, b"abc q");
        assert_eq!(interp.output, "ABC \n");
        assert_eq!(jit, interp, "{xlen:?}");
    }
}

/// Every block a single instruction (how the debugger's single-step runs): same results.
#[test]
fn jit_single_step_matches_interpreter() {
    let mut progs = Vec::new();
    for xlen in [Xlen::X64, Xlen::X32] {
        for g in [Group::Mixed, Group::I, Group::C, Group::A] {
            for seed in 0..4 {
                progs.push(random_program(xlen, g, 2000 + seed, 200));
            }
        }
        for sc in Scenario::ALL {
            progs.push(privileged_program(xlen, sc, 2000));
        }
    }
    for p in &progs {
        let (interp, _) = run_emu(&p.elf, 1, None, 5_000_000);
        let (jit, _) = emu_tests::run::run_emu_jit_with(&p.elf, 5_000_000, b"", true);
        assert_eq!(interp, jit, "{}", p.name);
    }
}

/// Self-modifying code without fence.i: a store over the next instruction of the same block,
/// and over a function already translated, both take effect at once as on the interpreter.
#[test]
fn jit_self_modifying_code() {
    use emu_asm::reg::*;
    use emu_asm::{Asm, elf};
    use emu_isa::{Inst, Op, encode32};
    let base = 0x8000_0000u64;
    for xlen in [Xlen::X64, Xlen::X32] {
        let mut a = Asm::new(xlen, base);
        let func = a.label();
        let site = a.label();
        let addi = |imm| {
            encode32(
                &Inst {
                    rd: A0,
                    rs1: A0,
                    imm,
                    ..Inst::new(Op::Addi)
                },
                xlen,
            )
            .unwrap_or(0) as i64
        };
        a.li(A0, 0);
        a.la(T0, func);
        a.li(T1, addi(100));
        a.li(S0, 3);
        let again = a.here();
        a.call(func); // adds 1 the first time, 100 afterwards
        a.store(Op::Sw, T1, T0, 0);
        a.addi(S0, S0, -1);
        a.branch(Op::Bne, S0, ZERO, again);
        // Same-block patch: overwrite the instruction right after the store.
        a.la(T2, site);
        a.li(T3, addi(7));
        a.store(Op::Sw, T3, T2, 0);
        a.bind(site);
        a.addi(A0, A0, 1000); // replaced by addi a0, a0, 7 before it runs
        // Exit with a0 as the failure code.
        a.i(Op::Slli, A0, A0, 16);
        a.i(Op::Ori, A0, A0, 0x333);
        a.li(T0, 0x3000);
        a.r(Op::Or, A0, A0, T0);
        a.li(T0, 0x10_0000);
        a.store(Op::Sw, A0, T0, 0);
        let spin = a.here();
        a.j(spin);
        a.align(16);
        a.bind(func);
        a.addi(A0, A0, 1);
        a.ret();
        let code = a.finish().expect("assembles");
        let image = elf::write_elf(xlen, base, &code, base, &[]);
        let (interp, _) = run_emu(&image, 1, None, 100_000);
        let (jit, _) = run_emu_jit(&image, 100_000, b"");
        assert_eq!(
            interp.code,
            (1 + 100 + 100 + 7) & 0xffff,
            "{xlen:?} interpreter"
        );
        assert_eq!(jit.code, interp.code, "{xlen:?} JIT");
    }
}
