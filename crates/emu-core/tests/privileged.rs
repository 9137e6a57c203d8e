//! The privileged architecture: CSR access rights and WARL fields, traps and delegation,
//! interrupt priorities, wfi, counters, PMP and address translation.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use emu_core::bus::irq;
use emu_core::{Access, Bus, Exception, PhysAddr, Priv, StepOutcome};
use emu_isa::{Inst, Op, Xlen};

fn csrr(rd: u8, csr: u16) -> Inst {
    Inst {
        rd,
        rs1: 0,
        imm: csr as i64,
        ..Inst::new(Op::Csrrs)
    }
}
fn csrw(csr: u16, rs: u8) -> Inst {
    Inst {
        rd: 0,
        rs1: rs,
        imm: csr as i64,
        ..Inst::new(Op::Csrrw)
    }
}

#[test]
fn csr_access_rights() {
    let bus = test_bus();
    // (privilege, instruction, allowed)
    let cases: &[(Priv, Inst, bool)] = &[
        (Priv::M, csrr(1, 0x300), true),
        (Priv::S, csrr(1, 0x300), false), // mstatus from S
        (Priv::S, csrr(1, 0x100), true),
        (Priv::U, csrr(1, 0x100), false), // sstatus from U
        (Priv::M, csrw(0xf14, 1), false), // mhartid is read-only
        (Priv::M, csrr(1, 0xf14), true),  // ... but readable (rs1 = x0 does not write)
        (Priv::M, csrr(1, 0x7b0), false), // dcsr outside Debug Mode
        (Priv::M, csrr(1, 0xc80), false), // cycleh does not exist on RV64
        (Priv::M, csrr(1, 0x3a1), false), // odd pmpcfg on RV64
        (Priv::M, csrr(1, 0x5c0), false), // unknown CSR
        (Priv::U, csrr(1, 0xc00), false), // cycle without mcounteren
        (Priv::S, csrr(1, 0xc02), false), // instret without mcounteren
    ];
    for (k, &(prv, inst, ok)) in cases.iter().enumerate() {
        let mut h = hart(Xlen::X64);
        h.prv = prv;
        let r = exec(&mut h, &bus, inst);
        assert_eq!(r.is_ok(), ok, "case {k}: {prv:?} {inst:?}: {r:?}");
        if !ok {
            assert_eq!(h.csr.mcause, 2);
            assert_eq!(h.prv, Priv::M);
        }
    }
    // With the enables set, U may read cycle.
    let mut h = hart(Xlen::X64);
    h.csr.mcounteren = 1;
    h.csr.scounteren = 1;
    h.prv = Priv::U;
    assert!(exec(&mut h, &bus, csrr(1, 0xc00)).is_ok());
}

#[test]
fn warl_fields() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    let w = |h: &mut emu_core::Hart, csr: u16, v: u64| {
        h.x[1] = v;
        exec(h, &bus, csrw(csr, 1)).unwrap();
        exec(h, &bus, csrr(2, csr)).unwrap();
        h.x[2]
    };
    assert_eq!(w(&mut h, 0x305, 0x8000_0101), 0x8000_0101, "mtvec vectored");
    assert_eq!(
        w(&mut h, 0x305, 0x8000_0002),
        0x8000_0101,
        "mtvec mode 2 is reserved: ignored"
    );
    assert_eq!(
        w(&mut h, 0x302, u64::MAX),
        0xb3ff,
        "medeleg: M-ecall not delegable"
    );
    assert_eq!(
        w(&mut h, 0x303, u64::MAX),
        0x222,
        "mideleg: S interrupts only"
    );
    assert_eq!(
        w(&mut h, 0x341, 0x8000_0003),
        0x8000_0002,
        "mepc bit 0 is zero"
    );
    assert_eq!(
        w(&mut h, 0x180, 5 << 60 | 1),
        0,
        "unsupported satp mode: no effect"
    );
    assert_eq!(w(&mut h, 0x180, 8 << 60 | 0x123), 8 << 60 | 0x123, "Sv39");
    let ms = w(&mut h, 0x300, 2 << 11);
    assert_eq!(ms >> 11 & 3, 0, "MPP = 2 is reserved: previous value kept");
    assert_eq!(ms >> 32 & 0xf, 0xa, "UXL = SXL = 64");
    assert_eq!(w(&mut h, 0x301, 0), h.isa.misa(), "misa is read-only");
    assert_eq!(
        w(&mut h, 0x344, u64::MAX),
        0x222,
        "mip: only S bits writable"
    );
}

