//! # emu-sock: low-latency socket reading for the debug servers
//!
//! Owns [`SpinRead`], the reader the remote_bitbang, GDB and MCD servers put on their
//! client sockets, [`Quiet`], how a server tells a reader its client will be quiet for a
//! while, [`Socket`], what it needs of a stream socket (TCP or Unix-domain), and
//! [`serve_connections`], their one accept loop.
//!
//! Why: a debugger sends its next request a few tens of microseconds after it gets a
//! reply, and waking a server thread blocked in `read` costs about as much again on a
//! virtual machine. So after each read the server polls its socket without blocking for
//! a short while before it blocks. A quiet client costs one such spin and then nothing.
//!
//! And [`hold_cpu_latency`] (`qos.rs`): on request, keeping the host's idle CPUs polling
//! instead of halting, which is what a wake-up costs most on a virtual machine.
//!
//! Must not depend on any other emu crate.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod qos;
pub use qos::{CpuLatencyHold, cpu_latency_target, hold_cpu_latency};

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How long the debug servers poll after a read before they block (OpenOCD's scans and
/// MCD clients' polls come well within it).
pub const SPIN: Duration = Duration::from_micros(500);

/// Accepts connections with `next` on a thread named `{name}-accept` and serves each one
/// with `serve` on its own thread named `{name}-conn`, until the process ends. A failed
/// accept (no file descriptors left, a connection reset before it was taken) pauses the
/// loop a little, so that it never spins a core on an error that lasts.
pub fn serve_connections<S: Send + 'static>(
    name: &str,
    mut next: impl FnMut() -> std::io::Result<S> + Send + 'static,
    serve: impl Fn(S) + Send + Sync + 'static,
) -> std::io::Result<()> {
    let serve = std::sync::Arc::new(serve);
    let conn = format!("{name}-conn");
    std::thread::Builder::new()
        .name(format!("{name}-accept"))
        .spawn(move || {
            loop {
                let Ok(s) = next() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let serve = serve.clone();
                let _ = std::thread::Builder::new()
                    .name(conn.clone())
                    .spawn(move || serve(s));
            }
        })?;
    Ok(())
}

/// A connected stream socket.
pub trait Socket: Read + Write + Send + Sized + 'static {
    /// Switch non-blocking mode.
    fn set_nonblocking(&self, on: bool) -> std::io::Result<()>;
    /// Bound how long a write may wait for the peer to read.
    fn set_write_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
    /// A second handle on the same socket (one reads, the other writes).
    fn try_clone(&self) -> std::io::Result<Self>;
    /// Who is connected, for logs.
    fn peer(&self) -> String;
}

macro_rules! socket {
    ($t:ty, $peer:expr) => {
        impl Socket for $t {
            fn set_nonblocking(&self, on: bool) -> std::io::Result<()> {
                <$t>::set_nonblocking(self, on)
            }
            fn set_write_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
                <$t>::set_write_timeout(self, t)
            }
            fn try_clone(&self) -> std::io::Result<Self> {
                <$t>::try_clone(self)
            }
            fn peer(&self) -> String {
                $peer(self)
            }
        }
    };
}

socket!(TcpStream, |s: &TcpStream| s
    .peer_addr()
    .map_or_else(|_| "?".to_string(), |a| a.to_string()));
socket!(UnixStream, |_: &UnixStream| "a Unix-socket client"
    .to_string());

/// A reader a server can tell that its client will be quiet for a while.
///
/// A GDB that continued the target sends nothing until the target stops (bar a Ctrl-C).
/// Polling for its next packet then only takes a core from the harts that run and from
/// the thread that reports their stop: on a 2-core host that alone cost a continue to a
/// breakpoint a third of its time.
pub trait Quiet: Read {
    /// `true`: the next reads block at once; `false`: they poll first again (the default).
    fn set_quiet(&mut self, quiet: bool);
}

/// A socket reader that polls without blocking for up to `spin` after each read before it
/// blocks in `read`.
#[derive(Debug)]
pub struct SpinRead<S> {
    s: S,
    spin: Duration,
    nonblocking: bool,
    quiet: bool,
}

impl<S: Socket> SpinRead<S> {
    /// Read `s`, polling for `spin` before blocking.
    pub fn new(s: S, spin: Duration) -> SpinRead<S> {
        SpinRead {
            s,
            spin,
            nonblocking: false,
            quiet: false,
        }
    }

    fn set_nonblocking(&mut self, on: bool) -> std::io::Result<()> {
        if self.nonblocking != on {
            self.s.set_nonblocking(on)?;
            self.nonblocking = on;
        }
        Ok(())
    }
}

impl<S: Socket> Quiet for SpinRead<S> {
    fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }
}

impl<S: Socket> Read for SpinRead<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.spin.is_zero() && !self.quiet {
            self.set_nonblocking(true)?;
            let t0 = Instant::now();
            loop {
                match self.s.read(buf) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        if t0.elapsed() >= self.spin {
                            break;
                        }
                        std::hint::spin_loop();
                    }
                    r => return r,
                }
            }
        }
        self.set_nonblocking(false)?;
        self.s.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let a = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (b, _) = l.accept().expect("accept");
        (a, b)
    }

    #[test]
    fn data_within_the_spin_and_after_it_and_the_end() {
        let (mut a, b) = pair();
        let mut r = SpinRead::new(b, Duration::from_millis(5));
        let mut buf = [0u8; 8];
        a.write_all(b"x").expect("write");
        assert_eq!(r.read(&mut buf).expect("read"), 1, "polled");
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            a.write_all(b"yz").expect("write");
            a
        });
        // Longer than the spin: the reader blocks, and still gets the bytes.
        assert_eq!(r.read(&mut buf).expect("read"), 2);
        assert_eq!(&buf[..2], b"yz");
        drop(t.join().expect("writer"));
        assert_eq!(r.read(&mut buf).expect("read"), 0, "end of stream");
    }

    #[test]
    fn a_quiet_reader_blocks_at_once_and_polls_again_when_told() {
        let (mut a, b) = pair();
        // A spin far longer than the test: only a reader that does not poll can block.
        let mut r = SpinRead::new(b, Duration::from_secs(3600));
        r.set_quiet(true);
        let mut buf = [0u8; 8];
        a.write_all(b"q").expect("write");
        assert_eq!(r.read(&mut buf).expect("read"), 1);
        assert!(!r.nonblocking, "a quiet reader reads blocking");
        r.set_quiet(false);
        a.write_all(b"p").expect("write");
        assert_eq!(r.read(&mut buf).expect("read"), 1);
        assert!(r.nonblocking, "it polls again");
    }

    #[test]
    fn no_spin_reads_blocking() {
        let (mut a, b) = pair();
        let mut r = SpinRead::new(b, Duration::ZERO);
        a.write_all(b"abc").expect("write");
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).expect("read"), 3);
    }
}
