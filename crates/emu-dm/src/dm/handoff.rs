//! Getting harts to act on what the Debug Module wrote for them, and waiting until they
//! have: run a sleeping hart on the caller's thread, or wake its thread, spin briefly on
//! the progress counter, then sleep on the condition variable, offering now and then to
//! run the hart here (its thread may have been preempted).

use super::*;

/// How [`DebugModule::drive`] gets the harts to act.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Nudge {
    /// Run each here if it sleeps, else wake the threads.
    Wake,
    /// Run each here if it sleeps; the threads are at work already.
    Follow,
    /// Their threads, which hold them, were woken already.
    Woken,
}

impl DebugModule {
    pub(crate) fn wake(&self) {
        if let Some(p) = self.platform.get() {
            p.wake();
        }
    }

    /// Get `harts` to act on what was just written for them: run each on this thread if it
    /// sleeps; otherwise wake its thread, and if that thread has not done the work after a
    /// hot spin, keep offering to run the hart here (the thread lets go of it within a
    /// batch); then sleep (state unlocked meanwhile) until `done`, waking now and then to
    /// offer again.
    pub(crate) fn kick<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.drive(st, harts, done, Nudge::Wake)
    }

    /// [`DebugModule::kick`] for harts already on their way (a step under way): the same,
    /// without waking their threads first.
    pub(crate) fn follow<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.drive(st, harts, done, Nudge::Follow)
    }

    /// [`DebugModule::kick`] for harts that run guest code on their own threads, which
    /// alone can stop them: those threads are woken first of all, so the request travels
    /// while this thread makes ready to wait, and the harts are not offered to run here
    /// until the hot spin is over (trying the lock of a hart its thread holds takes the
    /// lock's cache line from that very thread, just as it lets go of the hart to take it
    /// again and halt).
    pub(crate) fn hurry<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        self.wake();
        self.drive(st, harts, done, Nudge::Woken)
    }

    pub(super) fn drive<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        harts: &[usize],
        done: impl Fn(&State) -> bool,
        nudge: Nudge,
    ) -> MutexGuard<'a, State> {
        if done(&st) {
            return st;
        }
        let Some(p) = self.platform.get() else {
            return self.wait(st, done);
        };
        // Progress as of now: anything the harts report from here on may finish the work.
        let mut seen = self.progress.load(Ordering::Acquire);
        self.unlock(st);
        let mut pending: Vec<usize> = if nudge == Nudge::Woken {
            harts.to_vec()
        } else {
            harts.iter().copied().filter(|&h| !p.run_here(h)).collect()
        };
        if pending.is_empty() {
            // Every hart ran here, and usually that finished the work: no clock needed.
            let st = self.lock();
            if done(&st) {
                return st;
            }
            self.unlock(st);
        } else if nudge == Nudge::Wake {
            p.wake();
        }
        let start = Instant::now();
        let (until, hot, deadline) = (start + SPIN, start + HOT_SPIN, start + WAIT);
        while !pending.is_empty() {
            let t = Instant::now();
            if t >= until {
                break;
            }
            // A hart whose thread holds it is running on another core: its batch ends within
            // microseconds of the wake, so spin hot at first; then yield, as that thread may
            // have been preempted onto this core, and offer to run the hart here. Not
            // before: taking the hart from a thread that is about to act (between two
            // batches) moves it to a cold core, a microsecond lost in one halt of seven.
            let hot_now = t < hot;
            if hot_now {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
            let now = self.progress.load(Ordering::Acquire);
            if now != seen {
                seen = now;
                let st = self.lock();
                if done(&st) {
                    return st;
                }
                self.unlock(st);
            }
            if !hot_now {
                pending.retain(|&h| !p.run_here(h));
            }
        }
        // Sleep until done (a hart run here may have work left for its own thread: a long
        // program buffer). While harts are pending, wake every OFFER_EVERY to offer again:
        // a hart's thread may be stuck where it cannot act (descheduled on a busy host, or
        // reporting an earlier halt to a front end whose lock this very caller holds), and
        // then only this thread can run the hart.
        let mut st = self.lock();
        loop {
            let t = Instant::now();
            if done(&st) || t >= deadline {
                return st;
            }
            if pending.is_empty() {
                return self.sleep_until(st, &done, deadline);
            }
            st = self.sleep_until(st, &done, (t + OFFER_EVERY).min(deadline));
            if done(&st) {
                return st;
            }
            self.unlock(st);
            pending.retain(|&h| !p.run_here(h));
            st = self.lock();
        }
    }

    /// Wait until `done` holds or the time limit passes: spin briefly on the progress
    /// counter (a hart running on another core answers in microseconds), then sleep.
    pub(crate) fn wait<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        done: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        if done(&st) {
            return st;
        }
        let until = Instant::now() + SPIN;
        loop {
            let seen = self.progress.load(Ordering::Acquire);
            self.unlock(st);
            // Yield while spinning: a hart thread just woken may have been queued on this
            // very core (the scheduler places a wakee next to its waker), where pure
            // spinning would keep it off the CPU for the whole spin.
            while self.progress.load(Ordering::Acquire) == seen && Instant::now() < until {
                std::thread::yield_now();
            }
            st = self.lock();
            if done(&st) || Instant::now() >= until {
                break;
            }
        }
        let deadline = Instant::now() + WAIT;
        self.sleep_until(st, &done, deadline)
    }

    /// Sleep on the condition variable until `done` holds or `until` (state unlocked
    /// meanwhile).
    pub(super) fn sleep_until<'a>(
        &'a self,
        st: MutexGuard<'a, State>,
        done: &impl Fn(&State) -> bool,
        until: Instant,
    ) -> MutexGuard<'a, State> {
        let timeout = until.saturating_duration_since(Instant::now());
        // Counted while the lock is held, so a notifier (which holds it too) sees us.
        self.sleepers.fetch_add(1, Ordering::AcqRel);
        let st = self
            .changed
            .wait_timeout_while(st, timeout, |s| !done(s))
            .map(|r| r.0)
            .unwrap_or_else(|e| e.into_inner().0);
        self.sleepers.fetch_sub(1, Ordering::AcqRel);
        st
    }

    /// Harts reported something: wake waiters. Called with the state locked.
    pub(crate) fn notify(&self) {
        self.progress.fetch_add(1, Ordering::AcqRel);
        if self.sleepers.load(Ordering::Acquire) > 0 {
            self.changed.notify_all();
        }
    }

    // ---------------------------------------------------------------- hart side
}
