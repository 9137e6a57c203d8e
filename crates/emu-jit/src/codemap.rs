//! Which guest bytes hold translated code, at 64-byte-line granularity, so a store that
//! lands next to code (data on the same page as a function, a stack below it) stays on the
//! fast path and only stores into translated bytes invalidate.
//!
//! The line map is read by generated store code (one byte per line of RAM, nonzero sends
//! the store to the slow path); the per-page lists know each block's exact byte range. A
//! line's byte has two bits: [`CODE`] (some block covers it, or the bus watches it) and
//! [`WATCH`] (a store trigger may match there): so with a store watchpoint armed, stores on
//! the direct RAM path pay no check beyond the one they already make for code.

use rustc_hash::FxHashMap;

use emu_core::bus::RamWindow;

use crate::engine::BlockKey;

/// log2 of the line size.
pub const LINE_SHIFT: u32 = 6;

/// Line bit: translated code lies here (or the bus watches these bytes).
pub const CODE: u8 = 1;
/// Line bit: a store trigger of the engine's hart may match here.
pub const WATCH: u8 = 2;

/// The code map of one engine.
#[derive(Debug, Default)]
pub struct CodeMap {
    base: u64,
    lines: Vec<u8>,
    pages: FxHashMap<u64, Vec<(BlockKey, u64, u64)>>,
    /// Bytes whose stores must always take the slow path (the bus watches them).
    pinned: Option<(u64, u64)>,
    /// Physical ranges `[start, end)` store triggers may match (lines marked [`WATCH`]).
    watched: Vec<(u64, u64)>,
}

impl CodeMap {
    /// An empty map for the RAM `window`.
    pub fn new(window: Option<RamWindow>) -> CodeMap {
        let mut m = CodeMap {
            base: window.map_or(0, |w| w.base),
            lines: vec![0; window.map_or(0, |w| w.size.div_ceil(1 << LINE_SHIFT) as usize)],
            pages: FxHashMap::default(),
            pinned: window.and_then(|w| w.watch),
            watched: Vec::new(),
        };
        m.pin();
        m
    }

    fn pin(&mut self) {
        if let Some((s, e)) = self.pinned {
            for l in self.line_range(s, e) {
                self.lines[l] |= CODE;
            }
        }
    }

    /// Store triggers may now match in the physical ranges `ranges` (`[start, end)`):
    /// stores there take the slow path, where the memory unit checks them exactly.
    pub fn set_watched(&mut self, ranges: Vec<(u64, u64)>) {
        if ranges == self.watched {
            return;
        }
        for (s, e) in std::mem::take(&mut self.watched) {
            for l in self.line_range(s, e) {
                self.lines[l] &= !WATCH;
            }
        }
        for &(s, e) in &ranges {
            for l in self.line_range(s, e) {
                self.lines[l] |= WATCH;
            }
        }
        self.watched = ranges;
    }

    /// Host address of the line map (embedded in generated stores; never reallocated).
    pub fn lines_ptr(&self) -> u64 {
        self.lines.as_ptr() as u64
    }

    fn line_range(&self, start: u64, end: u64) -> std::ops::Range<usize> {
        let n = self.lines.len() as u64;
        let first = start.saturating_sub(self.base) >> LINE_SHIFT;
        let last = end.saturating_sub(self.base).div_ceil(1 << LINE_SHIFT);
        if end <= self.base {
            0..0
        } else {
            first.min(n) as usize..last.min(n) as usize
        }
    }

    /// Record that block `key` was made from physical bytes `[start, end)`.
    pub fn add(&mut self, key: BlockKey, start: u64, end: u64) {
        for l in self.line_range(start, end) {
            self.lines[l] |= CODE;
        }
        let mut page = start >> 12;
        while page << 12 < end {
            self.pages.entry(page).or_default().push((key, start, end));
            page += 1;
        }
    }

    /// Whether any translated code lies in `[start, end)`.
    pub fn hits(&self, start: u64, end: u64) -> bool {
        let r = self.line_range(start, end);
        self.lines[r].iter().any(|&b| b & CODE != 0)
    }

    /// Forget the blocks overlapping `[start, end)`; returns their keys.
    pub fn invalidate(&mut self, start: u64, end: u64) -> Vec<BlockKey> {
        // The blocks that overlap, with their full ranges (they may span more pages).
        let mut gone: Vec<(BlockKey, u64, u64)> = Vec::new();
        let mut page = start >> 12;
        while page << 12 < end {
            if let Some(list) = self.pages.get(&page) {
                for &(key, s, e) in list {
                    if s < end && start < e && !gone.iter().any(|g| g.0 == key) {
                        gone.push((key, s, e));
                    }
                }
            }
            page += 1;
        }
        for &(key, s, e) in &gone {
            let mut page = s >> 12;
            while page << 12 < e {
                if let Some(mut list) = self.pages.remove(&page) {
                    list.retain(|b| b.0 != key);
                    self.rebuild_lines(page, &list);
                    if !list.is_empty() {
                        self.pages.insert(page, list);
                    }
                }
                page += 1;
            }
        }
        gone.into_iter().map(|g| g.0).collect()
    }

