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

impl BlockFlags {
    /// The flags for the hart's current state.
    pub fn of(h: &Hart) -> BlockFlags {
        let mut f = h.prv as u32 & PRV_MASK;
        if h.xlen() == Xlen::X64 {
            f |= XLEN64;
        }
        if h.csr.mcountinhibit & 1 != 0 {
            f |= INHIBIT_CY;
        }
        if h.csr.mcountinhibit & 4 != 0 {
            f |= INHIBIT_IR;
        }
        // Loads and stores may go straight to RAM when they are untranslated and unchecked:
        // effective data privilege M (no MPRV redirection) and no locked PMP entry.
        if h.data_priv() == Priv::M && h.csr.pmpcfg.iter().all(|c| c & 0x80 == 0) {
            f |= DIRECT_MEM;
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
