//! The MCD server's commands against a running machine (JIT engine), in-process through
//! [`emu_mcd::Session`] and over TCP: the hierarchy, memory spaces and registers,
//! transaction lists, run/stop/step and state, triggers (IP before the instruction,
//! READ/WRITE after the access), resets, and bad input answered in the protocol's form.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emu_core::Engine;
use emu_jit::{JitConfig, JitEngine};
use emu_machine::{Console, Machine, MachineConfig, RunningMachine};
use emu_mcd::session::{Flow, ServerInfo};
use emu_mcd::{BlockKind, McdServer, MemBlock, Session};
use emu_runctl::RunControl;
use serde_json::{Value, json};

use emu_tests::debug_loop::{BASE, DATA};

const STORE_AT: u64 = BASE + emu_tests::debug_loop::STORE_AT;
const LOAD_AT: u64 = BASE + emu_tests::debug_loop::LOAD_AT;
const AFTER_LOAD: u64 = LOAD_AT + 4;

fn guest() -> Vec<u8> {
    emu_tests::debug_loop::elf()
}

fn start(harts: usize) -> (RunningMachine, Arc<RunControl>) {
    start_with(harts, &guest(), true)
}

fn start_with(harts: usize, elf: &[u8], halted: bool) -> (RunningMachine, Arc<RunControl>) {
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        harts,
        console,
        halted,
        engine: Some(Arc::new(|_| {
            Box::new(JitEngine::new(JitConfig::default()).unwrap()) as Box<dyn Engine>
        })),
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, elf).unwrap().start();
    let rc = Arc::new(RunControl::new(m.dm.clone()).unwrap());
    (m, rc)
}

/// A memory map like the emu binary's: a ROM, a device and RAM.
fn test_map() -> Vec<MemBlock> {
    let b = |name: &str, start, len, kind| MemBlock {
        name: name.into(),
        start,
        len,
        kind,
    };
    vec![
        b("rom", 0x1000, 0xf000, BlockKind::Rom),
        b("uart", 0x1000_0000, 0x100, BlockKind::Mmio),
        b("ram", BASE, 128 << 20, BlockKind::Ram),
    ]
}

fn stop(m: RunningMachine) {
    m.signals.exit_host();
    assert!(m.join().failed.is_empty());
}

/// A client on a session: sends a command, returns the `return` object.
struct Client {
    s: Session,
}

impl Client {
    fn new(rc: &Arc<RunControl>) -> Client {
        Client {
            s: Session::new(
                rc.clone(),
                ServerInfo {
                    host: "127.0.0.1".into(),
                    port: 1235,
                    memory_map: test_map(),
                },
            ),
        }
    }

    fn raw(&mut self, text: &str) -> Value {
        let (line, flow) = self.s.handle(text.as_bytes());
        assert_eq!(flow, Flow::Continue);
        assert!(!line.contains('\n'), "one line per reply");
        serde_json::from_str(&line).unwrap()
    }

    fn cmd(&mut self, name: &str, args: Value) -> Value {
        let r = self.raw(&json!({"execute": name, "arguments": args}).to_string());
        r.get("return")
            .cloned()
            .unwrap_or_else(|| panic!("{name}: no return in {r}"))
    }

    /// A command that must succeed.
    fn ok(&mut self, name: &str, args: Value) -> Value {
        let r = self.cmd(name, args);
        assert_eq!(
            r["return-status"],
            0,
            "{name} failed: {r}; {}",
            self.error(1)
        );
        r
    }

