//! `emu --gdb-port` driven by unmodified gdb-multiarch in batch mode, on the project's C
//! guest (`tests/guests/gdb`): breakpoints, stepping, watchpoints, registers, memory,
//! Ctrl-C, threads, monitor commands, detach and reconnect, kill. `stepi` is also checked
//! against QEMU running the same ELF under the same GDB script.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use emu_tests::process::{EmuProcess, free_port};
use emu_tests::tool;

/// The guest, built once per test process.
fn guest() -> PathBuf {
    emu_tests::guest::cached("gdb", Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// A running `emu --gdb-port 0` and the address it listens on.
struct Emu {
    p: EmuProcess,
    addr: String,
}

impl Emu {
    fn start(extra: &[&str]) -> Emu {
        Emu::start_on(&guest(), extra)
    }

    fn start_on(elf: &Path, extra: &[&str]) -> Emu {
        let mut args = vec!["--gdb-port", "0"];
        args.extend_from_slice(extra);
        let elf = elf.to_string_lossy();
        args.push(&elf);
        let p = EmuProcess::start(
            Path::new(env!("CARGO_BIN_EXE_emu")),
            &args,
            "emu: GDB server listening on ",
        );
        let addr = p.announced.clone();
        Emu { p, addr }
    }

    fn wait_console(&self, line: &str) {
        self.p.wait_console(line)
    }

    fn wait_exit(&mut self) -> Option<i32> {
        self.p.wait_exit()
    }

    fn running(&mut self) -> bool {
        self.p.running()
    }
}

/// gdb-multiarch in batch mode on the guest ELF, connected to `addr`, running `cmds`.
fn gdb_cmd(addr: &str, cmds: &[&str]) -> Command {
    gdb_cmd_on(&guest(), addr, cmds)
}

/// [`gdb_cmd`] on another ELF.
fn gdb_cmd_on(elf: &Path, addr: &str, cmds: &[&str]) -> Command {
    gdb_cmd_with(Some(elf), addr, cmds)
}

/// [`gdb_cmd`] on `elf`, or on no file (GDB asks the stub for it).
fn gdb_cmd_with(elf: Option<&Path>, addr: &str, cmds: &[&str]) -> Command {
    let mut c = Command::new(tool("gdb-multiarch"));
    c.args(["-batch", "-nx", "-ex", "set pagination off"])
        .args(["-ex", "set confirm off"]);
    if let Some(elf) = elf {
        c.arg(elf);
    }
    c.args(["-ex", &format!("target remote {addr}")]);
    for cmd in cmds {
        c.args(["-ex", cmd]);
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Wait for `child` at most two minutes; its stdout and stderr together.
fn collect(child: Child) -> String {
    emu_tests::process::collect(child, Duration::from_secs(120)).0
}

fn gdb(addr: &str, cmds: &[&str]) -> String {
    let out = collect(gdb_cmd(addr, cmds).spawn().expect("start gdb-multiarch"));
    eprintln!("---- gdb ----\n{out}");
    out
}

/// `needle` occurs in `hay` after position `from`; its end.
#[track_caller]
fn after(hay: &str, from: usize, needle: &str) -> usize {
    match hay[from..].find(needle) {
        Some(i) => from + i + needle.len(),
        None => panic!("{needle:?} not found (in order) in GDB's output"),
    }
}

/// Every needle, in this order.
#[track_caller]
fn in_order(hay: &str, needles: &[&str]) {
    let mut at = 0;
    for n in needles {
        at = after(hay, at, n);
    }
}

#[test]
fn break_next_step_finish() {
    let emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &[
            "break square",
            "continue",
            "bt",
            "next",
            "next",
            "finish",
            "step",
            "step",
            "info locals",
            "p a + b",
            "next",
            "next",
            "next",
            "p total",
        ],
    );
    in_order(
        &out,
        &[
            "Breakpoint 1 at",
            "Breakpoint 1, square (x=0) at",
            "#0  square (x=0)",
            "#1  ",
            "in main () at",
            "\t    return r;",
            "\t}",
            "in main () at",
            "Value returned is $1 = 0",
            "add (a=0, b=0) at",
            "\t    int s = a + b;",
            "\t    return s;",
            "s = 0",
            "$2 = 0",
            "\t}",
            "main () at",
            "\t        bump();",
            // next steps over bump() and goes round the loop
            "\t    for (int i = 0; i < 10; i++) {",
            "$3 = 0",
        ],
    );
}

#[test]
fn next_over_a_breakpointed_call_stops_in_it() {
    let emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &[
            "break main",
            "continue",
            "break bump",
            "next",
            "next",
            "next",
            "next",
            "p counter",
            "finish",
            "p counter",
        ],
    );
    in_order(
        &out,
        &[
            "Breakpoint 1, main () at",
            "\t    for (int i = 0; i < 10; i++) {",
            "\t        total = add(total, square(i));",
            "\t        bump();",
            "Breakpoint 2, bump () at",
            "$1 = 0",
            "main () at",
            "$2 = 1",
        ],
    );
}

#[test]
fn hardware_breakpoint_and_watchpoints() {
    let emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &[
            "hbreak add",
            "continue",
            "delete",
            "watch counter",
            "continue",
            "continue",
            "x/i $pc",
            "delete",
            "awatch results[0]",
            "continue",
            "p results[0]",
            "delete",
            "rwatch shared",
            "continue",
            "x/i $pc",
            "delete",
            "continue",
        ],
    );
    in_order(
        &out,
        &[
            "Hardware assisted breakpoint 1 at",
            "Breakpoint 1, add (a=0, b=0) at",
            "Hardware watchpoint 2: counter",
            "Old value = 0",
            "New value = 1",
            "bump () at",
            "Old value = 1",
            "New value = 2",
            // reported on the instruction after the store
            "=> 0x",
            "<bump+",
            "Hardware access (read/write) watchpoint 3: results[0]",
            "Old value = 0",
            "New value = 285",
            "main () at",
            "$1 = 285",
            "Hardware read watchpoint 4: shared",
            "Value = 7",
            "peek () at",
            "=> 0x",
            "<peek+",
            "exited normally",
        ],
    );
}

#[test]
fn registers_memory_and_set_var() {
    let emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &[
            "break peek",
            "continue",
            "info registers",
            "p/x $mhartid",
            "p/x $misa",
            "p $mstatus",
            "x/16x &results",
            "set var shared = 8",
            "p shared",
            "set var results[1] = 0x1122334455667788",
            "x/2gx &results",
            "set $a5 = 0xabcdef",
            "p/x $a5",
            "p $fa0",
            "p $fcsr",
            "info all-registers",
            "finish",
        ],
    );
    in_order(
        &out,
        &[
            "Breakpoint 1, peek () at",
            "ra             0x",
            "sp             0x",
            "t6             0x",
            "pc             0x",
            "<peek+",
            "$1 = 0x0",
            "$2 = 0x80000000001411",
            "$3 = ",
            "<results>:\t0x0000011d\t0x00000000\t0x00000000\t0x00000000",
            "$4 = 8",
            "<results>:\t0x000000000000011d\t0x1122334455667788",
            "$5 = 0xabcdef",
            "$6 = ",
            "$7 = ",
            "ft0 ",
            "fflags ",
            "frm ",
            "fcsr ",
            "mstatus",
            "Value returned is $8 = 8",
        ],
    );
}

