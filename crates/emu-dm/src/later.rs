//! Work left for a hart's own thread once it has let go of its hart.
//!
//! A hart halts on whatever thread runs it, in the middle of its engine's batch: the event
//! sink is called there, with the hart held, so it must not drive the Debug Module (every
//! abstract command needs that very hart). Work that must (resolving why the hart halted,
//! telling a debugger) went to another thread, and waking that thread cost a few
//! microseconds on every breakpoint hit. The hart's own thread, though, is awake already
//! and is about to let go of the hart and park: if it runs the work then, no thread is
//! woken at all.
//!
//! The platform marks the stretch in which a thread runs its own hart
//! ([`running_own_hart`]) and calls [`run`] each time it has let go of the hart. A sink
//! hands work to [`defer`], which queues it on such a thread and gives it back on any
//! other (a debugger's thread running a hart for a command), for the sink to send
//! elsewhere.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

/// Deferred work.
pub type Work = Box<dyn FnOnce() + Send>;

thread_local! {
    /// This thread is running its own hart's batch.
    static OWN: Cell<bool> = const { Cell::new(false) };
    /// Work for when it has let go of the hart.
    static QUEUE: RefCell<VecDeque<Work>> = const { RefCell::new(VecDeque::new()) };
}

/// Run `f` (a batch of the hart this thread owns) with work deferred to this thread.
pub fn running_own_hart<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            OWN.with(|o| o.set(self.0));
        }
    }
    let _reset = Reset(OWN.with(|o| o.replace(true)));
    f()
}

/// Queue `w` for this thread if it is running its own hart (see [`running_own_hart`]);
/// otherwise hand it back.
pub fn defer(w: Work) -> Result<(), Work> {
    if OWN.with(Cell::get) {
        QUEUE.with(|q| q.borrow_mut().push_back(w));
        Ok(())
    } else {
        Err(w)
    }
}

/// Run the work deferred to this thread, including any that work defers in turn. Call it
/// with the hart let go of: the work may drive the Debug Module.
pub fn run() {
    // One item at a time, the queue unborrowed while it runs.
    while let Some(w) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        w();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn work_is_queued_only_while_the_thread_runs_its_hart() {
        let done = Arc::new(AtomicUsize::new(0));
        let job = |d: &Arc<AtomicUsize>| -> Work {
            let d = d.clone();
            Box::new(move || {
                d.fetch_add(1, Ordering::SeqCst);
            })
        };
        // Outside: handed back, nothing queued.
        assert!(defer(job(&done)).is_err());
        // Inside: queued, not run.
        running_own_hart(|| {
            assert!(defer(job(&done)).is_ok());
            // Nested stretches restore the outer one's mark.
            running_own_hart(|| ());
            assert!(defer(job(&done)).is_ok());
        });
        assert!(defer(job(&done)).is_err());
        assert_eq!(done.load(Ordering::SeqCst), 0);
        run();
        assert_eq!(done.load(Ordering::SeqCst), 2);
        run();
        assert_eq!(done.load(Ordering::SeqCst), 2, "each runs once");
    }

    #[test]
    fn work_deferred_by_work_runs_in_the_same_call() {
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        running_own_hart(|| {
            let inner = d.clone();
            let outer: Work = Box::new(move || {
                let again: Work = Box::new(move || {
                    inner.fetch_add(10, Ordering::SeqCst);
                });
                // Work that runs a hart on its thread (a command) may defer more.
                assert!(running_own_hart(|| defer(again)).is_ok());
                d.fetch_add(1, Ordering::SeqCst);
            });
            assert!(defer(outer).is_ok());
        });
        run();
        assert_eq!(done.load(Ordering::SeqCst), 11);
    }
}