    /// A command that must fail with `code`; the error text.
    fn fails(&mut self, name: &str, args: Value, code: u32) -> String {
        let r = self.cmd(name, args.clone());
        assert_eq!(r["return-status"], 3, "{name} {args} should fail: {r}");
        let extra: Vec<&String> = r
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "return-status")
            .collect();
        // A failed transaction list reports what it did; other failures only their status.
        let allowed: &[&str] = if name == "mcd-execute-txlist" {
            &["txlist"]
        } else {
            &[]
        };
        assert!(
            extra.iter().all(|k| allowed.contains(&k.as_str())),
            "a failure carries only its status: {r}"
        );
        let uid = args.get("core-uid").and_then(Value::as_u64).unwrap_or(0);
        let e = self.cmd("mcd-qry-error-info", json!({"core-uid": uid}));
        assert_eq!(e["error-code"], code, "{name}: {e}");
        e["error-str"].as_str().unwrap().to_string()
    }

    fn error(&mut self, uid: u32) -> Value {
        self.cmd("mcd-qry-error-info", json!({"core-uid": uid}))
    }

    /// Open the server and core `h`: its uid.
    fn open(&mut self, h: u32) -> u32 {
        if self.cmd(
            "mcd-qry-servers",
            json!({"host": "", "running": true, "start-index": 0, "num-servers": 0}),
        )["return-status"]
            == 0
        {
            let _ = self.cmd(
                "mcd-open-server",
                json!({"system-key": "", "config-string": ""}),
            );
        }
        let r = self.ok("mcd-open-core", json!({"core-con-info": {"core-id": h}}));
        r["core-uid"].as_u64().unwrap() as u32
    }

    fn read_reg(&mut self, uid: u32, regnum: u64) -> u64 {
        let r = self.ok(
            "mcd-execute-txlist",
            json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
                {"addr": {"address": regnum, "mem-space-id": 3}, "access-type": 1, "num-bytes": 8, "data": [0,0,0,0,0,0,0,0]}
            ]}}),
        );
        let d: Vec<u8> = serde_json::from_value(r["txlist"]["tx"][0]["data"].clone()).unwrap();
        u64::from_le_bytes(d.try_into().unwrap())
    }

    fn write_reg(&mut self, uid: u32, regnum: u64, v: u64) {
        self.ok(
            "mcd-execute-txlist",
            json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
                {"addr": {"address": regnum, "mem-space-id": 3}, "access-type": 2, "num-bytes": 8, "data": v.to_le_bytes()}
            ]}}),
        );
    }

    fn state(&mut self, uid: u32) -> Value {
        self.ok("mcd-qry-state", json!({"core-uid": uid}))["state"].clone()
    }

    /// Poll until the core is in DEBUG (as clients do after mcd-run).
    fn wait_debug(&mut self, uid: u32) -> Value {
        let t = Instant::now();
        loop {
            let st = self.state(uid);
            if st["state"] == 3 {
                return st;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "never stopped: {st}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

const PC: u64 = 32;
const A0: u64 = 10;

#[test]
fn hierarchy_versions_and_opening() {
    let (m, rc) = start(2);
    let mut c = Client::new(&rc);
    let r = c.ok(
        "mcd-initialize",
        json!({"version-req": {"v-api-major": 1, "v-api-minor": 1, "author": "test"}}),
    );
    assert_eq!(r["impl-info"]["v-api"]["v-api-major"], 1);
    let e = c.fails(
        "mcd-initialize",
        json!({"version-req": {"v-api-major": 2, "v-api-minor": 0, "author": "test"}}),
        0xf00,
    );
    assert!(e.contains("incompatible versions"), "{e}");

    let r = c.ok(
        "mcd-qry-servers",
        json!({"host": "", "running": true, "start-index": 0, "num-servers": 0}),
    );
    assert_eq!(r["num-servers"], 1);
    assert!(r.get("server-info").is_none(), "count only");
    let r = c.ok(
        "mcd-qry-servers",
        json!({"host": "", "running": true, "start-index": 0, "num-servers": 5}),
    );
    assert_eq!(r["server-info"].as_array().unwrap().len(), 1);
    c.fails(
        "mcd-qry-servers",
        json!({"host": "", "running": true, "start-index": 1, "num-servers": 1}),
        0x102,
    );

    // Nothing below the server before it is open.
    c.fails(
        "mcd-qry-systems",
        json!({"start-index": 0, "num-systems": 0}),
        0x200,
    );
    let r = c.ok(
        "mcd-open-server",
        json!({"system-key": "", "config-string": "x=1"}),
    );
    assert_eq!(r["server-uid"], 1);
    assert_eq!(r["config-string"], "x=1");
    let e = c.fails(
        "mcd-open-server",
        json!({"system-key": "", "config-string": ""}),
        0x200,
    );
    assert!(e.contains("server already open"), "{e}");

    let sys = c.ok(
        "mcd-qry-systems",
        json!({"start-index": 0, "num-systems": 1}),
    );
    let sys = sys["system-con-info"][0].clone();
    assert_eq!(sys["system"], "emu");
    let dev = c.ok(
        "mcd-qry-devices",
        json!({"system-con-info": sys, "start-index": 0, "num-devices": 1}),
    );
    let dev = dev["device-con-info"][0].clone();
    assert_eq!(dev["device-type"], 0x1e5e_0001);
    for info in [&sys, &dev] {
        let r = c.ok(
            "mcd-qry-cores",
            json!({"connection-info": info, "start-index": 0, "num-cores": 0}),
        );
        assert_eq!(r["num-cores"], 2);
    }
    let r = c.ok(
        "mcd-qry-cores",
        json!({"connection-info": dev, "start-index": 1, "num-cores": 8}),
    );
    assert_eq!(r["num-cores"], 1, "one core from index 1");
    let core1 = r["core-con-info"][0].clone();
    assert_eq!(core1["core-id"], 1);
    assert_eq!(core1["core-type"], 243);

    let r = c.ok("mcd-open-core", json!({"core-con-info": core1}));
    assert_eq!(r["core-uid"], 2);
    c.fails("mcd-open-core", json!({"core-con-info": core1}), 0x200);
    c.fails(
        "mcd-open-core",
        json!({"core-con-info": {"core-id": 7}}),
        0x102,
    );
    c.fails("mcd-qry-state", json!({"core-uid": 1}), 0x102); // not open
    c.ok("mcd-close-core", json!({"core-uid": 2}));
    c.fails("mcd-qry-state", json!({"core-uid": 2}), 0x102);
    c.ok("mcd-close-server", json!({"server-uid": 1}));
    c.fails(
        "mcd-qry-systems",
        json!({"start-index": 0, "num-systems": 0}),
        0x200,
    );
    drop(c);
    stop(m);
}

#[test]
fn spaces_registers_and_transaction_lists() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    let r = c.ok(
        "mcd-qry-mem-spaces",
        json!({"core-uid": uid, "start-index": 0, "num-mem-spaces": 8}),
    );
    let names: Vec<&str> = r["mem-spaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["mem-space-name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["PHYSICAL", "LOGICAL", "REGISTERS"]);

    let r = c.ok(
        "mcd-qry-reg-groups",
        json!({"core-uid": uid, "start-index": 0, "num-reg-groups": 8}),
    );
    let g = &r["reg-groups"][0];
    assert_eq!(g["reg-group-name"], "org.gnu.gdb.riscv.cpu");
    assert_eq!(g["n-registers"], 33);
    let all = c.ok(
        "mcd-qry-reg-map",
        json!({"core-uid": uid, "reg-group-id": 0, "start-index": 0, "num-regs": 0}),
    );
    let n = all["num-regs"].as_u64().unwrap();
    assert!(n > 33 + 32 + 20, "{n} registers");
    let r = c.ok(
        "mcd-qry-reg-map",
        json!({"core-uid": uid, "reg-group-id": 0, "start-index": 0, "num-regs": n}),
    );
    let regs = r["reg-info"].as_array().unwrap();
    let names: Vec<&str> = regs
        .iter()
        .map(|x| x["regname"].as_str().unwrap())
        .collect();
    assert_eq!(names.iter().filter(|&&x| x == "pc").count(), 1);
    let unique: std::collections::HashSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "names are unique");
    let mstatus = regs.iter().find(|x| x["regname"] == "mstatus").unwrap();
    assert_eq!(mstatus["addr"]["address"], 65 + 0x300, "GDB's numbering");
    c.fails(
        "mcd-qry-reg-map",
        json!({"core-uid": uid, "reg-group-id": 9, "start-index": 0, "num-regs": 1}),
        0x1441,
    );

    // Registers: the hart was halted at the reset vector.
    assert_eq!(c.read_reg(uid, PC), 0x1000);
    c.write_reg(uid, A0, 0x1122_3344_5566_7788);
    assert_eq!(c.read_reg(uid, A0), 0x1122_3344_5566_7788);
    // A partial register write keeps the other bytes; a partial read gives the low ones.
    let r = c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 2, "tx": [
        {"addr": {"address": A0, "mem-space-id": 3}, "access-type": 2, "num-bytes": 2, "data": [0xaa, 0xbb]},
        {"addr": {"address": A0, "mem-space-id": 3}, "access-type": 1, "num-bytes": 4, "data": [0, 0, 0, 0]},
    ]}}));
    assert_eq!(r["txlist"]["num-tx-ok"], 2);
    assert_eq!(
        r["txlist"]["tx"][1]["data"],
        json!([0xaa, 0xbb, 0x66, 0x55])
    );
    assert_eq!(r["txlist"]["tx"][1]["num-bytes-ok"], 4);

    // Memory: written physically, read logically (id 0 too), at every width.
    let bytes: Vec<u8> = (1..=16).collect();
    c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": DATA + 0x100, "mem-space-id": 1}, "access-type": 2, "num-bytes": 16, "data": bytes}
    ]}}));
    for (space, width) in [(0, 0), (2, 1), (2, 2), (1, 4), (1, 8)] {
        let r = c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
            {"addr": {"address": DATA + 0x100, "mem-space-id": space}, "access-type": 1, "access-width": width, "num-bytes": 16, "data": vec![0u8; 16]}
        ]}}));
        assert_eq!(
            r["txlist"]["tx"][0]["data"],
            json!(bytes),
            "space {space} width {width}"
        );
    }
    // RW returns what was there and leaves the new bytes; WR reads back what it wrote.
    let r = c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 2, "tx": [
        {"addr": {"address": DATA + 0x100, "mem-space-id": 1}, "access-type": 3, "num-bytes": 2, "data": [9, 9]},
        {"addr": {"address": DATA + 0x102, "mem-space-id": 1}, "access-type": 4, "num-bytes": 2, "data": [7, 7]},
    ]}}));
    assert_eq!(r["txlist"]["tx"][0]["data"], json!([1, 2]));
    assert_eq!(r["txlist"]["tx"][1]["data"], json!([7, 7]));
    let r = c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": DATA + 0x100, "mem-space-id": 1}, "access-type": 1, "num-bytes": 5, "data": vec![0u8; 5]}
    ]}}));
    assert_eq!(r["txlist"]["tx"][0]["data"], json!([9, 9, 7, 7, 5]));

    // Failures name the transaction; the count and the space are checked.
    let e = c.fails("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 2, "tx": [
        {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 1, "num-bytes": 4, "data": vec![0u8; 4]},
        {"addr": {"address": 0x5000_0000u64, "mem-space-id": 1}, "access-type": 1, "num-bytes": 4, "data": vec![0u8; 4]},
    ]}}), 0x2100);
    assert!(e.starts_with("transaction 1"), "{e}");
    c.fails(
        "mcd-execute-txlist",
        json!({"core-uid": uid, "txlist": {"num-tx": 3, "tx": []}}),
        0x2102,
    );
    c.fails("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": 0, "mem-space-id": 9}, "access-type": 1, "num-bytes": 4, "data": vec![0u8; 4]}
    ]}}), 0x1410);
    c.fails("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 1, "num-bytes": 4_000_000_000u32, "data": []}
    ]}}), 0x2102);
    c.fails("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": 99999, "mem-space-id": 3}, "access-type": 1, "num-bytes": 8, "data": vec![0u8; 8]}
    ]}}), 0x2100);
    c.fails("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 7, "num-bytes": 4, "data": vec![0u8; 4]}
    ]}}), 0x2102);

    // A transaction list in any member order, with an id, answers the same; one the quick
    // parse cannot take (a byte of 256, a member of the wrong type) gets the general
    // path's error; another command that merely mentions it is not taken for it.
    let tx = json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 1, "num-bytes": 3, "data": [0, 0, 0]}]}});
    c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 2, "num-bytes": 3, "data": [1, 200, 37]}]}}));
    let plain = c.cmd("mcd-execute-txlist", tx.clone());
    assert_eq!(plain["txlist"]["tx"][0]["data"], json!([1, 200, 37]));
    let r = c.raw(&format!(
        r#"{{"id": {{"n": [7]}}, "arguments": {tx}, "execute": "mcd-execute-txlist"}}"#
    ));
    assert_eq!(r, json!({"return": plain, "id": {"n": [7]}}));
    let bad = r#"{"execute": "mcd-execute-txlist", "arguments": {"core-uid": 1, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": 0, "mem-space-id": 1}, "access-type": 1, "num-bytes": 1, "data": [256]}]}}}"#;
    assert_eq!(c.raw(bad)["return"]["return-status"], 3);
    let e = c.error(0);
    assert_eq!(e["error-code"], 0x102, "{e}");
    assert!(e["error-str"].as_str().unwrap().contains("256"), "{e}");
    let r = c.raw(&format!(
        r#"{{"execute": "mcd-qry-state", "arguments": {{"core-uid": {uid}, "x": "mcd-execute-txlist"}}}}"#
    ));
    assert_eq!(r["return"]["return-status"], 0, "{r}");
    assert!(r["return"]["state"].is_object(), "{r}");
    let r = c.raw(r#"{"execute": "mcd-execute-txlist", "arguments": {"core-uid": "one"}}"#);
    assert_eq!(r["return"]["return-status"], 3, "{r}");
    assert_eq!(c.error(0)["error-code"], 0x102);
    drop(c);
    stop(m);
}

