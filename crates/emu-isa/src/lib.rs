//! # emu-isa: the RISC-V instruction set as data
//!
//! Owns decoding (32-bit words and 16-bit compressed parcels), encoding (for tests and program
//! generators) and disassembly in GNU objdump's syntax, for RV32 and RV64 with I, M, A, F, D,
//! C, Zicsr, Zifencei, Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx, Zfh, Zicond and Zcb.
//!
//! Layer map:
//! - [`inst`]: the decoded instruction ([`Inst`], [`Op`], [`Fmt`], [`Xlen`]);
//! - [`table`]: one row per 32-bit encoding; decode, encode and disassembly read it;
//! - [`mod@decode`] / [`compressed`]: words and parcels to [`Inst`] (never panics: anything
//!   unknown is [`Op::Illegal`]);
//! - [`mod@encode`]: [`Inst`] to words;
//! - [`mod@disasm`] and [`names`]: text.
//!
//! This crate is pure: no I/O, no `unsafe`, no dependencies. It knows nothing about harts,
//! CSR semantics or memory; whether an extension is enabled is the hart's business.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod compressed;
pub mod decode;
pub mod disasm;
pub mod encode;
pub mod inst;
pub mod names;
pub mod table;

pub use decode::{decode, decode32};
pub use disasm::{disasm, disasm_bits, disasm_compressed};
pub use encode::{EncodeError, encode32};
pub use inst::{Ext, Fmt, Inst, IntAccess, Op, OpClass, Xlen};
