//! Disassembly in GNU objdump's syntax (ABI register names, objdump's aliases such as `li`,
//! `mv`, `ret`, `csrr`, branch targets as absolute hex addresses).

use std::fmt::Write;

use crate::inst::{Fmt, Inst, Op, Xlen};
use crate::names::{FREG, RM, XREG, csr_name};
use crate::table::{Form, rows};

fn x(r: u8) -> &'static str {
    XREG[r as usize & 31]
}
fn f(r: u8) -> &'static str {
    FREG[r as usize & 31]
}

fn csr(c: i64) -> String {
    match csr_name(c as u16) {
        Some(n) => n.into_owned(),
        None => format!("{c:#x}"),
    }
}

fn target(pc: u64, imm: i64, xlen: Xlen) -> String {
    let t = pc.wrapping_add(imm as u64);
    let t = if xlen == Xlen::X32 {
        t & 0xffff_ffff
    } else {
        t
    };
    format!("{t:x}")
}

fn fence_set(bits: i64) -> String {
    let mut s = String::new();
    for (bit, c) in [(8, 'i'), (4, 'o'), (2, 'r'), (1, 'w')] {
        if bits & bit != 0 {
            s.push(c);
        }
    }
    if s.is_empty() { "unknown".into() } else { s }
}

/// Name of an F-extension operation with its format suffixes.
fn fp_name(i: &Inst) -> String {
    let s = i.fmt.suffix();
    match i.op {
        Op::Fload => format!("fl{}", ls_width(i.fmt)),
        Op::Fstore => format!("fs{}", ls_width(i.fmt)),
        Op::FcvtWF | Op::FcvtWuF | Op::FcvtLF | Op::FcvtLuF => format!("{}.{s}", i.op.name()),
        Op::FcvtFW => format!("fcvt.{s}.w"),
        Op::FcvtFWu => format!("fcvt.{s}.wu"),
        Op::FcvtFL => format!("fcvt.{s}.l"),
        Op::FcvtFLu => format!("fcvt.{s}.lu"),
        Op::FcvtFF => {
            let src = Fmt::from_code(i.rs2 as u32).unwrap_or(Fmt::S);
            format!("fcvt.{s}.{}", src.suffix())
        }
        Op::FmvXF => format!("fmv.x.{}", if i.fmt == Fmt::S { "w" } else { s }),
        Op::FmvFX => format!("fmv.{}.x", if i.fmt == Fmt::S { "w" } else { s }),
        _ => format!("{}.{s}", i.op.name()),
    }
}

fn ls_width(fmt: Fmt) -> &'static str {
    match fmt {
        Fmt::H => "h",
        Fmt::D => "d",
        _ => "w",
    }
}

/// Conversions that are always exact: their rounding mode is printed only when it is neither
/// the assembler's default (rne) nor dyn.
fn exact_conversion(i: &Inst) -> bool {
    match i.op {
        Op::FcvtFW | Op::FcvtFWu => i.fmt == Fmt::D,
        Op::FcvtFF => {
            let src = Fmt::from_code(i.rs2 as u32).unwrap_or(Fmt::S);
            matches!(
                (i.fmt, src),
                (Fmt::D, Fmt::S) | (Fmt::D, Fmt::H) | (Fmt::S, Fmt::H)
            )
        }
        _ => false,
    }
}

fn amo_suffix(rm: u8) -> &'static str {
    match rm & 3 {
        0 => "",
        1 => ".rl",
        2 => ".aq",
        _ => ".aqrl",
    }
}

