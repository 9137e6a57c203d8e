//! The exported `mcd_*_f` functions, by theme. Each one checks its pointers, sends one
//! command (rarely two) and fills the caller's structures; failures go to
//! `mcd_qry_error_info_f`.
//!
//! # Safety
//!
//! Every function takes pointers with the MCD API's contract: each is null (refused with
//! `MCD_ERR_PARAM` where the API needs it) or valid for what its parameter describes for
//! the duration of the call; arrays hold at least the number of entries the call states;
//! `mcd_server_st` and `mcd_core_st` pointers are ones this library returned (others are
//! refused without being dereferenced).

mod memory;
mod none;
mod run;
mod server;
mod target;
mod trig;

use emu_mcd_wire::err;
use serde_json::{Map, Value};

use crate::fail::{Fail, R};
use crate::ffi;

/// A required output pointer.
///
/// # Safety
/// `p` is null or valid for writing a `T`.
pub(crate) unsafe fn put<T>(p: *mut T, v: T, what: &str) -> R<()> {
    if p.is_null() {
        return Err(Fail::new(err::PARAM, format!("{what} is a null pointer")));
    }
    // SAFETY: non-null, and valid for writes by the caller's contract.
    unsafe { p.write(v) };
    Ok(())
}

/// Reads the in/out count of a count-then-fill query.
///
/// # Safety
/// `num` is null or valid for reading and writing a `u32`.
pub(crate) unsafe fn count_in(num: *mut u32, what: &str) -> R<u32> {
    // SAFETY: the caller's contract.
    match unsafe { ffi::opt_ref(num) } {
        Some(n) => Ok(*n),
        None => Err(Fail::new(err::PARAM, format!("{what} is a null pointer"))),
    }
}

/// Answers a count-then-fill query from the reply `m`: the count alone when `*num` was
/// 0, else up to `*num` entries of `m[list]` written to `out`, `*num` set to how many.
///
/// # Safety
/// `num` is valid for a `u32`; `out` is null or valid for writing the `*num` entries it
/// had on entry.
pub(crate) unsafe fn fill<T>(
    m: &Map<String, Value>,
    count: &str,
    list: &str,
    num: *mut u32,
    out: *mut T,
    conv: impl Fn(&Value) -> T,
) -> R<()> {
    // SAFETY: the caller's contract.
    let want = unsafe { count_in(num, count)? };
    let n = m
        .get(count)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Fail::new(err::GENERAL, format!("the reply has no {count}")))?;
    if want == 0 {
        // SAFETY: checked non-null by `count_in`; valid by the caller's contract.
        unsafe { num.write(n) };
        return Ok(());
    }
    if out.is_null() {
        return Err(Fail::new(
            err::PARAM,
            format!("{list}: a null array for {want} entries"),
        ));
    }
    let items = m
        .get(list)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let k = items.len().min(want as usize);
    for (i, v) in items[..k].iter().enumerate() {
        // SAFETY: `i < want`, and `out` holds `want` entries by the caller's contract.
        unsafe { out.add(i).write(conv(v)) };
    }
    // SAFETY: as above for `num`.
    unsafe { num.write(k as u32) };
    Ok(())
}

/// The arguments of a list query.
pub(crate) fn list_args(count: &str, start: u32, num: u32) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("start-index".into(), Value::from(start));
    m.insert(count.into(), Value::from(num));
    m
}
