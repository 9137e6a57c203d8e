//! Guest instructions to Cranelift IR.
//!
//! One block = a run of guest instructions inside one 4 KiB page (consecutive but for
//! `jal`s forward within the page, which the engine follows), ending at a control-flow or
//! system instruction, at the page end, or at `MAX_INSNS`.
//! Every integer operation, branch and jump, and loads and stores (inline RAM path or the
//! software TLB) are open-coded; other instructions call the helper of the hart unit that
//! owns them ([`crate::helpers`]). Guest registers live in SSA variables within the block and
//! are written back to the `Hart` before helpers and exits, so helpers always see current
//! state. The block function returns the number of
//! guest instructions it executed, with [`STOP_BIT`] set when a helper asked to leave early,
//! or [`EXIT_TAKEN`], [`EXIT_NEXT`] or [`EXIT_JUMP`] when it left by a plain jump or
//! branch (the dispatcher may then run the block that follows without its checks).
//!
//! Here: the translator's state (`Tx`: the block's register and counter cache). Beside
//! it: `block` (the block function and its walk over the instructions), `alu` (integer
//! operations), `mem` (loads, stores, TLB, watchpoints), `exits` (helper calls, block
//! exits, the self-loop's back edge, Debug Mode CSRs).

use std::mem::offset_of;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Function, InstBuilder, MemFlagsData, Signature, Type, UserFuncName, Value, types,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use emu_core::hart::Csrs;
use emu_core::sdtrig::WatchHull;
use emu_core::{DebugState, Hart, HartId};
use emu_isa::{Inst, Op, OpClass, Xlen};

use crate::flags::BlockFlags;

mod alu;
mod block;
mod exits;
mod mem;

pub use block::build;

/// Longest block, in guest instructions.
pub const MAX_INSNS: usize = 32;
/// Set in the block's return value when it left before its end.
pub const STOP_BIT: u32 = 1 << 31;
/// Set in the block's return value when it left by its final `jal` or by its final branch
/// taken: a target fixed at translation, reached with nothing changed but registers,
/// memory and pc (the dispatcher may link the block to the one found there).
pub const EXIT_TAKEN: u32 = 1 << 29;
/// As [`EXIT_TAKEN`], for a final branch not taken or a block that ran to its last
/// instruction (cut at its length limit or page end).
pub const EXIT_NEXT: u32 = 1 << 30;
/// Both exit bits: the block left by its final `jalr` (a target known only at run time,
/// reached with nothing changed but registers and pc).
pub const EXIT_JUMP: u32 = EXIT_TAKEN | EXIT_NEXT;
/// The instruction count in a block's return value (the dispatcher caps one call at fewer).
pub const COUNT_MASK: u32 = EXIT_TAKEN - 1;

/// A guest instruction as fetched for translation.
#[derive(Clone, Copy, Debug)]
pub struct GuestInsn {
    /// Decoded form.
    pub inst: Inst,
    /// Raw bits (16 or 32).
    pub raw: u32,
    /// Virtual address.
    pub pc: u64,
    /// The hart's ISA has this instruction (otherwise the helper raises illegal).
    pub allowed: bool,
}

/// Direct access to guest RAM for the inline load/store path.
#[derive(Clone, Copy, Debug)]
pub struct MemCtx {
    /// Guest physical base of RAM.
    pub base: u64,
    /// RAM size.
    pub size: u64,
    /// Host address of RAM's first byte.
    pub host: u64,
    /// Host address of the code line map: one byte per 64-byte line of RAM, nonzero when the
    /// line holds translated code (stores there take the slow path, which invalidates).
    pub code_map: u64,
    /// Host address of the software TLB's entries (used when accesses are not direct).
    pub tlb: u64,
}

const I64: Type = types::I64;
const I32: Type = types::I32;

