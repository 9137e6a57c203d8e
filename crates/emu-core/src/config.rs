//! Which ISA a hart implements: XLEN and the set of extensions, parsed from an ISA string such
//! as `rv64imafdc_zba_zbb` (the form `--isa` and QEMU's `-cpu` descriptions use).

use emu_isa::{Ext, Xlen};

/// Error in an ISA string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsaError {
    /// The string does not start with rv32 or rv64.
    #[error("ISA string must start with rv32 or rv64: {0:?}")]
    Base(String),
    /// A single-letter extension emu does not implement.
    #[error("unsupported extension letter {0:?}")]
    Letter(char),
    /// A multi-letter extension emu does not implement.
    #[error("unsupported extension {0:?}")]
    Multi(String),
    /// An extension that needs another one that is absent.
    #[error("extension {0} requires {1}")]
    Requires(&'static str, &'static str),
}

/// The extensions a hart implements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsaConfig {
    /// Base width.
    pub xlen: Xlen,
    /// M.
    pub m: bool,
    /// A.
    pub a: bool,
    /// F.
    pub f: bool,
    /// D.
    pub d: bool,
    /// C (and Zcb's extra parcels when `zcb` is set).
    pub c: bool,
    /// S-mode.
    pub s: bool,
    /// U-mode.
    pub u: bool,
    /// Zba.
    pub zba: bool,
    /// Zbb.
    pub zbb: bool,
    /// Zbc.
    pub zbc: bool,
    /// Zbs.
    pub zbs: bool,
    /// Zbkb.
    pub zbkb: bool,
    /// Zbkx.
    pub zbkx: bool,
    /// Zfh.
    pub zfh: bool,
    /// Zicond.
    pub zicond: bool,
    /// Zcb.
    pub zcb: bool,
}

impl IsaConfig {
    /// Everything emu implements, for `xlen`.
    pub fn full(xlen: Xlen) -> IsaConfig {
        IsaConfig {
            xlen,
            m: true,
            a: true,
            f: true,
            d: true,
            c: true,
            s: true,
            u: true,
            zba: true,
            zbb: true,
            zbc: true,
            zbs: true,
            zbkb: true,
            zbkx: true,
            zfh: true,
            zicond: true,
            zcb: true,
        }
    }

    /// Parse an ISA string (`rv64gc`, `rv32imac_zicsr_zba`, ...). `g` means `imafd` with
    /// Zicsr and Zifencei (which emu always has). S and U modes are always present.
    pub fn parse(s: &str) -> Result<IsaConfig, IsaError> {
        let lower = s.to_ascii_lowercase();
        let (xlen, rest) = if let Some(r) = lower.strip_prefix("rv64") {
            (Xlen::X64, r)
        } else if let Some(r) = lower.strip_prefix("rv32") {
            (Xlen::X32, r)
        } else {
            return Err(IsaError::Base(s.to_string()));
        };
        let mut c = IsaConfig {
            xlen,
            m: false,
            a: false,
            f: false,
            d: false,
            c: false,
            s: true,
            u: true,
            zba: false,
            zbb: false,
            zbc: false,
            zbs: false,
            zbkb: false,
            zbkx: false,
            zfh: false,
            zicond: false,
            zcb: false,
        };
        let mut parts = rest.split('_');
        let letters = parts.next().unwrap_or("");
        for ch in letters.chars() {
            match ch {
                'i' => {}
                'g' => {
                    c.m = true;
                    c.a = true;
                    c.f = true;
                    c.d = true;
                }
                'm' => c.m = true,
                'a' => c.a = true,
                'f' => c.f = true,
                'd' => c.d = true,
                'c' => c.c = true,
                's' | 'u' => {}
                'b' => {
                    c.zba = true;
                    c.zbb = true;
                    c.zbs = true;
                }
                other => return Err(IsaError::Letter(other)),
            }
        }
        for z in parts.filter(|p| !p.is_empty()) {
            match z {
                "zicsr" | "zifencei" | "zmmul" | "zihintpause" | "zicntr" => {}
                "zba" => c.zba = true,
                "zbb" => c.zbb = true,
                "zbc" => c.zbc = true,
                "zbs" => c.zbs = true,
                "zbkb" => c.zbkb = true,
                "zbkx" => c.zbkx = true,
                "zfh" => c.zfh = true,
                "zicond" => c.zicond = true,
                "zca" => c.c = true,
                "zcb" => c.zcb = true,
                other => return Err(IsaError::Multi(other.to_string())),
            }
        }
        if c.d && !c.f {
            return Err(IsaError::Requires("D", "F"));
        }
        if c.zfh && !c.f {
            return Err(IsaError::Requires("Zfh", "F"));
        }
        if c.zcb && !c.c {
            return Err(IsaError::Requires("Zcb", "C"));
        }
        Ok(c)
    }

    /// The `misa` value (MXL and the extension letters).
    pub fn misa(&self) -> u64 {
        let mut v = 0u64;
        for (on, letter) in [
            (true, b'I'),
            (self.m, b'M'),
            (self.a, b'A'),
            (self.f, b'F'),
            (self.d, b'D'),
            (self.c, b'C'),
            (self.s, b'S'),
            (self.u, b'U'),
            (self.zba && self.zbb && self.zbs, b'B'),
        ] {
            if on {
                v |= 1 << (letter - b'A');
            }
        }
        match self.xlen {
            Xlen::X32 => v | 1 << 30,
            Xlen::X64 => v | 2 << 62,
        }
    }

    /// Whether instructions of `ext` may execute (`c_parcel`: the instruction was compressed).
    pub fn has(&self, ext: Ext) -> bool {
        match ext {
            Ext::I | Ext::Zicsr | Ext::Zifencei | Ext::Priv => true,
            Ext::M => self.m,
            Ext::A => self.a,
            Ext::F => self.f,
            Ext::D => self.d,
            Ext::Zfh => self.zfh,
            Ext::Zba => self.zba,
            Ext::Zbb => self.zbb,
            Ext::Zbc => self.zbc,
            Ext::Zbs => self.zbs,
            Ext::Zbkb => self.zbkb,
            Ext::Zbkx => self.zbkx,
            Ext::Zicond => self.zicond,
        }
    }

    /// Whether decoded instruction `i` may execute: its extension is present, and for
    /// operations that several extensions share (rev8, rol/ror, andn/orn/xnor, zext.h in
    /// Zbb and Zbkb), any of them is.
    pub fn allows(&self, i: &emu_isa::Inst) -> bool {
        use emu_isa::Op::*;
        let shared_bk = matches!(
            i.op,
            Rol | Ror | Rori | Rolw | Rorw | Roriw | Andn | Orn | Xnor | Rev8
        );
        if shared_bk && (self.zbb || self.zbkb) {
            return true;
        }
        if matches!(i.op, Clmul | Clmulh) && self.zbc {
            return true;
        }
        if i.len == 2 && !self.c {
            return false;
        }
        self.has(i.ext())
    }
}