/// Disassemble `i` located at `pc`. The result is `mnemonic` or `mnemonic\toperands`.
pub fn disasm(i: &Inst, pc: u64, xlen: Xlen) -> String {
    use Op::*;
    let (m, ops): (String, String) = match (i.op, i.rd, i.rs1, i.rs2) {
        (Illegal, ..) => ("unimp".into(), String::new()),
        // Aliases first, in objdump's order of preference.
        (Addi, 0, 0, _) if i.imm == 0 => ("nop".into(), String::new()),
        (Addi, rd, 0, _) => ("li".into(), format!("{},{}", x(rd), i.imm)),
        (Addi, rd, rs, _) if i.imm == 0 => ("mv".into(), format!("{},{}", x(rd), x(rs))),
        (Addiw, rd, rs, _) if i.imm == 0 => ("sext.w".into(), format!("{},{}", x(rd), x(rs))),
        (Andi, rd, rs, _) if i.imm == 255 => ("zext.b".into(), format!("{},{}", x(rd), x(rs))),
        (Xori, rd, rs, _) if i.imm == -1 => ("not".into(), format!("{},{}", x(rd), x(rs))),
        (Sltiu, rd, rs, _) if i.imm == 1 => ("seqz".into(), format!("{},{}", x(rd), x(rs))),
        (Sub, rd, 0, rs) => ("neg".into(), format!("{},{}", x(rd), x(rs))),
        (Subw, rd, 0, rs) => ("negw".into(), format!("{},{}", x(rd), x(rs))),
        (Sltu, rd, 0, rs) => ("snez".into(), format!("{},{}", x(rd), x(rs))),
        (Slt, rd, rs, 0) => ("sltz".into(), format!("{},{}", x(rd), x(rs))),
        (Slt, rd, 0, rs) => ("sgtz".into(), format!("{},{}", x(rd), x(rs))),
        (AddUw, rd, rs, 0) => ("zext.w".into(), format!("{},{}", x(rd), x(rs))),
        (Beq, _, rs, 0) => (
            "beqz".into(),
            format!("{},{}", x(rs), target(pc, i.imm, xlen)),
        ),
        (Bne, _, rs, 0) => (
            "bnez".into(),
            format!("{},{}", x(rs), target(pc, i.imm, xlen)),
        ),
        (Bge, _, 0, rs) => (
            "blez".into(),
            format!("{},{}", x(rs), target(pc, i.imm, xlen)),
        ),
        (Bge, _, rs, 0) => (
            "bgez".into(),
            format!("{},{}", x(rs), target(pc, i.imm, xlen)),
        ),
        (Blt, _, rs, 0) => (
            "bltz".into(),
            format!("{},{}", x(rs), target(pc, i.imm, xlen)),
        ),
        (Blt, _, 0, rs) => (
            "bgtz".into(),
            format!("{},{}", x(rs), target(pc, i.imm, xlen)),
        ),
        (Jal, 0, ..) => ("j".into(), target(pc, i.imm, xlen)),
        (Jal, 1, ..) => ("jal".into(), target(pc, i.imm, xlen)),
        (Jalr, 0, 1, _) if i.imm == 0 => ("ret".into(), String::new()),
        (Jalr, 0, rs, _) if i.imm == 0 => ("jr".into(), x(rs).into()),
        (Jalr, 1, rs, _) if i.imm == 0 => ("jalr".into(), x(rs).into()),
        (Jalr, 1, rs, _) => ("jalr".into(), format!("{}({})", i.imm, x(rs))),
        (Jalr, 0, rs, _) => ("jr".into(), format!("{}({})", i.imm, x(rs))),
        (Jalr, rd, rs, _) if i.imm == 0 => ("jalr".into(), format!("{},{}", x(rd), x(rs))),
        (Csrrs, rd, 0, _) => csr_read(rd, i.imm, xlen),
        (Csrrw, 0, rs, _) => csr_write(rs, i.imm),
        (Csrrw, rd, rs, _) if matches!(i.imm, 1..=3) => {
            let n = ["", "fsflags", "fsrm", "fscsr"][i.imm as usize];
            (n.into(), format!("{},{}", x(rd), x(rs)))
        }
        (Csrrs, 0, rs, _) => ("csrs".into(), format!("{},{}", csr(i.imm), x(rs))),
        (Csrrc, 0, rs, _) => ("csrc".into(), format!("{},{}", csr(i.imm), x(rs))),
        (Csrrwi, 0, uimm, _) => match i.imm {
            1 => ("fsflagsi".into(), uimm.to_string()),
            2 => ("fsrmi".into(), uimm.to_string()),
            _ => ("csrwi".into(), format!("{},{}", csr(i.imm), uimm)),
        },
        (Csrrsi, 0, uimm, _) => ("csrsi".into(), format!("{},{}", csr(i.imm), uimm)),
        (Csrrci, 0, uimm, _) => ("csrci".into(), format!("{},{}", csr(i.imm), uimm)),
        (Fence, ..) => fence(i.imm),
        (Fsgnj, rd, a, b) if a == b => (
            format!("fmv.{}", i.fmt.suffix()),
            format!("{},{}", f(rd), f(a)),
        ),
        (Fsgnjn, rd, a, b) if a == b => (
            format!("fneg.{}", i.fmt.suffix()),
            format!("{},{}", f(rd), f(a)),
        ),
        (Fsgnjx, rd, a, b) if a == b => (
            format!("fabs.{}", i.fmt.suffix()),
            format!("{},{}", f(rd), f(a)),
        ),
        _ => generic(i, pc, xlen),
    };
    if ops.is_empty() {
        m
    } else {
        format!("{m}\t{ops}")
    }
}

