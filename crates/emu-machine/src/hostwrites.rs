//! The record of memory writes made by the host (a debugger's system bus access, a reset
//! reloading the program) rather than by harts, which engines consult to drop code they
//! cached there ([`emu_core::Bus::note_host_write`]).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many recent ranges are kept; an engine further behind drops everything.
const KEEP: usize = 64;

/// Recent host writes: `(epoch after the write, start, end)`.
#[derive(Debug, Default)]
pub struct HostWrites {
    epoch: AtomicU64,
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    ranges: VecDeque<(u64, u64, u64)>,
    /// The newest epoch among ranges no longer kept.
    dropped: u64,
}

impl HostWrites {
    /// Record a write of `[start, end)`.
    pub fn note(&self, start: u64, end: u64) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let log = &mut *log;
        // Consecutive writes (a debugger filling memory word by word) merge into one range.
        if let Some(last) = log.ranges.back_mut()
            && start <= last.2
            && end >= last.1
        {
            last.1 = last.1.min(start);
            last.2 = last.2.max(end);
            let e = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
            last.0 = e;
            return;
        }
        let e = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        if log.ranges.len() == KEEP
            && let Some(old) = log.ranges.pop_front()
        {
            log.dropped = old.0;
        }
        log.ranges.push_back((e, start, end));
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Report ranges written after `since`; returns the current epoch.
    pub fn since(&self, since: u64, f: &mut dyn FnMut(u64, u64)) -> u64 {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.epoch();
        if now == since {
            return now;
        }
        // Epochs grow along the record; a write newer than `since` that is no longer kept
        // means the caller must drop everything.
        if log.dropped > since {
            f(0, u64::MAX);
            return now;
        }
        for &(e, s, t) in log.ranges.iter() {
            if e > since {
                f(s, t);
            }
        }
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(h: &HostWrites, since: u64) -> (Vec<(u64, u64)>, u64) {
        let mut v = Vec::new();
        let now = h.since(since, &mut |a, b| v.push((a, b)));
        (v, now)
    }

    #[test]
    fn reports_only_newer_writes_and_merges_neighbours() {
        let h = HostWrites::default();
        h.note(0x100, 0x104);
        let (_, e1) = ranges(&h, 0);
        h.note(0x104, 0x108);
        h.note(0x2000, 0x2004);
        let (v, e2) = ranges(&h, e1);
        assert_eq!(v, vec![(0x100, 0x108), (0x2000, 0x2004)]);
        assert_eq!(ranges(&h, e2).0, vec![]);
    }

    #[test]
    fn an_engine_too_far_behind_drops_everything() {
        let h = HostWrites::default();
        for i in 0..(KEEP as u64 + 5) {
            h.note(i * 0x1000, i * 0x1000 + 4);
        }
        assert_eq!(ranges(&h, 0).0, vec![(0, u64::MAX)]);
        let (v, _) = ranges(&h, 10);
        assert_eq!(v.len(), KEEP + 5 - 10);
    }
}
