//! MCD errors: an `mcd_error_code_et` value and a text for `mcd-qry-error-info`.

use emu_runctl::RcError;

use crate::wire::err;

/// A failed MCD command: the reply says `return-status` 3 and this is stored for
/// `mcd-qry-error-info`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text} (error code {code:#x})")]
pub struct McdError {
    /// The `mcd_error_code_et` value.
    pub code: u32,
    /// What went wrong, for a person (kept under the API's 256-byte info string).
    pub text: String,
}

impl McdError {
    /// An error with `code` and `text`.
    pub fn new(code: u32, text: impl Into<String>) -> McdError {
        let mut text: String = text.into();
        if text.len() > 255 {
            let mut end = 252;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str("...");
        }
        McdError { code, text }
    }

    /// A bad argument (`MCD_ERR_PARAM`).
    pub fn param(text: impl Into<String>) -> McdError {
        McdError::new(err::PARAM, text)
    }

    /// A call out of order (`MCD_ERR_USAGE`).
    pub fn usage(text: impl Into<String>) -> McdError {
        McdError::new(err::USAGE, text)
    }

    /// A run-control failure, as `code`.
    pub fn rc(code: u32, e: &RcError) -> McdError {
        McdError::new(code, e.to_string())
    }
}

/// Result of an MCD command.
pub type Result<T, E = McdError> = std::result::Result<T, E>;