#[test]
fn run_stop_step_and_state() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    let st = c.state(uid);
    assert_eq!(st["state"], 3, "DEBUG: {st}");
    c.write_reg(uid, PC, BASE);
    c.ok(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 3}),
    );
    assert_eq!(c.read_reg(uid, PC), BASE + 12);
    let st = c.state(uid);
    assert_eq!(st["stop-str"], "step");
    assert_ne!(
        st["event"].as_u64().unwrap() & 0x10,
        0,
        "STOPPED since the last poll"
    );
    assert_eq!(c.state(uid)["event"], 0, "events are reported once");
    // CYCLES steps one instruction per cycle; a global step works on the one hart.
    c.ok(
        "mcd-step",
        json!({"core-uid": uid, "global": true, "step-type": 1, "n-steps": 2}),
    );
    assert_eq!(c.read_reg(uid, PC), STORE_AT + 4);
    c.fails(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 0}),
        0x102,
    );
    c.fails(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 5, "n-steps": 1}),
        0x102,
    );

    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    assert_eq!(c.state(uid)["state"], 1, "RUNNING");
    let e = c.fails(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 1}),
        0x101,
    );
    assert!(e.contains("running"), "{e}");
    // Memory is read while it runs: the loop's counter grows.
    let t = Instant::now();
    loop {
        let r = c.ok("mcd-execute-txlist", json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
            {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 1, "num-bytes": 8, "data": vec![0u8; 8]}
        ]}}));
        let d: Vec<u8> = serde_json::from_value(r["txlist"]["tx"][0]["data"].clone()).unwrap();
        if u64::from_le_bytes(d.try_into().unwrap()) > 1000 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the loop does not run"
        );
    }
    c.ok("mcd-stop", json!({"core-uid": uid, "global": true}));
    let st = c.state(uid);
    assert_eq!(st["state"], 3);
    assert_eq!(st["stop-str"], "stopped by the debugger");
    let s0 = c.read_reg(uid, 8);
    assert!(s0 > 1000, "the loop ran: s0 = {s0}");
    let r = c.ok("mcd-qry-current-time", json!({"core-uid": uid}));
    assert!(r["instret"].as_u64().unwrap() >= 5 * (s0 - 1));
    drop(c);
    stop(m);
}

#[test]
fn triggers_stop_before_execution_and_after_accesses() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    let info = c.ok("mcd-qry-trig-info", json!({"core-uid": uid}));
    assert_eq!(
        info["trig-info"]["type"], 0xcf,
        "IP, READ, WRITE, RW, COUNTER, CUSTOM"
    );

    let ip = json!({"trig-simple-core": {"type": 1, "option": 0, "action": 1, "action-param": 0, "modified": false, "state-mask": 0,
        "addr-start": {"address": STORE_AT, "mem-space-id": 2, "addr-space-id": 0, "addr-space-type": 0}, "addr-range": 0}});
    let r = c.ok("mcd-create-trig", json!({"core-uid": uid, "trig": ip}));
    let ip_id = r["trig-id"].as_u64().unwrap();
    assert_eq!(ip_id, 1);
    assert_eq!(
        c.ok("mcd-qry-trig", json!({"core-uid": uid, "trig-id": ip_id}))["trig"],
        ip,
        "echoed verbatim"
    );
    c.ok("mcd-activate-trig-set", json!({"core-uid": uid}));
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let st = c.wait_debug(uid);
    assert_eq!(st["trig-id"], ip_id, "{st}");
    assert_eq!(
        st["event"].as_u64().unwrap() & 0x18,
        0x18,
        "STOPPED and TRIGGER_CHANGE"
    );
    assert_eq!(c.read_reg(uid, PC), STORE_AT, "before the instruction");
    // The run-control API's own report of this stop, arriving later, is not news.
    std::thread::sleep(Duration::from_millis(20));
    let again = c.state(uid);
    assert_eq!(again["event"], 0, "{again}");
    assert_eq!(again["trig-id"], ip_id);
    let ts = c.ok(
        "mcd-qry-trig-state",
        json!({"core-uid": uid, "trig-id": ip_id}),
    );
    assert_eq!(ts["trig-state"]["captured"], true);
    // A step from the breakpoint executes the instruction there.
    c.ok(
        "mcd-step",
        json!({"core-uid": uid, "global": true, "step-type": 2, "n-steps": 1}),
    );
    assert_eq!(c.read_reg(uid, PC), LOAD_AT);
    c.ok(
        "mcd-remove-trig",
        json!({"core-uid": uid, "trig-id": ip_id}),
    );
    c.fails(
        "mcd-qry-trig",
        json!({"core-uid": uid, "trig-id": ip_id}),
        0x3201,
    );

    // WRITE over DATA..DATA+8 stops after the store; READ of DATA+8 after the load.
    let watch = |ty: u32, at: u64, range: u64| {
        json!({"trig-complex-core": {"type": ty, "option": 0, "action": 0, "action-param": 0,
        "modified": false, "state-mask": 0, "addr-start": {"address": at, "mem-space-id": 0, "addr-space-id": 0, "addr-space-type": 0},
        "addr-range": range, "data-start": 0, "data-range": 0, "data-mask": 0, "data-size": 0, "hw-thread-id": 0, "sw-thread-id": 0, "core-mode-mask": 0}})
    };
    let w = c.ok(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": watch(4, DATA, 8)}),
    )["trig-id"]
        .as_u64()
        .unwrap();
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let st = c.wait_debug(uid);
    assert_eq!(st["trig-id"], w);
    assert_eq!(c.read_reg(uid, PC), LOAD_AT, "after the store");
    c.ok("mcd-remove-trig", json!({"core-uid": uid, "trig-id": w}));
    let rd = c.ok(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": watch(2, DATA + 8, 0)}),
    )["trig-id"]
        .as_u64()
        .unwrap();
    let set = c.ok(
        "mcd-qry-trig-set",
        json!({"core-uid": uid, "start-index": 0, "num-trigs": 4}),
    );
    assert_eq!(set["trig-ids"], json!([rd]));
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let st = c.wait_debug(uid);
    assert_eq!(st["trig-id"], rd);
    assert_eq!(c.read_reg(uid, PC), AFTER_LOAD, "after the load");
    c.ok("mcd-remove-trig-set", json!({"core-uid": uid}));
    assert_eq!(
        c.ok(
            "mcd-qry-trig-set",
            json!({"core-uid": uid, "start-index": 0, "num-trigs": 0})
        )["num-trigs"],
        0
    );
    assert!(rc.triggers().is_empty(), "disarmed in the hart");

    // What emu cannot do is refused with TRIG_CREATE.
    c.fails(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": watch(0x40, DATA, 0)}),
        0x3200,
    );
    c.fails(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": {}}),
        0x3200,
    );
    for option in [0x4, 0x40, 0x8_0000] {
        // Out of range, signed data, NOT: conditions emu would not honour.
        let mut bad = watch(4, DATA, 0);
        bad["trig-complex-core"]["option"] = json!(option);
        c.fails(
            "mcd-create-trig",
            json!({"core-uid": uid, "trig": bad}),
            0x3200,
        );
    }

    // A session that goes away takes its triggers with it.
    c.ok("mcd-create-trig", json!({"core-uid": uid, "trig": ip}));
    assert_eq!(rc.triggers().len(), 1);
    drop(c);
    assert!(rc.triggers().is_empty());
    stop(m);
}

