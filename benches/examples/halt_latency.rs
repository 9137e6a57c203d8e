//! The distribution of halt latency through the run-control API, which criterion's mean
//! hides: a hart spins in translated code on its own thread for a while, then one halt is
//! timed; repeated, then the median, tail percentiles and mean are printed.
//!
//! Beside it, two controls that involve no emulator, timed the same way: a fixed amount of
//! plain computation (about a microsecond's worth), and a round trip to a second thread
//! that spins on another core, as the hart's thread does (a flag set, its echo awaited).
//! What the host does to any code (a thread preempted, a virtual CPU descheduled for a
//! millisecond now and then) shows in their tails and means as it does in the halt's.
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
    let work = calibrate();
    let mut ns: Vec<u64> = Vec::with_capacity(halts);
    let mut control: Vec<u64> = Vec::with_capacity(halts);
    for _ in 0..halts {
        ok(rc.resume(0));
        pause(run_us / 2);
        let s = Instant::now();
        compute(work);
        control.push(s.elapsed().as_nanos() as u64);
        pause(run_us - run_us / 2);
        let s = Instant::now();
        ok(rc.halt(0));
        ns.push(s.elapsed().as_nanos() as u64);
    }
    println!(
        "{halts} halts after {run_us} us of running:    {}",
        emu_benches::distribution(&mut ns)
    );
    println!(
        "control, fixed computation:               {}",
        emu_benches::distribution(&mut control)
    );
    let mut echo = round_trips(halts, run_us);
    println!(
        "control, round trip to a spinning thread: {}",
        emu_benches::distribution(&mut echo)
    );
    m.signals.exit_host();
    drop(m.join());
}

fn pause(us: u64) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_micros(us) {
        std::hint::spin_loop();
    }
}

/// A dependent chain of `n` multiply-adds the compiler cannot remove.
fn compute(n: u64) -> u64 {
    let mut x = std::hint::black_box(1u64);
    for i in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
    }
    std::hint::black_box(x)
}

/// How many steps of [`compute`] take about a microsecond here (the fastest of a few tries).
fn calibrate() -> u64 {
    let n = 100_000;
    let best = (0..20)
        .map(|_| {
            let s = Instant::now();
            compute(n);
            s.elapsed().as_nanos() as u64
        })
        .min()
        .unwrap_or(1)
        .max(1);
    (n * 1000 / best).max(1)
}

/// `n` round trips to a thread spinning on another core, one every `run_us`.
fn round_trips(n: usize, run_us: u64) -> Vec<u64> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let (ping, pong) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (p, q) = (ping.clone(), pong.clone());
    let echo = std::thread::spawn(move || {
        loop {
            let v = p.load(Ordering::Acquire);
            if v == u64::MAX {
                break;
            }
            if v != q.load(Ordering::Relaxed) {
                q.store(v, Ordering::Release);
            }
            std::hint::spin_loop();
        }
    });
    let mut ns = Vec::with_capacity(n);
    for i in 1..=n as u64 {
        pause(run_us);
        let s = Instant::now();
        ping.store(i, Ordering::Release);
        while pong.load(Ordering::Acquire) != i {
            std::hint::spin_loop();
        }
        ns.push(s.elapsed().as_nanos() as u64);
    }
    ping.store(u64::MAX, Ordering::Release);
    let _ = echo.join();
    ns
}
