//! Reference interpreter throughput (guest instructions per second) and decoder speed.
//!
//! `cargo bench -p emu-benches --bench interp`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use emu_benches::{alu_loop, machine, step_n};
use emu_isa::{Xlen, decode32};
use std::hint::black_box;

fn interpreter(c: &mut Criterion) {
    const N: u64 = 100_000;
    let elf = alu_loop(i64::MAX / 2);
    let (bus, mut hart) = machine(&elf);
    // Get past the boot ROM and into the loop.
    step_n(&mut hart, &bus, 32);
    let mut g = c.benchmark_group("interp");
    g.throughput(Throughput::Elements(N));
    g.bench_function("alu_loop", |b| {
        b.iter(|| black_box(step_n(&mut hart, &bus, N)))
    });
    g.finish();
}

fn decoder(c: &mut Criterion) {
    let words: Vec<u32> = (0..4096u32)
        .map(|k| k.wrapping_mul(0x9e37_79b9) | 3)
        .collect();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(words.len() as u64));
    g.bench_function("decode32_random", |b| {
        b.iter(|| {
            words
                .iter()
                .map(|&w| decode32(black_box(w), Xlen::X64).len as u32)
                .sum::<u32>()
        })
    });
    g.finish();
}

criterion_group!(benches, interpreter, decoder);
criterion_main!(benches);
