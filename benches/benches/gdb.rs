//! GDB remote protocol latency, side by side in one run: emu's GDB server (in-process, on
//! the JIT, over loopback TCP), `qemu-system-riscv64 -M virt -bios none -S -gdb` on the same
//! ELF, and the loopback floor (a TCP server that answers every packet with `OK` at once).
//! One raw RSP client (no-ack mode, as GDB uses) measures each round trip:
//!
//! - `step`: `vCont;s:p1.1` until the stop reply;
//! - `cont_to_bp`: set pc (`P`) then `vCont;c` to a software breakpoint a loop iteration
//!   away; `pc_write` is the `P` alone; `cont` is the continue's round trip alone (the `P`
//!   before each one untimed); `p_after_stop` is the `P` right after the stop reply (GDB's
//!   first packet after a stop), timed alone;
//! - `z0_pair`: `Z0` + `z0` at an address away from the running loop;
//! - `g`: all general registers;
//! - `m4k`: 4 KiB of memory, in packets of the size the server announces (as GDB does);
//! - `floor`: one packet and its reply to the echo server (`floor/round_trip`), and an `m`
//!   of 4 KiB answered with 8 KiB of hex in one packet (`floor/m4k`).
//!
//! Every round trip is measured twice, with two kinds of client: `gdb/*` blocks in `read`
//! for the reply, as GDB does; `gdb-poll/*` busy-polls a non-blocking socket, as latency
//! benchmark clients do, so the client's own wake-up (tens of microseconds on a shared VM)
//! drops out and what is left is the server's latency and the loopback path.
//!
//! And gdb-multiarch's own cost per `stepi` and per breakpoint hit (`continue N`), measured
//! as the slope over runs of growing N so GDB's start-up drops out.
//!
//! `cargo bench -p emu-benches --bench gdb` (QEMU and gdb-multiarch parts are skipped with
//! a note when the tools are missing).
//!
//! With `EMU_BENCH_LOW_LATENCY=1` the host's idle CPUs are held polling for the run
//! (`emu --low-latency`; see `docs/performance.md`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use emu_benches::{free_port, gdb_batch, on_path};
use emu_gdb::{GdbServer, NoHost};
use emu_machine::RunningMachine;
use emu_runctl::RunControl;

