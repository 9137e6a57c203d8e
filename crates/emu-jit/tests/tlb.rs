//! The software TLB: S-mode code under Sv39 with PMP in force takes the inline load/store
//! path after the first access to a page, sees a remapped page after `sfence.vma`, and a
//! page that gained translated code after its write tag was cached still invalidates on a
//! store. The JIT must end in exactly the interpreter's state.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use emu_asm::reg::*;
use emu_asm::{Asm, Label};
use emu_core::{Bus, Engine, Hart, HartId, Interpreter, IsaConfig, PhysAddr};
use emu_isa::{Inst, Op, Xlen, encode32};
use emu_jit::{JitConfig, JitEngine};
use emu_machine::SystemBus;

mod common;
use common::BASE;
const ROOT: u64 = BASE + 0x1_0000;
const L1: u64 = BASE + 0x1_1000;
const L0: u64 = BASE + 0x1_2000;
const DATA1: u64 = BASE + 0x2_0000;
const DATA2: u64 = BASE + 0x2_1000;
const VA: u64 = 0x4000_0000;
const ITERATIONS: i64 = 1000;
const REMAPS: i64 = 4;

fn pte(pa: u64, flags: u64) -> i64 {
    (((pa >> 12) << 10) | flags) as i64
}

/// M-mode set-up: PMP over everything, Sv39 with identity gigapages 0 (devices) and 2
/// (RAM) and VA's 4 KiB page -> DATA1 with `leaf` flags; then `mret` to S-mode at the
/// returned label, which the caller binds.
fn paging_prologue(a: &mut Asm, leaf: u64) -> Label {
    let smode = a.label();
    a.li(T0, -1);
    a.i(Op::Srli, T0, T0, 10);
    a.csrw(0x3b0, T0);
    a.li(T0, 0x1f);
    a.csrw(0x3a0, T0);
    a.li(T1, ROOT as i64);
    a.li(T0, pte(0, 0xcf));
    a.store(Op::Sd, T0, T1, 0);
    a.li(T0, pte(BASE, 0xcf));
    a.store(Op::Sd, T0, T1, 16);
    a.li(T0, pte(L1, 1));
    a.store(Op::Sd, T0, T1, 8);
    a.li(T2, L1 as i64);
    a.li(T0, pte(L0, 1));
    a.store(Op::Sd, T0, T2, 0);
    a.li(T2, L0 as i64);
    a.li(T0, pte(DATA1, leaf));
    a.store(Op::Sd, T0, T2, 0);
    a.li(T0, DATA2 as i64);
    a.li(T1, 0x5555);
    a.store(Op::Sd, T1, T0, 0);
    a.li(T0, (8i64 << 60) | (ROOT >> 12) as i64);
    a.csrw(0x180, T0);
    a.li(T0, 1 << 11);
    a.csrs(0x300, T0);
    a.la(T0, smode);
    a.csrw(0x341, T0);
    a.op0(Op::Mret);
    smode
}

fn program() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let func: Label = a.label();
    let datum = a.label();
    let smode = paging_prologue(&mut a, 0xc7);
    a.bind(smode);
    a.li(S4, VA as i64);
    a.li(S0, ITERATIONS);
    a.li(A0, 0);
    let lp = a.here();
    a.i(Op::Slli, T0, S0, 3);
    a.i(Op::Andi, T0, T0, 0x7f8);
    a.r(Op::Add, T0, T0, S4);
    a.load(Op::Ld, T1, T0, 0);
    a.r(Op::Add, A0, A0, T1);
    a.r(Op::Add, T1, T1, S0);
    a.store(Op::Sd, T1, T0, 0);
    a.addi(S0, S0, -1);
    a.branch(Op::Bne, S0, ZERO, lp);
    // Remap VA to DATA2 and back, several times (later rounds run already-translated
    // code); after sfence.vma the old translation must be gone.
    a.li(T2, L0 as i64);
    a.li(S1, REMAPS);
    let remap = a.here();
    a.li(T0, pte(DATA2, 0xc7));
    a.store(Op::Sd, T0, T2, 0);
    a.op0(Op::SfenceVma);
    a.load(Op::Ld, T1, S4, 0);
    a.r(Op::Add, A0, A0, T1);
    a.li(T0, pte(DATA1, 0xc7));
    a.store(Op::Sd, T0, T2, 0);
    a.op0(Op::SfenceVma);
    a.load(Op::Ld, T1, S4, 0);
    a.r(Op::Add, A0, A0, T1);
    a.addi(S1, S1, -1);
    a.branch(Op::Bne, S1, ZERO, remap);
    // A store caches a write tag for func's page before func is translated; patching func
    // afterwards must still reach the invalidation helper.
    a.la(T0, datum);
    a.li(T1, 7);
    a.store(Op::Sd, T1, T0, 0);
    a.call(func);
    a.la(T0, func);
    let addi100 = encode32(
        &Inst {
            rd: A0,
            rs1: A0,
            imm: 100,
            ..Inst::new(Op::Addi)
        },
        Xlen::X64,
    )
    .unwrap();
    a.li(T1, addi100 as i64);
    a.store(Op::Sw, T1, T0, 0);
    a.call(func);
    let spin = a.here();
    a.j(spin);
    a.align(4096);
    a.bind(func);
    a.addi(A0, A0, 1);
    a.ret();
    a.align(8);
    a.bind(datum);
    a.dword(0);
    a.finish().unwrap()
}

fn machine(code: &[u8]) -> (SystemBus, Hart) {
    let bus = common::bus_with(code);
    (bus, Hart::new(HartId(0), IsaConfig::full(Xlen::X64), BASE))
}

