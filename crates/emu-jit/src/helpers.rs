//! Rust functions the translated code calls (`extern "C"`, raw pointers from generated code).
//!
//! One helper per unit of the hart that the translator does not open-code: memory accesses
//! that leave the inline RAM path (MMU, PMP, devices, stores into code), CSR accesses,
//! system instructions (traps, trap returns, fences, `wfi`), atomics, and floating point.
//! Each calls that unit of `emu_core` directly; none decodes-and-dispatches like the
//! interpreter. A pure-value helper covers the rare bit-manipulation operations (carry-less
//! multiply, crossbar permutations, ...), as QEMU does.
//!
//! The generated code passes the hart and the per-run environment it was given by the
//! dispatcher, which guarantees both outlive the call.

use emu_core::{Access, Bus, Exception, Hart};
use emu_isa::{Inst, Op, OpClass, Xlen, decode};

/// Helper return value: continue with the next instruction of the block.
pub const CONTINUE: u32 = 0;
/// Helper return value: leave the block (pc already set by the helper).
pub const STOP: u32 = 1;

/// What the dispatcher shares with the helpers for one run.
#[allow(missing_debug_implementations)] // holds a `&dyn Bus`; nothing useful to print
pub struct Env<'a> {
    /// The bus.
    pub bus: &'a dyn Bus,
    /// Which physical bytes hold translated code.
    pub code: &'a crate::codemap::CodeMap,
    /// Byte ranges written while they held code; the dispatcher invalidates them.
    pub dirty_pages: std::cell::RefCell<Vec<(u64, u64)>>,
    /// `fence.i` executed: the dispatcher flushes every block.
    pub flush_all: std::cell::Cell<bool>,
    /// Instructions the block may execute in this call (read by self-looping blocks before
    /// starting another iteration).
    pub limit: std::cell::Cell<u64>,
    /// The engine's software TLB (filled and flushed by helpers).
    pub tlb: &'a crate::tlb::Tlb,
    /// Guest RAM as the bus exposes it.
    pub ram: Option<emu_core::bus::RamWindow>,
}

/// CSRs whose writes change how addresses translate: sstatus, satp, mstatus, PMP.
fn translation_csr(csr: u16) -> bool {
    matches!(csr, 0x100 | 0x180 | 0x300 | 0x3a0..=0x3ef)
}

/// After a successful load or store on the slow path, cache its page in the TLB when the
/// whole page is RAM with the same permission (see [`crate::tlb`]).
fn fill_tlb(h: &Hart, env: &Env<'_>, op: Op, va: u64) {
    let Some(ram) = env.ram else { return };
    let write = matches!(op, Op::Sb | Op::Sh | Op::Sw | Op::Sd);
    let vpage = va & !0xfff;
    let access = if write { Access::Store } else { Access::Load };
    let Ok(pa) = h.translate(vpage, 1, access, env.bus) else {
        return;
    };
    let in_ram = pa >= ram.base && pa - ram.base + 0x1000 <= ram.size;
    if in_ram
        && h.pmp_allows(pa, 0x1000, access, h.data_priv())
        && !(write && env.code.hits(pa, pa + 0x1000))
    {
        let host = ram.host as u64 + (pa - ram.base);
        env.tlb.fill(vpage, host, write);
    }
}

/// The physical address a memory instruction touches (first byte), and whether it writes.
fn mem_target(h: &Hart, op: Op, rs1: u8, imm: i64, bus: &dyn Bus) -> Option<(u64, bool)> {
    use Op::*;
    let write = !matches!(op, Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Fload | LrW | LrD);
    let va = match op {
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Fload | Sb | Sh | Sw | Sd | Fstore => {
            h.addr(h.get_x(rs1).wrapping_add(imm as u64))
        }
        LrW | LrD => h.addr(h.get_x(rs1)),
        ScW | ScD | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW
        | AmominuW | AmomaxuW | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD
        | AmomaxD | AmominuD | AmomaxuD => h.addr(h.get_x(rs1)),
        _ => return None,
    };
    let access = if write { Access::Store } else { Access::Load };
    h.translate(va, 1, access, bus).ok().map(|pa| (pa, write))
}

type Unit = fn(&mut Hart, &Inst, u32, &dyn Bus) -> Result<(), Exception>;

