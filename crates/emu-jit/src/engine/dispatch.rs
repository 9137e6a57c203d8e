//! The dispatch loop: run blocks until the budget, a stop or a poll ends the call; take
//! faults, interrupts and `wfi` between blocks.

use super::*;

impl Engine for JitEngine {
    fn name(&self) -> &'static str {
        "jit"
    }

    /// Long enough that loops run inside translated code, short enough (microseconds) that a
    /// timer or another hart's device write is noticed promptly.
    fn batch_hint(&self) -> u64 {
        16_384
    }

    fn preempt(&self) -> Option<Preempt> {
        let frame = self.frame.clone();
        Some(Preempt::new(move || {
            frame.limit.store(0, Ordering::Relaxed)
        }))
    }

    fn run(
        &mut self,
        hart: &mut Hart,
        bus: &dyn Bus,
        lines: u64,
        budget: u64,
        poll: &mut dyn FnMut() -> bool,
    ) -> RunStats {
        self.attach(bus);
        if bus.host_write_epoch() != self.host_epoch {
            self.host_written(bus);
        }
        // Whoever had the hart since the last call (a debugger, another engine) may have
        // changed how addresses translate; usually nothing changed and the TLB stays warm.
        let ctx = TlbContext::of(hart);
        if self.tlb_ctx.as_ref() != Some(&ctx) {
            self.tlb.flush();
        }
        let stats = self.dispatch(hart, bus, lines, budget, poll);
        self.tlb_ctx = Some(TlbContext::of(hart));
        stats
    }
}

impl JitEngine {
    /// Fetching or translating the next block faulted: take the exception (it counts as an
    /// executed instruction, and ends a step).
    pub(super) fn fault(&mut self, hart: &mut Hart, bus: &dyn Bus, e: Exception, stepping: bool) {
        let (prv, debug_mode) = (hart.prv, hart.debug_mode);
        hart.raise(e, bus);
        // A trap counts for icount; entering Debug Mode does not.
        if !debug_mode && !hart.debug_mode {
            hart.icount_tick(prv, 1);
        }
        if stepping {
            hart.finish_step(bus);
        }
        self.tlb.flush();
    }

    /// The block linked to block `id`'s exit `exit` (0 taken, 1 fall-through), when the
    /// link still stands and the call has the instructions left for it
    /// ([`JitEngine::take_limit`]).
    #[inline]
    fn linked(&self, id: u32, exit: usize, ran: u64) -> Option<Block> {
        let link = self.rows.get(id as usize)?.links[exit]?;
        if link.epoch != self.link_epoch || link.tlb != self.tlb.generation() {
            return None;
        }
        self.take_limit(ran, link.to)
    }

    /// The block at `pc` after a `jalr`, when the dispatcher would run it next (a hart
    /// running blocks under `flags` found it in the jump cache, at the physical address
    /// the fetch TLB gives now, in RAM, with no execute trigger to check) and the call has
    /// the instructions left for it (as [`JitEngine::linked`]).
    #[inline]
    fn jumped(&self, pc: u64, flags: BlockFlags, ran: u64) -> Option<Block> {
        let pa = self.tlb.fetch(pc).filter(|&pa| self.in_ram(pa))?;
        let b = self.cached(BlockKey {
            pc,
            pa,
            flags,
            tag: 0,
        })?;
        if b.check {
            return None;
        }
        self.take_limit(ran, b)
    }

    /// `next` when the call's limit, less the `ran` instructions just run, covers the
    /// whole block; the remainder becomes the limit (a self-looping block reads it). A
    /// preemption that lands between the load and the store is seen by `poll` once the
    /// chain ends, within the limit, as for a block entered from the loop. Not a quick
    /// block that has run hot: the dispatcher's lookup compiles it for speed (a jump finds
    /// no such block in the cache, a link may still lead to one).
    #[inline]
    fn take_limit(&self, ran: u64, next: Block) -> Option<Block> {
        if next.quick && self.is_hot(next) {
            return None;
        }
        let left = self.frame.limit.load(Ordering::Relaxed).checked_sub(ran)?;
        if next.len > left {
            return None;
        }
        self.frame.limit.store(left, Ordering::Relaxed);
        Some(next)
    }

