//! Debugger writes the hart's own permissions refuse: a software breakpoint or a `set var`
//! in a page mapped without write permission (a kernel's text, read-only data). A debugger
//! may write wherever it may read, as `ptrace` may and as QEMU's gdbstub does: when the
//! Access Memory write faults but the hart can read the bytes, the page tables named by its
//! `satp` are walked over the system bus (as its MMU walks them, without the permission
//! checks its read just passed) and the bytes written to the physical address found.

use emu_dm::regs::{self, CmdErr, sbcs};
use emu_isa::Xlen;

use crate::control::RunControl;
use crate::error::{RcError, Result};
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

/// The physical address `va` maps to under `satp`, or `None` where no valid leaf maps it.
fn physical(s: &Session, xlen: Xlen, satp: u64, va: u64) -> Result<Option<u64>> {
    let Some(m) = mode(xlen, satp) else {
        return Ok(Some(va)); // bare
    };
    let mut table = (satp & ((1 << m.ppn_bits) - 1)) * PAGE;
    for level in (0..m.levels).rev() {
        let shift = 12 + level * m.vpn_bits;
        let vpn = va >> shift & ((1 << m.vpn_bits) - 1);
        let pte = sba_read(s, table + (vpn << m.pte_log2), m.pte_log2)?;
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
    /// After a virtual write to `addr` faulted: write `data` page by page to where the
    /// hart's page tables map it, for each page the hart can read; `Ok(false)` (nothing
    /// written past the first unreadable page) where it cannot.
    pub(crate) fn write_past_protection(&self, h: usize, addr: u64, data: &[u8]) -> Result<bool> {
        let mut i = 0;
        while i < data.len() {
            let a = addr.wrapping_add(i as u64);
            let n = ((PAGE - a % PAGE) as usize).min(data.len() - i);
            let mut probe = [0u8; 1];
            match self.read_memory(h, MemSpace::Virtual, a, &mut probe) {
                Ok(()) => {}
                Err(RcError::Command(CmdErr::Exception)) => return Ok(false),
                Err(e) => return Err(e),
            }
            let pa = {
                let mut s = self.inner.session();
                let satp = s.read_reg(h, RegId::Csr(0x180))?;
                physical(&s, s.xlen, satp, a)?
            };
            let Some(pa) = pa else { return Ok(false) };
            self.write_memory_sba(pa, &data[i..i + n])?;
            i += n;
        }
        Ok(true)
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
