//! Connections: a TCP listener that serves one GDB at a time, and the session that drives
//! `gdbstub`'s state machine from two sides: the connection's reader thread feeds it the
//! bytes GDB sends (handled the moment they arrive, no polling), and a running hart's stop
//! is reported the moment the run-control API resolves it, on the thread that reports it
//! (the halting hart's own, through a hook; a subscription's thread catches the stops
//! other front ends cause). All take the session's lock, so each packet and each stop is
//! handled whole.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};

use emu_sock::{Quiet, SPIN, SpinRead};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use emu_runctl::{HartSel, HartStatus, RegId, RunControl, StopCause, StopEvent};
use gdbstub::conn::Connection;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStubBuilder, MultiThreadStopReason};

use crate::Host;
use crate::arch::Reg;
pub use crate::conn::BufferedConn;
use crate::conn::SharedWriter;
use crate::frame::{Frame, Framer, packet};
use crate::target::{EmuTarget, StopReason};

/// Largest packet GDB may send (it sizes `m`, `X` and `g` transfers by it): 4 KiB of memory
/// in one `m` reply takes 8 KiB of hex.
pub(crate) const PACKET_SIZE: usize = 0x4000;

/// How long a new connection waits for the session before it to end.
const HANDOVER: Duration = Duration::from_millis(500);
/// How long a reply may wait for a GDB that does not read its socket before the session is
/// dropped (a stuck client would otherwise hold the thread reporting a stop, the halted
/// hart's own, with it).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Registers sent with every stop (`T` packet), so GDB need not ask for them: pc, sp, fp, ra.
const EXPEDITED: [(Reg, RegId); 4] = [
    (Reg::Pc, RegId::Pc),
    (Reg::Gpr(2), RegId::Gpr(2)),
    (Reg::Gpr(8), RegId::Gpr(8)),
    (Reg::Gpr(1), RegId::Gpr(1)),
];

type Conn = BufferedConn<Box<dyn Write + Send>>;
type Machine = GdbStubStateMachine<'static, EmuTarget, Conn>;

/// One GDB connection's state.
struct Session {
    target: EmuTarget,
    gdb: Option<Machine>,
    /// The connection's writing half, for a stub made anew after a bad packet.
    writer: SharedWriter,
    framer: Framer,
    /// GDB switched acknowledgements off (`QStartNoAckMode`).
    noack: bool,
}

/// A stub in its initial state on `writer`.
fn new_stub(target: &mut EmuTarget, writer: &SharedWriter) -> Option<Machine> {
    let conn = BufferedConn::new(Box::new(writer.clone()) as Box<dyn Write + Send>);
    GdbStubBuilder::new(conn)
        .packet_buffer_size(PACKET_SIZE)
        .build()
        .ok()?
        .run_state_machine(target)
        .ok()
}

/// `gdbstub` gave up on a packet it could not parse (and with it the whole stub): answer
/// the packet with an error and carry on with a new stub in the same protocol state. A new
/// stub starts out believing the target stopped, so harts GDB had resumed are halted: GDB
/// and the machine agree again (GDB reads the error as the end of its `continue`).
fn recover(s: &mut Session) -> Result<(), Leave> {
    if !s.target.running.is_empty() {
        let _ = s.target.halt_all();
    }
    let mut m = new_stub(&mut s.target, &s.writer).ok_or(Leave::Dropped)?;
    if s.noack {
        // The new stub learns of no-ack mode the way the old one did; GDB hears nothing.
        if let GdbStubStateMachine::Idle(i) = &mut m {
            i.borrow_conn().mute = true;
        }
        for &b in b"$QStartNoAckMode#b0" {
            m = match m {
                GdbStubStateMachine::Idle(i) => i
                    .incoming_data(&mut s.target, b)
                    .map_err(|_| Leave::Dropped)?,
                other => other,
            };
        }
        if let GdbStubStateMachine::Idle(i) = &mut m {
            let c = i.borrow_conn();
            c.buf.clear();
            c.mute = false;
        }
    }
    s.gdb = Some(m);
    refuse(s);
    Ok(())
}

