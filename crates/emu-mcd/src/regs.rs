//! The REGISTERS memory space: addresses are GDB's register numbers, so MCD and GDB name
//! registers alike; one register group per GDB feature.

use emu_runctl::regmap::{CSRS, FPR_NAMES, GPR_NAMES, PRIV_REGNUM, csr_regnum};
use emu_runctl::{RegId, RunControl};

/// Register group ids, from 1 (0 means all registers).
pub(crate) const GROUPS: [(u32, &str); 4] = [
    (1, "org.gnu.gdb.riscv.cpu"),
    (2, "org.gnu.gdb.riscv.fpu"),
    (3, "org.gnu.gdb.riscv.csr"),
    (4, "org.gnu.gdb.riscv.virtual"),
];

/// Where a register's value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backing {
    /// A register of the run-control API.
    Rc(RegId),
    /// The privilege level the hart halted in (`dcsr.prv`).
    Priv,
}

/// One register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reg {
    pub(crate) name: &'static str,
    pub(crate) regnum: u32,
    pub(crate) bits: u32,
    pub(crate) group: u32,
    pub(crate) backing: Backing,
}

/// The registers of a hart.
#[derive(Clone, Debug)]
pub(crate) struct RegMap {
    pub(crate) regs: Vec<Reg>,
}

impl RegMap {
    /// The registers hart `h` has: CSRs are probed (hart halted); `exact` says whether they
    /// were (a running hart gets the full list, not to be cached).
    pub(crate) fn probe(rc: &RunControl, h: usize) -> (RegMap, bool) {
        let caps = rc.dm().caps();
        let flen = match (caps.f, caps.d) {
            (_, true) => 64,
            (true, false) => 32,
            _ => 0,
        };
        let halted = rc.is_halted(h).unwrap_or(false);
        let mut regs = Vec::with_capacity(120);
        for (i, name) in GPR_NAMES.iter().enumerate() {
            regs.push(Reg {
                name,
                regnum: i as u32,
                bits: 64,
                group: 1,
                backing: Backing::Rc(RegId::Gpr(i as u8)),
            });
        }
        regs.push(Reg {
            name: "pc",
            regnum: 32,
            bits: 64,
            group: 1,
            backing: Backing::Rc(RegId::Pc),
        });
        if flen != 0 {
            for (i, name) in FPR_NAMES.iter().enumerate() {
                regs.push(Reg {
                    name,
                    regnum: 33 + i as u32,
                    bits: flen,
                    group: 2,
                    backing: Backing::Rc(RegId::Fpr(i as u8)),
                });
            }
        }
        for &(name, c) in CSRS {
            if c <= 3 && flen == 0 {
                continue;
            }
            if halted && rc.read_register(h, RegId::Csr(c)).is_err() {
                continue;
            }
            regs.push(Reg {
                name,
                regnum: csr_regnum(c) as u32,
                bits: if c <= 3 { 32 } else { 64 },
                group: 3,
                backing: Backing::Rc(RegId::Csr(c)),
            });
        }
        regs.push(Reg {
            name: "priv",
            regnum: PRIV_REGNUM as u32,
            bits: 8,
            group: 4,
            backing: Backing::Priv,
        });
        (RegMap { regs }, halted)
    }

    /// The register numbered `n`.
    pub(crate) fn by_regnum(&self, n: u64) -> Option<&Reg> {
        self.regs.iter().find(|r| u64::from(r.regnum) == n)
    }

    /// The registers of group `g` (0: all).
    pub(crate) fn group(&self, g: u32) -> impl Iterator<Item = &Reg> {
        self.regs.iter().filter(move |r| g == 0 || r.group == g)
    }

    /// The largest register number.
    pub(crate) fn max_regnum(&self) -> u64 {
        self.regs
            .iter()
            .map(|r| u64::from(r.regnum))
            .max()
            .unwrap_or(0)
    }
}