#[test]
fn tlb_paging_remap_and_code_pages() {
    let code = program();
    let mut slots = [0u64; 256];
    let mut want = 0u64;
    for s0 in (1..=ITERATIONS as u64).rev() {
        let k = ((s0 * 8) & 0x7f8) as usize / 8;
        want = want.wrapping_add(slots[k]);
        slots[k] += s0;
    }
    want += REMAPS as u64 * (0x5555 + slots[0]) + 1 + 100;

    let budget = 20_000;
    let (bus_a, mut a) = machine(&code);
    Interpreter::default().run(&mut a, &bus_a, 0, budget, &mut || false);
    assert_eq!(a.x[A0 as usize], want, "interpreter");
    for single_step in [false, true] {
        let (bus_b, mut b) = machine(&code);
        let mut jit = JitEngine::new(JitConfig {
            single_step,
            ..JitConfig::default()
        })
        .unwrap();
        // Several calls, as the machine makes them: the TLB stays warm across them.
        let mut done = 0;
        while done < budget {
            done += jit
                .run(&mut b, &bus_b, 0, (budget - done).min(4096), &mut || false)
                .executed;
        }
        assert_eq!(
            (a.pc, a.prv, a.x),
            (b.pc, b.prv, b.x),
            "single_step {single_step}"
        );
        assert_eq!(a.csr, b.csr);
        for off in (0..0x2_2000u64).step_by(8) {
            let at = PhysAddr(BASE + off);
            assert_eq!(bus_a.read(at, 8), bus_b.read(at, 8), "memory at {at:?}");
        }
        // 2 000 loads and stores through the MMU; only the first of each kind per TLB
        // lifetime misses (the TLB is flushed by traps, sfence.vma and translations).
        assert!(
            jit.tlb_fills() < 100,
            "{} TLB fills: the inline path is not hitting",
            jit.tlb_fills()
        );
    }
}

/// Between two runs a debugger rewrites a page-table entry and changes `mstatus.SUM`: the
/// engine sees a different translation context and must not use what its TLB cached.
#[test]
fn changed_context_between_runs_flushes() {
    let code = program();
    let first = 3000; // well inside the S-mode loop, with VA cached
    let (bus_a, mut a) = machine(&code);
    let (bus_b, mut b) = machine(&code);
    let mut interp = Interpreter::default();
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    interp.run(&mut a, &bus_a, 0, first + 99, &mut || false);
    assert_eq!(
        jit.run(&mut b, &bus_b, 0, first, &mut || false).executed,
        first
    );
    // Runs of one loop iteration each: after the first, every block variant they need is
    // translated, so nothing but the engine entry could flush the TLB any more.
    let compiled = jit.stats.compiled;
    for _ in 0..10 {
        jit.run(&mut b, &bus_b, 0, 9, &mut || false);
    }
    assert!(jit.stats.compiled > compiled);
    let compiled = jit.stats.compiled;
    jit.run(&mut b, &bus_b, 0, 9, &mut || false);
    assert_eq!(jit.stats.compiled, compiled);
    assert_eq!(a.pc, b.pc);
    for (bus, h) in [(&bus_a, &mut a), (&bus_b, &mut b)] {
        bus.write(PhysAddr(L0), 8, pte(DATA2, 0xc7) as u64).unwrap();
        bus.write(PhysAddr(DATA2 + 0x100), 8, 0x77).unwrap();
        h.csr.mstatus ^= emu_core::hart::mstatus::SUM;
    }
    interp.run(&mut a, &bus_a, 0, 5000, &mut || false);
    jit.run(&mut b, &bus_b, 0, 5000, &mut || false);
    assert_eq!((a.pc, a.x), (b.pc, b.x));
    for off in (0..0x2_2000u64).step_by(8) {
        let at = PhysAddr(BASE + off);
        assert_eq!(bus_a.read(at, 8), bus_b.read(at, 8), "memory at {at:?}");
    }
}

/// A store-class access that faults before it is performed must not set the page's D bit
/// (the JIT's helper once translated the address for bookkeeping before executing it).
#[test]
fn faulting_store_leaves_dirty_bit_clear() {
    let mut a = Asm::new(Xlen::X64, BASE);
    let smode = paging_prologue(&mut a, 0x47); // V R W A, D clear
    a.bind(smode);
    a.li(S4, VA as i64 + 2);
    a.r(Op::AmoaddW, ZERO, S4, ZERO); // misaligned: store/AMO address misaligned
    let spin = a.here();
    a.j(spin);
    let code = a.finish().unwrap();
    let (bus_a, mut h_a) = machine(&code);
    let (bus_b, mut h_b) = machine(&code);
    // The trap goes to mtvec; point it at the spin loop.
    let spin_at = BASE + code.len() as u64 - 4;
    h_a.csr.mtvec = spin_at;
    h_b.csr.mtvec = spin_at;
    Interpreter::default().run(&mut h_a, &bus_a, 0, 200, &mut || false);
    let mut jit = JitEngine::new(JitConfig::default()).unwrap();
    jit.run(&mut h_b, &bus_b, 0, 200, &mut || false);
    assert_eq!(h_a.csr.mcause, 6, "store/AMO address misaligned");
    assert_eq!((h_a.pc, h_a.csr.mcause), (h_b.pc, h_b.csr.mcause));
    let leaf = bus_a.read(PhysAddr(L0), 8).unwrap();
    assert_eq!(leaf & 0x80, 0, "interpreter left D clear");
    assert_eq!(bus_b.read(PhysAddr(L0), 8).unwrap(), leaf);
}
