//! The GDB server against bad input over a real socket: garbage, bad checksums, malformed,
//! unknown, oversized and truncated packets, a disconnect mid-command, a second client. Each
//! gets an error reply or a refusal; the server keeps serving and the guest keeps running.
//! And how the server reads GDB while the guest runs.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use emu_asm::Asm;
use emu_asm::reg::*;
use emu_core::{Engine, Interpreter};
use emu_gdb::{GdbServer, Host, Quiet, Region, WithExecFile};
use emu_isa::Xlen;
use emu_machine::{Console, Machine, MachineConfig, RunningMachine};
use emu_runctl::RunControl;
use emu_tests::race::Homing;

const BASE: u64 = 0x8000_0000;

/// A guest that counts in s0 forever.
fn counter_elf() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let lp = a.here();
    a.addi(S0, S0, 1);
    a.j(lp);
    let code = a.finish().expect("assembles");
    emu_asm::elf::write_elf(Xlen::X64, BASE, &code, BASE, &[])
}

struct NoHost;

impl Host for NoHost {
    fn exit_code(&self) -> Option<i32> {
        None
    }
    fn memory_map(&self) -> Vec<Region> {
        vec![Region {
            start: BASE,
            len: 1 << 20,
            rom: false,
        }]
    }
    fn kill(&self) {}
}

fn start() -> (RunningMachine, Arc<GdbServer>, SocketAddr) {
    let (m, server, addr, _) = start_rc();
    (m, server, addr)
}

/// [`start`], and the run-control API the server uses.
fn start_rc() -> (RunningMachine, Arc<GdbServer>, SocketAddr, Arc<RunControl>) {
    start_on(Arc::new(NoHost))
}

/// [`start_rc`] with `host` for what lies outside the harts.
/// Close the server, end the machine, and check that no hart failed.
fn finish(m: RunningMachine, server: Arc<GdbServer>) {
    drop(server);
    m.signals.exit_host();
    assert!(m.join().failed.is_empty());
}

fn start_on(host: Arc<dyn Host>) -> (RunningMachine, Arc<GdbServer>, SocketAddr, Arc<RunControl>) {
    start_elf(host, &counter_elf())
}

/// [`start_on`] with another guest.
fn start_elf(
    host: Arc<dyn Host>,
    elf: &[u8],
) -> (RunningMachine, Arc<GdbServer>, SocketAddr, Arc<RunControl>) {
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        harts: 1,
        console,
        ram_size: 1 << 20,
        engine: Some(Arc::new(|_| {
            Box::new(Interpreter::default()) as Box<dyn Engine>
        })),
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, elf).expect("machine").start();
    let rc = Arc::new(RunControl::new(m.dm.clone()).expect("run control"));
    let server = GdbServer::new(rc.clone(), host);
    let addr = server.listen("127.0.0.1:0").expect("listen");
    (m, server, addr, rc)
}