    /// The dispatch loop of [`Engine::run`].
    pub(super) fn dispatch(
        &mut self,
        hart: &mut Hart,
        bus: &dyn Bus,
        lines: u64,
        budget: u64,
        poll: &mut dyn FnMut() -> bool,
    ) -> RunStats {
        let mut executed = 0u64;
        // The exit the last block left by, when it may be linked to the block found next:
        // (its id, which exit, the link epoch then).
        let mut from: Option<(u32, usize, u64)> = None;
        // A guest that patches the instructions just ahead of it (self-modifying code, or
        // an adversary) would have the next block translated whole at every such store
        // only to throw it away at the next: after a store into the next 64 bytes of code,
        // the next few blocks are one instruction each, the cheapest to compile.
        let mut rewrote_next = 0u32;
        loop {
            let came_from = from.take();
            match hart.before_instruction(lines, bus) {
                Some(StepOutcome::Waiting) => {
                    return RunStats {
                        executed,
                        exit: EngineExit::Waiting,
                    };
                }
                Some(StepOutcome::Halted(_)) => {
                    // Debug Mode entered on a request: go on into the ROM at once (it reports
                    // the halt), in new translations. The request is spent (as `service`
                    // would leave it for a hart in Debug Mode), so a resume later in this
                    // call does not halt again on it.
                    hart.debug.request = None;
                    self.tlb.flush();
                }
                Some(_) => {
                    // An interrupt was taken: new privilege, so new translations.
                    self.tlb.flush();
                    return RunStats {
                        executed,
                        exit: EngineExit::Interrupt,
                    };
                }
                None => {}
            }
            if executed >= budget {
                return RunStats {
                    executed,
                    exit: EngineExit::Budget,
                };
            }
            if hart.trig.version != self.trig_version {
                self.sync_triggers(hart);
            }
            // Resumed with dcsr.step: this instruction (or its trap) ends in Debug Mode.
            let stepping = hart.debug.stepping;
            let pc = hart.pc;
            // Instructions that may run before an icount trigger could become pending.
            let (prv, debug_mode) = (hart.prv, hart.debug_mode);
            let icount = hart.icount_budget();
            // Blocks count in 32 bits (their result, a loop's iterations).
            let mut limit = (budget - executed).min(MAX_CALL);
            if let Some(c) = icount {
                limit = limit.min(c);
            }
            let pa = match self.tlb.fetch(pc) {
                Some(pa) => pa,
                None => match hart.translate(pc, 2, Access::Fetch, bus) {
                    Ok(pa) => {
                        self.fill_fetch(hart, pc, pa);
                        pa
                    }
                    Err(e) => {
                        self.fault(hart, bus, e, stepping);
                        executed += 1;
                        continue;
                    }
                },
            };
            let flags = BlockFlags::of(hart);
            // mcontrol with timing = 1 on execution acts after one instruction: where an
            // execute trigger may match, such a hart runs one-instruction blocks.
            let exec_after = hart.trig.exec_after && self.exec_watched(pc, 4);
            // Code ahead was rewritten just before: see `rewrote_next`.
            let rewritten = rewrote_next > 0;
            rewrote_next = rewrote_next.saturating_sub(1);
            let flags = if self.single_step || stepping || exec_after || rewritten {
                flags.single_step()
            } else {
                flags
            };
            // Code outside RAM may be rewritten by its device (the Debug Module writes each
            // abstract command there): key it by content, so a repeated program reuses
            // its translation and a new one never runs a stale one.
            let tag = if self.in_ram(pa) {
                0
            } else {
                bus.code_tag(emu_core::PhysAddr(pa))
            };
            let key = BlockKey { pc, pa, flags, tag };
            // Whether the block is the one at `key` (not its one-instruction stand-in).
            let mut sized = true;
            let block = match self.block(hart, bus, key) {
                // Never run past the budget (or an icount): near its end, use a
                // one-instruction block.
                Ok(b) if b.len > limit => {
                    sized = false;
                    self.block(
                        hart,
                        bus,
                        BlockKey {
                            flags: flags.single_step(),
                            ..key
                        },
                    )
                }
                r => r,
            };
            // An execute trigger may match here: ask before running the block (blocks know
            // whether their first instruction is watched, so unwatched code pays nothing).
            // Address triggers outrank a fetch fault.
            let watched = match &block {
                Ok(b) => b.check,
                Err(Some(_)) => self.exec_watched(pc, 4),
                Err(None) => false,
            };
            if watched && let Err(e) = hart.check_execute(bus) {
                self.fault(hart, bus, e, stepping);
                executed += 1;
                continue;
            }
            let block = match block {
                Ok(b) => b,
                Err(Some(e)) => {
                    self.fault(hart, bus, e, stepping);
                    executed += 1;
                    continue;
                }
                Err(None) => {
                    // A translator failure is a bug: loud in tests, still correct in release.
                    debug_assert!(false, "JIT translation failed: {:?}", self.last_error);
                    let _ = hart.step_with_lines(bus, lines);
                    self.tlb.flush();
                    executed += 1;
                    continue;
                }
            };
            // Blocks reached through links skip all of the above, which is why only a hart
            // none of it can apply to runs them (docs/jit.md, "Chaining").
            let chain = !self.single_step
                && !stepping
                && !debug_mode
                && !hart.trig.exec_after
                && !hart.trig.icount;
            if chain
                && let Some((id, exit, epoch)) = came_from
                && epoch == self.link_epoch
                && sized
                && !block.check
                && self.in_ram(pa)
                && self.tlb.fetch(pc).is_some()
                && let Some(row) = self.rows.get_mut(id as usize)
            {
                row.links[exit] = Some(Link {
                    epoch,
                    tlb: self.tlb.generation(),
                    to: block,
                });
            }
            // A preemption that lands before this store is seen by `poll` after the block
            // (which then ran at most `limit` instructions, as without one).
            self.frame.limit.store(limit, Ordering::Relaxed);
            let env = Env {
                bus,
                code: &self.code,
                dirty_pages: Default::default(),
                flush_all: Default::default(),
                tlb: &self.tlb,
                ram: self.ram,
            };
            self.frame.enter(&env);
            let mut block = block;
            let mut n = 0;
            loop {
                // SAFETY: the block was generated for this signature; `hart`, the frame and
                // the `env` it holds are valid for the whole call and not otherwise accessed
                // while it runs (but for the frame's atomic limit).
                let r = unsafe { (block.entry)(hart as *mut Hart, &*self.frame as *const Frame) };
                self.stats.executed += 1;
                let ran = (r & COUNT_MASK) as u64;
                n += ran;
                if block.quick
                    && let Some(row) = self.rows.get_mut(block.id as usize)
                {
                    row.heat = row.heat.saturating_add(ran);
                }
                if !chain {
                    break;
                }
                // A block that wrote code leaves through its helper (no exit bits), so the
                // invalidation comes before anything runs on.
                debug_assert!(
                    r & EXIT_JUMP == 0
                        || (env.dirty_pages.borrow().is_empty() && !env.flush_all.get())
                );
                let exit = match r & EXIT_JUMP {
                    EXIT_TAKEN => 0,
                    EXIT_NEXT => 1,
                    EXIT_JUMP => match self.jumped(hart.pc, flags, ran) {
                        Some(next) => {
                            self.stats.chained += 1;
                            block = next;
                            continue;
                        }
                        None => break,
                    },
                    _ => break,
                };
                match self.linked(block.id, exit, ran) {
                    Some(next) => {
                        self.stats.chained += 1;
                        block = next;
                    }
                    None => {
                        from = Some((block.id, exit, self.link_epoch));
                        break;
                    }
                }
            }
            self.frame.leave();
            executed += n;
            if icount.is_some() && !debug_mode {
                // Every instruction retired or trapped counts; one that entered Debug Mode
                // instead (ebreak, a trigger) did neither.
                hart.icount_tick(prv, n.saturating_sub(hart.debug_mode as u64));
            }
            if exec_after && watched {
                hart.check_execute_after();
                if let Some(e) = hart.take_after_fire() {
                    hart.raise(e, bus);
                    self.tlb.flush();
                }
            }
            let dirty = env.dirty_pages.take();
            let flush = env.flush_all.get();
            drop(env);
            if !dirty.is_empty()
                && let Some(next) = self.tlb.fetch(hart.pc)
                && dirty.iter().any(|&(s, e)| s < next + 64 && next < e)
            {
                rewrote_next = 8;
            }
            for (start, end) in dirty {
                self.invalidate_range(start, end);
            }
            if flush {
                self.flush();
            }
            if stepping {
                hart.finish_step(bus);
                self.tlb.flush();
            }
            if poll() {
                return RunStats {
                    executed,
                    exit: EngineExit::Stopped,
                };
            }
        }
    }
}
