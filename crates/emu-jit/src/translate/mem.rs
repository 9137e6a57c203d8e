//! Loads and stores: the inline RAM path, the software TLB, watchpoint checks where
//! they are armed, and the slow path through the hart's own memory unit.

use super::*;

impl Tx<'_, '_> {
    pub(super) fn addr(&mut self, v: Value) -> Value {
        if self.xlen == Xlen::X32 {
            let n = self.b.ins().ireduce(I32, v);
            self.b.ins().uextend(I64, n)
        } else {
            v
        }
    }

    /// Run `g` through the helper on a side path; continue at `cont` (or leave the block).
    /// `before` is the register state where the fast path split off, `after` the state the
    /// fast path reaches `cont` with; the slow path reaches it with the same.
    pub(super) fn slow_path(
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
    pub(super) fn mem_op(&mut self, g: &GuestInsn) -> bool {
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
    pub(super) fn tlb_op(
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
    pub(super) fn watch_check(
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
    pub(super) fn host_access(
        &mut self,
        host: Value,
        i: &Inst,
        size: u64,
        signed: bool,
        store: bool,
    ) {
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
}