/// The same guest built for RV32: GDB sees 32-bit registers (the target description says
/// rv32), breaks, steps, watches and writes variables as on RV64.
#[test]
fn rv32_guest() {
    let elf = emu_tests::guest::cached_for("gdb", Path::new(env!("CARGO_TARGET_TMPDIR")), true);
    let mut emu = Emu::start_on(&elf, &["--halted"]);
    let cmds = [
        "show architecture",
        "break add",
        "continue",
        "p sizeof(long)",
        "info registers pc sp",
        "p/x $misa >> 30",
        "stepi",
        "stepi",
        "finish",
        "delete",
        "watch counter",
        "continue",
        "delete",
        "set var shared = 8",
        "x/4x &results",
        "set $a5 = 0x89abcdef",
        "p/x $a5",
        "continue",
    ];
    let out = collect(
        gdb_cmd_on(&elf, &emu.addr, &cmds)
            .spawn()
            .expect("start gdb-multiarch"),
    );
    eprintln!("---- gdb ----\n{out}");
    in_order(
        &out,
        &[
            "riscv:rv32",
            "Breakpoint 1, add (a=0, b=0) at",
            "$1 = 4",
            "pc             0x800",
            "<add+",
            "sp             0x800",
            "$2 = 0x1",
            "in main () at",
            "Value returned is $",
            "Hardware watchpoint 2: counter",
            "Old value = 0",
            "New value = 1",
            "<results>:\t0x00000000\t0x00000000",
            "= 0x89abcdef",
            "exited with code 01",
        ],
    );
    // main returns 0 only if total (285) + shared == 292: the 8 GDB wrote makes it 293.
    assert_eq!(emu.wait_exit(), Some(1));
}

