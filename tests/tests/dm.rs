//! The Debug Module driven through DMI, as a debugger would, against a running machine on
//! both engines: halting, resuming, stepping, Access Register for GPRs/CSRs/FPRs, the program
//! buffer, abstractauto, command errors, multi-hart selection, and the register values the
//! Debug Specification 1.0 prescribes.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod dmi;

use dmi::*;
use emu_asm::Asm;
use emu_asm::reg::*;
use emu_dm::regs::{self, abstractcs, dmcontrol as dc, dmstatus as ds};
use emu_isa::{Op, Xlen};

/// Values the spec fixes: version, impebreak, data/progbuf sizes, hartinfo, hartsel WARL.
#[test]
fn dmi_register_values() {
    let m = start("interp", 3);
    let d = Dbg(&m.dm);
    assert_eq!(d.r(regs::DMSTATUS), 0, "inactive DM reads 0");
    d.select(0);
    let table: &[(u8, u32, u32, &str)] = &[
        (regs::DMSTATUS, 0xf, ds::VERSION_1_0, "version 1.0"),
        (regs::DMSTATUS, ds::IMPEBREAK, ds::IMPEBREAK, "impebreak"),
        (
            regs::DMSTATUS,
            ds::AUTHENTICATED,
            ds::AUTHENTICATED,
            "authenticated",
        ),
        (regs::DMSTATUS, ds::ALLRUNNING, ds::ALLRUNNING, "running"),
        (regs::DMSTATUS, ds::ANYHALTED, 0, "not halted"),
        (
            regs::DMSTATUS,
            ds::ALLHAVERESET,
            ds::ALLHAVERESET,
            "havereset after reset",
        ),
        (regs::ABSTRACTCS, 0x1f << 24, 16 << 24, "progbufsize 16"),
        (regs::ABSTRACTCS, 0xf, 12, "datacount 12"),
        (regs::ABSTRACTCS, abstractcs::BUSY, 0, "not busy"),
        (regs::HARTINFO, 0xf << 20, 2 << 20, "nscratch 2"),
        (
            regs::HARTINFO,
            1 << 16 | 0xf << 12,
            1 << 16 | 12 << 12,
            "data memory-mapped",
        ),
        (regs::NEXTDM, u32::MAX, 0, "one DM"),
        (0x7f, u32::MAX, 0, "unknown registers read 0"),
    ];
    for &(reg, mask, want, what) in table {
        assert_eq!(d.r(reg) & mask, want, "{what}");
    }
    // hartsel is WARL: all ones reads back the bits that exist (2 for 3 harts).
    d.w(regs::DMCONTROL, 0x3ff << 16 | 0x3ff << 6 | dc::DMACTIVE);
    assert_eq!(d.r(regs::DMCONTROL) >> 16 & 0x3ff, 3);
    let st = d.r(regs::DMSTATUS);
    assert_ne!(st & ds::ALLNONEXISTENT, 0, "hart 3 of 3 does not exist");
    // ackhavereset clears havereset of the selected hart only.
    d.w(regs::DMCONTROL, 1 << 16 | dc::ACKHAVERESET | dc::DMACTIVE);
    assert_eq!(d.r(regs::DMSTATUS) & ds::ANYHAVERESET, 0);
    d.select(0);
    assert_ne!(d.r(regs::DMSTATUS) & ds::ALLHAVERESET, 0);
    stop(m);
}

#[test]
fn halt_read_write_resume() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.select(0);
        d.halt_in_loop(0);
        let st = d.r(regs::DMSTATUS);
        assert_ne!(st & ds::ALLHALTED, 0, "halted at once");
        assert_eq!(st & ds::ANYRUNNING, 0);
        let dcsr = d.read_reg(DCSR);
        assert_eq!(dcsr >> 6 & 7, 3, "cause haltreq");
        let dpc = d.read_reg(DPC);
        assert!((BASE..BASE + 12).contains(&dpc), "dpc {dpc:#x}");
        let s0 = d.gpr(S0);
        assert!(s0 > 0);
        // Halted between the two addis, s1 lags by one.
        let lag = if dpc == BASE + 4 { 2 } else { 0 };
        assert_eq!(d.gpr(S1), 2 * s0 - lag);
        d.write_reg(0x1000 + S0 as u32, 1_000_000);
        assert_eq!(d.gpr(S0), 1_000_000);
        // Clear haltreq, then resume.
        d.select(0);
        d.resume(0);
        let st = d.r(regs::DMSTATUS);
        assert_ne!(st & ds::ALLRESUMEACK, 0);
        assert_ne!(st & ds::ALLRUNNING, 0);
        // It runs on from the written value (however long the host takes to schedule it).
        let mut ran = false;
        for _ in 0..1000 {
            std::thread::sleep(std::time::Duration::from_millis(2));
            d.halt(0);
            ran = d.gpr(S0) > 1_000_000;
            if ran {
                break;
            }
            d.resume(0);
        }
        assert!(ran, "it ran on from the written value");
        stop(m);
    });
}

