//! JTAG through unmodified OpenOCD 0.12, measured in one run against an in-process emu
//! (JIT engine) serving remote_bitbang:
//!
//! - `jtag/floor/round_trip`: a blocking loopback TCP round trip (1 byte each way), the
//!   least any remote_bitbang exchange costs here;
//! - `jtag/emu/dmi_scan`: emu's side alone: a client that sends the letters of one DMI
//!   scan (a `dmstatus` read, 41 bits, as OpenOCD shapes it) and waits for its 41 TDO bits;
//! - `jtag/openocd/*` over TCP, through OpenOCD's Tcl RPC server: `tcl_round_trip` (an
//!   `expr`, OpenOCD's own overhead), `step`, `reg_read` (`get_reg -force`, one GPR), and
//!   `load_image`/`dump_image` of 64 KiB by system bus and by program buffer (KiB/s);
//! - `jtag/openocd-unix/*`: the same transfers over `--rbb-socket` (a Unix-domain socket);
//! - `jtag/gdb-e2e/stepi`: gdb-multiarch's `stepi` through OpenOCD's GDB server, the slope
//!   over sessions of growing N (criterion's linear sampling) so start-up drops out.
//!
//! `cargo bench -p emu-benches --bench jtag` (skipped with a note without openocd or the
//! RISC-V cross compiler; the gdb part without gdb-multiarch).
//!
//! With `EMU_BENCH_LOW_LATENCY=1` the host's idle CPUs are held polling for the run
//! (`emu --low-latency`; see `docs/performance.md`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use emu_benches::{free_port, gdb_batch, on_path};
use emu_jtag::{Dtm, DtmConfig, RbbServer};
use emu_machine::RunningMachine;

const IMAGE: usize = 64 * 1024;
const LOAD_AT: u64 = 0x8020_0000;

struct Guest {
    elf: PathBuf,
    spin: u64,
    spin_forever: u64,
}