/// The guest's exit code follows the value GDB wrote: main returns 0 only if
/// total (285) + shared == 292.
#[test]
fn written_variable_changes_the_guest_result() {
    let mut emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &["break peek", "continue", "set var shared = 9", "continue"],
    );
    in_order(&out, &["Breakpoint 1, peek ()", "exited with code 01"]);
    assert_eq!(emu.wait_exit(), Some(1));
}

#[test]
fn ctrl_c_interrupts_a_running_guest() {
    let mut emu = Emu::start(&["--halted"]);
    let child = gdb_cmd(
        &emu.addr,
        &[
            "break spin",
            "continue",
            "set var spin_forever = 1",
            "continue",
            "p spins > 0",
            "bt 1",
            "set var spin_forever = 0",
            "delete",
            "continue",
        ],
    )
    .spawn()
    .expect("start gdb-multiarch");
    emu.wait_console("spinning");
    // The guest runs the loop now; GDB is waiting in `continue`. Ctrl-C it.
    std::thread::sleep(Duration::from_millis(100));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(st.success());
    let out = collect(child);
    eprintln!("---- gdb ----\n{out}");
    in_order(
        &out,
        &[
            "Breakpoint 1, spin () at",
            "received signal SIGINT",
            "$1 = 1",
            "#0  ",
            "spin () at",
            "exited normally",
        ],
    );
    emu.wait_console("gdb demo done");
    assert_eq!(emu.wait_exit(), Some(0));
}

#[test]
fn two_harts_are_two_threads() {
    let emu = Emu::start(&["--halted", "--smp", "2"]);
    let out = gdb(
        &emu.addr,
        &[
            "break spin",
            "continue",
            "info threads",
            "thread 2",
            "bt 1",
            "p $mhartid",
            "p worker_ticks > 0",
            "thread 1",
            "p $mhartid",
            "bt 1",
            "thread apply all p $pc",
        ],
    );
    in_order(
        &out,
        &[
            "Breakpoint 1, spin () at",
            "* 1    Thread 1.1 (hart 0, M-mode)",
            "spin () at",
            "2    Thread 1.2 (hart 1, M-mode)",
            "worker (hart=1) at",
            "[Switching to thread 2 (Thread 1.2)]",
            "#0  ",
            "worker (hart=1)",
            "$1 = 1",
            "$2 = 1",
            "[Switching to thread 1 (Thread 1.1)]",
            "$3 = 0",
            "spin () at",
            "Thread 2 (Thread 1.2 (hart 1, M-mode))",
            "<worker+",
            "Thread 1 (Thread 1.1 (hart 0, M-mode))",
            "<spin+",
        ],
    );
}