fn checksum(p: &[u8]) -> u8 {
    p.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

fn packet(p: &[u8]) -> Vec<u8> {
    let mut v = vec![b'$'];
    v.extend_from_slice(p);
    v.extend_from_slice(format!("#{:02x}", checksum(p)).as_bytes());
    v
}

/// A raw RSP client in ack mode.
struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).expect("connect");
        // As GDB does: a Ctrl-C right after a packet is not held back for its ack.
        s.set_nodelay(true).expect("nodelay");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Client { s, buf: Vec::new() }
    }

    fn send_raw(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("send");
    }

    /// The next reply packet's body (acks skipped); None when the server closed.
    fn reply(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'$')
                && let Some(j) = self.buf[i..].iter().position(|&b| b == b'#')
                && self.buf.len() >= i + j + 3
            {
                let body = emu_tests::rsp::unrle(&self.buf[i + 1..i + j]);
                self.buf.drain(..i + j + 3);
                self.send_raw(b"+");
                return Some(body);
            }
            let mut b = [0u8; 4096];
            match self.s.read(&mut b) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&b[..n]),
            }
        }
    }

    fn request(&mut self, p: &[u8]) -> Vec<u8> {
        self.send_raw(&packet(p));
        self.reply().expect("a reply")
    }

    /// A `monitor` command (`qRcmd`): its console output, up to the final `OK` (or the
    /// error reply, as `Err`).
    fn monitor(&mut self, cmd: &str) -> Result<String, Vec<u8>> {
        self.send_raw(&packet(format!("qRcmd,{}", hex(cmd.as_bytes())).as_bytes()));
        let mut out = Vec::new();
        loop {
            let r = self.reply().expect("a reply");
            if r == b"OK" {
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            match r.first() {
                Some(b'O') => out.extend(unhex(&r[1..])),
                _ => return Err(r),
            }
        }
    }

    /// The hart's pc through `p20` (little-endian hex).
    fn pc(&mut self) -> u64 {
        le_hex(&self.request(b"p20"))
    }

    /// The hart's s0 through `p8` (little-endian hex).
    fn s0(&mut self) -> u64 {
        let r = self.request(b"p8");
        let bytes: Vec<u8> = (0..8)
            .map(|i| {
                u8::from_str_radix(
                    std::str::from_utf8(&r[2 * i..2 * i + 2]).unwrap_or("zz"),
                    16,
                )
                .expect("hex")
            })
            .collect();
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }

    /// Continue and interrupt (each stop reply a `T`) until the guest's loop counter moved
    /// past `before`: on a busy host the hart's thread may not get a core for a while, but
    /// a guest that never runs fails after 10 s.
    fn run_past(&mut self, before: u64) {
        let t = std::time::Instant::now();
        loop {
            self.send_raw(&packet(b"vCont;c"));
            std::thread::sleep(Duration::from_millis(50));
            self.send_raw(b"\x03");
            let stop = self.reply().expect("stop reply");
            assert_eq!(stop[0], b'T', "{}", String::from_utf8_lossy(&stop));
            let now = self.s0();
            if now > before {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the guest did not run"
            );
        }
    }
}