#[test]
fn ecall_causes_and_delegation() {
    let bus = test_bus();
    for (prv, code) in [(Priv::U, 8), (Priv::S, 9), (Priv::M, 11)] {
        let mut h = hart(Xlen::X64);
        h.csr.mtvec = RAM_BASE + 0x400;
        h.prv = prv;
        h.pc = RAM_BASE + 0x40;
        let _ = exec(&mut h, &bus, Inst::new(Op::Ecall));
        assert_eq!(
            (h.csr.mcause, h.csr.mepc, h.pc, h.prv),
            (code, RAM_BASE + 0x40, RAM_BASE + 0x400, Priv::M)
        );
        assert_eq!(h.csr.mstatus >> 11 & 3, prv as u64, "MPP");
    }
    // Delegated to S from U; never from M.
    let mut h = hart(Xlen::X64);
    h.csr.medeleg = 1 << 8 | 1 << 2;
    h.csr.stvec = RAM_BASE + 0x800;
    h.csr.mstatus |= 1 << 1; // SIE
    h.prv = Priv::U;
    h.pc = RAM_BASE + 0x10;
    let _ = exec(&mut h, &bus, Inst::new(Op::Ecall));
    assert_eq!(
        (h.prv, h.pc, h.csr.scause, h.csr.sepc),
        (Priv::S, RAM_BASE + 0x800, 8, RAM_BASE + 0x10)
    );
    assert_eq!(
        h.csr.mstatus & (1 << 1 | 1 << 5 | 1 << 8),
        1 << 5,
        "SIE -> SPIE, SPP = U"
    );
    // sret goes back to U and restores SIE.
    h.csr.sepc = RAM_BASE + 0x14;
    exec(&mut h, &bus, Inst::new(Op::Sret)).unwrap();
    assert_eq!((h.prv, h.pc), (Priv::U, RAM_BASE + 0x14));
    assert_eq!(h.csr.mstatus & (1 << 1), 1 << 1);
    // Illegal instruction in M stays in M even though delegated.
    h.prv = Priv::M;
    h.csr.mtvec = RAM_BASE + 0x400;
    let _ = exec(&mut h, &bus, Inst::ILLEGAL);
    assert_eq!((h.prv, h.csr.mcause), (Priv::M, 2));
    // xRET privilege checks, TSR and TW.
    let mut h = hart(Xlen::X64);
    h.prv = Priv::S;
    assert!(matches!(
        exec(&mut h, &bus, Inst::new(Op::Mret)),
        Err(Exception::Illegal(_))
    ));
    let mut h = hart(Xlen::X64);
    h.prv = Priv::S;
    h.csr.mstatus |= 1 << 22;
    assert!(matches!(
        exec(&mut h, &bus, Inst::new(Op::Sret)),
        Err(Exception::Illegal(_))
    ));
    let mut h = hart(Xlen::X64);
    h.prv = Priv::S;
    h.csr.mstatus |= 1 << 21;
    assert!(matches!(
        exec(&mut h, &bus, Inst::new(Op::Wfi)),
        Err(Exception::Illegal(_))
    ));
}

#[test]
fn interrupt_priority_and_enables() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.csr.mie = irq::MEIP | irq::MSIP | irq::MTIP | irq::SSIP;
    let all = irq::MEIP | irq::MSIP | irq::MTIP;
    // M-mode with MIE clear: nothing.
    assert_eq!(h.pending_interrupt(all), None);
    h.csr.mstatus |= 1 << 3;
    assert_eq!(h.pending_interrupt(all), Some(11));
    assert_eq!(h.pending_interrupt(irq::MSIP | irq::MTIP), Some(3));
    assert_eq!(h.pending_interrupt(irq::MTIP), Some(7));
    // In S-mode M interrupts are taken regardless of MIE.
    h.csr.mstatus &= !(1 << 3);
    h.prv = Priv::S;
    assert_eq!(h.pending_interrupt(irq::MTIP), Some(7));
    // Delegated SSI in S needs SIE; never taken in M.
    h.csr.mideleg = irq::SSIP;
    h.csr.mip = irq::SSIP;
    assert_eq!(h.pending_interrupt(0), None);
    h.csr.mstatus |= 1 << 1;
    assert_eq!(h.pending_interrupt(0), Some(1));
    h.prv = Priv::M;
    h.csr.mstatus |= 1 << 3;
    assert_eq!(h.pending_interrupt(0), None);
    // Taking an interrupt: cause has the top bit, vectored mode offsets the pc.
    let mut h = hart(Xlen::X64);
    h.csr.mtvec = (RAM_BASE + 0x100) | 1;
    h.csr.mie = irq::MTIP;
    h.csr.mstatus |= 1 << 3;
    bus.set_lines(irq::MTIP);
    assert_eq!(h.step(&bus), StepOutcome::Interrupt(7));
    assert_eq!(
        (h.csr.mcause, h.pc),
        (1 << 63 | 7, RAM_BASE + 0x100 + 4 * 7)
    );
}

