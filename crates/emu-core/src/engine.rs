//! The execution-engine seam: the machine runs harts through [`Engine`], so the reference
//! interpreter and the JIT (which lives in its own crate, with Cranelift behind it) are
//! interchangeable and the machine never depends on a code generator.

use crate::bus::Bus;
use crate::hart::{Hart, StepOutcome};

/// Why [`Engine::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineExit {
    /// The instruction budget is used up.
    Budget,
    /// The hart executed `wfi` and nothing wakes it yet.
    Waiting,
    /// The caller's poll asked to stop (interrupt lines changed, exit or halt requested).
    Stopped,
    /// An interrupt was taken, or a halt request brought the hart into Debug Mode: the
    /// caller should sample the interrupt lines (and requests) again.
    Interrupt,
}

/// What a call to [`Engine::run`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStats {
    /// Instructions executed (including those that ended in an exception).
    pub executed: u64,
    /// Why it returned.
    pub exit: EngineExit,
}

/// Cuts a running batch short from another thread. A JIT's translated loops read their
/// instruction limit at every back edge; firing zeroes it, so a guest spinning in such a loop
/// leaves it at its next iteration. A halt request reaches a busy hart this way without any
/// check added to the loop (it loads its limit anyway).
#[derive(Clone)]
pub struct Preempt(std::sync::Arc<dyn Fn() + Send + Sync>);

impl Preempt {
    /// A preemption that runs `fire` (which must be quick and must not block).
    pub fn new(fire: impl Fn() + Send + Sync + 'static) -> Preempt {
        Preempt(std::sync::Arc::new(fire))
    }

    /// Make the block running now (if any) return at its next loop back edge.
    pub fn fire(&self) {
        (self.0)()
    }
}

impl std::fmt::Debug for Preempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Preempt")
    }
}

/// Executes a hart.
pub trait Engine: Send {
    /// Short name (`interp`, `jit`).
    fn name(&self) -> &'static str;

    /// How many instructions the caller should let one [`Engine::run`] execute between
    /// samples of the interrupt lines (a JIT amortises its exits over more).
    fn batch_hint(&self) -> u64 {
        256
    }

    /// The word that cuts a running batch short ([`Preempt`]); `None` when the engine
    /// polls between instructions anyway, as the interpreter does.
    fn preempt(&self) -> Option<Preempt> {
        None
    }

    /// Run `hart` for at most `budget` instructions with the device interrupt lines `lines`
    /// (sampled by the caller). `poll` is called between instructions or blocks; when it
    /// returns true the engine returns [`EngineExit::Stopped`] promptly.
    fn run(
        &mut self,
        hart: &mut Hart,
        bus: &dyn Bus,
        lines: u64,
        budget: u64,
        poll: &mut dyn FnMut() -> bool,
    ) -> RunStats;
}

/// A per-instruction observer (the `--trace` output).
pub type TraceHook = Box<dyn FnMut(&Hart, &dyn Bus) + Send>;

/// The reference interpreter as an [`Engine`].
#[derive(Default)]
pub struct Interpreter {
    trace: Option<TraceHook>,
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("trace", &self.trace.is_some())
            .finish()
    }
}

impl Interpreter {
    /// An interpreter that calls `hook` before every instruction.
    pub fn with_trace(hook: TraceHook) -> Interpreter {
        Interpreter { trace: Some(hook) }
    }
}

impl Engine for Interpreter {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn run(
        &mut self,
        hart: &mut Hart,
        bus: &dyn Bus,
        lines: u64,
        budget: u64,
        poll: &mut dyn FnMut() -> bool,
    ) -> RunStats {
        let mut executed = 0;
        while executed < budget {
            if let Some(t) = self.trace.as_mut() {
                t(hart, bus);
            }
            match hart.step_with_lines(bus, lines) {
                StepOutcome::Waiting => {
                    return RunStats {
                        executed,
                        exit: EngineExit::Waiting,
                    };
                }
                StepOutcome::Interrupt(_) | StepOutcome::Halted(_) => {
                    return RunStats {
                        executed,
                        exit: EngineExit::Interrupt,
                    };
                }
                StepOutcome::Retired | StepOutcome::Exception(_) => executed += 1,
            }
            if poll() {
                return RunStats {
                    executed,
                    exit: EngineExit::Stopped,
                };
            }
        }
        RunStats {
            executed,
            exit: EngineExit::Budget,
        }
    }
}
