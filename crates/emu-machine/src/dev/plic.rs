//! The PLIC of QEMU's virt machine: 95 level-triggered sources, two contexts per hart
//! (context 2h is hart h's M-mode, 2h+1 its S-mode), priorities, enables, thresholds, and
//! claim/complete.

use std::sync::Mutex;

/// Number of interrupt sources including the non-existent source 0.
pub const SOURCES: usize = 96;

#[derive(Debug)]
struct State {
    priority: [u32; SOURCES],
    enable: Vec<[u32; SOURCES / 32]>,
    threshold: Vec<u32>,
    claimed: [bool; SOURCES],
}

/// The PLIC.
#[derive(Debug)]
pub struct Plic {
    s: Mutex<State>,
}

impl Plic {
    /// A PLIC for `harts` harts.
    pub fn new(harts: usize) -> Plic {
        let ctx = 2 * harts;
        Plic {
            s: Mutex::new(State {
                priority: [0; SOURCES],
                enable: vec![[0; SOURCES / 32]; ctx],
                threshold: vec![0; ctx],
                claimed: [false; SOURCES],
            }),
        }
    }

    /// Back to the power-on state (system reset): nothing enabled, nothing claimed.
    pub fn reset(&self) {
        let mut s = self.lock();
        let ctx = s.threshold.len();
        *s = State {
            priority: [0; SOURCES],
            enable: vec![[0; SOURCES / 32]; ctx],
            threshold: vec![0; ctx],
            claimed: [false; SOURCES],
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.s.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pending(s: &State, levels: &[bool; SOURCES], src: usize) -> bool {
        levels[src] && !s.claimed[src]
    }

    fn best(s: &State, levels: &[bool; SOURCES], ctx: usize) -> Option<usize> {
        let mut best: Option<(u32, usize)> = None;
        for src in 1..SOURCES {
            let en = s
                .enable
                .get(ctx)
                .is_some_and(|e| e[src / 32] >> (src % 32) & 1 != 0);
            let p = s.priority[src];
            if en
                && Self::pending(s, levels, src)
                && p > s.threshold.get(ctx).copied().unwrap_or(u32::MAX)
            {
                match best {
                    Some((bp, _)) if bp >= p => {}
                    _ => best = Some((p, src)),
                }
            }
        }
        best.map(|(_, s)| s)
    }

    /// Whether context `ctx` has an interrupt to take, given the source levels.
    pub fn asserted(&self, ctx: usize, levels: &[bool; SOURCES]) -> bool {
        Self::best(&self.lock(), levels, ctx).is_some()
    }

    /// Register read.
    pub fn read(&self, off: u64, levels: &[bool; SOURCES]) -> Option<u64> {
        let mut s = self.lock();
        let v = match off {
            0..=0xfff => s.priority.get((off / 4) as usize).copied().unwrap_or(0),
            0x1000..=0x107f => {
                let w = ((off - 0x1000) / 4) as usize;
                (0..32).fold(0u32, |acc, b| {
                    let src = w * 32 + b;
                    acc | ((src < SOURCES && Self::pending(&s, levels, src)) as u32) << b
                })
            }
            0x2000..=0x1f_ffff => {
                let ctx = ((off - 0x2000) / 0x80) as usize;
                let w = ((off - 0x2000) % 0x80 / 4) as usize;
                s.enable
                    .get(ctx)
                    .and_then(|e| e.get(w))
                    .copied()
                    .unwrap_or(0)
            }
            0x20_0000..=0x3ff_ffff => {
                let ctx = ((off - 0x20_0000) / 0x1000) as usize;
                match off % 0x1000 {
                    0 => s.threshold.get(ctx).copied().unwrap_or(0),
                    4 => match Self::best(&s, levels, ctx) {
                        Some(src) => {
                            s.claimed[src] = true;
                            src as u32
                        }
                        None => 0,
                    },
                    _ => 0,
                }
            }
            _ => return None,
        };
        Some(v as u64)
    }

    /// Register write.
    pub fn write(&self, off: u64, val: u64) -> Option<()> {
        let mut s = self.lock();
        let v = val as u32;
        match off {
            0..=0xfff => {
                if let Some(p) = s.priority.get_mut((off / 4) as usize) {
                    *p = v & 7;
                }
            }
            0x1000..=0x107f => {}
            0x2000..=0x1f_ffff => {
                let ctx = ((off - 0x2000) / 0x80) as usize;
                let w = ((off - 0x2000) % 0x80 / 4) as usize;
                if let Some(e) = s.enable.get_mut(ctx).and_then(|e| e.get_mut(w)) {
                    *e = if w == 0 { v & !1 } else { v };
                }
            }
            0x20_0000..=0x3ff_ffff => {
                let ctx = ((off - 0x20_0000) / 0x1000) as usize;
                match off % 0x1000 {
                    0 => {
                        if let Some(t) = s.threshold.get_mut(ctx) {
                            *t = v & 7;
                        }
                    }
                    4 => {
                        if let Some(c) = s.claimed.get_mut(v as usize) {
                            *c = false;
                        }
                    }
                    _ => {}
                }
            }
            _ => return None,
        }
        Some(())
    }
}
