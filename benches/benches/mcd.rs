//! MCD round trips over loopback TCP against an in-process emu (JIT engine) serving
//! `--mcd-port`, next to the plain loopback round trip measured in the same run:
//!
//! - `mcd/floor/round_trip`: a TCP server that answers each request object with one short
//!   line, as the MCD server does, with nothing behind it;
//! - `mcd/emu/qry_state`, `step` (one INSTR step, synchronous), `reg_read` (a 4-byte
//!   register transaction), `mem_read_4k` (a 4 KiB LOGICAL read), `trig_create_remove`
//!   (an IP trigger created and removed: two requests), and `run_to_breakpoint` (`mcd-run`
//!   then `mcd-qry-state` until DEBUG, on a breakpoint one loop iteration away).
//!
//! `cargo bench -p emu-benches --bench mcd`
//!
//! With `EMU_BENCH_LOW_LATENCY=1` the host's idle CPUs are held polling for the run
//! (`emu --low-latency`; see `docs/performance.md`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

use emu_mcd::McdServer;
use emu_runctl::RunControl;
use serde_json::{Value, json};

const BASE: u64 = 0x8000_0000;

/// `loop: addi a0,a0,1; addi a1,a1,1; j loop` at BASE.
fn guest() -> Vec<u8> {
    use emu_asm::reg::*;
    let mut a = emu_asm::Asm::new(emu_isa::Xlen::X64, BASE);
    let top = a.here();
    a.addi(A0, A0, 1);
    a.addi(A1, A1, 1);
    a.j(top);
    let code = a.finish().unwrap_or_else(|e| panic!("{e}"));
    emu_asm::elf::write_elf(emu_isa::Xlen::X64, BASE, &code, BASE, &[])
}

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
    line: String,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("{e}"));
        let _ = s.set_nodelay(true);
        Client {
            r: BufReader::new(s.try_clone().unwrap_or_else(|e| panic!("{e}"))),
            w: s,
            line: String::new(),
        }
    }

    /// Send a prepared request; the reply line (not parsed: the client's side is not what
    /// is measured).
    fn raw(&mut self, req: &[u8]) -> &str {
        self.w.write_all(req).unwrap_or_else(|e| panic!("{e}"));
        self.line.clear();
        self.r
            .read_line(&mut self.line)
            .unwrap_or_else(|e| panic!("{e}"));
        &self.line
    }

    fn cmd(&mut self, name: &str, args: Value) -> Value {
        let req = json!({"execute": name, "arguments": args}).to_string();
        let line = self.raw(req.as_bytes()).to_string();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["return"]["return-status"], 0, "{name}: {v}");
        v["return"].clone()
    }
}

fn req(name: &str, args: Value) -> Vec<u8> {
    json!({"execute": name, "arguments": args})
        .to_string()
        .into_bytes()
}

/// The floor: one short line back for each JSON object received.
fn start_floor() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = l.local_addr().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let _ = s.set_nodelay(true);
            let mut buf = [0u8; 4096];
            let mut depth = 0i32;
            loop {
                let n = match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let mut replies = 0;
                for &b in &buf[..n] {
                    match b {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                replies += 1;
                            }
                        }
                        _ => {}
                    }
                }
                for _ in 0..replies {
                    if s.write_all(b"{\"return\":{\"return-status\":0}}\n")
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
    addr
}

fn benches(cr: &mut Criterion) {
    let _low_latency = emu_benches::low_latency();
    let floor = start_floor();
    let mut f = Client::connect(floor);
    let state_req = req("mcd-qry-state", json!({"core-uid": 1}));
    cr.bench_function("mcd/floor/round_trip", |b| {
        b.iter(|| {
            f.raw(&state_req);
        })
    });

    let m = emu_benches::start_halted_jit(&guest());
    let rc = Arc::new(RunControl::new(m.dm.clone()).unwrap_or_else(|| panic!("run control")));
    let addr = McdServer::new(rc)
        .listen("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = Client::connect(addr);
    c.cmd(
        "mcd-open-server",
        json!({"system-key": "", "config-string": ""}),
    );
    let uid = c.cmd("mcd-open-core", json!({"core-con-info": {"core-id": 0}}))["core-uid"]
        .as_u64()
        .unwrap_or(1);
    // Into the loop: pc = BASE.
    c.cmd(
        "mcd-execute-txlist",
        json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
            {"addr": {"address": 32, "mem-space-id": 3}, "access-type": 2, "num-bytes": 8,
             "data": BASE.to_le_bytes()}]}}),
    );

    let mut grp = cr.benchmark_group("mcd/emu");
    grp.bench_function("qry_state", |b| {
        b.iter(|| {
            c.raw(&state_req);
        })
    });
    let step = req(
        "mcd-step",
        json!({"core-uid": uid, "global": false, "step-type": 2, "n-steps": 1}),
    );
    grp.bench_function("step", |b| {
        b.iter(|| {
            c.raw(&step);
        })
    });
    let reg = req(
        "mcd-execute-txlist",
        json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
            {"addr": {"address": 10, "mem-space-id": 3}, "access-type": 1, "num-bytes": 4,
             "data": [0, 0, 0, 0]}]}}),
    );
    grp.bench_function("reg_read", |b| {
        b.iter(|| {
            c.raw(&reg);
        })
    });
    let mem = req(
        "mcd-execute-txlist",
        json!({"core-uid": uid, "txlist": {"num-tx": 1, "tx": [
            {"addr": {"address": BASE, "mem-space-id": 2}, "access-type": 1, "num-bytes": 4096,
             "data": vec![0u8; 4096]}]}}),
    );
    grp.bench_function("mem_read_4k", |b| {
        b.iter(|| {
            c.raw(&mem);
        })
    });
    let trig = json!({"trig-simple-core": {"type": 1, "option": 0, "action": 1,
        "action-param": 0, "modified": false, "state-mask": 0,
        "addr-start": {"address": BASE + 0x100, "mem-space-id": 2}, "addr-range": 0}});
    let create = req("mcd-create-trig", json!({"core-uid": uid, "trig": trig}));
    grp.bench_function("trig_create_remove", |b| {
        b.iter(|| {
            let id = {
                let line = c.raw(&create);
                let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
                v["return"]["trig-id"].as_u64().unwrap_or(0)
            };
            c.raw(&req(
                "mcd-remove-trig",
                json!({"core-uid": uid, "trig-id": id}),
            ));
        })
    });
    // A breakpoint on the loop's second instruction: one iteration per run.
    let bp = json!({"trig-simple-core": {"type": 1, "option": 0, "action": 1,
        "action-param": 0, "modified": false, "state-mask": 0,
        "addr-start": {"address": BASE + 4, "mem-space-id": 2}, "addr-range": 0}});
    c.cmd("mcd-create-trig", json!({"core-uid": uid, "trig": bp}));
    let run = req("mcd-run", json!({"core-uid": uid, "global": false}));
    grp.bench_function("run_to_breakpoint", |b| {
        b.iter(|| {
            c.raw(&run);
            loop {
                let line = c.raw(&state_req);
                if line.contains("\"state\":3") {
                    break;
                }
            }
        })
    });
    grp.finish();
    m.signals.exit_host();
    let _ = m.join();
}

criterion_group!(mcd, benches);
criterion_main!(mcd);
