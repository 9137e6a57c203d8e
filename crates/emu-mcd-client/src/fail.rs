//! A failed call: the MCD error code and text `mcd_qry_error_info_f` reports.

/// What went wrong, as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fail {
    pub code: u32,
    pub text: String,
}

impl Fail {
    pub(crate) fn new(code: u32, text: impl Into<String>) -> Fail {
        Fail {
            code,
            text: text.into(),
        }
    }
}

/// The library's result type.
pub(crate) type R<T> = std::result::Result<T, Fail>;
