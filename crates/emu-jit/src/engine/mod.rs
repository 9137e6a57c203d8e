//! The dispatcher: finds or translates the block at the hart's pc, runs it, and handles what
//! blocks cannot: interrupts, wfi, invalidation, exact budgets, and the code heap filling up.

use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use emu_core::bus::RamWindow;
use emu_core::{Access, Bus, Engine, EngineExit, Exception, Hart, Preempt, RunStats, StepOutcome};
use emu_isa::Op;

use crate::codemap::CodeMap;
use crate::flags::BlockFlags;
use crate::heap::{CodeHeap, HeapError};
use crate::helpers::{Env, Frame};
use crate::tlb::{Tlb, TlbContext};
use crate::translate::{
    COUNT_MASK, EXIT_JUMP, EXIT_NEXT, EXIT_TAKEN, GuestInsn, MAX_INSNS, MemCtx, build,
};

mod dispatch;
mod shelf;

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

/// Most instructions one block call (or chain of linked blocks) may run: blocks count them
/// in the low bits of their 32-bit result.
const MAX_CALL: u64 = 1 << 28;
const _: () = assert!(MAX_CALL <= COUNT_MASK as u64);

type BlockFn = unsafe extern "C" fn(*mut Hart, *const Frame) -> u32;

/// Entries of the direct-mapped jump cache in front of the block map.
const JUMP_CACHE: usize = 4096;

/// Maps keyed by block keys and page numbers: integers no adversary chooses (guest pcs;
/// the Debug Module's program tags are its own counter), so a multiply-and-rotate hash
/// serves, where SipHash cost a fifth of a block lookup.
type KeyMap<V> = FxHashMap<BlockKey, V>;

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
    /// Its row in [`JitEngine::rows`] (rows are numbered from the last flush).
    id: u32,
    /// Compiled quickly (Cranelift without optimisation, single-pass register
    /// allocation): compiled again for speed once it has run [`JitConfig::hot_after`]
    /// instructions.
    quick: bool,
}

/// What the engine keeps per block ([`Block::id`]).
#[derive(Clone, Copy, Default)]
struct Row {
    /// Where its taken and its fall-through exit led.
    links: [Option<Link>; 2],
    /// Guest instructions it has run (counted while it is quick).
    heat: u64,
}

/// Where a block's exit led last time: the block the dispatcher found there, and the state
/// that finding depended on (see `docs/jit.md`, "Chaining").
#[derive(Clone, Copy)]
struct Link {
    /// [`JitEngine::link_epoch`] when made: any block leaving the live set since ends it.
    epoch: u64,
    /// The TLB's generation when made: the fetch it answered stands until a flush.
    tlb: u64,
    to: Block,
}

/// Counters for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks translated.
    pub compiled: u64,
    /// Guest instructions in the blocks translated.
    pub translated: u64,
    /// Blocks executed.
    pub executed: u64,
    /// Of those, blocks entered through a link from the block before (no dispatch).
    pub chained: u64,
    /// Blocks compiled again for speed after running hot ([`JitConfig::hot_after`]).
    pub promoted: u64,
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
    /// Guest instructions a block runs compiled quickly before it is compiled for speed:
    /// most code runs a few times (boot code, a debugger's steps), where compiling costs
    /// more than running. 0 compiles every block for speed at once; `u64::MAX` never.
    pub hot_after: u64,
}

impl Default for JitConfig {
    fn default() -> Self {
        JitConfig {
            code_heap: 32 << 20,
            single_step: false,
            hot_after: 10_000,
        }
    }
}

