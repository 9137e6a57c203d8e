//! The machine as a `gdbstub` target: every operation goes through the run-control API, so
//! GDB sees the same halted state, causes and triggers as the MCD and JTAG front ends.
//! Harts are GDB threads (thread id = hart + 1).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use crate::arch::{CSRS, Features, GdbRegs, Reg, Riscv, page, target_xml};
use crate::{Host, Region};
use emu_runctl::{HartSel, HartStatus, MemSpace, RcError, RegId, RunControl, StopCause};
use emu_runctl::{TriggerId, WatchKind};
use gdbstub::common::{Signal, Tid};
use gdbstub::stub::MultiThreadStopReason;
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::base::multithread::{
    MultiThreadBase, MultiThreadResume, MultiThreadResumeOps, MultiThreadSchedulerLocking,
    MultiThreadSchedulerLockingOps, MultiThreadSingleStep, MultiThreadSingleStepOps,
};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps,
    SwBreakpoint, SwBreakpointOps,
};
use gdbstub::target::ext::exec_file::{ExecFile, ExecFileOps};
use gdbstub::target::ext::host_io::HostIoOps;
use gdbstub::target::ext::memory_map::{MemoryMap, MemoryMapOps};
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd, MonitorCmdOps};
use gdbstub::target::ext::target_description_xml_override::{
    TargetDescriptionXmlOverride, TargetDescriptionXmlOverrideOps,
};
use gdbstub::target::ext::thread_extra_info::{ThreadExtraInfo, ThreadExtraInfoOps};
use gdbstub::target::{Target, TargetError, TargetResult};

mod breakpoints;
mod ext;
mod host_io;
mod resume;
mod signal;

/// A stop as GDB hears of it.
pub type StopReason = MultiThreadStopReason<u64>;

/// `dcsr` bits that make `ebreak` enter Debug Mode in M, S and U mode.
const EBREAK_MSU: u64 = 1 << 15 | 1 << 13 | 1 << 12;
/// The 4-byte and the compressed `ebreak`.
const EBREAK: [u8; 4] = 0x0010_0073u32.to_le_bytes();
const C_EBREAK: [u8; 2] = 0x9002u16.to_le_bytes();

/// What GDB asked the harts to do at the next resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Stay,
    Continue,
    Step,
}

/// A hart that stopped on its own in the same all-stop as the one reported: GDB hears of
/// one stop at a time, so this one waits for the next resume that would run the hart
/// (`resume.rs`), as gdbserver keeps a thread's pending status. Resumed instead, the hart
/// would run past a hardware breakpoint (the run-control API steps over it) or a
/// watched access, and GDB would never hear of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deferred {
    pub(crate) hart: usize,
    pub(crate) reason: StopReason,
    /// The halt it was (`RunControl::halts`): any later halt (a step) makes it stale.
    pub(crate) seq: u64,
    /// Where the hart stopped: GDB moving it (`set $pc`, `jump`) makes it stale.
    pub(crate) pc: u64,
}

/// The machine behind one GDB connection.
pub struct EmuTarget {
    rc: Arc<RunControl>,
    host: Arc<dyn Host>,
    harts: usize,
    /// Register width in bytes (4 on RV32, 8 on RV64).
    pub(crate) xbytes: usize,
    flen: u32,
    xml: Option<Vec<u8>>,
    actions: Vec<Action>,
    /// Scheduler locking: harts without an action stay halted.
    locked: bool,
    /// Harts GDB believes running (resumed and not yet reported stopped).
    pub(crate) running: Vec<usize>,
    /// A stop that happened during the resume itself (a step): reported at once.
    pub(crate) pending: Option<(usize, StopReason)>,
    /// Stops of other harts in the all-stop last reported, not yet told to GDB.
    pub(crate) deferred: Vec<Deferred>,
    /// Software breakpoints: address → the bytes the `ebreak` replaced.
    sw: HashMap<u64, Vec<u8>>,
    hw: HashMap<u64, TriggerId>,
    /// The guest ELF's path (`qXfer:exec-file`), when the host has one.
    exec: Option<std::path::PathBuf>,
    /// Host I/O: the guest ELF as GDB opened it, by descriptor (`host_io.rs`).
    files: Vec<Option<std::fs::File>>,
    /// Watchpoints: (address, length, kind) → trigger.
    watch: HashMap<(u64, u64, WatchKindKey), TriggerId>,
    /// Whether memory is read physically (satp bare: the fast system-bus path), per stop.
    bare: Option<bool>,
    /// Set by the server around an `m` packet: the memory read is appended here, encoded
    /// (`hex.rs`), and `gdbstub` is given none to encode (so its reply is empty, unless it
    /// is an error).
    pub(crate) m_hex: Option<Vec<u8>>,
}