/// Both harts loop over a trigger of their own (a hardware breakpoint in hart 0's loop;
/// in hart 1's a hardware breakpoint, then a watchpoint on what it writes), so one
/// usually hits its own before the all-stop halts it: GDB must hear of every hit, one per
/// `continue`, with nothing run in between. Each loop counts its iterations (`spins` on
/// hart 0, `worker_ticks` on hart 1), so a hit never reported shows as a count that moved
/// by two between two stops of the same hart.
#[test]
fn stops_of_two_harts_at_once_are_each_reported() {
    for hart1 in ["hbreak gdb_demo.c:60", "watch worker_ticks"] {
        let emu = Emu::start(&["--halted", "--smp", "2"]);
        let mut cmds = vec!["set var spin_forever = 1", "hbreak gdb_demo.c:47", hart1];
        const STOPS: usize = 40;
        for _ in 0..STOPS {
            cmds.push("continue");
            cmds.push("set $s = spins");
            cmds.push("set $w = worker_ticks");
            cmds.push("printf \"STOP %d %lu %lu\\n\", $_thread, $s, $w");
        }
        let out = gdb(&emu.addr, &cmds);
        let stops: Vec<(u32, u64, u64)> = out
            .lines()
            .filter_map(|l| {
                let mut w = l.strip_prefix("STOP ")?.split(' ');
                let mut n = || w.next()?.parse::<u64>().ok();
                Some((n()? as u32, n()?, n()?))
            })
            .collect();
        assert_eq!(stops.len(), STOPS, "{hart1}: one stop per continue");
        for thread in [1, 2] {
            let counts: Vec<u64> = stops
                .iter()
                .filter(|s| s.0 == thread)
                .map(|s| if thread == 1 { s.1 } else { s.2 })
                .collect();
            assert!(
                counts.len() >= 5,
                "{hart1}: thread {thread} stopped {} times",
                counts.len()
            );
            for w in counts.windows(2) {
                assert_eq!(
                    w[1],
                    w[0] + 1,
                    "{hart1}: thread {thread}: a hit went unreported: {counts:?}"
                );
            }
        }
    }
}

/// GDB started without a file learns the guest's from emu (`qXfer:exec-file`) and reads
/// its symbols through Host I/O (`vFile`), as it would from a remote host.
#[test]
fn gdb_without_a_file_reads_the_guest_from_emu() {
    let mut emu = Emu::start(&["--halted"]);
    let out = collect(
        gdb_cmd_with(
            None,
            &emu.addr,
            &[
                "break spin",
                "continue",
                "info threads",
                "p/x &results",
                "kill",
            ],
        )
        .spawn()
        .expect("start gdb-multiarch"),
    );
    eprintln!("---- gdb ----\n{out}");
    let path = std::fs::canonicalize(guest()).expect("the guest's path");
    in_order(
        &out,
        &[
            &format!("Reading symbols from target:{}", path.display()),
            "Breakpoint 1 at 0x",
            "Breakpoint 1, spin () at",
            "* 1    Thread 1.1 (hart 0, M-mode) spin () at",
            "$1 = 0x8",
        ],
    );
    assert!(emu.wait_exit().is_some(), "`kill` ends emu");
}

/// `monitor catch exception`: an illegal instruction (planted by GDB at the pc) stops the
/// guest where it traps, and GDB says SIGILL with `mcause` and `mepc` telling which.
#[test]
fn a_caught_fault_is_a_signal() {
    let emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &[
            "break spin",
            "continue",
            "delete",
            "set var $at = $pc",
            "monitor catch exception",
            "monitor catch",
            "set {short}$pc = 0",
            "continue",
            "p $mcause",
            "p $mepc == $at",
            "p $pc == $mtvec",
            "monitor catch off",
            "kill",
        ],
    );
    in_order(
        &out,
        &[
            "Breakpoint 1, spin () at",
            "Program received signal SIGILL, Illegal instruction.",
            "$1 = 2",
            "$2 = 1",
            "$3 = 1",
        ],
    );
    // Monitor output comes on another stream than the rest: each on its own.
    for monitor in [
        "every hart stops at its handler on exceptions misaligned-fetch (0), fetch-fault (1), illegal (2)",
        "catch exceptions misaligned-fetch (0)",
        "1 trap catches removed",
    ] {
        assert!(out.contains(monitor), "no {monitor:?} in GDB's output");
    }
}

