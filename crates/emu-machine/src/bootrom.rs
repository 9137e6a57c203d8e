//! The boot ROM at 0x1000: like QEMU virt's reset vector, it puts the hart id in a0 and jumps
//! to the entry point stored after the code. Built with emu-isa's encoder.

use emu_isa::{Inst, Op, Xlen, encode32};

/// Offset of the 64-bit entry address inside the ROM.
const ENTRY_SLOT: i64 = 24;

/// ROM bytes that jump to `entry` (a0 = mhartid, a1 = 0).
pub fn boot_rom(entry: u64, xlen: Xlen) -> Vec<u8> {
    let t0 = 5;
    let code = [
        Inst {
            op: Op::Auipc,
            rd: t0,
            imm: 0,
            ..Inst::new(Op::Auipc)
        },
        Inst {
            op: if xlen == Xlen::X64 { Op::Ld } else { Op::Lw },
            rd: t0,
            rs1: t0,
            imm: ENTRY_SLOT,
            ..Inst::new(Op::Ld)
        },
        Inst {
            op: Op::Csrrs,
            rd: 10,
            rs1: 0,
            imm: 0xf14,
            ..Inst::new(Op::Csrrs)
        },
        Inst {
            op: Op::Addi,
            rd: 11,
            rs1: 0,
            imm: 0,
            ..Inst::new(Op::Addi)
        },
        Inst {
            op: Op::Jalr,
            rd: 0,
            rs1: t0,
            imm: 0,
            ..Inst::new(Op::Jalr)
        },
    ];
    let mut rom = Vec::new();
    for i in &code {
        // These fixed instructions always encode; a failure would be a bug in this table.
        let w = encode32(i, xlen).unwrap_or(0);
        rom.extend_from_slice(&w.to_le_bytes());
    }
    rom.resize(ENTRY_SLOT as usize, 0);
    rom.extend_from_slice(&entry.to_le_bytes());
    rom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rom_encodes_and_holds_entry() {
        let rom = boot_rom(0x8000_0000, Xlen::X64);
        assert_eq!(&rom[24..32], &0x8000_0000u64.to_le_bytes());
        let words: Vec<u32> = rom[..20]
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert!(
            words.iter().all(|&w| w != 0),
            "every ROM instruction encoded"
        );
        assert_eq!(words[0], 0x0000_0297, "auipc t0,0");
    }
}
