//! Arbitrary bytes as guest code and register state: the JIT and the interpreter must end in
//! the same architectural state after the same number of instructions, and neither may panic
//! or touch host memory outside guest RAM.
#![no_main]

use std::sync::Arc;

use emu_core::{Bus, Engine, Hart, HartId, Interpreter, IsaConfig, PhysAddr};
use emu_isa::Xlen;
use emu_jit::{JitConfig, JitEngine};
use emu_machine::{Console, Signals, SystemBus};
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x8000_0000;

fn setup(data: &[u8], xlen: Xlen) -> (SystemBus, Hart) {
    let (console, _) = Console::capture();
    let bus = SystemBus::new(1 << 20, 1, console, Arc::new(Signals::default())).expect("RAM");
    for (k, b) in data.iter().enumerate() {
        let _ = bus.write(PhysAddr(BASE + k as u64), 1, *b as u64);
    }
    let mut h = Hart::new(HartId(0), IsaConfig::full(xlen), BASE);
    h.csr.mstatus |= 3 << 13;
    h.csr.mtvec = BASE + (data.first().copied().unwrap_or(0) as u64) * 4;
    for r in 1..32 {
        h.x[r] = h.norm(BASE + (data.get(r).copied().unwrap_or(0) as u64) * 8);
    }
    (bus, h)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let xlen = if data[0] & 1 == 0 {
        Xlen::X64
    } else {
        Xlen::X32
    };
    let (bus_a, mut a) = setup(data, xlen);
    let (bus_b, mut b) = setup(data, xlen);
    // Both compilers: every block optimised at once, every block compiled quickly, or
    // blocks recompiled for speed after a few instructions (promotions mid-run).
    let hot_after = match data[0] >> 1 & 3 {
        0 => 0,
        1 => u64::MAX,
        _ => u64::from(data[1] % 64),
    };
    let Ok(mut jit) = JitEngine::new(JitConfig {
        code_heap: 1 << 20,
        hot_after,
        ..JitConfig::default()
    }) else {
        return;
    };
    let ra = Interpreter::default().run(&mut a, &bus_a, 0, 2000, &mut || false);
    let rb = jit.run(&mut b, &bus_b, 0, 2000, &mut || false);
    assert_eq!(ra, rb);
    assert_eq!((a.pc, a.prv, a.x, a.f), (b.pc, b.prv, b.x, b.f));
    assert_eq!(a.csr, b.csr);
    for off in (0..(1u64 << 20)).step_by(8) {
        assert_eq!(
            bus_a.read(PhysAddr(BASE + off), 8),
            bus_b.read(PhysAddr(BASE + off), 8)
        );
    }
});
