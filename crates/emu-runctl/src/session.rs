//! The DMI sequences every operation is made of: selecting harts, running abstract
//! commands, reading and writing registers. One [`Session`] per Debug Module, used under
//! the run-control lock, so sequences from different front ends never interleave.

use std::collections::HashMap;
use std::sync::Arc;

use emu_dm::regs::{self, abstractcs, dmcontrol as dc, dmstatus as ds};
use emu_dm::{DebugModule, DmiOp};
use emu_isa::Xlen;

use crate::error::{RcError, Result, cmd_err};
use crate::progbuf::{ProgKey, ProgbufInfo};
use crate::types::{HartStatus, RegId};

/// `dcsr`, whose `step` bit the session keeps track of.
pub(crate) const DCSR: u16 = 0x7b0;
/// `dcsr.step`.
pub(crate) const DCSR_STEP: u64 = 1 << 2;

pub(crate) struct Session {
    pub(crate) dm: Arc<DebugModule>,
    /// The harts `dmcontrol` selects now (`None`: unknown).
    selected: Option<Vec<usize>>,
    pub(crate) harts: usize,
    pub(crate) xlen: Xlen,
    /// FPR width in bytes (0: no FPRs).
    pub(crate) flen: u32,
    /// Harts whose `dcsr.step` the session left set (consecutive steps skip rewriting it).
    pub(crate) step_set: Vec<bool>,
    /// Read once the DM is active: the program buffer and data registers.
    pub(crate) progbuf: Option<ProgbufInfo>,
    /// Which program the session left in the program buffer.
    pub(crate) progbuf_op: Option<ProgKey>,
    /// The programs, assembled once.
    pub(crate) programs: HashMap<ProgKey, Vec<u32>>,
    /// The register sets read in one program (`crate::bulk`): set `k` has program key
    /// `SET_PROGRAMS + k`.
    pub(crate) sets: Vec<Vec<crate::bulk::Item>>,
    /// Per hart: its latest stop, once resolved (a halt is resolved once, by whoever comes
    /// first: the thread reporting it or a front end that saw the hart halted).
    pub(crate) resolved: Vec<Option<crate::types::StopEvent>>,
    /// Halts an operation captured that were not its doing (a breakpoint just before its
    /// own halt request), `(hart, dcsr, seq)`: published once it lets go of the triggers
    /// ([`crate::RunControl::report_unreported`]).
    pub(crate) unreported: Vec<(usize, u32, u64)>,
}

impl Session {
    pub(crate) fn new(dm: Arc<DebugModule>) -> Session {
        let caps = dm.caps();
        let harts = dm.harts();
        Session {
            dm,
            selected: None,
            harts,
            xlen: caps.xlen,
            flen: if caps.d {
                8
            } else if caps.f {
                4
            } else {
                0
            },
            step_set: vec![false; harts],
            progbuf: None,
            progbuf_op: None,
            programs: HashMap::new(),
            sets: Vec::new(),
            resolved: vec![None; harts],
            unreported: Vec::new(),
        }
    }

    pub(crate) fn r(&self, a: u8) -> u32 {
        self.dm.dmi_read(a)
    }

    /// DMI reads of `addrs` in turn into `out`, the DM's state taken once for all.
    pub(crate) fn r_many(&self, addrs: &[u8], out: &mut [u32]) {
        self.dm.dmi_read_many(addrs, out)
    }

    pub(crate) fn w(&self, a: u8, v: u32) {
        self.dm.dmi_write(a, v)
    }

    pub(crate) fn check_hart(&self, h: usize) -> Result<()> {
        if h < self.harts {
            Ok(())
        } else {
            Err(RcError::NoSuchHart(h))
        }
    }

    /// Write `dmcontrol` selecting `harts` (through the hart array when there are several)
    /// with `bits` (requests) on top. Returns `dmstatus` as it reads right after.
    pub(crate) fn control(&mut self, harts: &[usize], bits: u32) -> Result<u32> {
        self.control_seq(harts, &[bits])
    }

