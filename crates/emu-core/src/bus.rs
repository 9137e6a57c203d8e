//! The Bus trait: how a hart reaches physical memory and devices.
//!
//! The hart hands the bus physical addresses only (translation and PMP happen in the hart).
//! Implementations must be shareable between hart threads: atomics (AMOs and the
//! compare-and-swap behind `sc`) are performed by the bus so that they are atomic across harts.

use crate::types::{HartId, PhysAddr};

/// Why a bus access failed. The hart turns this into an access-fault exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BusFault {
    /// Nothing is mapped at the address.
    #[error("no device at {0}")]
    Unmapped(PhysAddr),
    /// A device exists but refuses this size or alignment.
    #[error("unsupported access at {0}")]
    Unsupported(PhysAddr),
}

/// Read-modify-write operation of an AMO instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmoOp {
    /// `amoswap`.
    Swap,
    /// `amoadd`.
    Add,
    /// `amoxor`.
    Xor,
    /// `amoand`.
    And,
    /// `amoor`.
    Or,
    /// `amomin` (signed).
    Min,
    /// `amomax` (signed).
    Max,
    /// `amominu`.
    Minu,
    /// `amomaxu`.
    Maxu,
}

impl AmoOp {
    /// The new memory value for old value `a` and register operand `b`, both `size` bytes
    /// (4 or 8; values are zero-extended on entry, the result is truncated by the caller).
    pub fn apply(self, a: u64, b: u64, size: usize) -> u64 {
        let (sa, sb) = if size == 4 {
            (a as u32 as i32 as i64, b as u32 as i32 as i64)
        } else {
            (a as i64, b as i64)
        };
        let (ua, ub) = if size == 4 {
            (a as u32 as u64, b as u32 as u64)
        } else {
            (a, b)
        };
        match self {
            AmoOp::Swap => b,
            AmoOp::Add => a.wrapping_add(b),
            AmoOp::Xor => a ^ b,
            AmoOp::And => a & b,
            AmoOp::Or => a | b,
            AmoOp::Min => {
                if sa <= sb {
                    a
                } else {
                    b
                }
            }
            AmoOp::Max => {
                if sa >= sb {
                    a
                } else {
                    b
                }
            }
            AmoOp::Minu => {
                if ua <= ub {
                    a
                } else {
                    b
                }
            }
            AmoOp::Maxu => {
                if ua >= ub {
                    a
                } else {
                    b
                }
            }
        }
    }
}

/// Interrupt lines a device drives into a hart's `mip` (bit positions as in `mip`).
pub mod irq {
    /// Supervisor software interrupt.
    pub const SSIP: u64 = 1 << 1;
    /// Machine software interrupt (CLINT msip).
    pub const MSIP: u64 = 1 << 3;
    /// Supervisor timer interrupt.
    pub const STIP: u64 = 1 << 5;
    /// Machine timer interrupt (CLINT mtimecmp).
    pub const MTIP: u64 = 1 << 7;
    /// Supervisor external interrupt (PLIC S context).
    pub const SEIP: u64 = 1 << 9;
    /// Machine external interrupt (PLIC M context).
    pub const MEIP: u64 = 1 << 11;
}

/// Where main RAM lives in the host, for engines that access it directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RamWindow {
    /// Guest physical address of the first byte.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
    /// Host address of the first byte. Valid, and never moved, for the bus's lifetime; other
    /// harts may access the same bytes concurrently (with relaxed-atomic semantics).
    pub host: usize,
    /// A physical range inside RAM whose writes the bus must see (HTIF's `tohost`): engines
    /// send stores there through [`Bus::write`] instead of writing the host memory directly.
    pub watch: Option<(u64, u64)>,
}

