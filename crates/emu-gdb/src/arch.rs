//! The architecture as GDB sees it: RV64 with GDB's register numbering (x0-x31 = 0-31, pc =
//! 32, f0-f31 = 33-64, CSR n = 65 + n, the virtual `priv` register = 4161), the numbering
//! the MCD front end's REGISTERS space shares, and the target description that names the
//! registers each hart really has.

use std::num::NonZeroUsize;

use gdbstub::arch::Arch;
use gdbstub_arch::riscv::reg::RiscvCoreRegs;

/// 64-bit RISC-V; the target description comes from [`target_xml`] (what the harts have).
#[derive(Debug)]
pub enum Rv64 {}

impl Arch for Rv64 {
    type Usize = u64;
    type Registers = RiscvCoreRegs<u64>;
    type BreakpointKind = usize;
    type RegId = Reg;
}

/// A register by GDB's number. (`gdbstub_arch`'s own id cannot map back to a number, which
/// the expedited registers of a stop reply need.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    /// x0-x31: numbers 0-31.
    Gpr(u8),
    /// pc: number 32.
    Pc,
    /// f0-f31: numbers 33-64.
    Fpr(u8),
    /// CSR n: number 65 + n.
    Csr(u16),
    /// The privilege level the hart halted in: number 4161.
    Priv,
}

impl gdbstub::arch::RegId for Reg {
    fn from_raw_id(id: usize) -> Option<(Reg, Option<NonZeroUsize>)> {
        let (r, size) = match id {
            0..=31 => (Reg::Gpr(id as u8), 8),
            32 => (Reg::Pc, 8),
            33..=64 => (Reg::Fpr((id - 33) as u8), 8),
            65..=4160 => (Reg::Csr((id - 65) as u16), 8),
            PRIV_REGNUM => (Reg::Priv, 1),
            _ => return None,
        };
        Some((r, NonZeroUsize::new(size)))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(match *self {
            Reg::Gpr(r) => r as usize,
            Reg::Pc => 32,
            Reg::Fpr(r) => 33 + r as usize,
            Reg::Csr(c) => csr_regnum(c),
            Reg::Priv => PRIV_REGNUM,
        })
    }
}

pub use emu_runctl::regmap::{CSRS, FPR_NAMES, GPR_NAMES, PRIV_REGNUM, csr_regnum};

/// What the description describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// FLEN in bits: 0 without F, 32 with F, 64 with D.
    pub flen: u32,
    /// The CSRs the hart has (name, number), in GDB's order.
    pub csrs: Vec<(&'static str, u16)>,
}

/// The target description XML for an RV64 hart with `f`.
pub fn target_xml(f: &Features) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n\
         <target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n\
         <feature name=\"org.gnu.gdb.riscv.cpu\">\n",
    );
    for (i, n) in GPR_NAMES.iter().enumerate() {
        let ty = match i {
            2 => "data_ptr",
            _ => "int",
        };
        x += &format!("  <reg name=\"{n}\" bitsize=\"64\" type=\"{ty}\" regnum=\"{i}\"/>\n");
    }
    x += "  <reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>\n</feature>\n";
    if f.flen != 0 {
        let ty = if f.flen == 64 {
            "ieee_double"
        } else {
            "ieee_single"
        };
        x += "<feature name=\"org.gnu.gdb.riscv.fpu\">\n";
        for (i, n) in FPR_NAMES.iter().enumerate() {
            x += &format!(
                "  <reg name=\"{n}\" bitsize=\"{}\" type=\"{ty}\" regnum=\"{}\"/>\n",
                f.flen,
                33 + i
            );
        }
        x += "</feature>\n";
    }
    x += "<feature name=\"org.gnu.gdb.riscv.csr\">\n";
    for (n, c) in &f.csrs {
        // fflags, frm and fcsr are 32-bit CSRs in GDB's view.
        let bits = if *c <= 3 { 32 } else { 64 };
        x += &format!(
            "  <reg name=\"{n}\" bitsize=\"{bits}\" type=\"int\" regnum=\"{}\" group=\"csr\"/>\n",
            csr_regnum(*c)
        );
    }
    x += "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n";
    x += &format!("  <reg name=\"priv\" bitsize=\"8\" regnum=\"{PRIV_REGNUM}\"/>\n");
    x += "</feature>\n</target>\n";
    x
}

/// Copy `data[offset..]` into `buf` (qXfer paging): the bytes copied.
pub fn page(data: &[u8], offset: u64, length: usize, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let n = (data.len() - start).min(length).min(buf.len());
    buf[..n].copy_from_slice(&data[start..start + n]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_numbers_registers_as_gdb_does() {
        let x = target_xml(&Features {
            flen: 64,
            csrs: vec![("mstatus", 0x300), ("fflags", 1)],
        });
        assert!(x.contains("<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>"));
        assert!(x.contains("name=\"ft0\" bitsize=\"64\" type=\"ieee_double\" regnum=\"33\""));
        assert!(x.contains("name=\"ft11\" bitsize=\"64\" type=\"ieee_double\" regnum=\"64\""));
        assert!(x.contains("name=\"mstatus\" bitsize=\"64\" type=\"int\" regnum=\"833\""));
        assert!(x.contains("name=\"fflags\" bitsize=\"32\" type=\"int\" regnum=\"66\""));
        assert!(x.contains("regnum=\"4161\""));
        let nofp = target_xml(&Features {
            flen: 0,
            csrs: vec![],
        });
        assert!(!nofp.contains("riscv.fpu"));
    }

    #[test]
    fn paging_stays_in_bounds() {
        let mut b = [0u8; 4];
        assert_eq!(page(b"abcdef", 2, 10, &mut b), 4);
        assert_eq!(&b, b"cdef");
        assert_eq!(page(b"abcdef", 6, 10, &mut b), 0);
        assert_eq!(page(b"abcdef", u64::MAX, 10, &mut b), 0);
    }
}