    /// [`Session::control`] with each of `bits` in turn (a request, then its release), and
    /// `dmstatus` read after the last: one DMI batch, so the DM's state is not handed back
    /// and forth with the harts' threads between the accesses.
    pub(crate) fn control_seq(&mut self, harts: &[usize], bits: &[u32]) -> Result<u32> {
        let Some(&first) = harts.first() else {
            return Err(RcError::Unsupported("no harts selected"));
        };
        for &h in harts {
            self.check_hart(h)?;
        }
        let mut ops = Vec::with_capacity(bits.len() + 1);
        let hasel = harts.len() > 1;
        if hasel && self.selected.as_deref() != Some(harts) {
            for win in 0..self.harts.div_ceil(32) {
                let mask = harts
                    .iter()
                    .filter(|&&h| h / 32 == win)
                    .fold(0u32, |m, &h| m | 1 << (h % 32));
                ops.push(DmiOp::Write(regs::HAWINDOWSEL, win as u32));
                ops.push(DmiOp::Write(regs::HAWINDOW, mask));
            }
        }
        let sel = first as u32;
        let v = (sel & 0x3ff) << dc::HARTSELLO_SHIFT
            | (sel >> 10 & 0x3ff) << dc::HARTSELHI_SHIFT
            | if hasel { dc::HASEL } else { 0 }
            | dc::DMACTIVE;
        ops.extend(bits.iter().map(|&b| DmiOp::Write(regs::DMCONTROL, v | b)));
        ops.push(DmiOp::Read(regs::DMSTATUS));
        let mut status = [0u32];
        self.dm.dmi_batch(&ops, &mut status);
        self.selected = Some(harts.to_vec());
        let [status] = status;
        if status & ds::AUTHENTICATED == 0 {
            return Err(RcError::NotAuthenticated);
        }
        Ok(status)
    }

    /// Halt hart `h` and release the request, in one batch: `dmstatus` before the request
    /// and after the release. The DM returns from the request once the hart halted (or its
    /// time limit passed); the status before tells whether a halt came in the batch (the
    /// request's, or a breakpoint's just before it). `first` and `last` run at the batch's
    /// first and last access as the harts' threads see it
    /// ([`DebugModule::dmi_batch_framed`]).
    pub(crate) fn request_halt(
        &mut self,
        h: usize,
        first: impl FnOnce(),
        last: impl FnOnce(),
    ) -> Result<(u32, u32)> {
        self.check_hart(h)?;
        let sel = h as u32;
        let v = (sel & 0x3ff) << dc::HARTSELLO_SHIFT
            | (sel >> 10 & 0x3ff) << dc::HARTSELHI_SHIFT
            | dc::DMACTIVE;
        let ops = [
            DmiOp::Write(regs::DMCONTROL, v),
            DmiOp::Read(regs::DMSTATUS),
            DmiOp::Write(regs::DMCONTROL, v | dc::HALTREQ),
            DmiOp::Write(regs::DMCONTROL, v),
            DmiOp::Read(regs::DMSTATUS),
        ];
        // The selection is written only when it changes.
        let skip = usize::from(self.selected.as_deref() == Some(&[h]));
        let mut status = [0u32; 2];
        self.dm
            .dmi_batch_framed(&ops[skip..], &mut status, first, last);
        if skip == 0 {
            self.selected = Some(vec![h]);
        }
        let [before, after] = status;
        if after & ds::AUTHENTICATED == 0 {
            return Err(RcError::NotAuthenticated);
        }
        Ok((before, after))
    }

    /// Select one hart (cheap when it is selected already).
    pub(crate) fn select(&mut self, h: usize) -> Result<()> {
        if self.selected.as_deref() == Some(&[h]) {
            return Ok(());
        }
        self.control(&[h], 0).map(drop)
    }

    /// Forget what is selected (after something else may have written `dmcontrol`).
    pub(crate) fn forget_selection(&mut self) {
        self.progbuf_op = None;
        self.selected = None;
    }

    pub(crate) fn status_of(&mut self, h: usize) -> Result<HartStatus> {
        self.select(h)?;
        let st = self.r(regs::DMSTATUS);
        Ok(if st & ds::ALLUNAVAIL != 0 {
            HartStatus::Unavailable
        } else if st & ds::ALLHALTED != 0 {
            HartStatus::Halted
        } else {
            HartStatus::Running
        })
    }

