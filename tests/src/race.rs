//! Waits that make two racing events meet: a debugger's request and a hart's own stop.
//!
//! When the hart's stop comes back after a resume depends on the host: its thread's wake-up,
//! the other tests running beside it. A fixed wait would make one side win every time on
//! some machine. [`Homing`] instead moves its wait after every round: longer when the
//! request came first, shorter when the hart did. It settles where each wins about half
//! the time, which is where a race between them can show.

use std::time::{Duration, Instant};

use crate::Rng;

/// A wait that homes in on the moment a request and a hart's own stop meet.
#[derive(Debug, Clone)]
pub struct Homing {
    center_ns: f64,
    rng: Rng,
}

impl Homing {
    /// Starting from waits around `start`, spread by a generator seeded with `seed`.
    pub fn new(seed: u64, start: Duration) -> Homing {
        Homing {
            center_ns: start.as_nanos() as f64,
            rng: Rng::new(seed),
        }
    }

    /// Spin (no sleep: a sleep's own wake-up would swamp the moment sought) for the
    /// current centre times a random factor between 0.5 and 2.
    pub fn wait(&mut self) {
        let spread = 0.5 + self.rng.below(1024) as f64 / 682.0;
        let wait = Duration::from_nanos((self.center_ns * spread) as u64);
        let t = Instant::now();
        while t.elapsed() < wait {
            std::hint::spin_loop();
        }
    }

    /// The request came first: wait longer next time (up to 100 ms).
    pub fn request_won(&mut self) {
        self.center_ns = (self.center_ns * 1.15).min(1e8);
    }

    /// The hart stopped on its own first: wait shorter next time (down to 1 ns).
    pub fn hart_won(&mut self) {
        self.center_ns = (self.center_ns / 1.15).max(1.0);
    }
}