/// `gdbstub`'s watch kind as a map key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum WatchKindKey {
    Read,
    Write,
    Access,
}

impl std::fmt::Debug for EmuTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmuTarget")
            .field("harts", &self.harts)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

/// Thread id of hart `h`.
pub fn tid(h: usize) -> Tid {
    NonZeroUsize::new(h + 1).unwrap_or(NonZeroUsize::MIN)
}

fn hart(t: Tid) -> usize {
    t.get() - 1
}

fn nonfatal<T>(r: Result<T, RcError>) -> TargetResult<T, EmuTarget> {
    r.map_err(|_| TargetError::NonFatal)
}

impl EmuTarget {
    /// The target for a fresh connection.
    pub fn new(rc: Arc<RunControl>, host: Arc<dyn Host>) -> EmuTarget {
        let caps = rc.dm().caps();
        let flen = match (caps.f, caps.d) {
            (_, true) => 64,
            (true, false) => 32,
            _ => 0,
        };
        let harts = rc.harts();
        let exec = host.exec_file();
        EmuTarget {
            rc,
            host,
            harts,
            xbytes: caps.xlen.bits() as usize / 8,
            flen,
            xml: None,
            actions: vec![Action::Stay; harts],
            locked: false,
            running: Vec::new(),
            pending: None,
            deferred: Vec::new(),
            sw: HashMap::new(),
            hw: HashMap::new(),
            exec,
            files: Vec::new(),
            watch: HashMap::new(),
            bare: None,
            m_hex: None,
        }
    }

    /// The run-control API.
    pub fn rc(&self) -> &RunControl {
        &self.rc
    }

    /// A debugger attaches: halt every hart (it sees a stopped machine) and describe them.
    pub fn attach(&mut self) -> Result<(), RcError> {
        self.halt_all()?;
        self.xml = Some(target_xml(&self.features()).into_bytes());
        Ok(())
    }

    /// After reporting hart `reported` stopped (all-stop: the others halted too), keep
    /// the stops the other harts of `running` made on their own before they were halted
    /// (a breakpoint, a watchpoint, a caught trap) for GDB to hear of later.
    pub(crate) fn defer_others(&mut self, reported: usize, running: &[usize]) {
        for &h in running.iter().filter(|&&h| h != reported) {
            let Ok(e) = self.rc.stop_event(h) else {
                continue;
            };
            if crate::server::reported_where_caused(e.cause) {
                continue;
            }
            let Ok(pc) = self.rc.read_register(h, RegId::Pc) else {
                continue;
            };
            let reason = self.stop_reason(h, e.cause);
            self.deferred.retain(|d| d.hart != h);
            self.deferred.push(Deferred {
                hart: h,
                reason,
                seq: e.seq,
                pc,
            });
        }
    }

    /// The first stop kept by [`EmuTarget::defer_others`] of a hart in `go` that still
    /// stands: the hart has not halted again nor been moved, and what stopped it is still
    /// in place (GDB takes its breakpoints and watchpoints out at a stop and puts back
    /// those it keeps before resuming). Stale ones of `go` are dropped; the others' kept.
    pub(crate) fn take_deferred(&mut self, go: &[usize]) -> Option<Deferred> {
        while let Some(i) = self.deferred.iter().position(|d| go.contains(&d.hart)) {
            let d = self.deferred.remove(i);
            if self.still_stands(&d) {
                return Some(d);
            }
        }
        None
    }