/// The server: at most one session at a time.
pub struct GdbServer {
    rc: Arc<RunControl>,
    host: Arc<dyn Host>,
    session: Mutex<Option<Session>>,
    /// Signalled when a session ends.
    ended: Condvar,
    /// Keeps breakpoint hits reported from the thread that reports them to the run-control
    /// API (the halting hart's own).
    _hook: emu_runctl::StopHook,
    /// Ends the event thread's subscription with the server, so the thread ends too.
    _events: emu_runctl::Closer,
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
        // A running hart's stop is reported on the thread that resolves it (the hook); the
        // subscription's thread gets the stops operations cause (other front ends' steps
        // and resets among them), so each stop arrives once.
        let events = rc.subscribe_caused();
        let closer = events.closer();
        let server = Arc::new_cyclic(|weak: &std::sync::Weak<GdbServer>| {
            let weak = weak.clone();
            let hook = rc.on_stop(move |e| {
                if let Some(server) = weak.upgrade() {
                    server.on_event(e);
                }
            });
            GdbServer {
                rc,
                host,
                session: Mutex::new(None),
                ended: Condvar::new(),
                _hook: hook,
                _events: closer,
            }
        });
        let weak = Arc::downgrade(&server);
        let _ = std::thread::Builder::new()
            .name("gdb-events".into())
            .spawn(move || {
                // Ends with the server: its closer drops the subscription's channel, and
                // `recv` fails (an embedder making servers anew leaves no threads).
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
        emu_sock::serve_connections(
            "gdb",
            move || l.accept().map(|(s, _)| s),
            move |s| {
                me.serve_tcp(s);
            },
        )?;
        Ok(local)
    }

    fn serve_tcp(&self, s: TcpStream) -> Ended {
        let _ = s.set_nodelay(true);
        let _ = s.set_write_timeout(Some(WRITE_TIMEOUT));
        let peer = s.peer_addr().ok();
        let Ok(w) = s.try_clone() else {
            return Ended::Detached;
        };
        // GDB sends its next packet soon after a reply (a step, a register read, the next
        // step): answer it without a thread wake-up when it does.
        let r = self.serve(SpinRead::new(s, SPIN), Box::new(w));
        if r == Ended::Refused {
            tracing::warn!("gdb: refused {peer:?}: another debugger is connected");
        }
        r
    }

    /// Serve one connection: GDB's bytes come from `r`, replies go to `w`.
    pub fn serve(&self, mut r: impl Quiet, w: Box<dyn Write + Send>) -> Ended {
        {
            let mut g = self.lock();
            // A debugger reconnecting at once may find its old session not yet wound up
            // (its reader has still to see the end of the stream): give that a moment.
            let deadline = Instant::now() + HANDOVER;
            while g.is_some() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ended::Refused;
                }
                g = self
                    .ended
                    .wait_timeout(g, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let mut target = EmuTarget::new(self.rc.clone(), self.host.clone());
            if let Err(e) = target.attach() {
                tracing::warn!("gdb: could not halt the harts on attach: {e}");
            }
            let writer = SharedWriter(Arc::new(Mutex::new(w)));
            let Some(gdb) = new_stub(&mut target, &writer) else {
                return Ended::Detached;
            };
            *g = Some(Session {
                target,
                gdb: Some(gdb),
                writer,
                framer: Framer::new(PACKET_SIZE),
                noack: false,
            });
        }
        let mut buf = vec![0u8; 64 << 10];
        let ended = loop {
            let n = match r.read(&mut buf) {
                Ok(0) | Err(_) => break Leave::Dropped,
                Ok(n) => n,
            };
            match self.incoming(&buf[..n]) {
                // While harts run GDB sends nothing but a Ctrl-C: wait for it without
                // polling, so the cores go to the harts and to the thread that reports
                // their stop.
                Ok(running) => r.set_quiet(running),
                Err(leave) => break leave,
            }
        };
        // The session is over: GDB's breakpoints go; the machine runs on (or ends).
        let mut g = self.lock();
        let mut s = g.take();
        drop(g);
        self.ended.notify_all();
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

    /// Feed GDB's bytes to the stub: whether harts run afterwards (GDB waits for their
    /// stop), or how the session ended.
    fn incoming(&self, data: &[u8]) -> Result<bool, Leave> {
        let mut g = self.lock();
        let Some(s) = g.as_mut() else {
            return Err(Leave::Dropped);
        };
        for &b in data {
            let Some(frame) = s.framer.push(b) else {
                continue;
            };
            let noack = s.noack;
            let r = match frame {
                Frame::Packet(p) => {
                    let noack = &p[..] == b"$QStartNoAckMode#b0";
                    let r = if p.get(1) == Some(&b'm') {
                        feed_m(s, &p)
                    } else {
                        p.iter().try_for_each(|&b| feed(s, b))
                    };
                    s.noack |= noack;
                    r
                }
                Frame::Interrupt => feed(s, 0x03),
                Frame::Nack => {
                    if let Some(c) = conn(s) {
                        c.resend();
                    }
                    Ok(())
                }
                Frame::BadChecksum => {
                    tracing::warn!("gdb: packet with a bad checksum");
                    if let Some(c) = conn(s).filter(|_| !noack) {
                        c.send(b"-");
                    }
                    Ok(())
                }
                Frame::TooLong => {
                    tracing::warn!("gdb: packet longer than PacketSize ({PACKET_SIZE:#x})");
                    refuse(s);
                    Ok(())
                }
            };
            r?;
        }
        // Acknowledgements and replies of this batch go out now (a `c` has no reply until
        // the stop, but its `+` must not wait for it).
        let c = conn(s).ok_or(Leave::Dropped)?;
        let _ = c.flush();
        Ok(matches!(s.gdb, Some(GdbStubStateMachine::Running(_))))
    }

    fn on_event(&self, e: StopEvent) {
        if reported_where_caused(e.cause) {
            return;
        }
        let (reply, mut writer) = {
            let mut g = self.lock();
            let Some(s) = g.as_mut() else { return };
            if !matches!(s.gdb, Some(GdbStubStateMachine::Running(_)))
                || !s.target.running.contains(&e.hart)
                || s.target.rc().status(e.hart).ok() != Some(HartStatus::Halted)
                || s.target.rc().halts(e.hart) != e.seq
            {
                return; // stale: the hart was stopped and resumed since (or halted again)
            }
            // All-stop: the others stop too (no request at all when none runs); those that
            // had stopped on their own are told to GDB at the next resume.
            // (`halt_all` forgets who ran: taken, not copied, on every stop.)
            let running = std::mem::take(&mut s.target.running);
            let _ = s.target.halt_all();
            s.target.defer_others(e.hart, &running);
            let reason = s.target.stop_reason(e.hart, e.cause);
            if let Some(c) = conn(s) {
                c.hold = true;
            }
            report(s, e.hart, reason);
            let Some(c) = conn(s) else { return };
            c.hold = false;
            (c.take(), s.writer.clone())
        };
        // Written with the session let go of: the write wakes GDB, which may take this
        // very core, and its next packet must not find the session held by a thread that
        // waits for the core back (that cost 20-35 us at the first packet after a stop).
        // GDB sends nothing before this reply but a Ctrl-C, which finds the stub stopped.
        let _ = writer.write_all(&reply).and_then(|_| writer.flush());
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
    s.gdb = report_on(&mut s.target, m, h, reason).ok();
    if let Some(c) = conn(s) {
        let _ = c.flush();
    }
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
    // One program reads them all.
    let ids = EXPEDITED.map(|(_, r)| r);
    let values: Vec<(Reg, [u8; 8])> = match t.rc().read_registers(h, &ids) {
        Ok(v) => EXPEDITED
            .iter()
            .zip(v)
            .map(|(&(id, _), v)| (id, v.to_le_bytes()))
            .collect(),
        Err(_) => Vec::new(),
    };
    let n = t.xbytes;
    let mut regs = values.iter().map(|(id, v)| (*id, &v[..n]));
    m.report_stop_with_regs(t, reason, &mut regs)
        .map_err(|_| Leave::Dropped)
}

/// After a packet: a Ctrl-C halts the harts; a resume that already stopped (a step) is
/// reported at once; a disconnect ends the session.
fn settle(t: &mut EmuTarget, m: Machine) -> Result<Machine, Leave> {
    match m {
        GdbStubStateMachine::CtrlCInterrupt(c) => {
            let running = std::mem::take(&mut t.running);
            let _ = t.halt_all();
            let reason = (!running.is_empty()).then(|| {
                let (h, cause) =
                    own_stop(t, &running).unwrap_or((running[0], StopCause::HaltRequest));
                t.defer_others(h, &running);
                t.stop_reason(h, cause)
            });
            c.interrupt_handled(t, reason).map_err(|_| Leave::Dropped)
        }
        GdbStubStateMachine::Running(r) => match t.pending.take() {
            Some((h, reason)) => report_on(t, r, h, reason),
            None => Ok(GdbStubStateMachine::Running(r)),
        },
        GdbStubStateMachine::Disconnected(d) => Err(d.get_reason().into()),
        m => Ok(m),
    }
}

/// A hart of `running` that stopped on its own as a Ctrl-C came (a breakpoint, a
/// watchpoint, an `ebreak`) and the cause: the interrupt reports that stop rather than a
/// SIGINT. Its own report, from the thread that saw the halt, finds the stub stopped by
/// the interrupt and drops it as stale, so GDB would otherwise never hear which
/// breakpoint or watchpoint it was.
fn own_stop(t: &EmuTarget, running: &[usize]) -> Option<(usize, StopCause)> {
    running.iter().find_map(|&h| {
        let e = t.rc().stop_event(h).ok()?;
        (!reported_where_caused(e.cause)).then_some((h, e.cause))
    })
}

/// Halts the stub causes itself (a Ctrl-C, the all-stop of the other harts) and steps:
/// reported where they are caused, not as a hart's own stop.
pub(crate) fn reported_where_caused(cause: StopCause) -> bool {
    matches!(
        cause,
        StopCause::HaltRequest | StopCause::Group | StopCause::Step
    )
}

/// Feed one byte of a whole packet to the stub.
fn feed(s: &mut Session, b: u8) -> Result<(), Leave> {
    let Some(gdb) = s.gdb.take() else {
        return Err(Leave::Dropped);
    };
    let next = match gdb {
        GdbStubStateMachine::Idle(m) => m.incoming_data(&mut s.target, b),
        GdbStubStateMachine::Running(m) => m.incoming_data(&mut s.target, b),
        GdbStubStateMachine::CtrlCInterrupt(_) | GdbStubStateMachine::Disconnected(_) => Ok(gdb),
    };
    match next {
        Ok(next) => {
            s.gdb = Some(settle(&mut s.target, next)?);
            Ok(())
        }
        Err(e) => {
            tracing::warn!("gdb: bad packet: {e}");
            recover(s)
        }
    }
}

/// An `m` packet. `gdbstub` parses it, picks the thread and calls the target, which reads
/// the memory and encodes it itself (`hex.rs`: one pass instead of `gdbstub`'s call per
/// character); the stub's reply, empty, is replaced by one with that data. Any other reply
/// (an error) goes out as the stub wrote it. A length whose reply would not fit the
/// packet size GDB was told is refused with `E01` (the reply would be built whole first).
fn feed_m(s: &mut Session, p: &[u8]) -> Result<(), Leave> {
    if m_len(p).is_some_and(|n| n > PACKET_SIZE / 2 - 2) {
        refuse(s);
        return Ok(());
    }
    let mark = conn(s).map(|c| {
        c.hold = true;
        c.buf.len()
    });
    s.target.m_hex = Some(Vec::new());
    let r = p.iter().try_for_each(|&b| feed(s, b));
    let hex = s.target.m_hex.take();
    // After a packet the stub failed on, this is a new stub's connection, with no hold.
    if let Some(c) = conn(s) {
        if let (Some(mark), Some(hex)) = (mark, hex)
            && let Some(at) = c
                .buf
                .get(mark..)
                .and_then(|b| b.iter().position(|&x| x == b'$'))
            && c.buf[mark + at..] == packet(b"")[..]
        {
            c.buf.truncate(mark + at);
            c.buf.extend(packet(&hex));
        }
        c.hold = false;
    }
    r
}

/// Answer a packet with `E01` outside the stub (one it was not given, or failed on),
/// acknowledged first unless in no-ack mode.
fn refuse(s: &mut Session) {
    let mut reply = if s.noack { vec![] } else { vec![b'+'] };
    reply.extend(packet(b"E01"));
    if let Some(c) = conn(s) {
        c.send(&reply);
    }
}

/// The length an `m` packet (`$maddr,length#xx`) asks for, when it parses.
fn m_len(p: &[u8]) -> Option<usize> {
    let end = p.iter().rposition(|&b| b == b'#')?;
    let comma = p.iter().position(|&b| b == b',')?;
    let digits = std::str::from_utf8(p.get(comma + 1..end)?).ok()?;
    usize::from_str_radix(digits, 16).ok()
}

/// The session's connection.
fn conn(s: &mut Session) -> Option<&mut Conn> {
    Some(match s.gdb.as_mut()? {
        GdbStubStateMachine::Idle(i) => i.borrow_conn(),
        GdbStubStateMachine::Running(i) => i.borrow_conn(),
        GdbStubStateMachine::CtrlCInterrupt(i) => i.borrow_conn(),
        GdbStubStateMachine::Disconnected(i) => i.borrow_conn(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NoHost;
    use emu_dm::{DebugModule, HartCaps};

    /// Threads of this process named as the servers' event threads.
    fn event_threads() -> usize {
        std::fs::read_dir("/proc/self/task")
            .map(|d| {
                d.filter_map(|t| t.ok())
                    .filter(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|c| c.trim() == "gdb-events")
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    #[test]
    fn a_dropped_server_leaves_no_thread_behind() {
        let caps = HartCaps {
            xlen: emu_isa::Xlen::X64,
            f: false,
            d: false,
        };
        // The run-control APIs outlive the servers (as in an embedder that makes servers
        // anew on one machine), so the event channels stay open.
        let rcs: Vec<Arc<RunControl>> = (0..4)
            .map(|_| {
                let dm = Arc::new(DebugModule::new(1, caps));
                Arc::new(RunControl::new(dm).expect("one run control per DM"))
            })
            .collect();
        let servers: Vec<Arc<GdbServer>> = rcs
            .iter()
            .map(|rc| GdbServer::new(rc.clone(), Arc::new(NoHost)))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while event_threads() < 4 {
            assert!(Instant::now() < deadline, "the event threads never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(servers);
        // No stop event will ever come: the threads must notice by themselves.
        let deadline = Instant::now() + Duration::from_secs(10);
        while event_threads() > 0 {
            assert!(
                Instant::now() < deadline,
                "{} threads left",
                event_threads()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(rcs);
    }
}
