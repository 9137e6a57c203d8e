//! Stop events. Halts the API causes itself (halt, step, reset) are captured while the
//! operation runs and published by it, with their causes resolved, from the caller's
//! thread; halts that happen on their own (a breakpoint hit by a running hart, a halt
//! group, an external trigger) are resolved (trigger hits are read through DMI) and pushed
//! by the halting hart's own thread once it has parked the hart and let go of it
//! (`emu_dm::later`); the sink, called in the middle of the hart's batch, cannot do it, as
//! every DMI command needs that very hart. A halt raised on any other thread (a debugger's,
//! running the hart for a command) goes to a small thread of the API instead. Either way
//! every subscriber gets a [`StopEvent`]; nothing polls, and no thread is woken on the path
//! of a step, a resume or a breakpoint hit. A front end in a hurry also hooks a function
//! onto the halts of the second kind, called on the reporting thread as soon as the halt is
//! resolved, before any subscriber's thread wakes.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use emu_dm::{DebugModule, DmEvent};

use crate::control::{Inner, RunControl};
use crate::types::StopEvent;

/// A subscription to stop events: a [`Receiver`] (it derefs to one) that tells the API
/// when it is dropped, so a subscriber that goes away is forgotten even if no event is
/// ever sent to it again (clients that connect and leave would otherwise pile up).
#[derive(Debug)]
pub struct Subscription {
    rx: Receiver<StopEvent>,
    alive: Arc<AtomicBool>,
    subs: Weak<Mutex<Vec<Subscriber>>>,
}

impl Subscription {
    /// A handle that ends this subscription from elsewhere: once it is dropped the API
    /// lets go of the channel, and a thread blocked in `recv` on the subscription gets
    /// an error and can end (its owner gone, no event need come first).
    pub fn closer(&self) -> Closer {
        Closer {
            alive: self.alive.clone(),
            subs: self.subs.clone(),
        }
    }
}

/// Ends a [`Subscription`] when dropped (see [`Subscription::closer`]).
#[derive(Debug)]
pub struct Closer {
    alive: Arc<AtomicBool>,
    subs: Weak<Mutex<Vec<Subscriber>>>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
        if let Some(subs) = self.subs.upgrade() {
            // Dropping the channel's sender wakes the receiver with an error.
            drop(live(&subs));
        }
    }
}

impl std::ops::Deref for Subscription {
    type Target = Receiver<StopEvent>;
    fn deref(&self) -> &Receiver<StopEvent> {
        &self.rx
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
    }
}

/// A hart's halts go to the stop events (no operation of the API is making it act).
const NOT_CAPTURED: u8 = 0;
/// A hart's halts are collected for the operation making it act.
const COLLECTED: u8 = 1;
/// A hart's halts are the business of the operation making it act, which reads them from
/// the Debug Module.
const LEFT_TO_THE_OPERATION: u8 = 2;

/// A subscriber: its channel, whether it is still wanted, and whether it wants only the
/// halts the API's own operations cause (the others reach it through a hook).
type Subscriber = (Sender<StopEvent>, Arc<AtomicBool>, bool);

/// The subscribers, locked, those no longer wanted dropped (their senders with them).
fn live(subs: &Mutex<Vec<Subscriber>>) -> MutexGuard<'_, Vec<Subscriber>> {
    let mut subs = subs.lock().unwrap_or_else(|e| e.into_inner());
    subs.retain(|(_, a, _)| a.load(Ordering::Acquire));
    subs
}

/// A function called with the halts no operation caused (see [`RunControl::on_stop`]).
pub type StopFn = Arc<dyn Fn(StopEvent) + Send + Sync>;

/// Keeps a [`RunControl::on_stop`] function registered; dropping it unregisters it.
#[derive(Debug)]
pub struct StopHook {
    alive: Arc<AtomicBool>,
}

/// The registered hooks, with whether each is still wanted.
struct Hooks(Mutex<Vec<(StopFn, Arc<AtomicBool>)>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|h| h.len()).unwrap_or(0);
        f.debug_struct("Hooks").field("registered", &n).finish()
    }
}

impl Drop for StopHook {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
    }
}

