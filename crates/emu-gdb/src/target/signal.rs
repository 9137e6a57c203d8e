//! The signal GDB hears when a trap catch (`monitor catch ...`) stops a hart: GDB shows a
//! signal's name (`Program received signal SIGILL, Illegal instruction.`), so a fault is
//! reported as the signal a Unix program would get for it.

use gdbstub::common::Signal;

/// The signal for trap cause `cause` (an `xcause` value; `interrupt`: its top bit).
pub(crate) fn for_trap(interrupt: bool, code: u64) -> Signal {
    if interrupt {
        return Signal::SIGTRAP;
    }
    match code {
        // Misaligned fetch, load, store.
        0 | 4 | 6 => Signal::SIGBUS,
        // Access faults, page faults and guest-page faults.
        1 | 5 | 7 | 12 | 13 | 15 | 20 | 21 | 23 => Signal::SIGSEGV,
        // Illegal and virtual instructions.
        2 | 22 => Signal::SIGILL,
        // Breakpoints, environment calls, the rest.
        _ => Signal::SIGTRAP,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traps_map_to_the_signals_a_program_would_get() {
        let table = [
            (false, 0, Signal::SIGBUS),
            (false, 1, Signal::SIGSEGV),
            (false, 2, Signal::SIGILL),
            (false, 3, Signal::SIGTRAP),
            (false, 4, Signal::SIGBUS),
            (false, 5, Signal::SIGSEGV),
            (false, 6, Signal::SIGBUS),
            (false, 7, Signal::SIGSEGV),
            (false, 8, Signal::SIGTRAP),
            (false, 11, Signal::SIGTRAP),
            (false, 12, Signal::SIGSEGV),
            (false, 13, Signal::SIGSEGV),
            (false, 15, Signal::SIGSEGV),
            (false, 22, Signal::SIGILL),
            (false, 40, Signal::SIGTRAP),
            (true, 2, Signal::SIGTRAP),
            (true, 7, Signal::SIGTRAP),
        ];
        for (interrupt, code, signal) in table {
            assert_eq!(for_trap(interrupt, code), signal, "{interrupt} {code}");
        }
    }
}
