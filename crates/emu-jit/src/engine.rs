//! The dispatcher: finds or translates the block at the hart's pc, runs it, and handles what
//! blocks cannot: interrupts, wfi, invalidation, exact budgets, and the code heap filling up.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use emu_core::bus::RamWindow;
use emu_core::{Access, Bus, Engine, EngineExit, Exception, Hart, Preempt, RunStats, StepOutcome};

use crate::codemap::CodeMap;
use crate::flags::BlockFlags;
use crate::heap::{CodeHeap, HeapError};
use crate::helpers::{Env, Frame};
use crate::tlb::{Tlb, TlbContext};
use crate::translate::{GuestInsn, MAX_INSNS, MemCtx, STOP_BIT, build};

/// Why the JIT could not be created or could not translate.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    /// The host ISA is not supported by Cranelift or a setting was refused.
    #[error("host not supported: {0}")]
    Host(String),
    /// Code memory.
    #[error(transparent)]
    Heap(#[from] HeapError),
    /// Cranelift rejected a function (a translator bug).
    #[error("compile: {0}")]
    Compile(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, JitError>;

/// Identity of a block: virtual pc (pc-relative code depends on it), physical pc (the bytes
/// it was made from) and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockKey {
    /// Virtual address of the first instruction.
    pub pc: u64,
    /// Physical address of the first instruction.
    pub pa: u64,
    /// Translation flags.
    pub flags: BlockFlags,
    /// Content tag of code outside RAM that changes behind the hart's back (the Debug
    /// Module's program area, [`Bus::code_tag`]); 0 for RAM and ROM.
    pub tag: u64,
}

/// Most instructions one block call may run (blocks count them in 32 bits).
const MAX_CALL: u64 = 1 << 30;

type BlockFn = unsafe extern "C" fn(*mut Hart, *const Frame) -> u32;

/// Entries of the direct-mapped jump cache in front of the block map.
const JUMP_CACHE: usize = 4096;

/// A cheap hasher for block keys (a few integers; no adversary can choose them).
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64);
    }
}

type KeyMap<V> = HashMap<BlockKey, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// A shelved block, with the execute ranges near it it was translated under.
type Shelved = (Vec<(u64, u64)>, Block);

#[derive(Clone, Copy)]
struct Block {
    entry: BlockFn,
    /// Guest instructions in the block when it runs to its end.
    len: u64,
    /// End of its virtual bytes (for execute-trigger invalidation).
    vend: u64,
    /// An execute trigger may match its first instruction: ask the hart before running it.
    check: bool,
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks translated.
    pub compiled: u64,
    /// Blocks executed.
    pub executed: u64,
    /// Blocks dropped because the code they came from was written.
    pub invalidated: u64,
    /// Whole-cache flushes (fence.i, heap full, explicit).
    pub flushes: u64,
    /// Blocks Cranelift refused (a translator bug; the dispatcher then interprets).
    pub failed: u64,
    /// Blocks brought back from the shelf instead of being translated again (an execute
    /// trigger returned to what they were translated under).
    pub reused: u64,
}

/// Configuration of a JIT engine.
#[derive(Clone, Copy, Debug)]
pub struct JitConfig {
    /// Bytes of code memory per engine (per hart).
    pub code_heap: usize,
    /// Translate every block as a single instruction (what debugger single-stepping uses;
    /// the test suite also runs whole programs this way).
    pub single_step: bool,
}

impl Default for JitConfig {
    fn default() -> Self {
        JitConfig {
            code_heap: 32 << 20,
            single_step: false,
        }
    }
}

/// The Cranelift JIT as an [`Engine`].
pub struct JitEngine {
    isa: OwnedTargetIsa,
    ctx: cranelift_codegen::Context,
    fctx: FunctionBuilderContext,
    heap: CodeHeap,
    /// The instructions of every block in the heap (their helper calls point here).
    insns: Vec<Box<[GuestInsn]>>,
    blocks: KeyMap<Block>,
    /// Most recent block per pc slot: most dispatches end here without hashing.
    jump_cache: Vec<Option<(BlockKey, Block)>>,