/// Complex core triggers with conditions on the data: a value, a range of values, a value
/// with its low bits masked, a negated value, the access size alone; each stops after the
/// store whose value meets it (the loop stores s0 = 1, 2, 3, ... at DATA), and what emu
/// cannot compare is refused with TRIG_CREATE.
#[test]
fn complex_triggers_with_data_conditions() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    let info = c.ok("mcd-qry-trig-info", json!({"core-uid": uid}));
    assert_eq!(
        info["trig-info"]["option"], 0x39,
        "IMPL_HARDWARE, DATA_IS_CONDITION, DATASIZE_IS_CONDITION, NOT_DATA"
    );
    const S0: u64 = 8;
    let cond = |option: u32, start: u64, range: u64, mask: u64, size: u32| {
        json!({"trig-complex-core": {"type": 4, "option": option, "action": 1,
            "addr-start": {"address": DATA, "mem-space-id": 2}, "addr-range": 8,
            "data-start": start, "data-range": range, "data-mask": mask, "data-size": size}})
    };
    // Arm `trig`, then run to each of `values`: stopped after the store of that value.
    let expect = |c: &mut Client, trig: Value, values: &[u64]| {
        let r = c.ok("mcd-create-trig", json!({"core-uid": uid, "trig": trig}));
        let id = r["trig-id"].as_u64().unwrap();
        assert_eq!(
            c.ok("mcd-qry-trig", json!({"core-uid": uid, "trig-id": id}))["trig"],
            r["trig"]
        );
        for &v in values {
            c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
            let st = c.wait_debug(uid);
            assert_eq!(st["trig-id"], id, "{st}");
            assert_eq!(c.read_reg(uid, S0), v, "{trig}");
            assert_eq!(c.read_reg(uid, PC), LOAD_AT, "after the store");
        }
        id
    };
    let remove = |c: &mut Client, id: u64| {
        c.ok("mcd-remove-trig", json!({"core-uid": uid, "trig-id": id}));
    };
    // Runs on: RUNNING after 20 ms, then stopped.
    let runs_on = |c: &mut Client| {
        c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(c.state(uid)["state"], 1, "running");
        c.ok("mcd-stop", json!({"core-uid": uid, "global": false}));
        c.wait_debug(uid);
    };
    let id = expect(&mut c, cond(0x8, 5, 0, 0, 0), &[5]);
    remove(&mut c, id);
    let id = expect(&mut c, cond(0x8, 10, 2, 0, 0), &[10, 11, 12]);
    // The text command lists it with its condition.
    let listed = c.ok(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "triggers"}),
    )["result-string"]
        .as_str()
        .unwrap()
        .to_string();
    let want = format!(
        "watch write {DATA:#x}..{:#x} after, if 0xa <= value <= 0xc",
        DATA + 8
    );
    assert!(listed.contains(&want), "{listed}");
    runs_on(&mut c);
    remove(&mut c, id);
    let base = (c.read_reg(uid, S0) + 0x1000) & !0xff;
    let id = expect(
        &mut c,
        cond(0x8, base + 0x42, 0, 0xff, 0),
        &[base, base + 1],
    );
    remove(&mut c, id);
    let next = c.read_reg(uid, S0) + 1;
    let id = expect(&mut c, cond(0x28, next, 0, 0, 0), &[next + 1]);
    remove(&mut c, id);
    // The loop stores doublewords: size 4 never holds, size 8 (with any value) always.
    let r = c.ok(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": cond(0x10, 0, 0, 0, 4)}),
    );
    runs_on(&mut c);
    remove(&mut c, r["trig-id"].as_u64().unwrap());
    let next = c.read_reg(uid, S0) + 1;
    let id = expect(&mut c, cond(0x10, 0, 0, 0, 8), &[next, next + 1]);
    remove(&mut c, id);

    // Refused: a data condition on an IP trigger or a simple one, NOT_DATA alone, signed
    // data, masked bits that are not the lowest, a negated range, a size of 3 bytes, a
    // range of values that overflows.
    let mut ip = cond(0x8, 5, 0, 0, 0);
    ip["trig-complex-core"]["type"] = json!(1);
    let simple = json!({"trig-simple-core": {"type": 4, "option": 8,
        "addr-start": {"address": DATA, "mem-space-id": 2}, "addr-range": 8}});
    for bad in [
        ip,
        simple,
        cond(0x20, 5, 0, 0, 0),
        cond(0x48, 5, 0, 0, 0),
        cond(0x8, 5, 0, 0xf0, 0),
        cond(0x28, 5, 2, 0, 0),
        cond(0x18, 5, 0, 0, 3),
        cond(0x8, u64::MAX, 1, 0, 0),
    ] {
        c.fails(
            "mcd-create-trig",
            json!({"core-uid": uid, "trig": bad}),
            0x3200,
        );
    }
    assert!(rc.triggers().is_empty(), "nothing refused was armed");
    stop(m);
}

#[test]
fn reset_with_and_without_halt() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    let r = c.ok("mcd-qry-rst-classes", json!({"core-uid": uid}));
    assert_eq!(
        r["rst-class-vector"].as_u64().unwrap() & 1,
        1,
        "System Reset"
    );
    let r = c.ok(
        "mcd-qry-rst-class-info",
        json!({"core-uid": uid, "rst-class": 0}),
    );
    assert!(
        r["rst-info"]["info-str"]
            .as_str()
            .unwrap()
            .starts_with("System Reset")
    );
    c.fails(
        "mcd-qry-rst-class-info",
        json!({"core-uid": uid, "rst-class": 5}),
        0x102,
    );
    c.write_reg(uid, A0, 77);
    c.ok(
        "mcd-rst",
        json!({"core-uid": uid, "rst-class-vector": 1, "rst-and-halt": true}),
    );
    let st = c.state(uid);
    assert_eq!(st["state"], 3);
    assert_eq!(st["stop-str"], "reset halt");
    assert_eq!(c.read_reg(uid, PC), 0x1000, "the reset vector");
    assert_eq!(c.read_reg(uid, A0), 0, "registers reset");
    c.ok(
        "mcd-rst",
        json!({"core-uid": uid, "rst-class-vector": 2, "rst-and-halt": false}),
    );
    assert_eq!(c.state(uid)["state"], 1);
    c.fails(
        "mcd-rst",
        json!({"core-uid": uid, "rst-class-vector": 8, "rst-and-halt": false}),
        0x102,
    );
    drop(c);
    stop(m);
}

