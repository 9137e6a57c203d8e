//! Debug latency, in-process against a running machine on the JIT (the Debug Module's ROM,
//! the abstract programs and the stepped instructions all run as translated code):
//! through the run-control API (`runctl/*`: what the MCD and GDB front ends pay) and as raw
//! DMI accesses (`dmi/*`: what a DTM pays): single step, halt of a running hart, resume,
//! abstract register read, 4 KiB read over the system bus and through Access Memory (and
//! virtually, as a kernel halted in S-mode sees it), trigger arm+disarm.
//!
//! `cargo bench -p emu-benches --bench dm`
//!
//! With `EMU_BENCH_LOW_LATENCY=1` the host's idle CPUs are held polling for the run
//! (`emu --low-latency`; see `docs/performance.md`).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use emu_asm::reg::*;
use emu_benches::BASE;
use emu_dm::DebugModule;
use emu_dm::regs::{self, dmcontrol as dc, dmstatus as ds};
use emu_runctl::{MemSpace, RegId, RunControl};

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

/// Let the guest run on its own thread for a while, so a halt reaches a running hart.
fn let_run() {
    let t = Instant::now();
    while t.elapsed() < Duration::from_micros(300) {
        std::hint::spin_loop();
    }
}

fn latency(c: &mut Criterion) {
    let _low_latency = emu_benches::low_latency();
    let m = emu_benches::start_jit(&emu_benches::endless_loop(), false);
    let dm = m.dm.clone();
    let rc = RunControl::new(dm.clone()).unwrap_or_else(|| panic!("one RunControl"));
    std::thread::sleep(Duration::from_millis(20));
    let ok = |r: emu_runctl::Result<()>| r.unwrap_or_else(|e| panic!("{e}"));

    let mut g = c.benchmark_group("runctl");
    g.bench_function("halt", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                ok(rc.resume(0));
                let_run();
                let s = Instant::now();
                ok(rc.halt(0));
                t += s.elapsed();
            }
            t
        })
    });
    g.bench_function("resume", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                ok(rc.halt(0));
                let s = Instant::now();
                ok(rc.resume(0));
                t += s.elapsed();
            }
            t
        })
    });
    ok(rc.halt(0));
    g.bench_function("register_read", |b| {
        b.iter(|| rc.read_register(0, RegId::Gpr(S0)))
    });
    g.bench_function("core_registers_read", |b| {
        b.iter(|| rc.read_core_registers(0).unwrap_or_else(|e| panic!("{e}")))
    });
    g.bench_function("step", |b| b.iter(|| rc.step(0)));
    let mut buf = vec![0u8; 4096];
    g.bench_function("read_4k_sba", |b| {
        b.iter(|| rc.read_memory_sba(BASE + 0x10_0000, &mut buf))
    });
    g.bench_function("read_4k_access_memory", |b| {
        b.iter(|| rc.read_memory_abstract(0, MemSpace::Physical, BASE + 0x10_0000, &mut buf))
    });
    // A kernel's view: halted in S-mode under Sv39 (VA 0x4000_0000 maps RAM), MPP = U.
    // `read_4k_virtual` is what GDB's `m` and MCD's LOGICAL space pay (through the page
    // tables); `read_4k_virtual_access_memory` the same read one command per word.
    let reg = |r: u16| {
        rc.read_register(0, RegId::Csr(r))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let set = |r: u16, v: u64| ok(rc.write_register(0, RegId::Csr(r), v));
    let root = BASE + 0x20_0000;
    let table = [0u64, (BASE >> 12) << 10 | 0xcf];
    let bytes: Vec<u8> = table.iter().flat_map(|e| e.to_le_bytes()).collect();
    ok(rc.write_memory_sba(root, &bytes));
    let (dcsr, mstatus) = (reg(0x7b0), reg(0x300));
    set(0x3b0, u64::MAX);
    set(0x3a0, 0x1f);
    set(0x180, 8 << 60 | root >> 12);
    set(0x7b0, dcsr & !3 | 1);
    set(0x300, mstatus & !(3 << 11));
    let va = 0x4000_0000 + 0x10_0000;
    ok(rc.read_memory(0, MemSpace::Virtual, va, &mut buf));
    g.bench_function("read_4k_virtual", |b| {
        b.iter(|| rc.read_memory(0, MemSpace::Virtual, va, &mut buf))
    });
    g.bench_function("read_4k_virtual_access_memory", |b| {
        b.iter(|| rc.read_memory_abstract(0, MemSpace::Virtual, va, &mut buf))
    });
    set(0x180, 0);
    set(0x7b0, dcsr);
    set(0x300, mstatus);
    g.bench_function("trigger_arm_disarm", |b| {
        b.iter(|| {
            let id = rc
                .add_breakpoint(0, BASE + 0x100)
                .unwrap_or_else(|e| panic!("{e}"));
            ok(rc.remove_trigger(id));
        })
    });
    g.finish();

    // The same through raw DMI (the hart is halted here).
    let mut g = c.benchmark_group("dmi");
    g.bench_function("halt", |b| {
        b.iter_custom(|n| {
            let mut t = Duration::ZERO;
            for _ in 0..n {
                dm.dmi_write(regs::DMCONTROL, dc::DMACTIVE);
                dm.dmi_write(regs::DMCONTROL, RESUME);
                let_run();
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
    write_reg(&dm, 0x7b0, dcsr);
    g.finish();
    m.signals.exit_host();
    drop(m.join());
}

criterion_group!(benches, latency);
criterion_main!(benches);
