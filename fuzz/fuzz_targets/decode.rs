//! Decoder, disassembler and encoder on arbitrary bytes: never panic; a legal instruction
//! re-encodes to a word that decodes to the same instruction.
#![no_main]

use emu_isa::{Xlen, decode, decode32, disasm_bits, encode32};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for chunk in data.chunks(4) {
        let mut b = [0u8; 4];
        b[..chunk.len()].copy_from_slice(chunk);
        let lo = u16::from_le_bytes([b[0], b[1]]);
        let hi = u16::from_le_bytes([b[2], b[3]]);
        for xlen in [Xlen::X32, Xlen::X64] {
            let i = decode(lo, hi, xlen);
            let raw = if i.len == 2 {
                lo as u32
            } else {
                lo as u32 | (hi as u32) << 16
            };
            let _ = disasm_bits(raw, i.len, 0x8000_0000, xlen);
            if !i.is_illegal() {
                let w = encode32(&i, xlen).expect("legal instructions encode");
                assert_eq!(decode32(w, xlen), emu_isa::Inst { len: 4, ..i });
            }
        }
    }
});