fn checksum(p: &[u8]) -> u8 {
    p.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

/// A raw RSP client: one request, one reply.
struct Rsp {
    s: TcpStream,
    buf: Vec<u8>,
    /// What one `read` takes in (allocated once: zeroing 64 KiB for every read, as the
    /// client did before, cost a polling client more than a small reply's round trip).
    rx: Vec<u8>,
    out: Vec<u8>,
    packet_size: usize,
    /// The server acknowledges and wants acknowledgements.
    ack: bool,
    /// Busy-poll a non-blocking socket for replies instead of blocking in `read`.
    poll: bool,
    /// Give up on a reply after this long (None: wait for ever); set with
    /// [`Rsp::set_timeout`].
    timeout: Option<Duration>,
}

/// Write all of `bytes` to `s`, blocking or not (a non-blocking socket is retried at once).
fn write_spin(s: &mut TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match s.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Rsp {
    /// A client of `addr`, not yet talking RSP.
    fn raw(addr: SocketAddr, poll: bool) -> Rsp {
        let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        let _ = s.set_nodelay(true);
        s.set_nonblocking(poll)
            .unwrap_or_else(|e| panic!("non-blocking socket: {e}"));
        Rsp {
            s,
            buf: Vec::with_capacity(1 << 16),
            rx: vec![0; 1 << 16],
            out: Vec::with_capacity(1 << 14),
            packet_size: 0x400,
            ack: true,
            poll,
            timeout: None,
        }
    }

    fn connect(addr: SocketAddr, poll: bool) -> Rsp {
        let mut c = Rsp::raw(addr, poll);
        let sup = c.request_acked(b"qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+");
        let sup = String::from_utf8_lossy(&sup).to_string();
        if let Some(v) = sup
            .split(';')
            .find_map(|f| f.strip_prefix("PacketSize="))
            .and_then(|h| usize::from_str_radix(h, 16).ok())
        {
            c.packet_size = v;
        }
        // QEMU 7.2 has no no-ack mode: then every reply is acknowledged, as GDB does.
        c.ack = c.request_acked(b"QStartNoAckMode") != b"OK";
        // QEMU answers `p`/`P` only once the client has read the target description.
        let mut off = 0;
        loop {
            let r = c.request(format!("qXfer:features:read:target.xml:{off:x},800").as_bytes());
            match r.first() {
                Some(b'm') => off += r.len() - 1,
                _ => break,
            }
        }
        c
    }

    fn send(&mut self, p: &[u8]) {
        self.out.clear();
        self.out.push(b'$');
        self.out.extend_from_slice(p);
        self.out
            .extend_from_slice(format!("#{:02x}", checksum(p)).as_bytes());
        write_spin(&mut self.s, &self.out).unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Send a raw byte (an acknowledgement or an interrupt).
    fn send_byte(&mut self, b: u8) -> Option<()> {
        write_spin(&mut self.s, &[b]).ok()
    }

    /// The next packet's body (acks skipped, run-length encoding left as is).
    fn reply(&mut self) -> Vec<u8> {
        self.try_reply()
            .unwrap_or_else(|| panic!("no reply: the server closed or timed out"))
    }

    /// Give up on replies after `t` (None: wait for ever). A blocking client sets the
    /// socket's timeout here, once, not at every reply: a system call per round trip would
    /// be measured with it.
    fn set_timeout(&mut self, t: Option<Duration>) {
        self.timeout = t;
        if !self.poll {
            self.s
                .set_read_timeout(t)
                .unwrap_or_else(|e| panic!("read timeout: {e}"));
        }
    }

    /// [`Rsp::reply`], or None when the connection closed or timed out.
    fn try_reply(&mut self) -> Option<Vec<u8>> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'$')
                && let Some(j) = self.buf[i..].iter().position(|&b| b == b'#')
                && self.buf.len() >= i + j + 3
            {
                let body = self.buf[i + 1..i + j].to_vec();
                self.buf.drain(..i + j + 3);
                if self.ack {
                    self.send_byte(b'+')?;
                }
                return Some(body);
            }
            match self.s.read(&mut self.rx) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&self.rx[..n]),
                Err(e) if self.poll && e.kind() == std::io::ErrorKind::WouldBlock => {
                    if deadline.is_some_and(|d| Instant::now() > d) {
                        return None;
                    }
                    std::hint::spin_loop();
                }
                Err(_) => return None,
            }
        }
    }

    fn request(&mut self, p: &[u8]) -> Vec<u8> {
        self.send(p);
        self.reply()
    }

    fn request_acked(&mut self, p: &[u8]) -> Vec<u8> {
        let ack = std::mem::replace(&mut self.ack, true);
        let r = self.request(p);
        self.ack = ack;
        r
    }

    fn pc(&mut self) -> u64 {
        let r = emu_tests::rsp::unrle(&self.request(b"p20"));
        let hex = std::str::from_utf8(&r).unwrap_or("");
        let mut v = 0u64;
        for i in (0..hex.len().min(16)).step_by(2).rev() {
            v = v << 8 | u64::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        }
        v
    }

    /// 4 KiB from `addr`, in chunks the server's packet size allows.
    fn read_4k(&mut self, addr: u64) {
        let chunk = ((self.packet_size - 8) / 2).min(4096) as u64;
        let mut at = 0;
        while at < 4096 {
            let n = chunk.min(4096 - at);
            let r = self.request(format!("m{:x},{n:x}", addr + at).as_bytes());
            assert!(r.first() != Some(&b'E'), "m failed");
            at += n;
        }
    }
}

struct Guest {
    elf: PathBuf,
    spin: u64,
    spin_forever: u64,
    far: u64,
}