fn is_error(r: &[u8]) -> bool {
    r.first() == Some(&b'E')
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(h: &[u8]) -> Vec<u8> {
    h.chunks(2)
        .map(|d| u8::from_str_radix(std::str::from_utf8(d).unwrap_or("zz"), 16).expect("hex"))
        .collect()
}

/// A register's value from its little-endian hex.
fn le_hex(h: &[u8]) -> u64 {
    unhex(h).iter().rev().fold(0, |v, &b| v << 8 | u64::from(b))
}

/// A `vFile` reply, `F` result [`;` binary data] or `F-1,errno`: the result (minus the
/// errno for an error) and the data, unescaped.
fn file_reply(r: &[u8]) -> (i64, Vec<u8>) {
    let text_end = r.iter().position(|&b| b == b';').unwrap_or(r.len());
    let text = std::str::from_utf8(&r[..text_end]).expect("text");
    let text = text.strip_prefix('F').expect("an F reply");
    if let Some(errno) = text.strip_prefix("-1,") {
        return (-i64::from_str_radix(errno, 16).expect("hex"), Vec::new());
    }
    let mut data = Vec::new();
    let mut it = r.get(text_end + 1..).unwrap_or(&[]).iter();
    while let Some(&b) = it.next() {
        data.push(if b == b'}' {
            it.next().expect("escaped byte") ^ 0x20
        } else {
            b
        });
    }
    (i64::from_str_radix(text, 16).expect("hex"), data)
}

#[test]
fn bad_packets_get_errors_and_the_session_goes_on() {
    let (m, server, addr) = start();
    let mut c = Client::connect(addr);
    assert!(
        c.request(b"qSupported:multiprocess+")
            .starts_with(b"PacketSize=")
    );
    // Garbage between packets is skipped.
    c.send_raw(b"hello, world\r\n");
    assert_eq!(c.request(b"?")[0], b'T');
    // A bad checksum is refused with '-'; the packet is not executed.
    c.send_raw(b"$M80000000,4:00000000#00");
    let mut nak = [0u8; 1];
    c.s.read_exact(&mut nak).expect("nak");
    assert_eq!(&nak, b"-");
    assert_eq!(
        c.request(b"m80000000,4"),
        b"13041400".to_vec(),
        "code unchanged"
    );
    // Malformed arguments: errors in the protocol's form.
    for p in [
        &b"mzz,4"[..],
        b"m80000000",
        b"M80000000,4:0g",
        b"Z0,zz,4",
        b"pzz",
        b"P1000=00",
        b"m80000000,ffffffffffffffffffffff",
        b"qXfer:features:read:nope.xml:0,100",
    ] {
        let r = c.request(p);
        assert!(
            is_error(&r) || r.is_empty(),
            "{:?} -> {:?}",
            String::from_utf8_lossy(p),
            String::from_utf8_lossy(&r)
        );
    }
    // A thread that doesn't exist: selecting it is accepted, using it is an error.
    assert_eq!(c.request(b"Hgp1.7"), b"OK".to_vec());
    assert!(is_error(&c.request(b"g")));
    assert!(is_error(&c.request(b"m80000000,4")));
    assert_eq!(c.request(b"Hgp1.1"), b"OK".to_vec());
    assert_eq!(c.request(b"m80000000,4"), b"13041400".to_vec());
    // All registers: `g` is x0-x31 and the pc, 8 bytes each; `G` writes them back (here with
    // s0 changed); a short `G` is an error and writes nothing.
    let g = c.request(b"g");
    assert_eq!(g.len(), 33 * 16, "{}", String::from_utf8_lossy(&g));
    let mut regs = g.clone();
    regs[8 * 16..9 * 16].copy_from_slice(b"efcdab8967452301");
    let mut packet_g = b"G".to_vec();
    packet_g.extend_from_slice(&regs);
    assert_eq!(c.request(&packet_g), b"OK".to_vec());
    assert_eq!(c.s0(), 0x0123_4567_89ab_cdef);
    assert_eq!(c.request(b"g"), regs);
    assert!(is_error(&c.request(&packet_g[..packet_g.len() - 2])));
    assert_eq!(c.s0(), 0x0123_4567_89ab_cdef);
    packet_g[1 + 8 * 16..1 + 9 * 16].copy_from_slice(&g[8 * 16..9 * 16]);
    assert_eq!(c.request(&packet_g), b"OK".to_vec());
    // Binary data shorter than its length: written as far as it goes (as gdbstub does).
    assert_eq!(c.request(b"X80080000,8:ab"), b"OK".to_vec());
    // Unknown packets: the empty reply.
    assert_eq!(c.request(b"vBogus;1"), b"".to_vec());
    assert_eq!(c.request(b"qNothingLikeThis"), b"".to_vec());
    // Memory that isn't there: an error, not a crash.
    assert!(is_error(&c.request(b"m40000000,10")));
    // In no-ack mode too, a packet the stub cannot parse gets an error and nothing else.
    assert_eq!(c.request(b"QStartNoAckMode"), b"OK".to_vec());
    c.send_raw(&packet(b"mzz,4"));
    assert_eq!(c.reply(), Some(b"E01".to_vec()));
    assert_eq!(c.request(b"m80000000,4"), b"13041400".to_vec());
    // A packet the stub cannot parse while the guest runs: the error ends the continue and
    // the harts are halted, so GDB and the machine agree that it stopped.
    c.send_raw(&packet(b"vCont;c"));
    std::thread::sleep(Duration::from_millis(20));
    c.send_raw(&packet(b"mzz,4"));
    assert_eq!(c.reply(), Some(b"E01".to_vec()));
    let a = c.s0();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        c.s0(),
        a,
        "the guest still runs after the session was recovered"
    );
    // Still serving: a register read, and the guest runs and stops on request.
    let before = c.s0();
    c.run_past(before);
    drop(c);
    finish(m, server);
}