/// dcsr.step + resumereq: exactly one instruction, and the first dmstatus read shows the
/// hart halted again (cause step).
#[test]
fn step_executes_one_instruction() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt_in_loop(0);
        let dcsr = d.read_reg(DCSR);
        d.write_reg(DCSR, dcsr | 4);
        for _ in 0..20 {
            let (pc, n, s0) = (d.read_reg(DPC), d.read_reg(MINSTRET), d.gpr(S0));
            d.resume(0);
            assert_ne!(d.r(regs::DMSTATUS) & ds::ALLHALTED, 0, "halted again");
            let next = match pc - BASE {
                0 => BASE + 4,
                4 => BASE + 8,
                _ => BASE,
            };
            assert_eq!(d.read_reg(DPC), next);
            assert_eq!(d.read_reg(MINSTRET), n + 1, "one instruction retired");
            assert_eq!(d.gpr(S0), s0 + (pc == BASE) as u64);
            assert_eq!(d.read_reg(DCSR) >> 6 & 7, 4, "cause step");
        }
        stop(m);
    });
}

/// cmderr: not halted (4), unsupported (2), exception (3); sticky until cleared; busy rules.
#[test]
fn command_errors() {
    let m = start("jit", 1);
    let d = Dbg(&m.dm);
    d.select(0);
    d.w(regs::COMMAND, 3 << 20 | 1 << 17 | 0x1008);
    assert_eq!(d.cmderr(), 4, "hart running");
    d.w(regs::COMMAND, 3 << 20 | 1 << 17 | 0x1008);
    assert_eq!(d.cmderr(), 4, "ignored while cmderr is set");
    d.clear_cmderr();
    assert_eq!(d.cmderr(), 0);
    d.halt_in_loop(0);
    for (cmd, what) in [
        (4 << 20 | 1 << 17 | 0x1008, "aarsize 128"),
        (3 << 20 | 1 << 17 | 0xc000, "no such register"),
        (1 << 24 | 1, "quick access with nonzero bits"),
        (2 << 24 | 4 << 20, "128-bit memory access"),
        (9 << 24, "unknown command type"),
    ] {
        d.w(regs::COMMAND, cmd);
        assert_eq!(d.cmderr(), 2, "{what}");
        d.clear_cmderr();
    }
    // Quick Access needs a running hart.
    d.w(regs::COMMAND, 1 << 24);
    assert_eq!(d.cmderr(), 4, "quick access on a halted hart");
    d.clear_cmderr();
    // A CSR the hart lacks raises illegal instruction in the program: cmderr exception,
    // and the register the program borrowed is put back.
    d.write_reg(0x1000 + S0 as u32, 0x5eed);
    for write in [false, true] {
        d.w(regs::DATA0, 0xdead);
        d.w(
            regs::COMMAND,
            3 << 20 | 1 << 17 | (write as u32) << 16 | 0x7ff,
        );
        assert_eq!(d.cmderr(), 3);
        d.clear_cmderr();
        assert_eq!(
            d.gpr(S0),
            0x5eed,
            "s0 restored after a fault (write {write})"
        );
    }
    // The hart is still halted and usable.
    assert_ne!(d.r(regs::DMSTATUS) & ds::ALLHALTED, 0);
    assert!(d.gpr(S0) > 0);
    stop(m);
}

/// FPRs (the program enables the FP unit for the access) and 32-bit accesses.
#[test]
fn fprs_and_narrow_access() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt(0);
        let mstatus = d.read_reg(0x300);
        assert_eq!(
            mstatus >> 13 & 3,
            0,
            "the guest starts with the FP unit off"
        );
        d.write_reg(0x1020 + 3, 0x4009_21fb_5444_2d18);
        assert_eq!(d.read_reg(0x1020 + 3), 0x4009_21fb_5444_2d18);
        assert_eq!(
            d.read_reg(0x300) >> 13 & 3,
            mstatus >> 13 & 3,
            "FS as it was (off)"
        );
        // fflags, frm and fcsr too, with the unit off: one register seen three ways.
        d.write_reg(0x003, 3 << 5 | 0x15);
        assert_eq!(d.read_reg(0x001), 0x15);
        assert_eq!(d.read_reg(0x002), 3);
        d.write_reg(0x002, 1);
        d.write_reg(0x001, 0x0a);
        assert_eq!(d.read_reg(0x003), 1 << 5 | 0x0a);
        assert_eq!(d.read_reg(0x300), mstatus, "mstatus as it was");
        // With the unit on (clean), a write leaves it dirty; a read leaves it clean.
        d.write_reg(0x300, mstatus | 1 << 13);
        assert_eq!(d.read_reg(0x003), 1 << 5 | 0x0a);
        assert_eq!(d.read_reg(0x300) >> 13 & 3, 1, "a read keeps FS clean");
        d.write_reg(0x003, 0);
        assert_eq!(d.read_reg(0x300) >> 13 & 3, 3, "a write makes FS dirty");
        d.write_reg(0x300, mstatus);
        // aarsize 2: the low 32 bits.
        d.write_reg(0x1000 + S1 as u32, 0x1234_5678_9abc_def0);
        d.w(regs::COMMAND, 2 << 20 | 1 << 17 | (0x1000 + S1 as u32));
        assert_eq!(d.r(regs::DATA0), 0x9abc_def0);
        stop(m);
    });
}

