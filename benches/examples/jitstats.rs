//! Print JIT statistics for the benchmark loops (a quick look at block counts).
use emu_benches::{alu_loop, machine, mem_loop, step_n};
use emu_core::Engine;
use emu_jit::{JitConfig, JitEngine};

fn main() {
    {
        let (bus, mut hart) = machine(&alu_loop(1 << 40));
        step_n(&mut hart, &bus, 64);
        let pc = hart.pc;
        let mut jit = JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        for round in 0..5 {
            let t = std::time::Instant::now();
            for _ in 0..4000 {
                jit.invalidate_range(pc & !0xfff, (pc & !0xfff) + 0x1000);
                hart.pc = pc;
                jit.run(&mut hart, &*bus, 0, 4, &mut || false);
            }
            println!(
                "translate round {round}: {:?} per block; {:?}",
                t.elapsed() / 4000,
                jit.stats
            );
        }
    }
    {
        let (bus, mut hart) = machine(&mem_loop(1 << 40));
        let mut jit = JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        for budget in [1, 5, 13, 100, 1003] {
            let s = jit.run(&mut hart, &*bus, 0, budget, &mut || false);
            println!("budget {budget}: executed {}", s.executed);
        }
    }
    for (name, elf) in [("alu", alu_loop(1 << 40)), ("mem", mem_loop(1 << 40))] {
        let (bus, mut hart) = machine(&elf);
        step_n(&mut hart, &bus, 64);
        let mut jit = JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let t = std::time::Instant::now();
        let s = jit.run(&mut hart, &*bus, 0, 10_000_000, &mut || false);
        println!(
            "{name}: {:?} in {:?}; {:?} {:?}",
            s,
            t.elapsed(),
            jit.stats,
            jit.last_error
        );
    }
}

#[allow(dead_code)]
fn budget_probe() {}