/// `m` replies (encoded by the server itself, not by gdbstub) hold the memory, byte for
/// byte, whatever its runs of equal digits, with acknowledgements and without; a read
/// past the end of RAM returns what is there; a length whose reply would exceed the packet
/// size is an error; a NAK gets the same reply again.
#[test]
fn memory_replies_hold_the_memory() {
    let (m, server, addr) = start();
    let mut c = Client::connect(addr);
    assert_eq!(c.request(b"?")[0], b'T');
    // 4 KiB of runs of every length from 1 to 99 (digit runs of up to 198), some of
    // them of equal digits across bytes (0x00, 0x11, ...), some not (0x12).
    let mut mem = Vec::new();
    let mut k = 1;
    while mem.len() < 4096 {
        let b = [0x00u8, 0x11, 0x12, 0xff, 0x70][k % 5];
        mem.extend(std::iter::repeat_n(b, k));
        mem.push(k as u8);
        k = k % 99 + 1;
    }
    mem.truncate(4096);
    let hex: Vec<u8> = mem
        .iter()
        .flat_map(|b| format!("{b:02x}").into_bytes())
        .collect();
    let mut write = b"M80080000,1000:".to_vec();
    write.extend_from_slice(&hex);
    assert_eq!(c.request(&write), b"OK".to_vec());
    for noack in [false, true] {
        if noack {
            assert_eq!(c.request(b"QStartNoAckMode"), b"OK".to_vec());
        }
        assert_eq!(c.request(b"m80080000,1000"), hex, "no-ack mode: {noack}");
        // Any window: odd starts and lengths.
        assert_eq!(
            c.request(b"m80080123,2f1"),
            hex[0x246..0x246 + 0x5e2].to_vec()
        );
        // RAM ends at 0x80100000: the 8 bytes before it.
        assert_eq!(c.request(b"m800ffff8,10").len(), 16);
        assert!(is_error(&c.request(b"m80100000,10")));
        // The most a reply of PacketSize (0x4000) holds, and one byte more: refused, not
        // built.
        assert_eq!(c.request(b"m80080000,1ffe").len(), 0x3ffc);
        assert!(is_error(&c.request(b"m80080000,1fff")));
        assert!(is_error(&c.request(b"m80000000,7fffffff")));
        // Lengths too large for any integer, missing or not hex: errors, the session on.
        assert!(is_error(&c.request(b"m80000000,fffffffffffffffffffff")));
        assert!(is_error(&c.request(b"m80000000")));
        assert!(is_error(&c.request(b"m80000000,zz")));
        assert_eq!(c.request(b"m80080000,2"), hex[..4].to_vec());
        if !noack {
            // A NAK: the last reply again.
            let r = c.request(b"m80080000,40");
            c.send_raw(b"-");
            assert_eq!(c.reply(), Some(r));
        }
    }
    drop(c);
    finish(m, server);
}

#[test]
fn oversized_and_truncated_packets_end_only_that_session() {
    let (m, server, addr) = start();
    // A packet far larger than the advertised PacketSize.
    let mut c = Client::connect(addr);
    assert_eq!(c.request(b"?")[0], b'T');
    let mut big = vec![b'$'];
    big.extend(std::iter::repeat_n(b'a', 1 << 20));
    big.extend_from_slice(b"#00");
    let _ = c.s.write_all(&big);
    // An error reply, and the session goes on.
    assert_eq!(c.reply(), Some(b"E01".to_vec()));
    assert_eq!(c.request(b"?")[0], b'T');
    drop(c);
    // A packet cut off mid-way by a disconnect.
    let mut c = Client::connect(addr);
    c.send_raw(b"$m80000000,4");
    drop(c);
    // A disconnect while the guest runs (mid `continue`).
    let mut c = Client::connect(addr);
    c.send_raw(&packet(b"vCont;c"));
    std::thread::sleep(Duration::from_millis(20));
    drop(c);
    // The server still serves, and the guest ran on meanwhile.
    let mut c = Client::connect(addr);
    let a = c.s0();
    c.run_past(a);
    drop(c);
    finish(m, server);
}

