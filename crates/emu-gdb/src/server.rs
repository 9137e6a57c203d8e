//! Connections: a TCP listener that serves one GDB at a time, and the session that drives
//! `gdbstub`'s state machine from two sides: the connection's reader thread feeds it the
//! bytes GDB sends (handled the moment they arrive, no polling), and the event thread
//! reports a stop the moment the run-control API publishes one. Both take the session's
//! lock, so each packet and each stop is handled whole.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard};

use emu_runctl::{HartSel, HartStatus, RegId, RunControl, StopCause, StopEvent};
use gdbstub::conn::Connection;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStubBuilder, MultiThreadStopReason};

use crate::Host;
use crate::arch::Reg;
use crate::target::{EmuTarget, StopReason};

/// Largest packet GDB may send (it sizes `m`, `X` and `g` transfers by it): 4 KiB of memory
/// in one `m` reply takes 8 KiB of hex.
const PACKET_SIZE: usize = 0x4000;

/// Registers sent with every stop (`T` packet), so GDB need not ask for them: pc, sp, fp, ra.
const EXPEDITED: [(u8, RegId); 4] = [
    (32, RegId::Pc),
    (2, RegId::Gpr(2)),
    (8, RegId::Gpr(8)),
    (1, RegId::Gpr(1)),
];

/// The writing half of a connection, buffered: a reply goes out in one write when
/// `gdbstub` flushes it.
pub struct BufferedConn<W: Write> {
    w: W,
    buf: Vec<u8>,
}

impl<W: Write> BufferedConn<W> {
    /// Buffer writes to `w`.
    pub fn new(w: W) -> BufferedConn<W> {
        BufferedConn {
            w,
            buf: Vec::with_capacity(PACKET_SIZE),
        }
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
        if !self.buf.is_empty() {
            let r = self.w.write_all(&self.buf);
            self.buf.clear();
            r?;
        }
        self.w.flush()
    }
}

type Conn = BufferedConn<Box<dyn Write + Send>>;
type Machine = GdbStubStateMachine<'static, EmuTarget, Conn>;

/// One GDB connection's state.
struct Session {
    target: EmuTarget,
    gdb: Option<Machine>,
}

/// The server: at most one session at a time.
pub struct GdbServer {
    rc: Arc<RunControl>,
    host: Arc<dyn Host>,
    session: Mutex<Option<Session>>,
}

impl std::fmt::Debug for GdbServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GdbServer").finish_non_exhaustive()
    }
}

/// How GDB left, as the session sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    /// `D`: breakpoints out, the harts run.
    Detach,
    /// `k`: the emulator ends.
    Kill,
    /// The connection dropped or broke (GDB's `disconnect`, a crash, a protocol failure):
    /// breakpoints out, the harts stay as they are.
    Dropped,
}

impl From<DisconnectReason> for Leave {
    fn from(r: DisconnectReason) -> Leave {
        match r {
            DisconnectReason::Disconnect => Leave::Detach,
            DisconnectReason::Kill => Leave::Kill,
            DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_) => {
                Leave::Dropped
            }
        }
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// GDB detached or went away: the machine runs on.
    Detached,
    /// GDB killed the program: the host was asked to end emu.
    Killed,
    /// Another session is open: this connection was refused.
    Refused,
}

impl GdbServer {
    /// A server for the machine behind `rc`. Starts the thread that turns the API's stop
    /// events into stop replies.
    pub fn new(rc: Arc<RunControl>, host: Arc<dyn Host>) -> Arc<GdbServer> {
        let events = rc.subscribe();
        let server = Arc::new(GdbServer {
            rc,
            host,
            session: Mutex::new(None),
        });
        let weak = Arc::downgrade(&server);
        let _ = std::thread::Builder::new()
            .name("gdb-events".into())
            .spawn(move || {
                while let Ok(e) = events.recv() {
                    let Some(server) = weak.upgrade() else {
                        break;
                    };
                    server.on_event(e);
                }
            });
        server
    }

