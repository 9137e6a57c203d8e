//! Software TLB: virtual page → host address of guest RAM, so loads and stores with the MMU
//! on (or with PMP in force) take the inline path like M-mode accesses do.
//!
//! The translated code looks up `entries[(va >> 12) % TLB_SIZE]` and compares the read or
//! write tag with `va & (!0xfff | (size - 1))` (a misaligned access never matches, so it takes
//! the helper, which handles page crossing). On a hit the host address is `va + addend`.
//! Helpers fill entries after an access succeeds on the slow path; only when the whole 4 KiB
//! page is RAM, translates with the same permission, and is uniformly allowed by PMP for the
//! current privilege. A page holding translated code (or the bus's watched range) never gets
//! a write tag, so stores to code keep going through the helper that invalidates.
//!
//! Entries depend on the privilege, `satp`, `mstatus` (MPRV, MPP, SUM, MXR) and PMP. Rather
//! than tagging entries with all of that, the TLB is flushed whenever one of them may have
//! changed: traps and interrupts, trap returns, `sfence.vma`, writes to those CSRs, and
//! entering the engine with a different [`TlbContext`] than it left with (a debugger may
//! have changed anything between runs). Translating a block drops the write tags of its
//! pages. Stale translations after a page
//! table write without `sfence.vma` are what the privileged spec allows.
//!
//! A second, dispatcher-side table does the same for instruction fetch (virtual page →
//! physical page), so finding the next block does not walk the page table.

use std::cell::{Cell, RefCell};

use emu_core::Hart;
use emu_core::hart::mstatus as ms;

/// Everything TLB entries depend on, compared when the engine is entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlbContext {
    prv: emu_core::Priv,
    satp: u64,
    mstatus: u64,
    /// Effective data privilege (in Debug Mode MPRV applies only with dcsr.mprven).
    data_prv: emu_core::Priv,
    pmpcfg: [u8; 16],
    pmpaddr: [u64; 16],
}

impl TlbContext {
    /// The hart's current translation state.
    pub fn of(h: &Hart) -> TlbContext {
        TlbContext {
            prv: h.prv,
            satp: h.csr.satp,
            mstatus: h.csr.mstatus & (ms::MPRV | ms::MPP | ms::SUM | ms::MXR),
            data_prv: h.data_priv(),
            pmpcfg: h.csr.pmpcfg,
            pmpaddr: h.csr.pmpaddr,
        }
    }
}

/// Entries (a power of two).
pub const TLB_SIZE: usize = 256;
/// log2 of the entry size in bytes.
pub const ENTRY_SHIFT: u32 = 5;
/// Offset of the read tag in an entry.
pub const READ_OFF: i32 = 0;
/// Offset of the write tag in an entry.
pub const WRITE_OFF: i32 = 8;
/// Offset of the addend in an entry.
pub const ADDEND_OFF: i32 = 16;

/// A tag no address matches (its low bits are set; tags of valid entries are page-aligned).
const INVALID: u64 = u64::MAX;

/// One data entry; the layout is read by generated code.
#[repr(C)]
#[derive(Debug)]
pub struct Entry {
    read: Cell<u64>,
    write: Cell<u64>,
    addend: Cell<u64>,
    _pad: u64,
}

/// The data and fetch TLBs of one engine (one hart).
#[derive(Debug)]
pub struct Tlb {
    entries: Box<[Entry]>,
    /// (virtual page, physical page) for instruction fetch.
    fetch: Box<[Cell<(u64, u64)>]>,
    /// Data entries filled so far (for tests and statistics).
    fills: Cell<u64>,
    /// Indices of data and fetch entries filled since the last flush, so a flush clears only
    /// those (Debug Mode enters and leaves often, touching one or two pages); `None` once
    /// more than [`DIRTY_MAX`] were filled.
    dirty: RefCell<Option<Vec<u16>>>,
    /// Flushes so far: what the dispatcher's block links were made under (a link is a
    /// fetch this table answered, valid until the next flush).
    generation: Cell<u64>,
}

/// Most filled entries a flush clears one by one.
const DIRTY_MAX: usize = 32;

impl Default for Tlb {
    fn default() -> Self {
        Tlb {
            entries: (0..TLB_SIZE)
                .map(|_| Entry {
                    read: Cell::new(INVALID),
                    write: Cell::new(INVALID),
                    addend: Cell::new(0),
                    _pad: 0,
                })
                .collect(),
            fetch: (0..TLB_SIZE).map(|_| Cell::new((INVALID, 0))).collect(),
            fills: Cell::new(0),
            dirty: RefCell::new(Some(Vec::new())),
            generation: Cell::new(0),
        }
    }
}

const _: () = assert!(std::mem::size_of::<Entry>() == 1 << ENTRY_SHIFT);

fn index(va: u64) -> usize {
    (va >> 12) as usize % TLB_SIZE
}

impl Tlb {
    /// Address of the first data entry, for generated code.
    pub fn entries_ptr(&self) -> u64 {
        self.entries.as_ptr() as u64
    }

    /// Data entries filled so far.
    pub fn fills(&self) -> u64 {
        self.fills.get()
    }