#[test]
fn wfi_waits_for_a_locally_enabled_interrupt() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    bus.write(PhysAddr(RAM_BASE), 4, 0x1050_0073).unwrap(); // wfi
    bus.write(PhysAddr(RAM_BASE + 4), 4, 0x0000_0013).unwrap(); // nop
    assert_eq!(h.step(&bus), StepOutcome::Retired);
    assert!(h.waiting);
    assert_eq!(h.step(&bus), StepOutcome::Waiting);
    // Pending and enabled in mie, but MIE = 0: wakes without taking the interrupt.
    h.csr.mie = irq::MSIP;
    bus.set_lines(irq::MSIP);
    assert_eq!(h.step(&bus), StepOutcome::Retired);
    assert_eq!(h.pc, RAM_BASE + 8);
}

#[test]
fn counters() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    for _ in 0..3 {
        bus.write(PhysAddr(h.pc), 4, 0x13).unwrap();
        h.step(&bus);
    }
    assert_eq!((h.csr.minstret, h.csr.mcycle), (3, 3));
    // A CSR write to minstret wins over the increment of that instruction.
    h.x[1] = 100;
    exec(&mut h, &bus, csrw(0xb02, 1)).unwrap();
    h.retire();
    assert_eq!(h.csr.minstret, 100);
    // mcountinhibit.IR stops minstret.
    h.csr.mcountinhibit = 4;
    h.retire();
    assert_eq!(h.csr.minstret, 100);
    assert_eq!(h.csr.mcycle, 5);
}

#[test]
fn pmp_rules() {
    let mut h = hart(Xlen::X64);
    let base = 0x8000_0000u64;
    // Entry 0: NAPOT 4 KiB at base, R only. Entry 1: TOR up to base + 64 KiB, RWX.
    h.csr.pmpaddr[0] = (base >> 2) | 0x1ff;
    h.csr.pmpcfg[0] = 0x18 | 1;
    h.csr.pmpaddr[1] = (base + 0x1_0000) >> 2;
    h.csr.pmpcfg[1] = 0x08 | 7;
    assert!(h.pmp_allows(base, 4, Access::Load, Priv::S));
    assert!(!h.pmp_allows(base, 4, Access::Store, Priv::S));
    assert!(
        h.pmp_allows(base, 4, Access::Store, Priv::M),
        "M ignores unlocked entries"
    );
    assert!(
        !h.pmp_allows(base + 0xffe, 4, Access::Load, Priv::S),
        "straddles two entries"
    );
    assert!(h.pmp_allows(base + 0x2000, 8, Access::Store, Priv::U));
    assert!(
        !h.pmp_allows(base + 0x1_0000, 4, Access::Load, Priv::U),
        "no match in S/U fails"
    );
    assert!(
        h.pmp_allows(base + 0x1_0000, 4, Access::Load, Priv::M),
        "no match in M succeeds"
    );
    h.csr.pmpcfg[0] |= 0x80; // lock: now M is checked too
    assert!(!h.pmp_allows(base, 4, Access::Store, Priv::M));
    // NA4.
    h.csr.pmpaddr[2] = 0x1000 >> 2;
    h.csr.pmpcfg[2] = 0x10 | 4;
    assert!(h.pmp_allows(0x1000, 4, Access::Fetch, Priv::U));
    assert!(!h.pmp_allows(0x1004, 4, Access::Fetch, Priv::U));
    // NA4 at the very top of the address space (an address register set past its 54
    // bits, as a random test did): the last four bytes, no overflow.
    h.csr.pmpaddr[3] = u64::MAX;
    h.csr.pmpcfg[3] = 0x10 | 1;
    assert!(h.pmp_allows(u64::MAX - 3, 4, Access::Load, Priv::U));
    assert!(!h.pmp_allows(u64::MAX - 7, 4, Access::Load, Priv::U));
}

