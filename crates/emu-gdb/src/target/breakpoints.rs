//! Breakpoints and watchpoints: `Z0` as an `ebreak` written into guest memory (with
//! `dcsr.ebreak*` sending it to the debugger while any is set), `Z1` and `Z2`-`Z4` as
//! Sdtrig triggers of the run-control API.

use super::*;

impl Breakpoints for EmuTarget {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for EmuTarget {
    fn add_sw_breakpoint(&mut self, addr: u64, kind: usize) -> TargetResult<bool, Self> {
        if self.sw.contains_key(&addr) {
            return Ok(true);
        }
        let insn: &[u8] = match kind {
            2 => &C_EBREAK,
            4 => &EBREAK,
            _ => return Ok(false),
        };
        let mut orig = vec![0u8; insn.len()];
        nonfatal(self.read_mem(0, addr, &mut orig))?;
        if self.sw.is_empty() {
            nonfatal(self.ebreak_to_debugger(true))?;
        }
        // Only the blocks holding these bytes are retranslated.
        nonfatal(self.write_mem(0, addr, insn))?;
        self.sw.insert(addr, orig);
        Ok(true)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        let Some(orig) = self.sw.remove(&addr) else {
            return Ok(false);
        };
        nonfatal(self.write_mem(0, addr, &orig))?;
        if self.sw.is_empty() {
            nonfatal(self.ebreak_to_debugger(false))?;
        }
        Ok(true)
    }
}

impl HwBreakpoint for EmuTarget {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if self.hw.contains_key(&addr) {
            return Ok(true);
        }
        match self.rc.add_breakpoint(HartSel::All, addr) {
            Ok(id) => {
                self.hw.insert(addr, id);
                Ok(true)
            }
            // Out of triggers: GDB says so to the user.
            Err(_) => Ok(false),
        }
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        let Some(id) = self.hw.remove(&addr) else {
            return Ok(false);
        };
        nonfatal(self.rc.remove_trigger(id))?;
        Ok(true)
    }
}

fn key(kind: gdbstub::target::ext::breakpoints::WatchKind) -> (WatchKindKey, WatchKind) {
    use gdbstub::target::ext::breakpoints::WatchKind as G;
    match kind {
        G::Write => (WatchKindKey::Write, WatchKind::Write),
        G::Read => (WatchKindKey::Read, WatchKind::Read),
        G::ReadWrite => (WatchKindKey::Access, WatchKind::Access),
    }
}

impl HwWatchpoint for EmuTarget {
    fn add_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: gdbstub::target::ext::breakpoints::WatchKind,
    ) -> TargetResult<bool, Self> {
        let (k, wk) = key(kind);
        if self.watch.contains_key(&(addr, len, k)) {
            return Ok(true);
        }
        let Some(hi) = addr.checked_add(len.max(1)) else {
            return Ok(false);
        };
        // Fire before the access: GDB on RISC-V treats watchpoints as non-steppable (it
        // takes the watchpoint out, steps the access, compares the value), so a stop before
        // the access is reported right after it, where a user expects it.
        match self.rc.add_watchpoint(HartSel::All, addr, hi, wk, false) {
            Ok(id) => {
                self.watch.insert((addr, len, k), id);
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    fn remove_hw_watchpoint(
        &mut self,
        addr: u64,
        len: u64,
        kind: gdbstub::target::ext::breakpoints::WatchKind,
    ) -> TargetResult<bool, Self> {
        let (k, _) = key(kind);
        let Some(id) = self.watch.remove(&(addr, len, k)) else {
            return Ok(false);
        };
        nonfatal(self.rc.remove_trigger(id))?;
        Ok(true)
    }
}
