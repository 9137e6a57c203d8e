//! The distribution of continue-to-breakpoint latency through the run-control API, which
//! is what a debugger's "continue" costs inside emu before any socket: the hart is put
//! back at the top of the endless loop, resumed, and runs two instructions into an
//! `ebreak` that enters Debug Mode; the time from `resume` to the API's stop hook is
//! measured, then the four registers a GDB stop reply carries are read one by one (the
//! first read after a halt is the slowest).
//!
//! `cargo run --release -p emu-benches --example cont_latency -- [RUNS]` (default 3000).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use emu_runctl::{MemSpace, RegId, RunControl};

/// `ebreak`.
const EBREAK: u32 = 0x0010_0073;
/// `dcsr.ebreakm`, `ebreaks`, `ebreaku`.
const EBREAK_MSU: u64 = 1 << 15 | 1 << 13 | 1 << 12;

fn summary(name: &str, ns: &mut [u64]) {
    println!("{name}: {}", emu_benches::distribution(ns));
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000)
        .max(1);
    let m = emu_benches::start_jit(&emu_benches::endless_loop(), false);
    let rc = RunControl::new(m.dm.clone()).unwrap_or_else(|| panic!("one RunControl"));
    std::thread::sleep(Duration::from_millis(20));
    let ok = |r: emu_runctl::Result<()>| r.unwrap_or_else(|e| panic!("{e}"));
    ok(rc.halt(0));
    // The loop's jump (its third instruction) becomes the breakpoint.
    let base = emu_benches::BASE;
    ok(rc.write_memory(0, MemSpace::Physical, base + 8, &EBREAK.to_le_bytes()));
    let dcsr = rc
        .read_register(0, RegId::Csr(0x7b0))
        .unwrap_or_else(|e| panic!("{e}"));
    ok(rc.write_register(0, RegId::Csr(0x7b0), dcsr | EBREAK_MSU));

    let epoch = Instant::now();
    let hit = Arc::new(AtomicU64::new(0));
    let seen = hit.clone();
    let _hook =
        rc.on_stop(move |_| seen.store(epoch.elapsed().as_nanos() as u64, Ordering::Release));
    let (mut resume, mut stop) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    let regs = [RegId::Pc, RegId::Gpr(2), RegId::Gpr(8), RegId::Gpr(1)];
    let mut reads: Vec<Vec<u64>> = vec![Vec::with_capacity(runs); regs.len()];
    for _ in 0..runs {
        ok(rc.write_register(0, RegId::Pc, base));
        hit.store(0, Ordering::Release);
        let t0 = epoch.elapsed().as_nanos() as u64;
        ok(rc.resume(0));
        resume.push(epoch.elapsed().as_nanos() as u64 - t0);
        let t1 = loop {
            match hit.load(Ordering::Acquire) {
                0 => std::hint::spin_loop(),
                t => break t,
            }
        };
        stop.push(t1 - t0);
        for (r, times) in regs.iter().zip(reads.iter_mut()) {
            let t = Instant::now();
            rc.read_register(0, *r).unwrap_or_else(|e| panic!("{e}"));
            times.push(t.elapsed().as_nanos() as u64);
        }
    }
    println!("{runs} continues to an ebreak two instructions away:");
    summary("resume returns", &mut resume);
    summary("stop hook called", &mut stop);
    for (i, times) in reads.iter_mut().enumerate() {
        summary(&format!("register read {} after the stop", i + 1), times);
    }
    m.signals.exit_host();
    drop(m.join());
}