/// The subscribers, and the capture of halts caused by the API's own operations.
#[derive(Debug)]
pub(crate) struct Events {
    subs: Arc<Mutex<Vec<Subscriber>>>,
    hooks: Hooks,
    /// Per hart: whether an operation of the API is making it act, and what becomes of its
    /// halts meanwhile (`NOT_CAPTURED`, `COLLECTED`, `LEFT_TO_THE_OPERATION`).
    capture: Arc<[AtomicU8]>,
    /// Halts captured: `(hart, dcsr, seq)`.
    captured: Arc<Mutex<Vec<(usize, u32, u64)>>>,
}

impl Events {
    pub(crate) fn new(harts: usize) -> Events {
        Events {
            subs: Arc::new(Mutex::new(Vec::new())),
            hooks: Hooks(Mutex::new(Vec::new())),
            capture: (0..harts).map(|_| AtomicU8::new(NOT_CAPTURED)).collect(),
            captured: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// A subscription to every stop, or (`caused_only`) to the stops the API's operations
    /// cause.
    pub(crate) fn subscribe(&self, caused_only: bool) -> Subscription {
        let (tx, rx) = channel();
        let alive = Arc::new(AtomicBool::new(true));
        live(&self.subs).push((tx, alive.clone(), caused_only));
        Subscription {
            rx,
            alive,
            subs: Arc::downgrade(&self.subs),
        }
    }

    /// Live subscriptions.
    pub(crate) fn subscribers(&self) -> usize {
        live(&self.subs).len()
    }

    /// Capture the halts of `harts` until [`Events::end_capture`], which returns them.
    pub(crate) fn begin_capture(&self, harts: &[usize]) {
        self.set_capture(harts, COLLECTED);
    }

    /// Capture the halts of `harts` until [`Events::end_capture_untold`] and forget them: the
    /// operation learns of them from the Debug Module. That spares the halting hart's
    /// thread a lock and a list while it holds the Debug Module's state, and the operation
    /// the same lock and list just after: both cache lines would go from one thread to the
    /// other and back on the way of a halt. Begin and end it at the first and last access
    /// of the DMI batch that reads the harts' status ([`emu_dm::DebugModule::dmi_batch_framed`]):
    /// a halt between an earlier begin and that batch's status read would be dropped here
    /// and look like one from before the operation to it, reported by nobody.
    pub(crate) fn begin_capture_untold(&self, harts: &[usize]) {
        self.set_capture(harts, LEFT_TO_THE_OPERATION);
    }

    fn set_capture(&self, harts: &[usize], how: u8) {
        for &h in harts {
            if let Some(c) = self.capture.get(h) {
                c.store(how, Ordering::Release);
            }
        }
    }

    /// Stop capturing for `harts` after [`Events::begin_capture_untold`].
    pub(crate) fn end_capture_untold(&self, harts: &[usize]) {
        self.set_capture(harts, NOT_CAPTURED);
    }

    /// Stop capturing for `harts`; the halts captured for them.
    pub(crate) fn end_capture(&self, harts: &[usize]) -> Vec<(usize, u32, u64)> {
        self.set_capture(harts, NOT_CAPTURED);
        let mut cap = self.captured.lock().unwrap_or_else(|e| e.into_inner());
        let (mine, rest): (Vec<_>, Vec<_>) = cap.drain(..).partition(|(h, _, _)| harts.contains(h));
        *cap = rest;
        mine
    }

    pub(crate) fn hook(&self, f: StopFn) -> StopHook {
        let alive = Arc::new(AtomicBool::new(true));
        let mut hooks = self.hooks.0.lock().unwrap_or_else(|e| e.into_inner());
        hooks.retain(|(_, a)| a.load(Ordering::Acquire));
        hooks.push((f, alive.clone()));
        StopHook { alive }
    }

    /// Call the hooks with `e` (outside the lock: a hook may register another).
    fn call_hooks(&self, e: StopEvent) {
        let live: Vec<StopFn> = {
            let mut hooks = self.hooks.0.lock().unwrap_or_else(|e| e.into_inner());
            hooks.retain(|(_, a)| a.load(Ordering::Acquire));
            hooks.iter().map(|(f, _)| f.clone()).collect()
        };
        for f in live {
            f(e);
        }
    }

    /// Publish a stop an operation of the API caused (from the caller's thread).
    pub(crate) fn publish(&self, e: StopEvent) {
        self.send(e, true);
    }

    /// Publish a stop no operation caused: the hooks first (they answer on this thread, the
    /// subscribers' own threads have yet to wake), then the subscribers that want it.
    fn publish_unprompted(&self, e: StopEvent) {
        self.call_hooks(e);
        self.send(e, false);
    }

    fn send(&self, e: StopEvent, caused: bool) {
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        // Subscribers that went away are dropped.
        subs.retain(|(s, a, only)| {
            a.load(Ordering::Acquire) && (!caused && *only || s.send(e).is_ok())
        });
    }

    /// Install the DM's event sink and the thread that serves it; false when the DM has a
    /// sink already.
    pub(crate) fn attach(inner: &Arc<Inner>, dm: &DebugModule) -> bool {
        let (tx, rx) = channel::<(usize, u32, u64)>();
        let tx = Mutex::new(tx);
        let capture = inner.events.capture.clone();
        let captured = inner.events.captured.clone();
        let weak: Weak<Inner> = Arc::downgrade(inner);
        let for_sink = weak.clone();
        let installed = dm.set_event_sink(Box::new(move |e| {
            // Only halts matter (a resume is what some operation asked for).
            let DmEvent::Halted { hart, dcsr, seq } = e else {
                return;
            };
            let how = capture
                .get(hart)
                .map_or(NOT_CAPTURED, |c| c.load(Ordering::Acquire));
            if how == LEFT_TO_THE_OPERATION {
                // The operation reads it from the Debug Module.
            } else if how == COLLECTED {
                captured
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((hart, dcsr, seq));
            } else {
                // Reported on the hart's own thread once it lets go of the hart; from any
                // other (a debugger's, running the hart for a command), on ours.
                let w = for_sink.clone();
                let work = Box::new(move || {
                    deliver(&w, hart, dcsr, seq);
                });
                if emu_dm::later::defer(work).is_err() {
                    let _ = tx
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .send((hart, dcsr, seq));
                }
            }
        }));
        if !installed {
            return false;
        }
        let spawned = std::thread::Builder::new()
            .name("runctl-events".into())
            .spawn(move || {
                // Ends when the Debug Module (the sender) or the RunControl goes away.
                while let Ok((hart, dcsr, seq)) = rx.recv() {
                    if !deliver(&weak, hart, dcsr, seq) {
                        break;
                    }
                }
            });
        spawned.is_ok()
    }
}

/// Resolve a halt no operation caused and publish it (unless it ends a chunk of a counted
/// run: then the next chunk starts instead). False when the RunControl is gone.
fn deliver(weak: &Weak<Inner>, hart: usize, dcsr: u32, seq: u64) -> bool {
    let Some(inner) = weak.upgrade() else {
        return false;
    };
    let rc = RunControl { inner };
    let stop = {
        let mut s = rc.inner.session();
        let stop = rc.resolve(&mut s, hart, dcsr, seq);
        if rc.continue_budget(&mut s, &stop) {
            return true;
        }
        stop
    };
    rc.inner.events.publish_unprompted(stop);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StopCause;

    #[test]
    fn a_closer_ends_a_blocked_receive() {
        let e = Events::new(1);
        let sub = e.subscribe(true);
        let closer = sub.closer();
        let t = std::thread::spawn(move || sub.recv().is_err());
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(closer);
        assert!(t.join().unwrap_or(false), "recv ended with an error");
        assert_eq!(e.subscribers(), 0);
    }

    #[test]
    fn subscribers_that_leave_are_forgotten_without_any_event() {
        let e = Events::new(1);
        let keep = e.subscribe(false);
        for _ in 0..100 {
            drop(e.subscribe(false));
        }
        // Each subscription pruned the ones dropped before it: one dead one is left.
        assert_eq!(e.subs.lock().map(|s| s.len()).unwrap_or(0), 2);
        assert_eq!(e.subscribers(), 1);
        e.publish(StopEvent {
            hart: 0,
            cause: StopCause::Step,
            seq: 1,
        });
        assert_eq!(
            keep.try_recv().ok().map(|ev| ev.cause),
            Some(StopCause::Step)
        );
    }
}