const PC_OFF: i32 = offset_of!(Hart, pc) as i32;
const INSTRET_OFF: i32 = (offset_of!(Hart, csr) + offset_of!(Csrs, minstret)) as i32;
const CYCLE_OFF: i32 = (offset_of!(Hart, csr) + offset_of!(Csrs, mcycle)) as i32;
/// Cached value slots: 1..32 are the integer registers, then the two counters, kept in
/// variables like registers so a self-loop carries them in host registers.
const INSTRET: u8 = 32;
const CYCLE: u8 = 33;
const SLOTS: usize = 34;

/// Whether a block ends after `i`. As [`Inst::ends_block`], except that a CSR instruction
/// that only reads, or writes a scratch-like CSR (nothing a translation or the dispatcher
/// depends on), lets the block run on: the Debug Module's ROM and abstract programs are
/// mostly such accesses. Counters are synced before every helper, so reads stay exact.
///
/// In Debug Mode (`debug_mode`) trigger registers are scratch-like too: triggers do not
/// match there, and the dispatcher brings its view of them up to date before the next
/// block, so before any instruction outside Debug Mode (`dret` ends a block). A program
/// that arms a trigger then runs as one block instead of one per register written.
pub(crate) fn ends_block(i: &Inst, debug_mode: bool) -> bool {
    use Op::*;
    if !i.ends_block() {
        return false;
    }
    let writes = match i.op {
        Csrrw | Csrrwi => true,
        Csrrs | Csrrc | Csrrsi | Csrrci => i.rs1 != 0,
        _ => return true,
    };
    let csr = i.imm as u16;
    // mscratch, mepc, mcause, mtval, their S-mode twins, dscratch0/1.
    let scratch = matches!(csr, 0x140..=0x143 | 0x340..=0x343 | 0x7b2 | 0x7b3);
    // tselect, tdata1..3, tinfo, tcontrol, mcontext.
    let trigger = matches!(csr, 0x7a0..=0x7a5 | 0x7a8);
    writes && !scratch && !(debug_mode && trigger)
}

/// Where slot `s` lives in the hart.
fn slot_off(s: u8) -> i32 {
    match s {
        INSTRET => INSTRET_OFF,
        CYCLE => CYCLE_OFF,
        r => (offset_of!(Hart, x) + 8 * r as usize) as i32,
    }
}
const LIMIT_OFF: i32 = offset_of!(crate::helpers::Frame, limit) as i32;
const WATCH_OFF: usize = offset_of!(Hart, watch);
const WATCH_LOAD_LO: i32 = (WATCH_OFF + offset_of!(WatchHull, load_lo)) as i32;
const WATCH_LOAD_LEN: i32 = (WATCH_OFF + offset_of!(WatchHull, load_len)) as i32;
const WATCH_STORE_LO: i32 = (WATCH_OFF + offset_of!(WatchHull, store_lo)) as i32;
const WATCH_STORE_LEN: i32 = (WATCH_OFF + offset_of!(WatchHull, store_len)) as i32;

struct Tx<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    hart: Value,
    /// The engine's [`helpers::Frame`] (the block's second argument, passed on to helpers).
    frame: Value,
    xlen: Xlen,
    flags: BlockFlags,
    exit: cranelift_codegen::ir::Block,
    helper_sig: cranelift_codegen::ir::SigRef,
    misaligned_sig: cranelift_codegen::ir::SigRef,
    alu_sig: cranelift_codegen::ir::SigRef,
    /// Open-coded instructions since counters were last brought up to date.
    pending: i64,
    /// Guest instructions emitted so far (in the current iteration of a self-loop).
    count: u32,
    mem: Option<MemCtx>,
    /// Self-looping block: instructions completed in earlier iterations, and the loop head.
    looping: Option<(Variable, cranelift_codegen::ir::Block)>,
    /// Slots a self-loop keeps in variables from one iteration to the next (empty otherwise).
    loop_slots: u64,
    /// One SSA variable per slot (guest integer register or counter): values are loaded
    /// from the hart once and written back before anything else can look (helpers, block
    /// exits); a self-loop keeps them across its back edge.
    vars: [Variable; SLOTS],
    /// Which slots the variables hold (bit per slot) at this point of translation.
    cached: u64,
    /// Which of those differ from the hart's copy in memory.
    dirty: u64,
}

