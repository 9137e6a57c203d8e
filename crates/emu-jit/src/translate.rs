//! Guest instructions to Cranelift IR.
//!
//! One block = a run of guest instructions at consecutive addresses inside one 4 KiB page,
//! ending at a control-flow or system instruction, at the page end, or at `MAX_INSNS`.
//! Every integer operation, branch and jump, and loads and stores (inline RAM path or the
//! software TLB) are open-coded; other instructions call the helper of the hart unit that
//! owns them ([`crate::helpers`]). Guest registers live in SSA variables within the block and
//! are written back to the `Hart` before helpers and exits, so helpers always see current
//! state. The block function returns the number of
//! guest instructions it executed, with [`STOP_BIT`] set when a helper asked to leave early.

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

/// Longest block, in guest instructions.
pub const MAX_INSNS: usize = 32;
/// Set in the block's return value when it left before its end.
pub const STOP_BIT: u32 = 1 << 31;

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

/// Where slot `s` lives in the hart.
/// Whether a block ends after `i`. As [`Inst::ends_block`], except that a CSR instruction
/// that only reads, or writes a scratch-like CSR (nothing a translation or the dispatcher
/// depends on), lets the block run on: the Debug Module's ROM and abstract programs are
/// mostly such accesses. Counters are synced before every helper, so reads stay exact.
pub(crate) fn ends_block(i: &Inst) -> bool {
    use Op::*;
    if !i.ends_block() {
        return false;
    }
    let writes = match i.op {
        Csrrw | Csrrwi => true,
        Csrrs | Csrrc | Csrrsi | Csrrci => i.rs1 != 0,
        _ => return true,
    };
    // mscratch, mepc, mcause, mtval, their S-mode twins, dscratch0/1.
    writes && !matches!(i.imm as u16, 0x140..=0x143 | 0x340..=0x343 | 0x7b2 | 0x7b3)
}

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

    fn addr(&mut self, v: Value) -> Value {
        if self.xlen == Xlen::X32 {
            let n = self.b.ins().ireduce(I32, v);
            self.b.ins().uextend(I64, n)
        } else {
            v
        }
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

    /// The helper that executes `g` when it is not open-coded (`debug`: in a Debug Mode
    /// block, where loads and stores mostly reach the Debug Module's memory).
    fn helper_for(g: &GuestInsn, debug: bool) -> usize {
        use crate::helpers;
        let f: unsafe extern "C" fn(*mut Hart, *const helpers::Frame, *const GuestInsn) -> u32 =
            if !g.allowed {
                helpers::illegal
            } else {
                match g.inst.op.class() {
                    OpClass::Memory if debug => helpers::debug_memory,
                    OpClass::Memory => helpers::memory,
                    OpClass::Csr => helpers::csr,
                    OpClass::Atomic => helpers::atomic,
                    OpClass::Float => helpers::float,
                    // Control and ALU operations are always open-coded; an illegal encoding
                    // decodes as a system-class operation and the system unit rejects it.
                    OpClass::System | OpClass::Control | OpClass::Alu => helpers::system,
                }
            };
        f as usize
    }

    /// Bring counters up to date, call the helper for `g`, and leave the block when it says
    /// so; code emitted afterwards runs when the block continues (laid out with the cold
    /// code when `cold`: on a slow path, the way back must not split the hot path).
    fn exec_helper(&mut self, g: &GuestInsn, cold: bool) {
        self.sync_counters();
        self.write_back();
        let f = self
            .b
            .ins()
            .iconst(I64, Self::helper_for(g, self.flags.debug_mode()) as i64);
        // The helper reads the decoded instruction where the engine keeps it for as long as
        // this code exists (it never decodes again).
        let insn = self
            .b
            .ins()
            .iconst(I64, g as *const GuestInsn as usize as i64);
        let call = self
            .b
            .ins()
            .call_indirect(self.helper_sig, f, &[self.hart, self.frame, insn]);
        let r = self.b.inst_results(call)[0];
        let n = self.b.ins().iconst(I32, (self.count + 1) as i64);
        let cont = self.b.create_block();
        if cold {
            self.b.set_cold_block(cont);
        }
        self.b.ins().brif(r, self.exit, &[n.into()], cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Leave the block with an instruction-address-misaligned exception for the jump `g` to
    /// `target` (only harts without C can take it).
    fn misaligned(&mut self, g: &GuestInsn, target: Value) {
        // A side exit: the main path still counts the pending instructions and keeps its
        // slot state.
        let saved = (self.pending, self.cached, self.dirty);
        self.sync_counters();
        self.write_back();
        let f = self.b.ins().iconst(
            I64,
            crate::helpers::misaligned_target as *const () as usize as i64,
        );
        let pc = self.b.ins().iconst(I64, g.pc as i64);
        self.b
            .ins()
            .call_indirect(self.misaligned_sig, f, &[self.hart, self.frame, pc, target]);
        // A trapping instruction uses one step of the budget, as in the interpreter.
        let n = self.b.ins().iconst(I32, (self.count + 1) as i64);
        self.b.ins().jump(self.exit, &[n.into()]);
        (self.pending, self.cached, self.dirty) = saved;
    }

    /// The value of pure ALU operation `op` computed by the pure helper.
    fn alu_helper(&mut self, op: Op, a: Value, b: Value) -> Value {
        let f = self
            .b
            .ins()
            .iconst(I64, crate::helpers::alu_value as *const () as usize as i64);
        let opv = self.b.ins().iconst(I32, op as u32 as i64);
        let x = self.b.ins().iconst(I32, (self.xlen == Xlen::X64) as i64);
        let call = self.b.ins().call_indirect(self.alu_sig, f, &[opv, a, b, x]);
        self.b.inst_results(call)[0]
    }

    /// Run `g` through the helper on a side path; continue at `cont` (or leave the block).
    /// `before` is the register state where the fast path split off, `after` the state the
    /// fast path reaches `cont` with; the slow path reaches it with the same.
    fn slow_path(
        &mut self,
        g: &GuestInsn,
        cont: cranelift_codegen::ir::Block,
        before: (u64, u64),
        after: (u64, u64),
    ) {
        let pending = self.pending;
        (self.cached, self.dirty) = before;
        self.exec_helper(g, true);
        // The helper may have written any register: take the fast path's set from the hart.
        self.reload(after.0);
        (self.cached, self.dirty) = after;
        // The helper retired this instruction; the merge point counts it as pending again.
        self.unsync_counters(pending + 1, after);
        self.pending = pending;
        self.b.ins().jump(cont, &[]);
    }

    /// Open-code a load or store with the inline RAM path; false when `i` is not one.
    fn mem_op(&mut self, g: &GuestInsn) -> bool {
        let Some(m) = self.mem else { return false };
        let i = &g.inst;
        let Some(emu_isa::IntAccess {
            size,
            signed,
            store,
        }) = i.op.int_access()
        else {
            return false;
        };
        let size = size as u64;
        let a = self.get(i.rs1);
        let va = self.b.ins().iadd_imm_s(a, i.imm);
        let va = self.addr(va);
        if !self.flags.direct_mem() {
            return self.tlb_op(g, m, va, size, signed, store);
        }
        let off = self.b.ins().iadd_imm_s(va, -(m.base as i64));
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let cont = self.b.create_block();
        let before = (self.cached, self.dirty);
        // Stores find store triggers through the code map below (its WATCH bit).
        if !store {
            self.watch_check(va, store, slow, false);
        }
        let ok =
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, off, (m.size - size) as i64);
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        self.b.seal_block(fast);
        let host_base = self.b.ins().iconst(I64, m.host as i64);
        let host = self.b.ins().iadd(host_base, off);
        if store {
            // Stores into lines holding translated code go through the helper (invalidation),
            // as do those into lines a store trigger may match (the helper checks it).
            // Check the first and last byte's lines (a misaligned store can span two).
            let map = self.b.ins().iconst(I64, m.code_map as i64);
            let l0 = self
                .b
                .ins()
                .ushr_imm_s(off, crate::codemap::LINE_SHIFT as i64);
            let last = self.b.ins().iadd_imm_s(off, (size - 1) as i64);
            let l1 = self
                .b
                .ins()
                .ushr_imm_s(last, crate::codemap::LINE_SHIFT as i64);
            let s0 = self.b.ins().iadd(map, l0);
            let s1 = self.b.ins().iadd(map, l1);
            let c0 = self.b.ins().load(types::I8, Self::mem(), s0, 0);
            let c1 = self.b.ins().load(types::I8, Self::mem(), s1, 0);
            let lines = self.b.ins().bor(c0, c1);
            let write = self.b.create_block();
            if self.flags.data_watch() {
                // A line a store trigger may match: the exact hull check decides, so only
                // stores near the watched bytes pay the helper.
                let marked = self.b.create_block();
                self.b.set_cold_block(marked);
                self.b.ins().brif(lines, marked, &[], write, &[]);
                self.b.switch_to_block(marked);
                self.b.seal_block(marked);
                let code = self
                    .b
                    .ins()
                    .band_imm_s(lines, i64::from(crate::codemap::CODE));
                let watched = self.b.create_block();
                self.b.set_cold_block(watched);
                self.b.ins().brif(code, slow, &[], watched, &[]);
                self.b.switch_to_block(watched);
                self.b.seal_block(watched);
                self.watch_check(va, true, slow, true);
                // The store again here rather than a jump to `write`: an edge into it from
                // here would cost the hot path a jump.
                let state = (self.cached, self.dirty);
                self.host_access(host, i, size, signed, store);
                self.b.ins().jump(cont, &[]);
                (self.cached, self.dirty) = state;
            } else {
                self.b.ins().brif(lines, slow, &[], write, &[]);
            }
            self.b.switch_to_block(write);
            self.b.seal_block(write);
        }
        self.host_access(host, i, size, signed, store);
        self.b.ins().jump(cont, &[]);
        let after = (self.cached, self.dirty);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        self.slow_path(g, cont, before, after);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        true
    }

    /// A load or store through the software TLB (MMU on, or PMP in force): one compare of
    /// the entry's tag, then `va + addend`; a miss takes the memory helper, which fills.
    fn tlb_op(
        &mut self,
        g: &GuestInsn,
        m: MemCtx,
        va: Value,
        size: u64,
        signed: bool,
        store: bool,
    ) -> bool {
        use crate::tlb;
        let i = &g.inst;
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        self.watch_check(va, store, slow, false);
        let vpn = self.b.ins().ushr_imm_s(va, 12);
        let idx = self.b.ins().band_imm_s(vpn, tlb::TLB_SIZE as i64 - 1);
        let off = self.b.ins().ishl_imm_s(idx, tlb::ENTRY_SHIFT as i64);
        let base = self.b.ins().iconst(I64, m.tlb as i64);
        let e = self.b.ins().iadd(base, off);
        let tag_off = if store { tlb::WRITE_OFF } else { tlb::READ_OFF };
        let tag = self.b.ins().load(I64, Self::mem(), e, tag_off);
        // Misaligned addresses keep low bits here and never match a page-aligned tag.
        let want = self.b.ins().band_imm_s(va, !0xfff | (size as i64 - 1));
        let hit = self.b.ins().icmp(IntCC::Equal, tag, want);
        let fast = self.b.create_block();
        let cont = self.b.create_block();
        let before = (self.cached, self.dirty);
        self.b.ins().brif(hit, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        self.b.seal_block(fast);
        let addend = self.b.ins().load(I64, Self::mem(), e, tlb::ADDEND_OFF);
        let host = self.b.ins().iadd(va, addend);
        self.host_access(host, i, size, signed, store);
        self.b.ins().jump(cont, &[]);
        let after = (self.cached, self.dirty);
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        self.slow_path(g, cont, before, after);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        true
    }

    /// With load/store triggers armed (the DATA_WATCH flag): send an access whose address
    /// lies in the hart's watch hull to `slow`, where the memory unit checks the triggers
    /// exactly. Blocks translated without the flag contain no check at all. `cold`: the
    /// check itself sits on a cold path, and so does what follows it.
    fn watch_check(
        &mut self,
        va: Value,
        store: bool,
        slow: cranelift_codegen::ir::Block,
        cold: bool,
    ) {
        if !self.flags.data_watch() {
            return;
        }
        let (lo_off, len_off) = if store {
            (WATCH_STORE_LO, WATCH_STORE_LEN)
        } else {
            (WATCH_LOAD_LO, WATCH_LOAD_LEN)
        };
        // The hull changes only when trigger registers are written, which ends the block,
        // or between blocks: within one call of the translated code it is constant, so
        // its loads may be shared. They are not hoisted out of a self-loop: two more
        // values live across the loop (and its cold helper calls) cost more than two L1
        // loads beside each access.
        let flags = Self::mem().with_readonly();
        let lo = self.b.ins().load(I64, flags, self.hart, lo_off);
        let d = self.b.ins().isub(va, lo);
        let len = self.b.ins().load(I64, flags, self.hart, len_off);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, d, len);
        let next = self.b.create_block();
        if cold {
            self.b.set_cold_block(next);
        }
        self.b.ins().brif(inside, slow, &[], next, &[]);
        self.b.switch_to_block(next);
        self.b.seal_block(next);
    }

    /// The access itself, at host address `host`.
    fn host_access(&mut self, host: Value, i: &Inst, size: u64, signed: bool, store: bool) {
        let gmem = MemFlagsData::new().with_notrap();
        let ty = match size {
            1 => types::I8,
            2 => types::I16,
            4 => I32,
            _ => I64,
        };
        if store {
            let v = self.get(i.rs2);
            let v = if size < 8 {
                self.b.ins().ireduce(ty, v)
            } else {
                v
            };
            self.b.ins().store(gmem, v, host, 0);
        } else {
            let v = self.b.ins().load(ty, gmem, host, 0);
            let v = match (size, signed) {
                (8, _) => v,
                (_, true) => self.b.ins().sextend(I64, v),
                (_, false) => self.b.ins().uextend(I64, v),
            };
            self.set(i.rd, v);
        }
    }

    /// Leave the block (the translation state stays as it was, for paths that go on).
    fn ret_count(&mut self, stop: bool) {
        let saved = (self.pending, self.cached, self.dirty);
        self.sync_counters();
        self.write_back();
        let v = self.count | if stop { STOP_BIT } else { 0 };
        let mut r = self.b.ins().iconst(I32, v as i64);
        if let Some((done, _)) = self.looping {
            let d = self.b.use_var(done);
            let d = self.b.ins().ireduce(I32, d);
            r = self.b.ins().iadd(r, d);
        }
        self.b.ins().return_(&[r]);
        (self.pending, self.cached, self.dirty) = saved;
    }

    /// The back edge of a self-looping block: run another iteration when the budget allows
    /// (`Frame::limit`), otherwise leave with pc at the loop start.
    fn loop_back(&mut self, start_pc: u64) {
        let Some((done, head)) = self.looping else {
            return;
        };
        // The counters are not loop slots: uncached, they lag by `done + count`, which the
        // head's `done` accounts for.
        debug_assert_eq!(self.cached & self.counter_slots(), 0);
        // The loop head expects every loop slot in its variable (values stay in host
        // registers across the back edge; memory is brought up to date on the way out).
        let missing = self.loop_slots & !self.cached;
        for r in 1..SLOTS as u8 {
            if missing & (1 << r) != 0 {
                self.get(r);
            }
        }
        let d = self.b.use_var(done);
        let d2 = self.b.ins().iadd_imm_s(d, self.count as i64);
        let need = self.b.ins().iadd_imm_s(d2, self.count as i64);
        // Another thread may zero the limit (a halt request): loaded afresh every iteration.
        let limit = self.b.ins().load(I64, Self::mem(), self.frame, LIMIT_OFF);
        let again = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, need, limit);
        let leave = self.b.create_block();
        self.b.set_cold_block(leave);
        self.b.def_var(done, d2);
        self.b.ins().brif(again, head, &[], leave, &[]);
        self.b.switch_to_block(leave);
        self.b.seal_block(leave);
        // `done` already counts this iteration here.
        let (count, pending) = (self.count, self.pending);
        self.count = 0;
        self.sync_counters();
        self.write_back();
        (self.count, self.pending) = (count, pending);
        self.set_pc_const(start_pc);
        let n = self.b.ins().ireduce(I32, d2);
        self.b.ins().return_(&[n]);
    }

    /// Open-code the CSR accesses of the Debug Module's ROM and programs in a Debug Mode
    /// block: reads of `mhartid`, `dcsr` and `dscratch0/1`, and `csrrw` into `dscratch0/1`.
    /// They are plain fields there (Debug Mode may access every CSR, no side effects, no
    /// trigger fires), and a command runs about ten of them: as helper calls they were a
    /// quarter of an abstract register read. Returns false for anything else.
    fn debug_csr(&mut self, i: &Inst) -> bool {
        use Op::*;
        if !self.flags.debug_mode() {
            return false;
        }
        let csr = i.imm as u16;
        let scratch =
            |n: usize| (offset_of!(Hart, debug) + offset_of!(DebugState, dscratch) + 8 * n) as i32;
        match i.op {
            // A pure read: csrrs/csrrc with x0 (or a zero immediate) as the source.
            Csrrs | Csrrc | Csrrsi | Csrrci if i.rs1 == 0 => {
                let v = match csr {
                    0xf14 => {
                        let id = self.b.ins().load(
                            I32,
                            Self::mem(),
                            self.hart,
                            (offset_of!(Hart, id) + offset_of!(HartId, 0)) as i32,
                        );
                        self.b.ins().uextend(I64, id)
                    }
                    0x7b0 => {
                        let off = offset_of!(Hart, debug) + offset_of!(DebugState, dcsr);
                        let d = self.b.ins().load(I32, Self::mem(), self.hart, off as i32);
                        self.b.ins().uextend(I64, d)
                    }
                    0x7b2 | 0x7b3 => {
                        let off = scratch(csr as usize - 0x7b2);
                        self.b.ins().load(I64, Self::mem(), self.hart, off)
                    }
                    _ => return false,
                };
                self.set(i.rd, v);
            }
            Csrrw if matches!(csr, 0x7b2 | 0x7b3) => {
                let off = scratch(csr as usize - 0x7b2);
                let src = self.get(i.rs1);
                let old = self.b.ins().load(I64, Self::mem(), self.hart, off);
                self.b.ins().store(Self::mem(), src, self.hart, off);
                self.set(i.rd, old);
            }
            _ => return false,
        }
        true
    }

    /// One more open-coded instruction retires here (counters catch up at the next sync).
    fn retire_one(&mut self) {
        self.count += 1;
        self.pending += 1;
    }

    fn call_exec(&mut self, g: &GuestInsn) {
        self.exec_helper(g, false);
        self.lag_counters();
        self.cached = 0;
        self.dirty = 0;
        self.count += 1;
    }

    /// Division or remainder with RISC-V's results for a zero divisor (all ones, or the
    /// dividend) and for signed overflow (the dividend, or zero), without host traps.
    fn divrem(&mut self, a: Value, b: Value, ty: Type, signed: bool, rem: bool) -> Value {
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let bad = if signed {
            let min = if ty == I32 { i32::MIN as i64 } else { i64::MIN };
            let a_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
            let b_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
            let ovf = self.b.ins().band(a_min, b_m1);
            self.b.ins().bor(zero, ovf)
        } else {
            zero
        };
        // Dividing by one gives the overflow results (MIN / 1 = MIN, MIN % 1 = 0).
        let one = self.b.ins().iconst(ty, 1);
        let safe = self.b.ins().select(bad, one, b);
        let r = match (signed, rem) {
            (true, false) => self.b.ins().sdiv(a, safe),
            (false, false) => self.b.ins().udiv(a, safe),
            (true, true) => self.b.ins().srem(a, safe),
            (false, true) => self.b.ins().urem(a, safe),
        };
        let on_zero = if rem { a } else { self.b.ins().iconst(ty, -1) };
        self.b.ins().select(zero, on_zero, r)
    }

    /// Open-code an ALU operation; returns false when `i` is not one.
    fn alu(&mut self, i: &Inst) -> bool {
        use Op::*;
        let rv32 = self.xlen == Xlen::X32;
        let imm = i.imm;
        let v = match i.op {
            Lui => self.b.ins().iconst(I64, imm),
            Addi => {
                let a = self.get(i.rs1);
                self.b.ins().iadd_imm_s(a, imm)
            }
            Xori => {
                let a = self.get(i.rs1);
                self.b.ins().bxor_imm_s(a, imm)
            }
            Ori => {
                let a = self.get(i.rs1);
                self.b.ins().bor_imm_s(a, imm)
            }
            Andi => {
                let a = self.get(i.rs1);
                self.b.ins().band_imm_s(a, imm)
            }
            Slti | Sltiu => {
                let a = self.get(i.rs1);
                let cc = if i.op == Slti {
                    IntCC::SignedLessThan
                } else {
                    IntCC::UnsignedLessThan
                };
                let c = self.b.ins().icmp_imm_s(cc, a, imm);
                self.b.ins().uextend(I64, c)
            }
            Slli => {
                let a = self.get(i.rs1);
                self.b.ins().ishl_imm_s(a, imm & 63)
            }
            Srli => {
                let a = self.get(i.rs1);
                let a = self.addr(a); // zero-extended on RV32
                self.b.ins().ushr_imm_s(a, imm & 63)
            }
            Srai => {
                let a = self.get(i.rs1);
                self.b.ins().sshr_imm_s(a, imm & 63)
            }
            Add | Sub | Xor | Or | And | Slt | Sltu | Mul => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                match i.op {
                    Add => self.b.ins().iadd(a, b),
                    Sub => self.b.ins().isub(a, b),
                    Xor => self.b.ins().bxor(a, b),
                    Or => self.b.ins().bor(a, b),
                    And => self.b.ins().band(a, b),
                    Mul => self.b.ins().imul(a, b),
                    _ => {
                        let cc = if i.op == Slt {
                            IntCC::SignedLessThan
                        } else {
                            IntCC::UnsignedLessThan
                        };
                        let c = self.b.ins().icmp(cc, a, b);
                        self.b.ins().uextend(I64, c)
                    }
                }
            }
            Sll | Srl | Sra => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let mask = if rv32 { 31 } else { 63 };
                let sh = self.b.ins().band_imm_s(b, mask);
                match i.op {
                    Sll => self.b.ins().ishl(a, sh),
                    Srl => {
                        let a = self.addr(a);
                        self.b.ins().ushr(a, sh)
                    }
                    _ => self.b.ins().sshr(a, sh),
                }
            }
            Mulh | Mulhu | Mulhsu if !rv32 => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                match i.op {
                    Mulh => self.b.ins().smulhi(a, b),
                    Mulhu => self.b.ins().umulhi(a, b),
                    _ => {
                        // mulhsu = mulhu(a, b) - (a < 0 ? b : 0)
                        let hi = self.b.ins().umulhi(a, b);
                        let neg = self.b.ins().sshr_imm_s(a, 63);
                        let corr = self.b.ins().band(neg, b);
                        self.b.ins().isub(hi, corr)
                    }
                }
            }
            Mulh | Mulhu | Mulhsu => {
                // RV32: the 64-bit product of the 32-bit operands, high half.
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let (a, b) = match i.op {
                    Mulh => (a, b),
                    Mulhu => (self.addr(a), self.addr(b)),
                    _ => (a, self.addr(b)),
                };
                let p = self.b.ins().imul(a, b);
                if i.op == Mulhu {
                    self.b.ins().ushr_imm_s(p, 32)
                } else {
                    self.b.ins().sshr_imm_s(p, 32)
                }
            }
            Div | Divu | Rem | Remu | Divw | Divuw | Remw | Remuw => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let word = rv32 || matches!(i.op, Divw | Divuw | Remw | Remuw);
                let signed = matches!(i.op, Div | Rem | Divw | Remw);
                let rem = matches!(i.op, Rem | Remu | Remw | Remuw);
                if word {
                    let a = self.b.ins().ireduce(I32, a);
                    let b = self.b.ins().ireduce(I32, b);
                    let r = self.divrem(a, b, I32, signed, rem);
                    self.b.ins().sextend(I64, r)
                } else {
                    self.divrem(a, b, I64, signed, rem)
                }
            }
            Addiw | Slliw | Srliw | Sraiw | Addw | Subw | Sllw | Srlw | Sraw | Mulw | Rolw
            | Rorw | Roriw | Packw
                if !rv32 =>
            {
                let a = self.get(i.rs1);
                let a32 = self.b.ins().ireduce(I32, a);
                let b32 = match i.op {
                    Addiw | Slliw | Srliw | Sraiw | Roriw => {
                        self.b.ins().iconst(I32, imm & 0xffff_ffff)
                    }
                    _ => {
                        let b = self.get(i.rs2);
                        self.b.ins().ireduce(I32, b)
                    }
                };
                let r = match i.op {
                    Addiw | Addw => self.b.ins().iadd(a32, b32),
                    Subw => self.b.ins().isub(a32, b32),
                    Mulw => self.b.ins().imul(a32, b32),
                    Rolw => self.b.ins().rotl(a32, b32),
                    Rorw | Roriw => self.b.ins().rotr(a32, b32),
                    Packw => {
                        let lo = self.b.ins().band_imm_s(a32, 0xffff);
                        let hi = self.b.ins().ishl_imm_s(b32, 16);
                        self.b.ins().bor(lo, hi)
                    }
                    Slliw | Sllw => {
                        let s = self.b.ins().band_imm_s(b32, 31);
                        self.b.ins().ishl(a32, s)
                    }
                    Srliw | Srlw => {
                        let s = self.b.ins().band_imm_s(b32, 31);
                        self.b.ins().ushr(a32, s)
                    }
                    _ => {
                        let s = self.b.ins().band_imm_s(b32, 31);
                        self.b.ins().sshr(a32, s)
                    }
                };
                self.b.ins().sextend(I64, r)
            }
            Sh1add | Sh2add | Sh3add | AddUw | Sh1addUw | Sh2addUw | Sh3addUw => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let a = if matches!(i.op, Sh1add | Sh2add | Sh3add) {
                    a
                } else {
                    let lo = self.b.ins().ireduce(I32, a);
                    self.b.ins().uextend(I64, lo)
                };
                let n = match i.op {
                    Sh1add | Sh1addUw => 1,
                    Sh2add | Sh2addUw => 2,
                    Sh3add | Sh3addUw => 3,
                    _ => 0,
                };
                let a = self.b.ins().ishl_imm_s(a, n);
                self.b.ins().iadd(a, b)
            }
            SlliUw => {
                let a = self.get(i.rs1);
                let lo = self.b.ins().ireduce(I32, a);
                let a = self.b.ins().uextend(I64, lo);
                self.b.ins().ishl_imm_s(a, imm & 63)
            }
            Andn | Orn | Xnor | Min | Max | Minu | Maxu | CzeroEqz | CzeroNez => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                match i.op {
                    Andn => self.b.ins().band_not(a, b),
                    Orn => self.b.ins().bor_not(a, b),
                    Xnor => self.b.ins().bxor_not(a, b),
                    Min => self.b.ins().smin(a, b),
                    Max => self.b.ins().smax(a, b),
                    Minu => self.b.ins().umin(a, b),
                    Maxu => self.b.ins().umax(a, b),
                    CzeroEqz => {
                        let z = self.b.ins().iconst(I64, 0);
                        self.b.ins().select(b, a, z)
                    }
                    _ => {
                        let z = self.b.ins().iconst(I64, 0);
                        self.b.ins().select(b, z, a)
                    }
                }
            }
            SextB | SextH | ZextH => {
                let a = self.get(i.rs1);
                match i.op {
                    SextB => {
                        let n = self.b.ins().ireduce(types::I8, a);
                        self.b.ins().sextend(I64, n)
                    }
                    SextH => {
                        let n = self.b.ins().ireduce(types::I16, a);
                        self.b.ins().sextend(I64, n)
                    }
                    _ => self.b.ins().band_imm_s(a, 0xffff),
                }
            }
            Clz | Ctz | Cpop | Clzw | Ctzw | Cpopw | Rev8 => {
                let a = self.get(i.rs1);
                let word = rv32 || matches!(i.op, Clzw | Ctzw | Cpopw);
                let x = if word {
                    self.b.ins().ireduce(I32, a)
                } else {
                    a
                };
                let r = match i.op {
                    Clz | Clzw => self.b.ins().clz(x),
                    Ctz | Ctzw => self.b.ins().ctz(x),
                    Cpop | Cpopw => self.b.ins().popcnt(x),
                    _ => self.b.ins().bswap(x),
                };
                if !word {
                    r
                } else if i.op == Rev8 {
                    self.b.ins().sextend(I64, r)
                } else {
                    self.b.ins().uextend(I64, r)
                }
            }
            Rol | Ror | Rori => {
                let a = self.get(i.rs1);
                let b = if i.op == Rori {
                    self.b.ins().iconst(I64, imm)
                } else {
                    self.get(i.rs2)
                };
                let (x, s) = if rv32 {
                    (self.b.ins().ireduce(I32, a), self.b.ins().ireduce(I32, b))
                } else {
                    (a, b)
                };
                // Cranelift rotates by the amount modulo the width, as RISC-V does.
                let r = if i.op == Rol {
                    self.b.ins().rotl(x, s)
                } else {
                    self.b.ins().rotr(x, s)
                };
                if rv32 {
                    self.b.ins().sextend(I64, r)
                } else {
                    r
                }
            }
            Bclr | Bext | Binv | Bset | Bclri | Bexti | Binvi | Bseti => {
                let a = self.get(i.rs1);
                let mask = if rv32 { 31 } else { 63 };
                let sh = if matches!(i.op, Bclri | Bexti | Binvi | Bseti) {
                    self.b.ins().iconst(I64, imm & mask)
                } else {
                    let b = self.get(i.rs2);
                    self.b.ins().band_imm_s(b, mask)
                };
                if matches!(i.op, Bext | Bexti) {
                    let x = self.b.ins().ushr(a, sh);
                    self.b.ins().band_imm_s(x, 1)
                } else {
                    let one = self.b.ins().iconst(I64, 1);
                    let bit = self.b.ins().ishl(one, sh);
                    match i.op {
                        Bclr | Bclri => self.b.ins().band_not(a, bit),
                        Binv | Binvi => self.b.ins().bxor(a, bit),
                        _ => self.b.ins().bor(a, bit),
                    }
                }
            }
            Pack | Packh => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                let (m, s) = match (i.op, rv32) {
                    (Packh, _) => (0xff, 8),
                    (_, true) => (0xffff, 16),
                    _ => (0xffff_ffff, 32),
                };
                let lo = self.b.ins().band_imm_s(a, m);
                let hi = if i.op == Pack && !rv32 {
                    b
                } else {
                    self.b.ins().band_imm_s(b, m)
                };
                let hi = self.b.ins().ishl_imm_s(hi, s);
                self.b.ins().bor(lo, hi)
            }
            // The rare bit permutations and carry-less multiplies: a pure helper.
            _ if i.op.class() == OpClass::Alu => {
                let a = self.get(i.rs1);
                let b = self.get(i.rs2);
                self.alu_helper(i.op, a, b)
            }
            _ => return false,
        };
        self.set(i.rd, v);
        true
    }
}