    /// Hart `h` must be halted.
    pub(crate) fn need_halted(&mut self, h: usize) -> Result<()> {
        match self.status_of(h)? {
            HartStatus::Halted => Ok(()),
            HartStatus::Running => Err(RcError::Running(h)),
            HartStatus::Unavailable => Err(RcError::Unavailable(h)),
        }
    }

    /// Run abstract command `cmd` on the selected hart; the DM completes it before the
    /// write returns, so one `abstractcs` read tells the outcome.
    pub(crate) fn command(&mut self, cmd: u32) -> Result<()> {
        self.w(regs::COMMAND, cmd);
        self.outcome()
    }

    /// The outcome of the last command: `cmderr` (cleared) or busy.
    pub(crate) fn outcome(&mut self) -> Result<()> {
        let cs = self.r(regs::ABSTRACTCS);
        self.check(cs)
    }

    /// The outcome `abstractcs` = `cs` tells (`cmderr` cleared).
    pub(crate) fn check(&mut self, cs: u32) -> Result<()> {
        if cs & abstractcs::BUSY != 0 {
            return Err(RcError::Timeout("finish an abstract command"));
        }
        let e = cs >> abstractcs::CMDERR_SHIFT & 7;
        if e != 0 {
            self.w(regs::ABSTRACTCS, 7 << abstractcs::CMDERR_SHIFT);
            return Err(cmd_err(e));
        }
        Ok(())
    }

    pub(crate) fn xbytes(&self) -> u32 {
        self.xlen.bits() / 8
    }

    /// Width in bytes of register `r`.
    pub(crate) fn width(&self, r: RegId) -> Result<u32> {
        match r {
            RegId::Fpr(_) if self.flen == 0 => Err(RcError::NoSuchRegister),
            RegId::Fpr(_) => Ok(self.flen),
            _ => Ok(self.xbytes()),
        }
    }

    /// Access Register for `r` (transfer; `write`: from argument 0, which `ops` set), and
    /// unless writing, argument 0 read back into `out`: one DMI batch.
    fn access(&mut self, r: RegId, write: bool, ops: Vec<DmiOp>, out: &mut [u64]) -> Result<()> {
        let bytes = self.width(r)?;
        let size = if bytes == 8 { 3 } else { 2 };
        let cmd = size << 20 | 1 << 17 | (write as u32) << 16 | r.regno();
        let args = if write { 0..0 } else { 0..1 };
        self.command_batch(ops, cmd, args, bytes, out)
            .map_err(|e| match e {
                RcError::Command(emu_dm::regs::CmdErr::NotSupported)
                | RcError::Command(emu_dm::regs::CmdErr::Exception) => RcError::NoSuchRegister,
                e => e,
            })
    }

    /// First data register of abstract-command argument `k` when arguments are `bytes`
    /// wide (the spec's layout: argument k of width W starts at `data[k * W / 32]`).
    fn arg_reg(k: u8, bytes: u32) -> u8 {
        regs::DATA0 + k * (bytes.max(4) / 4) as u8
    }

    /// Argument `k`, `bytes` (4 or 8) wide. The high word is read first: with
    /// `abstractauto` on `data0`, reading the low word of argument 0 starts the next command.
    pub(crate) fn arg(&self, k: u8, bytes: u32) -> u64 {
        let a = Self::arg_reg(k, bytes);
        let mut w = [0u32; 2];
        if bytes == 8 {
            self.dm
                .dmi_batch(&[DmiOp::Read(a + 1), DmiOp::Read(a)], &mut w);
            Self::arg_value(&w)
        } else {
            self.r(a) as u64
        }
    }

    /// Set argument `k`, `bytes` wide; the high word first, for the same reason.
    pub(crate) fn set_arg(&self, k: u8, bytes: u32, v: u64) {
        let a = Self::arg_reg(k, bytes);
        if bytes == 8 {
            let hi = DmiOp::Write(a + 1, (v >> 32) as u32);
            self.dm.dmi_batch(&[hi, DmiOp::Write(a, v as u32)], &mut []);
        } else {
            self.w(a, v as u32);
        }
    }

    /// The DMI reads of argument `k`, `bytes` wide, appended to `ops` (the high word first).
    fn arg_reads(ops: &mut Vec<DmiOp>, k: u8, bytes: u32) {
        let a = Self::arg_reg(k, bytes);
        if bytes == 8 {
            ops.push(DmiOp::Read(a + 1));
        }
        ops.push(DmiOp::Read(a));
    }