impl Tx<'_, '_> {
    fn mem() -> MemFlagsData {
        MemFlagsData::trusted()
    }

    /// Integer register `r` (or a counter slot).
    fn get(&mut self, r: u8) -> Value {
        let bit = 1u64 << r;
        if r == 0 {
            self.b.ins().iconst(I64, 0)
        } else if self.cached & bit != 0 {
            self.b.use_var(self.vars[r as usize])
        } else {
            let v = self.b.ins().load(I64, Self::mem(), self.hart, slot_off(r));
            self.b.def_var(self.vars[r as usize], v);
            self.cached |= bit;
            v
        }
    }

    /// Write the dirty slots back to the hart (they stay cached and, for the paths that go
    /// on, dirty: this is also used on side exits).
    fn write_back(&mut self) {
        for r in 1..SLOTS as u8 {
            if self.dirty & (1 << r) != 0 {
                let v = self.b.use_var(self.vars[r as usize]);
                self.b.ins().store(Self::mem(), v, self.hart, slot_off(r));
            }
        }
    }

    /// Reload slots `set` from the hart (after a helper that may have changed them).
    fn reload(&mut self, set: u64) {
        for r in 1..SLOTS as u8 {
            if set & (1 << r) != 0 {
                let v = self.b.ins().load(I64, Self::mem(), self.hart, slot_off(r));
                self.b.def_var(self.vars[r as usize], v);
            }
        }
    }

    /// The counters open-coded instructions advance (those not inhibited).
    fn counter_slots(&self) -> u64 {
        let mut s = 0;
        if !self.flags.inhibit_instret() {
            s |= 1 << INSTRET;
        }
        if !self.flags.inhibit_cycle() {
            s |= 1 << CYCLE;
        }
        s
    }

    /// Write a register, normalising RV32 values (sign-extended from 32 bits).
    fn set(&mut self, r: u8, v: Value) {
        if r == 0 {
            return;
        }
        let v = if self.xlen == Xlen::X32 {
            self.sext32(v)
        } else {
            v
        };
        self.set_slot(r, v);
    }

    fn set_slot(&mut self, r: u8, v: Value) {
        self.b.def_var(self.vars[r as usize], v);
        self.cached |= 1 << r;
        self.dirty |= 1 << r;
    }

    fn sext32(&mut self, v: Value) -> Value {
        let n = self.b.ins().ireduce(I32, v);
        self.b.ins().sextend(I64, n)
    }

    fn set_pc(&mut self, v: Value) {
        self.b.ins().store(Self::mem(), v, self.hart, PC_OFF);
    }

    fn set_pc_const(&mut self, pc: u64) {
        let v = self.b.ins().iconst(I64, pc as i64);
        self.set_pc(v);
    }

    /// Bring minstret/mcycle up to date with the open-coded instructions so far.
    ///
    /// Where the counters are not cached, the hart's copy lags: by `pending` in a straight
    /// block; in a self-loop by `done + count` (a loop does not carry the counters in host
    /// registers: they advance exactly as `done` does, so it carries that alone).
    fn sync_counters(&mut self) {
        for c in [INSTRET, CYCLE] {
            let bit = 1u64 << c;
            if self.counter_slots() & bit == 0 {
                continue;
            }
            let v = match self.looping {
                Some((done, _)) if self.cached & bit == 0 => {
                    let m = self.b.ins().load(I64, Self::mem(), self.hart, slot_off(c));
                    let d = self.b.use_var(done);
                    let v = self.b.ins().iadd(m, d);
                    self.b.ins().iadd_imm_s(v, self.count as i64)
                }
                _ if self.pending == 0 => continue,
                _ => {
                    let v = self.get(c);
                    self.b.ins().iadd_imm_s(v, self.pending)
                }
            };
            self.set_slot(c, v);
        }
        self.pending = 0;
    }