#[test]
fn bad_requests_get_answers_in_the_protocols_form() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let r = c.raw("{\"execute\": 5}");
    assert_eq!(r["error"]["class"], "GenericError");
    let r = c.raw("{\"execute\": \"mcd-nonsense\", \"id\": 42}");
    assert_eq!(r["error"]["class"], "CommandNotFound");
    assert_eq!(r["id"], 42, "id echoed");
    let r = c.raw("{\"execute\": \"mcd-qry-servers\", \"arguments\": [1]}");
    assert_eq!(r["return"]["return-status"], 3);
    let r = c.raw("{not json}");
    assert_eq!(r["error"]["class"], "GenericError");
    let e = c.fails("mcd-qry-servers", json!({"host": ""}), 0x102);
    assert!(e.contains("missing member num-servers"), "{e}");
    let e = c.fails(
        "mcd-qry-servers",
        json!({"host": "", "num-servers": "two"}),
        0x102,
    );
    assert!(e.contains("num-servers must be"), "{e}");
    c.fails(
        "mcd-qry-servers",
        json!({"host": "", "num-servers": 1u64 << 40}),
        0x102,
    );
    c.fails(
        "mcd-qry-servers",
        json!({"host": "", "num-servers": -1}),
        0x102,
    );
    c.fails("mcd-qry-state", json!({"core-uid": 0}), 0x102);
    let r = c.cmd(
        "mcd-qry-servers",
        json!({"host": "", "running": true, "start-index": 0, "num-servers": 0}),
    );
    assert_eq!(r["return-status"], 0, "still serving");
    drop(c);
    stop(m);
}

#[test]
fn tcp_one_client_at_a_time_and_garbage_between_requests() {
    let (m, rc) = start(1);
    let server = McdServer::new(rc.clone());
    let addr = server.listen("127.0.0.1:0").unwrap();
    let s = TcpStream::connect(addr).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut line = String::new();
    // Two requests back to back without separators, garbage between.
    w.write_all(b"{\"arguments\":{\"host\":\"\",\"running\":true,\"start-index\":0,\"num-servers\":0},\"execute\":\"mcd-qry-servers\"}@@{\"execute\":\"mcd-open-server\",\"arguments\":{\"system-key\":\"\",\"config-string\":\"\"}}").unwrap();
    let mut replies = Vec::new();
    for _ in 0..3 {
        line.clear();
        r.read_line(&mut line).unwrap();
        replies.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    assert_eq!(replies[0]["return"]["num-servers"], 1);
    assert_eq!(replies[1]["error"]["class"], "GenericError");
    assert_eq!(replies[2]["return"]["server-uid"], 1);

    // A second client may initialize and query, but its open fails with
    // MCD_ERR_CONNECTION, in the protocol's form; it can open no core.
    let s2 = TcpStream::connect(addr).unwrap();
    let mut r2 = BufReader::new(s2.try_clone().unwrap());
    let mut w2 = s2;
    let mut ask2 = |req: Value| -> Value {
        w2.write_all(req.to_string().as_bytes()).unwrap();
        let mut l = String::new();
        r2.read_line(&mut l).unwrap();
        serde_json::from_str(&l).unwrap()
    };
    let v = ask2(json!({"execute": "mcd-initialize", "arguments":
        {"version-req": {"v-api-major": 1, "v-api-minor": 1, "author": "t"}}}));
    assert_eq!(v["return"]["return-status"], 0, "{v}");
    let v = ask2(json!({"execute": "mcd-qry-servers", "arguments":
        {"host": "", "running": true, "start-index": 0, "num-servers": 0}}));
    assert_eq!(v["return"]["num-servers"], 1, "{v}");
    let v = ask2(json!({"execute": "mcd-open-server", "arguments":
        {"system-key": "", "config-string": ""}}));
    assert_eq!(v["return"]["return-status"], 3, "{v}");
    assert!(v["return"].get("server-uid").is_none(), "{v}");
    let v = ask2(json!({"execute": "mcd-qry-error-info", "arguments": {"core-uid": 0}}));
    assert_eq!(v["return"]["error-code"], 0x200, "MCD_ERR_CONNECTION: {v}");
    assert!(
        v["return"]["error-str"]
            .as_str()
            .is_some_and(|t| t.contains("another MCD client")),
        "{v}"
    );
    let v = ask2(json!({"execute": "mcd-open-core", "arguments":
        {"core-con-info": {"core-id": 0}}}));
    assert_eq!(v["return"]["return-status"], 3, "{v}");
    // The first client is unaffected.
    w.write_all(b"{\"execute\":\"mcd-qry-servers\",\"arguments\":{\"host\":\"\",\"running\":true,\"start-index\":0,\"num-servers\":0}}").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("\"num-servers\":1"), "{line}");

    // mcd-exit closes; the waiting client's next open succeeds, on the same connection.
    w.write_all(b"{\"execute\":\"mcd-exit\"}").unwrap();
    line.clear();
    r.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "{\"return\":{}}");
    line.clear();
    assert_eq!(r.read_line(&mut line).unwrap(), 0, "closed");
    let open = json!({"execute": "mcd-open-server", "arguments":
        {"system-key": "", "config-string": ""}});
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v = ask2(open.clone());
        // Until the first client's session has ended, the server is still taken.
        if v["return"]["return-status"] == 0 {
            break;
        }
        assert_eq!(v["return"]["return-status"], 3, "{v}");
        assert!(
            Instant::now() < deadline,
            "the first client's slot was never freed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let v = ask2(json!({"execute": "mcd-open-core", "arguments":
        {"core-con-info": {"core-id": 0}}}));
    assert_eq!(
        v["return"]["return-status"], 0,
        "it can open a core now: {v}"
    );

    // A third client is refused while the second has the server open, and gets it once
    // the second closes the server (staying connected).
    let s3 = TcpStream::connect(addr).unwrap();
    let mut r3 = BufReader::new(s3.try_clone().unwrap());
    let mut w3 = s3;
    let mut ask3 = |req: &Value| -> Value {
        w3.write_all(req.to_string().as_bytes()).unwrap();
        let mut l = String::new();
        r3.read_line(&mut l).unwrap();
        serde_json::from_str(&l).unwrap()
    };
    assert_eq!(ask3(&open)["return"]["return-status"], 3);
    let v = ask2(json!({"execute": "mcd-close-server", "arguments": {"server-uid": 1}}));
    assert_eq!(v["return"]["return-status"], 0, "{v}");
    let v = ask3(&open);
    assert_eq!(v["return"]["return-status"], 0, "{v}");
    // And the second, still connected, is now the one refused.
    assert_eq!(ask2(open)["return"]["return-status"], 3);
    stop(m);
}

mod arbitrary_input {
    use super::*;
    use proptest::prelude::*;

