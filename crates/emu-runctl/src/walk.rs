//! The hart's page tables walked over the system bus, for two things Access Memory does
//! poorly on virtual addresses:
//! - debugger writes the hart's own permissions refuse: a software breakpoint or a
//!   `set var` in a page mapped without write permission (a kernel's text, read-only
//!   data). A debugger may write wherever it may read, as `ptrace` may and as QEMU's
//!   gdbstub does;
//! - long reads: one command per word made a 4 KiB read of a kernel's memory cost ~0.55 ms.
//!
//! For each page, the walk of the tables named by `satp` (as the hart's MMU walks them,
//! without permission checks) finds where it is; only pages in main RAM go on, since a
//! device could see the extra accesses: there, a one-byte Access Memory read by the hart
//! decides whether the hart can read it (its privilege, `SUM`, `MXR`, PMP), and the system
//! bus does the rest. Anything else takes the hart's own accesses, one command per word.

use emu_core::mmu::PageMode;
use emu_dm::regs::CmdErr;
use emu_isa::Xlen;

use crate::control::RunControl;
use crate::error::{RcError, Result};
use crate::memory::{DCSR, MSTATUS, am_block, as_the_hart, data_priv};
use crate::types::{MemSpace, RegId};

const PTE_V: u64 = 1;
const PTE_R: u64 = 2;
const PTE_W: u64 = 4;
const PTE_X: u64 = 8;
const PAGE: u64 = 4096;
const SATP: RegId = RegId::Csr(0x180);

/// The physical address `va` maps to under `satp`, or `None` where no valid leaf maps it
/// or a table lies outside main RAM `ram` (nothing with read side effects is read).
/// `read(a, size)` reads a page-table entry of `size` bytes.
fn physical(
    xlen: Xlen,
    satp: u64,
    va: u64,
    ram: (u64, u64),
    mut read: impl FnMut(u64, usize) -> Result<u64>,
) -> Result<Option<u64>> {
    let Some(m) = PageMode::of(xlen, satp) else {
        let bare = match xlen {
            Xlen::X32 => satp >> 31 & 1 == 0,
            _ => satp >> 60 == 0,
        };
        return Ok(bare.then_some(va)); // a mode not known here: the hart's own accesses
    };
    let mut table = m.root(satp);
    for level in (0..m.levels).rev() {
        let shift = 12 + level * m.vpn_bits;
        let vpn = va >> shift & ((1 << m.vpn_bits) - 1);
        let at = table + vpn * m.pte_size;
        if !(ram.0 <= at && at < ram.1) {
            return Ok(None);
        }
        let pte = read(at, m.pte_size as usize)?;
        if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) {
            return Ok(None);
        }
        let base = m.ppn(pte) * PAGE;
        if pte & (PTE_R | PTE_X) != 0 {
            // A leaf: superpages keep the lower levels' bits of the virtual address.
            let low = (1u64 << shift) - 1;
            return Ok(Some(base & !low | va & low));
        }
        table = base;
    }
    Ok(None)
}

