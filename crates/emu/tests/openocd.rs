//! `emu --rbb-port` driven by unmodified OpenOCD 0.12 (and gdb-multiarch through OpenOCD)
//! with the project's config (`openocd/emu.cfg`), on the project's C guest
//! (`tests/guests/gdb`). The checks are Tcl scripts under `tests/openocd/`, run by OpenOCD
//! itself: each prints `ok <what>` or fails OpenOCD's run; the tests here count the oks and
//! check emu's side (its exit code, the DTM's statistics).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use emu_tests::process::{EmuProcess, collect, free_port};
use emu_tests::tool;

/// The guest, built once per test process.
fn guest() -> PathBuf {
    emu_tests::guest::cached("gdb", Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// The guest's symbols as a Tcl array (`sym(name)`).
fn symbols() -> String {
    let bytes = std::fs::read(guest()).expect("read the guest");
    let elf = emu_machine::elf::parse_elf(&bytes).expect("parse the guest");
    let names = [
        "main",
        "bump",
        "peek",
        "spin",
        "finish",
        "worker",
        "counter",
        "shared",
        "results",
        "spin_forever",
        "spins",
        "worker_ticks",
    ];
    let pairs: Vec<String> = names
        .iter()
        .map(|n| {
            let a = elf.symbol(n).unwrap_or_else(|| panic!("guest has no {n}"));
            format!("{n} {a:#x}")
        })
        .collect();
    format!("array set sym {{{}}}", pairs.join(" "))
}

/// A running `emu --rbb-port 0` (or `--rbb-socket`) and where it listens.
struct Target {
    p: EmuProcess,
    port: u16,
    /// The Tcl line that points `openocd/emu.cfg` at it.
    link: String,
}

impl Target {
    fn start(extra: &[&str]) -> Target {
        let elf = guest();
        let elf = elf.to_string_lossy();
        let mut args = vec!["--rbb-port", "0"];
        args.extend_from_slice(extra);
        args.push(&elf);
        let p = EmuProcess::start(
            Path::new(env!("CARGO_BIN_EXE_emu")),
            &args,
            "Listening for remote bitbang connection on port ",
        );
        let port = p
            .announced
            .trim_end_matches('.')
            .parse()
            .expect("emu announced a port number");
        Target {
            p,
            port,
            link: format!("set EMU_RBB_PORT {port}"),
        }
    }

    /// emu serving the probe on a Unix-domain socket.
    fn start_unix(extra: &[&str]) -> Target {
        // Not under the target directory: a socket path is limited to 107 bytes.
        let path = std::env::temp_dir().join(format!("emu-rbb-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let elf = guest();
        let elf = elf.to_string_lossy();
        let path_s = path.to_string_lossy().to_string();
        let mut args = vec!["--rbb-socket", &path_s];
        args.extend_from_slice(extra);
        args.push(&elf);
        let p = EmuProcess::start(
            Path::new(env!("CARGO_BIN_EXE_emu")),
            &args,
            "Listening for remote bitbang connection on ",
        );
        assert_eq!(p.announced.trim_end_matches('.'), path_s);
        Target {
            p,
            port: 0,
            link: format!("set EMU_RBB_SOCKET {path_s}"),
        }
    }

    /// The statistics line emu prints when a probe leaves: (DMI operations, busy answers).
    fn probe_left(&self) -> (u64, u64) {
        let line = self.p.wait_stderr("emu: remote bitbang probe left");
        let num = |after: &str| -> u64 {
            let words: Vec<&str> = line.split_whitespace().collect();
            let i = words
                .iter()
                .position(|w| w.starts_with(after))
                .unwrap_or_else(|| panic!("no {after:?} in {line:?}"));
            words[i - 1].parse().expect("a count")
        };
        (num("DMI"), num("answered"))
    }
}

fn script(name: &str) -> String {
    format!("{}/tests/openocd/{name}.tcl", env!("CARGO_MANIFEST_DIR"))
}

fn config() -> String {
    format!("{}/../../openocd/emu.cfg", env!("CARGO_MANIFEST_DIR"))
}

/// OpenOCD with the project's config on `port`, `vars` set first, then `scripts` after
/// `init`; with `gdb_port` (or without a GDB server) and in the background if `keep`.
fn openocd_cmd(t: &Target, vars: &[String], scripts: &[&str], gdb_port: Option<u16>) -> Command {
    let mut c = Command::new(tool("openocd"));
    c.args(["-c", &t.link]);
    for v in vars {
        c.args(["-c", v]);
    }
    c.args(["-c", &symbols()]);
    c.args(["-f", &config()]);
    match gdb_port {
        Some(p) => c.args(["-c", &format!("gdb_port {p}")]),
        None => c.args(["-c", "gdb_port disabled"]),
    };
    c.args(["-c", "tcl_port disabled", "-c", "telnet_port disabled"]);
    c.args(["-c", "init", "-f", &script("lib")]);
    for s in scripts {
        c.args(["-f", &script(s)]);
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Run `scripts` in OpenOCD against `t`, then shut OpenOCD down; OpenOCD's output, after
/// checking it succeeded and printed at least `min_oks` oks and `done`.
fn openocd(t: &Target, vars: &[String], scripts: &[&str], min_oks: usize, done: &str) -> String {
    let mut c = openocd_cmd(t, vars, scripts, None);
    c.args(["-c", "shutdown"]);
    let (out, ok) = collect(c.spawn().expect("start openocd"), Duration::from_secs(120));
    eprintln!("---- openocd ----\n{out}");
    assert!(ok, "openocd failed");
    let oks = out.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(oks >= min_oks, "{oks} checks passed, expected {min_oks}");
    assert!(out.lines().any(|l| l == done), "{done:?} missing");
    out
}

/// The register checks (`regs.tcl`) against `t`; OpenOCD's output.
fn registers(t: &Target) -> String {
    openocd(
        t,
        &[format!("set want_misa {MISA}")],
        &["regs"],
        40,
        "regs done",
    )
}

/// misa of emu's default RV64 hart: MXL = 2 and the letters A C D F I M S U.
const MISA: &str = "0x800000000014112f";

#[test]
fn examine_finds_the_hart_with_its_xlen_and_misa() {
    let t = Target::start(&["--halted"]);
    let out = openocd(
        &t,
        &[format!("set want_misa {MISA}")],
        &["examine"],
        4,
        "examine done",
    );
    for want in [
        "tap/device found: 0x1e5e0001",
        "datacount=12 progbufsize=16",
        "Examined RISC-V core; found 1 harts",
        &format!("hart 0: XLEN=64, misa={MISA}"),
    ] {
        assert!(out.contains(want), "{want:?} missing");
    }
}

#[test]
fn halt_resume_step() {
    let mut t = Target::start(&["--halted"]);
    openocd(&t, &[], &["run"], 9, "run done");
    resume_over_a_raw_probe(&t);
    assert_eq!(t.p.wait_exit(), Some(0), "the guest finished normally");
}

#[test]
fn all_registers_by_abstract_access() {
    let t = Target::start(&["--halted"]);
    let out = registers(&t);
    assert!(
        !out.contains("Disabling abstract command"),
        "emu's DM reaches every register with Access Register"
    );
}

#[test]
fn all_registers_through_the_program_buffer() {
    let t = Target::start(&["--halted", "--dm-abstract-gpr-only"]);
    let out = registers(&t);
    // OpenOCD found Access Register refused for FPRs and CSRs and fell back.
    assert!(out.contains("Disabling abstract command writes to CSRs"));
    assert!(out.contains("Disabling abstract command reads from FPRs"));
}

#[test]
fn memory_by_progbuf_sysbus_and_abstract() {
    let t = Target::start(&["--halted"]);
    openocd(&t, &[], &["mem"], 12 + 9 + 3, "mem done");
}

#[test]
fn hardware_breakpoints_and_watchpoints() {
    let mut t = Target::start(&["--halted"]);
    openocd(&t, &[], &["trig"], 7, "trig done");
    resume_over_a_raw_probe(&t);
    assert_eq!(t.p.wait_exit(), Some(0), "the guest finished normally");
}

#[test]
fn reset_halt_lands_at_the_reset_vector() {
    let t = Target::start(&["--halted"]);
    openocd(&t, &[], &["reset"], 5, "reset done");
}

#[test]
fn two_harts() {
    let t = Target::start(&["--halted", "--smp", "2"]);
    openocd(
        &t,
        &["set EMU_HARTS 2".to_string()],
        &["smp"],
        10,
        "smp done",
    );
}

#[test]
fn load_and_verify_an_image() {
    load_and_verify(&Target::start(&["--halted"]), "tcp");
}

#[test]
fn load_and_verify_over_a_unix_socket() {
    let t = Target::start_unix(&["--halted"]);
    load_and_verify(&t, "unix");
    let (ops, _) = t.probe_left();
    assert!(ops > 300 * 1024 / 4, "{ops} DMI operations");
}

fn load_and_verify(t: &Target, name: &str) {
    let image =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("openocd-image-{name}.bin"));
    let mut rng = emu_tests::Rng::new(7);
    let data: Vec<u8> = (0..300 * 1024).map(|_| rng.next_u64() as u8).collect();
    std::fs::write(&image, &data).expect("write the image");
    let out = openocd(
        t,
        &[
            format!("set image {}", image.display()),
            "set addr 0x80200000".to_string(),
        ],
        &["load"],
        3,
        "load done",
    );
    assert!(
        out.contains("verified 307200 bytes"),
        "verify_image's report"
    );
}

#[test]
fn busy_dmi_answers_are_recovered_with_dmireset() {
    // Every DMI operation wants 6 Run-Test/Idle cycles and the DTM advertises none:
    // OpenOCD meets `busy`, clears it with dmireset and backs off.
    let t = Target::start(&["--halted", "--jtag-min-idle", "6"]);
    registers(&t);
    let (ops, busy) = t.probe_left();
    assert!(busy > 0, "OpenOCD never saw busy");
    assert!(ops > 1000, "{ops} DMI operations");
}

#[test]
fn gdb_through_openocd() {
    let mut t = Target::start(&["--halted"]);
    let gport = free_port();
    let mut oc = openocd_cmd(&t, &[], &[], Some(gport))
        .spawn()
        .expect("start openocd");
    let mut gdb = Command::new(tool("gdb-multiarch"));
    gdb.args(["-batch", "-nx", "-ex", "set pagination off"])
        .arg(guest())
        .args(["-ex", &format!("target extended-remote :{gport}")])
        .args(["-ex", "hbreak bump", "-ex", "continue", "-ex", "continue"])
        .args(["-ex", "p counter", "-ex", "delete", "-ex", "watch counter"])
        .args([
            "-ex",
            "continue",
            "-ex",
            "p counter",
            "-ex",
            "stepi",
            "-ex",
            "p counter",
        ])
        .args(["-ex", "delete", "-ex", "stepi 50"])
        .args(["-ex", "info registers pc", "-ex", "p $mstatus"])
        .args(["-ex", "p square(7)"])
        // Let the guest run to its end.
        .args(["-ex", "monitor resume"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // OpenOCD needs a moment to examine the target and open its GDB port.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", gport)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "OpenOCD's GDB port never opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (out, _) = collect(gdb.spawn().expect("start gdb"), Duration::from_secs(120));
    eprintln!("---- gdb ----\n{out}");
    let _ = oc.kill();
    let _ = oc.wait();
    for want in [
        "Hardware assisted breakpoint 1 at",
        "Breakpoint 1, bump () at",
        "$1 = 1",
        "Hardware watchpoint 2: counter",
        // OpenOCD 0.12 finds the watchpoint that hit by decoding the instruction at dpc,
        // and knows only 32-bit loads and stores: the guest's `c.sw` stops GDB with a
        // plain SIGTRAP, before the store (the trigger's timing), in bump().
        "Program received signal SIGTRAP",
        "in bump () at",
        "$2 = 1",
        "$3 = 2",
        "pc             0x",
        "$5 = 49",
    ] {
        assert!(out.contains(want), "{want:?} missing from GDB's output");
    }
    assert_eq!(t.p.wait_exit(), Some(0), "the guest ran to its end");
}

/// remote_bitbang letters for clocking `bits` (TMS, TDI) into the TAP.
fn clocks(bits: &[(bool, bool)]) -> Vec<u8> {
    let mut s = Vec::new();
    for &(tms, tdi) in bits {
        let v = (u8::from(tms) << 1) | u8::from(tdi);
        s.extend_from_slice(&[b'0' + v, b'0' + (4 | v)]);
    }
    s
}

/// A 41-bit `dmi` scan: op 2 (write) of dmcontrol (address 0x10) = resumereq | dmactive.
const RESUME_SCAN: u64 = (0x10 << 34) | (0x4000_0001 << 2) | 2;

/// (TMS, TDI) pairs from anywhere to Shift-DR of `dmi`: Test-Logic-Reset, Run-Test/Idle,
/// IR = 0x11, Update-IR, Run-Test/Idle, Select-DR, Capture-DR, Shift-DR.
fn to_dmi_shift_dr() -> Vec<(bool, bool)> {
    let mut bits = vec![(true, false); 5];
    bits.extend([(false, false), (true, false), (true, false), (false, false)]);
    bits.push((false, false));
    bits.extend((0..5).map(|i| (i == 4, (0x11 >> i) & 1 == 1)));
    bits.extend([(true, false), (false, false), (true, false), (false, false)]);
    bits.push((false, false));
    bits
}

/// Resumes hart 0 with one whole DMI scan (dmcontrol = resumereq | dmactive) from a raw
/// remote_bitbang client, then quits.
fn resume_over_a_raw_probe(t: &Target) {
    use std::io::Write;
    // One probe at a time: wait until emu has seen OpenOCD leave.
    let _ = t.probe_left();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", t.port)).expect("connect");
    let mut bits = to_dmi_shift_dr();
    // All 41 bits; the last one leaves Shift-DR.
    bits.extend((0..41).map(|i| (i == 40, (RESUME_SCAN >> i) & 1 == 1)));
    // Update-DR (the write happens), then idle cycles for it to complete.
    bits.push((true, false));
    bits.extend([(false, false); 8]);
    let mut out = clocks(&bits);
    out.push(b'Q');
    s.write_all(&out).expect("send the resume scan");
}

#[test]
fn garbage_disconnects_and_a_second_probe_leave_the_dm_consistent() {
    use std::io::{Read, Write};
    let mut t = Target::start(&["--halted"]);
    let addr = ("127.0.0.1", t.port);
    {
        // Noise, reads and resets: every R and c is answered, the rest ignored.
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.write_all(b"\x00\xffhello\r\nR012R~~~BbcR").expect("send");
        let mut got = [0u8; 4];
        s.read_exact(&mut got).expect("replies");
        assert!(got.iter().all(|&b| b == b'0' || b == b'1'), "{got:?}");
        // A second probe while this one is connected is closed at once.
        let mut second = std::net::TcpStream::connect(addr).expect("connect a second probe");
        let mut b = [0u8; 1];
        assert_eq!(second.read(&mut b).ok(), Some(0), "second probe refused");
        // Select `dmi`, then leave in the middle of a scan writing dmcontrol with
        // resumereq: the write must never happen (Update-DR was not reached), so the next
        // session still finds the hart halted at the reset vector.
        let mut bits = to_dmi_shift_dr();
        bits.extend((0..40).map(|i| (false, (RESUME_SCAN >> i) & 1 == 1)));
        s.write_all(&clocks(&bits)).expect("send");
    }
    let (ops, _) = t.probe_left();
    assert_eq!(ops, 0, "a scan cut short started no DMI operation");
    // A whole session afterwards sees the hart halted at the reset vector, as it was.
    openocd(&t, &[], &["run"], 9, "run done");
    resume_over_a_raw_probe(&t);
    assert_eq!(t.p.wait_exit(), Some(0), "the guest finished normally");
}