/// Build the IR of one block into `func`. `mem` enables the inline RAM path for loads and
/// stores (used only when the flags say accesses are direct). `may_loop`: a block whose end
/// jumps to its start may iterate inside the function.
#[allow(clippy::too_many_arguments)]
///
/// Helper calls point into `insns`: the caller keeps them, unmoved, as long as the code.
pub fn build(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    isa: &dyn TargetIsa,
    insns: &[GuestInsn],
    xlen: Xlen,
    flags: BlockFlags,
    has_c: bool,
    mem: Option<MemCtx>,
    may_loop: bool,
) {
    let cc = isa.default_call_conv();
    let mut sig = Signature::new(cc);
    sig.params.push(AbiParam::new(I64));
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I32));
    func.signature = sig;
    func.name = UserFuncName::user(0, 0);
    let mut hsig = Signature::new(cc);
    hsig.params.extend([AbiParam::new(I64); 3]);
    hsig.returns.push(AbiParam::new(I32));

    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    let exit = b.create_block();
    b.set_cold_block(exit);
    b.append_block_param(exit, I32);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let hart = b.block_params(entry)[0];
    let frame = b.block_params(entry)[1];
    let helper_sig = b.import_signature(hsig);
    let mut msig = Signature::new(cc);
    msig.params.extend([AbiParam::new(I64); 4]);
    msig.returns.push(AbiParam::new(I32));
    let misaligned_sig = b.import_signature(msig);
    let mut asig = Signature::new(cc);
    asig.params.extend([
        AbiParam::new(I32),
        AbiParam::new(I64),
        AbiParam::new(I64),
        AbiParam::new(I32),
    ]);
    asig.returns.push(AbiParam::new(I64));
    let alu_sig = b.import_signature(asig);
    // A block whose final jump or branch targets its own start keeps looping inside the
    // function (budget permitting) instead of returning to the dispatcher every iteration.
    let start_pc = insns.first().map_or(0, |g| g.pc);
    let self_loop = has_c
        && may_loop
        && !flags.is_single_step()
        && insns.last().is_some_and(|g| {
            g.allowed
                && matches!(
                    g.inst.op,
                    Op::Jal | Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu
                )
                && {
                    let t = g.pc.wrapping_add(g.inst.imm as u64);
                    (if xlen == Xlen::X32 {
                        t & 0xffff_ffff
                    } else {
                        t
                    }) == start_pc
                }
        });
    let looping = if self_loop {
        let done = b.declare_var(I64);
        let zero = b.ins().iconst(I64, 0);
        b.def_var(done, zero);
        Some((done, b.create_block()))
    } else {
        None
    };
    let vars = std::array::from_fn(|_| b.declare_var(I64));
    let mut tx = Tx {
        b: &mut b,
        hart,
        frame,
        xlen,
        flags,
        exit,
        helper_sig,
        misaligned_sig,
        alu_sig,
        pending: 0,
        count: 0,
        mem,
        looping,
        loop_slots: 0,
        vars,
        cached: 0,
        dirty: 0,
    };
    if let Some((_, head)) = looping {
        // Every register the block names (an over-approximation for FP operands): loaded
        // once before the loop, carried in variables across iterations.
        let mut slots = 0;
        for g in insns {
            for r in [g.inst.rd, g.inst.rs1, g.inst.rs2] {
                if (1..32).contains(&r) {
                    slots |= 1 << r;
                }
            }
        }
        for r in 1..SLOTS as u8 {
            if slots & (1 << r) != 0 {
                tx.get(r);
            }
        }
        tx.b.ins().jump(head, &[]);
        tx.b.switch_to_block(head);
        // Later iterations arrive with values that may differ from the hart's copies.
        tx.loop_slots = slots;
        tx.cached = slots;
        tx.dirty = slots;
    }

    let mut ended = false;
    for g in insns {
        let i = &g.inst;
        let next = g.pc.wrapping_add(i.len as u64);
        let next = if xlen == Xlen::X32 {
            next & 0xffff_ffff
        } else {
            next
        };
        use Op::*;
        // Auipc, jumps and branches need the pc and, without C, target alignment checks.
        match i.op {
            _ if !g.allowed => {}
            Auipc => {
                let v =
                    tx.b.ins()
                        .iconst(I64, g.pc.wrapping_add(i.imm as u64) as i64);
                tx.set(i.rd, v);
                tx.retire_one();
                continue;
            }
            Jal => {
                let t = g.pc.wrapping_add(i.imm as u64);
                let t = if xlen == Xlen::X32 {
                    t & 0xffff_ffff
                } else {
                    t
                };
                if !has_c && t & 3 != 0 {
                    let tv = tx.b.ins().iconst(I64, t as i64);
                    tx.misaligned(g, tv);
                    ended = true;
                    break;
                }
                let link = tx.b.ins().iconst(I64, next as i64);
                tx.set(i.rd, link);
                tx.retire_one();
                if tx.looping.is_some() && t == start_pc {
                    tx.loop_back(start_pc);
                } else {
                    tx.set_pc_const(t);
                    tx.ret_count(false);
                }
                ended = true;
                break;
            }
            Jalr => {
                let a = tx.get(i.rs1);
                let t = tx.b.ins().iadd_imm_s(a, i.imm);
                let t = tx.b.ins().band_imm_s(t, -2);
                let t = tx.addr(t);
                if !has_c {
                    let bad = tx.b.ins().band_imm_s(t, 2);
                    let mis = tx.b.create_block();
                    tx.b.set_cold_block(mis);
                    let ok = tx.b.create_block();
                    tx.b.ins().brif(bad, mis, &[], ok, &[]);
                    tx.b.switch_to_block(mis);
                    tx.b.seal_block(mis);
                    tx.misaligned(g, t);
                    tx.b.switch_to_block(ok);
                    tx.b.seal_block(ok);
                }
                let link = tx.b.ins().iconst(I64, next as i64);
                tx.set(i.rd, link);
                tx.set_pc(t);
                tx.retire_one();
                tx.ret_count(false);
                ended = true;
                break;
            }
            Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                let a = tx.get(i.rs1);
                let bv = tx.get(i.rs2);
                let cc = match i.op {
                    Beq => IntCC::Equal,
                    Bne => IntCC::NotEqual,
                    Blt => IntCC::SignedLessThan,
                    Bge => IntCC::SignedGreaterThanOrEqual,
                    Bltu => IntCC::UnsignedLessThan,
                    _ => IntCC::UnsignedGreaterThanOrEqual,
                };
                let c = tx.b.ins().icmp(cc, a, bv);
                let t = g.pc.wrapping_add(i.imm as u64);
                let t = if xlen == Xlen::X32 {
                    t & 0xffff_ffff
                } else {
                    t
                };
                if !has_c && t & 3 != 0 {
                    // Taken, the branch traps instead of retiring.
                    let taken = tx.b.create_block();
                    let fall = tx.b.create_block();
                    tx.b.ins().brif(c, taken, &[], fall, &[]);
                    tx.b.switch_to_block(taken);
                    tx.b.seal_block(taken);
                    let tv = tx.b.ins().iconst(I64, t as i64);
                    tx.misaligned(g, tv);
                    tx.b.switch_to_block(fall);
                    tx.b.seal_block(fall);
                    tx.retire_one();
                    tx.set_pc_const(next);
                    tx.ret_count(false);
                    ended = true;
                    break;
                }
                tx.retire_one();
                if tx.looping.is_some() && t == start_pc {
                    let taken = tx.b.create_block();
                    let fall = tx.b.create_block();
                    tx.b.ins().brif(c, taken, &[], fall, &[]);
                    // Leaving is the rare way: the host code falls through into the loop.
                    tx.b.set_cold_block(fall);
                    tx.b.switch_to_block(taken);
                    tx.b.seal_block(taken);
                    let saved = (tx.pending, tx.cached, tx.dirty);
                    tx.loop_back(start_pc);
                    (tx.pending, tx.cached, tx.dirty) = saved;
                    tx.b.switch_to_block(fall);
                    tx.b.seal_block(fall);
                    tx.set_pc_const(next);
                    tx.ret_count(false);
                } else {
                    let tv = tx.b.ins().iconst(I64, t as i64);
                    let nv = tx.b.ins().iconst(I64, next as i64);
                    let pc = tx.b.ins().select(c, tv, nv);
                    tx.set_pc(pc);
                    tx.ret_count(false);
                }
                ended = true;
                break;
            }
            // Harts are in-order and memory is coherent: ordering fences are no-ops.
            Fence => {
                tx.retire_one();
                continue;
            }
            _ => {}
        }
        if g.allowed && (tx.alu(i) || tx.mem_op(g) || tx.debug_csr(i)) {
            tx.retire_one();
            continue;
        }
        tx.call_exec(g);
        if ends_block(i) {
            // The helper has set pc (and may have trapped).
            tx.ret_count(false);
            ended = true;
            break;
        }
    }
    if !ended {
        let last = insns
            .last()
            .map_or(0, |g| g.pc.wrapping_add(g.inst.len as u64));
        let last = if xlen == Xlen::X32 {
            last & 0xffff_ffff
        } else {
            last
        };
        tx.set_pc_const(last);
        tx.ret_count(false);
    }
    // Early exit: counters were synced before the helper call; pc is set by the helper.
    if let Some((_, head)) = tx.looping {
        tx.b.seal_block(head);
    }
    tx.b.switch_to_block(exit);
    tx.b.seal_block(exit);
    let mut n = tx.b.block_params(exit)[0];
    if let Some((done, _)) = tx.looping {
        let d = tx.b.use_var(done);
        let d = tx.b.ins().ireduce(I32, d);
        n = tx.b.ins().iadd(n, d);
    }
    let r = tx.b.ins().bor_imm_s(n, STOP_BIT as i64);
    tx.b.ins().return_(&[r]);
    b.finalize(isa.frontend_config());
}
