//! What the Debug Module needs from whatever runs the harts (the machine).
//!
//! The DM is execution-based: it writes flags and programs into its memory and the harts act
//! on them by executing the ROM. Harts normally run on their own host threads; a hart that
//! sleeps there (parked in the ROM's `wfi`, or in a guest `wfi`) can instead be run on the
//! caller's thread for the moment it takes to act, which turns a command or a step into
//! plain function calls instead of two thread wake-ups.

/// The machine side of the Debug Module.
pub trait Platform: Send + Sync {
    /// Wake every hart thread so it looks at the DM (a halt request for a running hart, or
    /// flags for a hart [`Platform::run_here`] could not take).
    fn wake(&self);

    /// If hart `hart` is asleep (parked in Debug Mode or waiting in `wfi`), run it on the
    /// calling thread until it parks in Debug Mode again or has left Debug Mode, then hand
    /// it back to its thread. False when its own thread has it (the caller then wakes it).
    fn run_here(&self, hart: usize) -> bool;

    /// Assert (`assert`) or deassert the reset of harts `harts` (`hartreset`); with
    /// `system`, of the whole system: every hart and every device, the program image
    /// loaded again (`ndmreset`). Asserting resets them and holds them; deasserting lets
    /// them run. Either way each hart goes through [`crate::DebugModule::hart_reset`].
    fn reset(&self, harts: &[usize], system: bool, assert: bool);

    /// The system bus, for System Bus Access (`None` when the machine is gone).
    fn bus(&self) -> Option<std::sync::Arc<dyn emu_core::Bus>>;
}
