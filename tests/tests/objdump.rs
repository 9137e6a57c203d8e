//! Disassembly and decoding compared with GNU objdump (Debian binutils-riscv64-unknown-elf,
//! 2.40): a corpus of every table row with random operands on RV32 and RV64, plus every 16-bit
//! parcel. Both tools must agree on which words are instructions and on their text, up to a
//! short, documented list of spellings that binutils 2.40 prints differently.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use emu_isa::names::csr_name;
use emu_isa::table::rows;
use emu_isa::{Inst, Op, Xlen, decode, decode32, disasm_bits};
use emu_tests::{Rng, tool};

const ARCH_EXT: &str = "_zba_zbb_zbc_zbs_zbkb_zbkx_zfh";

/// Run objdump over `words` (each one `.insn`), returning one text per input word.
fn objdump(words: &[(u32, u8)], xlen: Xlen, tag: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!(
        "emu-objdump-{}-{}-{tag}",
        std::process::id(),
        xlen.bits()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let base = if xlen == Xlen::X64 {
        "rv64gc"
    } else {
        "rv32gc"
    };
    let mut src = format!(".attribute arch, \"{base}{ARCH_EXT}\"\n");
    for (w, len) in words {
        if *len == 2 {
            let _ = writeln!(src, ".insn 0x{:04x}", w & 0xffff);
        } else {
            let _ = writeln!(src, ".insn 0x{w:08x}");
        }
    }
    let s = dir.join("c.s");
    let o = dir.join("c.o");
    std::fs::write(&s, src).expect("write source");
    let st = Command::new(tool("riscv64-unknown-elf-as"))
        .arg(format!("-march={base}"))
        .arg("-o")
        .arg(&o)
        .arg(&s)
        .status()
        .expect("run as");
    assert!(
        st.success(),
        "assembling the corpus failed (see the assembler's messages above)"
    );
    let out = Command::new(tool("riscv64-unknown-elf-objdump"))
        .arg("-d")
        .arg(&o)
        .output()
        .expect("run objdump");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(' ') && l.contains(":\t"))
        .map(|l| l.splitn(3, '\t').nth(2).unwrap_or("").trim().to_string())
        .collect();
    assert_eq!(
        lines.len(),
        words.len(),
        "objdump printed one line per instruction"
    );
    lines
}

fn is_num(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    t.parse::<i64>().is_ok()
        || t.strip_prefix("0x")
            .is_some_and(|h| u64::from_str_radix(h, 16).is_ok())
}

fn csr_number(t: &str) -> Option<u16> {
    if let Some(h) = t.strip_prefix("0x") {
        return u16::from_str_radix(h, 16).ok();
    }
    (0..4096u16).find(|&c| csr_name(c).is_some_and(|n| n == t))
}

/// Bring both texts to one spelling: no comments or symbols, binutils 2.40's register-form
/// names of immediate instructions turned into the `i` forms, CSR names as numbers.
fn normalise(text: &str) -> String {
    let text = text.split(" #").next().unwrap_or("");
    let text = text.split(" <").next().unwrap_or("").trim();
    let (m, ops) = text.split_once('\t').unwrap_or((text, ""));
    let mut toks: Vec<String> = ops
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| t.to_string())
        .collect();
    let last_num = toks.last().is_some_and(|t| is_num(t));
    let mut m = m.to_string();
    // binutils 2.40 prints the register-form name for immediate forms.
    const REG_FORMS: &[(&str, &str)] = &[
        ("add", "addi"),
        ("and", "andi"),
        ("or", "ori"),
        ("xor", "xori"),
        ("sll", "slli"),
        ("srl", "srli"),
        ("sra", "srai"),
        ("addw", "addiw"),
        ("sllw", "slliw"),
        ("srlw", "srliw"),
        ("sraw", "sraiw"),
        ("ror", "rori"),
        ("rorw", "roriw"),
        ("bclr", "bclri"),
        ("bset", "bseti"),
        ("binv", "binvi"),
        ("bext", "bexti"),
        ("csrrw", "csrrwi"),
        ("csrrs", "csrrsi"),
        ("csrrc", "csrrci"),
        ("csrw", "csrwi"),
        ("csrs", "csrsi"),
        ("csrc", "csrci"),
        ("fsflags", "fsflagsi"),
        ("fsrm", "fsrmi"),
    ];
    let min_toks = if m == "fsflags" || m == "fsrm" { 1 } else { 2 };
    if last_num
        && toks.len() >= min_toks
        && let Some((_, imm)) = REG_FORMS.iter().find(|(r, _)| *r == m)
    {
        m = imm.to_string();
    }
    if m.starts_with("csr") {
        for t in toks.iter_mut() {
            if let Some(n) = csr_number(t).filter(|_| !t.starts_with("0x") || t.len() > 3)
                && (csr_name(n).is_some() || t.starts_with("0x"))
            {
                *t = format!("csr{n}");
            }
        }
    }
    if toks.is_empty() {
        m
    } else {
        format!("{m} {}", toks.join(","))
    }
}