    fn still_stands(&self, d: &Deferred) -> bool {
        use gdbstub::target::ext::breakpoints::WatchKind as G;
        let same_halt = self.rc.halts(d.hart) == d.seq
            && self.rc.read_register(d.hart, RegId::Pc).ok() == Some(d.pc);
        same_halt
            && match d.reason {
                MultiThreadStopReason::SwBreak(_) => self.sw.contains_key(&d.pc),
                MultiThreadStopReason::HwBreak(_) => self.hw.contains_key(&d.pc),
                MultiThreadStopReason::Watch { kind, addr, .. } => {
                    let k = match kind {
                        G::Read => WatchKindKey::Read,
                        G::Write => WatchKindKey::Write,
                        G::ReadWrite => WatchKindKey::Access,
                    };
                    self.watch.keys().any(|&(a, _, wk)| a == addr && wk == k)
                }
                _ => true,
            }
    }

    /// Halt every hart.
    pub fn halt_all(&mut self) -> Result<(), RcError> {
        self.running.clear();
        self.bare = None;
        self.rc.halt(HartSel::All)
    }

    /// GDB leaves: take out its breakpoints and triggers; with `resume` (GDB's `detach`)
    /// let the machine run, else (the connection dropped, GDB's `disconnect`) leave the
    /// harts as they are, so a debugger reconnecting finds them where this one left them.
    pub fn detach(&mut self, resume: bool) {
        self.deferred.clear();
        let had_sw = !self.sw.is_empty();
        for (addr, orig) in std::mem::take(&mut self.sw) {
            let _ = self.write_mem(0, addr, &orig);
        }
        let ids: Vec<TriggerId> = self
            .hw
            .drain()
            .map(|(_, id)| id)
            .chain(self.watch.drain().map(|(_, id)| id))
            .collect();
        for id in ids {
            let _ = self.rc.remove_trigger(id);
        }
        // Trap catches (`monitor catch`) too: a machine left to run must not stop where
        // no debugger will hear of it.
        for (id, _, _) in self.rc.trap_catches() {
            let _ = self.rc.remove_trigger(id);
        }
        if had_sw {
            let _ = self.ebreak_to_debugger(false);
        }
        self.running.clear();
        if resume {
            let _ = self.rc.resume(HartSel::All);
        }
    }

    /// The stop to report for hart `h` halted with `cause`. A finished step is a SIGTRAP
    /// with the thread (`T05thread:...`, with the expedited registers), not gdbstub's bare
    /// `S05`, after which GDB would have to ask which thread stopped and where.
    pub fn stop_reason(&self, h: usize, cause: StopCause) -> StopReason {
        let t = tid(h);
        match cause {
            StopCause::Ebreak => MultiThreadStopReason::SwBreak(t),
            StopCause::Trigger(Some(id)) => {
                if let Some((&(addr, _, k), _)) = self.watch.iter().find(|(_, v)| **v == id) {
                    use gdbstub::target::ext::breakpoints::WatchKind as G;
                    let kind = match k {
                        WatchKindKey::Read => G::Read,
                        WatchKindKey::Write => G::Write,
                        WatchKindKey::Access => G::ReadWrite,
                    };
                    MultiThreadStopReason::Watch { tid: t, kind, addr }
                } else if !self.hw.values().any(|&b| b == id) && self.rc.trap_catch(id).is_some() {
                    MultiThreadStopReason::SignalWithThread {
                        tid: t,
                        signal: self.trap_signal(h),
                    }
                } else {
                    MultiThreadStopReason::HwBreak(t)
                }
            }
            StopCause::HaltRequest => MultiThreadStopReason::SignalWithThread {
                tid: t,
                signal: Signal::SIGINT,
            },
            _ => MultiThreadStopReason::SignalWithThread {
                tid: t,
                signal: Signal::SIGTRAP,
            },
        }
    }

    /// The signal for the trap halted hart `h` took (a trap catch stopped it at the
    /// handler): the cause register of the mode the handler runs in says which.
    fn trap_signal(&self, h: usize) -> Signal {
        let Ok(dcsr) = self.rc.read_register(h, RegId::Csr(0x7b0)) else {
            return Signal::SIGTRAP;
        };
        let csr = match (dcsr & 3, dcsr >> 5 & 1) {
            (1, 0) => 0x142, // scause
            (1, _) => 0x242, // vscause
            _ => 0x342,      // mcause
        };
        let Ok(cause) = self.rc.read_register(h, RegId::Csr(csr)) else {
            return Signal::SIGTRAP;
        };
        let top = self.xbytes as u32 * 8 - 1;
        signal::for_trap(cause >> top & 1 != 0, cause & !(1 << top))
    }