/// Host I/O serves the guest's ELF and nothing else: GDB started without a file reads it
/// from emu. Other paths, writes, unknown descriptors and endless opens get errnos in the
/// protocol's form; `info threads` text for a hart that doesn't exist is empty. Without a
/// file (an embedded guest) neither is offered.
#[test]
fn host_io_serves_the_guest_elf_and_nothing_else() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gdb_input_host_io");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let elf = dir.join("counter.elf");
    let bytes = counter_elf();
    std::fs::write(&elf, &bytes).expect("write the ELF");
    let path = elf.to_str().expect("a UTF-8 path").as_bytes().to_vec();

    let (m, server, addr, _) = start_on(Arc::new(WithExecFile {
        host: NoHost,
        path: elf.clone(),
    }));
    let mut c = Client::connect(addr);
    let sup = c.request(b"qSupported:multiprocess+;qRelocInsn+");
    assert!(
        sup.windows(21).any(|w| w == b"qXfer:exec-file:read+"),
        "{}",
        String::from_utf8_lossy(&sup)
    );
    // `m` and a part, until `l` (the end), as `qXfer` reads go.
    let mut name = Vec::new();
    loop {
        let r = c.request(format!("qXfer:exec-file:read::{:x},10", name.len()).as_bytes());
        name.extend_from_slice(&r[1..]);
        if r[0] == b'l' {
            break;
        }
        assert_eq!(r[0], b'm', "{}", String::from_utf8_lossy(&r));
    }
    assert_eq!(name, path);
    let open = |c: &mut Client, p: &[u8], flags: u32| {
        file_reply(&c.request(format!("vFile:open:{},{flags:x},0", hex(p)).as_bytes())).0
    };
    let fd = open(&mut c, &path, 0);
    assert_eq!(fd, 0);
    // fstat: GDB's struct stat, big-endian; st_size at byte 28.
    let (n, st) = file_reply(&c.request(b"vFile:fstat:0"));
    assert_eq!(n, 64);
    let size = u64::from_be_bytes(st[28..36].try_into().expect("8 bytes"));
    assert_eq!(size, bytes.len() as u64);
    // The whole file in small reads, as GDB reads it.
    let mut read = Vec::new();
    loop {
        let (n, data) =
            file_reply(&c.request(format!("vFile:pread:0,61,{:x}", read.len()).as_bytes()));
        assert_eq!(n as usize, data.len());
        if n == 0 {
            break;
        }
        read.extend(data);
    }
    assert_eq!(read, bytes);
    let f = |c: &mut Client, p: &[u8]| file_reply(&c.request(p)).0;
    assert_eq!(f(&mut c, b"vFile:close:0"), 0);
    // Refused, each in the protocol's form (EBADF 9, EACCES 13, EMFILE 24).
    assert_eq!(f(&mut c, b"vFile:close:0"), -9);
    assert_eq!(f(&mut c, b"vFile:pread:5,10,0"), -9);
    assert_eq!(f(&mut c, b"vFile:pread:ffffffff,10,0"), -9);
    assert_eq!(f(&mut c, b"vFile:fstat:1"), -9);
    assert_eq!(open(&mut c, b"/etc/passwd", 0), -13);
    assert_eq!(open(&mut c, &path[..path.len() - 1], 0), -13);
    for write in [1, 2, 8, 0x200, 0x400, 0x601] {
        assert_eq!(open(&mut c, &path, write), -13, "flags {write:#x}");
    }
    assert!(
        std::fs::read(&elf).is_ok_and(|b| b == bytes),
        "the file is unchanged"
    );
    let fds: Vec<i64> = (0..9).map(|_| open(&mut c, &path, 0)).collect();
    assert_eq!(fds, [0, 1, 2, 3, 4, 5, 6, 7, -24]);
    assert_eq!(f(&mut c, b"vFile:close:3"), 0);
    assert_eq!(
        open(&mut c, &path, 0),
        3,
        "a closed descriptor is used again"
    );
    assert_eq!(
        file_reply(&c.request(b"vFile:pread:3,4,0")),
        (4, b"\x7fELF".to_vec())
    );
    // `info threads`: the hart and its mode; nothing for a thread that doesn't exist.
    assert_eq!(
        c.request(b"qThreadExtraInfo,p1.1"),
        hex(b"hart 0, M-mode").into_bytes()
    );
    assert_eq!(c.request(b"qThreadExtraInfo,p1.9"), b"".to_vec());
    assert_eq!(c.request(b"?")[0], b'T');
    drop(c);
    finish(m, server);

    // Without a file: neither exec-file nor Host I/O (the empty reply: not supported).
    let (m, server, addr) = start();
    let mut c = Client::connect(addr);
    let sup = c.request(b"qSupported:multiprocess+");
    assert!(!sup.windows(10).any(|w| w == b"exec-file:"));
    assert_eq!(c.request(b"qXfer:exec-file:read::0,1000"), b"".to_vec());
    let r = c.request(format!("vFile:open:{},0,0", hex(&path)).as_bytes());
    assert_eq!(r, b"".to_vec());
    assert_eq!(c.request(b"?")[0], b'T');
    drop(c);
    finish(m, server);
}

