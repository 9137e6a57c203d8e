//! Loads, stores and atomics: misaligned accesses (also across pages), LR/SC reservations,
//! AMO results and the alignment exceptions of atomics.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod common;

use common::*;
use emu_core::{Bus, Exception, PhysAddr};
use emu_isa::{Inst, Op, Xlen};

#[test]
fn misaligned_loads_and_stores_work() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.x[1] = RAM_BASE + 0xfff; // crosses a page boundary
    h.x[2] = 0x1122_3344_5566_7788;
    exec(
        &mut h,
        &bus,
        Inst {
            rs1: 1,
            rs2: 2,
            ..Inst::new(Op::Sd)
        },
    )
    .unwrap();
    exec(&mut h, &bus, i(Op::Ld, 3, 1, 0)).unwrap();
    assert_eq!(h.x[3], 0x1122_3344_5566_7788);
    exec(&mut h, &bus, i(Op::Lh, 4, 1, 1)).unwrap();
    assert_eq!(h.x[4], 0x6677);
    exec(&mut h, &bus, i(Op::Lw, 4, 1, 4)).unwrap();
    assert_eq!(h.x[4], 0x1122_3344);
    exec(&mut h, &bus, i(Op::Lb, 4, 1, 7)).unwrap();
    assert_eq!(h.x[4], 0x11);
    exec(&mut h, &bus, i(Op::Lbu, 4, 1, 0)).unwrap();
    assert_eq!(h.x[4], 0x88);
    exec(&mut h, &bus, i(Op::Lb, 4, 1, 0)).unwrap();
    assert_eq!(h.x[4], 0xffff_ffff_ffff_ff88);
}

#[test]
fn access_faults_report_the_address() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.x[1] = 0x1000_0000;
    assert_eq!(
        exec(&mut h, &bus, i(Op::Lw, 3, 1, 4)),
        Err(Exception::LoadAccess(0x1000_0004))
    );
    assert_eq!((h.csr.mcause, h.csr.mtval), (5, 0x1000_0004));
    assert_eq!(
        exec(
            &mut h,
            &bus,
            Inst {
                rs1: 1,
                rs2: 2,
                ..Inst::new(Op::Sw)
            }
        ),
        Err(Exception::StoreAccess(0x1000_0000))
    );
    assert_eq!(h.csr.mcause, 7);
}

#[test]
fn lr_sc() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.x[1] = RAM_BASE + 0x100;
    h.x[2] = 42;
    // sc without a reservation fails and writes nothing.
    exec(&mut h, &bus, r(Op::ScW, 3, 1, 2)).unwrap();
    assert_eq!(h.x[3], 1);
    assert_eq!(bus.read(PhysAddr(RAM_BASE + 0x100), 4), Ok(0));
    // lr then sc succeeds.
    exec(&mut h, &bus, r(Op::LrW, 4, 1, 0)).unwrap();
    exec(&mut h, &bus, r(Op::ScW, 3, 1, 2)).unwrap();
    assert_eq!(h.x[3], 0);
    assert_eq!(bus.read(PhysAddr(RAM_BASE + 0x100), 4), Ok(42));
    // A second sc fails: the reservation is consumed.
    exec(&mut h, &bus, r(Op::ScW, 3, 1, 2)).unwrap();
    assert_eq!(h.x[3], 1);
    // Another agent changing the value breaks the reservation.
    exec(&mut h, &bus, r(Op::LrD, 4, 1, 0)).unwrap();
    bus.write(PhysAddr(RAM_BASE + 0x100), 8, 7).unwrap();
    exec(&mut h, &bus, r(Op::ScD, 3, 1, 2)).unwrap();
    assert_eq!(h.x[3], 1);
    // A trap clears the reservation.
    exec(&mut h, &bus, r(Op::LrD, 4, 1, 0)).unwrap();
    let _ = exec(&mut h, &bus, Inst::new(Op::Ecall));
    exec(&mut h, &bus, r(Op::ScD, 3, 1, 2)).unwrap();
    assert_eq!(h.x[3], 1);
}