    fn lock(&self) -> MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Listen on `addr` and serve GDB connections on their own threads until the process
    /// ends; the address bound (port 0 picks one).
    pub fn listen(self: &Arc<Self>, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let l = TcpListener::bind(addr)?;
        let local = l.local_addr()?;
        let me = self.clone();
        std::thread::Builder::new()
            .name("gdb-accept".into())
            .spawn(move || {
                for s in l.incoming() {
                    let Ok(s) = s else { continue };
                    let me = me.clone();
                    let _ = std::thread::Builder::new()
                        .name("gdb-conn".into())
                        .spawn(move || me.serve_tcp(s));
                }
            })?;
        Ok(local)
    }

    fn serve_tcp(&self, s: TcpStream) -> Ended {
        let _ = s.set_nodelay(true);
        let peer = s.peer_addr().ok();
        let Ok(w) = s.try_clone() else {
            return Ended::Detached;
        };
        let r = self.serve(s, Box::new(w));
        if r == Ended::Refused {
            tracing::warn!("gdb: refused {peer:?}: another debugger is connected");
        }
        r
    }

    /// Serve one connection: GDB's bytes come from `r`, replies go to `w`.
    pub fn serve(&self, mut r: impl Read, w: Box<dyn Write + Send>) -> Ended {
        {
            let mut g = self.lock();
            if g.is_some() {
                return Ended::Refused;
            }
            let mut target = EmuTarget::new(self.rc.clone(), self.host.clone());
            if let Err(e) = target.attach() {
                tracing::warn!("gdb: could not halt the harts on attach: {e}");
            }
            let stub = match GdbStubBuilder::new(BufferedConn::new(w))
                .packet_buffer_size(PACKET_SIZE)
                .build()
            {
                Ok(s) => s,
                Err(_) => return Ended::Detached,
            };
            let gdb = match stub.run_state_machine(&mut target) {
                Ok(m) => m,
                Err(_) => return Ended::Detached,
            };
            *g = Some(Session {
                target,
                gdb: Some(gdb),
            });
        }
        let mut buf = vec![0u8; 64 << 10];
        let ended = loop {
            let n = match r.read(&mut buf) {
                Ok(0) | Err(_) => break Leave::Dropped,
                Ok(n) => n,
            };
            if let Some(leave) = self.incoming(&buf[..n]) {
                break leave;
            }
        };
        // The session is over: GDB's breakpoints go; the machine runs on (or ends).
        let mut g = self.lock();
        let mut s = g.take();
        drop(g);
        match ended {
            Leave::Kill => {
                self.host.kill();
                Ended::Killed
            }
            leave => {
                if let Some(s) = s.as_mut() {
                    s.target.detach(leave == Leave::Detach);
                }
                Ended::Detached
            }
        }
    }

    /// Feed GDB's bytes to the stub; how the session ended, if it did.
    fn incoming(&self, data: &[u8]) -> Option<Leave> {
        let mut g = self.lock();
        let Some(s) = g.as_mut() else {
            return Some(Leave::Dropped);
        };
        for &b in data {
            let Some(gdb) = s.gdb.take() else {
                return Some(Leave::Dropped);
            };
            let next = match gdb {
                GdbStubStateMachine::Idle(m) => m.incoming_data(&mut s.target, b),
                GdbStubStateMachine::Running(m) => m.incoming_data(&mut s.target, b),
                GdbStubStateMachine::CtrlCInterrupt(_) | GdbStubStateMachine::Disconnected(_) => {
                    Ok(gdb)
                }
            };
            let next = match next {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!("gdb: ending the session: {e}");
                    return Some(Leave::Dropped);
                }
            };
            let next = match settle(&mut s.target, next) {
                Ok(m) => m,
                Err(r) => return Some(r),
            };
            s.gdb = Some(next);
        }
        // Acknowledgements and replies of this batch go out now (a `c` has no reply until
        // the stop, but its `+` must not wait for it).
        match s.gdb.as_mut() {
            Some(m) => {
                flush(m);
                None
            }
            None => Some(Leave::Dropped),
        }
    }

    fn on_event(&self, e: StopEvent) {
        // Halts the stub causes itself (Ctrl-C, all-stop) and steps are reported where
        // they are caused.
        if matches!(
            e.cause,
            StopCause::HaltRequest | StopCause::Group | StopCause::Step
        ) {
            return;
        }
        let mut g = self.lock();
        let Some(s) = g.as_mut() else { return };
        if !matches!(s.gdb, Some(GdbStubStateMachine::Running(_)))
            || !s.target.running.contains(&e.hart)
            || s.target.rc().status(e.hart).ok() != Some(HartStatus::Halted)
        {
            return; // stale: the hart was stopped and resumed since
        }
        // All-stop: the others stop too.
        let _ = s.target.halt_all();
        let reason = s.target.stop_reason(e.hart, e.cause);
        report(s, e.hart, reason);
    }

    /// The guest ended with `code`: a GDB waiting for a stop hears of it.
    pub fn guest_exited(&self, code: i32) {
        let mut g = self.lock();
        let Some(s) = g.as_mut() else { return };
        if matches!(s.gdb, Some(GdbStubStateMachine::Running(_))) {
            s.target.running.clear();
            report(s, 0, MultiThreadStopReason::Exited(code as u8));
        }
    }

    /// Whether a GDB is connected.
    pub fn connected(&self) -> bool {
        self.lock().is_some()
    }

    /// Halt every hart through the run-control API (used by tests and the binary).
    pub fn halt_all(&self) -> emu_runctl::Result<()> {
        self.rc.halt(HartSel::All)
    }
}

