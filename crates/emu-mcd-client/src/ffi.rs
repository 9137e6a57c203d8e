//! The only place raw pointers from the caller become Rust references. Every function
//! here is `unsafe` with one contract, the MCD API's: a pointer is null or valid for the
//! access its parameter describes (an object, or an array of the stated length), and no
//! other thread writes the memory during the call.

use std::ffi::{CStr, c_char};

/// `p` as a shared reference; `None` when null.
///
/// # Safety
/// `p` is null or points to a valid, initialised `T`.
pub(crate) unsafe fn opt_ref<'a, T>(p: *const T) -> Option<&'a T> {
    // SAFETY: the caller's contract above.
    unsafe { p.as_ref() }
}

/// `p` as an exclusive reference; `None` when null.
///
/// # Safety
/// `p` is null or points to a valid `T` nothing else accesses during the call.
pub(crate) unsafe fn opt_mut<'a, T>(p: *mut T) -> Option<&'a mut T> {
    // SAFETY: the caller's contract above.
    unsafe { p.as_mut() }
}

/// `n` elements at `p`; `None` when `p` is null. An empty slice needs no valid pointer.
///
/// # Safety
/// `p` is null or valid for reads and writes of `n` consecutive `T`s.
pub(crate) unsafe fn slice_mut<'a, T>(p: *mut T, n: usize) -> Option<&'a mut [T]> {
    if p.is_null() {
        None
    } else if n == 0 {
        Some(&mut [])
    } else {
        // SAFETY: non-null and, by the caller's contract, valid for `n` elements.
        Some(unsafe { std::slice::from_raw_parts_mut(p, n) })
    }
}

/// `n` bytes at `p` for reading; `None` when `p` is null.
///
/// # Safety
/// `p` is null or valid for reads of `n` bytes.
pub(crate) unsafe fn bytes<'a>(p: *const u8, n: usize) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else if n == 0 {
        Some(&[])
    } else {
        // SAFETY: non-null and, by the caller's contract, valid for `n` bytes.
        Some(unsafe { std::slice::from_raw_parts(p, n) })
    }
}

/// A NUL-terminated C string as UTF-8 (invalid sequences replaced); `None` when null.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string.
pub(crate) unsafe fn cstr(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    Some(s.to_string_lossy().into_owned())
}

/// The string in a fixed `char` array: up to its first NUL, or all of it.
pub(crate) fn from_array(a: &[c_char]) -> String {
    let bytes: Vec<u8> = a
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Writes `s` into a fixed `char` array, cut at a character boundary so that it and its
/// terminating NUL fit; the rest is zeroed.
pub(crate) fn to_array(a: &mut [c_char], s: &str) {
    let Some(room) = a.len().checked_sub(1) else {
        return;
    };
    let mut n = s.len().min(room);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, &b) in a.iter_mut().zip(&s.as_bytes()[..n]) {
        *d = b as c_char;
    }
    for d in &mut a[n..] {
        *d = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_cut_at_a_character_boundary_and_terminated() {
        let mut a = [1 as c_char; 5];
        to_array(&mut a, "abcdef");
        assert_eq!(from_array(&a), "abcd");
        assert_eq!(a[4], 0);
        to_array(&mut a, "aé€"); // 1 + 2 + 3 bytes: the euro sign does not fit
        assert_eq!(from_array(&a), "aé");
        assert_eq!(&a[3..], &[0, 0]);
        let full = [b'x' as c_char; 3]; // no terminator: read to the end, not beyond
        assert_eq!(from_array(&full), "xxx");
    }
}
