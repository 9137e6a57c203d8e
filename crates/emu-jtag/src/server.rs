//! The remote_bitbang server, on TCP or a Unix-domain socket: one probe at a time, its
//! bytes read in large chunks and every TDO reply of a chunk written back in one go as
//! soon as the chunk is decoded (OpenOCD sends a batch of letters and then waits for the
//! replies of its `R`s, so a reply must never wait for more input).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use emu_sock::{SPIN, Socket, SpinRead};

use crate::bitbang::{BitBang, Flow};
use crate::dtm::{Dmi, Dtm};

/// Bytes read from the socket at a time.
const CHUNK: usize = 64 * 1024;

/// How long a reply may wait for a probe that does not read its socket before the probe
/// is dropped (otherwise it would hold the one probe slot for ever).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a probe connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The probe sent `Q`.
    Quit,
    /// The connection closed or failed.
    Closed,
    /// Another probe was connected: this one was turned away.
    Refused,
}

/// What a probe did in one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// How it ended.
    pub ended: Ended,
    /// DMI operations it started.
    pub dmi_ops: u64,
    /// Scans answered `busy` (the probe gave too few Run-Test/Idle cycles).
    pub busy: u64,
    /// Bytes that were not protocol letters.
    pub ignored: u64,
    /// Socket reads (each a batch of letters, answered with one write).
    pub reads: u64,
}

/// Told of every probe connection that ends.
pub type Reporter = Box<dyn Fn(Session) + Send + Sync>;

/// A remote_bitbang server for one DTM.
pub struct RbbServer<D> {
    probe: Mutex<BitBang<Dtm<D>>>,
    connected: AtomicBool,
    reporter: OnceLock<Reporter>,
}

impl<D> std::fmt::Debug for RbbServer<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RbbServer")
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