fn guest() -> Guest {
    let out = std::env::temp_dir().join(format!("emu-bench-gdb-{}", std::process::id()));
    let elf = emu_tests::guest::build("gdb", &out);
    let bytes = std::fs::read(&elf).unwrap_or_else(|e| panic!("{e}"));
    let parsed = emu_machine::elf::parse_elf(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let sym = |n: &str| parsed.symbol(n).unwrap_or_else(|| panic!("no symbol {n}"));
    Guest {
        elf,
        spin: sym("spin"),
        spin_forever: sym("spin_forever"),
        far: sym("finish"),
    }
}

fn start_emu(elf: &Path) -> (RunningMachine, Arc<GdbServer>, SocketAddr) {
    let bytes = std::fs::read(elf).unwrap_or_else(|e| panic!("{e}"));
    let m = emu_benches::start_halted_jit(&bytes);
    let rc = RunControl::new(m.dm.clone()).unwrap_or_else(|| panic!("run control taken"));
    let server = GdbServer::new(Arc::new(rc), Arc::new(NoHost));
    let addr = server
        .listen("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
    (m, server, addr)
}

struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_qemu(elf: &Path) -> Option<(Qemu, SocketAddr)> {
    if !on_path("qemu-system-riscv64") {
        eprintln!("qemu-system-riscv64 not found: QEMU side skipped");
        return None;
    }
    let port = free_port();
    let child = Command::new("qemu-system-riscv64")
        .args(["-M", "virt", "-bios", "none", "-cpu", "rv64", "-nographic"])
        .args(["-monitor", "none", "-serial", "null", "-S", "-gdb"])
        .arg(format!("tcp:127.0.0.1:{port}"))
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let q = Qemu(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    // QEMU opens the port before it answers; wait for it without connecting (it serves
    // one client).
    while TcpListener::bind(addr).is_ok() {
        assert!(Instant::now() < deadline, "QEMU's GDB port never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((q, addr))
}

/// The loopback floor: answers every packet with `OK`, and an `m` packet with 4 KiB of
/// memory (8 KiB of hex without a run to compress, a reply as large as any `m` of 4 KiB
/// can get), no-ack mode from the start.
fn start_floor() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let memory: Vec<u8> = {
        let hex: String = (0..4096u32).map(|i| format!("{:02x}", i as u8)).collect();
        let sum = hex.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        format!("${hex}#{sum:02x}").into_bytes()
    };
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_nodelay(true);
            let memory = memory.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1 << 16];
                // The first letter of each whole packet, and of the one under way.
                let mut done = Vec::new();
                let mut first = None;
                let mut at_start = false;
                let mut tail = 0usize;
                loop {
                    let n = match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    for &b in &buf[..n] {
                        if tail > 0 {
                            tail -= 1;
                            if tail == 0 {
                                done.push(first.take());
                            }
                        } else if at_start {
                            at_start = false;
                            first = Some(b);
                        } else if b == b'$' {
                            at_start = true;
                        } else if b == b'#' {
                            tail = 2;
                        }
                    }
                    for cmd in done.drain(..) {
                        let reply: &[u8] = if cmd == Some(b'm') {
                            &memory
                        } else {
                            b"$OK#9a"
                        };
                        if s.write_all(reply).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Bring a fresh session to the guest's endless loop in `spin`: break there, run to it,
/// keep it looping; the loop's pcs, from stepping round it.
fn to_loop(c: &mut Rsp, g: &Guest) -> Vec<u64> {
    assert_eq!(c.request(format!("Z0,{:x},2", g.spin).as_bytes()), b"OK");
    let stop = c.request(b"vCont;c");
    assert_eq!(
        stop.first(),
        Some(&b'T'),
        "{}",
        String::from_utf8_lossy(&stop)
    );
    assert_eq!(c.request(format!("z0,{:x},2", g.spin).as_bytes()), b"OK");
    let r = c.request(format!("M{:x},4:01000000", g.spin_forever).as_bytes());
    assert_eq!(r, b"OK");
    let mut pcs = Vec::new();
    // spin() prints a line first: step well past it, then find the loop's period.
    for _ in 0..400 {
        let r = c.request(b"vCont;s:p1.1");
        assert_eq!(r.first(), Some(&b'T'), "{}", String::from_utf8_lossy(&r));
        pcs.push(c.pc());
    }
    let n = pcs.len();
    let period = (2..=40)
        .find(|&p| pcs[n - p..] == pcs[n - 2 * p..n - p])
        .unwrap_or_else(|| panic!("no loop in the last steps: {pcs:x?}"));
    pcs[n - period..].to_vec()
}

/// The round trips against the server at `addr`, in group `{client}/{name}` (`client`:
/// `gdb`, a blocking client, or `gdb-poll`, a polling one).
fn bench_target(cr: &mut Criterion, client: &str, name: &str, addr: SocketAddr, g: &Guest) {
    let mut c = Rsp::connect(addr, client == "gdb-poll");
    let cycle = to_loop(&mut c, g);
    assert!(cycle.len() >= 3, "loop not found: {cycle:x?}");
    let mut grp = cr.benchmark_group(format!("{client}/{name}"));
    grp.sample_size(30);
    grp.measurement_time(Duration::from_secs(3));
    grp.bench_function("step", |b| {
        b.iter(|| {
            let r = c.request(b"vCont;s:p1.1");
            assert_eq!(r.first(), Some(&b'T'), "{}", String::from_utf8_lossy(&r));
        })
    });
    // A breakpoint on the loop's backward branch; each round sets pc to the loop's head
    // and continues, so the guest runs one whole iteration. (Starting mid-body would use
    // registers the skipped instructions set: a load through a stale pointer traps.)
    let back = (0..cycle.len())
        .find(|&i| cycle[(i + 1) % cycle.len()] < cycle[i])
        .unwrap_or_else(|| panic!("no backward branch in the loop: {cycle:x?}"));
    let bp = cycle[back];
    let from = cycle[(back + 1) % cycle.len()];
    assert_eq!(c.request(format!("Z0,{bp:x},2").as_bytes()), b"OK");
    let set_pc = {
        let mut p = b"P20=".to_vec();
        for byte in from.to_le_bytes() {
            p.extend_from_slice(format!("{byte:02x}").as_bytes());
        }
        p
    };
    grp.bench_function("pc_write", |b| {
        b.iter(|| assert_eq!(c.request(&set_pc), b"OK"))
    });
    // Try it once first: a server that never reports the stop is interrupted and skipped.
    assert_eq!(c.request(&set_pc), b"OK");
    c.send(b"vCont;c");
    c.set_timeout(Some(Duration::from_secs(5)));
    let stopped = c.try_reply().is_some();
    c.set_timeout(None);
    if !stopped {
        eprintln!(
            "{client}/{name}/cont_to_bp: no stop within 5 s of a continue to a breakpoint; skipped"
        );
        c.send_byte(0x03)
            .unwrap_or_else(|| panic!("interrupt not sent"));
        let _ = c.reply();
    }
    if stopped {
        grp.bench_function("cont_to_bp", |b| {
            b.iter(|| {
                assert_eq!(c.request(&set_pc), b"OK");
                let r = c.request(b"vCont;c");
                assert_eq!(r.first(), Some(&b'T'));
            })
        });
        // The continue's round trip alone, timed apart from the `P` that sets it up (the
        // difference of two criterion means carries the noise of both).
        grp.bench_function("cont", |b| {
            b.iter_custom(|n| {
                let mut t = Duration::ZERO;
                for _ in 0..n {
                    assert_eq!(c.request(&set_pc), b"OK");
                    let t0 = std::time::Instant::now();
                    let r = c.request(b"vCont;c");
                    t += t0.elapsed();
                    assert_eq!(r.first(), Some(&b'T'));
                }
                t
            })
        });
        grp.bench_function("p_after_stop", |b| {
            b.iter_custom(|n| {
                let mut t = Duration::ZERO;
                for _ in 0..n {
                    assert_eq!(c.request(&set_pc), b"OK");
                    let r = c.request(b"vCont;c");
                    assert_eq!(r.first(), Some(&b'T'));
                    let t0 = std::time::Instant::now();
                    assert_eq!(c.request(&set_pc), b"OK");
                    t += t0.elapsed();
                    // Back at the breakpoint, as the other measurements leave it.
                    let r = c.request(b"vCont;c");
                    assert_eq!(r.first(), Some(&b'T'));
                }
                t
            })
        });
        assert_eq!(c.pc(), bp);
    }
    assert_eq!(c.request(format!("z0,{bp:x},2").as_bytes()), b"OK");
    let z = format!("Z0,{:x},2", g.far);
    let zz = format!("z0,{:x},2", g.far);
    grp.bench_function("z0_pair", |b| {
        b.iter(|| {
            assert_eq!(c.request(z.as_bytes()), b"OK");
            assert_eq!(c.request(zz.as_bytes()), b"OK");
        })
    });
    grp.bench_function("g", |b| b.iter(|| c.request(b"g")));
    grp.bench_function("m4k", |b| b.iter(|| c.read_4k(g.spin & !0xfff)));
    grp.finish();
}

/// Each sample: a GDB session that gets the guest to its loop and then runs `what` N times;
/// criterion's linear sampling makes the slope the cost of one.
fn bench_gdb_e2e(
    cr: &mut Criterion,
    name: &str,
    g: &Guest,
    mut restart: impl FnMut() -> SocketAddr,
) {
    let mut grp = cr.benchmark_group(format!("gdb-e2e/{name}"));
    grp.sampling_mode(SamplingMode::Linear);
    grp.sample_size(10);
    grp.measurement_time(Duration::from_secs(20));
    let prelude = |addr_cmds: &mut Vec<String>| {
        addr_cmds.extend([
            "break spin".to_string(),
            "continue".to_string(),
            "delete".to_string(),
            "set var spin_forever = 1".to_string(),
        ]);
    };
    let elf = g.elf.clone();
    grp.bench_function("stepi", |b| {
        b.iter_custom(|n| {
            let addr = restart();
            let mut cmds = Vec::new();
            prelude(&mut cmds);
            cmds.push(format!("stepi {n}"));
            cmds.push("echo bench-done\\n".into());
            gdb_batch(&elf, &format!("target remote {addr}"), &cmds)
        })
    });
    // The breakpoint goes on the spin loop's body, which runs every iteration (an address a
    // few steps into spin() may lie on the path to the loop, hit once: the session hangs).
    let src = emu_tests::guest::sources().join("gdb/gdb_demo.c");
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let body = text
        .lines()
        .position(|l| l.contains("spins = spins + 1;"))
        .unwrap_or_else(|| panic!("no spin loop body in {}", src.display()))
        + 1;
    grp.bench_function("breakpoint_hit", |b| {
        b.iter_custom(|n| {
            let addr = restart();
            let mut cmds = Vec::new();
            prelude(&mut cmds);
            cmds.extend([
                format!("break gdb_demo.c:{body}"),
                "continue".to_string(),
                format!("continue {n}"),
                "echo bench-done\\n".into(),
            ]);
            gdb_batch(&elf, &format!("target remote {addr}"), &cmds)
        })
    });
    grp.finish();
}

fn benches(cr: &mut Criterion) {
    let _low_latency = emu_benches::low_latency();
    if !on_path("riscv64-unknown-elf-gcc") {
        eprintln!("riscv64-unknown-elf-gcc not found: the GDB benchmarks need it for their guest");
        return;
    }
    let g = guest();

    let floor = start_floor();
    let mut qemu = None;
    for client in ["gdb", "gdb-poll"] {
        let mut f = Rsp::raw(floor, client == "gdb-poll");
        f.ack = false;
        cr.bench_function(&format!("{client}/floor/round_trip"), |b| {
            b.iter(|| assert_eq!(f.request(b"g"), b"OK"))
        });
        // The same for a reply of 4 KiB, in one packet as emu sends it.
        f.packet_size = 0x4000;
        cr.bench_function(&format!("{client}/floor/m4k"), |b| b.iter(|| f.read_4k(0)));

        let (m, server, addr) = start_emu(&g.elf);
        bench_target(cr, client, "emu", addr, &g);
        drop(server);
        m.signals.exit_host();
        let _ = m.join();

        // A fresh QEMU for each client (it serves one, and the guest must start over).
        drop(qemu.take());
        qemu = start_qemu(&g.elf);
        if let Some((_, addr)) = &qemu {
            bench_target(cr, client, "qemu", *addr, &g);
        }
    }

    if !on_path("gdb-multiarch") {
        eprintln!("gdb-multiarch not found: end-to-end GDB benchmarks skipped");
        return;
    }
    let mut emu = None;
    bench_gdb_e2e(cr, "emu", &g, || {
        if let Some((m, server, _)) = emu.take() {
            drop::<Arc<GdbServer>>(server);
            let m: RunningMachine = m;
            m.signals.exit_host();
            let _ = m.join();
        }
        let (m, server, addr) = start_emu(&g.elf);
        emu = Some((m, server, addr));
        addr
    });
    if qemu.is_some() {
        bench_gdb_e2e(cr, "qemu", &g, || {
            qemu = None;
            let (q, addr) = start_qemu(&g.elf).unwrap_or_else(|| panic!("QEMU went away"));
            qemu = Some((q, addr));
            addr
        });
    }
}

criterion_group!(gdb, benches);
criterion_main!(gdb);
