//! Block flags: everything besides the address that changes how a block is translated.
//! Blocks with the same address and different flags are different blocks and coexist.

use emu_core::{Hart, Priv};
use emu_isa::Xlen;

/// Packed flags of a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockFlags(pub u32);

const PRV_MASK: u32 = 3;
const XLEN64: u32 = 1 << 2;
const INHIBIT_CY: u32 = 1 << 3;
const INHIBIT_IR: u32 = 1 << 4;
const DIRECT_MEM: u32 = 1 << 5;
const SINGLE_STEP: u32 = 1 << 6;
const MMU: u32 = 1 << 7;
const DEBUG_MODE: u32 = 1 << 8;
const NO_ICOUNT: u32 = 1 << 9;
const DATA_WATCH: u32 = 1 << 10;

impl BlockFlags {
    /// The flags for the hart's current state.
    #[inline]
    pub fn of(h: &Hart) -> BlockFlags {
        let mut f = h.prv as u32 & PRV_MASK;
        if h.xlen() == Xlen::X64 {
            f |= XLEN64;
        }
        // Counters also stop in Debug Mode with dcsr.stopcount.
        let stopped = h.counters_stopped();
        if stopped || h.csr.mcountinhibit & 1 != 0 {
            f |= INHIBIT_CY;
        }
        if stopped || h.csr.mcountinhibit & 4 != 0 {
            f |= INHIBIT_IR;
        }
        // Loads and stores may go straight to RAM when they are untranslated and unchecked:
        // effective data privilege M (no MPRV redirection) and no locked PMP entry.
        // (One compare for the sixteen L bits: this runs before every block.)
        let locked = u128::from_ne_bytes(h.csr.pmpcfg) & u128::from_ne_bytes([0x80; 16]) != 0;
        if h.data_priv() == Priv::M && !locked {
            f |= DIRECT_MEM;
        } else if h.data_priv() != Priv::M && h.paging_enabled() {
            f |= MMU;
        }
        if h.debug_mode {
            f |= DEBUG_MODE;
        }
        // Debug Mode code never counts for icount (nor takes itriggers); elsewhere a block
        // counts when an icount trigger is enabled in its mode. The dispatcher does the
        // counting (blocks run at most the remaining count), so both kinds are translated
        // alike; the bit keeps them apart for whoever inspects a block.
        if h.icount_budget().is_none() {
            f |= NO_ICOUNT;
        }
        // Armed load/store triggers: loads and stores filter their address through the
        // hart's watch hull (a compare) and take the exact check in the helper when inside.
        // Blocks translated without the filter stay cached for when the watchpoints go.
        if h.trig.data && !h.debug_mode {
            f |= DATA_WATCH;
        }
        BlockFlags(f)
    }

    /// The same flags for a block of exactly one instruction.
    pub fn single_step(self) -> BlockFlags {
        BlockFlags(self.0 | SINGLE_STEP)
    }

    /// Blocks hold exactly one instruction.
    pub fn is_single_step(self) -> bool {
        self.0 & SINGLE_STEP != 0
    }

    /// Data accesses go through page tables (the TLB path; otherwise PMP alone).
    pub fn mmu(self) -> bool {
        self.0 & MMU != 0
    }

    /// The block runs in Debug Mode.
    pub fn debug_mode(self) -> bool {
        self.0 & DEBUG_MODE != 0
    }

    /// icount and itrigger do not count or fire in this block.
    pub fn no_icount(self) -> bool {
        self.0 & NO_ICOUNT != 0
    }

    /// Loads and stores check the watch hull (load/store triggers are armed).
    pub fn data_watch(self) -> bool {
        self.0 & DATA_WATCH != 0
    }

    /// Loads and stores use physical addresses with no PMP check.
    pub fn direct_mem(self) -> bool {
        self.0 & DIRECT_MEM != 0
    }

    /// Privilege the block runs at.
    pub fn prv(self) -> Priv {
        Priv::from_bits((self.0 & PRV_MASK) as u64).unwrap_or(Priv::M)
    }

    /// `mcountinhibit.CY`.
    pub fn inhibit_cycle(self) -> bool {
        self.0 & INHIBIT_CY != 0
    }

    /// `mcountinhibit.IR`.
    pub fn inhibit_instret(self) -> bool {
        self.0 & INHIBIT_IR != 0
    }
}