impl<D: Dmi + 'static> RbbServer<D> {
    /// A server for `dtm`.
    pub fn new(dtm: Dtm<D>) -> Arc<RbbServer<D>> {
        Arc::new(RbbServer {
            probe: Mutex::new(BitBang::dtm(dtm)),
            connected: AtomicBool::new(false),
            reporter: OnceLock::new(),
        })
    }

    /// Have `r` told of every probe connection that ends (the first call counts).
    pub fn set_reporter(&self, r: Reporter) {
        let _ = self.reporter.set(r);
    }

    fn lock(&self) -> MutexGuard<'_, BitBang<Dtm<D>>> {
        // A panic elsewhere cannot leave the TAP half-updated in a way that matters more
        // than losing the probe: keep serving.
        self.probe.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Look at the TAP and DTM (tests, statistics).
    pub fn with_probe<T>(&self, f: impl FnOnce(&BitBang<Dtm<D>>) -> T) -> T {
        f(&self.lock())
    }

    /// Listen on TCP `addr` and serve probes on their own threads; the bound address.
    pub fn listen(self: &Arc<Self>, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let l = TcpListener::bind(addr)?;
        let local = l.local_addr()?;
        self.accept(move || {
            let (s, _) = l.accept()?;
            let _ = s.set_nodelay(true);
            Ok(s)
        })?;
        Ok(local)
    }

    /// Listen on the Unix-domain socket `path` and serve probes on their own threads.
    /// OpenOCD reaches it with `remote_bitbang port 0` and `remote_bitbang host PATH`; each
    /// of its reads costs less than on TCP. A socket file left behind by an emu that has
    /// gone (nothing accepts on it) is replaced; any other existing file is an error.
    pub fn listen_unix(self: &Arc<Self>, path: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(m) = std::fs::symlink_metadata(path)
            && m.file_type().is_socket()
            && std::os::unix::net::UnixStream::connect(path)
                .is_err_and(|e| e.kind() == ErrorKind::ConnectionRefused)
        {
            std::fs::remove_file(path)?;
        }
        let l = UnixListener::bind(path)?;
        self.accept(move || l.accept().map(|(s, _)| s))
    }

    /// Serve each connection `next` accepts on its own thread, from an accepting thread.
    fn accept<S: Socket>(
        self: &Arc<Self>,
        next: impl FnMut() -> std::io::Result<S> + Send + 'static,
    ) -> std::io::Result<()> {
        let me = self.clone();
        emu_sock::serve_connections("rbb", next, move |s| {
            me.serve_socket(s);
        })
    }

    fn serve_socket<S: Socket>(&self, s: S) -> Ended {
        let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
        let peer = s.peer();
        let Ok(w) = s.try_clone() else {
            return Ended::Closed;
        };
        let r = self.serve(SpinRead::new(s, SPIN), w);
        match r {
            Ended::Refused => tracing::warn!("rbb: refused {peer}: another probe is connected"),
            _ => tracing::info!("rbb: probe {peer} left ({r:?})"),
        }
        r
    }

    /// Serve one probe: letters come from `r`, TDO replies go to `w`.
    pub fn serve(&self, mut r: impl Read, mut w: impl Write) -> Ended {
        if self.connected.swap(true, Ordering::AcqRel) {
            if let Some(r) = self.reporter.get() {
                r(Session {
                    ended: Ended::Refused,
                    dmi_ops: 0,
                    busy: 0,
                    ignored: 0,
                    reads: 0,
                });
            }
            return Ended::Refused;
        }
        let start = {
            let mut p = self.lock();
            p.reconnect();
            (
                p.tap().regs().ops(),
                p.tap().regs().busy_answers(),
                p.ignored(),
            )
        };
        let mut buf = vec![0u8; CHUNK];
        let mut out = Vec::with_capacity(CHUNK);
        let mut reads = 0u64;
        let ended = loop {
            reads += 1;
            let n = match r.read(&mut buf) {
                Ok(0) => break Ended::Closed,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break Ended::Closed,
            };
            out.clear();
            let flow = {
                let mut p = self.lock();
                let mut edges = Vec::new();
                let f = p.feed(&buf[..n], &mut out, &mut |a| edges.push(a));
                for a in edges {
                    p.tap().regs().dmi().reset_line(a);
                }
                f
            };
            if !out.is_empty() && w.write_all(&out).and_then(|_| w.flush()).is_err() {
                break Ended::Closed;
            }
            if flow == Flow::Quit {
                break Ended::Quit;
            }
        };
        let s = {
            let p = self.lock();
            Session {
                ended,
                dmi_ops: p.tap().regs().ops() - start.0,
                busy: p.tap().regs().busy_answers() - start.1,
                ignored: p.ignored() - start.2,
                reads,
            }
        };
        self.connected.store(false, Ordering::Release);
        if let Some(r) = self.reporter.get() {
            r(s);
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtm::DtmConfig;

    struct NoDm;

    impl Dmi for NoDm {
        fn read(&self, _: u8) -> u32 {
            0
        }
        fn write(&self, _: u8, _: u32) {}
        fn reset_line(&self, _: bool) {}
    }

    fn server() -> Arc<RbbServer<NoDm>> {
        RbbServer::new(Dtm::new(
            NoDm,
            DtmConfig {
                min_idle: 0,
                idle_hint: 0,
            },
        ))
    }

    #[test]
    fn a_socket_left_behind_is_replaced_and_other_files_are_not() {
        let dir = std::env::temp_dir();
        let stale = dir.join(format!("emu-rbb-stale-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&stale);
        // An emu that went away leaves its socket file behind.
        drop(UnixListener::bind(&stale).expect("bind"));
        assert!(stale.exists());
        server()
            .listen_unix(&stale)
            .expect("the stale socket is replaced");
        let mut c = std::os::unix::net::UnixStream::connect(&stale).expect("connect");
        c.write_all(b"R").expect("write");
        let mut b = [0u8; 1];
        c.read_exact(&mut b).expect("a TDO answer");
        // A live socket is not taken over, and a plain file is not removed.
        assert!(server().listen_unix(&stale).is_err());
        let file = dir.join(format!("emu-rbb-file-{}", std::process::id()));
        std::fs::write(&file, b"keep").expect("write");
        assert!(server().listen_unix(&file).is_err());
        assert_eq!(std::fs::read(&file).expect("read"), b"keep");
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(&stale);
    }
}
