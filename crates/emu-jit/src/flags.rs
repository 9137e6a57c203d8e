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
        BlockFlags(f)
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