/// The Cranelift JIT as an [`Engine`].
pub struct JitEngine {
    /// Cranelift optimising, for blocks that run hot.
    isa: OwnedTargetIsa,
    /// Cranelift compiling quickly, for every block's first translation.
    isa_quick: OwnedTargetIsa,
    /// [`JitConfig::hot_after`].
    hot_after: u64,
    ctx: cranelift_codegen::Context,
    fctx: FunctionBuilderContext,
    heap: CodeHeap,
    /// The instructions of every block in the heap (their helper calls point here).
    insns: Vec<Box<[GuestInsn]>>,
    blocks: KeyMap<Block>,
    /// Most recent block per pc slot: most dispatches end here without hashing.
    jump_cache: Vec<Option<(BlockKey, Block)>>,
    /// Per block ([`Block::id`]): its links and heat.
    rows: Vec<Row>,
    /// Bumped whenever a block leaves the live set (invalidated, shelved, flushed): links
    /// made before may point at it.
    link_epoch: u64,

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
    vpages: FxHashMap<u64, Vec<BlockKey>>,
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
    /// Cranelift for the host at optimisation level `opt` with register allocator
    /// `regalloc`.
    fn host_isa(opt: &str, regalloc: &str) -> Result<OwnedTargetIsa> {
        let host = |e: &dyn std::fmt::Display| JitError::Host(e.to_string());
        let mut fb = settings::builder();
        fb.set("opt_level", opt).map_err(|e| host(&e))?;
        fb.set("regalloc_algorithm", regalloc)
            .map_err(|e| host(&e))?;
        // The verifier in debug builds (tests): a translator bug fails loudly there.
        let verify = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        fb.set("enable_verifier", verify).map_err(|e| host(&e))?;
        cranelift_native::builder()
            .map_err(|e| host(&e))?
            .finish(settings::Flags::new(fb))
            .map_err(|e| host(&e))
    }

