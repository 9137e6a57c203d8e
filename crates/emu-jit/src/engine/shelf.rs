//! Execute triggers and the blocks they touch: which blocks an arm or disarm drops, and the
//! shelf that keeps them, with the trigger ranges they were compiled under, for when the
//! triggers return to that state (a debugger stepping over a breakpoint compiles nothing
//! after the first time).

use super::*;

impl JitEngine {
    /// The execute ranges in `ranges` that can shape a block starting at `pc` (one that
    /// reaches at most a page and an instruction further).
    pub(super) fn shape(ranges: &[(u64, u64)], pc: u64) -> Vec<(u64, u64)> {
        let last = pc.saturating_add(0x1000 + 4);
        ranges
            .iter()
            .filter(|&&(lo, hi)| pc <= hi && lo <= last)
            .copied()
            .collect()
    }

    /// Whether an armed execute trigger may match an instruction in `[pc, pc + len)`.
    pub(super) fn exec_watched(&self, pc: u64, len: u64) -> bool {
        let last = pc.wrapping_add(len - 1);
        self.exec_ranges
            .iter()
            .any(|&(lo, hi)| pc <= hi && lo <= last)
    }

    /// The hart's triggers changed: drop the blocks whose virtual bytes an execute trigger
    /// starts or stops covering (they end, or must now end, before a watched instruction).
    /// Nothing else is retranslated: load/store triggers work through a block flag and the
    /// watch hull, which generated code reads at run time.
    pub(super) fn sync_triggers(&mut self, hart: &Hart) {
        // The inclusive ranges the armed trigger chains of one kind (execute, store) may
        // match.
        let covers = &hart.covers;
        let covered = |kind: fn(&emu_core::trigger::Cover) -> bool| {
            covers.iter().filter(move |c| kind(c)).map(|c| (c.lo, c.hi))
        };
        let mut now: Vec<(u64, u64)> = covered(|c| c.execute).collect();
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
        let stores = covered(|c| c.store)
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
    pub(super) fn shelve_virtual(&mut self, lo: u64, hi: u64, old: &[(u64, u64)]) {
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
        if !off.is_empty() {
            self.link_epoch += 1;
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
    pub(super) fn unshelve(&mut self, key: BlockKey) -> Option<Block> {
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
    pub(super) fn vpages_of(key: BlockKey, vend: u64) -> [u64; 2] {
        [key.pc >> 12, vend.wrapping_sub(1) >> 12]
    }

    /// List block `key` ending at `vend` under its virtual pages.
    pub(super) fn enlist(&mut self, key: BlockKey, vend: u64) {
        for page in Self::vpages_of(key, vend) {
            let list = self.vpages.entry(page).or_default();
            if !list.contains(&key) {
                list.push(key);
            }
        }
    }
}