/// `monitor catch`: a caught illegal instruction stops the guest at its trap handler and
/// GDB hears SIGILL; `catch off` lets it run through its traps; bad causes get an error;
/// a detach takes the catches out.
#[test]
fn caught_traps_are_reported_as_signals() {
    // loop: addi s0,s0,1; <illegal>; j loop. The handler steps over the illegal word.
    let mut a = Asm::new(Xlen::X64, BASE);
    let handler = a.label();
    a.la(T0, handler);
    a.csrw(0x305, T0); // mtvec
    let lp = a.here();
    a.addi(S0, S0, 1);
    let illegal = a.pc();
    a.word(0);
    a.j(lp);
    a.bind(handler);
    let handler_at = a.pc();
    a.csrr(T2, 0x341); // mepc
    a.addi(T2, T2, 4);
    a.csrw(0x341, T2);
    a.op0(emu_isa::Op::Mret);
    let code = a.finish().expect("assembles");
    let elf = emu_asm::elf::write_elf(Xlen::X64, BASE, &code, BASE, &[]);
    let (m, server, addr, _) = start_elf(Arc::new(NoHost), &elf);

    let mut c = Client::connect(addr);
    assert_eq!(c.request(b"?")[0], b'T');
    let bad = c.monitor("catch exception bogus").expect("console output");
    assert!(bad.contains("no exception cause \"bogus\""), "{bad}");
    assert!(
        c.monitor("catch")
            .expect("listed")
            .contains("no trap catches")
    );
    let armed = c.monitor("catch exception illegal").expect("armed");
    assert!(armed.contains("exceptions illegal (2)"), "{armed}");
    assert!(
        c.monitor("catch")
            .expect("listed")
            .contains("catch exceptions illegal (2)")
    );
    for _ in 0..3 {
        let stop = c.request(b"vCont;c");
        assert!(
            stop.starts_with(b"T04"),
            "SIGILL: {}",
            String::from_utf8_lossy(&stop)
        );
        assert_eq!(c.pc(), handler_at, "stopped at the handler");
        assert_eq!(le_hex(&c.request(b"p382")), illegal, "mepc"); // 65 + 0x341
        assert_eq!(le_hex(&c.request(b"p383")), 2, "mcause"); // 65 + 0x342
    }
    let off = c.monitor("catch off").expect("removed");
    assert!(off.contains("1 trap catches removed"), "{off}");
    let before = c.s0();
    c.run_past(before + 10);
    // A detach removes them: the next client finds none.
    c.monitor("catch exception").expect("armed");
    assert_eq!(c.request(b"D"), b"OK".to_vec());
    drop(c);
    let mut c = Client::connect(addr);
    assert!(
        c.monitor("catch")
            .expect("listed")
            .contains("no trap catches")
    );
    drop(c);
    finish(m, server);
}

