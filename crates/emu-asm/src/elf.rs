//! A minimal ELF executable writer: one loadable RWX segment, a symbol table (for `tohost`
//! and friends) and section headers so objdump and QEMU's loader both accept the file.

use emu_isa::Xlen;

/// A symbol to put in the ELF's symbol table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Name.
    pub name: String,
    /// Address.
    pub addr: u64,
}

fn put(buf: &mut Vec<u8>, v: u64, n: usize) {
    buf.extend_from_slice(&v.to_le_bytes()[..n]);
}

/// An ELF executable for `xlen` whose single segment holds `code` at `base`, entered at
/// `entry`, with the given symbols.
pub fn write_elf(xlen: Xlen, base: u64, code: &[u8], entry: u64, symbols: &[Symbol]) -> Vec<u8> {
    let is64 = xlen == Xlen::X64;
    let w = if is64 { 8 } else { 4 };
    let ehsize: usize = if is64 { 64 } else { 52 };
    let phentsize = if is64 { 56 } else { 32 };
    let shentsize = if is64 { 64 } else { 40 };
    let symsize = if is64 { 24 } else { 16 };

    // Layout: header, program header, code (aligned 16), strtab, symtab, shstrtab, section headers.
    let code_off = (ehsize + phentsize).next_multiple_of(16);
    let mut strtab = vec![0u8];
    let mut name_offs = Vec::new();
    for s in symbols {
        name_offs.push(strtab.len());
        strtab.extend_from_slice(s.name.as_bytes());
        strtab.push(0);
    }
    let shstr: &[u8] = b"\0.text\0.strtab\0.symtab\0.shstrtab\0";
    let strtab_off = code_off + code.len();
    let symtab_off = (strtab_off + strtab.len()).next_multiple_of(8);
    let nsyms = symbols.len() + 1;
    let shstr_off = symtab_off + nsyms * symsize;
    let sh_off = (shstr_off + shstr.len()).next_multiple_of(8);

    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF");
    f.push(if is64 { 2 } else { 1 });
    f.extend_from_slice(&[1, 1, 0]);
    f.resize(16, 0);
    put(&mut f, 2, 2); // ET_EXEC
    put(&mut f, 243, 2); // EM_RISCV
    put(&mut f, 1, 4);
    put(&mut f, entry, w);
    put(&mut f, ehsize as u64, w); // phoff
    put(&mut f, sh_off as u64, w);
    put(&mut f, 0x5, 4); // flags: RVC | double-float ABI
    put(&mut f, ehsize as u64, 2);
    put(&mut f, phentsize as u64, 2);
    put(&mut f, 1, 2);
    put(&mut f, shentsize as u64, 2);
    put(&mut f, 5, 2); // sections: null, .text, .strtab, .symtab, .shstrtab
    put(&mut f, 4, 2); // shstrndx
    // Program header.
    put(&mut f, 1, 4); // PT_LOAD
    if is64 {
        put(&mut f, 7, 4); // RWX
        put(&mut f, code_off as u64, 8);
        put(&mut f, base, 8);
        put(&mut f, base, 8);
        put(&mut f, code.len() as u64, 8);
        put(&mut f, code.len() as u64, 8);
        put(&mut f, 16, 8);
    } else {
        put(&mut f, code_off as u64, 4);
        put(&mut f, base, 4);
        put(&mut f, base, 4);
        put(&mut f, code.len() as u64, 4);
        put(&mut f, code.len() as u64, 4);
        put(&mut f, 7, 4);
        put(&mut f, 16, 4);
    }
    f.resize(code_off, 0);
    f.extend_from_slice(code);
    f.extend_from_slice(&strtab);
    f.resize(symtab_off, 0);
    f.resize(symtab_off + symsize, 0); // null symbol
    for (s, off) in symbols.iter().zip(&name_offs) {
        put(&mut f, *off as u64, 4);
        if is64 {
            f.push(0x10); // STB_GLOBAL, STT_NOTYPE
            f.push(0);
            put(&mut f, 1, 2); // .text
            put(&mut f, s.addr, 8);
            put(&mut f, 0, 8);
        } else {
            put(&mut f, s.addr, 4);
            put(&mut f, 0, 4);
            f.push(0x10);
            f.push(0);
            put(&mut f, 1, 2);
        }
    }
    f.extend_from_slice(shstr);
    f.resize(sh_off, 0);
    let section = |f: &mut Vec<u8>,
                   name: u64,
                   ty: u64,
                   flags: u64,
                   addr: u64,
                   off: u64,
                   size: u64,
                   link: u64,
                   info: u64,
                   align: u64,
                   entsize: u64| {
        put(f, name, 4);
        put(f, ty, 4);
        put(f, flags, w);
        put(f, addr, w);
        put(f, off, w);
        put(f, size, w);
        put(f, link, 4);
        put(f, info, 4);
        put(f, align, w);
        put(f, entsize, w);
    };
    f.resize(f.len() + shentsize, 0); // null section
    section(
        &mut f,
        1,
        1,
        0x7,
        base,
        code_off as u64,
        code.len() as u64,
        0,
        0,
        4,
        0,
    );
    section(
        &mut f,
        7,
        3,
        0,
        0,
        strtab_off as u64,
        strtab.len() as u64,
        0,
        0,
        1,
        0,
    );
    section(
        &mut f,
        15,
        2,
        0,
        0,
        symtab_off as u64,
        (nsyms * symsize) as u64,
        2,
        1,
        8,
        symsize as u64,
    );
    section(
        &mut f,
        23,
        3,
        0,
        0,
        shstr_off as u64,
        shstr.len() as u64,
        0,
        0,
        1,
        0,
    );
    f
}