#[test]
fn sv39_translation_with_ad_updates() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    let root = RAM_BASE + 0x1_0000;
    let l1 = root + 0x1000;
    let l0 = root + 0x2000;
    let va = 0x4020_3000u64;
    let pa = RAM_BASE + 0x5_0000;
    let pte = |p: u64, f: u64| (p >> 12) << 10 | f;
    bus.write(PhysAddr(root + (va >> 30) * 8), 8, pte(l1, 1))
        .unwrap();
    bus.write(PhysAddr(l1 + ((va >> 21) & 0x1ff) * 8), 8, pte(l0, 1))
        .unwrap();
    let leaf = l0 + ((va >> 12) & 0x1ff) * 8;
    bus.write(PhysAddr(leaf), 8, pte(pa, 0x7 | 0x10)).unwrap(); // RWX, U, A = D = 0
    h.csr.satp = 8 << 60 | root >> 12;
    h.csr.pmpaddr[0] = u64::MAX >> 10;
    h.csr.pmpcfg[0] = 0x1f;
    h.prv = Priv::U;
    assert_eq!(h.translate(va + 0x10, 4, Access::Load, &bus), Ok(pa + 0x10));
    assert_eq!(
        bus.read(PhysAddr(leaf), 8).unwrap() & 0xc0,
        0x40,
        "A set by a load"
    );
    assert_eq!(h.translate(va, 4, Access::Store, &bus), Ok(pa));
    assert_eq!(
        bus.read(PhysAddr(leaf), 8).unwrap() & 0xc0,
        0xc0,
        "D set by a store"
    );
    // S-mode may not touch a U page without SUM, and never fetch from it.
    h.prv = Priv::S;
    assert_eq!(
        h.translate(va, 4, Access::Load, &bus),
        Err(Exception::LoadPage(va))
    );
    h.csr.mstatus |= 1 << 18;
    assert_eq!(h.translate(va, 4, Access::Load, &bus), Ok(pa));
    assert_eq!(
        h.translate(va, 4, Access::Fetch, &bus),
        Err(Exception::InstPage(va))
    );
    // Non-canonical addresses fault.
    assert_eq!(
        h.translate(1 << 40, 4, Access::Load, &bus),
        Err(Exception::LoadPage(1 << 40))
    );
    // MPRV makes M-mode loads use MPP's translation.
    h.prv = Priv::M;
    h.csr.mstatus |= 1 << 17; // MPRV, MPP = U (0)
    assert_eq!(h.translate(va, 4, Access::Load, &bus), Ok(pa));
    assert_eq!(
        h.translate(va, 4, Access::Fetch, &bus),
        Ok(va),
        "fetches ignore MPRV"
    );
}

#[test]
fn illegal_encodings() {
    let bus = test_bus();
    for word in [0u32, 0xffff_ffff, 0x0000_0073 | 1 << 20 | 1 << 7] {
        let mut h = hart(Xlen::X64);
        bus.write(PhysAddr(h.pc), 4, word as u64).unwrap();
        assert!(
            matches!(h.step(&bus), StepOutcome::Exception(Exception::Illegal(_))),
            "{word:#x}"
        );
        assert_eq!(
            h.csr.mtval,
            word as u64 & if word & 3 == 3 { 0xffff_ffff } else { 0xffff }
        );
    }
    // Zcb parcels without Zcb, compressed without C.
    let mut h = emu_core::Hart::new(
        emu_core::HartId(0),
        emu_core::IsaConfig::parse("rv64gc").unwrap(),
        RAM_BASE,
    );
    bus.write(PhysAddr(h.pc), 2, 0x8000).unwrap(); // c.lbu
    assert!(matches!(
        h.step(&bus),
        StepOutcome::Exception(Exception::Illegal(0x8000))
    ));
    let mut h = emu_core::Hart::new(
        emu_core::HartId(0),
        emu_core::IsaConfig::parse("rv64g").unwrap(),
        RAM_BASE,
    );
    bus.write(PhysAddr(h.pc), 2, 0x4505).unwrap(); // c.li a0, 1
    assert!(matches!(
        h.step(&bus),
        StepOutcome::Exception(Exception::Illegal(0x4505))
    ));
}
