//! Abstract commands: Access Register, Quick Access and Access Memory, each turned into a
//! program the selected hart runs from the DM's memory, and their completion as the hart
//! reports it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use crate::dm::{Cmd, DebugModule, Quick, State};
use crate::program::{self, EBREAK, MemAccess, Reg};
use crate::regs::{self, CmdErr, access_memory as am, access_register as ar};
use crate::rom;

/// Record `e` unless an error is already recorded (`cmderr` keeps the first).
pub(crate) fn set_cmderr(st: &mut State, e: CmdErr) {
    if st.cmderr == 0 {
        st.cmderr = e as u32;
    }
}

/// What a command needs the hart to run.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    /// Nothing (no transfer, no postexec): done at once.
    Nothing,
    /// This program and cleanup.
    Run(Arc<[u32]>, Arc<[u32]>),
    /// Quick Access.
    Quick,
}

/// Most commands whose plans are kept (debuggers use a handful).
const PLANS_MAX: usize = 1024;

impl DebugModule {
    /// Start `command` on the selected hart and wait for it to finish.
    pub(crate) fn execute<'a>(&'a self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let cmd = st.command;
        let hart = st.hartsel as usize;
        let planned = match st.plans.get(&cmd) {
            Some(p) => p.clone(),
            None => {
                let p = self.plan(cmd);
                if st.plans.len() >= PLANS_MAX {
                    st.plans.clear();
                }
                st.plans.insert(cmd, p.clone());
                p
            }
        };
        let plan = match planned {
            Ok(p) => p,
            Err(e) => {
                set_cmderr(&mut st, e);
                return st;
            }
        };
        let Some(hs) = st.harts.get(hart).copied() else {
            set_cmderr(&mut st, CmdErr::HaltResume);
            return st;
        };
        if hs.held {
            set_cmderr(&mut st, CmdErr::HaltResume);
            return st;
        }
        let quick = matches!(plan, Plan::Quick);
        // Quick Access wants a running hart, everything else a halted one.
        if hs.halted == quick {
            set_cmderr(&mut st, CmdErr::HaltResume);
            return st;
        }
        let (prog, cleanup) = match plan {
            Plan::Nothing => {
                after_command(&mut st);
                return st;
            }
            Plan::Run(p, c) => (p, c),
            Plan::Quick => (program::quick_access().into(), Arc::from([])),
        };
        self.load_program(&mut st, &prog, &cleanup);
        st.busy = true;
        st.cmd = Some(Cmd {
            hart,
            going: false,
            has_cleanup: !cleanup.is_empty(),
            xfer_done: false,
            quick: quick.then_some(Quick::Halting),
        });
        if quick {
            self.ports[hart].quick.store(true, Ordering::Release);
        } else {
            self.ports[hart]
                .flags
                .fetch_or(rom::FLAG_GO, Ordering::Release);
        }
        self.kick(st, &[hart], |s| !s.busy)
    }

    fn load_program(&self, st: &mut State, prog: &[u32], cleanup: &[u32]) {
        // The same command again (the common case: a debugger reading memory word by word)
        // leaves the program, its tag and its translation as they are.
        let same = |area: &[u32], new: &[u32]| {
            area[..new.len()] == *new && area[new.len()..].iter().all(|&w| w == EBREAK)
        };
        if !(same(&st.program, prog) && same(&st.cleanup, cleanup)) {
            st.program = [EBREAK; rom::PROGRAM_WORDS];
            st.program[..prog.len()].copy_from_slice(prog);
            st.cleanup = [EBREAK; rom::CLEANUP_WORDS];
            st.cleanup[..cleanup.len()].copy_from_slice(cleanup);
            st.tag_stale = true;
        }
        // Program buffer writes only mark the tag stale: it is worked out once per command.
        if st.tag_stale {
            self.retag(st);
        }
    }

    /// What `cmd` needs run, or the error that refuses it.
    fn plan(&self, cmd: u32) -> Result<Plan, CmdErr> {
        match cmd >> 24 {
            regs::cmdtype::ACCESS_REGISTER => {
                let size = cmd >> ar::AARSIZE_SHIFT & 7;
                let transfer = cmd & ar::TRANSFER != 0;
                let postexec = cmd & ar::POSTEXEC != 0;
                let mut prog = program::Program::default();
                if transfer {
                    let bytes = match size {
                        2 => 4,
                        3 => 8,
                        _ => return Err(CmdErr::NotSupported),
                    };
                    let reg = Reg::from_regno(cmd & 0xffff).ok_or(CmdErr::NotSupported)?;
                    if self.gpr_only_access && !matches!(reg, Reg::Gpr(_)) {
                        return Err(CmdErr::NotSupported);
                    }
                    prog = program::transfer(reg, bytes, cmd & ar::WRITE != 0, self.caps)?;
                }
                if !transfer && !postexec {
                    return Ok(Plan::Nothing);
                }
                let (p, c) = program::finish(prog, postexec)?;
                Ok(Plan::Run(p.into(), c.into()))
            }
            regs::cmdtype::QUICK_ACCESS => {
                if cmd & 0x00ff_ffff != 0 {
                    return Err(CmdErr::NotSupported);
                }
                Ok(Plan::Quick)
            }
            regs::cmdtype::ACCESS_MEMORY => {
                // Bits 18:17 and 13:0 are 0; 15:14 are target-specific (none here).
                if cmd & (3 << 17 | 0xffff & !am::WRITE) != 0 {
                    return Err(CmdErr::NotSupported);
                }
                let m = MemAccess {
                    size: cmd >> am::SIZE_SHIFT & 7,
                    virtual_: cmd & am::VIRTUAL != 0,
                    postincrement: cmd & am::POSTINCREMENT != 0,
                    write: cmd & am::WRITE != 0,
                };
                let (p, c) = program::finish(program::access_memory(m, self.caps)?, false)?;
                Ok(Plan::Run(p.into(), c.into()))
            }
            _ => Err(CmdErr::NotSupported),
        }
    }
}