    /// Flushes so far (see [`Tlb::flush`]).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Forget every translation.
    pub fn flush(&self) {
        self.generation.set(self.generation.get() + 1);
        let mut d = self.dirty.borrow_mut();
        match d.as_mut() {
            Some(list) => {
                for &i in list.iter() {
                    let i = i as usize;
                    self.entries[i].read.set(INVALID);
                    self.entries[i].write.set(INVALID);
                    self.fetch[i].set((INVALID, 0));
                }
                list.clear();
            }
            None => {
                for e in self.entries.iter() {
                    e.read.set(INVALID);
                    e.write.set(INVALID);
                }
                for f in self.fetch.iter() {
                    f.set((INVALID, 0));
                }
                *d = Some(Vec::new());
            }
        }
    }

    /// Remember that entry `i` (data or fetch) holds something.
    fn touched(&self, i: usize) {
        let mut d = self.dirty.borrow_mut();
        if let Some(list) = d.as_mut() {
            if list.len() >= DIRTY_MAX {
                *d = None;
            } else if !list.contains(&(i as u16)) {
                list.push(i as u16);
            }
        }
    }

    /// Forget every write tag that maps to host page `host_page` (it now holds translated
    /// code). Read tags and other pages stay.
    pub fn drop_writes_to(&self, host_page: u64) {
        for e in self.entries.iter() {
            if e.write.get() != INVALID && e.write.get().wrapping_add(e.addend.get()) == host_page {
                e.write.set(INVALID);
            }
        }
    }

    /// Map virtual page `vpage` to host address `host_page` for loads (`write` false) or
    /// stores. Both are page-aligned.
    pub fn fill(&self, vpage: u64, host_page: u64, write: bool) {
        self.touched(index(vpage));
        let e = &self.entries[index(vpage)];
        let addend = host_page.wrapping_sub(vpage);
        // An entry holds one page: replacing it drops the other tag if it was for another.
        if e.addend.get() != addend || (e.read.get() != vpage && e.write.get() != vpage) {
            e.read.set(INVALID);
            e.write.set(INVALID);
        }
        e.addend.set(addend);
        self.fills.set(self.fills.get() + 1);
        if write {
            e.write.set(vpage);
        } else {
            e.read.set(vpage);
        }
    }

    /// The host address for a data access, as the generated code computes it (for tests).
    pub fn lookup(&self, va: u64, size: u64, write: bool) -> Option<u64> {
        let e = &self.entries[index(va)];
        let tag = if write { e.write.get() } else { e.read.get() };
        (tag == va & (!0xfff | (size - 1))).then(|| va.wrapping_add(e.addend.get()))
    }

    /// Physical address of the instruction at virtual `pc`, if its page is cached.
    pub fn fetch(&self, pc: u64) -> Option<u64> {
        let (v, p) = self.fetch[index(pc)].get();
        (v == pc & !0xfff).then_some(p | (pc & 0xfff))
    }

    /// Cache the physical page of virtual page `vpage` for instruction fetch.
    pub fn fill_fetch(&self, vpage: u64, ppage: u64) {
        self.touched(index(vpage));
        self.fetch[index(vpage)].set((vpage, ppage));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_forgets_every_fill_however_many() {
        for n in [1u64, 31, 32, 33, 300] {
            let t = Tlb::default();
            for i in 0..n {
                t.fill(i << 12, 0x7000_0000 + (i << 12), i % 2 == 0);
                t.fill_fetch(i << 12, i << 12);
            }
            t.flush();
            for i in 0..n {
                assert_eq!(
                    t.lookup(i << 12, 1, i % 2 == 0),
                    None,
                    "{n} fills, page {i}"
                );
                assert_eq!(t.fetch(i << 12), None, "{n} fills, page {i}");
            }
            // And it keeps working after a flush.
            t.fill(0x5000, 0x9000_0000, false);
            assert_eq!(t.lookup(0x5000, 1, false), Some(0x9000_0000));
        }
    }

    #[test]
    fn fill_lookup_flush() {
        let t = Tlb::default();
        assert_eq!(t.lookup(0x1000, 8, false), None);
        t.fill(0x1000, 0x7000_0000, false);
        assert_eq!(t.lookup(0x1008, 8, false), Some(0x7000_0008));
        // Misaligned accesses and the other direction miss.
        assert_eq!(t.lookup(0x1004, 8, false), None);
        assert_eq!(t.lookup(0x1008, 8, true), None);
        t.fill(0x1000, 0x7000_0000, true);
        assert_eq!(t.lookup(0x1ff8, 8, true), Some(0x7000_0ff8));
        assert_eq!(t.lookup(0x1ff8, 8, false), Some(0x7000_0ff8));
        // A different page in the same slot replaces both tags.
        t.fill(0x1000 + (TLB_SIZE as u64) * 0x1000, 0x9000_0000, false);
        assert_eq!(t.lookup(0x1ff8, 8, true), None);
        t.flush();
        assert_eq!(
            t.lookup(0x1000 + (TLB_SIZE as u64) * 0x1000, 1, false),
            None
        );
        t.fill_fetch(0x4000, 0x8000_4000);
        assert_eq!(t.fetch(0x4ffe), Some(0x8000_4ffe));
        assert_eq!(t.fetch(0x5000), None);
        t.flush();
        assert_eq!(t.fetch(0x4ffe), None);
        // Dropping a page's write tags keeps its read tag and other pages.
        t.fill(0x1000, 0x7000_0000, false);
        t.fill(0x1000, 0x7000_0000, true);
        t.fill(0x2000, 0x7000_1000, true);
        t.drop_writes_to(0x7000_0000);
        assert_eq!(t.lookup(0x1000, 8, true), None);
        assert_eq!(t.lookup(0x1000, 8, false), Some(0x7000_0000));
        assert_eq!(t.lookup(0x2000, 8, true), Some(0x7000_1000));
    }
}
