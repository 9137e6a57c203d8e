//! What one run-control operation costs on a halted hart, in instructions (under
//! callgrind, which counts the same for the same binary whatever the shared host does)
//! or in wall time (the median of many). The machine is started and hart 0 halted, then
//! `work` runs the operation N times: collect only there.
//!
//! ```text
//! cargo build --release -p emu-benches --example op_cost
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect=op_cost::work \
//!     --callgrind-out-file=/dev/null target/release/examples/op_cost arm 1000
//! ```
//!
//! Run it for 1000 and 3000 and divide the difference by 2000: one operation's count,
//! without the first translations. Operations: `arm` (a breakpoint armed and removed),
//! `read` (one GPR), `step`, `mem` (4 KiB of physical memory, over the system bus),
//! `regs` (every GPR and the pc). Without valgrind: `op_cost OP N` prints the median and p90.

use std::time::{Duration, Instant};

use emu_benches::BASE;
use emu_runctl::{MemSpace, RegId, RunControl};

fn main() {
    let op = std::env::args().nth(1).unwrap_or_else(|| "arm".into());
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let m = emu_benches::start_jit(&emu_benches::endless_loop(), false);
    let rc = RunControl::new(m.dm.clone()).unwrap_or_else(|| panic!("one RunControl"));
    std::thread::sleep(Duration::from_millis(20));
    rc.halt(0).unwrap_or_else(|e| panic!("{e}"));
    let ns = work(&rc, &op, n);
    let mut sorted = ns.clone();
    sorted.sort_unstable();
    if let (Some(&med), Some(&p90)) = (sorted.get(n / 2), sorted.get(n * 9 / 10)) {
        println!("{op}: {n} times, median {med} ns, p90 {p90} ns");
    }
    m.signals.exit_host();
}

/// Run `op` `n` times on halted hart 0; each one's wall time in ns.
#[inline(never)]
fn work(rc: &RunControl, op: &str, n: usize) -> Vec<u64> {
    let ok = |r: emu_runctl::Result<()>| r.unwrap_or_else(|e| panic!("{e}"));
    let mut ns = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        match op {
            "arm" => {
                let id = rc
                    .add_breakpoint(0, BASE + 0x100)
                    .unwrap_or_else(|e| panic!("{e}"));
                ok(rc.remove_trigger(id));
            }
            "read" => {
                rc.read_register(0, RegId::Gpr(8))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            "step" => {
                rc.step(0).unwrap_or_else(|e| panic!("{e}"));
            }
            "mem" => {
                let mut buf = [0u8; 4096];
                ok(rc.read_memory(0, MemSpace::Physical, BASE, &mut buf));
            }
            "regs" => {
                rc.read_core_registers(0).unwrap_or_else(|e| panic!("{e}"));
            }
            _ => panic!("operations: arm, read, step, mem, regs"),
        }
        ns.push(t.elapsed().as_nanos() as u64);
    }
    ns
}
