//! # emu-tests: shared helpers for the end-to-end tests
//!
//! Owns what the tests under `tests/tests/` share: a deterministic PRNG, locating external
//! tools (objdump, QEMU) with a clear failure when CI did not install them, running a guest
//! ELF in-process on emu or as a QEMU process, and the differential program generator.
//!
//! Depends on the emu crates and the standard library only.
#![warn(missing_docs)]

pub mod debug_loop;
pub mod diffgen;
pub mod guest;
pub mod process;
pub mod race;
pub mod rsp;
pub mod run;

/// A small deterministic PRNG (xorshift64*), so corpora are reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; 0 is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// An "interesting" 64-bit value: edge cases often, random bits otherwise.
    pub fn interesting(&mut self) -> u64 {
        const EDGES: [u64; 12] = [
            0,
            1,
            2,
            u64::MAX,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000_0000_0000,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0xffff_ffff_8000_0000,
            0x1_0000_0000,
            0xff,
        ];
        match self.below(4) {
            0 => *self.pick(&EDGES),
            1 => self.below(64),
            _ => self.next_u64(),
        }
    }
}

/// Path of external tool `name`, or a panic that says how CI installs it.
pub fn tool(name: &str) -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found on PATH; .ci/run installs it (see README: running the tests)");
}
