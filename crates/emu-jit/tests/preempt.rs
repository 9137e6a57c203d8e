//! A guest spinning in a self-looping block is cut short by the engine's [`Preempt`] from
//! another thread: the running call returns at the loop's next back edge instead of using
//! up its budget (the halt path of a busy hart).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::time::Duration;

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::{Engine, EngineExit, Hart, HartId, IsaConfig};
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
    let preempt = jit.preempt().expect("the JIT can be preempted");
    // The dispatcher caps one block call at 2^30 instructions (a quarter of a second or
    // more); the poll, asked only between calls, says stop after the first.
    let budget = 1u64 << 33;
    let (stats, s0) = std::thread::scope(|sc| {
        let t = sc.spawn(|| {
            let stats = jit.run(&mut h, &bus, 0, budget, &mut || true);
            (stats, h.get_x(8))
        });
        // Fired again until the call returns: a preemption that lands before the block is
        // entered is for the poll, and this one's spawned thread may not have a core yet.
        while !t.is_finished() {
            std::thread::sleep(Duration::from_millis(2));
            preempt.fire();
        }
        t.join().unwrap()
    });
    assert_eq!(stats.exit, EngineExit::Stopped);
    // Cut short: the loop left its call well before the cap.
    assert!(stats.executed < 1 << 30, "{}", stats.executed);
    // Every iteration retired both instructions: s0 counts half of them (plus the warm-up).
    assert!(
        s0 > 1000 / 2 && s0 <= (stats.executed + 1000) / 2 + 1,
        "{s0}"
    );
}