    /// The DMI writes setting argument `k`, `bytes` wide, to `v`, appended to `ops` (the
    /// high word first).
    pub(crate) fn arg_writes(ops: &mut Vec<DmiOp>, k: u8, bytes: u32, v: u64) {
        let a = Self::arg_reg(k, bytes);
        if bytes == 8 {
            ops.push(DmiOp::Write(a + 1, (v >> 32) as u32));
        }
        ops.push(DmiOp::Write(a, v as u32));
    }

    /// An argument's value from its words as [`Session::arg_reads`] read them.
    fn arg_value(w: &[u32]) -> u64 {
        match *w {
            [hi, lo] => (hi as u64) << 32 | lo as u64,
            [lo] => lo as u64,
            _ => 0,
        }
    }

    /// Run `ops` (program buffer and argument writes), abstract command `cmd`, and read
    /// the `bytes`-wide arguments `args` back, all in one DMI batch: the DM's state is
    /// taken once for the whole command. The arguments' values go to `out`.
    pub(crate) fn command_batch(
        &mut self,
        mut ops: Vec<DmiOp>,
        cmd: u32,
        args: std::ops::Range<u8>,
        bytes: u32,
        out: &mut [u64],
    ) -> Result<()> {
        ops.push(DmiOp::Write(regs::COMMAND, cmd));
        ops.push(DmiOp::Read(regs::ABSTRACTCS));
        for k in args.clone() {
            Self::arg_reads(&mut ops, k, bytes);
        }
        let per = (bytes.max(4) / 4) as usize;
        let mut got = [0u32; 1 + regs::DATA_COUNT as usize];
        let got = got
            .get_mut(..1 + args.len() * per)
            .ok_or(RcError::Unsupported("more arguments than data registers"))?;
        self.dm.dmi_batch(&ops, got);
        self.check(got[0])?;
        for (v, w) in out.iter_mut().zip(got[1..].chunks(per)) {
            *v = Self::arg_value(w);
        }
        Ok(())
    }

    /// Read register `r` of halted hart `h`. A hart that is not halted fails the command
    /// (`cmderr` 4): [`Session::not_halted`] tells why.
    pub(crate) fn read_reg(&mut self, h: usize, r: RegId) -> Result<u64> {
        self.select(h)?;
        let mut v = [0u64];
        self.access(r, false, Vec::new(), &mut v)?;
        Ok(v[0])
    }

    /// Write register `r` of halted hart `h`.
    pub(crate) fn write_reg(&mut self, h: usize, r: RegId, v: u64) -> Result<()> {
        self.select(h)?;
        let mut ops = Vec::with_capacity(2);
        Self::arg_writes(&mut ops, 0, self.width(r)?, v);
        self.access(r, true, ops, &mut [])?;
        if r == RegId::Csr(DCSR) {
            self.step_set[h] = v & DCSR_STEP != 0;
        }
        Ok(())
    }

    /// What a command on hart `h` that failed with `e` means: a hart that is not halted
    /// fails it with `cmderr` 4 (halt/resume), which becomes [`RcError::Running`] or
    /// [`RcError::Unavailable`] as `dmstatus` says.
    pub(crate) fn not_halted(&mut self, h: usize, e: RcError) -> RcError {
        if e != RcError::Command(emu_dm::regs::CmdErr::HaltResume) {
            return e;
        }
        match self.status_of(h) {
            Ok(HartStatus::Running) => RcError::Running(h),
            Ok(HartStatus::Unavailable) => RcError::Unavailable(h),
            Ok(HartStatus::Halted) => e,
            Err(e) => e,
        }
    }

    /// Set or clear `dcsr.step` of halted hart `h` (skipped when already so).
    pub(crate) fn set_step(&mut self, h: usize, on: bool) -> Result<()> {
        if self.step_set[h] == on {
            return Ok(());
        }
        let d = self.read_reg(h, RegId::Csr(DCSR))?;
        let v = if on { d | DCSR_STEP } else { d & !DCSR_STEP };
        self.write_reg(h, RegId::Csr(DCSR), v)
    }
}