#[test]
fn amos() {
    let cases: &[(Op, u64, u64, u64)] = &[
        // op, memory, operand, new memory (old value is returned sign-extended)
        (Op::AmoaddW, 0xffff_ffff, 1, 0),
        (Op::AmominW, 0x8000_0000, 1, 0x8000_0000),
        (Op::AmominuW, 0x8000_0000, 1, 1),
        (Op::AmomaxW, 0x8000_0000, 1, 1),
        (Op::AmoswapD, 5, 9, 9),
        (Op::AmoxorD, 0xff, 0x0f, 0xf0),
        (Op::AmomaxuD, 1, u64::MAX, u64::MAX),
    ];
    for &(op, mem, val, new) in cases {
        let bus = test_bus();
        let mut h = hart(Xlen::X64);
        let size = if op.name().ends_with(".w") { 4 } else { 8 };
        bus.write(PhysAddr(RAM_BASE + 8), size, mem).unwrap();
        h.x[1] = RAM_BASE + 8;
        h.x[2] = val;
        exec(&mut h, &bus, r(op, 3, 1, 2)).unwrap();
        let old = if size == 4 {
            mem as u32 as i32 as i64 as u64
        } else {
            mem
        };
        assert_eq!(h.x[3], old, "{op:?} returns the old value");
        assert_eq!(
            bus.read(PhysAddr(RAM_BASE + 8), size),
            Ok(new),
            "{op:?} memory"
        );
    }
}

#[test]
fn misaligned_atomics_raise_the_spec_exceptions() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    h.x[1] = RAM_BASE + 2;
    assert_eq!(
        exec(&mut h, &bus, r(Op::AmoaddW, 3, 1, 2)),
        Err(Exception::StoreMisaligned(RAM_BASE + 2))
    );
    assert_eq!(h.csr.mcause, 6);
    assert_eq!(
        exec(&mut h, &bus, r(Op::ScW, 3, 1, 2)),
        Err(Exception::StoreMisaligned(RAM_BASE + 2))
    );
    assert_eq!(
        exec(&mut h, &bus, r(Op::LrW, 3, 1, 0)),
        Err(Exception::LoadMisaligned(RAM_BASE + 2))
    );
    assert_eq!(h.csr.mcause, 4);
}

/// Zcb parcels execute as their expansions.
#[test]
#[allow(clippy::unusual_byte_groupings)] // binary literals grouped by instruction field
fn zcb_parcels() {
    let bus = test_bus();
    let mut h = hart(Xlen::X64);
    let data = RAM_BASE + 0x800;
    bus.write(PhysAddr(data), 8, 0x8899_aabb_ccdd_eeff).unwrap();
    h.x[8] = data; // s0
    h.x[9] = 0xffff_ffff_0000_0005; // s1
    h.x[10] = 3; // a0
    bus.write(PhysAddr(RAM_BASE), 2, 0x8004).unwrap(); // c.lbu s1, 0(s0)
    h.step(&bus);
    assert_eq!(h.x[9], 0xff, "c.lbu");
    // c.mul s1, a0 (funct6 100111, rd'/rs1' = s1, funct2 10, rs2' = a0)
    let mul: u16 = 0b100_111_001_10_010_01;
    bus.write(PhysAddr(h.pc), 2, mul as u64).unwrap();
    h.step(&bus);
    assert_eq!(h.x[9], 0xff * 3, "c.mul");
    // c.not s1 (funct5 11101 in bits 6:2 -> 0b11_101)
    let not: u16 = 0b100_111_001_11_101_01;
    bus.write(PhysAddr(h.pc), 2, not as u64).unwrap();
    h.step(&bus);
    assert_eq!(h.x[9], !(0xff * 3u64), "c.not");
    // c.zext.w s1
    let zext_w: u16 = 0b100_111_001_11_100_01;
    bus.write(PhysAddr(h.pc), 2, zext_w as u64).unwrap();
    h.step(&bus);
    assert_eq!(h.x[9], !(0xff * 3u64) & 0xffff_ffff, "c.zext.w");
    // c.sh a0, 2(s0): uimm[1] = bit 5
    let sh: u16 = 0b100_011_000_0_1_010_00;
    bus.write(PhysAddr(h.pc), 2, sh as u64).unwrap();
    h.step(&bus);
    assert_eq!(
        bus.read(PhysAddr(data), 8).unwrap(),
        0x8899_aabb_0003_eeff,
        "c.sh"
    );
}