#[test]
fn monitor_commands_and_reset_halt() {
    let mut emu = Emu::start(&["--halted"]);
    let out = gdb(
        &emu.addr,
        &[
            "monitor help",
            "break add",
            "continue",
            "monitor harts",
            "monitor triggers",
            "monitor reset halt",
            // Twice in a row: the second must not wait for the first's report.
            "monitor reset halt",
            "maintenance flush register-cache",
            "p/x $pc",
            "monitor dm",
            "monitor bogus",
            "info mem",
            "detach",
        ],
    );
    // GDB prints monitor output on a stream of its own: check it apart from the rest.
    in_order(
        &out,
        &[
            "Breakpoint 1, add (",
            "$1 = 0x1000",
            "0x0000000000001000 0x0000000000010000 ro",
            "0x0000000080000000 0x0000000088000000 rw",
            "[Inferior 1 (process 1) detached]",
        ],
    );
    for monitor in [
        "reset halt           system reset, harts halt at the reset vector",
        "hart 0: halted",
        "no triggers armed",
        "system reset; harts halted at the reset vector",
        "dmstatus    0x",
        "error: unknown monitor command \"bogus\"",
    ] {
        assert!(out.contains(monitor), "no {monitor:?} in GDB's output");
    }
    assert_eq!(
        out.matches("system reset; harts halted at the reset vector")
            .count(),
        2,
        "both resets halted"
    );
    // The detach let the reset machine run: the program runs from the start to its end.
    emu.wait_console("gdb demo done");
    assert_eq!(emu.wait_exit(), Some(0));
}

#[test]
fn detach_reconnect_and_kill() {
    let mut emu = Emu::start(&["--halted"]);
    let first = gdb(&emu.addr, &["break spin", "continue", "disconnect"]);
    in_order(&first, &["Breakpoint 1, spin () at"]);
    // `disconnect` leaves the machine as it is (halted, breakpoints out); a new session
    // finds it where the first left it.
    assert!(emu.running(), "emu ended when GDB disconnected");
    let second = gdb(&emu.addr, &["p $pc", "bt 1", "kill"]);
    in_order(&second, &["<spin+", "spin () at"]);
    // `kill` ends emu (GDB then sees the connection close).
    assert!(emu.wait_exit().is_some());
}

/// A second GDB while one is connected is refused; the first keeps working.
#[test]
fn second_client_is_refused() {
    let emu = Emu::start(&["--halted"]);
    let mut first = gdb_cmd(
        &emu.addr,
        &[
            "break spin",
            "continue",
            "shell sleep 2",
            "p/x $pc",
            "detach",
        ],
    )
    .spawn()
    .expect("start gdb-multiarch");
    std::thread::sleep(Duration::from_millis(500));
    let second = gdb(&emu.addr, &["p/x $pc"]);
    assert!(
        second.contains("Connection reset by peer")
            || second.contains("Remote connection closed")
            || second.contains("Remote communication error"),
        "the second client was not refused: {second}"
    );
    let _ = first.stdin.take();
    let out = collect(first);
    in_order(&out, &["Breakpoint 1, spin () at", "$1 = 0x", "detached"]);
}

#[test]
fn load_writes_the_program_through_the_stub() {
    let emu = Emu::start(&["--halted"]);
    // Clobber the code, then `load` it back over X packets and run it.
    let out = gdb(
        &emu.addr,
        &[
            "set {int}main = 0",
            "x/x main",
            "load",
            "x/i main",
            "break peek",
            "continue",
            "p results[0]",
        ],
    );
    in_order(
        &out,
        &[
            ":\t0x00000000",
            "Loading section .text",
            "Transfer rate",
            "<main>:",
            "Breakpoint 1, peek ()",
            "$1 = 285",
        ],
    );
}