fn csr_read(rd: u8, c: i64, xlen: Xlen) -> (String, String) {
    let counter = match c {
        0xc00 => Some("rdcycle"),
        0xc01 => Some("rdtime"),
        0xc02 => Some("rdinstret"),
        0xc80 if xlen == Xlen::X32 => Some("rdcycleh"),
        0xc81 if xlen == Xlen::X32 => Some("rdtimeh"),
        0xc82 if xlen == Xlen::X32 => Some("rdinstreth"),
        0x001 => Some("frflags"),
        0x002 => Some("frrm"),
        0x003 => Some("frcsr"),
        _ => None,
    };
    match counter {
        Some(n) => (n.into(), x(rd).into()),
        None => ("csrr".into(), format!("{},{}", x(rd), csr(c))),
    }
}

fn csr_write(rs: u8, c: i64) -> (String, String) {
    match c {
        1 => ("fsflags".into(), x(rs).into()),
        2 => ("fsrm".into(), x(rs).into()),
        3 => ("fscsr".into(), x(rs).into()),
        _ => ("csrw".into(), format!("{},{}", csr(c), x(rs))),
    }
}

fn fence(imm: i64) -> (String, String) {
    let fm = imm >> 8 & 0xf;
    let pred = imm >> 4 & 0xf;
    let succ = imm & 0xf;
    match (fm, pred, succ) {
        (8, 3, 3) => ("fence.tso".into(), String::new()),
        (0, 1, 0) => ("pause".into(), String::new()),
        (0, 15, 15) => ("fence".into(), String::new()),
        _ => (
            "fence".into(),
            format!("{},{}", fence_set(pred), fence_set(succ)),
        ),
    }
}

fn generic(i: &Inst, pc: u64, xlen: Xlen) -> (String, String) {
    let Some(row) = rows().find(|r| r.op == i.op && r.fmt == i.fmt && r.width.allows(xlen)) else {
        return ("unimp".into(), String::new());
    };
    let fpop = row.fmt != Fmt::None;
    let name = if fpop {
        fp_name(i)
    } else if matches!(i.op, Op::LrW | Op::LrD | Op::ScW | Op::ScD)
        || i.op.name().starts_with("amo")
    {
        format!("{}{}", i.op.name(), amo_suffix(i.rm))
    } else {
        i.op.name().to_string()
    };
    // Register files of rd and rs1 for the FP forms.
    let (rd_f, rs1_f) = match i.op {
        Op::FcvtWF
        | Op::FcvtWuF
        | Op::FcvtLF
        | Op::FcvtLuF
        | Op::FmvXF
        | Op::Fclass
        | Op::Feq
        | Op::Flt
        | Op::Fle => (false, true),
        Op::FcvtFW | Op::FcvtFWu | Op::FcvtFL | Op::FcvtFLu | Op::FmvFX => (true, false),
        _ => (fpop, fpop),
    };
    let rd = if rd_f { f(i.rd) } else { x(i.rd) };
    let rs1 = if rs1_f { f(i.rs1) } else { x(i.rs1) };
    let rs2 = if fpop { f(i.rs2) } else { x(i.rs2) };
    let rm = |s: &mut String| {
        if i.rm != 7 && !(exact_conversion(i) && i.rm == 0) {
            let _ = write!(s, ",{}", RM[i.rm as usize & 7]);
        }
    };
    let mut s = String::new();
    match row.form {
        Form::R | Form::FR => {
            let _ = write!(s, "{rd},{rs1},{rs2}");
        }
        Form::I => {
            let _ = write!(s, "{rd},{rs1},{}", i.imm);
        }
        Form::Load => {
            let _ = write!(s, "{rd},{}({})", i.imm, x(i.rs1));
        }
        Form::Store => {
            let _ = write!(s, "{rs2},{}({})", i.imm, x(i.rs1));
        }
        Form::Branch => {
            let _ = write!(s, "{},{},{}", x(i.rs1), x(i.rs2), target(pc, i.imm, xlen));
        }
        Form::U => {
            let _ = write!(s, "{rd},{:#x}", (i.imm >> 12) & 0xfffff);
        }
        Form::Jal => {
            let _ = write!(s, "{rd},{}", target(pc, i.imm, xlen));
        }
        Form::Shift | Form::ShiftW => {
            let _ = write!(s, "{rd},{rs1},{:#x}", i.imm);
        }
        Form::Unary | Form::FU => {
            let _ = write!(s, "{rd},{rs1}");
        }
        Form::Csr => {
            let _ = write!(s, "{rd},{},{rs1}", csr(i.imm));
        }
        Form::CsrI => {
            let _ = write!(s, "{rd},{},{}", csr(i.imm), i.rs1);
        }
        Form::Amo => {
            let _ = write!(s, "{rd},{rs2},({rs1})");
        }
        Form::Lr => {
            let _ = write!(s, "{rd},({rs1})");
        }
        Form::Fence | Form::None => {}
        Form::SfenceVma => {
            if i.rs2 != 0 {
                let _ = write!(s, "{},{}", x(i.rs1), x(i.rs2));
            } else if i.rs1 != 0 {
                s.push_str(x(i.rs1));
            }
        }
        Form::R4 => {
            let _ = write!(s, "{rd},{rs1},{rs2},{}", f(i.rs3));
            rm(&mut s);
        }
        Form::FRrm => {
            let _ = write!(s, "{rd},{rs1},{rs2}");
            rm(&mut s);
        }
        Form::FUrm | Form::FcvtFF => {
            let _ = write!(s, "{rd},{rs1}");
            rm(&mut s);
        }
    }
    (name, s)
}