    fn features(&self) -> Features {
        // Only what hart 0 really has (halted: GDB asks for this right after attaching).
        let csrs = CSRS
            .iter()
            .copied()
            .filter(|(_, c)| {
                (self.flen != 0 || *c > 3) && self.rc.read_register(0, RegId::Csr(*c)).is_ok()
            })
            .collect();
        Features {
            xlen: self.xbytes as u32 * 8,
            flen: self.flen,
            csrs,
        }
    }

    /// The hart behind thread `t`, if there is one.
    fn known(&self, t: Tid) -> TargetResult<usize, Self> {
        let h = hart(t);
        if h < self.harts {
            Ok(h)
        } else {
            Err(TargetError::NonFatal)
        }
    }

    /// Whether addresses are physical on hart `h` (no translation in force).
    fn is_bare(&mut self, h: usize) -> bool {
        if let Some(b) = self.bare {
            return b;
        }
        let b = self.rc.translates(h).is_ok_and(|t| !t);
        self.bare = Some(b);
        b
    }

    fn space(&mut self, h: usize) -> MemSpace {
        if self.is_bare(h) {
            MemSpace::Physical
        } else {
            MemSpace::Virtual
        }
    }

    fn write_mem(&mut self, h: usize, addr: u64, data: &[u8]) -> Result<(), RcError> {
        let space = self.space(h);
        self.rc.write_memory(h, space, addr, data)
    }

    fn read_mem(&mut self, h: usize, addr: u64, buf: &mut [u8]) -> Result<(), RcError> {
        let space = self.space(h);
        self.rc.read_memory(h, space, addr, buf)
    }

    /// Make `ebreak` enter Debug Mode on every hart (while software breakpoints exist).
    fn ebreak_to_debugger(&self, on: bool) -> Result<(), RcError> {
        for h in 0..self.harts {
            let dcsr = self.rc.read_register(h, RegId::Csr(0x7b0))?;
            let v = if on {
                dcsr | EBREAK_MSU
            } else {
                dcsr & !EBREAK_MSU
            };
            if v != dcsr {
                self.rc.write_register(h, RegId::Csr(0x7b0), v)?;
            }
        }
        Ok(())
    }

    fn reg(&self, id: Reg) -> Option<RegId> {
        Some(match id {
            Reg::Gpr(r) if r < 32 => RegId::Gpr(r),
            Reg::Fpr(r) if r < 32 && self.flen != 0 => RegId::Fpr(r),
            Reg::Pc => RegId::Pc,
            Reg::Csr(c) if c < 0x1000 => RegId::Csr(c),
            _ => return None,
        })
    }

    fn monitor(&mut self, cmd: &str) -> Result<String, String> {
        let out = emu_runctl::monitor::execute(&self.rc, cmd, "monitor ")?;
        if cmd.split_whitespace().next() == Some("reset") {
            // The harts' translation mode is not known after a reset.
            self.bare = None;
        }
        Ok(out)
    }
}

impl Target for EmuTarget {
    type Arch = Riscv;
    type Error = RcError;

    fn base_ops(&mut self) -> BaseOps<'_, Riscv, RcError> {
        BaseOps::MultiThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_target_description_xml_override(
        &mut self,
    ) -> Option<TargetDescriptionXmlOverrideOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }

    fn support_memory_map(&mut self) -> Option<MemoryMapOps<'_, Self>> {
        Some(self)
    }

    fn support_exec_file(&mut self) -> Option<ExecFileOps<'_, Self>> {
        if self.exec.is_some() {
            Some(self)
        } else {
            None
        }
    }

    fn support_host_io(&mut self) -> Option<HostIoOps<'_, Self>> {
        if self.exec.is_some() {
            Some(self)
        } else {
            None
        }
    }

    fn guard_rail_implicit_sw_breakpoints(&self) -> bool {
        true
    }
}

