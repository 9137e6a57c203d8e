//! A minimal bus and helpers for executing single instructions on a hart.

#![allow(clippy::unwrap_used, dead_code)] // shared by several test binaries; panics report failures

use emu_core::{Exception, Hart, HartId, IsaConfig};
use emu_isa::{Fmt, Inst, Op, Xlen, encode32};

pub const RAM_BASE: u64 = 0x8000_0000;
pub const RAM_SIZE: usize = 1 << 20;

/// RAM only, plus settable interrupt lines.
pub type TestBus = emu_core::bus::RamBus;

pub fn test_bus() -> TestBus {
    TestBus::new(RAM_BASE, RAM_SIZE)
}

pub fn hart(xlen: Xlen) -> Hart {
    let mut h = Hart::new(HartId(0), IsaConfig::full(xlen), RAM_BASE);
    h.csr.mstatus |= 3 << 13; // FS dirty: FP enabled
    h
}

/// Execute one instruction at the hart's pc; an exception is taken as the hardware would.
pub fn exec(h: &mut Hart, bus: &TestBus, i: Inst) -> Result<(), Exception> {
    let raw = encode32(&i, h.xlen()).unwrap_or(0);
    let r = h.execute(&i, raw, bus);
    if let Err(e) = r {
        h.raise(e, bus);
    }
    r
}

pub fn r(op: Op, rd: u8, rs1: u8, rs2: u8) -> Inst {
    Inst {
        rd,
        rs1,
        rs2,
        ..Inst::new(op)
    }
}

pub fn i(op: Op, rd: u8, rs1: u8, imm: i64) -> Inst {
    Inst {
        rd,
        rs1,
        imm,
        ..Inst::new(op)
    }
}

pub fn f(op: Op, fmt: Fmt, rd: u8, rs1: u8, rs2: u8, rm: u8) -> Inst {
    Inst {
        rd,
        rs1,
        rs2,
        rm,
        fmt,
        ..Inst::new(op)
    }
}

/// Run `op` on a = x1, b = x2 into x3 and return x3.
pub fn alu(xlen: Xlen, op: Op, a: u64, b: u64) -> u64 {
    let bus = test_bus();
    let mut h = hart(xlen);
    h.x[1] = h.norm(a);
    h.x[2] = h.norm(b);
    exec(&mut h, &bus, r(op, 3, 1, 2)).unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
    h.x[3]
}

/// Run immediate form `op` on a = x1 with `imm` into x3.
pub fn alu_imm(xlen: Xlen, op: Op, a: u64, imm: i64) -> u64 {
    let bus = test_bus();
    let mut h = hart(xlen);
    h.x[1] = h.norm(a);
    exec(&mut h, &bus, i(op, 3, 1, imm)).unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
    h.x[3]
}