/// Report `reason` (hart `h`) on a running session, with expedited registers.
fn report(s: &mut Session, h: usize, reason: StopReason) {
    let Some(GdbStubStateMachine::Running(m)) = s.gdb.take() else {
        return;
    };
    s.gdb = match report_on(&mut s.target, m, h, reason) {
        Ok(mut m) => {
            flush(&mut m);
            Some(m)
        }
        Err(_) => None,
    };
}

type RunningMachine = gdbstub::stub::state_machine::GdbStubStateMachineInner<
    'static,
    gdbstub::stub::state_machine::state::Running,
    EmuTarget,
    Conn,
>;

fn report_on(
    t: &mut EmuTarget,
    m: RunningMachine,
    h: usize,
    reason: StopReason,
) -> Result<Machine, Leave> {
    let values: Vec<(Reg, [u8; 8])> = EXPEDITED
        .iter()
        .filter_map(|&(n, r)| {
            let v = t.rc().read_register(h, r).ok()?;
            let id = if n == 32 {
                Reg::Pc
            } else {
                Reg::Gpr(n)
            };
            Some((id, v.to_le_bytes()))
        })
        .collect();
    let mut regs = values.iter().map(|(id, v)| (*id, &v[..]));
    m.report_stop_with_regs(t, reason, &mut regs)
        .map_err(|_| Leave::Dropped)
}

/// After a packet: a Ctrl-C halts the harts; a resume that already stopped (a step) is
/// reported at once; a disconnect ends the session.
fn settle(t: &mut EmuTarget, m: Machine) -> Result<Machine, Leave> {
    match m {
        GdbStubStateMachine::CtrlCInterrupt(c) => {
            let h = t.running.first().copied().unwrap_or(0);
            let was_running = !t.running.is_empty();
            let _ = t.halt_all();
            let reason = was_running.then(|| t.stop_reason(h, StopCause::HaltRequest));
            c.interrupt_handled(t, reason)
                .map_err(|_| Leave::Dropped)
        }
        GdbStubStateMachine::Running(r) => match t.pending.take() {
            Some((h, reason)) => report_on(t, r, h, reason),
            None => Ok(GdbStubStateMachine::Running(r)),
        },
        GdbStubStateMachine::Disconnected(d) => Err(d.get_reason().into()),
        m => Ok(m),
    }
}

fn flush(m: &mut Machine) {
    let _ = match m {
        GdbStubStateMachine::Idle(i) => i.borrow_conn().flush(),
        GdbStubStateMachine::Running(i) => i.borrow_conn().flush(),
        GdbStubStateMachine::CtrlCInterrupt(i) => i.borrow_conn().flush(),
        GdbStubStateMachine::Disconnected(i) => i.borrow_conn().flush(),
    };
}
