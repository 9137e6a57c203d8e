//! The distribution of halt latency through the run-control API, which criterion's mean
//! hides: a hart spins in translated code on its own thread for a while, then one halt is
//! timed; repeated, then the median, tail percentiles and mean are printed.
//!
//! `cargo run --release -p emu-benches --example halt_latency -- [HALTS] [RUN_US]`
//! (defaults: 3000 halts, each after 300 us of running).

use std::time::{Duration, Instant};

use emu_runctl::RunControl;

fn main() {
    let arg = |i: usize, d: u64| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let (halts, run_us) = (arg(1, 3000).max(1) as usize, arg(2, 300));
    let m = emu_benches::start_jit(&emu_benches::endless_loop(), false);
    let rc = RunControl::new(m.dm.clone()).unwrap_or_else(|| panic!("one RunControl"));
    std::thread::sleep(Duration::from_millis(20));
    let ok = |r: emu_runctl::Result<()>| r.unwrap_or_else(|e| panic!("{e}"));
    let mut ns: Vec<u64> = Vec::with_capacity(halts);
    for _ in 0..halts {
        ok(rc.resume(0));
        let t = Instant::now();
        while t.elapsed() < Duration::from_micros(run_us) {
            std::hint::spin_loop();
        }
        let s = Instant::now();
        ok(rc.halt(0));
        ns.push(s.elapsed().as_nanos() as u64);
    }
    println!(
        "{halts} halts after {run_us} us of running: {}",
        emu_benches::distribution(&mut ns)
    );
    m.signals.exit_host();
    drop(m.join());
}
