//! Exceptions and interrupts: cause codes, the trap value, and the order in which pending
//! interrupts are taken.

/// A synchronous exception with its trap value (`mtval`/`stval`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    /// Instruction address misaligned (tval: target address).
    InstMisaligned(u64),
    /// Instruction access fault (tval: address).
    InstAccess(u64),
    /// Illegal instruction (tval: the instruction bits).
    Illegal(u64),
    /// Breakpoint (tval: pc, or the trigger's address).
    Breakpoint(u64),
    /// Load address misaligned.
    LoadMisaligned(u64),
    /// Load access fault.
    LoadAccess(u64),
    /// Store/AMO address misaligned.
    StoreMisaligned(u64),
    /// Store/AMO access fault.
    StoreAccess(u64),
    /// Environment call from U-mode.
    EcallU,
    /// Environment call from S-mode.
    EcallS,
    /// Environment call from M-mode.
    EcallM,
    /// Instruction page fault.
    InstPage(u64),
    /// Load page fault.
    LoadPage(u64),
    /// Store/AMO page fault.
    StorePage(u64),
    /// Not a trap: the instruction enters Debug Mode instead (`ebreak` with the matching
    /// `dcsr.ebreak*` bit, a trigger with action 1). `dpc` is the instruction's address.
    EnterDebug(crate::debug::DebugCause),
}

impl Exception {
    /// The `xcause` exception code.
    pub fn code(self) -> u64 {
        use Exception::*;
        match self {
            InstMisaligned(_) => 0,
            InstAccess(_) => 1,
            Illegal(_) => 2,
            // Entering Debug Mode writes no cause register; report it as a breakpoint.
            Breakpoint(_) | EnterDebug(_) => 3,
            LoadMisaligned(_) => 4,
            LoadAccess(_) => 5,
            StoreMisaligned(_) => 6,
            StoreAccess(_) => 7,
            EcallU => 8,
            EcallS => 9,
            EcallM => 11,
            InstPage(_) => 12,
            LoadPage(_) => 13,
            StorePage(_) => 15,
        }
    }

    /// The trap value written to `xtval`.
    pub fn tval(self) -> u64 {
        use Exception::*;
        match self {
            InstMisaligned(v) | InstAccess(v) | Illegal(v) | Breakpoint(v) | LoadMisaligned(v)
            | LoadAccess(v) | StoreMisaligned(v) | StoreAccess(v) | InstPage(v) | LoadPage(v)
            | StorePage(v) => v,
            EcallU | EcallS | EcallM | EnterDebug(_) => 0,
        }
    }
}

/// Interrupt cause codes in the order the privileged spec takes them when several are
/// pending and enabled at the same level: MEI, MSI, MTI, SEI, SSI, STI.
pub const INTERRUPT_PRIORITY: [u64; 6] = [11, 3, 7, 9, 1, 5];

/// Kind of memory access, for translation, PMP and the fault it raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Instruction fetch.
    Fetch,
    /// Load (and `lr`).
    Load,
    /// Store and AMO (and `sc`).
    Store,
}

impl Access {
    /// The page-fault exception for this access at `addr`.
    pub fn page_fault(self, addr: u64) -> Exception {
        match self {
            Access::Fetch => Exception::InstPage(addr),
            Access::Load => Exception::LoadPage(addr),
            Access::Store => Exception::StorePage(addr),
        }
    }
    /// The access-fault exception for this access at `addr`.
    pub fn access_fault(self, addr: u64) -> Exception {
        match self {
            Access::Fetch => Exception::InstAccess(addr),
            Access::Load => Exception::LoadAccess(addr),
            Access::Store => Exception::StoreAccess(addr),
        }
    }
}
