//! Errors of the run-control API.

use emu_dm::regs::{CmdErr, SbError};

/// Why an operation failed. Recoverable: the machine and the Debug Module stay usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RcError {
    /// No hart with this index.
    #[error("no hart {0}")]
    NoSuchHart(usize),
    /// The operation needs a halted hart.
    #[error("hart {0} is running")]
    Running(usize),
    /// The operation needs a running hart.
    #[error("hart {0} is halted")]
    Halted(usize),
    /// The hart is held in reset or otherwise unavailable.
    #[error("hart {0} is unavailable")]
    Unavailable(usize),
    /// The harts did not do what was asked in time (a hung program buffer, a hart that
    /// never halts).
    #[error("timed out waiting for hart(s) to {0}")]
    Timeout(&'static str),
    /// An abstract command failed with this `cmderr`.
    #[error("abstract command failed: {0:?}")]
    Command(CmdErr),
    /// A system bus access failed with this `sberror`.
    #[error("system bus access failed: {0:?}")]
    Bus(SbError),
    /// The register does not exist on this hart.
    #[error("no such register")]
    NoSuchRegister,
    /// Every trigger the hart has is in use (or the range needs more than are left).
    #[error("no free trigger on hart {0}")]
    NoTrigger(usize),
    /// No trigger with this id.
    #[error("no trigger {0}")]
    NoSuchTrigger(u32),
    /// Arguments the API cannot serve (an empty range, virtual memory on a running hart).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The Debug Module requires authentication first.
    #[error("the Debug Module requires authentication")]
    NotAuthenticated,
}

/// Result of the run-control API.
pub type Result<T, E = RcError> = std::result::Result<T, E>;

pub(crate) fn cmd_err(code: u32) -> RcError {
    RcError::Command(match code {
        1 => CmdErr::Busy,
        2 => CmdErr::NotSupported,
        3 => CmdErr::Exception,
        4 => CmdErr::HaltResume,
        5 => CmdErr::Bus,
        _ => CmdErr::Other,
    })
}

pub(crate) fn sb_err(code: u32) -> RcError {
    RcError::Bus(match code {
        1 => SbError::Timeout,
        2 => SbError::BadAddress,
        3 => SbError::Alignment,
        4 => SbError::Size,
        _ => SbError::Other,
    })
}
