//! A minimal bus and helpers for executing single instructions on a hart.

#![allow(clippy::unwrap_used, dead_code)] // shared by several test binaries; panics report failures

use std::sync::Mutex;

use emu_core::{AmoOp, Bus, BusFault, Exception, Hart, HartId, IsaConfig, PhysAddr};
use emu_isa::{Fmt, Inst, Op, Xlen, encode32};

pub const RAM_BASE: u64 = 0x8000_0000;
pub const RAM_SIZE: usize = 1 << 20;

/// RAM only, plus settable interrupt lines.
pub struct TestBus {
    pub mem: Mutex<Vec<u8>>,
    pub lines: Mutex<u64>,
}

impl TestBus {
    pub fn new() -> TestBus {
        TestBus {
            mem: Mutex::new(vec![0; RAM_SIZE]),
            lines: Mutex::new(0),
        }
    }
    fn off(&self, a: PhysAddr, size: usize) -> Result<usize, BusFault> {
        let o = a.0.checked_sub(RAM_BASE).ok_or(BusFault::Unmapped(a))? as usize;
        if o + size > RAM_SIZE {
            Err(BusFault::Unmapped(a))
        } else {
            Ok(o)
        }
    }
}

impl Bus for TestBus {
    fn read(&self, a: PhysAddr, size: usize) -> Result<u64, BusFault> {
        let o = self.off(a, size)?;
        let m = self.mem.lock().unwrap();
        Ok((0..size).fold(0u64, |v, k| v | (m[o + k] as u64) << (8 * k)))
    }
    fn write(&self, a: PhysAddr, size: usize, val: u64) -> Result<(), BusFault> {
        let o = self.off(a, size)?;
        let mut m = self.mem.lock().unwrap();
        for k in 0..size {
            m[o + k] = (val >> (8 * k)) as u8;
        }
        Ok(())
    }
    fn amo(&self, a: PhysAddr, size: usize, op: AmoOp, val: u64) -> Result<u64, BusFault> {
        let old = self.read(a, size)?;
        self.write(a, size, op.apply(old, val, size))?;
        Ok(old)
    }
    fn compare_exchange(
        &self,
        a: PhysAddr,
        size: usize,
        expected: u64,
        new: u64,
    ) -> Result<bool, BusFault> {
        let mask = if size == 8 {
            u64::MAX
        } else {
            (1 << (8 * size)) - 1
        };
        if self.read(a, size)? & mask == expected & mask {
            self.write(a, size, new)?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
    fn irq_lines(&self, _: HartId) -> u64 {
        *self.lines.lock().unwrap()
    }
    fn mtime(&self) -> u64 {
        0
    }
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
        h.raise(e);
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
    let bus = TestBus::new();
    let mut h = hart(xlen);
    h.x[1] = h.norm(a);
    h.x[2] = h.norm(b);
    exec(&mut h, &bus, r(op, 3, 1, 2)).unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
    h.x[3]
}

/// Run immediate form `op` on a = x1 with `imm` into x3.
pub fn alu_imm(xlen: Xlen, op: Op, a: u64, imm: i64) -> u64 {
    let bus = TestBus::new();
    let mut h = hart(xlen);
    h.x[1] = h.norm(a);
    exec(&mut h, &bus, i(op, 3, 1, imm)).unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
    h.x[3]
}