/// Physical memory and devices as seen by the harts.
///
/// `size` is 1, 2, 4 or 8. Addresses need not be aligned for plain loads and stores (RAM
/// handles misaligned accesses; devices may refuse them); atomics are always naturally aligned
/// because the hart checks that first.
pub trait Bus: Send + Sync {
    /// Read `size` bytes (little-endian, zero-extended).
    fn read(&self, addr: PhysAddr, size: usize) -> Result<u64, BusFault>;
    /// Write the low `size` bytes of `val`.
    fn write(&self, addr: PhysAddr, size: usize, val: u64) -> Result<(), BusFault>;
    /// Atomically apply `op` with operand `val`; returns the old value.
    fn amo(&self, addr: PhysAddr, size: usize, op: AmoOp, val: u64) -> Result<u64, BusFault>;
    /// Atomically replace `expected` by `new`; returns whether the exchange happened.
    fn compare_exchange(
        &self,
        addr: PhysAddr,
        size: usize,
        expected: u64,
        new: u64,
    ) -> Result<bool, BusFault>;
    /// Interrupt lines (`irq::*` bits) that devices currently drive into `hart`.
    fn irq_lines(&self, hart: HartId) -> u64;
    /// The platform timer (`mtime`), read by the `time` CSR.
    fn mtime(&self) -> u64;
    /// Physical `[start, end)` of main RAM, where accesses have no side effects (engines end a
    /// block after any other access so device state changes are seen at once).
    fn ram_range(&self) -> Option<(u64, u64)> {
        None
    }
    /// The host mapping of main RAM, when it is one contiguous host allocation.
    fn ram_window(&self) -> Option<RamWindow> {
        None
    }
    /// A tag for the content of code at `addr` outside RAM that changes without the hart
    /// writing it (the Debug Module's program area): engines key translations there by it.
    /// 0 for memory whose code never changes that way.
    fn code_tag(&self, addr: PhysAddr) -> u64 {
        let _ = addr;
        0
    }
    /// Record that something other than a hart (a debugger's system bus access, a reset
    /// reloading the program) wrote physical `[start, end)`, so engines that cached code
    /// there drop it. Hart stores never need this: engines see their own.
    fn note_host_write(&self, start: u64, end: u64) {
        let _ = (start, end);
    }
    /// How many host writes [`Bus::note_host_write`] has recorded: engines compare it with
    /// the count they last saw (one load per run) before asking for the ranges.
    fn host_write_epoch(&self) -> u64 {
        0
    }
    /// Report the ranges written by the host after epoch `since` to `f` (all of memory as
    /// one range when the record no longer reaches back that far); returns the current
    /// epoch.
    fn host_writes_since(&self, since: u64, f: &mut dyn FnMut(u64, u64)) -> u64 {
        let _ = (since, f);
        self.host_write_epoch()
    }
}

/// A bus with nothing but RAM (and interrupt lines set by hand): for tests, fuzzing and
/// embedding examples that do not need devices.
#[derive(Debug)]
pub struct RamBus {
    base: u64,
    mem: std::sync::Mutex<Vec<u8>>,
    lines: std::sync::atomic::AtomicU64,
}

impl RamBus {
    /// `size` zero bytes of RAM at physical address `base`.
    pub fn new(base: u64, size: usize) -> RamBus {
        RamBus {
            base,
            mem: std::sync::Mutex::new(vec![0; size]),
            lines: Default::default(),
        }
    }

    /// Drive the interrupt lines (`irq::*` bits) every hart sees.
    pub fn set_lines(&self, lines: u64) {
        self.lines
            .store(lines, std::sync::atomic::Ordering::Relaxed);
    }

    fn offset(&self, a: PhysAddr, size: usize, len: usize) -> Result<usize, BusFault> {
        let o = a.0.checked_sub(self.base).ok_or(BusFault::Unmapped(a))?;
        if o.checked_add(size as u64).is_some_and(|e| e <= len as u64) {
            Ok(o as usize)
        } else {
            Err(BusFault::Unmapped(a))
        }
    }

    fn mem(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.mem.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Bus for RamBus {
    fn read(&self, a: PhysAddr, size: usize) -> Result<u64, BusFault> {
        let m = self.mem();
        let o = self.offset(a, size, m.len())?;
        Ok((0..size).fold(0, |v, k| v | (m[o + k] as u64) << (8 * k)))
    }
    fn write(&self, a: PhysAddr, size: usize, val: u64) -> Result<(), BusFault> {
        let mut m = self.mem();
        let o = self.offset(a, size, m.len())?;
        for k in 0..size {
            m[o + k] = (val >> (8 * k)) as u8;
        }
        Ok(())
    }
    fn amo(&self, a: PhysAddr, size: usize, op: AmoOp, val: u64) -> Result<u64, BusFault> {
        let mut m = self.mem();
        let o = self.offset(a, size, m.len())?;
        let old = (0..size).fold(0u64, |v, k| v | (m[o + k] as u64) << (8 * k));
        let new = op.apply(old, val, size);
        for k in 0..size {
            m[o + k] = (new >> (8 * k)) as u8;
        }
        Ok(old)
    }
    fn compare_exchange(
        &self,
        a: PhysAddr,
        size: usize,
        expected: u64,
        new: u64,
    ) -> Result<bool, BusFault> {
        let mut m = self.mem();
        let o = self.offset(a, size, m.len())?;
        let mask = if size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size)) - 1
        };
        let cur = (0..size).fold(0u64, |v, k| v | (m[o + k] as u64) << (8 * k));
        if cur != expected & mask {
            return Ok(false);
        }
        for k in 0..size {
            m[o + k] = (new >> (8 * k)) as u8;
        }
        Ok(true)
    }
    fn irq_lines(&self, _: HartId) -> u64 {
        self.lines.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn mtime(&self) -> u64 {
        0
    }
    fn ram_range(&self) -> Option<(u64, u64)> {
        let len = self.mem().len() as u64;
        Some((self.base, self.base + len))
    }
}