#[test]
fn a_second_client_is_refused_while_the_first_works() {
    let (m, server, addr) = start();
    let mut first = Client::connect(addr);
    assert_eq!(first.request(b"?")[0], b'T');
    let mut second = Client::connect(addr);
    second.send_raw(&packet(b"?"));
    assert_eq!(second.reply(), None, "the second client was served");
    assert_eq!(first.request(b"?")[0], b'T');
    drop(first);
    // Once the first has gone, a new client is served.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = Client::connect(addr);
        c.send_raw(&packet(b"?"));
        if let Some(r) = c.reply() {
            assert_eq!(r[0], b'T');
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never served again");
    }
    finish(m, server);
}

/// GDB's bytes in fixed chunks, one per read, with a log of what the server told the reader.
struct Script {
    chunks: VecDeque<Vec<u8>>,
    quiet: Arc<Mutex<Vec<bool>>>,
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(c) = self.chunks.pop_front() else {
            return Ok(0);
        };
        buf[..c.len()].copy_from_slice(&c);
        Ok(c.len())
    }
}

impl Quiet for Script {
    fn set_quiet(&mut self, quiet: bool) {
        self.quiet.lock().expect("log").push(quiet);
    }
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_reader_stops_polling_while_the_guest_runs_and_polls_again_after_the_stop() {
    let (m, server, _) = start();
    let quiet = Arc::new(Mutex::new(Vec::new()));
    let script = Script {
        chunks: VecDeque::from([
            packet(b"?"),
            packet(b"vCont;c"),
            b"\x03".to_vec(),
            packet(b"?"),
        ]),
        quiet: quiet.clone(),
    };
    let out = Sink::default();
    server.serve(script, Box::new(out.clone()));
    // After `?` GDB's next packet comes at once; after the continue nothing comes until the
    // stop but a Ctrl-C; after the Ctrl-C's stop reply the requests come again.
    assert_eq!(*quiet.lock().expect("log"), [false, true, false, false]);
    let out = String::from_utf8_lossy(&out.0.lock().expect("sink")).into_owned();
    assert!(out.contains("$T02"), "no SIGINT stop reply: {out}");
    finish(m, server);
}

/// Replies to a log; the write of a stop reply from any thread but `reader` (the hook's,
/// on the thread that reports the stop) asks from yet another thread whether a debugger
/// is connected, which takes the server's session, and notes whether that came back
/// while the write was under way.
struct StopSink {
    out: Arc<Mutex<Vec<u8>>>,
    server: std::sync::Weak<GdbServer>,
    reader: std::thread::ThreadId,
    /// Per stop reply written by the hook: whether the session was free meanwhile.
    free: Arc<(Mutex<Vec<bool>>, std::sync::Condvar)>,
}

impl Write for StopSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.out.lock().expect("out").extend_from_slice(b);
        if std::thread::current().id() != self.reader
            && b.windows(2).any(|w| w == b"$T")
            && let Some(server) = self.server.upgrade()
        {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(server.connected());
            });
            let free = rx.recv_timeout(Duration::from_secs(2)) == Ok(true);
            let (log, cv) = &*self.free;
            log.lock().expect("log").push(free);
            cv.notify_all();
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// GDB's packets, the last ones held back until the hook has written a stop reply.
struct AfterStop {
    before: VecDeque<Vec<u8>>,
    after: VecDeque<Vec<u8>>,
    free: Arc<(Mutex<Vec<bool>>, std::sync::Condvar)>,
}

