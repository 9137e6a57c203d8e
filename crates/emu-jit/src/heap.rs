//! The code heap: executable memory emu owns (not cranelift-jit's, which cannot free single
//! functions). Code is bump-allocated in one mapping that is writable while code is copied in
//! and executable otherwise (W^X; the heap belongs to one hart thread, so nothing executes
//! from it while it is writable). When it is full the owner flushes every block and starts
//! over, so retranslating forever never grows memory.

use memmap2::{Mmap, MmapMut};

/// Errors of the code heap.
#[derive(Debug, thiserror::Error)]
pub enum HeapError {
    /// The host refused a mapping or a protection change.
    #[error("code heap: {0}")]
    Host(#[from] std::io::Error),
    /// One function is larger than the whole heap.
    #[error("function of {0} bytes does not fit the code heap")]
    TooLarge(usize),
}

enum Map {
    Exec(Mmap),
    /// Transitional, while the protection changes.
    None,
}

/// Executable memory with bump allocation.
pub struct CodeHeap {
    map: Map,
    used: usize,
    size: usize,
    /// How many times the heap was reset (blocks from an older epoch are gone).
    pub epoch: u64,
}

impl std::fmt::Debug for CodeHeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeHeap")
            .field("used", &self.used)
            .field("size", &self.size)
            .field("epoch", &self.epoch)
            .finish()
    }
}

const ALIGN: usize = 16;

impl CodeHeap {
    /// A heap of `size` bytes.
    pub fn new(size: usize) -> Result<CodeHeap, HeapError> {
        let map = MmapMut::map_anon(size)?.make_exec()?;
        Ok(CodeHeap {
            map: Map::Exec(map),
            used: 0,
            size,
            epoch: 0,
        })
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.size
    }

    /// Whether `len` more bytes fit.
    pub fn fits(&self, len: usize) -> bool {
        self.used.next_multiple_of(ALIGN) + len <= self.size
    }

    /// Forget every function (the caller drops every pointer into the heap first).
    pub fn reset(&mut self) {
        self.used = 0;
        self.epoch += 1;
    }

    /// Copy `code` in and return its address, or `None` when it does not fit (reset first).
    pub fn insert(&mut self, code: &[u8]) -> Result<Option<*const u8>, HeapError> {
        if code.len() > self.size {
            return Err(HeapError::TooLarge(code.len()));
        }
        if !self.fits(code.len()) {
            return Ok(None);
        }
        let start = self.used.next_multiple_of(ALIGN);
        let mut w = match std::mem::replace(&mut self.map, Map::None) {
            Map::Exec(m) => m.make_mut()?,
            // A previous protection change failed half-way: start from a fresh mapping.
            Map::None => MmapMut::map_anon(self.size)?,
        };
        w[start..start + code.len()].copy_from_slice(code);
        let x = w.make_exec()?;
        let ptr = x.as_ptr().wrapping_add(start);
        self.map = Map::Exec(x);
        self.used = start + code.len();
        Ok(Some(ptr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_and_reset() {
        let mut h = CodeHeap::new(4096).expect("heap");
        let a = h.insert(&[0xc3; 100]).expect("ok").expect("fits");
        let b = h.insert(&[0xc3; 100]).expect("ok").expect("fits");
        assert_eq!(b as usize - a as usize, 112, "16-byte aligned");
        assert!(h.insert(&[0; 4000]).expect("ok").is_none(), "full");
        h.reset();
        assert_eq!(h.used(), 0);
        assert_eq!(h.epoch, 1);
        assert!(h.insert(&[0; 4000]).expect("ok").is_some());
        assert!(h.insert(&[0; 5000]).is_err());
    }
}
