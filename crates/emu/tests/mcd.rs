//! `emu --mcd-port` end to end: the emu binary on its built-in demo guest, driven over TCP
//! by a client speaking the MCD protocol as the reference client stub does (compact JSON
//! objects, no separators, one reply line each).

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use emu_tests::process::EmuProcess;
use serde_json::{Value, json};

struct Mcd {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Mcd {
    fn connect(addr: &str) -> Mcd {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Mcd {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }

    fn cmd(&mut self, name: &str, args: Value) -> Value {
        // The reference client puts `arguments` first.
        let text = format!("{{\"arguments\":{args},\"execute\":\"{name}\"}}");
        self.w.write_all(text.as_bytes()).unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        let r = v["return"].clone();
        assert_eq!(r["return-status"], 0, "{name}: {v}");
        r
    }

    fn pc(&mut self, uid: u64) -> u64 {
        let r = self.cmd(
            "mcd-execute-txlist",
            json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
                {"addr": {"address": 32, "mem-space-id": 3, "addr-space-id": 0, "addr-space-type": 0},
                 "access-type": 1, "options": 0, "access-width": 0, "core-mode": 0,
                 "data": [0, 0, 0, 0, 0, 0, 0, 0], "num-bytes": 8, "num-bytes-ok": 0}
            ], "num-tx-ok": 0}}),
        );
        let d: Vec<u8> = serde_json::from_value(r["txlist"]["tx"][0]["data"].clone()).unwrap();
        u64::from_le_bytes(d.try_into().unwrap())
    }
}

fn emu(args: &[&str]) -> EmuProcess {
    EmuProcess::start(
        Path::new(env!("CARGO_BIN_EXE_emu")),
        args,
        "emu: MCD server listening on ",
    )
}

#[test]
fn an_mcd_client_steps_the_demo_and_runs_it_to_its_end() {
    let mut p = emu(&["--mcd-port", "0", "--halted"]);
    let mut c = Mcd::connect(&p.announced);
    c.cmd(
        "mcd-initialize",
        json!({"version-req": {"v-api-major": 1, "v-api-minor": 1, "author": "emu-test"}}),
    );
    let r = c.cmd(
        "mcd-open-server",
        json!({"system-key": "", "config-string": ""}),
    );
    assert_eq!(r["server-uid"], 1);
    let sys = c.cmd(
        "mcd-qry-systems",
        json!({"start-index": 0, "num-systems": 1}),
    );
    let cores = c.cmd(
        "mcd-qry-cores",
        json!({"connection-info": sys["system-con-info"][0], "start-index": 0, "num-cores": 1}),
    );
    let core = cores["core-con-info"][0].clone();
    let uid = c.cmd("mcd-open-core", json!({"core-con-info": core}))["core-uid"]
        .as_u64()
        .unwrap();
    assert_eq!(c.pc(uid), 0x1000, "halted at the reset vector");
    // The binary gives the server its memory map: ROM at the reset vector, RAM at 2 GiB.
    let blocks = c.cmd(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 1, "start-index": 0, "num-mem-blocks": 16}),
    );
    let names: Vec<(&str, u64)> = blocks["mem-blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["mem-block-name"].as_str().unwrap(),
                b["start-addr"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(names.contains(&("rom", 0x1000)), "{blocks}");
    assert!(names.contains(&("ram", 0x8000_0000)), "{blocks}");
    c.cmd(
        "mcd-step",
        json!({"core-uid": uid, "global": true, "step-type": 2, "n-steps": 1}),
    );
    assert_eq!(c.pc(uid), 0x1004);
    c.cmd("mcd-run", json!({"core-uid": uid, "global": false}));
    // The demo finishes and emu exits with its code; the connection closes.
    let t = Instant::now();
    let code = loop {
        if !p.running() {
            break p.wait_exit();
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the demo never ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0));
    p.wait_console_prefix("hart 0 retired ");
}

#[test]
fn mcd_and_gdb_share_the_debug_module_and_jtag_is_refused_with_them() {
    let p = emu(&["--mcd-port", "0", "--gdb-port", "0", "--halted"]);
    let gdb = p.wait_stderr("emu: GDB server listening on ");
    assert!(gdb.contains("127.0.0.1:"), "{gdb}");
    let mut c = Mcd::connect(&p.announced);
    c.cmd(
        "mcd-open-server",
        json!({"system-key": "", "config-string": ""}),
    );
    drop(p);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emu"))
        .args(["--mcd-port", "0", "--rbb-port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--mcd-port and --rbb-port"), "{err}");
}

#[test]
fn the_port_defaults_to_1235_and_the_address_can_be_chosen() {
    let p = emu(&["--halted", "--mcd-listen", "127.0.0.1", "--mcd-port"]);
    assert_eq!(p.announced, "127.0.0.1:1235");
}
