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

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use emu_core::bus::RamWindow;
use emu_core::{Access, Bus, Exception, Hart};
use emu_isa::{Inst, Op, OpClass, Xlen};

use crate::translate::GuestInsn;

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
    /// The engine's software TLB (filled and flushed by helpers).
    pub tlb: &'a crate::tlb::Tlb,
    /// Guest RAM as the bus exposes it.
    pub ram: Option<emu_core::bus::RamWindow>,
}

/// What a translated block gets besides the hart, passed on to its helpers: one per engine,
/// at an address that never changes, so another thread can reach the running call's limit.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Frame {
    /// Instructions the running call may execute, read by self-looping blocks before each
    /// further iteration; [`emu_core::Preempt`] zeroes it to cut the loop short.
    pub limit: AtomicU64,
    /// The running call's [`Env`] (null between calls).
    env: AtomicPtr<()>,
}

impl Frame {
    /// Make `env` the running call's environment until [`Frame::leave`].
    pub fn enter(&self, env: &Env<'_>) {
        self.env
            .store(env as *const Env<'_> as *mut (), Ordering::Relaxed);
    }

    /// The call is over: its environment is gone.
    pub fn leave(&self) {
        self.env.store(std::ptr::null_mut(), Ordering::Relaxed);
    }

    /// The running call's environment.
    ///
    /// # Safety
    /// Only during a block call, between [`Frame::enter`] and [`Frame::leave`] (the
    /// dispatcher's `Env` outlives the call).
    unsafe fn env<'a>(&self) -> &'a Env<'a> {
        // SAFETY: per the contract, the pointer is the live Env the dispatcher entered; the
        // lifetime is the call's.
        unsafe { &*(self.env.load(Ordering::Relaxed) as *const Env<'a>) }
    }
}

/// CSRs whose writes change how addresses translate: sstatus, satp, mstatus, PMP.
fn translation_csr(csr: u16) -> bool {
    // dcsr: mprven decides whether MPRV applies in Debug Mode.
    matches!(csr, 0x100 | 0x180 | 0x300 | 0x3a0..=0x3ef | 0x7b0)
}

/// The virtual address a memory-touching instruction accesses (first byte) and whether it
/// writes, read from the registers before it executes (a load may overwrite its base).
fn mem_access(h: &Hart, i: &Inst) -> Option<(u64, Access)> {
    use Op::*;
    let base = h.get_x(i.rs1);
    let va = match i.op.class() {
        OpClass::Memory => base.wrapping_add(i.imm as u64),
        OpClass::Float if matches!(i.op, Fload | Fstore) => base.wrapping_add(i.imm as u64),
        OpClass::Atomic => base,
        _ => return None,
    };
    let load = matches!(
        i.op,
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Fload | LrW | LrD
    );
    let access = if load { Access::Load } else { Access::Store };
    Some((h.addr(va), access))
}

/// After a successful load or store on the slow path (physical address `pa`), cache its
/// page in the TLB when the whole page is RAM with the same permission (see
/// [`crate::tlb`]).
fn fill_tlb(h: &Hart, env: &Env<'_>, ram: RamWindow, va: u64, pa: u64, access: Access) {
    let (vpage, ppage) = (va & !0xfff, pa & !0xfff);
    let write = access == Access::Store;
    if ppage
        .checked_sub(ram.base)
        .is_some_and(|off| off + 0x1000 <= ram.size)
        && h.pmp_allows(ppage, 0x1000, access, h.data_priv())
        && !(write && env.code.hits(ppage, ppage + 0x1000))
    {
        env.tlb
            .fill(vpage, ram.host as u64 + (ppage - ram.base), write);
    }
}

type Unit = fn(&mut Hart, &Inst, u32, &dyn Bus) -> Result<(), Exception>;

/// Whether executing `i` may have changed how addresses translate, so that the TLB must
/// forget everything: trap returns, `sfence.vma`, traps and Debug Mode entry (`ecall`,
/// `ebreak`), CSR writes to sstatus, satp, mstatus, PMP, dcsr. An `ebreak` in Debug Mode
/// (the end of an abstract program) and `wfi` change nothing.
fn changes_translation(i: &Inst, class: OpClass, was_debug: bool, h: &Hart) -> bool {
    use Op::*;
    match class {
        OpClass::System => !(i.op == Wfi || i.op == Ebreak && was_debug && h.debug_mode),
        OpClass::Csr => {
            let writes = matches!(i.op, Csrrw | Csrrwi) || i.rs1 != 0;
            writes && translation_csr(i.imm as u16)
        }
        _ => false,
    }
}

/// Run one instruction through `unit`, retire it, and tell the block whether to go on.
///
/// # Safety
/// `hart` and `frame` must be the live pointers the dispatcher passed to the block, `g` one
/// of the instructions the engine keeps for the running block.
unsafe fn run(hart: *mut Hart, frame: *const Frame, g: *const GuestInsn, unit: Unit) -> u32 {
    // SAFETY: the dispatcher passes an exclusive hart and its frame, entered with an Env;
    // both outlive the block call and no other reference to the hart or the Env is live
    // while the block runs; the engine keeps the block's instructions, unmoved, until it
    // drops the block's code.
    let (h, env, g) = unsafe { (&mut *hart, (*frame).env(), &*g) };
    let (inst, raw, pc) = (g.inst, g.raw, g.pc);
    h.pc = pc;
    let class = inst.op.class();
    let was_debug = h.debug_mode;
    let access = mem_access(h, &inst);
    let r = unit(h, &inst, raw, env.bus);
    if changes_translation(&inst, class, was_debug, h) {
        env.tlb.flush();
    }
    match r {
        Ok(()) => {
            h.retire();
            // A trigger acting after this instruction (load data, mcontrol timing = 1).
            if let Some(e) = h.take_after_fire() {
                h.raise(e, env.bus);
                env.tlb.flush();
                return STOP;
            }
            // (CSR writes end blocks, so a trigger written here is seen by the dispatcher
            // before the next instruction; in Debug Mode, where none matches, before the
            // next block.)
            let mut stop = crate::translate::ends_block(&inst, was_debug) || h.waiting;
            // Where the access went: translated after it succeeded, so the walk has no side
            // effect left to have (A/D are set) and a faulting access costs no extra walk.
            // In Debug Mode the Debug Module's window is reached untranslated and is neither
            // RAM nor code the JIT keeps: nothing below applies (the ROM's common case).
            if let Some((va, acc)) = access
                && !h.in_dm_window(va, 8)
                && let Ok(pa) = h.translate(va, 1, acc, env.bus)
            {
                let in_ram = env
                    .bus
                    .ram_range()
                    .is_some_and(|(lo, hi)| (lo..hi).contains(&pa));
                // Device accesses may change interrupt lines: leave so the dispatcher looks.
                // The Debug Module's memory (Debug Mode only, where no interrupt is taken)
                // cannot, so the ROM and abstract programs run as whole blocks.
                let in_dm = h.in_dm_window(pa, 1);
                stop |= !in_ram && !in_dm;
                if let Some(ram) = env.ram
                    && in_ram
                    && class == OpClass::Memory
                {
                    fill_tlb(h, env, ram, va, pa, acc);
                }
                // Widest access is 8 bytes; a misaligned one may reach into the next line.
                if acc == Access::Store && env.code.hits(pa, pa + 8) {
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
            h.raise(e, env.bus);
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
        /// `hart` and `frame` must be the live pointers the dispatcher passed to the
        /// block, `g` one of the instructions the engine keeps for it.
        pub unsafe extern "C" fn $name(
            hart: *mut Hart,
            frame: *const Frame,
            g: *const GuestInsn,
        ) -> u32 {
            // SAFETY: forwarded from the caller's contract.
            unsafe { run(hart, frame, g, $unit) }
        }
    };
}

unit_helper!(
    /// An integer load or store that left the inline RAM path (MMU on, PMP, device, a
    /// store into translated code, a misaligned access across RAM's end).
    memory,
    |h, i, _, bus| h.exec_memory(i, bus)
);
/// An integer load or store in a Debug Mode block. Those of the Debug Module's ROM and
/// abstract programs reach the DM's memory, which is neither RAM nor code nor a device that
/// may raise an interrupt, and where no translation or trigger applies: none of what the
/// general helper does around the memory unit matters there (it was half the cost of every
/// ROM access), so the unit is called directly (it sends such an access straight to the
/// bus).
/// Anything else (RAM, a device, a misaligned access) takes the memory helper's way.
///
/// # Safety
/// `hart` and `frame` must be the live pointers the dispatcher passed to the block, `g` one
/// of the instructions the engine keeps for it.
pub unsafe extern "C" fn debug_memory(
    hart: *mut Hart,
    frame: *const Frame,
    g: *const GuestInsn,
) -> u32 {
    // SAFETY: as in `run`: exclusive hart, frame entered with a live Env, instruction kept
    // by the engine for as long as the block exists.
    let (h, env, gi) = unsafe { (&mut *hart, (*frame).env(), &*g) };
    let i = &gi.inst;
    let in_dm = i
        .op
        .int_access()
        .is_some_and(|a| h.dm_direct(h.addr(h.get_x(i.rs1).wrapping_add(i.imm as u64)), a.size));
    if !in_dm {
        // SAFETY: forwarded from the caller's contract.
        return unsafe { memory(hart, frame, g) };
    }
    h.pc = gi.pc;
    match h.exec_memory(i, env.bus) {
        Ok(()) => {
            h.retire();
            CONTINUE
        }
        Err(e) => {
            h.raise(e, env.bus);
            env.tlb.flush();
            STOP
        }
    }
}

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
/// `hart` and `frame` must be the live pointers the dispatcher passed to the block.
pub unsafe extern "C" fn misaligned_target(
    hart: *mut Hart,
    frame: *const Frame,
    pc: u64,
    target: u64,
) -> u32 {
    // SAFETY: the dispatcher passes an exclusive hart and its frame, entered with an Env;
    // both outlive the block call.
    let (h, env) = unsafe { (&mut *hart, (*frame).env()) };
    h.pc = pc;
    h.raise(Exception::InstMisaligned(target), env.bus);
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