    /// In a self-loop, after a helper retired the instruction at `count` and left the
    /// counters' true values in the hart: make the copies lag by `done + count + 1` again,
    /// as [`Self::sync_counters`] expects of uncached counters once that instruction counts.
    fn lag_counters(&mut self) {
        let Some((done, _)) = self.looping else {
            return;
        };
        for c in [INSTRET, CYCLE] {
            if self.counter_slots() & (1 << c) == 0 {
                continue;
            }
            let m = self.b.ins().load(I64, Self::mem(), self.hart, slot_off(c));
            let d = self.b.use_var(done);
            let v = self.b.ins().isub(m, d);
            let v = self.b.ins().iadd_imm_s(v, -(self.count as i64) - 1);
            self.b.ins().store(Self::mem(), v, self.hart, slot_off(c));
        }
    }

    /// Undo `n` counter increments (after a helper ran on a side path whose merge point still
    /// counts those instructions as pending), reaching the slot state `after`.
    fn unsync_counters(&mut self, n: i64, after: (u64, u64)) {
        if self.looping.is_some() {
            // Counters are cached only transiently in a loop, never at a merge point.
            debug_assert_eq!(after.0 & self.counter_slots(), 0);
            self.lag_counters();
            return;
        }
        if n == 0 {
            return;
        }
        for c in [INSTRET, CYCLE] {
            if self.counter_slots() & (1 << c) == 0 {
                continue;
            }
            let bit = 1u64 << c;
            let v = if after.0 & bit != 0 {
                self.b.use_var(self.vars[c as usize])
            } else {
                self.b.ins().load(I64, Self::mem(), self.hart, slot_off(c))
            };
            let v = self.b.ins().iadd_imm_s(v, -n);
            if after.0 & bit != 0 {
                self.b.def_var(self.vars[c as usize], v);
            }
            if after.1 & bit == 0 {
                self.b.ins().store(Self::mem(), v, self.hart, slot_off(c));
            }
        }
    }

    /// One more open-coded instruction retires here (counters catch up at the next sync).
    fn retire_one(&mut self) {
        self.count += 1;
        self.pending += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(op: Op, csr: u16, rs1: u8) -> Inst {
        Inst {
            rd: 5,
            rs1,
            imm: csr as i64,
            ..Inst::new(op)
        }
    }

    /// Which CSR accesses end a block, in and out of Debug Mode.
    #[test]
    fn csr_accesses_that_end_a_block() {
        use Op::*;
        // (instruction, ends outside Debug Mode, ends in Debug Mode)
        let table = [
            (csr(Csrrs, 0x7a1, 0), false, false), // a read
            (csr(Csrrw, 0x340, 6), false, false), // mscratch
            (csr(Csrrw, 0x7b2, 6), false, false), // dscratch0
            (csr(Csrrw, 0x7a0, 6), true, false),  // tselect
            (csr(Csrrw, 0x7a1, 6), true, false),  // tdata1
            (csr(Csrrs, 0x7a2, 6), true, false),  // tdata2
            (csr(Csrrwi, 0x7a5, 1), true, false), // tcontrol
            (csr(Csrrc, 0x7a8, 6), true, false),  // mcontext
            (csr(Csrrw, 0x300, 6), true, true),   // mstatus
            (csr(Csrrw, 0x7b0, 6), true, true),   // dcsr
            (csr(Csrrw, 0x180, 6), true, true),   // satp
            (Inst::new(Dret), true, true),
            (Inst::new(Ebreak), true, true),
        ];
        for (i, out, dm) in table {
            assert_eq!(ends_block(&i, false), out, "{:?} {:#x}", i.op, i.imm);
            assert_eq!(
                ends_block(&i, true),
                dm,
                "{:?} {:#x} in Debug Mode",
                i.op,
                i.imm
            );
        }
    }
}
