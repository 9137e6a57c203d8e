//! The harts' host threads, and the hand-over that lets the Debug Module run a sleeping hart
//! on its caller's thread ([`emu_dm::Platform`]).
//!
//! Each hart lives in a [`HartCell`] with its engine. The hart's thread holds the cell's lock
//! only while it runs a batch; before it sleeps (parked in the Debug Module's ROM, or in a
//! guest `wfi`) it marks the hart asleep and lets go. A debugger thread that needs the hart
//! to act (run an abstract command, resume, step, halt) takes the lock and runs the hart
//! itself until it parks again or has left Debug Mode, then gives it back and wakes the
//! thread if the hart should run. No thread wake-up lies on the path of a command or a step.
//!
//! Nor on the path of a continue, if the debugger is quick: a hart's thread that has parked
//! its hart in the ROM first does what its batch left for it (the report of the halt,
//! `emu_dm::later`: no other thread is woken to make it), then watches for a request for
//! half a millisecond, yielding, before it sleeps. The resume that follows takes it up at
//! once, where waking a sleeping thread took some 20 us on a virtual machine.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use emu_core::{Bus, Engine, EngineExit, Hart, Interpreter};
use emu_dm::Platform;

use crate::bus::SystemBus;
use crate::elf::Segment;
use crate::machine::{EngineFactory, trace};
use crate::map::RAM_BASE;
use crate::signals::Signals;

/// Most instructions a debugger's thread runs for a hart before handing it back to the
/// hart's own thread (a program buffer that loops must not hold the debugger).
const RUN_HERE_LIMIT: u64 = 100_000;

/// How long a hart's thread, its hart parked in Debug Mode, watches for a request before
/// it sleeps (yielding its core meanwhile to anything else that wants it).
const PARK_SPIN: Duration = Duration::from_micros(500);

/// A hart with its engine.
pub(crate) struct HartCtx {
    pub(crate) hart: Hart,
    pub(crate) engine: Box<dyn Engine>,
    /// Instructions executed so far (for `max_instructions`).
    pub(crate) executed: u64,
    /// The hart's thread is (about to be) sleeping: someone else may run the hart.
    pub(crate) asleep: bool,
    /// Held in reset by the Debug Module: runs nothing until released.
    pub(crate) held: bool,
}

/// One hart's place: `None` before its thread made the engine and after it finished.
pub(crate) struct HartCell(Mutex<Option<HartCtx>>);

impl HartCell {
    pub(crate) fn new(ctx: HartCtx) -> HartCell {
        HartCell(Mutex::new(Some(ctx)))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<HartCtx>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What every hart thread and the Debug Module's hand-over share.
pub(crate) struct HartSet {
    pub(crate) cells: Vec<HartCell>,
    pub(crate) signals: Arc<Signals>,
}

impl std::fmt::Debug for HartSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HartSet")
            .field("harts", &self.cells.len())
            .finish_non_exhaustive()
    }
}

/// The machine's [`Platform`]: the bus is held weakly (the bus owns the Debug Module,
/// which owns this).
pub(crate) struct Driver {
    pub(crate) set: Arc<HartSet>,
    pub(crate) bus: Weak<SystemBus>,
    /// The program, reloaded by a system reset.
    pub(crate) image: Arc<Vec<Segment>>,
    /// Where harts start after a reset (the boot ROM).
    pub(crate) reset_pc: u64,
}

impl Platform for Driver {
    fn wake(&self) {
        self.set.signals.wake_all();
    }

    fn run_here(&self, h: usize) -> bool {
        let Some(cell) = self.set.cells.get(h) else {
            return false;
        };
        let Some(bus) = self.bus.upgrade() else {
            return false;
        };
        let Some(dm) = bus.dm() else {
            return false;
        };
        let Ok(mut g) = cell.0.try_lock() else {
            return false; // its thread is running it
        };
        // A hart that sleeps, or one whose thread has not picked it up again yet and that
        // is parked in Debug Mode or about to halt (so running it here cannot run guest
        // code for long).
        let Some(ctx) = g
            .as_mut()
            .filter(|c| !c.held && (c.asleep || c.hart.debug_mode || dm.halt_pending(h)))
        else {
            return false;
        };
        let was_asleep = ctx.asleep;
        let signals = &self.set.signals;
        let mut ran = 0u64;
        let give_back = loop {
            dm.service(&mut ctx.hart);
            if ctx.hart.debug_mode {
                ctx.hart.nudge(); // the ROM looks at its flags again
            }
            let lines = bus.irq_lines(ctx.hart.id);
            let stats = ctx.engine.run(&mut ctx.hart, &*bus, lines, 4096, &mut || {
                dm.released(h) || signals.exiting()
            });
            ran += stats.executed;
            ctx.executed += stats.executed;
            if stats.exit == EngineExit::Waiting && ctx.hart.debug_mode {
                break false; // parked again
            }
            if !ctx.hart.debug_mode && !ctx.hart.debug.stepping {
                break true; // resumed: the guest runs on its own thread
            }
            if ran >= RUN_HERE_LIMIT || signals.exiting() {
                break true;
            }
        };
        if give_back {
            ctx.asleep = false;
        }
        drop(g);
        // Its thread was asleep: wake it to run the hart (one that is awake already looks at
        // the hart when it next takes the lock).
        if give_back && was_asleep {
            signals.wake_all();
        }
        true
    }

