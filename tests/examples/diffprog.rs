//! Write one differential program to a file, for running it by hand under emu and QEMU:
//! `cargo run -p emu-tests --example diffprog -- GROUP|SCENARIO 64|32 SEED OUT.elf`.

use emu_isa::Xlen;
use emu_tests::diffgen::{Group, Scenario, privileged_program, random_program};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 && args.len() != 6 {
        eprintln!("usage: diffprog GROUP|SCENARIO 64|32 SEED OUT.elf [BODY]");
        std::process::exit(2);
    }
    let xlen = if args[2] == "32" {
        Xlen::X32
    } else {
        Xlen::X64
    };
    let seed: u64 = args[3].parse().unwrap_or(0);
    let prog = if let Some(g) = Group::ALL.iter().find(|g| format!("{g:?}") == args[1]) {
        random_program(
            xlen,
            *g,
            seed,
            args.get(5).and_then(|b| b.parse().ok()).unwrap_or(200),
        )
    } else if let Some(s) = Scenario::ALL.iter().find(|s| format!("{s:?}") == args[1]) {
        privileged_program(xlen, *s, seed)
    } else {
        eprintln!("unknown group or scenario {}", args[1]);
        std::process::exit(2);
    };
    if let Err(e) = std::fs::write(&args[4], &prog.elf) {
        eprintln!("cannot write {}: {e}", args[4]);
        std::process::exit(1);
    }
}