/// After a command succeeded: `aarpostincrement` advances `regno`.
pub(crate) fn after_command(st: &mut State) {
    let cmd = st.command;
    if cmd >> 24 == regs::cmdtype::ACCESS_REGISTER
        && cmd & ar::POSTINCREMENT != 0
        && cmd & ar::TRANSFER != 0
    {
        let regno = (cmd & 0xffff).wrapping_add(1) & 0xffff;
        st.command = cmd & !0xffff | regno;
    }
}

fn done(st: &mut State, ok: bool) {
    st.busy = false;
    st.cmd = None;
    if ok {
        after_command(st);
    }
}

/// Hart `h` reported itself halted (`fresh`: it was running before).
pub(crate) fn hart_halted(dm: &DebugModule, st: &mut State, h: usize, fresh: bool) {
    let Some(c) = st.cmd.filter(|c| c.hart == h) else {
        return;
    };
    match c.quick {
        Some(Quick::Halting) if fresh => {
            dm.ports[h].quick.store(false, Ordering::Release);
            // Halted for the request (cause 3), or for something else first.
            let cause = st.harts[h].entry_dcsr >> 6 & 7;
            if cause == 3 {
                dm.ports[h].flags.fetch_or(rom::FLAG_GO, Ordering::Release);
                st.cmd = Some(Cmd {
                    quick: Some(Quick::Running),
                    ..c
                });
            } else {
                set_cmderr(st, CmdErr::HaltResume);
                done(st, false);
            }
        }
        Some(Quick::Running) if c.going => {
            if st.cmderr != 0 {
                done(st, false); // an exception: the hart stays halted
            } else {
                dm.ports[h]
                    .flags
                    .fetch_or(rom::FLAG_RESUME, Ordering::Release);
                st.harts[h].resumeack = false;
                st.cmd = Some(Cmd {
                    quick: Some(Quick::Resuming),
                    ..c
                });
            }
        }
        None if c.going => {
            let ok = st.cmderr == 0;
            done(st, ok);
        }
        _ => {}
    }
}

/// Hart `h` is about to resume.
pub(crate) fn hart_resumed(st: &mut State, h: usize) {
    if let Some(c) = st.cmd
        && c.hart == h
        && c.quick == Some(Quick::Resuming)
    {
        done(st, true);
    }
}

/// The running command raised an exception: `cmderr` = exception; if it happened while the
/// program had registers borrowed, have the hart run the cleanup before the command ends.
pub(crate) fn exception(dm: &DebugModule, st: &mut State) {
    let Some(c) = st.cmd else {
        return;
    };
    set_cmderr(st, CmdErr::Exception);
    if c.has_cleanup && !c.xfer_done {
        dm.ports[c.hart]
            .flags
            .fetch_or(rom::FLAG_CLEANUP, Ordering::Release);
        st.cmd = Some(Cmd {
            going: false,
            has_cleanup: false,
            ..c
        });
    }
}