    fn reset(&self, harts: &[usize], system: bool, assert: bool) {
        let Some(bus) = self.bus.upgrade() else {
            return;
        };
        let Some(dm) = bus.dm() else {
            return;
        };
        // Hold every hart concerned while the system changes under it (cells in index
        // order; nothing else ever holds two).
        let mut held: Vec<_> = harts
            .iter()
            .filter_map(|&h| self.set.cells.get(h).map(HartCell::lock))
            .collect();
        if system && assert {
            // As QEMU's system reset: devices to their power-on state, the program image
            // loaded again (its zero-filled tails too); the rest of RAM keeps its contents.
            bus.reset_devices();
            for seg in self.image.iter() {
                let off = seg.addr - RAM_BASE;
                bus.ram.write_bytes(off, &seg.data);
                let tail = seg.mem_size.saturating_sub(seg.data.len() as u64);
                bus.ram
                    .write_bytes(off + seg.data.len() as u64, &vec![0u8; tail as usize]);
                let len = seg.mem_size.max(seg.data.len() as u64);
                bus.note_host_write(seg.addr, seg.addr + len);
            }
        }
        for ctx in held.iter_mut().filter_map(|g| g.as_mut()) {
            if assert {
                ctx.hart.reset(self.reset_pc);
            }
            ctx.held = assert;
            ctx.asleep = assert;
            dm.hart_reset(&mut ctx.hart);
        }
        drop(held);
        self.set.signals.wake_all();
    }

    fn bus(&self) -> Option<Arc<dyn Bus>> {
        self.bus.upgrade().map(|b| b as Arc<dyn Bus>)
    }
}

/// Hart `hart` ready to run, with its engine: placed in its cell before any thread
/// starts, so a reset or a debugger that comes early finds every hart there.
pub(crate) fn hart_ctx(hart: Hart, factory: Option<&EngineFactory>, trace_on: bool) -> HartCtx {
    let engine: Box<dyn Engine> = match (factory, trace_on) {
        (_, true) => Box::new(Interpreter::with_trace(Box::new(trace))),
        (Some(f), false) => f(hart.id),
        (None, false) => Box::new(Interpreter::default()),
    };
    HartCtx {
        hart,
        engine,
        executed: 0,
        asleep: false,
        held: false,
    }
}

/// The body of hart `id`'s thread: run batches of the hart in its cell until the machine
/// exits. Returns whether the instruction limit stopped it.
pub(crate) fn hart_thread(id: usize, set: &HartSet, bus: &SystemBus, limit: u64) -> bool {
    let cell = &set.cells[id];
    let signals = &*set.signals;
    let dm = bus.dm();
    while !signals.exiting() {
        // What the last batch left for this thread (the report of a halt), now that it has
        // let go of the hart.
        emu_dm::later::run();
        // A device write that may change interrupt lines bumps the wake generation; the engine
        // stops then so the new lines are seen before the next instruction. So does the
        // Debug Module when it asks something of the harts.
        let wake_gen = signals.generation();
        let mut g = cell.lock();
        let Some(ctx) = g.as_mut() else {
            break;
        };
        if ctx.held {
            ctx.asleep = true;
            drop(g);
            signals.wait(wake_gen, Duration::from_millis(200));
            continue;
        }
        ctx.asleep = false;
        if let Some(dm) = dm {
            dm.service(&mut ctx.hart);
        }
        if ctx.hart.debug_mode {
            // Parked in the Debug Module's ROM: let it look at its flags again.
            ctx.hart.nudge();
        }
        let lines = bus.irq_lines(ctx.hart.id);
        let budget = ctx.engine.batch_hint().min(limit - ctx.executed);
        let stats = emu_dm::later::running_own_hart(|| {
            ctx.engine.run(&mut ctx.hart, bus, lines, budget, &mut || {
                signals.generation() != wake_gen
            })
        });
        ctx.executed += stats.executed;
        if let Some(dm) = dm {
            dm.set_waiting(
                id,
                stats.exit == EngineExit::Waiting && !ctx.hart.debug_mode,
            );
        }
        if ctx.executed >= limit {
            drop(g);
            signals.exit_host();
            return true;
        }
        if stats.exit != EngineExit::Waiting {
            continue;
        }
        // Asleep: in the ROM until the DM (or anything) wakes the harts, in `wfi` until an
        // interrupt line may have changed or the timer is due.
        let timeout = if ctx.hart.debug_mode {
            Duration::from_millis(200)
        } else if ctx.hart.mip(bus.irq_lines(ctx.hart.id)) & ctx.hart.csr.mie == 0 {
            let ns = bus.clint.ns_until_timer(id).clamp(10_000, 10_000_000);
            Duration::from_nanos(ns)
        } else {
            continue;
        };
        ctx.asleep = true;
        let parked = ctx.hart.debug_mode;
        drop(g);
        emu_dm::later::run();
        if parked {
            // A debugger's next request (a resume, most often) usually comes within a
            // few tens of microseconds of the last: waking a sleeping thread would cost
            // more than that on a virtual machine, so watch for it a while first.
            let until = Instant::now() + PARK_SPIN;
            while signals.generation() == wake_gen && Instant::now() < until {
                std::thread::yield_now();
            }
        }
        signals.wait(wake_gen, timeout);
    }
    false
}