/// Instructions binutils 2.40 does not know (newer than it) or prints only for some rm values.
fn newer_than_binutils(i: &Inst) -> bool {
    use Op::*;
    matches!(i.op, CzeroEqz | CzeroNez) || (matches!(i.op, FcvtFW | FcvtFWu | FcvtFF) && i.rm != 0)
}

fn corpus32(xlen: Xlen, rng: &mut Rng) -> Vec<(u32, u8)> {
    let mut v = Vec::new();
    for row in rows().filter(|r| r.width.allows(xlen)) {
        for _ in 0..48 {
            let w = (rng.next_u64() as u32 & !row.mask) | row.bits;
            v.push((w, 4));
        }
    }
    let words_before = v.len();
    // Random words too: mostly illegal, which must agree as well.
    // (Words whose low bits announce a 48-bit or longer instruction are left out: `.insn`
    // cannot express them as one 32-bit word.)
    while v.len() < words_before + 4000 {
        let w = rng.next_u64() as u32 | 3;
        if w & 0x1f != 0x1f {
            v.push((w, 4));
        }
    }
    v
}

fn compare(xlen: Xlen, words: &[(u32, u8)], tag: &str) {
    let theirs = objdump(words, xlen, tag);
    let mut agree = 0;
    let mut mismatches: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pc = 0u64;
    for ((w, len), t) in words.iter().zip(&theirs) {
        let i = if *len == 2 {
            decode(*w as u16, 0, xlen)
        } else {
            decode32(*w, xlen)
        };
        let zcb = *len == 2 && emu_isa::compressed::is_zcb(*w as u16);
        let they_decode = !(t.starts_with('.') || t.starts_with("unimp") || t.is_empty());
        let ours = if i.is_illegal() {
            String::new()
        } else {
            normalise(&disasm_bits(*w, *len, pc, xlen))
        };
        pc += *len as u64;
        let theirs_n = if they_decode {
            normalise(t)
        } else {
            String::new()
        };
        if ours == theirs_n {
            agree += 1;
            continue;
        }
        if !they_decode && (zcb || newer_than_binutils(&i)) {
            agree += 1; // known: binutils 2.40 predates Zicond and Zcb
            continue;
        }
        let rv32_shamt5 = xlen == Xlen::X32
            && *len == 2
            && matches!(*w & 0xe003, 0x0002 | 0x8001)
            && *w >> 12 & 1 == 1;
        if rv32_shamt5 && i.is_illegal() && (*w & 0xe003 == 0x0002 || (*w >> 10) & 3 < 2) {
            agree += 1; // RV32C reserves shamt[5] = 1 for custom use; binutils 2.40 decodes it anyway
            continue;
        }
        let fence_reserved = *len == 4
            && match i.op {
                // rd, rs1 and (for fence) fm are reserved and ignored; binutils 2.40 only
                // decodes the canonical forms.
                Op::Fence => {
                    *w & 0x000f_8f80 != 0
                        || !matches!(*w >> 28, 0 | 8)
                        || (*w >> 28 == 8 && (*w >> 20) & 0xff != 0x33)
                }
                Op::FenceI => *w & 0xffff_8f80 != 0,
                _ => false,
            };
        // RV32 reserves shift amounts >= 32; binutils 2.40 decodes them anyway.
        let rv32_wide_shift = xlen == Xlen::X32
            && *len == 4
            && (*w & 0x7f) == 0x13
            && (*w >> 25) & 1 == 1
            && matches!((*w >> 12) & 7, 1 | 5);
        if (fence_reserved && !they_decode) || (rv32_wide_shift && i.is_illegal()) {
            agree += 1;
            continue;
        }
        if *len == 2 && *w as u16 == 0x6101 && i.is_illegal() {
            agree += 1; // c.addi16sp with nzimm = 0 is reserved; binutils 2.40 decodes it anyway
            continue;
        }
        let key = format!(
            "{} vs {}",
            ours.split(' ').next().unwrap_or(""),
            theirs_n.split(' ').next().unwrap_or("")
        );
        mismatches
            .entry(key)
            .or_default()
            .push(format!("{w:#010x}: emu `{ours}` objdump `{t}`"));
    }
    if !mismatches.is_empty() {
        let mut msg = format!("{xlen:?}: {agree} agree, mismatches:\n");
        for (k, v) in &mismatches {
            let _ = writeln!(
                msg,
                "  {k}: {} cases, e.g. {}",
                v.len(),
                v.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
            );
        }
        panic!("{msg}");
    }
    eprintln!("{xlen:?}: {agree} instructions agree with objdump");
}

#[test]
fn objdump_agrees_on_32bit_corpus() {
    for (xlen, seed) in [(Xlen::X64, 64), (Xlen::X32, 32)] {
        let mut rng = Rng::new(seed);
        let words = corpus32(xlen, &mut rng);
        compare(xlen, &words, "w");
    }
}

#[test]
fn objdump_agrees_on_every_compressed_parcel() {
    for xlen in [Xlen::X64, Xlen::X32] {
        let words: Vec<(u32, u8)> = (0..=u16::MAX)
            .filter(|h| h & 3 != 3)
            .map(|h| (h as u32, 2))
            .collect();
        compare(xlen, &words, "c");
    }
}