    /// Recompute page `page`'s line bytes from the blocks `list` that remain on it.
    fn rebuild_lines(&mut self, page: u64, list: &[(BlockKey, u64, u64)]) {
        let (ps, pe) = (page << 12, (page + 1) << 12);
        for l in self.line_range(ps, pe) {
            self.lines[l] &= !CODE;
        }
        for &(_, s, e) in list {
            for l in self.line_range(s.max(ps), e.min(pe)) {
                self.lines[l] |= CODE;
            }
        }
        self.pin();
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        for b in &mut self.lines {
            *b &= !CODE;
        }
        self.pages.clear();
        self.pin();
    }

    /// The line byte of physical address `pa` (0 outside RAM).
    #[cfg(test)]
    fn line(&self, pa: u64) -> u8 {
        let r = self.line_range(pa, pa + 1);
        self.lines
            .get(r.start)
            .copied()
            .filter(|_| !r.is_empty())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::BlockFlags;

    fn key(pc: u64) -> BlockKey {
        BlockKey {
            pc,
            pa: pc,
            flags: BlockFlags(0),
            tag: 0,
        }
    }

    #[test]
    fn lines_track_exact_block_ranges() {
        let w = RamWindow {
            base: 0x8000_0000,
            size: 1 << 20,
            host: 0,
            watch: Some((0x8000_8000, 0x8000_8008)),
        };
        let mut m = CodeMap::new(Some(w));
        m.add(key(0x8000_0100), 0x8000_0100, 0x8000_0120);
        m.add(key(0x8000_0ff0), 0x8000_0ff0, 0x8000_1008); // spans two pages
        assert!(m.hits(0x8000_0110, 0x8000_0118));
        assert!(
            !m.hits(0x8000_0200, 0x8000_0208),
            "data on the same page, other line"
        );
        assert!(
            m.hits(0x8000_1000, 0x8000_1004),
            "second page of the spanning block"
        );
        // A write next to the first block (same line) invalidates nothing that it does not
        // overlap, but a write into it does.
        assert!(m.invalidate(0x8000_0120, 0x8000_0128).is_empty());
        assert_eq!(
            m.invalidate(0x8000_011c, 0x8000_0124),
            vec![key(0x8000_0100)]
        );
        assert!(
            !m.hits(0x8000_0100, 0x8000_0140),
            "its lines are clear again"
        );
        assert!(m.hits(0x8000_0ff0, 0x8000_0ff8), "the other block stays");
        assert_eq!(
            m.invalidate(0x8000_1000, 0x8000_1001),
            vec![key(0x8000_0ff0)]
        );
        assert!(!m.hits(0x8000_0fc0, 0x8000_1040));
        // The watched range always takes the slow path.
        assert!(m.hits(0x8000_8000, 0x8000_8004));
        m.clear();
        assert!(m.hits(0x8000_8004, 0x8000_8008));
        // Outside RAM: recorded for invalidation, no lines.
        m.add(key(0x1000), 0x1000, 0x1010);
        assert!(!m.hits(0x1000, 0x1010));
        assert_eq!(m.invalidate(0x1000, 0x2000), vec![key(0x1000)]);
    }

    #[test]
    fn watched_lines_send_stores_slow_without_looking_like_code() {
        let w = RamWindow {
            base: 0x8000_0000,
            size: 1 << 20,
            host: 0,
            watch: None,
        };
        let mut m = CodeMap::new(Some(w));
        m.add(key(0x8000_0100), 0x8000_0100, 0x8000_0120);
        m.set_watched(vec![(0x8000_0110, 0x8000_0118), (0x8000_2000, 0x8000_2044)]);
        assert_eq!(m.line(0x8000_0100), CODE | WATCH);
        assert_eq!(m.line(0x8000_1fc0), 0, "the line below");
        assert_eq!(m.line(0x8000_2000), WATCH);
        assert_eq!(m.line(0x8000_2040), WATCH);
        assert_eq!(m.line(0x8000_2080), 0);
        assert_eq!(m.line(0x8000_1000), 0, "between the ranges");
        assert!(!m.hits(0x8000_2000, 0x8000_2008), "watched is not code");
        // Code coming and going leaves the watch; the watch going leaves the code.
        assert_eq!(
            m.invalidate(0x8000_0100, 0x8000_0104),
            vec![key(0x8000_0100)]
        );
        assert_eq!(m.line(0x8000_0100), WATCH);
        m.add(key(0x8000_0100), 0x8000_0100, 0x8000_0120);
        m.clear();
        assert_eq!(m.line(0x8000_0100), WATCH);
        m.add(key(0x8000_0100), 0x8000_0100, 0x8000_0120);
        m.set_watched(vec![(0x8000_3000, 0x8000_3001)]);
        assert_eq!(m.line(0x8000_0100), CODE);
        assert_eq!(m.line(0x8000_2000), 0);
        assert_eq!(m.line(0x8000_3000), WATCH);
        m.set_watched(Vec::new());
        assert_eq!(m.line(0x8000_3000), 0);
    }
}