    const COMMANDS: &[&str] = &[
        "mcd-initialize",
        "mcd-qry-servers",
        "mcd-open-server",
        "mcd-close-server",
        "mcd-qry-systems",
        "mcd-qry-devices",
        "mcd-qry-cores",
        "mcd-open-core",
        "mcd-close-core",
        "mcd-qry-error-info",
        "mcd-qry-mem-spaces",
        "mcd-qry-reg-groups",
        "mcd-qry-reg-map",
        "mcd-execute-txlist",
        "mcd-run",
        "mcd-stop",
        "mcd-step",
        "mcd-set-global",
        "mcd-qry-state",
        "mcd-qry-rst-classes",
        "mcd-qry-rst-class-info",
        "mcd-rst",
        "mcd-qry-trig-info",
        "mcd-qry-ctrigs",
        "mcd-create-trig",
        "mcd-qry-trig",
        "mcd-remove-trig",
        "mcd-qry-trig-state",
        "mcd-activate-trig-set",
        "mcd-remove-trig-set",
        "mcd-qry-trig-set",
        "mcd-qry-trig-set-state",
        "mcd-qry-max-payload-size",
        "mcd-qry-core-modes",
        "mcd-qry-current-time",
        "mcd-no-such-command",
    ];

    const KEYS: &[&str] = &[
        "core-uid",
        "server-uid",
        "start-index",
        "num-servers",
        "num-systems",
        "num-devices",
        "num-cores",
        "num-mem-spaces",
        "num-reg-groups",
        "num-regs",
        "reg-group-id",
        "global",
        "step-type",
        "n-steps",
        "enable",
        "rst-class",
        "rst-class-vector",
        "rst-and-halt",
        "trig-id",
        "num-trigs",
        "num-ctrigs",
        "num-modes",
        "version-req",
        "core-con-info",
        "system-con-info",
        "connection-info",
        "txlist",
        "trig",
        "host",
    ];

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0u64..6).prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "[a-z-]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..6).prop_map(
                    |kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                ),
            ]
        })
    }

    fn request() -> impl Strategy<Value = String> {
        (
            prop::sample::select(COMMANDS.to_vec()),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..8),
        )
            .prop_map(|(cmd, kv)| {
                let args: serde_json::Map<String, Value> =
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                json!({"execute": cmd, "arguments": args}).to_string()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever arrives, every request gets exactly one line of JSON with `return` or
        /// `error`, and the session keeps serving.
        #[test]
        fn every_request_gets_one_answer(reqs in prop::collection::vec(request(), 1..12),
                                         junk in prop::collection::vec(any::<u8>(), 0..64)) {
            let (m, rc) = start(1);
            let mut c = Client::new(&rc);
            for r in &reqs {
                let v = c.raw(r);
                prop_assert!(v.get("return").is_some() || v.get("error").is_some(), "{r} -> {v}");
            }
            // Arbitrary bytes go through the splitter as the server would feed them.
            let mut split = emu_mcd::stream::Splitter::new();
            split.feed(&junk);
            while let Some(item) = split.next_item() {
                if let emu_mcd::stream::Item::Object(o) = item {
                    let (line, _) = c.s.handle(&o);
                    prop_assert!(serde_json::from_str::<Value>(&line).is_ok());
                }
            }
            let v = c.cmd("mcd-qry-servers", json!({"host": "", "running": true, "start-index": 0, "num-servers": 0}));
            prop_assert_eq!(&v["return-status"], 0);
            drop(c);
            stop(m);
        }
    }
}

#[test]
fn memory_blocks_commands_time_and_a_list_that_fails_part_way() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);

    let n = c.ok(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 1, "start-index": 0, "num-mem-blocks": 0}),
    );
    assert_eq!(n["num-mem-blocks"], 3);
    let r = c.ok(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 2, "start-index": 1, "num-mem-blocks": 5}),
    );
    let blocks = r["mem-blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[0]["mem-block-name"], "uart");
    assert_eq!(blocks[1]["start-addr"], BASE);
    assert_eq!(blocks[1]["end-addr"], BASE + (128 << 20) - 1);
    assert_eq!(blocks[1]["core-mode-mask-write"], 0);
    let rom = c.ok(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 1, "start-index": 0, "num-mem-blocks": 1}),
    );
    assert_eq!(rom["mem-blocks"][0]["core-mode-mask-write"], 7);
    let spaces = c.ok(
        "mcd-qry-mem-spaces",
        json!({"core-uid": uid, "start-index": 0, "num-mem-spaces": 3}),
    );
    assert_eq!(spaces["mem-spaces"][0]["num-mem-blocks"], 3);
    assert_eq!(spaces["mem-spaces"][2]["num-mem-blocks"], 0);
    c.fails(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 3, "start-index": 0, "num-mem-blocks": 1}),
        0x1402,
    );
    c.fails(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 9, "start-index": 0, "num-mem-blocks": 1}),
        0x1410,
    );
    c.fails(
        "mcd-qry-mem-blocks",
        json!({"core-uid": uid, "mem-space-id": 1, "start-index": 3, "num-mem-blocks": 1}),
        0x102,
    );

    // The debugger's text commands, as GDB's monitor has them.
    let r = c.ok(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "harts"}),
    );
    assert_eq!(r["result-string"], "hart 0: halted\n");
    let help = c.ok(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "help"}),
    );
    assert!(
        help["result-string"]
            .as_str()
            .unwrap()
            .contains("reset halt")
    );
    let e = c.fails(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "frobnicate"}),
        0xf00,
    );
    assert!(
        e.contains("unknown command \"frobnicate\" (try \"help\")"),
        "{e}"
    );
    c.fails(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "reset hart 7"}),
        0xf00,
    );

    // Time: picoseconds of a nominal 1 GHz clock, growing with steps.
    let t0 = c.ok("mcd-qry-current-time", json!({"core-uid": uid}));
    c.ok(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 10}),
    );
    let t1 = c.ok("mcd-qry-current-time", json!({"core-uid": uid}));
    let ps = |t: &Value| t["time-ps"].as_u64().unwrap();
    assert_eq!(ps(&t0), t0["cycles"].as_u64().unwrap() * 1000);
    assert_eq!(ps(&t1) - ps(&t0), 10_000, "{t0} -> {t1}");

    // A list whose second transaction fails reports the first as done.
    let r = c.cmd(
        "mcd-execute-txlist",
        json!({"core-uid": uid, "txlist": {"num-tx": 3, "tx": [
            {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 2, "num-bytes": 4,
             "data": [1, 2, 3, 4]},
            {"addr": {"address": 0, "mem-space-id": 77}, "access-type": 1, "num-bytes": 4,
             "data": [0, 0, 0, 0]},
            {"addr": {"address": DATA, "mem-space-id": 1}, "access-type": 1, "num-bytes": 4,
             "data": [0, 0, 0, 0]}]}}),
    );
    assert_eq!(r["return-status"], 3, "{r}");
    assert_eq!(r["txlist"]["num-tx-ok"], 1);
    assert_eq!(r["txlist"]["tx"][0]["num-bytes-ok"], 4);
    assert_eq!(r["txlist"]["tx"][1]["num-bytes-ok"], 0);
    assert_eq!(r["txlist"]["tx"][2]["num-bytes-ok"], 0);
    let e = c.error(uid);
    assert_eq!(e["error-code"], 0x1410);
    assert!(
        e["error-str"].as_str().unwrap().contains("transaction 1"),
        "{e}"
    );

    // A trap catch through the text commands: an illegal word planted at the store stops
    // the core once it has trapped, and the state says so.
    let r = c.ok(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "catch exception illegal"}),
    );
    let armed = r["result-string"].as_str().unwrap().to_string();
    assert!(armed.contains("exceptions illegal (2)"), "{armed}");
    let id: u32 = armed
        .strip_prefix("trigger ")
        .and_then(|t| t.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a trigger id in {armed:?}"));
    c.ok(
        "mcd-execute-txlist",
        json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
        {"addr": {"address": STORE_AT, "mem-space-id": 1}, "access-type": 2, "num-bytes": 4,
         "data": [0, 0, 0, 0]}]}}),
    );
    c.write_reg(uid, PC, BASE + 12);
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let t = Instant::now();
    let st = loop {
        let st = c.state(uid);
        if st["state"] == 3 {
            break st;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no stop: {st}");
    };
    assert_eq!(st["stop-str"], format!("trap caught (trigger {id})"));
    assert_eq!(c.read_reg(uid, 65 + 0x342), 2, "mcause");
    assert_eq!(c.read_reg(uid, 65 + 0x341), STORE_AT, "mepc");
    let r = c.ok(
        "mcd-execute-command",
        json!({"core-uid": uid, "command-string": "catch off"}),
    );
    assert_eq!(r["result-string"], "1 trap catches removed\n");
    stop(m);
}

