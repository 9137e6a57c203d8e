//! GDB's register numbering, which every front end shares (the MCD REGISTERS space uses
//! it too): x0-x31 = 0-31, pc = 32, f0-f31 = 33-64, CSR n = 65 + n, the virtual `priv`
//! register = 4161; and the names GDB gives them.

/// GDB's register number of CSR `csr`.
pub const fn csr_regnum(csr: u16) -> usize {
    65 + csr as usize
}

/// GDB's number of the virtual `priv` register (the privilege level the hart halted in).
pub const PRIV_REGNUM: usize = 4161;

/// The names GDB's `org.gnu.gdb.riscv.cpu` feature gives x0-x31: the ABI names, with
/// x8 called `fp`.
pub const GPR_NAMES: [&str; 32] = {
    let mut n = emu_isa::names::XREG;
    n[8] = "fp";
    n
};

/// ABI names of f0-f31.
pub const FPR_NAMES: [&str; 32] = emu_isa::names::FREG;

/// The CSRs offered to GDB, where the hart has them (probed when the description is made).
/// Trigger CSRs are left out: the run-control API owns the triggers (GDB arms them with
/// Z packets), and `dscratch0/1` belong to the Debug Module's programs.
pub const CSRS: &[(&str, u16)] = &[
    ("fflags", 0x001),
    ("frm", 0x002),
    ("fcsr", 0x003),
    ("cycle", 0xc00),
    ("time", 0xc01),
    ("instret", 0xc02),
    ("sstatus", 0x100),
    ("sie", 0x104),
    ("stvec", 0x105),
    ("scounteren", 0x106),
    ("senvcfg", 0x10a),
    ("sscratch", 0x140),
    ("sepc", 0x141),
    ("scause", 0x142),
    ("stval", 0x143),
    ("sip", 0x144),
    ("satp", 0x180),
    ("mvendorid", 0xf11),
    ("marchid", 0xf12),
    ("mimpid", 0xf13),
    ("mhartid", 0xf14),
    ("mstatus", 0x300),
    ("misa", 0x301),
    ("medeleg", 0x302),
    ("mideleg", 0x303),
    ("mie", 0x304),
    ("mtvec", 0x305),
    ("mcounteren", 0x306),
    ("menvcfg", 0x30a),
    ("mscratch", 0x340),
    ("mepc", 0x341),
    ("mcause", 0x342),
    ("mtval", 0x343),
    ("mip", 0x344),
    ("pmpcfg0", 0x3a0),
    ("pmpcfg2", 0x3a2),
    ("pmpaddr0", 0x3b0),
    ("pmpaddr1", 0x3b1),
    ("pmpaddr2", 0x3b2),
    ("pmpaddr3", 0x3b3),
    ("pmpaddr4", 0x3b4),
    ("pmpaddr5", 0x3b5),
    ("pmpaddr6", 0x3b6),
    ("pmpaddr7", 0x3b7),
    ("mcycle", 0xb00),
    ("minstret", 0xb02),
    ("dcsr", 0x7b0),
    ("dpc", 0x7b1),
];
