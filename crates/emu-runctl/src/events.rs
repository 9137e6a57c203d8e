//! Stop events: the Debug Module reports halts as they happen (on whichever thread made
//! the hart act); a small thread of the run-control API resolves trigger hits through DMI
//! (which cannot happen on the reporting thread: it may be the very hart) and pushes a
//! [`StopEvent`] to every subscriber.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, Weak};

use emu_dm::{DebugModule, DmEvent};

use crate::control::{Inner, RunControl};
use crate::types::StopEvent;

/// The subscribers.
#[derive(Debug)]
pub(crate) struct Events {
    subs: Mutex<Vec<Sender<StopEvent>>>,
    /// Per hart: a halt now is the API's own doing (a running hart halted to arm a
    /// trigger, the step over a breakpoint before a resume) and is not reported. Checked by
    /// the DM's sink, which runs while the operation that halts the hart is in progress.
    quiet: Arc<[AtomicBool]>,
}

impl Events {
    pub(crate) fn new(harts: usize) -> Events {
        Events {
            subs: Mutex::new(Vec::new()),
            quiet: (0..harts).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    pub(crate) fn subscribe(&self) -> Receiver<StopEvent> {
        let (tx, rx) = channel();
        self.subs.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        rx
    }

    pub(crate) fn set_quiet(&self, h: usize, on: bool) {
        if let Some(q) = self.quiet.get(h) {
            q.store(on, Ordering::Release);
        }
    }

    fn publish(&self, e: StopEvent) {
        let mut subs = self.subs.lock().unwrap_or_else(|e| e.into_inner());
        // Subscribers that went away are dropped.
        subs.retain(|s| s.send(e).is_ok());
    }

    /// Install the DM's event sink and the thread that serves it; false when the DM has a
    /// sink already.
    pub(crate) fn attach(inner: &Arc<Inner>, dm: &DebugModule) -> bool {
        let (tx, rx) = channel::<DmEvent>();
        let tx = Mutex::new(tx);
        let quiet = inner.events.quiet.clone();
        let installed = dm.set_event_sink(Box::new(move |e| {
            if let DmEvent::Halted { hart, .. } = e
                && quiet.get(hart).is_some_and(|q| q.load(Ordering::Acquire))
            {
                return;
            }
            let _ = tx.lock().unwrap_or_else(|e| e.into_inner()).send(e);
        }));
        if !installed {
            return false;
        }
        let weak: Weak<Inner> = Arc::downgrade(inner);
        let spawned = std::thread::Builder::new()
            .name("runctl-events".into())
            .spawn(move || {
                // Ends when the Debug Module (the sender) or the RunControl goes away.
                while let Ok(e) = rx.recv() {
                    let Some(inner) = weak.upgrade() else {
                        break;
                    };
                    if let Some(stop) = RunControl::dm_event(&inner, e) {
                        inner.events.publish(stop);
                    }
                }
            });
        spawned.is_ok()
    }
}
