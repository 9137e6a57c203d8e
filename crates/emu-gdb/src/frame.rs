//! Framing of the bytes GDB sends, ahead of `gdbstub`: only whole, well-formed packets
//! reach the stub. `gdbstub` ends a session on a stray byte, a bad checksum or a NAK; a
//! debug port must instead answer bad input in the protocol's own way and go on. So stray
//! bytes between packets are dropped, a packet with a bad checksum is NAKed (`-`, GDB
//! resends it), one longer than the advertised packet size is answered with an error, and
//! a packet cut off by a disconnect never reaches the stub.

/// What a run of bytes amounted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole packet, `$...#xx`, checksum verified: for the stub.
    Packet(Vec<u8>),
    /// Ctrl-C (0x03) outside a packet.
    Interrupt,
    /// GDB's NAK: it wants the last reply again.
    Nack,
    /// A packet whose checksum does not match its body.
    BadChecksum,
    /// A packet longer than the limit (its bytes were dropped).
    TooLong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Between,
    Body,
    Sum1,
    Sum2,
}

/// Splits GDB's byte stream into frames.
#[derive(Debug)]
pub struct Framer {
    state: State,
    buf: Vec<u8>,
    limit: usize,
    overflow: bool,
}

impl Framer {
    /// A framer for packets of at most `limit` bytes (`$`, body, `#` and checksum).
    pub fn new(limit: usize) -> Framer {
        Framer {
            state: State::Between,
            buf: Vec::with_capacity(limit.min(1 << 16)),
            limit,
            overflow: false,
        }
    }

    /// Take one byte; a frame when it completes one.
    pub fn push(&mut self, b: u8) -> Option<Frame> {
        match self.state {
            State::Between => match b {
                b'$' => {
                    self.buf.clear();
                    self.buf.push(b);
                    self.overflow = false;
                    self.state = State::Body;
                    None
                }
                0x03 => Some(Frame::Interrupt),
                b'-' => Some(Frame::Nack),
                // Acks (`+`) and noise between packets.
                _ => None,
            },
            State::Body => {
                self.keep(b);
                if b == b'#' {
                    self.state = State::Sum1;
                }
                None
            }
            State::Sum1 => {
                self.keep(b);
                self.state = State::Sum2;
                None
            }
            State::Sum2 => {
                self.keep(b);
                self.state = State::Between;
                if self.overflow {
                    return Some(Frame::TooLong);
                }
                Some(self.check())
            }
        }
    }

    fn keep(&mut self, b: u8) {
        if self.buf.len() < self.limit {
            self.buf.push(b);
        } else {
            self.overflow = true;
        }
    }

    fn check(&mut self) -> Frame {
        let n = self.buf.len();
        // `$` body `#` h l
        let body = &self.buf[1..n - 3];
        let sum = body.iter().fold(0u8, |a, x| a.wrapping_add(*x));
        let given = std::str::from_utf8(&self.buf[n - 2..])
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if given == Some(sum) {
            Frame::Packet(std::mem::take(&mut self.buf))
        } else {
            Frame::BadChecksum
        }
    }

    /// Whether a packet is under way (bytes taken but not yet a frame).
    pub fn in_packet(&self) -> bool {
        self.state != State::Between
    }
}

/// `$body#xx` for a reply of ours.
pub fn packet(body: &[u8]) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |a, x| a.wrapping_add(*x));
    let mut v = Vec::with_capacity(body.len() + 4);
    v.push(b'$');
    v.extend_from_slice(body);
    v.extend_from_slice(format!("#{sum:02x}").as_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut Framer, bytes: &[u8]) -> Vec<Frame> {
        bytes.iter().filter_map(|&b| f.push(b)).collect()
    }

    #[test]
    fn splits_packets_and_control_bytes() {
        let mut f = Framer::new(64);
        let got = frames(&mut f, b"+$g#67\x03garbage-$m0,4#fd");
        assert_eq!(
            got,
            vec![
                Frame::Packet(b"$g#67".to_vec()),
                Frame::Interrupt,
                Frame::Nack,
                Frame::Packet(b"$m0,4#fd".to_vec()),
            ]
        );
        assert!(!f.in_packet());
    }

    #[test]
    fn bad_checksums_and_long_packets_are_caught() {
        let mut f = Framer::new(16);
        assert_eq!(frames(&mut f, b"$g#00"), vec![Frame::BadChecksum]);
        assert_eq!(frames(&mut f, b"$g#zz"), vec![Frame::BadChecksum]);
        let mut long = b"$".to_vec();
        long.extend([b'a'; 100]);
        long.extend(b"#00");
        assert_eq!(frames(&mut f, &long), vec![Frame::TooLong]);
        // And the next packet is whole again.
        assert_eq!(
            frames(&mut f, b"$?#3f"),
            vec![Frame::Packet(b"$?#3f".to_vec())]
        );
    }

    #[test]
    fn a_cut_off_packet_is_not_a_frame() {
        let mut f = Framer::new(64);
        assert!(frames(&mut f, b"$m80000000,4").is_empty());
        assert!(f.in_packet());
    }

    #[test]
    fn replies_are_framed() {
        assert_eq!(packet(b"OK"), b"$OK#9a".to_vec());
        assert_eq!(packet(b""), b"$#00".to_vec());
    }
}
