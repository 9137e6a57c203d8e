//! Register and CSR names as the ABI and objdump spell them.

/// ABI names of the integer registers.
pub const XREG: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// ABI names of the floating-point registers.
pub const FREG: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// Rounding-mode names (`rm` field values 0..=7; 5 and 6 are reserved).
pub const RM: [&str; 8] = ["rne", "rtz", "rdn", "rup", "rmm", "0x5", "0x6", "dyn"];

/// The standard name of a CSR, if it has one.
pub fn csr_name(csr: u16) -> Option<std::borrow::Cow<'static, str>> {
    use std::borrow::Cow::{Borrowed, Owned};
    let fixed = match csr {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x100 => "sstatus",
        0x104 => "sie",
        0x105 => "stvec",
        0x106 => "scounteren",
        0x10a => "senvcfg",
        0x140 => "sscratch",
        0x141 => "sepc",
        0x142 => "scause",
        0x143 => "stval",
        0x144 => "sip",
        0x180 => "satp",
        0x5a8 => "scontext",
        0x300 => "mstatus",
        0x301 => "misa",
        0x302 => "medeleg",
        0x303 => "mideleg",
        0x304 => "mie",
        0x305 => "mtvec",
        0x306 => "mcounteren",
        0x30a => "menvcfg",
        0x310 => "mstatush",
        0x31a => "menvcfgh",
        0x320 => "mcountinhibit",
        0x340 => "mscratch",
        0x341 => "mepc",
        0x342 => "mcause",
        0x343 => "mtval",
        0x344 => "mip",
        0x34a => "mtinst",
        0x34b => "mtval2",
        0x747 => "mseccfg",
        0x7a0 => "tselect",
        0x7a1 => "tdata1",
        0x7a2 => "tdata2",
        0x7a3 => "tdata3",
        0x7a4 => "tinfo",
        0x7a5 => "tcontrol",
        0x7a8 => "mcontext",
        0x7b0 => "dcsr",
        0x7b1 => "dpc",
        0x7b2 => "dscratch0",
        0x7b3 => "dscratch1",
        0xb00 => "mcycle",
        0xb02 => "minstret",
        0xb80 => "mcycleh",
        0xb82 => "minstreth",
        0xc00 => "cycle",
        0xc01 => "time",
        0xc02 => "instret",
        0xc80 => "cycleh",
        0xc81 => "timeh",
        0xc82 => "instreth",
        0xf11 => "mvendorid",
        0xf12 => "marchid",
        0xf13 => "mimpid",
        0xf14 => "mhartid",
        0xf15 => "mconfigptr",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(Borrowed(fixed));
    }
    let n = csr & 0x1f;
    Some(Owned(match csr {
        0x3a0..=0x3af => format!("pmpcfg{}", csr - 0x3a0),
        0x3b0..=0x3ef => format!("pmpaddr{}", csr - 0x3b0),
        0xc03..=0xc1f => format!("hpmcounter{n}"),
        0xc83..=0xc9f => format!("hpmcounter{n}h"),
        0xb03..=0xb1f => format!("mhpmcounter{n}"),
        0xb83..=0xb9f => format!("mhpmcounter{n}h"),
        0x323..=0x33f => format!("mhpmevent{n}"),
        _ => return None,
    }))
}
