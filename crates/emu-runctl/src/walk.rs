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

use emu_dm::regs::{self, CmdErr, sbcs};
use emu_isa::Xlen;

use crate::control::RunControl;
use crate::error::{RcError, Result};
use crate::memory::{DCSR, MSTATUS, data_priv};
use crate::session::Session;
use crate::types::{MemSpace, RegId};

const PTE_V: u64 = 1;
const PTE_R: u64 = 2;
const PTE_W: u64 = 4;
const PTE_X: u64 = 8;
const PAGE: u64 = 4096;

/// One paged mode: levels, log2 of the PTE size, VPN bits per level, PPN bits of a PTE.
struct Mode {
    levels: u32,
    pte_log2: u32,
    vpn_bits: u32,
    ppn_bits: u32,
}

fn mode(xlen: Xlen, satp: u64) -> Option<Mode> {
    let sv = |levels| Mode {
        levels,
        pte_log2: 3,
        vpn_bits: 9,
        ppn_bits: 44,
    };
    match xlen {
        Xlen::X32 if satp >> 31 & 1 == 1 => Some(Mode {
            levels: 2,
            pte_log2: 2,
            vpn_bits: 10,
            ppn_bits: 22,
        }),
        Xlen::X64 => match satp >> 60 {
            8 => Some(sv(3)),
            9 => Some(sv(4)),
            _ => None,
        },
        _ => None,
    }
}

/// One physical read of `1 << size` bytes over the system bus.
fn sba_read(s: &Session, a: u64, size: u32) -> Result<u64> {
    s.w(regs::SBCS, size << sbcs::ACCESS_SHIFT | sbcs::READONADDR);
    s.w(regs::SBADDRESS1, (a >> 32) as u32);
    s.w(regs::SBADDRESS0, a as u32);
    let lo = s.r(regs::SBDATA0) as u64;
    let hi = if size == 3 {
        s.r(regs::SBDATA1) as u64
    } else {
        0
    };
    crate::memory::sb_outcome(s)?;
    Ok(hi << 32 | lo)
}

/// The physical address `va` maps to under `satp`, or `None` where no valid leaf maps it
/// or a table lies outside main RAM `ram` (nothing with read side effects is read).
fn physical(s: &Session, xlen: Xlen, satp: u64, va: u64, ram: (u64, u64)) -> Result<Option<u64>> {
    let Some(m) = mode(xlen, satp) else {
        let bare = match xlen {
            Xlen::X32 => satp >> 31 & 1 == 0,
            _ => satp >> 60 == 0,
        };
        return Ok(bare.then_some(va)); // a mode not known here: the hart's own accesses
    };
    let mut table = (satp & ((1 << m.ppn_bits) - 1)) * PAGE;
    for level in (0..m.levels).rev() {
        let shift = 12 + level * m.vpn_bits;
        let vpn = va >> shift & ((1 << m.vpn_bits) - 1);
        let at = table + (vpn << m.pte_log2);
        if !(ram.0 <= at && at < ram.1) {
            return Ok(None);
        }
        let pte = sba_read(s, at, m.pte_log2)?;
        if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) {
            return Ok(None);
        }
        let base = (pte >> 10 & ((1 << m.ppn_bits) - 1)) * PAGE;
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
    /// Where the `n` bytes at virtual `va` of halted hart `h` (within one page) lie in
    /// main RAM, if they do and the hart can read them: its page tables say where, its own
    /// one-byte load (Access Memory, harmless in RAM) whether it may.
    fn hart_page(&self, h: usize, va: u64, n: usize) -> Result<Option<u64>> {
        let Some(ram) = self.dm().main_memory() else {
            return Ok(None);
        };
        let pa = {
            let mut s = self.inner.session();
            s.need_halted(h)?;
            let prv = s.read_reg(h, DCSR)? & 3;
            let ms = s.read_reg(h, MSTATUS)?;
            if data_priv(prv, ms) == 3 {
                Some(va) // M-mode without MPRV: physical
            } else {
                let satp = s.read_reg(h, RegId::Csr(0x180))?;
                physical(&s, s.xlen, satp, va, ram)?
            }
        };
        let Some(pa) = pa.filter(|&pa| ram.0 <= pa && pa + n as u64 <= ram.1) else {
            return Ok(None);
        };
        let mut probe = [0u8; 1];
        match self.read_memory_abstract(h, MemSpace::Virtual, va, &mut probe) {
            Ok(()) => Ok(Some(pa)),
            Err(RcError::Command(CmdErr::Exception)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `len` bytes at `addr` page by page, `f(offset, physical address, bytes)` for each
    /// page in main RAM the hart can read; `Ok(false)` at the first that is not.
    fn by_page(
        &self,
        h: usize,
        addr: u64,
        len: usize,
        mut f: impl FnMut(usize, u64, usize) -> Result<()>,
    ) -> Result<bool> {
        let mut i = 0;
        while i < len {
            let a = addr.wrapping_add(i as u64);
            let n = ((PAGE - a % PAGE) as usize).min(len - i);
            let Some(pa) = self.hart_page(h, a, n)? else {
                return Ok(false);
            };
            f(i, pa, n)?;
            i += n;
        }
        Ok(true)
    }

    /// After a virtual write to `addr` faulted: write `data` to where the hart's page
    /// tables map it, page by page while the hart can read them; `Ok(false)` at the first
    /// page it cannot.
    pub(crate) fn write_past_protection(&self, h: usize, addr: u64, data: &[u8]) -> Result<bool> {
        self.by_page(h, addr, data.len(), |i, pa, n| {
            self.write_memory_sba(pa, &data[i..i + n])
        })
    }

    /// A virtual read of more than a few words: each page the hart can read is read over
    /// the system bus where its page tables put it (one Access Memory command and a walk
    /// per page instead of one command per word); `Ok(false)` at the first page it cannot
    /// (the caller's Access Memory read then reports the hart's own fault).
    pub(crate) fn read_through_tables(&self, h: usize, addr: u64, buf: &mut [u8]) -> Result<bool> {
        self.by_page(h, addr, buf.len(), |i, pa, n| {
            self.read_memory_sba(pa, &mut buf[i..i + n])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_from_satp() {
        assert!(mode(Xlen::X64, 0).is_none());
        assert_eq!(mode(Xlen::X64, 8 << 60).map(|m| m.levels), Some(3));
        assert_eq!(mode(Xlen::X64, 9 << 60).map(|m| m.levels), Some(4));
        assert!(
            mode(Xlen::X64, 10 << 60).is_none(),
            "Sv57 is not implemented"
        );
        assert_eq!(mode(Xlen::X32, 1 << 31).map(|m| m.vpn_bits), Some(10));
        assert!(mode(Xlen::X32, 0x7fff_ffff).is_none());
    }
}