    /// Which physical bytes hold translated code.
    code: CodeMap,
    /// Virtual page → host memory, for loads and stores through the MMU, and fetch.
    tlb: Tlb,
    /// The translation state the TLB was left in by the last `run`.
    tlb_ctx: Option<TlbContext>,
    ram: Option<RamWindow>,
    single_step: bool,
    /// Virtual page → blocks whose bytes lie on it (to find the blocks an execute trigger
    /// covers).
    vpages: HashMap<u64, Vec<BlockKey>>,
    /// The virtual address ranges (inclusive) armed execute triggers may match, as of
    /// `trig_version`: blocks end before instructions there, and the dispatcher asks the
    /// hart before running a block that starts there.
    exec_ranges: Vec<(u64, u64)>,
    /// Blocks put aside when an execute trigger started or stopped covering them, with the
    /// execute ranges near them they were translated under (`shape`). A debugger that
    /// steps over a breakpoint disarms it and arms it again every time; the block it
    /// dropped comes back from here instead of costing a Cranelift compile (~100 us).
    /// Shelved blocks stay in the code map, so a write to their code drops them too.
    shelf: KeyMap<Vec<Shelved>>,
    /// The hart's trigger version the blocks were translated for.
    trig_version: u64,
    /// What blocks get besides the hart: shared with [`Preempt`], which zeroes its limit.
    frame: Arc<Frame>,
    /// The bus's host-write epoch whose writes the blocks already reflect.
    host_epoch: u64,
    /// What the engine has done so far.
    pub stats: JitStats,
    /// The first translation error, for diagnosis.
    pub last_error: Option<String>,
}

