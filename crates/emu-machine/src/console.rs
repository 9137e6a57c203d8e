//! The host side of the guest console: where UART and HTIF output goes and where UART input
//! comes from. Tests capture output in memory; the binary wires stdin and stdout.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Output sink and input queue shared by the UART and HTIF.
#[derive(Clone)]
pub struct Console {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    input: Arc<Mutex<VecDeque<u8>>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}

impl Console {
    /// A console writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Console {
        Console {
            out: Arc::new(Mutex::new(out)),
            input: Arc::default(),
        }
    }

    /// A console writing to the host's stdout.
    pub fn stdout() -> Console {
        Console::new(Box::new(std::io::stdout()))
    }

    /// A console that keeps output in memory; read it back with the returned buffer.
    pub fn capture() -> (Console, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (Console::new(Box::new(SharedBuf(buf.clone()))), buf)
    }

    /// Emit one byte of guest output.
    pub fn put(&self, b: u8) {
        let mut o = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = o.write_all(&[b]);
        if b == b'\n' {
            let _ = o.flush();
        }
    }

    /// Emit several bytes of guest output.
    pub fn put_all(&self, bytes: &[u8]) {
        let mut o = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = o.write_all(bytes);
        let _ = o.flush();
    }

    /// Flush buffered output.
    pub fn flush(&self) {
        let _ = self.out.lock().unwrap_or_else(|e| e.into_inner()).flush();
    }

    /// Queue bytes of guest input.
    pub fn push_input(&self, bytes: &[u8]) {
        self.input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(bytes);
    }

    /// Take the next input byte.
    pub fn pop_input(&self) -> Option<u8> {
        self.input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    /// Whether input is waiting.
    pub fn has_input(&self) -> bool {
        !self
            .input
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }
}

struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
