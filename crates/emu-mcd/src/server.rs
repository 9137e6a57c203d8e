//! The MCD TCP server: one client at a time (a second one gets a QMP-style error line and
//! is closed), requests split from the byte stream whatever their framing, one reply line
//! per request.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use emu_runctl::RunControl;
use emu_sock::{SPIN, SpinRead};

pub use crate::session::ServerInfo;
use crate::session::{Flow, Session, qmp_error};
use crate::stream::{Item, MAX_OBJECT, Splitter};

/// How long a reply may wait for a client that does not read before it is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The MCD server of one machine.
pub struct McdServer {
    rc: Arc<RunControl>,
    memory_map: Vec<crate::session::MemBlock>,
    /// Whether a client has the server open (one at a time).
    slot: Arc<AtomicBool>,
}

impl std::fmt::Debug for McdServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McdServer")
            .field("open", &self.slot)
            .finish_non_exhaustive()
    }
}

impl McdServer {
    /// A server on the run-control API `rc` (shared with the other front ends).
    pub fn new(rc: Arc<RunControl>) -> Arc<McdServer> {
        McdServer::with_memory_map(rc, Vec::new())
    }

    /// A server that also knows the machine's physical memory map.
    pub fn with_memory_map(
        rc: Arc<RunControl>,
        memory_map: Vec<crate::session::MemBlock>,
    ) -> Arc<McdServer> {
        Arc::new(McdServer {
            rc,
            memory_map,
            slot: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Listen on `addr` and serve clients on their own threads; the bound address.
    pub fn listen(self: &Arc<Self>, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let l = TcpListener::bind(addr)?;
        let local = l.local_addr()?;
        let me = self.clone();
        emu_sock::serve_connections(
            "mcd",
            move || l.accept().map(|(s, _)| s),
            move |s| {
                let info = ServerInfo {
                    host: local.ip().to_string(),
                    port: local.port(),
                    memory_map: me.memory_map.clone(),
                };
                me.serve_tcp(s, info);
            },
        )?;
        Ok(local)
    }

    fn serve_tcp(&self, s: TcpStream, info: ServerInfo) {
        let _ = s.set_nodelay(true);
        let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
        let peer = s.peer_addr().ok();
        let Ok(w) = s.try_clone() else { return };
        tracing::info!("mcd: client {peer:?} connected");
        // Clients poll (`mcd-qry-state`) and step in quick succession: answer the next
        // request without a thread wake-up when it comes soon.
        self.serve(SpinRead::new(s, SPIN), w, info);
        tracing::info!("mcd: client {peer:?} left");
    }

    /// Serve one client: requests from `r`, replies to `w`. Returns when the client leaves
    /// or says `mcd-exit`; what it set up (triggers) is undone.
    pub fn serve(&self, mut r: impl Read, mut w: impl Write, info: ServerInfo) {
        // Several clients may connect; one at a time has the server open.
        let mut session = Session::sharing(self.rc.clone(), info, self.slot.clone());
        let mut split = Splitter::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = Vec::new();
        'conn: loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            split.feed(&buf[..n]);
            out.clear();
            let mut exit = false;
            while let Some(item) = split.next_item() {
                let line = match item {
                    Item::Object(o) => {
                        let (line, flow) = session.handle(&o);
                        exit = flow == Flow::Exit;
                        line
                    }
                    Item::Garbage(n) => qmp_error(
                        "GenericError",
                        &format!("JSON parse error: {n} bytes outside any JSON object"),
                    ),
                    Item::TooLarge => qmp_error(
                        "GenericError",
                        &format!("request longer than {MAX_OBJECT} bytes, dropped"),
                    ),
                };
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
                if exit {
                    break;
                }
            }
            if !out.is_empty() && w.write_all(&out).and_then(|_| w.flush()).is_err() {
                break 'conn;
            }
            if exit {
                break;
            }
        }
        drop(session);
    }
}