/// Registers after `n` stepi from main: GDB's `info registers` of the integer registers.
fn registers_after_stepi(addr: &str, n: usize) -> Vec<String> {
    let steps = format!("stepi {n}");
    let out = gdb(
        addr,
        &[
            "break main",
            "continue",
            &steps,
            "info registers pc ra sp gp tp t0 t1 t2 fp s1 a0 a3 a4 a5 a6 a7 s2 s3",
        ],
    );
    let regs: Vec<String> = out
        .lines()
        .filter(|l| {
            let name = l.split_whitespace().next().unwrap_or("");
            [
                "pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a3", "a4", "a5",
                "a6", "a7", "s2", "s3",
            ]
            .contains(&name)
        })
        .map(str::to_string)
        .collect();
    assert_eq!(regs.len(), 18, "{out}");
    regs
}

#[test]
fn stepi_matches_qemu() {
    let emu = Emu::start(&["--halted"]);
    let ours = registers_after_stepi(&emu.addr, 300);
    drop(emu);

    let port = free_port();
    let mut qemu = Command::new(tool("qemu-system-riscv64"))
        .args(["-M", "virt", "-bios", "none", "-cpu", "rv64", "-nographic"])
        .args(["-monitor", "none", "-serial", "null", "-S", "-gdb"])
        .arg(format!("tcp:127.0.0.1:{port}"))
        .arg("-kernel")
        .arg(guest())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu-system-riscv64");
    // QEMU listens before it starts the guest; wait for the port.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "QEMU's GDB port never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
    // That probe connection was QEMU's one client: it is gone now; connect GDB.
    std::thread::sleep(Duration::from_millis(100));
    let theirs = registers_after_stepi(&format!("127.0.0.1:{port}"), 300);
    let _ = qemu.kill();
    let _ = qemu.wait();
    assert_eq!(ours, theirs);
}

/// A kernel in miniature (`tests/guests/kernel`): S-mode under Sv39, its text mapped
/// without write permission, `mstatus.MPP` = U after the firmware's `mret`. GDB reads and
/// writes its variables through its page tables and plants software breakpoints in its
/// read-only text (inserting and removing them while the hart is in S-mode).
#[test]
fn kernel_in_s_mode_with_paging() {
    let elf = emu_tests::guest::cached("kernel", Path::new(env!("CARGO_TARGET_TMPDIR")));
    let mut emu = Emu::start_on(&elf, &["--halted"]);
    let out = collect(
        gdb_cmd_on(
            &elf,
            &emu.addr,
            &[
                // Inserted in M-mode at the reset vector, removed in S-mode.
                "break kernel_main",
                "continue",
                "p $priv",
                "info threads",
                "p/x $satp",
                "p/x ($mstatus >> 11) & 3",
                "delete",
                // Inserted and hit in S-mode.
                "break tick",
                "continue",
                "continue",
                "p ticks",
                "x/2i $pc",
                "set var ticks = 10",
                "p ticks",
                "delete",
                "continue",
            ],
        )
        .spawn()
        .expect("start gdb-multiarch"),
    );
    eprintln!("---- gdb ----\n{out}");
    in_order(
        &out,
        &[
            "Breakpoint 1, kernel_main () at",
            "$1 = 1", // S-mode
            "Thread 1.1 (hart 0, S-mode)",
            "$2 = 0x80000000000", // Sv39
            "$3 = 0x0",
            "Breakpoint 2, tick () at",
            "Breakpoint 2, tick () at",
            "$4 = 1",
            "<tick+",
            "$5 = 10",
        ],
    );
    assert!(!out.contains("Cannot"), "every access worked");
    // Four more ticks on top of the 10 GDB wrote: the guest exits with the count.
    assert_eq!(emu.wait_exit(), Some(14));
}