impl Read for AfterStop {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let c = match self.before.pop_front() {
            Some(c) => c,
            None => {
                let (log, cv) = &*self.free;
                let g = log.lock().expect("log");
                let _g = cv
                    .wait_timeout_while(g, Duration::from_secs(10), |l| l.is_empty())
                    .expect("log");
                match self.after.pop_front() {
                    Some(c) => c,
                    None => return Ok(0),
                }
            }
        };
        buf[..c.len()].copy_from_slice(&c);
        Ok(c.len())
    }
}

impl Quiet for AfterStop {
    fn set_quiet(&mut self, _: bool) {}
}

/// The thread that reports a running hart's stop writes the stop reply with the session
/// let go of: GDB's next packet, sent the moment the reply arrives, must not wait for that
/// thread (which the wake-up of GDB may just have taken the core from).
#[test]
fn a_stop_reply_is_written_with_the_session_free() {
    let (m, server, _) = start();
    let free = Arc::new((Mutex::new(Vec::new()), std::sync::Condvar::new()));
    let out = Arc::new(Mutex::new(Vec::new()));
    let sink = StopSink {
        out: out.clone(),
        server: Arc::downgrade(&server),
        reader: std::thread::current().id(),
        free: free.clone(),
    };
    let script = AfterStop {
        before: VecDeque::from([
            packet(b"?"),
            packet(format!("Z0,{:x},4", BASE + 4).as_bytes()),
            packet(b"vCont;c"),
        ]),
        after: VecDeque::from([packet(b"?")]),
        free: free.clone(),
    };
    server.serve(script, Box::new(sink));
    let out = String::from_utf8_lossy(&out.lock().expect("out")).into_owned();
    assert_eq!(
        *free.0.lock().expect("log"),
        [true],
        "one stop reply, written with the session free: {out}"
    );
    assert_eq!(out.matches("$T05").count(), 3, "{out}");
    finish(m, server);
}

/// A Ctrl-C that comes as the hart stops on its own, here on a hardware breakpoint, is
/// answered with that stop, as the hart's state says, not with a SIGINT: the breakpoint's
/// own report then finds the stub stopped and is dropped, and GDB would never hear of it
/// (for a watchpoint, of which one fired and where).
#[test]
fn a_ctrl_c_racing_a_breakpoint_reports_what_stopped_the_hart() {
    let (m, server, addr, rc) = start_rc();
    let mut c = Client::connect(addr);
    assert_eq!(c.request(b"?")[0], b'T');
    assert_eq!(c.request(format!("Z1,{:x},4", BASE + 4).as_bytes()), b"OK");
    let (mut by_bp, mut by_ctrl_c) = (0, 0);
    // The Ctrl-C goes about when the breakpoint comes back.
    let mut meet = Homing::new(1, Duration::from_micros(20));
    for i in 0..600 {
        c.send_raw(&packet(b"vCont;c"));
        meet.wait();
        c.send_raw(b"\x03");
        let stop = String::from_utf8_lossy(&c.reply().expect("a stop reply")).into_owned();
        let cause = rc.stop_event(0).expect("halted").cause;
        if stop.starts_with("T05") && stop.contains("hwbreak") {
            assert!(
                matches!(cause, emu_runctl::StopCause::Trigger(Some(_))),
                "iteration {i}: {stop} for {cause:?}"
            );
            by_bp += 1;
            meet.hart_won();
        } else {
            assert!(stop.starts_with("T02"), "iteration {i}: {stop}");
            assert_eq!(
                cause,
                emu_runctl::StopCause::HaltRequest,
                "iteration {i}: a SIGINT for a hart that stopped on its own"
            );
            by_ctrl_c += 1;
            meet.request_won();
        }
    }
    eprintln!("{by_bp} stops on the breakpoint, {by_ctrl_c} by the interrupt");
    assert!(by_bp > 0 && by_ctrl_c > 0, "both won some races");
    drop(c);
    finish(m, server);
}