fn guest(dir: &Path) -> Guest {
    let elf = emu_tests::guest::build("gdb", dir);
    let bytes = std::fs::read(&elf).unwrap_or_else(|e| panic!("{e}"));
    let parsed = emu_machine::elf::parse_elf(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let sym = |n: &str| parsed.symbol(n).unwrap_or_else(|| panic!("no symbol {n}"));
    Guest {
        spin: sym("spin"),
        spin_forever: sym("spin_forever"),
        elf,
    }
}

/// emu, halted at its reset vector, serving remote_bitbang on TCP and on `sock`.
fn start_emu(elf: &Path, sock: &Path) -> (RunningMachine, SocketAddr) {
    let bytes = std::fs::read(elf).unwrap_or_else(|e| panic!("{e}"));
    let m = emu_benches::start_halted_jit(&bytes);
    let dtm = || {
        Dtm::new(
            m.dm.clone(),
            DtmConfig {
                min_idle: 0,
                idle_hint: 0,
            },
        )
    };
    let addr = RbbServer::new(dtm())
        .listen("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_file(sock);
    RbbServer::new(dtm())
        .listen_unix(sock)
        .unwrap_or_else(|e| panic!("{e}"));
    (m, addr)
}

/// OpenOCD with the project's config, its Tcl RPC server and GDB server on free ports.
struct OpenOcd {
    child: Child,
    tcl: TcpStream,
    gdb_port: u16,
}

impl Drop for OpenOcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OpenOcd {
    fn start(link: &str) -> OpenOcd {
        let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/../openocd/emu.cfg");
        let (tcl_port, gdb_port) = (free_port(), free_port());
        let child = Command::new("openocd")
            .args(["-c", link, "-f", cfg])
            .args(["-c", &format!("tcl_port {tcl_port}")])
            .args(["-c", &format!("gdb_port {gdb_port}")])
            .args(["-c", "telnet_port disabled", "-c", "init", "-c", "halt"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("openocd: {e}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        let tcl = loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", tcl_port)) {
                break s;
            }
            assert!(Instant::now() < deadline, "OpenOCD's Tcl port never opened");
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = tcl.set_nodelay(true);
        let mut o = OpenOcd {
            child,
            tcl,
            gdb_port,
        };
        // The Tcl server opens before `halt` has run; this waits for it.
        o.tcl("wait_halt 5000");
        o
    }

    /// One Tcl command through OpenOCD's RPC server (each message ends with 0x1a).
    fn tcl(&mut self, cmd: &str) -> String {
        let mut msg = cmd.as_bytes().to_vec();
        msg.push(0x1a);
        self.tcl
            .write_all(&msg)
            .unwrap_or_else(|e| panic!("tcl: {e}"));
        let mut out = Vec::new();
        let mut b = [0u8; 4096];
        loop {
            let n = self.tcl.read(&mut b).unwrap_or_else(|e| panic!("tcl: {e}"));
            assert!(n > 0, "OpenOCD closed its Tcl port after {cmd:?}");
            out.extend_from_slice(&b[..n]);
            if out.last() == Some(&0x1a) {
                out.pop();
                return String::from_utf8_lossy(&out).into_owned();
            }
        }
    }
}

/// Bring the hart to the guest's endless loop: hardware breakpoint at `spin`, run to it,
/// and make the loop endless so stepping never leaves it.
fn to_loop(o: &mut OpenOcd, g: &Guest) {
    o.tcl(&format!("bp {:#x} 4 hw", g.spin));
    o.tcl("resume");
    o.tcl("wait_halt 5000");
    o.tcl(&format!("rbp {:#x}", g.spin));
    o.tcl(&format!("write_memory {:#x} 32 {{1}}", g.spin_forever));
    let pc = o.tcl("dict get [get_reg -force {pc}] pc");
    assert_eq!(
        u64::from_str_radix(pc.trim().trim_start_matches("0x"), 16).ok(),
        Some(g.spin),
        "not at spin: {pc}"
    );
}

fn bench_transfers(cr: &mut Criterion, group: &str, o: &mut OpenOcd, image: &Path) {
    let mut grp = cr.benchmark_group(group);
    grp.throughput(Throughput::Bytes(IMAGE as u64));
    grp.sample_size(10);
    grp.measurement_time(Duration::from_secs(15));
    let dump = image.with_extension("dump");
    for method in ["sysbus", "progbuf"] {
        o.tcl(&format!("riscv set_mem_access {method}"));
        grp.bench_function(format!("load_64k/{method}"), |b| {
            b.iter(|| o.tcl(&format!("load_image {} {LOAD_AT:#x} bin", image.display())))
        });
        grp.bench_function(format!("dump_64k/{method}"), |b| {
            b.iter(|| {
                o.tcl(&format!(
                    "dump_image {} {LOAD_AT:#x} {IMAGE}",
                    dump.display()
                ))
            })
        });
        let back = std::fs::read(&dump).unwrap_or_default();
        let want = std::fs::read(image).unwrap_or_default();
        assert!(
            back == want,
            "{method}: dump_image differs from the loaded image"
        );
    }
    o.tcl("riscv set_mem_access progbuf sysbus abstract");
    grp.finish();
}

/// One DMI scan as OpenOCD sends it, from Run-Test/Idle and back: each bit is a clock-low
/// write, an `R` and a clock-high write; the reply is one character per `R`.
fn dmi_scan_letters(addr: u32, op: u32, data: u32) -> Vec<u8> {
    let v: u64 = (u64::from(addr) << 34) | (u64::from(data) << 2) | u64::from(op);
    let mut out = Vec::new();
    let clock = |tms: bool, tdi: bool, read: bool, out: &mut Vec<u8>| {
        let bits = u8::from(tms) << 1 | u8::from(tdi);
        out.push(b'0' + bits);
        if read {
            out.push(b'R');
        }
        out.push(b'0' + 4 + bits);
    };
    // Idle -> Select-DR -> Capture-DR -> Shift-DR.
    for tms in [true, false, false] {
        clock(tms, false, false, &mut out);
    }
    for i in 0..41 {
        clock(i == 40, (v >> i) & 1 != 0, true, &mut out);
    }
    // Exit1-DR -> Update-DR -> Idle.
    for tms in [true, false] {
        clock(tms, false, false, &mut out);
    }
    out
}

/// Select the DMI register (IR 0x11) from Test-Logic-Reset.
fn select_dmi() -> Vec<u8> {
    let mut out = Vec::new();
    let mut clock = |tms: bool, tdi: bool| {
        let bits = u8::from(tms) << 1 | u8::from(tdi);
        out.push(b'0' + bits);
        out.push(b'0' + 4 + bits);
    };
    for _ in 0..5 {
        clock(true, false);
    }
    // Reset -> Idle -> Select-DR -> Select-IR -> Capture-IR -> Shift-IR.
    for tms in [false, true, true, false, false] {
        clock(tms, false);
    }
    for i in 0..5 {
        clock(i == 4, (0x11 >> i) & 1 != 0);
    }
    // Exit1-IR -> Update-IR -> Idle.
    for tms in [true, false] {
        clock(tms, false);
    }
    out
}

fn bench_raw(cr: &mut Criterion, rbb: SocketAddr) {
    // The loopback floor: an echo of one byte.
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let echo = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.set_nodelay(true);
            let mut b = [0u8; 1];
            while s.read_exact(&mut b).is_ok() && s.write_all(&b).is_ok() {}
        }
    });
    let mut e = TcpStream::connect(echo).unwrap_or_else(|e| panic!("{e}"));
    let _ = e.set_nodelay(true);
    cr.bench_function("jtag/floor/round_trip", |b| {
        b.iter(|| {
            let mut r = [0u8; 1];
            e.write_all(b"R").unwrap_or_else(|e| panic!("{e}"));
            e.read_exact(&mut r).unwrap_or_else(|e| panic!("{e}"));
        })
    });

    let mut s = TcpStream::connect(rbb).unwrap_or_else(|e| panic!("{e}"));
    let _ = s.set_nodelay(true);
    s.write_all(&select_dmi()).unwrap_or_else(|e| panic!("{e}"));
    // Activate the Debug Module (dmcontrol.dmactive), as a debugger does first.
    let mut tdo = [0u8; 41];
    s.write_all(&dmi_scan_letters(0x10, 2, 1))
        .unwrap_or_else(|e| panic!("{e}"));
    s.read_exact(&mut tdo).unwrap_or_else(|e| panic!("{e}"));
    // A dmstatus read; its result comes back with the next scan's TDO bits.
    let scan = dmi_scan_letters(0x11, 1, 0);
    cr.bench_function("jtag/emu/dmi_scan", |b| {
        b.iter(|| {
            s.write_all(&scan).unwrap_or_else(|e| panic!("{e}"));
            s.read_exact(&mut tdo).unwrap_or_else(|e| panic!("{e}"));
        })
    });
    // Two more reads (the benchmark may have been filtered out): the second captures the
    // first's dmstatus, version 3 (1.0) in bits 3:0 of the data field.
    for _ in 0..2 {
        s.write_all(&scan).unwrap_or_else(|e| panic!("{e}"));
        s.read_exact(&mut tdo).unwrap_or_else(|e| panic!("{e}"));
    }
    let data = tdo[2..34]
        .iter()
        .rev()
        .fold(0u32, |a, &c| a << 1 | u32::from(c == b'1'));
    assert_eq!(data & 0xf, 3, "dmstatus.version through the raw client");
    // Quit, and wait for emu to close the probe so that OpenOCD finds the slot free.
    let _ = s.write_all(b"Q");
    let _ = s.read(&mut [0u8; 1]);
}

