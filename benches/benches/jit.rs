//! JIT throughput (guest instructions per second) against the interpreter on the same loops,
//! and translation cost per block.
//!
//! `cargo bench -p emu-benches --bench jit`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emu_benches::{alu_loop, machine, mem_loop, step_n};
use emu_core::{Engine, Interpreter};
use emu_jit::{JitConfig, JitEngine};
use std::hint::black_box;

const N: u64 = 1_000_000;

fn throughput(c: &mut Criterion) {
    for (name, elf) in [
        ("alu_loop", alu_loop(i64::MAX / 2)),
        ("mem_loop", mem_loop(i64::MAX / 2)),
    ] {
        let mut g = c.benchmark_group(format!("guest/{name}"));
        g.throughput(Throughput::Elements(N));
        g.sample_size(20);
        let (bus, mut hart) = machine(&elf);
        step_n(&mut hart, &bus, 64);
        let mut jit = JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        g.bench_function("jit", |b| {
            b.iter(|| black_box(jit.run(&mut hart, &*bus, 0, N, &mut || false)))
        });
        let mut interp = Interpreter::default();
        g.bench_function("interp", |b| {
            b.iter(|| black_box(interp.run(&mut hart, &*bus, 0, N, &mut || false)))
        });
        g.finish();
    }
}

fn compile(c: &mut Criterion) {
    // Translate the ALU loop's block over and over (invalidate, run one block).
    let elf = alu_loop(i64::MAX / 2);
    let (bus, mut hart) = machine(&elf);
    step_n(&mut hart, &bus, 64);
    let pc = hart.pc;
    let mut jit = JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("translate");
    g.bench_function("block_4_insns", |b| {
        b.iter(|| {
            jit.invalidate_range(pc & !0xfff, (pc & !0xfff) + 0x1000);
            hart.pc = pc;
            black_box(jit.run(&mut hart, &*bus, 0, 4, &mut || false))
        })
    });
    g.finish();
}

criterion_group!(benches, throughput, compile);
criterion_main!(benches);
