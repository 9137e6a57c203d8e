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
