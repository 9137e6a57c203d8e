//! The block function: its signature, its entry and exit, and the walk over the guest
//! instructions that hands each to the open-coders.

use super::*;

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
    for (idx, g) in insns.iter().enumerate() {
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
                // Followed by the translator (`JitEngine::follow`): the block runs on there.
                if insns.get(idx + 1).is_some_and(|n| n.pc == t) {
                    continue;
                }
                if tx.looping.is_some() && t == start_pc {
                    tx.loop_back(start_pc);
                } else {
                    tx.set_pc_const(t);
                    tx.ret_count(EXIT_TAKEN);
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
                tx.ret_count(EXIT_JUMP);
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
                    tx.ret_count(0);
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
                    tx.ret_count(EXIT_NEXT);
                } else {
                    let tv = tx.b.ins().iconst(I64, t as i64);
                    let nv = tx.b.ins().iconst(I64, next as i64);
                    let pc = tx.b.ins().select(c, tv, nv);
                    tx.set_pc(pc);
                    let taken = tx.b.ins().iconst(I32, EXIT_TAKEN as i64);
                    let fall = tx.b.ins().iconst(I32, EXIT_NEXT as i64);
                    let exit = tx.b.ins().select(c, taken, fall);
                    tx.ret_with(exit);
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
        if ends_block(i, flags.debug_mode()) {
            // The helper has set pc (and may have trapped).
            tx.ret_count(0);
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
        tx.ret_count(EXIT_NEXT);
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
