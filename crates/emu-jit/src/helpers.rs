//! Rust functions the translated code calls (`extern "C"`, raw pointers from generated code).
//! The generated code passes the hart and the per-run environment it was given by the
//! dispatcher, which guarantees both outlive the call.

use emu_core::{Access, Bus, Hart};
use emu_isa::{Op, decode};

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

/// Execute one instruction the translator does not open-code (CSR, system, FP, atomics,
/// memory accesses through the MMU, ...) with the hart's own semantics.
///
/// # Safety
/// `hart` and `env` must be the live pointers the dispatcher passed to the block.
pub unsafe extern "C" fn exec(hart: *mut Hart, env: *const Env<'_>, raw: u32, pc: u64) -> u32 {
    // SAFETY: the dispatcher passes an exclusive hart and an Env that outlive the block call,
    // and no other reference to either is live while the block runs.
    let (h, env) = unsafe { (&mut *hart, &*env) };
    h.pc = pc;
    let inst = decode(raw as u16, (raw >> 16) as u16, h.xlen());
    let target = mem_target(h, inst.op, inst.rs1, inst.imm, env.bus);
    match h.execute(&inst, raw, env.bus) {
        Ok(()) => {
            h.retire();
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
            if !stop
                && h.pc
                    != pc.wrapping_add(inst.len as u64)
                        & if h.xlen() == emu_isa::Xlen::X32 {
                            0xffff_ffff
                        } else {
                            u64::MAX
                        }
            {
                stop = true;
            }
            if stop { STOP } else { CONTINUE }
        }
        Err(e) => {
            h.raise(e);
            STOP
        }
    }
}
