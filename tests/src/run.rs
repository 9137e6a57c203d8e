//! Running a guest ELF to completion: on emu in-process (console captured), and on QEMU as a
//! child process (serial on stdout), both with time limits so a broken program cannot hang a
//! test run.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emu_core::IsaConfig;
use emu_machine::{Console, Machine, MachineConfig, RunOutcome};

/// What a guest printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRun {
    /// Console output.
    pub output: String,
    /// Exit code (the guest's, or 124 when stopped by the limit).
    pub code: i32,
}

/// Run `elf` on emu's interpreter with at most `max_insns` instructions per hart.
pub fn run_emu(
    elf: &[u8],
    harts: usize,
    isa: Option<IsaConfig>,
    max_insns: u64,
) -> (GuestRun, RunOutcome) {
    run_emu_with_input(elf, harts, isa, max_insns, b"")
}

/// [`run_emu`] with `input` waiting on the UART.
pub fn run_emu_with_input(
    elf: &[u8],
    harts: usize,
    isa: Option<IsaConfig>,
    max_insns: u64,
    input: &[u8],
) -> (GuestRun, RunOutcome) {
    run_emu_engine(elf, harts, isa, max_insns, input, None)
}

/// Run `elf` on emu with the JIT engine.
pub fn run_emu_jit(elf: &[u8], max_insns: u64, input: &[u8]) -> (GuestRun, RunOutcome) {
    run_emu_jit_with(elf, max_insns, input, false)
}

/// [`run_emu_jit`], optionally with every block a single instruction.
pub fn run_emu_jit_with(
    elf: &[u8],
    max_insns: u64,
    input: &[u8],
    single_step: bool,
) -> (GuestRun, RunOutcome) {
    let factory: emu_machine::EngineFactory = std::sync::Arc::new(move |_| {
        let cfg = emu_jit::JitConfig {
            single_step,
            ..emu_jit::JitConfig::default()
        };
        Box::new(emu_jit::JitEngine::new(cfg).expect("host runs the JIT"))
            as Box<dyn emu_core::Engine>
    });
    run_emu_engine(elf, 1, None, max_insns, input, Some(factory))
}

fn run_emu_engine(
    elf: &[u8],
    harts: usize,
    isa: Option<IsaConfig>,
    max_insns: u64,
    input: &[u8],
    engine: Option<emu_machine::EngineFactory>,
) -> (GuestRun, RunOutcome) {
    let (console, buf) = Console::capture();
    console.push_input(input);
    let cfg = MachineConfig {
        harts,
        isa,
        max_instructions: Some(max_insns),
        console,
        engine,
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, elf).unwrap_or_else(|e| panic!("emu refused the program: {e}"));
    let out = m.run();
    let text = String::from_utf8_lossy(&buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    (
        GuestRun {
            output: text,
            code: out.exit_code(),
        },
        out,
    )
}

/// QEMU's `-cpu` value with every extension of emu's that QEMU 7.2 implements.
pub fn qemu_cpu(xlen_bits: u32) -> String {
    format!("rv{xlen_bits},Zfh=true,zbkb=true,zbkx=true")
}

/// Run `elf` (written to `path`) under `qemu-system-riscv{32,64} -M virt -bios none`, killing
/// it after `timeout`.
pub fn run_qemu(
    path: &std::path::Path,
    xlen_bits: u32,
    harts: usize,
    timeout: Duration,
) -> GuestRun {
    run_qemu_with_input(path, xlen_bits, harts, timeout, b"")
}

/// [`run_qemu`] with `input` fed to the serial port (QEMU's stdin).
pub fn run_qemu_with_input(
    path: &std::path::Path,
    xlen_bits: u32,
    harts: usize,
    timeout: Duration,
    input: &[u8],
) -> GuestRun {
    let bin = crate::tool(&format!("qemu-system-riscv{xlen_bits}"));
    let mut child = Command::new(bin)
        .args([
            "-M", "virt", "-bios", "none", "-display", "none", "-monitor", "none", "-serial",
            "stdio",
        ])
        .args(["-cpu", &qemu_cpu(xlen_bits)])
        .args(["-smp", &harts.to_string(), "-m", "128M", "-kernel"])
        .arg(path)
        .stdin(if input.is_empty() {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qemu");
    // Keep stdin open until QEMU exits: an EOF on the serial backend is not an input.
    let mut stdin = child.stdin.take();
    if let Some(s) = stdin.as_mut() {
        use std::io::Write;
        let _ = s.write_all(input);
    }
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait qemu") {
            break Some(st);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    drop(stdin.take());
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    GuestRun {
        output: out,
        code: status.and_then(|s| s.code()).unwrap_or(124),
    }
}
