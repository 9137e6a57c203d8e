//! Guest RAM: one anonymous mapping, accessed with relaxed atomics so that harts on different
//! threads never race in the Rust sense, and AMOs are real host atomics.

use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};

use emu_core::AmoOp;
use memmap2::MmapMut;

/// Guest RAM of a fixed size.
#[derive(Debug)]
pub struct Ram {
    map: MmapMut,
}

impl Ram {
    /// Zero-filled RAM of `size` bytes.
    pub fn new(size: usize) -> std::io::Result<Ram> {
        Ok(Ram {
            map: MmapMut::map_anon(size.max(1))?,
        })
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the RAM has no bytes (never: `new` maps at least one).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Host address of the first byte (for the JIT's inline fast path).
    pub fn host_base(&self) -> *const u8 {
        self.map.as_ptr()
    }

    fn in_range(&self, off: u64, size: usize) -> bool {
        off.checked_add(size as u64)
            .is_some_and(|end| end <= self.map.len() as u64)
    }

    fn byte(&self, off: usize) -> &AtomicU8 {
        // SAFETY: callers check `off < len`; the mapping lives as long as `self`, and AtomicU8
        // has the size and alignment of u8, so any byte of the mapping is a valid AtomicU8.
        unsafe { AtomicU8::from_ptr(self.map.as_ptr().add(off) as *mut u8) }
    }

    /// Read `size` (1, 2, 4, 8) bytes at offset `off`; `None` when out of range.
    pub fn read(&self, off: u64, size: usize) -> Option<u64> {
        if !self.in_range(off, size) {
            return None;
        }
        let o = off as usize;
        let p = self.map.as_ptr().wrapping_add(o) as *mut u8;
        if !o.is_multiple_of(size) {
            let mut v = 0u64;
            for k in 0..size {
                v |= (self.byte(o + k).load(Ordering::Relaxed) as u64) << (8 * k);
            }
            return Some(v);
        }
        // SAFETY: `p` is inside the mapping (range checked above), aligned to `size` (checked
        // above; the mapping is page-aligned), and only ever accessed atomically.
        let v = unsafe {
            match size {
                1 => AtomicU8::from_ptr(p).load(Ordering::Relaxed) as u64,
                2 => AtomicU16::from_ptr(p as *mut u16).load(Ordering::Relaxed) as u64,
                4 => AtomicU32::from_ptr(p as *mut u32).load(Ordering::Relaxed) as u64,
                _ => AtomicU64::from_ptr(p as *mut u64).load(Ordering::Relaxed),
            }
        };
        Some(v)
    }

    /// Write the low `size` bytes of `val` at offset `off`; `false` when out of range.
    pub fn write(&self, off: u64, size: usize, val: u64) -> bool {
        if !self.in_range(off, size) {
            return false;
        }
        let o = off as usize;
        let p = self.map.as_ptr().wrapping_add(o) as *mut u8;
        if !o.is_multiple_of(size) {
            for k in 0..size {
                self.byte(o + k)
                    .store((val >> (8 * k)) as u8, Ordering::Relaxed);
            }
            return true;
        }
        // SAFETY: as in `read`: in range, aligned, atomically accessed only.
        unsafe {
            match size {
                1 => AtomicU8::from_ptr(p).store(val as u8, Ordering::Relaxed),
                2 => AtomicU16::from_ptr(p as *mut u16).store(val as u16, Ordering::Relaxed),
                4 => AtomicU32::from_ptr(p as *mut u32).store(val as u32, Ordering::Relaxed),
                _ => AtomicU64::from_ptr(p as *mut u64).store(val, Ordering::Relaxed),
            }
        }
        true
    }

    /// Copy `data` to offset `off` (loading images); `false` when it does not fit.
    pub fn write_bytes(&self, off: u64, data: &[u8]) -> bool {
        if !self.in_range(off, data.len()) {
            return false;
        }
        for (k, b) in data.iter().enumerate() {
            self.byte(off as usize + k).store(*b, Ordering::Relaxed);
        }
        true
    }

    /// Atomic read-modify-write at an aligned offset; returns the old value.
    pub fn amo(&self, off: u64, size: usize, op: AmoOp, val: u64) -> Option<u64> {
        if !self.in_range(off, size) || !(off as usize).is_multiple_of(size) {
            return None;
        }
        let p = self.map.as_ptr().wrapping_add(off as usize) as *mut u8;
        // SAFETY: in range and aligned (checked above); atomically accessed only.
        Some(unsafe {
            if size == 4 {
                let a = AtomicU32::from_ptr(p as *mut u32);
                let mut old = a.load(Ordering::Relaxed);
                loop {
                    let new = op.apply(old as u64, val, 4) as u32;
                    match a.compare_exchange_weak(old, new, Ordering::SeqCst, Ordering::Relaxed) {
                        Ok(_) => break old as u64,
                        Err(cur) => old = cur,
                    }
                }
            } else {
                let a = AtomicU64::from_ptr(p as *mut u64);
                let mut old = a.load(Ordering::Relaxed);
                loop {
                    let new = op.apply(old, val, 8);
                    match a.compare_exchange_weak(old, new, Ordering::SeqCst, Ordering::Relaxed) {
                        Ok(_) => break old,
                        Err(cur) => old = cur,
                    }
                }
            }
        })
    }

    /// Atomic compare-and-swap at an aligned offset.
    pub fn compare_exchange(&self, off: u64, size: usize, expected: u64, new: u64) -> Option<bool> {
        if !self.in_range(off, size) || !(off as usize).is_multiple_of(size) {
            return None;
        }
        let p = self.map.as_ptr().wrapping_add(off as usize) as *mut u8;
        // SAFETY: in range and aligned (checked above); atomically accessed only.
        Some(unsafe {
            match size {
                4 => AtomicU32::from_ptr(p as *mut u32)
                    .compare_exchange(
                        expected as u32,
                        new as u32,
                        Ordering::SeqCst,
                        Ordering::Relaxed,
                    )
                    .is_ok(),
                8 => AtomicU64::from_ptr(p as *mut u64)
                    .compare_exchange(expected, new, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok(),
                _ => return None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_misaligned_and_bounds() {
        let r = Ram::new(4096).expect("map");
        assert!(r.write(8, 8, 0x1122_3344_5566_7788));
        assert_eq!(r.read(8, 4), Some(0x5566_7788));
        assert_eq!(r.read(9, 4), Some(0x4455_6677), "misaligned read");
        assert!(r.write(4095, 1, 0xab));
        assert_eq!(r.read(4095, 2), None, "runs past the end");
        assert!(!r.write(u64::MAX, 8, 0), "overflowing offset");
        assert_eq!(r.amo(8, 4, AmoOp::Add, 1), Some(0x5566_7788));
        assert_eq!(r.read(8, 4), Some(0x5566_7789));
        assert_eq!(r.compare_exchange(8, 4, 0x5566_7789, 7), Some(true));
        assert_eq!(r.compare_exchange(8, 4, 0x5566_7789, 9), Some(false));
        assert_eq!(r.amo(9, 4, AmoOp::Add, 1), None, "misaligned AMO");
    }
}
