//! Machine-wide signals between devices and hart threads: the exit request and the wake-up of
//! harts waiting in `wfi`.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use emu_core::Preempt;

/// How the guest asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// Test finisher or HTIF reported success or a failure code; the value is emu's exit code.
    Guest(i32),
    /// The host asked emu to stop (signal, front end).
    Host,
}

/// Shared flags. `exit` is checked by hart threads between instructions batches; `wake` wakes
/// harts blocked in `wfi` whenever an interrupt line may have changed.
#[derive(Debug, Default)]
pub struct Signals {
    exit: AtomicBool,
    code: AtomicI32,
    host: AtomicBool,
    generation: AtomicU64,
    /// Harts blocked in [`Signals::wait`] (changed under `lock`): a wake with nobody
    /// asleep then costs no system call.
    lock: Mutex<usize>,
    cond: Condvar,
    /// The harts' engines' preemption words, fired by every wake so that a hart spinning in
    /// a translated loop sees the wake at its next iteration, not at the end of its batch.
    preempt: OnceLock<Vec<Preempt>>,
}

impl Signals {
    /// Request exit with guest exit code `code` (the first request wins).
    pub fn exit_guest(&self, code: i32) {
        if !self.exit.swap(true, Ordering::SeqCst) {
            self.code.store(code, Ordering::SeqCst);
        }
        self.wake_all();
    }

    /// Request exit on behalf of the host.
    pub fn exit_host(&self) {
        if !self.exit.swap(true, Ordering::SeqCst) {
            self.host.store(true, Ordering::SeqCst);
        }
        self.wake_all();
    }

    /// The exit request, if any.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        if !self.exit.load(Ordering::Acquire) {
            return None;
        }
        Some(if self.host.load(Ordering::SeqCst) {
            ExitReason::Host
        } else {
            ExitReason::Guest(self.code.load(Ordering::SeqCst))
        })
    }

    /// Whether exit was requested (cheap; hot loops call this).
    #[inline]
    pub fn exiting(&self) -> bool {
        self.exit.load(Ordering::Relaxed)
    }

    /// Wake every hart waiting for an interrupt, and cut short the batches of those
    /// running (they look at their interrupt lines and requests again).
    pub fn wake_all(&self) {
        let sleepers = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        for p in self.preempt.get().into_iter().flatten() {
            p.fire();
        }
        if *sleepers > 0 {
            self.cond.notify_all();
        }
    }

    /// The engines' preemption words (set once, when the hart threads start).
    pub(crate) fn set_preempt(&self, words: Vec<Preempt>) {
        let _ = self.preempt.set(words);
    }

    /// The wake generation; pass it to [`Signals::wait`] to avoid missing a wake-up that
    /// happens between checking for interrupts and going to sleep.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Block until woken after generation `seen`, or `timeout` passes.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let mut g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) != seen || self.exiting() {
            return;
        }
        *g += 1;
        let mut g = match self.cond.wait_timeout(g, timeout) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
        *g -= 1;
    }
}
