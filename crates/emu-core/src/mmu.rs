//! Address translation: Sv32, Sv39 and Sv48 page walks with A/D updates, MPRV, SUM and MXR,
//! followed by the PMP check of the physical address.

use emu_isa::Xlen;

use crate::bus::Bus;
use crate::hart::{Hart, mstatus as ms};
use crate::trap::{Access, Exception};
use crate::types::{PhysAddr, Priv};

const PTE_V: u64 = 1;
const PTE_R: u64 = 2;
const PTE_W: u64 = 4;
const PTE_X: u64 = 8;
const PTE_U: u64 = 16;
const PTE_A: u64 = 64;
const PTE_D: u64 = 128;

/// The shape of the page tables a paged `satp` mode walks (Sv32, Sv39, Sv48): what the
/// hart's MMU and a debugger that walks the same tables over the system bus share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageMode {
    /// Levels of tables.
    pub levels: u32,
    /// Bytes in a page-table entry (4 or 8).
    pub pte_size: u64,
    /// Virtual page number bits each level resolves.
    pub vpn_bits: u32,
    /// Physical page number bits, in `satp` and in an entry.
    pub ppn_bits: u32,
    /// Width of a virtual address (on RV64 the bits above it must copy its top bit).
    pub va_bits: u32,
}

