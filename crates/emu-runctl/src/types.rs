//! The run-control API's vocabulary.

/// Which harts an operation applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HartSel {
    /// One hart.
    One(usize),
    /// These harts together (the Debug Module's hart array: they halt or resume at once).
    Group(Vec<usize>),
    /// Every hart.
    All,
}

impl HartSel {
    /// The hart indices, sorted and deduplicated, for `n` harts.
    pub fn harts(&self, n: usize) -> Vec<usize> {
        let mut v = match self {
            HartSel::One(h) => vec![*h],
            HartSel::Group(g) => g.clone(),
            HartSel::All => (0..n).collect(),
        };
        v.sort_unstable();
        v.dedup();
        v
    }
}

impl From<usize> for HartSel {
    fn from(h: usize) -> HartSel {
        HartSel::One(h)
    }
}

/// A register, numbered as the Debug Module's Access Register command numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegId {
    /// `x0`..`x31`.
    Gpr(u8),
    /// `f0`..`f31`.
    Fpr(u8),
    /// A CSR.
    Csr(u16),
    /// The program counter of a halted hart (`dpc`).
    Pc,
}

impl RegId {
    /// The Access Register `regno`.
    pub fn regno(self) -> u32 {
        match self {
            RegId::Gpr(r) => 0x1000 + u32::from(r & 31),
            RegId::Fpr(r) => 0x1020 + u32::from(r & 31),
            RegId::Csr(c) => u32::from(c & 0xfff),
            RegId::Pc => 0x7b1,
        }
    }
}

/// The registers GDB's `g` packet carries: every GPR and the pc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreRegs {
    /// `x0`..`x31` (`x[0]` is 0), zero-extended on RV32.
    pub x: [u64; 32],
    /// The pc (`dpc`).
    pub pc: u64,
}

/// How memory addresses are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemSpace {
    /// Physical addresses (the system bus; any hart state).
    Physical,
    /// Virtual addresses, translated as the halted hart's own loads and stores were where
    /// it halted: with its privilege (`dcsr.prv`, or `mstatus.MPP` if it halted in M-mode
    /// with `MPRV` set), `satp`, `SUM` and `MXR`. Access Memory commands on the hart, with
    /// `mstatus.MPP` set to that privilege for them. [`crate::RunControl::write_memory`]
    /// writes, as debuggers do, wherever the hart can read, page write permission or not.
    Virtual,
}

/// What a watchpoint watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchKind {
    /// Loads.
    Read,
    /// Stores.
    Write,
    /// Loads and stores.
    Access,
}

/// Which traps a trap catch ([`crate::RunControl::add_trap_catch`]) stops on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// Exceptions (an `etrigger`): cause bit n of the mask is exception code n.
    Exception,
    /// Interrupts (an `itrigger`): bit n is interrupt code n.
    Interrupt,
}

/// A trigger armed through [`crate::RunControl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TriggerId(pub u32);

/// Where a hart is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HartStatus {
    /// Running guest code.
    Running,
    /// Halted in Debug Mode.
    Halted,
    /// Held in reset, or otherwise unavailable.
    Unavailable,
}

/// Why a hart halted (`dcsr.cause`, with the trigger resolved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopCause {
    /// An `ebreak` (a software breakpoint).
    Ebreak,
    /// One of the API's triggers (`None`: a trigger the API did not arm, or one whose hit
    /// bits did not say).
    Trigger(Option<TriggerId>),
    /// A halt request.
    HaltRequest,
    /// A single step finished.
    Step,
    /// Halted coming out of reset.
    ResetHalt,
    /// Another hart of its halt group halted.
    Group,
    /// A `dcsr.cause` emu does not know.
    Other(u32),
}

impl StopCause {
    /// From `dcsr.cause` (the trigger still unresolved).
    pub fn from_dcsr(dcsr: u32) -> StopCause {
        match dcsr >> 6 & 7 {
            1 => StopCause::Ebreak,
            2 => StopCause::Trigger(None),
            3 => StopCause::HaltRequest,
            4 => StopCause::Step,
            5 => StopCause::ResetHalt,
            6 => StopCause::Group,
            c => StopCause::Other(c),
        }
    }
}

/// A hart stopped (pushed to [`crate::RunControl::subscribe`]rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopEvent {
    /// The hart.
    pub hart: usize,
    /// Why.
    pub cause: StopCause,
    /// Which of the hart's halts this is (1 for its first): a report of a halt that a
    /// front end has already seen, arriving late, carries the same number.
    pub seq: u64,
}