/// A custom trigger of type CUSTOM (`ctrig_id`, `args`) on the logical space.
fn custom(ctrig_id: u32, args: [u64; 4]) -> Value {
    json!({"trig-custom": {"type": 0x80, "option": 0, "action": 1, "action-param": 0,
        "modified": false, "state-mask": 0, "ctrig-id": ctrig_id, "ctrig-args": args}})
}

/// Custom triggers are trap catches on MCD's own trigger API: `mcd-qry-ctrigs` lists the
/// exception and the interrupt catch; one stops the core at its handler once it has taken a
/// trap whose cause is in its mask, and the state names it; it is echoed by `mcd-qry-trig`
/// (a mask of 0 as the causes it stands for, `modified` set) and captured; what emu cannot
/// do is refused with MCD_ERR_TRIG_CREATE, and a removed catch stops nothing.
#[test]
fn custom_triggers_catch_traps() {
    use emu_runctl::{TrapKind, traps};
    let t = emu_tests::debug_loop::trapping_elf();
    let (m, rc) = start_with(1, &t.elf, true);
    let mut c = Client::new(&rc);
    let uid = c.open(0);

    let r = c.ok(
        "mcd-qry-ctrigs",
        json!({"core-uid": uid, "start-index": 0, "num-ctrigs": 0}),
    );
    assert_eq!(r["num-ctrigs"], 2, "{r}");
    let r = c.ok(
        "mcd-qry-ctrigs",
        json!({"core-uid": uid, "start-index": 0, "num-ctrigs": 8}),
    );
    assert_eq!(r["num-ctrigs"], 2, "{r}");
    let info = r["ctrig-info"].as_array().unwrap();
    for (i, what) in [(1, "exception"), (2, "interrupt")] {
        let e = &info[i as usize - 1];
        assert_eq!(e["ctrig-id"], i);
        let text = e["info-str"].as_str().unwrap();
        assert!(text.starts_with(what), "{text}");
        assert!(text.len() < 256, "MCD_INFO_STR_LEN: {} bytes", text.len());
    }
    let r = c.ok(
        "mcd-qry-ctrigs",
        json!({"core-uid": uid, "start-index": 1, "num-ctrigs": 1}),
    );
    assert_eq!(r["ctrig-info"][0]["ctrig-id"], 2, "{r}");
    c.fails(
        "mcd-qry-ctrigs",
        json!({"core-uid": uid, "start-index": 2, "num-ctrigs": 1}),
        0x102,
    );

    // Refused: an unknown custom trigger, the wrong type, reserved arguments, an action
    // other than stopping the core, and two structures at once.
    let refused = [
        custom(3, [4, 0, 0, 0]),
        custom(0, [4, 0, 0, 0]),
        json!({"trig-custom": {"type": 0x1, "ctrig-id": 1, "ctrig-args": [4, 0, 0, 0]}}),
        custom(1, [4, 0, 1, 0]),
        custom(2, [0, 0, 0, 7]),
        json!({"trig-custom": {"type": 0x80, "action": 2, "ctrig-id": 1}}),
        json!({"trig-custom": {"type": 0x80, "ctrig-id": 1, "ctrig-args": [1u64 << 32, 0, 0, 0]}}),
        json!({"trig-custom": {"type": 0x80}}),
        json!({"trig-custom": custom(1, [4, 0, 0, 0])["trig-custom"],
               "trig-counter": {"type": 0x40, "count-value": 5}}),
    ];
    for bad in refused {
        let e = c.fails(
            "mcd-create-trig",
            json!({"core-uid": uid, "trig": bad}),
            0x3200,
        );
        assert!(!e.is_empty(), "{bad}");
    }
    assert_eq!(
        c.ok(
            "mcd-qry-trig-set",
            json!({"core-uid": uid, "start-index": 0, "num-trigs": 0})
        )["num-trigs"],
        0,
        "nothing refused was kept"
    );

    // Illegal instructions: the ecall before each goes through its handler.
    let ill = custom(1, [1 << 2, 0, 0, 0]);
    let r = c.ok("mcd-create-trig", json!({"core-uid": uid, "trig": ill}));
    let id = r["trig-id"].as_u64().unwrap();
    assert_eq!(r["trig"], ill, "accepted as sent");
    for round in 1..=2u64 {
        c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
        let st = c.wait_debug(uid);
        assert_eq!(st["trig-id"], id, "{st}");
        assert_eq!(st["stop-str"], format!("trap caught (trigger {id})"));
        assert_eq!(c.read_reg(uid, PC), t.handler, "round {round}");
        assert_eq!(c.read_reg(uid, 65 + 0x342), 2, "mcause");
        assert_eq!(c.read_reg(uid, 65 + 0x341), t.illegal, "mepc");
        assert_eq!(c.read_reg(uid, 9), round, "s1: the ecalls handled");
        assert_eq!(c.read_reg(uid, 18), round - 1, "s2: before the handler ran");
    }
    let ts = c.ok(
        "mcd-qry-trig-state",
        json!({"core-uid": uid, "trig-id": id}),
    );
    assert_eq!(ts["trig-state"]["captured"], true, "{ts}");
    assert_eq!(
        c.ok("mcd-qry-trig", json!({"core-uid": uid, "trig-id": id}))["trig"],
        ill
    );
    c.ok("mcd-remove-trig", json!({"core-uid": uid, "trig-id": id}));

    // Mask 0: every interrupt, and the accepted trigger says which.
    let r = c.ok(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": custom(2, [0; 4])}),
    );
    let irq = r["trig-id"].as_u64().unwrap();
    let all = traps::all(TrapKind::Interrupt);
    let want = custom(2, [all & 0xffff_ffff, all >> 32, 0, 0]);
    let mut accepted = want.clone();
    accepted["trig-custom"]["modified"] = json!(true);
    assert_eq!(r["trig"], accepted);
    assert_eq!(
        c.ok("mcd-qry-trig", json!({"core-uid": uid, "trig-id": irq}))["trig"],
        accepted
    );
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let st = c.wait_debug(uid);
    assert_eq!(st["trig-id"], irq, "{st}");
    assert_eq!(c.read_reg(uid, PC), t.handler);
    assert_eq!(c.read_reg(uid, 65 + 0x342), 1 << 63 | 3, "mcause: msi");

    // Mask 0 for exceptions: the faults. Then the trigger set goes, and nothing stops
    // the core.
    let r = c.ok(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": custom(1, [0; 4])}),
    );
    assert_eq!(r["trig"]["trig-custom"]["ctrig-args"][0], traps::FAULTS);
    assert_eq!(r["trig"]["trig-custom"]["modified"], true);
    c.ok("mcd-remove-trig-set", json!({"core-uid": uid}));
    assert!(rc.trap_catches().is_empty(), "{:?}", rc.trap_catches());
    let s2 = c.read_reg(uid, 18);
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.state(uid)["state"], 1, "running");
    c.ok("mcd-stop", json!({"core-uid": uid, "global": false}));
    c.wait_debug(uid);
    assert!(
        c.read_reg(uid, 18) > s2 + 1,
        "the illegal words went on trapping"
    );
    stop(m);
}

