//! Debug Module latency, in-process through DMI against a running machine on the JIT
//! (the ROM, the abstract programs and the stepped instructions all run as translated code):
//! single step, halt, resume, and an abstract 64-bit register read.
//!
//! `cargo bench -p emu-benches --bench dm`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use emu_asm::Asm;
use emu_asm::reg::*;
use emu_benches::BASE;
use emu_core::Engine;
use emu_dm::DebugModule;
use emu_dm::regs::{self, dmcontrol as dc, dmstatus as ds};
use emu_isa::Xlen;
use emu_jit::{JitConfig, JitEngine};
use emu_machine::{Console, Machine, MachineConfig};

fn program() -> Vec<u8> {
    let mut a = Asm::new(Xlen::X64, BASE);
    let lp = a.here();
    a.addi(S0, S0, 1);
    a.addi(S1, S1, 2);
    a.j(lp);
    let code = a.finish().unwrap_or_else(|e| panic!("{e}"));
    emu_asm::elf::write_elf(Xlen::X64, BASE, &code, BASE, &[])
}

const HALT: u32 = dc::HALTREQ | dc::DMACTIVE;
const RESUME: u32 = dc::RESUMEREQ | dc::DMACTIVE;

fn halted(dm: &DebugModule) -> bool {
    dm.dmi_read(regs::DMSTATUS) & ds::ALLHALTED != 0
}

/// Read a register through Access Register (64-bit).
fn read_reg(dm: &DebugModule, regno: u32) -> u64 {
    dm.dmi_write(regs::COMMAND, 3 << 20 | 1 << 17 | regno);
    dm.dmi_read(regs::DATA0) as u64 | (dm.dmi_read(regs::DATA0 + 1) as u64) << 32
}

fn write_reg(dm: &DebugModule, regno: u32, v: u64) {
    dm.dmi_write(regs::DATA0, v as u32);
    dm.dmi_write(regs::DATA0 + 1, (v >> 32) as u32);
    dm.dmi_write(regs::COMMAND, 3 << 20 | 1 << 17 | 1 << 16 | regno);
}

fn latency(c: &mut Criterion) {
    let (console, _) = Console::capture();
    let cfg = MachineConfig {
        console,
        engine: Some(Arc::new(|_| {
            Box::new(JitEngine::new(JitConfig::default()).unwrap_or_else(|e| panic!("{e}")))
                as Box<dyn Engine>
        })),
        ..MachineConfig::default()
    };
    let m = Machine::new(cfg, &program())
        .unwrap_or_else(|e| panic!("{e}"))
        .start();
    let dm = m.dm.clone();
    dm.dmi_write(regs::DMCONTROL, dc::DMACTIVE);
    std::thread::sleep(Duration::from_millis(20));
    let mut g = c.benchmark_group("dm");
    g.bench_function("halt", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                dm.dmi_write(regs::DMCONTROL, dc::DMACTIVE);
                dm.dmi_write(regs::DMCONTROL, RESUME);
                // Let the guest run on its own thread for a while: the halt must reach a
                // running hart.
                let ran = Instant::now();
                while ran.elapsed() < Duration::from_micros(300) {
                    std::hint::spin_loop();
                }
                let s = Instant::now();
                dm.dmi_write(regs::DMCONTROL, HALT);
                t += s.elapsed();
                assert!(halted(&dm));
            }
            t
        })
    });
    g.bench_function("resume", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                dm.dmi_write(regs::DMCONTROL, HALT);
                dm.dmi_write(regs::DMCONTROL, dc::DMACTIVE);
                let s = Instant::now();
                dm.dmi_write(regs::DMCONTROL, RESUME);
                t += s.elapsed();
                assert!(dm.dmi_read(regs::DMSTATUS) & ds::ALLRESUMEACK != 0);
            }
            t
        })
    });
    dm.dmi_write(regs::DMCONTROL, HALT);
    dm.dmi_write(regs::DMCONTROL, dc::DMACTIVE);
    g.bench_function("register_read", |b| {
        b.iter(|| read_reg(&dm, 0x1000 + S0 as u32))
    });
    let dcsr = read_reg(&dm, 0x7b0);
    write_reg(&dm, 0x7b0, dcsr | 4);
    g.bench_function("step", |b| {
        b.iter(|| {
            dm.dmi_write(regs::DMCONTROL, RESUME);
            assert!(halted(&dm));
        })
    });
    g.finish();
    m.signals.exit_host();
    drop(m.join());
}

criterion_group!(benches, latency);
criterion_main!(benches);