impl std::fmt::Debug for JitEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitEngine")
            .field("heap", &self.heap)
            .field("blocks", &self.blocks.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl JitEngine {
    /// A JIT for the host this runs on.
    pub fn new(cfg: JitConfig) -> Result<JitEngine> {
        let mut fb = settings::builder();
        fb.set("opt_level", "speed")
            .map_err(|e| JitError::Host(e.to_string()))?;
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        fb.set("enable_verifier", verify)
            .map_err(|e| JitError::Host(e.to_string()))?;
        let isa = cranelift_native::builder()
            .map_err(|e| JitError::Host(e.to_string()))?
            .finish(settings::Flags::new(fb))
            .map_err(|e| JitError::Host(e.to_string()))?;
        Ok(JitEngine {
            isa,
            ctx: cranelift_codegen::Context::new(),
            fctx: FunctionBuilderContext::new(),
            heap: CodeHeap::new(cfg.code_heap)?,
            insns: Vec::new(),
            blocks: KeyMap::default(),
            jump_cache: vec![None; JUMP_CACHE],
            code: CodeMap::default(),
            tlb: Tlb::default(),
            tlb_ctx: None,
            ram: None,
            single_step: cfg.single_step,
            vpages: HashMap::new(),
            exec_ranges: Vec::new(),
            shelf: KeyMap::default(),
            trig_version: 0,
            frame: Arc::default(),
            host_epoch: 0,
            stats: JitStats::default(),
            last_error: None,
        })
    }

    /// Drop every translated block.
    pub fn flush(&mut self) {
        self.blocks.clear();
        self.shelf.clear();
        self.vpages.clear();
        self.jump_cache.fill(None);
        self.code.clear();
        self.heap.reset();
        // No code points at them any more.
        self.insns.clear();
        self.stats.flushes += 1;
    }

    /// Drop the blocks translated from physical addresses `[start, end)`.
    pub fn invalidate_range(&mut self, start: u64, end: u64) {
        let gone = self.code.invalidate(start, end);
        for k in gone {
            self.forget_jump(k);
            if self.blocks.remove(&k).is_some() {
                self.stats.invalidated += 1;
            }
            self.shelf.remove(&k);
        }
    }

    fn jump_slot(k: BlockKey) -> usize {
        (k.pc >> 1) as usize % JUMP_CACHE
    }

    /// Take `k` out of the jump cache (its one slot: clearing the whole cache, 4096 entries,
    /// would cost more than a debugger's trigger write).
    fn forget_jump(&mut self, k: BlockKey) {
        let slot = Self::jump_slot(k);
        if self.jump_cache[slot].is_some_and(|(x, _)| x == k) {
            self.jump_cache[slot] = None;
        }
    }

    /// The execute ranges in `ranges` that can shape a block starting at `pc` (one that
    /// reaches at most a page and an instruction further).
    fn shape(ranges: &[(u64, u64)], pc: u64) -> Vec<(u64, u64)> {
        let last = pc.saturating_add(0x1000 + 4);
        ranges
            .iter()
            .filter(|&&(lo, hi)| pc <= hi && lo <= last)
            .copied()
            .collect()
    }

    /// Whether an armed execute trigger may match an instruction in `[pc, pc + len)`.
    fn exec_watched(&self, pc: u64, len: u64) -> bool {
        let last = pc.wrapping_add(len - 1);
        self.exec_ranges
            .iter()
            .any(|&(lo, hi)| pc <= hi && lo <= last)
    }

    /// The hart's triggers changed: drop the blocks whose virtual bytes an execute trigger
    /// starts or stops covering (they end, or must now end, before a watched instruction).
    /// Nothing else is retranslated: load/store triggers work through a block flag and the
    /// watch hull, which generated code reads at run time.
    fn sync_triggers(&mut self, hart: &Hart) {
        let xlen = hart.xlen();
        // The inclusive ranges the armed triggers of one kind (execute, store) may match.
        let covered = |kind: fn(&emu_core::trigger::Trigger) -> bool| {
            hart.triggers
                .t
                .iter()
                .filter(move |t| kind(t))
                .filter_map(move |t| t.coverage(xlen))
        };
        let mut now: Vec<(u64, u64)> = covered(|t| t.kinds().0).collect();
        now.sort_unstable();
        now.dedup();
        let changed: Vec<(u64, u64)> = now
            .iter()
            .filter(|r| !self.exec_ranges.contains(r))
            .chain(self.exec_ranges.iter().filter(|r| !now.contains(r)))
            .copied()
            .collect();
        let old = std::mem::replace(&mut self.exec_ranges, now);
        self.trig_version = hart.trig.version;
        // Stores on the direct RAM path find store triggers in the code map (addresses are
        // physical there). They look up the lines of their first and last byte, and a store
        // of at most 8 bytes spans at most two lines, so any watched byte it overlaps lies
        // in one of them: marking the watched bytes' own lines is enough.
        let stores = covered(|t| t.kinds().1)
            .map(|(lo, hi)| (lo, hi.saturating_add(1)))
            .collect();
        self.code.set_watched(stores);
        for (lo, hi) in changed {
            // Wide ranges (>= 256 KiB) cost a whole flush rather than a page walk.
            if (hi - lo) >> 12 >= 64 {
                self.flush();
                return;
            }
            self.shelve_virtual(lo, hi, &old);
        }
    }

    /// Most versions of one block kept on the shelf.
    const SHELF_DEPTH: usize = 4;

    /// Put aside the blocks with a virtual byte in `[lo, hi]`, translated under the execute
    /// ranges `old`.
    fn shelve_virtual(&mut self, lo: u64, hi: u64, old: &[(u64, u64)]) {
        // Blocks never span more than a page plus one instruction, so a block overlapping
        // the range starts at most a page before it.
        let first = (lo >> 12).saturating_sub(1);
        let mut off = Vec::new();
        for page in first..=hi >> 12 {
            let Some(list) = self.vpages.get_mut(&page) else {
                continue;
            };
            list.retain(|k| match self.blocks.get(k) {
                Some(b) if k.pc <= hi && lo < b.vend => {
                    off.push(*k);
                    false
                }
                Some(_) => true,
                None => false, // dropped since (code written, or an earlier range)
            });
        }
        for k in off {
            self.forget_jump(k);
            let Some(b) = self.blocks.remove(&k) else {
                continue; // on two pages: shelved already
            };
            self.stats.invalidated += 1;
            // Out of the other page's list too.
            for page in Self::vpages_of(k, b.vend) {
                if let Some(list) = self.vpages.get_mut(&page) {
                    list.retain(|x| *x != k);
                }
            }
            let shape = Self::shape(old, k.pc);
            let versions = self.shelf.entry(k).or_default();
            versions.retain(|(s, _)| *s != shape);
            if versions.len() >= Self::SHELF_DEPTH {
                versions.remove(0);
            }
            versions.push((shape, b));
        }
    }

    /// The shelved version of block `key` translated under the execute ranges in force
    /// now, put back in service.
    fn unshelve(&mut self, key: BlockKey) -> Option<Block> {
        let versions = self.shelf.get_mut(&key)?;
        let shape = Self::shape(&self.exec_ranges, key.pc);
        let i = versions.iter().position(|(s, _)| *s == shape)?;
        // Oldest first: the depth limit drops the oldest.
        let (_, b) = versions.remove(i);
        if versions.is_empty() {
            self.shelf.remove(&key);
        }
        self.enlist(key, b.vend);
        self.stats.reused += 1;
        Some(b)
    }

    /// The virtual pages of block `key` ending at `vend` (one, or two when it straddles).
    fn vpages_of(key: BlockKey, vend: u64) -> [u64; 2] {
        [key.pc >> 12, vend.wrapping_sub(1) >> 12]
    }

    /// List block `key` ending at `vend` under its virtual pages.
    fn enlist(&mut self, key: BlockKey, vend: u64) {
        for page in Self::vpages_of(key, vend) {
            let list = self.vpages.entry(page).or_default();
            if !list.contains(&key) {
                list.push(key);
            }
        }
    }

    /// Adopt the bus's RAM window (blocks embed it, so a different window drops them).
    fn attach(&mut self, bus: &dyn Bus) {
        let w = bus.ram_window();
        if w != self.ram {
            self.flush();
            self.ram = w;
            self.code = CodeMap::new(w);
        }
    }

    /// Something other than a hart (a debugger, a reset) wrote memory: drop the code
    /// translated from it.
    fn host_written(&mut self, bus: &dyn Bus) {
        let mut ranges = Vec::new();
        self.host_epoch = bus.host_writes_since(self.host_epoch, &mut |a, b| ranges.push((a, b)));
        for (a, b) in ranges {
            if b.saturating_sub(a) > 1 << 20 {
                self.flush();
                return;
            }
            self.invalidate_range(a, b);
        }
    }

    /// Bytes of code memory in use.
    pub fn code_bytes(&self) -> usize {
        self.heap.used()
    }

    /// Data TLB entries filled so far: loads and stores through the MMU that missed the
    /// inline path's TLB (every hit stays in translated code).
    pub fn tlb_fills(&self) -> u64 {
        self.tlb.fills()
    }

    /// Number of live blocks.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Cache the physical page of `pc`'s page for fetch when the whole page translates the
    /// same way and PMP allows executing all of it.
    /// `pa` is where `pc` translated to; one translation covers the whole page.
    fn fill_fetch(&self, hart: &Hart, pc: u64, pa: u64) {
        let ppage = pa & !0xfff;
        if hart.pmp_allows(ppage, 0x1000, Access::Fetch, hart.prv) {
            self.tlb.fill_fetch(pc & !0xfff, ppage);
        }
    }

    /// Translate the block at `key`, whose first instruction is `first`.
    fn translate(
        &mut self,
        hart: &Hart,
        bus: &dyn Bus,
        key: BlockKey,
        first: GuestInsn,
    ) -> Result<Block> {
        let page_end = (key.pa | 0xfff) + 1;
        let mut insns = vec![first];
        // A first instruction straddling a page boundary is a block on its own.
        let straddles = key.pa + first.inst.len as u64 > page_end;
        let mut pc = hart.addr(first.pc.wrapping_add(first.inst.len as u64));
        let mut pa = key.pa + first.inst.len as u64;
        let max = if key.flags.is_single_step() {
            1
        } else {
            MAX_INSNS
        };
        while !straddles
            && !insns
                .last()
                .is_some_and(|g| crate::translate::ends_block(&g.inst))
            && insns.len() < max
        {
            let Ok((inst, raw)) = hart.fetch_at(pc, bus) else {
                break;
            };
            // An execute trigger may fire here: the dispatcher checks it before this
            // instruction, at the start of the next block.
            if pa + inst.len as u64 > page_end || self.exec_watched(pc, inst.len as u64) {
                break;
            }
            insns.push(GuestInsn {
                allowed: hart.isa.allows(&inst),
                inst,
                raw,
                pc,
            });
            pc = hart.addr(pc.wrapping_add(inst.len as u64));
            pa += inst.len as u64;
        }
        let mem = self.ram.map(|r| MemCtx {
            base: r.base,
            size: r.size,
            host: r.host as u64,
            code_map: self.code.lines_ptr(),
            tlb: self.tlb.entries_ptr(),
        });
        // A block starting at a watched instruction must come back to the dispatcher (and
        // its check) instead of looping to its start.
        let may_loop = !self.exec_watched(first.pc, first.inst.len as u64);
        self.ctx.clear();
        // Helper calls in the code point into these: kept until the code heap is reset.
        let insns = insns.into_boxed_slice();
        build(
            &mut self.ctx.func,
            &mut self.fctx,
            &*self.isa,
            &insns,
            hart.xlen(),
            key.flags,
            hart.isa.c,
            mem,
            may_loop,
        );
        let code = self
            .ctx
            .compile(&*self.isa, &mut ControlPlane::default())
            .map_err(|e| JitError::Compile(format!("{:?}", e.inner)))?;
        if !code.buffer.relocs().is_empty() {
            return Err(JitError::Compile(
                "translated code needs relocations".into(),
            ));
        }
        let bytes = code.code_buffer().to_vec();
        let ptr = match self.heap.insert(&bytes)? {
            Some(p) => p,
            None => {
                self.flush();
                self.heap
                    .insert(&bytes)?
                    .ok_or(HeapError::TooLarge(bytes.len()))?
            }
        };
        // SAFETY: `ptr` points at the code Cranelift just generated for the `BlockFn` signature
        // (two pointer arguments, i32 result, the platform's C calling convention), copied
        // whole into executable memory that stays mapped until the next flush, which also
        // forgets this pointer.
        let entry: BlockFn = unsafe { std::mem::transmute::<*const u8, BlockFn>(ptr) };
        let len = insns.len() as u64;
        self.insns.push(insns);
        self.code.add(key, key.pa, pa);
        // The block's pages (two when its first instruction straddles) lose their TLB write
        // tags: stores there must now reach the code check.
        if let Some(r) = self.ram {
            for page in [key.pa & !0xfff, (pa - 1) & !0xfff] {
                if let Some(off) = page.checked_sub(r.base).filter(|o| *o < r.size) {
                    self.tlb.drop_writes_to(r.host as u64 + off);
                }
            }
        }
        self.stats.compiled += 1;
        self.enlist(key, pc);
        Ok(Block {
            entry,
            len,
            vend: pc,
            check: !may_loop,
        })
    }

    /// The block for `key`, translating it if needed. `Err(Some(e))`: fetching the first
    /// instruction raised `e`; `Err(None)`: translation failed.
    fn block(
        &mut self,
        hart: &Hart,
        bus: &dyn Bus,
        key: BlockKey,
    ) -> std::result::Result<Block, Option<Exception>> {
        let slot = Self::jump_slot(key);
        if let Some((k, b)) = self.jump_cache[slot]
            && k == key
        {
            return Ok(b);
        }
        if let Some(b) = self.blocks.get(&key) {
            self.jump_cache[slot] = Some((key, *b));
            return Ok(*b);
        }
        if let Some(b) = self.unshelve(key) {
            self.blocks.insert(key, b);
            self.jump_cache[slot] = Some((key, b));
            return Ok(b);
        }
        let (inst, raw) = hart.fetch_at(key.pc, bus).map_err(Some)?;
        let first = GuestInsn {
            allowed: hart.isa.allows(&inst),
            inst,
            raw,
            pc: key.pc,
        };
        let b = self.translate(hart, bus, key, first).map_err(|e| {
            self.stats.failed += 1;
            if self.last_error.is_none() {
                self.last_error = Some(e.to_string());
            }
            None
        })?;
        self.blocks.insert(key, b);
        self.jump_cache[slot] = Some((key, b));
        Ok(b)
    }
}

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
    fn fault(&mut self, hart: &mut Hart, bus: &dyn Bus, e: Exception, stepping: bool) {
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

    /// The dispatch loop of [`Engine::run`].
    fn dispatch(
        &mut self,
        hart: &mut Hart,
        bus: &dyn Bus,
        lines: u64,
        budget: u64,
        poll: &mut dyn FnMut() -> bool,
    ) -> RunStats {
        let mut executed = 0u64;
        loop {
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
            let flags = if self.single_step || stepping || exec_after {
                flags.single_step()
            } else {
                flags
            };
            // Code outside RAM may be rewritten by its device (the Debug Module writes each
            // abstract command there): key it by content, so a repeated program reuses
            // its translation and a new one never runs a stale one.
            let tag = match self.ram {
                Some(r) if pa.wrapping_sub(r.base) < r.size => 0,
                _ => bus.code_tag(emu_core::PhysAddr(pa)),
            };
            let key = BlockKey { pc, pa, flags, tag };
            let block = match self.block(hart, bus, key) {
                // Never run past the budget (or an icount): near its end, use a
                // one-instruction block.
                Ok(b) if b.len > limit => self.block(
                    hart,
                    bus,
                    BlockKey {
                        flags: flags.single_step(),
                        ..key
                    },
                ),
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
            // SAFETY: the block was generated for this signature; `hart`, the frame and the
            // `env` it holds are valid for the whole call and not otherwise accessed while
            // it runs (but for the frame's atomic limit).
            let r = unsafe { (block.entry)(hart as *mut Hart, &*self.frame as *const Frame) };
            self.frame.leave();
            self.stats.executed += 1;
            let n = (r & !STOP_BIT) as u64;
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
