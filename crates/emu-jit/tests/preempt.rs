//! A guest spinning in a self-looping block, or in blocks linked to each other, is cut short
//! by the engine's [`Preempt`] from another thread: the running call returns at the loop's
//! next back edge (or link) instead of using up its budget (the halt path of a busy hart).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::{Engine, EngineExit, Hart, HartId, IsaConfig, RunStats};
use emu_isa::Xlen;
use emu_jit::{JitConfig, JitEngine};

mod common;
use common::BASE;

#[test]
fn preempt_stops_a_spinning_loop() {
    let mut a = Asm::new(Xlen::X64, BASE);
    let lp = a.here();
    a.addi(S0, S0, 1);
    a.j(lp);
    let bus = common::bus_with(&a.finish().unwrap());
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    // Translate the loop first, so the preempted call is inside translated code.
    jit.run(&mut h, &bus, 0, 1000, &mut || false);
    let stats = run_preempted(&mut jit, &mut h, &bus);
    let s0 = h.get_x(8);
    // Every iteration retired both instructions: s0 counts half of them (plus the warm-up).
    assert!(
        s0 > 1000 / 2 && s0 <= (stats.executed + 1000) / 2 + 1,
        "{s0}"
    );
}

/// Run the hart with a budget far beyond one call while another thread fires the engine's
/// preemption every 2 ms, and check the call was cut short.
fn run_preempted(jit: &mut JitEngine, h: &mut Hart, bus: &emu_machine::SystemBus) -> RunStats {
    let preempt = jit.preempt().expect("the JIT can be preempted");
    // The dispatcher caps one call at 2^28 instructions (a tenth of a second or more);
    // the poll, asked only between calls, says stop after the first.
    let budget = 1u64 << 33;
    let stats = std::thread::scope(|sc| {
        let t = sc.spawn(|| jit.run(h, bus, 0, budget, &mut || true));
        // Fired again until the call returns: a preemption that lands before the block is
        // entered is for the poll, and this one's spawned thread may not have a core yet.
        while !t.is_finished() {
            std::thread::sleep(Duration::from_millis(2));
            preempt.fire();
        }
        t.join().unwrap()
    });
    assert_eq!(stats.exit, EngineExit::Stopped);
    // Cut short: well before the cap (at half of it, a preemption every 2 ms missed for
    // tens of milliseconds).
    assert!(stats.executed < 1 << 27, "{}", stats.executed);
    stats
}

/// The same for a loop of two blocks that run linked (each leaves by a jump or branch to
/// the other, never through the dispatcher): the link is not taken once the limit is
/// zeroed.
#[test]
fn preempt_stops_a_linked_loop() {
    let mut a = Asm::new(Xlen::X64, BASE);
    let (lp, out) = (a.label(), a.label());
    a.bind(lp);
    a.addi(S0, S0, 1);
    a.branch(emu_isa::Op::Beq, S0, ZERO, out);
    a.addi(S1, S1, 1);
    a.j(lp);
    a.bind(out);
    a.j(out);
    let bus = common::bus_with(&a.finish().unwrap());
    let mut h = Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    jit.run(&mut h, &bus, 0, 1000, &mut || false);
    assert!(jit.stats.chained > 100, "{:?}", jit.stats);
    run_preempted(&mut jit, &mut h, &bus);
}