impl RunControl {
    /// Where the `len` bytes at virtual `addr` of halted hart `h` lie, page by page as
    /// `(offset, physical address, bytes)`, if every page is in main RAM and the hart can
    /// read it: its page tables say where, its own one-byte loads (Access Memory, harmless
    /// in RAM) whether it may. `None` otherwise; nothing is transferred yet.
    fn hart_pages(
        &self,
        h: usize,
        addr: u64,
        len: usize,
    ) -> Result<Option<Vec<(usize, u64, usize)>>> {
        let Some(ram) = self.dm().main_memory() else {
            return Ok(None);
        };
        let (xlen, satp) = {
            let mut s = self.inner.session();
            s.need_halted(h)?;
            let prv = s.read_reg(h, DCSR)? & 3;
            let ms = s.read_reg(h, MSTATUS)?;
            // M-mode without MPRV: physical, as with a bare satp.
            let satp = if data_priv(prv, ms) == 3 {
                0
            } else {
                s.read_reg(h, SATP)?
            };
            (s.xlen, satp)
        };
        let read_pte = |a: u64, size: usize| {
            let mut b = [0u8; 8];
            self.read_memory_sba(a, &mut b[..size.min(8)])?;
            Ok(u64::from_le_bytes(b))
        };
        let mut pages = Vec::new();
        let mut i = 0;
        while i < len {
            let a = addr.wrapping_add(i as u64);
            let n = ((PAGE - a % PAGE) as usize).min(len - i);
            match physical(xlen, satp, a, ram, read_pte)? {
                // (No `pa + n`: the last page of the address space ends at 2^64.)
                Some(pa) if ram.0 <= pa && pa < ram.1 && n as u64 <= ram.1 - pa => {
                    pages.push((i, pa, n))
                }
                _ => return Ok(None),
            }
            i += n;
        }
        let mut s = self.inner.session();
        let probes = as_the_hart(&mut s, h, MemSpace::Virtual, |s| {
            pages.iter().try_for_each(|&(i, _, _)| {
                am_block(
                    s,
                    addr.wrapping_add(i as u64),
                    0,
                    MemSpace::Virtual,
                    1,
                    &mut |_, _| {},
                )
            })
        });
        match probes {
            Ok(()) => Ok(Some(pages)),
            Err(RcError::Command(CmdErr::Exception)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// After a virtual write to `addr` faulted: write `data` to where the hart's page
    /// tables map it, if every page is in RAM the hart can read; `Ok(false)` (nothing
    /// written) otherwise.
    pub(crate) fn write_past_protection(&self, h: usize, addr: u64, data: &[u8]) -> Result<bool> {
        let Some(pages) = self.hart_pages(h, addr, data.len())? else {
            return Ok(false);
        };
        for (i, pa, n) in pages {
            self.write_memory_sba(pa, &data[i..i + n])?;
        }
        Ok(true)
    }

    /// A virtual read of more than a few words over the system bus, where the hart's page
    /// tables put each page (a walk and one Access Memory command per page instead of one
    /// command per word); `Ok(false)` (nothing read) where some page is not in RAM the
    /// hart can read: the caller's Access Memory read then gives the hart's own result.
    pub(crate) fn read_through_tables(&self, h: usize, addr: u64, buf: &mut [u8]) -> Result<bool> {
        let Some(pages) = self.hart_pages(h, addr, buf.len())? else {
            return Ok(false);
        };
        for (i, pa, n) in pages {
            self.read_memory_sba(pa, &mut buf[i..i + n])?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAM: (u64, u64) = (0x8000_0000, 0x8100_0000);

    /// `physical` over page-table entries in a map (absent entries read 0).
    fn walk(xlen: Xlen, satp: u64, va: u64, ptes: &[(u64, u64)]) -> Option<u64> {
        let mem: std::collections::HashMap<u64, u64> = ptes.iter().copied().collect();
        physical(xlen, satp, va, RAM, |a, _| {
            Ok(mem.get(&a).copied().unwrap_or(0))
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A PTE pointing at `pa` with `flags`.
    fn pte(pa: u64, flags: u64) -> u64 {
        pa >> 12 << 10 | flags
    }

    #[test]
    fn walks_find_leaves_at_every_level() {
        let root = 0x8010_0000u64;
        let (l1, l0) = (root + 0x1000, root + 0x2000);
        let sv39 = 8 << 60 | root >> 12;
        let va = 0x4020_3456u64; // VPN2 1, VPN1 1, VPN0 3
        let (v2, v1, v0) = (root + 8, l1 + 8, l0 + 3 * 8);
        // A 4 KiB leaf under two tables.
        let tables = [(v2, pte(l1, 1)), (v1, pte(l0, 1))];
        let leaf = [tables[0], tables[1], (v0, pte(0x8040_0000, 0x4b))];
        assert_eq!(walk(Xlen::X64, sv39, va, &leaf), Some(0x8040_0456));
        // A 2 MiB leaf keeps the low 21 bits of the address, a 1 GiB one the low 30.
        let mega = [tables[0], (v1, pte(0x80c0_0000, 0x47))];
        assert_eq!(walk(Xlen::X64, sv39, va, &mega), Some(0x80c0_3456));
        let giga = [(v2, pte(0x8000_0000, 0x43))];
        assert_eq!(walk(Xlen::X64, sv39, va, &giga), Some(0x8020_3456));
        // Sv48: one level more above.
        let l2 = root + 0x3000;
        let sv48 = 9 << 60 | l2 >> 12;
        let at48 = [(l2, pte(root, 1)), tables[0], tables[1], leaf[2]];
        assert_eq!(walk(Xlen::X64, sv48, va, &at48), Some(0x8040_0456));
        // Sv32: a 4 MiB leaf at the first level.
        let sv32 = 1 << 31 | root >> 12;
        let four = [(root + 4 * 0x201, pte(0x8000_0000, 0x43))];
        assert_eq!(walk(Xlen::X32, sv32, 0x8040_1234, &four), Some(0x8000_1234));
    }

    #[test]
    fn walks_stop_where_the_hart_would_or_outside_ram() {
        let root = 0x8010_0000u64;
        let sv39 = 8 << 60 | root >> 12;
        let va = 0x4000_0000u64; // VPN2 1
        // Not valid; write without read (reserved); a table pointer at the last level.
        assert_eq!(walk(Xlen::X64, sv39, va, &[(root + 8, 0x4e)]), None);
        assert_eq!(
            walk(Xlen::X64, sv39, va, &[(root + 8, pte(0x8000_0000, 0x45))]),
            None
        );
        let l1 = root + 0x1000;
        let chain = [
            (root + 8, pte(l1, 1)),
            (l1, pte(root + 0x2000, 1)),
            (root + 0x2000, pte(l1, 1)),
        ];
        assert_eq!(walk(Xlen::X64, sv39, va, &chain), None);
        // A table outside RAM is never read.
        let outside = 8 << 60 | 0x1000_0000 >> 12;
        let never = |_: u64, _: usize| -> Result<u64> { panic!("read outside RAM") };
        assert_eq!(physical(Xlen::X64, outside, va, RAM, never), Ok(None));
        let device = [(root + 8, pte(0x1000_0000, 1))];
        assert_eq!(walk(Xlen::X64, sv39, va, &device), None);
        // Bare: the address itself; a mode the walk does not know: nothing.
        assert_eq!(walk(Xlen::X64, 0, va, &[]), Some(va));
        assert_eq!(walk(Xlen::X32, 0x7fff_ffff, va, &[]), Some(va));
        assert_eq!(walk(Xlen::X64, 10 << 60 | root >> 12, va, &[]), None);
    }
}