/// Disassemble a 16-bit parcel at `pc`. Like [`disasm`] of its expansion, except for the HINT
/// and alias encodings objdump spells with their compressed names (`c.nop 1`, `c.li zero,1`,
/// `c.slli64 a0`, ...) or differently from the expansion (`mv` for `c.mv`).
pub fn disasm_compressed(h: u16, pc: u64, xlen: Xlen) -> String {
    let i = crate::compressed::decode16(h, xlen);
    if i.is_illegal() {
        return disasm(&i, pc, xlen);
    }
    let q = h & 3;
    let f3 = h >> 13;
    let rd = i.rd;
    let hint_name = match (q, f3) {
        (1, 0) if rd == 0 => Some(if i.imm == 0 {
            "nop".to_string()
        } else {
            format!("c.nop\t{}", i.imm)
        }),
        (1, 0) if i.imm == 0 => Some(format!("addi\t{},{},0", x(rd), x(rd))),
        (1, 2) if rd == 0 => Some(format!("c.li\tzero,{}", i.imm)),
        (1, 3) if rd == 0 => Some(format!("c.lui\tzero,{:#x}", (i.imm >> 12) & 0xfffff)),
        (1, 4) if (h >> 10) & 3 < 2 && i.imm == 0 => Some(format!(
            "{}\t{}",
            if (h >> 10) & 3 == 0 {
                "c.srli64"
            } else {
                "c.srai64"
            },
            x(rd)
        )),
        (2, 0) if i.imm == 0 => Some(format!("c.slli64\t{}", x(rd))),
        (2, 0) if rd == 0 => Some(format!("c.slli\tzero,{:#x}", i.imm)),
        (2, 4) if (h >> 12) & 1 == 0 && i.rs2 != 0 => Some(if rd == 0 {
            format!("c.mv\tzero,{}", x(i.rs2))
        } else {
            format!("mv\t{},{}", x(rd), x(i.rs2))
        }),
        (2, 4) if rd == 0 && i.rs2 != 0 => Some(format!("c.add\tzero,{}", x(i.rs2))),
        _ => None,
    };
    hint_name.unwrap_or_else(|| disasm(&i, pc, xlen))
}

/// Disassemble raw instruction bits (`len` 2 or 4) at `pc`.
pub fn disasm_bits(raw: u32, len: u8, pc: u64, xlen: Xlen) -> String {
    if len == 2 {
        disasm_compressed(raw as u16, pc, xlen)
    } else {
        disasm(&crate::decode32(raw, xlen), pc, xlen)
    }
}
