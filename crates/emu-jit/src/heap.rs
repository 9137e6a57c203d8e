//! The code heap: executable memory emu owns (not cranelift-jit's, which cannot free single
//! functions). Code is bump-allocated in one mapping. Pages are executable and read-only
//! except while code is being copied into them (W^X): only the pages a new function touches
//! are made writable for the copy, so a translation costs two small `mprotect`s, not a
//! change to the whole heap. The heap belongs to one hart thread, so nothing executes from a
//! page while it is writable. When the heap is full the owner flushes every block and starts
//! over, so retranslating forever never grows memory.

use memmap2::MmapMut;

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

/// Executable memory with bump allocation.
pub struct CodeHeap {
    /// Owns the mapping; its protection is managed page-wise below.
    map: MmapMut,
    used: usize,
    /// How many times the heap was reset (blocks from an older epoch are gone).
    pub epoch: u64,
}

impl std::fmt::Debug for CodeHeap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeHeap")
            .field("used", &self.used)
            .field("size", &self.map.len())
            .field("epoch", &self.epoch)
            .finish()
    }
}

const ALIGN: usize = 16;
const PAGE: usize = 4096;

fn protect(ptr: *mut u8, len: usize, prot: libc::c_int) -> std::io::Result<()> {
    // SAFETY: callers pass a page-aligned range inside the heap's own live mapping; changing
    // its protection affects no memory Rust code holds references into (the mapping is only
    // ever accessed through raw pointers while code is copied in).
    let r = unsafe { libc::mprotect(ptr as *mut libc::c_void, len, prot) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl CodeHeap {
    /// A heap of `size` bytes (rounded up to whole pages).
    pub fn new(size: usize) -> Result<CodeHeap, HeapError> {
        let size = size.next_multiple_of(PAGE);
        let mut map = MmapMut::map_anon(size)?;
        protect(map.as_mut_ptr(), size, libc::PROT_READ | libc::PROT_EXEC)?;
        Ok(CodeHeap {
            map,
            used: 0,
            epoch: 0,
        })
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.map.len()
    }

    /// Whether `len` more bytes fit.
    pub fn fits(&self, len: usize) -> bool {
        self.used.next_multiple_of(ALIGN) + len <= self.map.len()
    }

    /// Forget every function (the caller drops every pointer into the heap first).
    pub fn reset(&mut self) {
        self.used = 0;
        self.epoch += 1;
    }

    /// Copy `code` in and return its address, or `None` when it does not fit (reset first).
    pub fn insert(&mut self, code: &[u8]) -> Result<Option<*const u8>, HeapError> {
        if code.len() > self.map.len() {
            return Err(HeapError::TooLarge(code.len()));
        }
        if !self.fits(code.len()) {
            return Ok(None);
        }
        let start = self.used.next_multiple_of(ALIGN);
        let first = start / PAGE * PAGE;
        let end = (start + code.len())
            .next_multiple_of(PAGE)
            .min(self.map.len());
        let base = self.map.as_mut_ptr();
        let pages = base.wrapping_add(first);
        protect(pages, end - first, libc::PROT_READ | libc::PROT_WRITE)?;
        // SAFETY: `start..start + code.len()` lies inside the mapping (checked by `fits`) and
        // its pages were just made writable; nothing else aliases them during the copy.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), base.add(start), code.len()) };
        protect(pages, end - first, libc::PROT_READ | libc::PROT_EXEC)?;
        self.used = start + code.len();
        Ok(Some(base.wrapping_add(start) as *const u8))
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
        // SAFETY: `a` points at 100 bytes the heap just wrote; executable pages stay readable.
        assert_eq!(unsafe { *a }, 0xc3);
        assert!(h.insert(&[0; 4000]).expect("ok").is_none(), "full");
        h.reset();
        assert_eq!(h.used(), 0);
        assert_eq!(h.epoch, 1);
        assert!(h.insert(&[0; 4000]).expect("ok").is_some());
        assert!(h.insert(&[0; 5000]).is_err());
    }
}
