//! Leaving open-coded code: helper calls for the instructions the JIT does not open-code,
//! block exits with their instruction counts, a self-loop's back edge, and the Debug
//! Mode CSRs the ROM uses.

use super::*;

impl Tx<'_, '_> {
    /// The helper that executes `g` when it is not open-coded (`debug`: in a Debug Mode
    /// block, where loads and stores mostly reach the Debug Module's memory).
    pub(super) fn helper_for(g: &GuestInsn, debug: bool) -> usize {
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
    pub(super) fn exec_helper(&mut self, g: &GuestInsn, cold: bool) {
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

    pub(super) fn call_exec(&mut self, g: &GuestInsn) {
        self.exec_helper(g, false);
        self.lag_counters();
        self.cached = 0;
        self.dirty = 0;
        self.count += 1;
    }

    /// Leave the block with an instruction-address-misaligned exception for the jump `g` to
    /// `target` (only harts without C can take it).
    pub(super) fn misaligned(&mut self, g: &GuestInsn, target: Value) {
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

    /// Leave the block (the translation state stays as it was, for paths that go on).
    /// `exit`: the exit bits of the return value ([`EXIT_TAKEN`], [`EXIT_NEXT`], or none
    /// when what the block did may change what runs next: a helper's instruction).
    pub(super) fn ret_count(&mut self, exit: u32) {
        let exit = self.b.ins().iconst(I32, exit as i64);
        self.ret_with(exit);
    }

    /// [`Tx::ret_count`] with exit bits computed at run time (a final branch's two ways).
    pub(super) fn ret_with(&mut self, exit: Value) {
        let saved = (self.pending, self.cached, self.dirty);
        self.sync_counters();
        self.write_back();
        let mut r = self.b.ins().iadd_imm_s(exit, self.count as i64);
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
    pub(super) fn loop_back(&mut self, start_pc: u64) {
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
    pub(super) fn debug_csr(&mut self, i: &Inst) -> bool {
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
}