impl MultiThreadBase for EmuTarget {
    fn read_registers(&mut self, regs: &mut GdbRegs, t: Tid) -> TargetResult<(), Self> {
        regs.core = nonfatal(self.rc.read_core_registers(hart(t)))?;
        regs.xbytes = self.xbytes;
        Ok(())
    }

    fn write_registers(&mut self, regs: &GdbRegs, t: Tid) -> TargetResult<(), Self> {
        let h = hart(t);
        let core = GdbRegs::decode(&regs.raw, self.xbytes).ok_or(TargetError::NonFatal)?;
        for r in 1..32u8 {
            nonfatal(self.rc.write_register(h, RegId::Gpr(r), core.x[r as usize]))?;
        }
        nonfatal(self.rc.write_register(h, RegId::Pc, core.pc))
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, Tid, Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, addr: u64, data: &mut [u8], t: Tid) -> TargetResult<usize, Self> {
        let h = self.known(t)?;
        let n = match self.read_mem(h, addr, data) {
            Ok(()) => data.len(),
            // Partly readable (the end of RAM): as much as reads, byte by byte.
            Err(_) => {
                let mut n = 0;
                while n < data.len()
                    && self
                        .read_mem(h, addr.wrapping_add(n as u64), &mut data[n..n + 1])
                        .is_ok()
                {
                    n += 1;
                }
                n
            }
        };
        if n == 0 {
            return Err(TargetError::NonFatal);
        }
        match self.m_hex.as_mut() {
            Some(out) => {
                crate::hex::push_hex_rle(&data[..n], out);
                Ok(0)
            }
            None => Ok(n),
        }
    }

    fn write_addrs(&mut self, addr: u64, data: &[u8], t: Tid) -> TargetResult<(), Self> {
        let h = self.known(t)?;
        nonfatal(self.write_mem(h, addr, data))
    }

    fn list_active_threads(&mut self, f: &mut dyn FnMut(Tid)) -> Result<(), RcError> {
        for h in 0..self.harts {
            f(tid(h));
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<MultiThreadResumeOps<'_, Self>> {
        Some(self)
    }

    fn support_thread_extra_info(&mut self) -> Option<ThreadExtraInfoOps<'_, Self>> {
        Some(self)
    }
}

impl SingleRegisterAccess<Tid> for EmuTarget {
    fn read_register(&mut self, t: Tid, id: Reg, buf: &mut [u8]) -> TargetResult<usize, Self> {
        let h = hart(t);
        if let Reg::Priv = id {
            let dcsr = nonfatal(self.rc.read_register(h, RegId::Csr(0x7b0)))?;
            let Some(b) = buf.first_mut() else {
                return Err(TargetError::NonFatal);
            };
            *b = (dcsr & 3) as u8;
            return Ok(1);
        }
        let Some(r) = self.reg(id) else {
            return Err(TargetError::NonFatal);
        };
        let v = nonfatal(self.rc.read_register(h, r))?;
        let size = match r {
            RegId::Fpr(_) => self.flen as usize / 8,
            RegId::Csr(c) if c <= 3 => 4,
            _ => self.xbytes,
        };
        let n = size.min(buf.len());
        buf[..n].copy_from_slice(&v.to_le_bytes()[..n]);
        Ok(n)
    }

    fn write_register(&mut self, t: Tid, id: Reg, val: &[u8]) -> TargetResult<(), Self> {
        let h = hart(t);
        if val.len() > 8 {
            return Err(TargetError::NonFatal);
        }
        let mut b = [0u8; 8];
        b[..val.len()].copy_from_slice(val);
        let v = u64::from_le_bytes(b);
        if let Reg::Priv = id {
            let dcsr = nonfatal(self.rc.read_register(h, RegId::Csr(0x7b0)))?;
            return nonfatal(
                self.rc
                    .write_register(h, RegId::Csr(0x7b0), dcsr & !3 | v & 3),
            );
        }
        let Some(r) = self.reg(id) else {
            return Err(TargetError::NonFatal);
        };
        if matches!(r, RegId::Gpr(0)) {
            return Ok(());
        }
        if matches!(r, RegId::Csr(0x180)) {
            self.bare = None;
        }
        nonfatal(self.rc.write_register(h, r, v))
    }
}
