//! Keeping idle CPUs out of sleep while a debugger is attached (Linux PM QoS).
//!
//! Why: every round trip between a debugger and emu wakes a thread on a CPU that went
//! idle waiting for it. On a virtual machine an idle virtual CPU is halted, and waking it
//! takes the hypervisor tens of microseconds: more than emu's whole share of a JTAG scan
//! or a GDB step. A process that holds `/dev/cpu_dma_latency` open with a target of 0
//! tells the kernel's idle governor to poll instead of halting, which turns those wake-ups
//! into a store the polling CPU sees at once. It costs power on every CPU of the host for
//! as long as it is held, and it speeds every program on the host, not only emu, so emu
//! asks for it only when told to (`emu --low-latency`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};

/// The kernel's PM QoS interface for the CPUs' wake-up latency.
const DEVICE: &str = "/dev/cpu_dma_latency";

/// A held request for idle CPUs to wake within `target` microseconds; the kernel drops it
/// when this is dropped (the file closes).
#[derive(Debug)]
pub struct CpuLatencyHold {
    _file: File,
}

/// Ask the kernel to keep every CPU able to wake within `target_us` microseconds (0: idle
/// CPUs poll) until the returned hold is dropped. Fails where the interface is missing or
/// not writable (not Linux, no permission).
pub fn hold_cpu_latency(target_us: i32) -> std::io::Result<CpuLatencyHold> {
    let mut file = OpenOptions::new().write(true).open(DEVICE)?;
    // The interface takes the target as a binary 32-bit integer in the host's byte order.
    file.write_all(&target_us.to_ne_bytes())?;
    Ok(CpuLatencyHold { _file: file })
}

/// The CPUs' wake-up latency target now in force (the strictest held), in microseconds.
pub fn cpu_latency_target() -> std::io::Result<i32> {
    let mut b = [0u8; 4];
    File::open(DEVICE)?.read_exact(&mut b)?;
    Ok(i32::from_ne_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_sets_the_target_and_dropping_it_lifts_it() {
        let before = match cpu_latency_target() {
            Ok(t) => t,
            // No PM QoS here (not Linux): the hold must fail, not pretend.
            Err(_) => {
                assert!(hold_cpu_latency(0).is_err());
                return;
            }
        };
        let hold = match hold_cpu_latency(0) {
            Ok(h) => h,
            Err(e) => {
                // Readable but not writable: only lack of permission explains it.
                assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
                return;
            }
        };
        assert_eq!(cpu_latency_target().ok(), Some(0));
        drop(hold);
        // Another process may hold a strict target of its own; ours is gone either way.
        let after = cpu_latency_target().unwrap_or(0);
        assert!(after == before || before == 0, "{before} -> {after}");
    }
}
