//! Memory as an `m` reply: hex digits with GDB's run-length encoding, in one pass.
//!
//! `gdbstub` encodes a reply one byte at a time through its writer (a call, a run-length
//! check and a checksum update per character). For the 8 KiB of hex of a 4 KiB `m` that
//! cost more than reading the memory over the system bus, so the server has the target
//! encode `m` data itself (see `server.rs`), with the same encoding: a run of `k` equal
//! characters, `4 <= k <= 98`, is the character, `*`, and the character `29 + k - 1`;
//! counts that would make that `#` or `$` (`k` = 7 or 8) are avoided by a run of 6 and
//! the rest written out.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Longest run one repeat count covers (its count character is `~`).
const MAX_RUN: usize = 98;

/// Append `data` to `out` as lowercase hex, run-length encoded.
pub fn push_hex_rle(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len() * 2);
    let mut run: Option<(u8, usize)> = None;
    for &b in data {
        for c in [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]] {
            run = match run {
                Some((r, k)) if r == c && k < MAX_RUN => Some((r, k + 1)),
                Some((r, k)) => {
                    push_run(r, k, out);
                    Some((c, 1))
                }
                None => Some((c, 1)),
            };
        }
    }
    if let Some((r, k)) = run {
        push_run(r, k, out);
    }
}

/// `k` copies of `c`, encoded.
fn push_run(c: u8, k: usize, out: &mut Vec<u8>) {
    match k {
        0..=3 => out.extend(std::iter::repeat_n(c, k)),
        // `29 + 6` is `#`, `29 + 7` is `$`: a run of 6, then the rest.
        7 | 8 => {
            out.extend_from_slice(&[c, b'*', 29 + 5]);
            out.extend(std::iter::repeat_n(c, k - 6));
        }
        _ => out.extend_from_slice(&[c, b'*', 29 + (k - 1) as u8]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GDB's reading of a run-length encoded reply (remote.c: the character after `*`,
    /// less 29, is how many more copies of the previous character follow).
    fn expand(enc: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < enc.len() {
            if enc[i] == b'*' {
                let prev = *out.last().expect("a run follows a character");
                let n = usize::from(enc[i + 1]) - 29;
                out.extend(std::iter::repeat_n(prev, n));
                i += 2;
            } else {
                out.push(enc[i]);
                i += 1;
            }
        }
        out
    }

    fn plain_hex(data: &[u8]) -> Vec<u8> {
        data.iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect()
    }

    fn check(data: &[u8]) {
        let mut enc = Vec::new();
        push_hex_rle(data, &mut enc);
        assert_eq!(expand(&enc), plain_hex(data), "{data:02x?}");
        for w in enc.windows(2).filter(|w| w[0] == b'*') {
            assert!((32..=126).contains(&w[1]) && w[1] != b'#' && w[1] != b'$');
        }
        assert!(!enc.contains(&b'#') && !enc.contains(&b'$'));
    }

    #[test]
    fn every_run_length_round_trips() {
        // Runs of 0..=300 hex digits of one value (two digits per byte), between others.
        for k in 0..150 {
            let mut d = vec![0x12];
            d.extend(std::iter::repeat_n(0u8, k));
            d.push(0x34);
            check(&d);
            check(&vec![0xaau8; k]);
        }
        // Odd digit runs: `0x10` then zeros gives 1 + 2k zero digits.
        for k in 0..60 {
            let mut d = vec![0x10];
            d.extend(std::iter::repeat_n(0u8, k));
            check(&d);
        }
    }

    #[test]
    fn encodings_are_the_expected_characters() {
        let mut enc = Vec::new();
        push_hex_rle(&[0; 2], &mut enc); // 4 zeros: `0* `
        assert_eq!(enc, b"0* ");
        enc.clear();
        push_hex_rle(&[0x12, 0x34], &mut enc);
        assert_eq!(enc, b"1234");
        enc.clear();
        push_hex_rle(&[0; 4], &mut enc); // 8 zeros: a run of 6 (`"`), then 2
        assert_eq!(enc, b"0*\"00");
    }

    #[test]
    fn random_memory_round_trips() {
        // A fixed pseudo-random stream with long and short runs.
        let mut x = 0x1234_5678_u32;
        let mut data = Vec::new();
        for _ in 0..4000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let n = (x >> 24) as usize % 40;
            data.extend(std::iter::repeat_n((x & 0x3) as u8 * 0x55, n));
            data.push(x as u8);
        }
        check(&data);
    }
}