    /// A JIT for the host this runs on.
    pub fn new(cfg: JitConfig) -> Result<JitEngine> {
        let isa = Self::host_isa("speed", "backtracking")?;
        let isa_quick = Self::host_isa("none", "single_pass")?;
        Ok(JitEngine {
            isa,
            isa_quick,
            hot_after: cfg.hot_after,
            ctx: cranelift_codegen::Context::new(),
            fctx: FunctionBuilderContext::new(),
            heap: CodeHeap::new(cfg.code_heap)?,
            insns: Vec::new(),
            blocks: KeyMap::default(),
            jump_cache: vec![None; JUMP_CACHE],
            rows: Vec::new(),
            link_epoch: 0,
            code: CodeMap::default(),
            tlb: Tlb::default(),
            tlb_ctx: None,
            ram: None,
            single_step: cfg.single_step,
            vpages: FxHashMap::default(),
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
        self.rows.clear();
        self.link_epoch += 1;
        self.code.clear();
        self.heap.reset();
        // No code points at them any more.
        self.insns.clear();
        self.stats.flushes += 1;
    }

    /// Drop the blocks translated from physical addresses `[start, end)`.
    pub fn invalidate_range(&mut self, start: u64, end: u64) {
        let gone = self.code.invalidate(start, end);
        if !gone.is_empty() {
            self.link_epoch += 1;
        }
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

    /// Where a block may run on after `g`, a block-ending instruction: the target of a
    /// `jal` forward within the same page, when the bytes there carry the block's content
    /// tag (the Debug Module's program area and its ROM are keyed apart, so a jump from one
    /// into the other still ends the block). Forward only, so a block never holds an
    /// instruction twice and stays within its page; its bytes and virtual range become the
    /// hull of the runs, which invalidation and execute triggers treat conservatively.
    /// Returns the target's virtual and physical address.
    fn follow(hart: &Hart, bus: &dyn Bus, key: BlockKey, g: &GuestInsn) -> Option<(u64, u64)> {
        if g.inst.op != Op::Jal || !g.allowed {
            return None;
        }
        let t = hart.addr(g.pc.wrapping_add(g.inst.imm as u64));
        let forward = t > g.pc && t >> 12 == g.pc >> 12;
        // A misaligned target traps at the jump (the block ends there).
        let aligned = hart.isa.c || t & 3 == 0;
        let pa = (key.pa & !0xfff) | (t & 0xfff);
        (forward && aligned && bus.code_tag(emu_core::PhysAddr(pa)) == key.tag).then_some((t, pa))
    }

    /// Translate the block at `key`, whose first instruction is `first` (`quick`: with the
    /// quick compiler).
    fn translate(
        &mut self,
        hart: &Hart,
        bus: &dyn Bus,
        key: BlockKey,
        first: GuestInsn,
        quick: bool,
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
        while !straddles && insns.len() < max {
            if let Some(g) = insns.last()
                && crate::translate::ends_block(&g.inst, key.flags.debug_mode())
            {
                // A jump forward within the page runs on at its target: the block's bytes
                // are then the hull of both runs, which only widens what invalidates it.
                let Some(to) = Self::follow(hart, bus, key, g) else {
                    break;
                };
                (pc, pa) = to;
            }
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
        let isa = if quick { &self.isa_quick } else { &self.isa };
        build(
            &mut self.ctx.func,
            &mut self.fctx,
            &**isa,
            &insns,
            hart.xlen(),
            key.flags,
            hart.isa.c,
            mem,
            may_loop,
        );
        let code = self
            .ctx
            .compile(&**isa, &mut ControlPlane::default())
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
        let id = self.rows.len() as u32;
        self.rows.push(Row::default());
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
        self.stats.translated += len;
        self.enlist(key, pc);
        Ok(Block {
            entry,
            len,
            vend: pc,
            check: !may_loop,
            id,
            quick,
        })
    }

    /// The block for `key`, translating it if needed. `Err(Some(e))`: fetching the first
    /// instruction raised `e`; `Err(None)`: translation failed.
    #[inline]
    fn block(
        &mut self,
        hart: &Hart,
        bus: &dyn Bus,
        key: BlockKey,
    ) -> std::result::Result<Block, Option<Exception>> {
        // Most dispatches end at the jump cache: inline, one compare.
        if let Some(b) = self.cached(key) {
            return Ok(b);
        }
        self.block_missed(hart, bus, key, Self::jump_slot(key))
    }

    /// The instruction at `pc`, fetched as the hart sees it, to start a block with.
    fn first_insn(
        hart: &Hart,
        bus: &dyn Bus,
        pc: u64,
    ) -> std::result::Result<GuestInsn, Exception> {
        let (inst, raw) = hart.fetch_at(pc, bus)?;
        Ok(GuestInsn {
            allowed: hart.isa.allows(&inst),
            inst,
            raw,
            pc,
        })
    }

    /// The jump cache's block for `key`, unless it is a quick block that has run hot (the
    /// lookup past the cache then compiles it for speed).
    #[inline]
    fn cached(&self, key: BlockKey) -> Option<Block> {
        match self.jump_cache[Self::jump_slot(key)] {
            Some((k, b)) if k == key && !(b.quick && self.is_hot(b)) => Some(b),
            _ => None,
        }
    }

    /// `pa` lies in main RAM (code elsewhere may be rewritten by its device behind the
    /// hart's back, see [`BlockKey::tag`]).
    #[inline]
    fn in_ram(&self, pa: u64) -> bool {
        self.ram.is_some_and(|r| pa.wrapping_sub(r.base) < r.size)
    }

    /// Block `b`, compiled quickly, has run enough to be compiled for speed.
    #[inline]
    fn is_hot(&self, b: Block) -> bool {
        self.rows
            .get(b.id as usize)
            .is_some_and(|r| r.heat >= self.hot_after)
    }

    /// Compile the hot block `old` at `key` again for speed and put the new code in its
    /// place (the hart is in the state `key` was computed from, so its fetches read the
    /// block's bytes). On a failure the quick block stays, and is not tried again soon.
    fn promote(&mut self, hart: &Hart, bus: &dyn Bus, key: BlockKey, old: Block) -> Block {
        let fast = Self::first_insn(hart, bus, key.pc)
            .ok()
            .and_then(|first| self.translate(hart, bus, key, first, false).ok());
        let Some(b) = fast else {
            if let Some(r) = self.rows.get_mut(old.id as usize) {
                r.heat = 0;
            }
            return old;
        };
        // Links to the quick code are refused from now on (it stays hot), and remade to
        // this one at the next dispatch: no need to end every link with the epoch.
        self.stats.promoted += 1;
        b
    }

    /// [`JitEngine::block`] past the jump cache: the block map, the shelf, a translation.
    #[inline(never)]
    fn block_missed(
        &mut self,
        hart: &Hart,
        bus: &dyn Bus,
        key: BlockKey,
        slot: usize,
    ) -> std::result::Result<Block, Option<Exception>> {
        if let Some(&b) = self.blocks.get(&key) {
            let b = if b.quick && self.is_hot(b) {
                let b = self.promote(hart, bus, key, b);
                self.blocks.insert(key, b);
                b
            } else {
                b
            };
            self.jump_cache[slot] = Some((key, b));
            return Ok(b);
        }
        if let Some(b) = self.unshelve(key) {
            self.blocks.insert(key, b);
            self.jump_cache[slot] = Some((key, b));
            return Ok(b);
        }
        let first = Self::first_insn(hart, bus, key.pc).map_err(Some)?;
        let b = self
            .translate(hart, bus, key, first, self.hot_after > 0)
            .map_err(|e| {
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
