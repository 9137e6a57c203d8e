//! The writing half of a GDB connection: buffered, so that a reply goes out in one write,
//! kept for a NAK, and shared by the stubs one session makes in turn.

use std::io::Write;
use std::sync::{Arc, Mutex};

use gdbstub::conn::Connection;

use crate::server::PACKET_SIZE;

/// The writing half of a connection, buffered: a reply goes out in one write when
/// `gdbstub` flushes it.
pub struct BufferedConn<W: Write> {
    w: W,
    pub(crate) buf: Vec<u8>,
    /// The last reply packet sent, for a NAK.
    last: Vec<u8>,
    /// Replies are dropped (a stub being brought to the session's protocol state).
    pub(crate) mute: bool,
    /// Replies stay in the buffer, even when `gdbstub` flushes (an `m` reply the server
    /// replaces before it goes out).
    pub(crate) hold: bool,
}

impl<W: Write> BufferedConn<W> {
    /// Buffer writes to `w`.
    pub fn new(w: W) -> BufferedConn<W> {
        BufferedConn {
            w,
            buf: Vec::with_capacity(PACKET_SIZE),
            last: Vec::new(),
            mute: false,
            hold: false,
        }
    }

    /// Send `bytes` now, outside `gdbstub` (replies to bad input).
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        let _ = self.w.write_all(bytes).and_then(|_| self.w.flush());
    }

    /// Take what is buffered (kept as the last reply, for a NAK), to be written by the
    /// caller: a stop reply goes out after the session is let go of.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        if let Some(i) = self.buf.iter().position(|&b| b == b'$') {
            self.last.clear();
            self.last.extend_from_slice(&self.buf[i..]);
        }
        std::mem::take(&mut self.buf)
    }

    /// GDB NAKed the last reply: send it again.
    pub(crate) fn resend(&mut self) {
        let last = std::mem::take(&mut self.last);
        self.send(&last);
        self.last = last;
    }
}

impl<W: Write> std::fmt::Debug for BufferedConn<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferedConn")
            .field("pending", &self.buf.len())
            .finish()
    }
}

impl<W: Write> Connection for BufferedConn<W> {
    type Error = std::io::Error;

    fn write(&mut self, byte: u8) -> Result<(), std::io::Error> {
        self.buf.push(byte);
        Ok(())
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), std::io::Error> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), std::io::Error> {
        if self.mute || self.hold {
            return Ok(());
        }
        if !self.buf.is_empty() {
            let r = self.w.write_all(&self.buf);
            if let Some(i) = self.buf.iter().position(|&b| b == b'$') {
                self.last.clear();
                self.last.extend_from_slice(&self.buf[i..]);
            }
            self.buf.clear();
            r?;
        }
        self.w.flush()
    }
}

/// The writing half of a connection, shared by the stubs of one session in turn.
#[derive(Clone)]
pub(crate) struct SharedWriter(pub(crate) Arc<Mutex<Box<dyn Write + Send>>>);

impl Write for SharedWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(b)
    }

    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write_all(b)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}
