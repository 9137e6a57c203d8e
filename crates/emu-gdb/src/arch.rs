//! The architecture as GDB sees it: RV32 or RV64 (one `gdbstub` architecture whose
//! registers carry their width, told by the hart) with GDB's register numbering (x0-x31 =
//! 0-31, pc = 32, f0-f31 = 33-64, CSR n = 65 + n, the virtual `priv` register = 4161), the
//! numbering the MCD front end's REGISTERS space shares, and the target description that
//! names the registers each hart really has.

use std::num::NonZeroUsize;

use emu_runctl::CoreRegs;
use gdbstub::arch::{Arch, Registers};

/// RISC-V, 32 or 64 bits: addresses travel as `u64`; the registers of `g` and `G` are as
/// wide as the hart's (the target description tells GDB which).
#[derive(Debug)]
pub enum Riscv {}

impl Arch for Riscv {
    type Usize = u64;
    type Registers = GdbRegs;
    type BreakpointKind = usize;
    type RegId = Reg;
}

/// The `g` packet's registers: x0-x31 and the pc as the run-control API reads them,
/// `xbytes` wide each. A `G` packet's bytes are kept as they came (`raw`): only the target
/// knows the width to read them with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GdbRegs {
    /// x0-x31 and the pc.
    pub core: CoreRegs,
    /// Register width in bytes (4 or 8; 0 is taken as 8).
    pub xbytes: usize,
    /// A `G` packet's register bytes.
    pub raw: Vec<u8>,
}

impl GdbRegs {
    /// The registers in `raw` at width `xbytes`, or `None` if `raw` is too short.
    pub fn decode(raw: &[u8], xbytes: usize) -> Option<CoreRegs> {
        if raw.len() < 33 * xbytes || !(1..=8).contains(&xbytes) {
            return None;
        }
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b[..xbytes].copy_from_slice(&raw[i * xbytes..(i + 1) * xbytes]);
            u64::from_le_bytes(b)
        };
        Some(CoreRegs {
            x: std::array::from_fn(word),
            pc: word(32),
        })
    }
}

impl Registers for GdbRegs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.core.pc
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        let n = if self.xbytes == 4 { 4 } else { 8 };
        for v in self.core.x.iter().chain([&self.core.pc]) {
            for b in &v.to_le_bytes()[..n] {
                write_byte(Some(*b));
            }
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        self.raw = bytes.to_vec();
        Ok(())
    }
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
        let r = match id {
            0..=31 => Reg::Gpr(id as u8),
            32 => Reg::Pc,
            33..=64 => Reg::Fpr((id - 33) as u8),
            65..=4160 => Reg::Csr((id - 65) as u16),
            PRIV_REGNUM => Reg::Priv,
            _ => return None,
        };
        // No fixed size: the width depends on the hart (XLEN, FLEN; fflags, frm and fcsr
        // are 32-bit), which the target knows and reports with each value.
        Some((r, None))
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
    /// XLEN in bits: 32 or 64.
    pub xlen: u32,
    /// FLEN in bits: 0 without F, 32 with F, 64 with D.
    pub flen: u32,
    /// The CSRs the hart has (name, number), in GDB's order.
    pub csrs: Vec<(&'static str, u16)>,
}

/// The target description XML for a hart with `f`.
pub fn target_xml(f: &Features) -> String {
    let xlen = f.xlen;
    let mut x = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n\
         <target version=\"1.0\">\n<architecture>riscv:rv{xlen}</architecture>\n\
         <feature name=\"org.gnu.gdb.riscv.cpu\">\n",
    );
    for (i, n) in GPR_NAMES.iter().enumerate() {
        let ty = match i {
            2 => "data_ptr",
            _ => "int",
        };
        x += &format!("  <reg name=\"{n}\" bitsize=\"{xlen}\" type=\"{ty}\" regnum=\"{i}\"/>\n");
    }
    x += &format!(
        "  <reg name=\"pc\" bitsize=\"{xlen}\" type=\"code_ptr\" regnum=\"32\"/>\n</feature>\n"
    );
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
        let bits = if *c <= 3 { 32 } else { xlen };
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
            xlen: 64,
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
            xlen: 32,
            flen: 0,
            csrs: vec![("mstatus", 0x300)],
        });
        assert!(!nofp.contains("riscv.fpu"));
        assert!(nofp.contains("<architecture>riscv:rv32</architecture>"));
        assert!(nofp.contains("<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\" regnum=\"32\"/>"));
        assert!(nofp.contains("name=\"mstatus\" bitsize=\"32\" type=\"int\" regnum=\"833\""));
    }

    #[test]
    fn core_registers_travel_at_the_harts_width() {
        let mut r = GdbRegs {
            xbytes: 4,
            ..GdbRegs::default()
        };
        r.core.pc = 0x8000_0010;
        r.core.x[1] = 0x1122_3344;
        let mut out = Vec::new();
        r.gdb_serialize(|b| out.extend(b));
        assert_eq!(out.len(), 33 * 4);
        assert_eq!(&out[4..8], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&out[128..], &[0x10, 0, 0, 0x80]);
        r.xbytes = 8;
        out.clear();
        r.gdb_serialize(|b| out.extend(b));
        assert_eq!(out.len(), 33 * 8);
        // G: decoded at the width the target knows; too short is refused.
        let core = GdbRegs::decode(&out, 8).unwrap_or_default();
        assert_eq!((core.x[1], core.pc), (0x1122_3344, 0x8000_0010));
        assert!(GdbRegs::decode(&out[..33 * 8 - 1], 8).is_none());
        assert!(GdbRegs::decode(&out[..33 * 4], 4).is_some());
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
