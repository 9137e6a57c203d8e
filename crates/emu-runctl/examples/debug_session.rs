//! Embedding the debugger: a machine on the JIT and the run-control API in one process, no
//! socket. What a test harness or a tool built on emu does: break on a function, step,
//! read registers and memory, watch a variable, and time the step and the
//! halt-resume round trip the way a criterion benchmark would.
//!
//! `cargo run --release -p emu-runctl --example debug_session`
//!
//! The criterion benchmarks of the same operations are `benches/benches/dm.rs`
//! (`cargo bench -p emu-benches --bench dm -- runctl/`).

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::Engine;
use emu_isa::{Op, Xlen};
use emu_jit::{JitConfig, JitEngine};
use emu_machine::{Console, Machine, MachineConfig};
use emu_runctl::{MemSpace, RegId, RunControl, StopCause, StopEvent, WatchKind};

const BASE: u64 = 0x8000_0000;
const COUNTER: u64 = BASE + 0x1000;

/// The guest: `loop: a0 = s0; call bump; s0 += 1; j loop`, where `bump` adds `a0` to the
/// doubleword at `COUNTER`. Returns the ELF and `bump`'s address.
fn guest() -> Result<(Vec<u8>, u64), Box<dyn Error>> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let bump = a.label();
    a.li(S1, COUNTER as i64);
    let lp = a.here();
    a.mv(A0, S0);
    a.call(bump);
    a.addi(S0, S0, 1);
    a.j(lp);
    a.bind(bump);
    let bump_at = a.pc();
    a.load(Op::Ld, T0, S1, 0);
    a.r(Op::Add, T0, T0, A0);
    a.store(Op::Sd, T0, S1, 0);
    a.ret();
    let code = a.finish()?;
    Ok((
        emu_asm::elf::write_elf(Xlen::X64, BASE, &code, BASE, &[]),
        bump_at,
    ))
}

/// The next stop event, or an error after a second.
fn next_stop(rx: &emu_runctl::Subscription) -> Result<StopEvent, Box<dyn Error>> {
    Ok(rx.recv_timeout(Duration::from_secs(1))?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let (elf, bump) = guest()?;
    let cfg = MachineConfig {
        harts: 1,
        halted: true,
        engine: Some(Arc::new(|_| {
            Box::new(JitEngine::new(JitConfig::default()).expect("a JIT for this host"))
                as Box<dyn Engine>
        })),
        // The guest prints nothing; a tool would show what it does.
        console: Console::capture().0,
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, &elf)?.start();
    let rc = RunControl::new(m.dm.clone()).ok_or("no hart to debug")?;
    let stops = rc.subscribe();

    // Break on `bump`: the hart stops before its first instruction.
    let bp = rc.add_breakpoint(0, bump)?;
    rc.resume(0)?;
    let ev = next_stop(&stops)?;
    assert_eq!(ev.cause, StopCause::Trigger(Some(bp)));
    let pc = rc.read_register(0, RegId::Pc)?;
    println!(
        "stopped at {pc:#x} (bump), a0 = {}",
        rc.read_register(0, RegId::Gpr(A0))?
    );

    // Step over bump's instructions, then let the breakpoint go.
    for _ in 0..3 {
        rc.step(0)?;
    }
    println!(
        "three steps on: pc = {:#x}",
        rc.read_register(0, RegId::Pc)?
    );
    rc.remove_trigger(bp)?;
    // Every stop is reported to subscribers, the steps' too (cause `Step`): a front end
    // that did not ask for them, as GDB's stub or the MCD server, takes them in here.
    let steps = stops
        .try_iter()
        .filter(|e| e.cause == StopCause::Step)
        .count();
    assert_eq!(steps, 3);

    // Watch the counter: the hart stops after each store to it.
    let wp = rc.add_watchpoint(0, COUNTER, COUNTER + 8, WatchKind::Write, true)?;
    for _ in 0..3 {
        rc.resume(0)?;
        let ev = next_stop(&stops)?;
        assert_eq!(ev.cause, StopCause::Trigger(Some(wp)));
        let mut b = [0u8; 8];
        rc.read_memory(0, MemSpace::Physical, COUNTER, &mut b)?;
        println!(
            "counter written: {} (s0 = {})",
            u64::from_le_bytes(b),
            rc.read_register(0, RegId::Gpr(S0))?
        );
    }
    rc.remove_trigger(wp)?;

    // Latency, measured as a benchmark would (printed, not asserted: hosts are noisy).
    let n = 2000u32;
    let t = Instant::now();
    for _ in 0..n {
        rc.step(0)?;
    }
    let step = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        rc.resume(0)?;
        rc.halt(0)?;
    }
    let round = t.elapsed() / n;
    println!("step: {step:?}; resume + halt: {round:?} (mean of {n})");

    drop(stops);
    m.signals.exit_host();
    let done = m.join();
    if !done.failed.is_empty() {
        return Err(format!("harts failed: {:?}", done.failed).into());
    }
    Ok(())
}
