//! ELF loading with the `object` crate: checks that the file is a RISC-V executable, copies
//! its PT_LOAD segments (by physical address, as QEMU's loader does) and finds the HTIF
//! symbols.

use object::elf::{EM_RISCV, PT_LOAD};
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol};

/// One PT_LOAD segment. The bytes past the file part (`mem_size - data.len()`) are zero; they
/// are not materialised, so a header claiming a huge size costs nothing before the RAM check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Physical load address.
    pub addr: u64,
    /// Bytes from the file.
    pub data: Vec<u8>,
    /// Size in memory (at least `data.len()`).
    pub mem_size: u64,
}

/// What the ELF says about the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedElf {
    /// Entry point.
    pub entry: u64,
    /// 32 for ELFCLASS32, 64 for ELFCLASS64.
    pub class_bits: u32,
    /// Loadable segments.
    pub segments: Vec<Segment>,
    /// Address of the `tohost` symbol, if any.
    pub tohost: Option<u64>,
    /// Address of the `fromhost` symbol, if any.
    pub fromhost: Option<u64>,
    /// Named symbols and their addresses (for debuggers and benchmarks).
    pub symbols: Vec<(String, u64)>,
}

/// Why an ELF could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// Not an ELF file at all.
    #[error("not an ELF file")]
    NotElf,
    /// An ELF for another architecture.
    #[error("not a RISC-V ELF (e_machine {0})")]
    NotRiscv(u16),
    /// Structurally broken.
    #[error("malformed ELF: {0}")]
    Malformed(String),
    /// A segment does not fit in RAM.
    #[error("segment at {addr:#x}..{end:#x} lies outside RAM {ram_lo:#x}..{ram_hi:#x}")]
    OutsideRam {
        /// Segment start.
        addr: u64,
        /// Segment end.
        end: u64,
        /// RAM start.
        ram_lo: u64,
        /// RAM end.
        ram_hi: u64,
    },
}

fn parse<E: FileHeader<Endian = Endianness>>(
    data: &[u8],
    class_bits: u32,
) -> Result<LoadedElf, ElfError> {
    let file = ElfFile::<E>::parse(data).map_err(|e| ElfError::Malformed(e.to_string()))?;
    let endian = file.endian();
    let hdr = file.elf_header();
    let machine = hdr.e_machine(endian);
    if machine != EM_RISCV {
        return Err(ElfError::NotRiscv(machine.0));
    }
    let mut segments = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let memsz: u64 = ph.p_memsz(endian).into();
        if memsz == 0 {
            continue;
        }
        let bytes = ph
            .data(endian, data)
            .map_err(|_| ElfError::Malformed("segment data out of file".into()))?;
        if bytes.len() as u64 > memsz {
            return Err(ElfError::Malformed("segment sizes are inconsistent".into()));
        }
        segments.push(Segment {
            addr: ph.p_paddr(endian).into(),
            data: bytes.to_vec(),
            mem_size: memsz,
        });
    }
    let sym = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address())
    };
    Ok(LoadedElf {
        entry: hdr.e_entry(endian).into(),
        class_bits,
        segments,
        tohost: sym("tohost"),
        fromhost: sym("fromhost"),
        symbols: file
            .symbols()
            .filter_map(|s| Some((s.name().ok()?.to_string(), s.address())))
            .filter(|(n, _)| !n.is_empty())
            .collect(),
    })
}

/// Parse an ELF image.
pub fn parse_elf(data: &[u8]) -> Result<LoadedElf, ElfError> {
    if data.len() < 16 || &data[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    match data[4] {
        1 => parse::<object::elf::FileHeader32<Endianness>>(data, 32),
        2 => parse::<object::elf::FileHeader64<Endianness>>(data, 64),
        c => Err(ElfError::Malformed(format!("unknown ELF class {c}"))),
    }
}

impl LoadedElf {
    /// The address of symbol `name`.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, a)| a)
    }

    /// Check that every segment lies within RAM `[lo, hi)`.
    pub fn check_fits(&self, lo: u64, hi: u64) -> Result<(), ElfError> {
        for seg in &self.segments {
            let end = seg.addr.saturating_add(seg.mem_size);
            if seg.addr < lo || end > hi {
                return Err(ElfError::OutsideRam {
                    addr: seg.addr,
                    end,
                    ram_lo: lo,
                    ram_hi: hi,
                });
            }
        }
        Ok(())
    }
}
