//! GDB remote protocol helpers for the raw clients of the tests and benchmarks.

/// Undo the protocol's run-length encoding: `c*n` is `c` and `n - 29` more of it.
pub fn unrle(b: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'*' && i + 1 < b.len() {
            let last = out.last().copied().unwrap_or(b'0');
            out.extend(std::iter::repeat_n(
                last,
                b[i + 1].saturating_sub(29) as usize,
            ));
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_length_encoding_is_undone() {
        assert_eq!(super::unrle(b"0* 1"), b"00001".to_vec());
        assert_eq!(super::unrle(b"ab"), b"ab".to_vec());
    }
}