fn time_ps(c: &mut Client, uid: u32) -> u64 {
    c.ok("mcd-qry-current-time", json!({"core-uid": uid}))["time-ps"]
        .as_u64()
        .unwrap()
}

fn run_until(c: &mut Client, uid: u32, absolute: bool, t: u64) -> Value {
    c.cmd(
        "mcd-run-until",
        json!({"core-uid": uid, "global": false, "absolute-time": absolute, "run-until-time": t}),
    )
}

#[test]
fn run_until_and_counter_triggers() {
    let (m, rc) = start(1);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    c.write_reg(uid, PC, BASE);
    // 40,000 instructions (icount counts 16383 at most: three counts), one nanosecond each.
    let t0 = time_ps(&mut c, uid);
    assert_eq!(
        run_until(&mut c, uid, false, 40_000_000)["return-status"],
        0
    );
    let st = c.wait_debug(uid);
    assert_eq!(st["stop-str"], "run-until time reached", "{st}");
    assert_eq!(st["trig-id"], 0);
    assert_eq!(time_ps(&mut c, uid) - t0, 40_000_000);
    // An absolute time between two instructions: the first instruction at or past it.
    let target = t0 + 40_000_000 + 1_500;
    assert_eq!(run_until(&mut c, uid, true, target)["return-status"], 0);
    c.wait_debug(uid);
    assert_eq!(time_ps(&mut c, uid), t0 + 40_002_000);
    // A time already past: nothing runs.
    assert_eq!(run_until(&mut c, uid, true, t0)["return-status"], 0);
    assert_eq!(c.state(uid)["state"], 3);
    assert_eq!(time_ps(&mut c, uid), t0 + 40_002_000);
    // A breakpoint hit first stops it, and is what the state says.
    let r = c.ok(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": {"trig-simple-core": {
            "type": 1, "addr-start": {"address": BASE + 24}, "addr-range": 0
        }}}),
    );
    let bp = r["trig-id"].as_u64().unwrap();
    assert_eq!(run_until(&mut c, uid, false, 1 << 50)["return-status"], 0);
    let st = c.wait_debug(uid);
    assert_eq!(st["trig-id"], bp, "{st}");
    assert_eq!(c.read_reg(uid, PC), BASE + 24);
    c.ok("mcd-remove-trig", json!({"core-uid": uid, "trig-id": bp}));
    // A long run is RUNNING, also between the counts; it cannot be started twice; a stop
    // ends it.
    assert_eq!(run_until(&mut c, uid, false, 1 << 50)["return-status"], 0);
    for _ in 0..20 {
        assert_eq!(c.state(uid)["state"], 1, "RUNNING");
        std::thread::sleep(Duration::from_millis(1));
    }
    let e = c.fails(
        "mcd-run-until",
        json!({"core-uid": uid, "global": false, "absolute-time": false, "run-until-time": 5}),
        0x101,
    );
    assert!(e.contains("running"), "{e}");
    c.ok("mcd-stop", json!({"core-uid": uid, "global": false}));
    let st = c.state(uid);
    assert_eq!(st["state"], 3);
    assert_eq!(st["stop-str"], "stopped by the debugger", "{st}");
    c.fails(
        "mcd-run-until",
        json!({"core-uid": uid, "global": false, "absolute-time": false, "run-until-time": -1}),
        0x102,
    );

    // Counter triggers: stop after count-value instructions, then every reload-value.
    let info = c.ok("mcd-qry-trig-info", json!({"core-uid": uid}))["trig-info"].clone();
    assert_ne!(info["type"].as_u64().unwrap() & 0x40, 0, "{info}");
    let counter = |count: u64, reload: u64| {
        json!({"core-uid": uid, "trig": {"trig-counter": {
            "type": 0x40, "count-value": count, "reload-value": reload
        }}})
    };
    let r = c.ok("mcd-create-trig", counter(100, 50));
    let id = r["trig-id"].as_u64().unwrap();
    assert_eq!(r["trig"]["trig-counter"]["count-value"], 100);
    let state = |c: &mut Client| {
        c.ok(
            "mcd-qry-trig-state",
            json!({"core-uid": uid, "trig-id": id}),
        )["trig-state"]
            .clone()
    };
    let ts = state(&mut c);
    assert_eq!(
        (ts["count-value"].clone(), ts["count-valid"].clone()),
        (json!(100), json!(true))
    );
    assert_eq!(ts["captured"], false);
    c.ok(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 3}),
    );
    assert_eq!(state(&mut c)["count-value"], 97, "steps count");
    let t1 = time_ps(&mut c, uid);
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let st = c.wait_debug(uid);
    assert_eq!(st["trig-id"], id, "{st}");
    assert_eq!(st["stop-str"], format!("trigger {id}"));
    assert_eq!(time_ps(&mut c, uid) - t1, 97_000);
    let ts = state(&mut c);
    assert_eq!(
        (ts["captured"].clone(), ts["count-value"].clone()),
        (json!(true), json!(0))
    );
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    c.wait_debug(uid);
    assert_eq!(time_ps(&mut c, uid) - t1, 147_000, "reloaded: 50 more");
    c.ok("mcd-remove-trig", json!({"core-uid": uid, "trig-id": id}));
    // What icount cannot count is refused.
    for (count, reload) in [(0, 0), (16384, 0), (10, 16384)] {
        let e = c.fails("mcd-create-trig", counter(count, reload), 0x3200);
        assert!(e.contains("16383"), "{e}");
    }
    let e = c.fails(
        "mcd-create-trig",
        json!({"core-uid": uid, "trig": {"trig-counter": {"type": 0x1, "count-value": 5}}}),
        0x3200,
    );
    assert!(e.contains("COUNTER"), "{e}");
    drop(c);
    stop(m);
}

#[test]
fn a_core_asleep_in_wfi_is_halted() {
    let mut a = emu_asm::Asm::new(emu_isa::Xlen::X64, BASE);
    let lp = a.here();
    a.addi(emu_asm::reg::S0, emu_asm::reg::S0, 1);
    a.op0(emu_isa::Op::Wfi);
    a.j(lp);
    let code = a.finish().unwrap();
    let elf = emu_asm::elf::write_elf(emu_isa::Xlen::X64, BASE, &code, BASE, &[]);
    let (m, rc) = start_with(1, &elf, false);
    let mut c = Client::new(&rc);
    let uid = c.open(0);
    let t = Instant::now();
    loop {
        let st = c.state(uid);
        if st["state"] == 2 {
            assert_eq!(st["info-str"], "halted");
            break;
        }
        assert_eq!(st["state"], 1, "RUNNING until it sleeps: {st}");
        assert!(t.elapsed() < Duration::from_secs(10), "never HALTED: {st}");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Stopped: in Debug Mode after the wfi, having looped once.
    c.ok("mcd-stop", json!({"core-uid": uid, "global": false}));
    let st = c.state(uid);
    assert_eq!(st["state"], 3, "{st}");
    assert_eq!(c.read_reg(uid, PC), BASE + 8);
    assert_eq!(c.read_reg(uid, 8), 1, "s0");
    // Stepped through the wfi and the jump, it sleeps again when run.
    c.ok(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 2}),
    );
    assert_eq!(c.read_reg(uid, PC), BASE + 4);
    assert_eq!(c.read_reg(uid, 8), 2);
    c.ok("mcd-run", json!({"core-uid": uid, "global": false}));
    let t = Instant::now();
    while c.state(uid)["state"] != 2 {
        assert!(t.elapsed() < Duration::from_secs(10), "never HALTED again");
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(c);
    stop(m);
}