/// Run one instruction through `unit`, retire it, and tell the block whether to go on.
///
/// # Safety
/// `hart` and `env` must be the live pointers the dispatcher passed to the block.
unsafe fn run(hart: *mut Hart, env: *const Env<'_>, raw: u32, pc: u64, unit: Unit) -> u32 {
    // SAFETY: the dispatcher passes an exclusive hart and an Env that outlive the block call,
    // and no other reference to either is live while the block runs.
    let (h, env) = unsafe { (&mut *hart, &*env) };
    h.pc = pc;
    let inst = decode(raw as u16, (raw >> 16) as u16, h.xlen());
    let target = mem_target(h, inst.op, inst.rs1, inst.imm, env.bus);
    let class = inst.op.class();
    // Address translation may change: the TLB forgets everything.
    if class == OpClass::System || class == OpClass::Csr && translation_csr(inst.imm as u16) {
        env.tlb.flush();
    }
    // A load may overwrite its base register: take the address for the TLB fill first.
    let fill_va =
        (class == OpClass::Memory).then(|| h.addr(h.get_x(inst.rs1).wrapping_add(inst.imm as u64)));
    match unit(h, &inst, raw, env.bus) {
        Ok(()) => {
            h.retire();
            if let Some(va) = fill_va {
                fill_tlb(h, env, inst.op, va);
            }
            let mut stop = inst.ends_block() || h.waiting;
            if let Some((pa, write)) = target {
                let in_ram = env
                    .bus
                    .ram_range()
                    .is_some_and(|(lo, hi)| (lo..hi).contains(&pa));
                // Device accesses may change interrupt lines: leave so the dispatcher looks.
                stop |= !in_ram;
                // Widest access is 8 bytes; a misaligned one may reach into the next line.
                if write && env.code.hits(pa, pa + 8) {
                    env.dirty_pages.borrow_mut().push((pa, pa + 8));
                    stop = true;
                }
            }
            if inst.op == Op::FenceI {
                env.flush_all.set(true);
                stop = true;
            }
            let mask = if h.xlen() == Xlen::X32 {
                0xffff_ffff
            } else {
                u64::MAX
            };
            stop |= h.pc != pc.wrapping_add(inst.len as u64) & mask;
            if stop { STOP } else { CONTINUE }
        }
        Err(e) => {
            h.raise(e);
            env.tlb.flush();
            STOP
        }
    }
}

macro_rules! unit_helper {
    ($(#[$doc:meta])* $name:ident, $unit:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// `hart` and `env` must be the live pointers the dispatcher passed to the block.
        pub unsafe extern "C" fn $name(
            hart: *mut Hart,
            env: *const Env<'_>,
            raw: u32,
            pc: u64,
        ) -> u32 {
            // SAFETY: forwarded from the caller's contract.
            unsafe { run(hart, env, raw, pc, $unit) }
        }
    };
}

unit_helper!(
    /// An integer load or store that left the inline RAM path (MMU on, PMP, device, a
    /// store into translated code, a misaligned access across RAM's end).
    memory,
    |h, i, _, bus| h.exec_memory(i, bus)
);
unit_helper!(
    /// A CSR instruction.
    csr,
    |h, i, raw, bus| h.exec_csr(i, raw, bus)
);
unit_helper!(
    /// `fence.i`, `ecall`, `ebreak`, `mret`, `sret`, `dret`, `wfi`, `sfence.vma`.
    system,
    |h, i, raw, _| h.exec_system(i, raw)
);
unit_helper!(
    /// LR, SC, AMOs.
    atomic,
    |h, i, _, bus| h.exec_atomic(i, bus)
);
unit_helper!(
    /// A floating-point instruction (the FP unit checks `mstatus.FS`).
    float,
    |h, i, raw, bus| h.exec_float(i, raw, bus)
);
unit_helper!(
    /// An instruction the hart does not implement: raise illegal instruction.
    illegal,
    |_, _, raw, _| Err(Exception::Illegal(raw as u64))
);

/// Raise an instruction-address-misaligned exception for a jump at `pc` to `target`
/// (harts without C).
///
/// # Safety
/// `hart` must be the live pointer the dispatcher passed to the block.
pub unsafe extern "C" fn misaligned_target(hart: *mut Hart, pc: u64, target: u64) -> u32 {
    // SAFETY: the dispatcher passes an exclusive hart that outlives the block call.
    let h = unsafe { &mut *hart };
    h.pc = pc;
    h.raise(Exception::InstMisaligned(target));
    STOP
}

/// The value of a pure ALU operation the translator does not open-code (`op` is the
/// operation's discriminant, `b` rs2 or the immediate).
pub extern "C" fn alu_value(op: u32, a: u64, b: u64, xlen64: u32) -> u64 {
    let xlen = if xlen64 != 0 { Xlen::X64 } else { Xlen::X32 };
    Op::ALL
        .get((op as usize).wrapping_sub(1))
        .filter(|o| **o as u32 == op)
        .and_then(|o| emu_core::alu::alu(*o, a, b, xlen))
        .unwrap_or(0)
}