impl PageMode {
    /// The mode `satp` selects on an `xlen` hart; `None` for Bare and for the modes emu
    /// does not implement (Sv57, Sv64).
    pub fn of(xlen: Xlen, satp: u64) -> Option<PageMode> {
        let sv = |levels, va_bits| PageMode {
            levels,
            pte_size: 8,
            vpn_bits: 9,
            ppn_bits: 44,
            va_bits,
        };
        match xlen {
            Xlen::X32 if satp >> 31 & 1 == 1 => Some(PageMode {
                levels: 2,
                pte_size: 4,
                vpn_bits: 10,
                ppn_bits: 22,
                va_bits: 32,
            }),
            Xlen::X64 => match satp >> 60 {
                8 => Some(sv(3, 39)),
                9 => Some(sv(4, 48)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Physical address of the root table `satp` names.
    pub fn root(&self, satp: u64) -> u64 {
        (satp & ((1 << self.ppn_bits) - 1)) << 12
    }

    /// Physical page number in entry `pte`.
    pub fn ppn(&self, pte: u64) -> u64 {
        (pte >> 10) & ((1 << self.ppn_bits) - 1)
    }
}

impl Hart {
    /// Privilege that loads and stores are checked with (MPRV applies `mstatus.MPP`).
    #[inline]
    pub fn data_priv(&self) -> Priv {
        if self.prv == Priv::M && self.mprv_active() {
            Priv::from_bits(self.csr.mstatus >> 11).unwrap_or(Priv::U)
        } else {
            self.prv
        }
    }

    /// `satp` selects a paged mode (translation applies below M-mode).
    #[inline]
    pub fn paging_enabled(&self) -> bool {
        self.paging_mode().is_some()
    }

    #[inline]
    fn paging_mode(&self) -> Option<PageMode> {
        PageMode::of(self.isa.xlen, self.csr.satp)
    }

    /// Translate virtual address `va` for `access` and check PMP for `size` bytes. Returns the
    /// physical address or the exception the access raises.
    pub fn translate(
        &self,
        va: u64,
        size: u64,
        access: Access,
        bus: &dyn Bus,
    ) -> Result<u64, Exception> {
        let prv = if access == Access::Fetch {
            self.prv
        } else {
            self.data_priv()
        };
        // In Debug Mode the Debug Module's window is reached untranslated whatever
        // `mstatus.MPRV` and `dcsr.mprven` say, so the ROM and abstract programs (which
        // address it as `offset(x0)`) work however the halted program left the MMU.
        let in_dm = self.in_dm_window(va, size);
        let pa = match self.paging_mode() {
            Some(mode) if prv != Priv::M && !in_dm => self.walk(va, access, prv, &mode, bus)?,
            _ => va,
        };
        if let Some((lo, hi)) = self.debug.dm_range
            && pa < hi
            && pa.saturating_add(size) > lo
        {
            // The Debug Module exists only for Debug Mode, where PMP does not apply to it.
            return if self.debug_mode && pa >= lo && pa + size <= hi {
                Ok(pa)
            } else {
                Err(access.access_fault(va))
            };
        }
        if !self.pmp_allows(pa, size, access, prv) {
            return Err(access.access_fault(va));
        }
        Ok(pa)
    }

    fn walk(
        &self,
        va: u64,
        access: Access,
        prv: Priv,
        mode: &PageMode,
        bus: &dyn Bus,
    ) -> Result<u64, Exception> {
        let fault = access.page_fault(va);
        if self.isa.xlen == Xlen::X64 {
            // Bits above the VA width must equal its top bit.
            let top = ((va as i64) << (64 - mode.va_bits)) >> (64 - mode.va_bits);
            if top as u64 != va {
                return Err(fault);
            }
        }
        let mut table = mode.root(self.csr.satp);
        let mut level = mode.levels;
        loop {
            level -= 1;
            let vpn = (va >> (12 + level * mode.vpn_bits)) & ((1 << mode.vpn_bits) - 1);
            let pte_addr = table + vpn * mode.pte_size;
            // Page-table accesses are S-mode, checked by PMP like any other.
            if !self.pmp_allows(pte_addr, mode.pte_size, Access::Load, Priv::S) {
                return Err(access.access_fault(va));
            }
            let pte = bus
                .read(PhysAddr(pte_addr), mode.pte_size as usize)
                .map_err(|_| access.access_fault(va))?;
            if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) {
                return Err(fault);
            }
            // Sv39/Sv48: bits 63:54 are reserved (no Svnapot/Svpbmt), must be zero.
            if mode.pte_size == 8 && pte >> 54 != 0 {
                return Err(fault);
            }
            let ppn = mode.ppn(pte);
            if pte & (PTE_R | PTE_X) == 0 {
                // Pointer to the next level; D, A and U must be zero there.
                if level == 0 || pte & (PTE_D | PTE_A | PTE_U) != 0 {
                    return Err(fault);
                }
                table = ppn << 12;
                continue;
            }
            // Leaf: permissions.
            let ok = match access {
                Access::Fetch => pte & PTE_X != 0,
                Access::Load => {
                    pte & PTE_R != 0 || (self.csr.mstatus & ms::MXR != 0 && pte & PTE_X != 0)
                }
                Access::Store => pte & PTE_W != 0,
            };
            if !ok {
                return Err(fault);
            }
            let user = pte & PTE_U != 0;
            match prv {
                Priv::U if !user => return Err(fault),
                Priv::S if user && (access == Access::Fetch || self.csr.mstatus & ms::SUM == 0) => {
                    return Err(fault);
                }
                _ => {}
            }
            // Superpages must be aligned.
            let low_mask = (1u64 << (level * mode.vpn_bits)) - 1;
            if ppn & low_mask != 0 {
                return Err(fault);
            }
            // Hardware A/D update, atomically against concurrent walkers and writers.
            let need = PTE_A | if access == Access::Store { PTE_D } else { 0 };
            if pte & need != need {
                if !self.pmp_allows(pte_addr, mode.pte_size, Access::Store, Priv::S) {
                    return Err(access.access_fault(va));
                }
                let swapped = bus
                    .compare_exchange(PhysAddr(pte_addr), mode.pte_size as usize, pte, pte | need)
                    .map_err(|_| access.access_fault(va))?;
                if !swapped {
                    // The PTE changed under us: walk again from the top.
                    return self.walk(va, access, prv, mode, bus);
                }
            }
            let page_off = va & ((1u64 << (12 + level * mode.vpn_bits)) - 1);
            let pa = ((ppn & !low_mask) << 12) | page_off;
            return Ok(pa);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modes `satp` selects, and the fields of the root and of an entry (the
    /// privileged spec's Sv32/Sv39/Sv48 tables).
    #[test]
    fn page_modes_from_satp() {
        let mode = PageMode::of;
        assert!(mode(Xlen::X64, 0).is_none(), "Bare");
        assert_eq!(
            mode(Xlen::X64, 8 << 60).map(|m| (m.levels, m.va_bits)),
            Some((3, 39))
        );
        assert_eq!(
            mode(Xlen::X64, 9 << 60).map(|m| (m.levels, m.va_bits)),
            Some((4, 48))
        );
        assert!(
            mode(Xlen::X64, 10 << 60).is_none(),
            "Sv57 is not implemented"
        );
        let sv32 = mode(Xlen::X32, 1 << 31 | 0x3f_ffff);
        assert_eq!(
            sv32.map(|m| (m.levels, m.pte_size, m.vpn_bits)),
            Some((2, 4, 10))
        );
        assert!(mode(Xlen::X32, 0x7fff_ffff).is_none(), "Bare on RV32");
        // Sv32: a 22-bit PPN in satp (below MODE and ASID), entries' PPN bits 31:10.
        assert_eq!(
            sv32.map(|m| m.root(1 << 31 | 0x3f_ffff)),
            Some(0x3f_ffff << 12)
        );
        assert_eq!(sv32.map(|m| m.ppn(0xffff_fc00)), Some(0x3f_ffff));
        // Sv39: a 44-bit PPN; entry bits 63:54 are not part of it.
        let sv39 = mode(Xlen::X64, 8 << 60 | 0xffff << 44 | 0x123);
        assert_eq!(
            sv39.map(|m| m.root(8 << 60 | 0xffff << 44 | 0x123)),
            Some(0x123 << 12)
        );
        assert_eq!(sv39.map(|m| m.ppn(u64::MAX)), Some((1 << 44) - 1));
    }
}