/// The program buffer runs after the transfer (postexec), ends at the implicit ebreak, and
/// abstractauto re-runs the command on each data0 write.
#[test]
fn progbuf_and_abstractauto() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt(0);
        d.write_reg(0x1000 + S1 as u32, 0);
        // progbuf0: add s1, s1, a0 (a0 = data written by the command).
        let mut a = Asm::new(Xlen::X64, 0);
        a.r(Op::Add, S1, S1, A0);
        let code = a.finish().unwrap();
        d.w(
            regs::PROGBUF0,
            u32::from_le_bytes(code[..4].try_into().unwrap()),
        );
        d.w(regs::PROGBUF0 + 1, 0x0010_0073); // ebreak
        // Command: write a0 from data0 (64-bit), then postexec.
        let cmd = 3 << 20 | 1 << 18 | 1 << 17 | 1 << 16 | (0x1000 + A0 as u32);
        d.w(regs::DATA0 + 1, 0);
        d.w(regs::DATA0, 5);
        d.w(regs::COMMAND, cmd);
        assert_eq!(d.cmderr(), 0);
        d.w(regs::ABSTRACTAUTO, 1); // autoexecdata for data0
        for k in 1..=10 {
            d.w(regs::DATA0, k);
        }
        d.w(regs::ABSTRACTAUTO, 0);
        assert_eq!(d.gpr(S1), 5 + 55);
        stop(m);
    });
}

/// Two harts: the hart array mask selects both; halt and resume them together; haltsum0.
#[test]
fn hart_array_halts_and_resumes_together() {
    each_engine(|e| {
        let m = start(e, 2);
        let d = Dbg(&m.dm);
        d.select(0);
        d.w(regs::HAWINDOWSEL, 0);
        d.w(regs::HAWINDOW, 0b11);
        assert_eq!(d.r(regs::HAWINDOW), 0b11);
        d.w(regs::DMCONTROL, dc::HALTREQ | dc::HASEL | dc::DMACTIVE);
        d.w(regs::DMCONTROL, dc::HASEL | dc::DMACTIVE);
        assert_ne!(d.r(regs::DMSTATUS) & ds::ALLHALTED, 0);
        assert_eq!(d.r(regs::HALTSUM0), 0b11);
        assert_eq!(d.r(regs::HALTSUM1), 1);
        d.w(regs::DMCONTROL, dc::RESUMEREQ | dc::HASEL | dc::DMACTIVE);
        let st = d.r(regs::DMSTATUS);
        assert_ne!(st & ds::ALLRESUMEACK, 0);
        assert_ne!(st & ds::ALLRUNNING, 0);
        assert_eq!(d.r(regs::HALTSUM0), 0);
        // One hart alone.
        d.halt(1);
        assert_eq!(d.r(regs::HALTSUM0), 0b10);
        d.resume(1);
        stop(m);
    });
}

/// dmactive = 0 resets the DM's registers (not the harts).
#[test]
fn dmactive_resets_the_module() {
    let m = start("interp", 1);
    let d = Dbg(&m.dm);
    d.halt(0);
    d.w(regs::DATA0, 0x55);
    d.w(regs::PROGBUF0 + 3, 0x66);
    d.w(regs::ABSTRACTAUTO, 3);
    d.w(regs::DMCONTROL, 0);
    assert_eq!(d.r(regs::DMCONTROL), 0);
    d.select(0);
    assert_eq!(d.r(regs::DATA0), 0);
    assert_eq!(d.r(regs::PROGBUF0 + 3), 0);
    assert_eq!(d.r(regs::ABSTRACTAUTO), 0);
    assert_ne!(
        d.r(regs::DMSTATUS) & ds::ALLHALTED,
        0,
        "the hart stays halted"
    );
    d.resume(0);
    stop(m);
}