fn benches(cr: &mut Criterion) {
    let _low_latency = emu_benches::low_latency();
    if !on_path("riscv64-unknown-elf-gcc") || !on_path("openocd") {
        eprintln!("openocd or riscv64-unknown-elf-gcc missing: JTAG benchmarks skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("emu-bench-jtag-{}", std::process::id()));
    let g = guest(&dir);
    let sock = dir.join("rbb.sock");
    let (m, rbb) = start_emu(&g.elf, &sock);
    bench_raw(cr, rbb);

    let image = dir.join("image.bin");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..IMAGE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&image, &data).unwrap_or_else(|e| panic!("{e}"));

    let mut o = OpenOcd::start(&format!("set EMU_RBB_PORT {}", rbb.port()));
    to_loop(&mut o, &g);
    {
        let mut grp = cr.benchmark_group("jtag/openocd");
        grp.bench_function("tcl_round_trip", |b| b.iter(|| o.tcl("expr 1")));
        grp.bench_function("step", |b| b.iter(|| o.tcl("step")));
        grp.bench_function("reg_read", |b| {
            b.iter(|| o.tcl("dict get [get_reg -force {a0}] a0"))
        });
        grp.finish();
    }
    bench_transfers(cr, "jtag/openocd", &mut o, &image);

    if on_path("gdb-multiarch") {
        let mut grp = cr.benchmark_group("jtag/gdb-e2e");
        grp.sampling_mode(SamplingMode::Linear);
        grp.sample_size(10);
        grp.measurement_time(Duration::from_secs(30));
        let port = o.gdb_port;
        grp.bench_function("stepi", |b| {
            b.iter_custom(|n| {
                gdb_batch(
                    &g.elf,
                    &format!("target extended-remote 127.0.0.1:{port}"),
                    &[
                        format!("stepi {n}"),
                        "echo bench-done\\n".into(),
                        "detach".into(),
                    ],
                )
            })
        });
        grp.finish();
    } else {
        eprintln!("gdb-multiarch not found: jtag/gdb-e2e skipped");
    }
    drop(o);

    let mut o = OpenOcd::start(&format!("set EMU_RBB_SOCKET {}", sock.display()));
    bench_transfers(cr, "jtag/openocd-unix", &mut o, &image);
    drop(o);

    m.signals.exit_host();
    let _ = m.join();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(jtag, benches);
criterion_main!(jtag);
