//! Splitting a byte stream into JSON objects. Clients send compact objects back to back
//! with no separator (the reference client sends no newline), so objects are found by
//! their braces, strings and escapes taken into account; whatever is not inside an object
//! and is not white space is reported as garbage, in runs.

use std::collections::VecDeque;

/// The largest request accepted (a full transaction list is far smaller).
pub const MAX_OBJECT: usize = 1 << 20;

/// What the splitter found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The bytes of one top-level `{...}` (not yet known to be valid JSON).
    Object(Vec<u8>),
    /// This many bytes outside any object that were not white space.
    Garbage(usize),
    /// An object longer than [`MAX_OBJECT`], dropped.
    TooLarge,
}

/// Splits the bytes it is fed into [`Item`]s.
#[derive(Debug, Default)]
pub struct Splitter {
    cur: Vec<u8>,
    depth: usize,
    in_str: bool,
    esc: bool,
    oversize: bool,
    garbage: usize,
    out: VecDeque<Item>,
}

impl Splitter {
    /// An empty splitter.
    pub fn new() -> Splitter {
        Splitter::default()
    }

    fn flush_garbage(&mut self) {
        if self.garbage > 0 {
            self.out.push_back(Item::Garbage(self.garbage));
            self.garbage = 0;
        }
    }

    /// Keep `run` as part of the current object, unless it has grown too large.
    fn keep(&mut self, run: &[u8]) {
        if !self.oversize {
            self.cur.extend_from_slice(run);
            if self.cur.len() > MAX_OBJECT {
                self.oversize = true;
                self.cur = Vec::new();
            }
        }
    }

    /// Feed bytes; complete items become available from [`Splitter::next_item`]. Garbage
    /// at the end of `bytes` is reported at once (a client waiting for an answer to it
    /// gets one).
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            if self.depth == 0 {
                let b = bytes[i];
                i += 1;
                if b == b'{' {
                    self.flush_garbage();
                    self.cur.clear();
                    self.cur.push(b);
                    self.depth = 1;
                    self.in_str = false;
                    self.esc = false;
                    self.oversize = false;
                } else if b.is_ascii_whitespace() {
                    self.flush_garbage();
                } else {
                    self.garbage += 1;
                }
                continue;
            }
            // Inside an object most bytes (digits, commas, letters) change nothing: take
            // them in one run up to the next byte that does. A 4 KiB write is 8 KiB of
            // them.
            let rest = &bytes[i..];
            let run = if self.esc {
                0
            } else if self.in_str {
                rest.iter()
                    .position(|&b| b == b'"' || b == b'\\')
                    .unwrap_or(rest.len())
            } else {
                rest.iter()
                    .position(|&b| matches!(b, b'"' | b'{' | b'}' | b'[' | b']'))
                    .unwrap_or(rest.len())
            };
            self.keep(&rest[..run]);
            i += run;
            let Some(&b) = bytes.get(i) else { break };
            i += 1;
            self.keep(&[b]);
            if self.in_str {
                if self.esc {
                    self.esc = false;
                } else if b == b'\\' {
                    self.esc = true;
                } else {
                    self.in_str = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                _ => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let item = if self.oversize {
                            Item::TooLarge
                        } else {
                            Item::Object(std::mem::take(&mut self.cur))
                        };
                        self.out.push_back(item);
                    }
                }
            }
        }
        self.flush_garbage();
    }

    /// The next complete item.
    pub fn next_item(&mut self) -> Option<Item> {
        self.out.pop_front()
    }

    /// Whether an object has begun and not ended.
    pub fn mid_object(&self) -> bool {
        self.depth > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &mut Splitter) -> Vec<Item> {
        std::iter::from_fn(|| s.next_item()).collect()
    }

    #[test]
    fn objects_back_to_back_and_split_anywhere() {
        let text = br#"{"execute":"a","arguments":{"s":"}{\"x"}}{"execute":"b"}"#;
        for cut in 0..text.len() {
            let mut s = Splitter::new();
            s.feed(&text[..cut]);
            s.feed(&text[cut..]);
            let items = all(&mut s);
            assert_eq!(
                items,
                vec![
                    Item::Object(br#"{"execute":"a","arguments":{"s":"}{\"x"}}"#.to_vec()),
                    Item::Object(br#"{"execute":"b"}"#.to_vec()),
                ],
                "cut at {cut}"
            );
            assert!(!s.mid_object());
        }
    }

    #[test]
    fn escaped_backslashes_and_brackets_in_strings_fed_in_any_pieces() {
        let a = br#"{"k":"a\\","l":["]}{[",{"m":"\\\"}"}],"n":[1,2,[3]]}"#;
        let b = br#"{"d":[0,255,17]}"#;
        let text = [&a[..], b" \n", &b[..]].concat();
        for cut in 0..text.len() {
            for piece in [1, 3, 7] {
                let mut s = Splitter::new();
                s.feed(&text[..cut]);
                for c in text[cut..].chunks(piece) {
                    s.feed(c);
                }
                assert_eq!(
                    all(&mut s),
                    vec![Item::Object(a.to_vec()), Item::Object(b.to_vec())],
                    "cut at {cut}, pieces of {piece}"
                );
            }
        }
    }

    #[test]
    fn garbage_is_reported_in_runs_and_objects_survive_it() {
        let mut s = Splitter::new();
        s.feed(b"hello world\n{\"a\":1} ]]x");
        assert_eq!(
            all(&mut s),
            vec![
                Item::Garbage(5),
                Item::Garbage(5),
                Item::Object(b"{\"a\":1}".to_vec()),
                Item::Garbage(3),
            ]
        );
    }

    #[test]
    fn an_oversized_object_is_dropped_and_the_next_one_is_found() {
        let mut s = Splitter::new();
        s.feed(b"{\"x\":\"");
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(MAX_OBJECT / chunk.len() + 1) {
            s.feed(&chunk);
        }
        s.feed(b"\"}{\"y\":2}");
        assert_eq!(
            all(&mut s),
            vec![Item::TooLarge, Item::Object(b"{\"y\":2}".to_vec())]
        );
    }
}
