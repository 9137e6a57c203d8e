//! The CLINT (core-local interruptor) of QEMU's virt machine: `msip` per hart, `mtimecmp` per
//! hart and the shared `mtime`, ticking at 10 MHz of host time like QEMU's.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use emu_core::bus::irq;

/// `mtime` frequency (QEMU virt's timebase).
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// The CLINT.
#[derive(Debug)]
pub struct Clint {
    msip: Vec<AtomicU32>,
    mtimecmp: Vec<AtomicU64>,
    start: Instant,
    /// Offset added to host time so that guest writes to `mtime` stick.
    offset: AtomicU64,
}

impl Clint {
    /// A CLINT for `harts` harts.
    pub fn new(harts: usize) -> Clint {
        Clint {
            msip: (0..harts).map(|_| AtomicU32::new(0)).collect(),
            // Reset value 0, as on QEMU virt: MTIP is pending until software programs the
            // comparator (it must before enabling MTIE anyway).
            mtimecmp: (0..harts).map(|_| AtomicU64::new(0)).collect(),
            start: Instant::now(),
            offset: AtomicU64::new(0),
        }
    }

    /// Back to the power-on state (system reset): no software interrupts, comparators 0.
    /// `mtime` keeps running, as QEMU's does.
    pub fn reset(&self) {
        for m in &self.msip {
            m.store(0, Ordering::Relaxed);
        }
        for m in &self.mtimecmp {
            m.store(0, Ordering::Relaxed);
        }
    }

    /// Current `mtime`.
    pub fn mtime(&self) -> u64 {
        let ns = self.start.elapsed().as_nanos() as u64;
        (ns / (1_000_000_000 / TIMEBASE_HZ)).wrapping_add(self.offset.load(Ordering::Relaxed))
    }

    /// MSIP and MTIP lines for `hart`.
    pub fn lines(&self, hart: usize) -> u64 {
        let mut v = 0;
        if self
            .msip
            .get(hart)
            .is_some_and(|m| m.load(Ordering::Relaxed) & 1 != 0)
        {
            v |= irq::MSIP;
        }
        if self
            .mtimecmp
            .get(hart)
            .is_some_and(|c| self.mtime() >= c.load(Ordering::Relaxed))
        {
            v |= irq::MTIP;
        }
        v
    }

    /// Time until `hart`'s timer fires, in nanoseconds (for sleeping in `wfi`).
    pub fn ns_until_timer(&self, hart: usize) -> u64 {
        let cmp = self
            .mtimecmp
            .get(hart)
            .map_or(u64::MAX, |c| c.load(Ordering::Relaxed));
        cmp.saturating_sub(self.mtime())
            .saturating_mul(1_000_000_000 / TIMEBASE_HZ)
    }

    /// Register read; `None` for offsets that hold nothing.
    pub fn read(&self, off: u64, size: usize) -> Option<u64> {
        match off {
            0..=0x3fff => {
                let h = (off / 4) as usize;
                (off.is_multiple_of(4) && size == 4).then(|| {
                    self.msip
                        .get(h)
                        .map_or(0, |m| m.load(Ordering::Relaxed) as u64)
                })
            }
            0x4000..=0xbff7 => {
                let h = ((off - 0x4000) / 8) as usize;
                let v = self
                    .mtimecmp
                    .get(h)
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                sub_read(v, off % 8, size)
            }
            0xbff8..=0xbfff => sub_read(self.mtime(), off - 0xbff8, size),
            _ => None,
        }
    }

    /// Register write; returns whether an interrupt line may have changed.
    pub fn write(&self, off: u64, size: usize, val: u64) -> Option<bool> {
        match off {
            0..=0x3fff => {
                if !off.is_multiple_of(4) || size != 4 {
                    return None;
                }
                if let Some(m) = self.msip.get((off / 4) as usize) {
                    m.store(val as u32 & 1, Ordering::Relaxed);
                }
                Some(true)
            }
            0x4000..=0xbff7 => {
                if let Some(c) = self.mtimecmp.get(((off - 0x4000) / 8) as usize) {
                    let old = c.load(Ordering::Relaxed);
                    c.store(sub_write(old, off % 8, size, val)?, Ordering::Relaxed);
                }
                Some(true)
            }
            0xbff8..=0xbfff => {
                let now = self.mtime();
                let new = sub_write(now, off - 0xbff8, size, val)?;
                let off_now = self.offset.load(Ordering::Relaxed);
                self.offset.store(
                    off_now.wrapping_add(new.wrapping_sub(now)),
                    Ordering::Relaxed,
                );
                Some(true)
            }
            _ => None,
        }
    }
}

/// Read `size` bytes at byte offset `at` of a 64-bit register.
fn sub_read(v: u64, at: u64, size: usize) -> Option<u64> {
    match (at, size) {
        (0, 8) => Some(v),
        (0, 4) => Some(v & 0xffff_ffff),
        (4, 4) => Some(v >> 32),
        _ => None,
    }
}

fn sub_write(old: u64, at: u64, size: usize, val: u64) -> Option<u64> {
    match (at, size) {
        (0, 8) => Some(val),
        (0, 4) => Some((old & !0xffff_ffff) | (val & 0xffff_ffff)),
        (4, 4) => Some((old & 0xffff_ffff) | val << 32),
        _ => None,
    }
}
