//! Debug Module features beyond halting and Access Register, driven through DMI against a
//! running machine: Access Memory (every size, post-increment, physical and virtual, faults),
//! Quick Access, System Bus Access (auto-increment, read-on-address/data, sticky errors,
//! writes to running code), resets (ndmreset of the whole system, hartreset, resethaltreq,
//! unavailable harts), halt and resume groups with external triggers, writes while busy,
//! and authentication.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

mod dmi;

use std::time::{Duration, Instant};

use dmi::*;
use emu_asm::reg::*;
use emu_dm::SharedSecret;
use emu_dm::regs::{self, dmcontrol as dc, dmcs2, dmstatus as ds, sbcs};

const MSTATUS: u32 = 0x300;
const SATP: u32 = 0x180;
/// A RAM page the counting loop never touches.
const SCRATCH: u64 = BASE + 0x10_0000;

impl Dbg<'_> {
    /// Access Memory (aamsize `size`), 64-bit arguments.
    fn mem(&self, addr: u64, size: u32, write: Option<u64>, virt: bool, postinc: bool) -> u32 {
        self.w(regs::DATA0 + 2, addr as u32);
        self.w(regs::DATA0 + 3, (addr >> 32) as u32);
        if let Some(v) = write {
            self.w(regs::DATA0, v as u32);
            self.w(regs::DATA0 + 1, (v >> 32) as u32);
        }
        let cmd = 2 << 24
            | (virt as u32) << 23
            | size << 20
            | (postinc as u32) << 19
            | (write.is_some() as u32) << 16;
        self.w(regs::COMMAND, cmd);
        let e = self.cmderr();
        self.clear_cmderr();
        e
    }
    fn data64(&self) -> u64 {
        self.r(regs::DATA0) as u64 | (self.r(regs::DATA0 + 1) as u64) << 32
    }
    fn arg1(&self) -> u64 {
        self.r(regs::DATA0 + 2) as u64 | (self.r(regs::DATA0 + 3) as u64) << 32
    }
    fn status(&self) -> u32 {
        self.r(regs::DMSTATUS)
    }
    fn sb_setup(&self, access: u32, extra: u32) {
        self.w(regs::SBCS, access << sbcs::ACCESS_SHIFT | extra);
    }
    fn sb_error(&self) -> u32 {
        self.r(regs::SBCS) >> sbcs::ERROR_SHIFT & 7
    }
    fn sb_write64(&self, addr: u64, v: u64) {
        self.sb_setup(3, 0);
        self.w(regs::SBADDRESS1, (addr >> 32) as u32);
        self.w(regs::SBADDRESS0, addr as u32);
        self.w(regs::SBDATA1, (v >> 32) as u32);
        self.w(regs::SBDATA0, v as u32);
    }
    fn sb_read32(&self, addr: u64) -> u32 {
        self.sb_setup(2, sbcs::READONADDR);
        self.w(regs::SBADDRESS1, (addr >> 32) as u32);
        self.w(regs::SBADDRESS0, addr as u32);
        self.r(regs::SBDATA0)
    }
}

fn wait_until(what: &str, f: impl Fn() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(10), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn access_memory_every_size_and_postincrement() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt_in_loop(0);
        // Write 64 bits, read back each size at each offset.
        assert_eq!(
            d.mem(SCRATCH, 3, Some(0x8877_6655_4433_2211), false, false),
            0
        );
        for (size, mask) in [
            (0u32, 0xffu64),
            (1, 0xffff),
            (2, 0xffff_ffff),
            (3, u64::MAX),
        ] {
            let bytes = 1u64 << size;
            for off in (0..8).step_by(bytes as usize) {
                assert_eq!(d.mem(SCRATCH + off, size, None, false, false), 0);
                let want = (0x8877_6655_4433_2211u64 >> (8 * off)) & mask;
                assert_eq!(d.data64() & mask, want, "size {size} offset {off}");
            }
        }
        // Narrow writes touch only their bytes.
        assert_eq!(d.mem(SCRATCH + 2, 1, Some(0xbeef), false, false), 0);
        assert_eq!(d.mem(SCRATCH, 3, None, false, false), 0);
        assert_eq!(d.data64(), 0x8877_6655_beef_2211);
        // Post-increment: a block written and read with abstractauto on data0.
        d.w(regs::DATA0 + 2, SCRATCH as u32 + 0x100);
        d.w(regs::DATA0 + 3, (SCRATCH >> 32) as u32);
        d.w(regs::DATA0, 0);
        d.w(regs::COMMAND, 2 << 24 | 2 << 20 | 1 << 19 | 1 << 16);
        d.w(regs::ABSTRACTAUTO, 1);
        for k in 1..=16u32 {
            d.w(regs::DATA0, k * 0x0101_0101);
        }
        d.w(regs::ABSTRACTAUTO, 0);
        assert_eq!(d.cmderr(), 0);
        assert_eq!(
            d.arg1(),
            SCRATCH + 0x100 + 4 * 17,
            "arg1 advanced per access"
        );
        for k in 1..=16u64 {
            assert_eq!(d.sb_read32(SCRATCH + 0x100 + 4 * k), k as u32 * 0x0101_0101);
        }
        // 128-bit accesses are refused.
        assert_eq!(d.mem(SCRATCH, 4, None, false, false), 2);
        stop(m);
    });
}

/// Virtual accesses translate as M-mode with MPRV (MPP = S here, Sv39); physical ones do
/// not, whatever mstatus says. A fault leaves cmderr = exception and every register and
/// CSR the program borrowed as it was.
#[test]
fn access_memory_virtual_physical_and_faults() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt_in_loop(0);
        // Sv39 root table at SCRATCH + 0x1000: VA 0x4000_0000 (gigapage 1) -> PA 0x8000_0000.
        let root = SCRATCH + 0x1000;
        let leaf = (0x8000_0000u64 >> 12) << 10 | 0xcf; // V R W X A D
        assert_eq!(d.mem(root + 8, 3, Some(leaf), false, false), 0);
        assert_eq!(
            d.mem(SCRATCH + 0x40, 3, Some(0x1122_3344_5566_7788), false, false),
            0
        );
        // PMP: everything for S-mode (the reset state allows nothing below M).
        d.write_reg(0x3b0, u64::MAX);
        d.write_reg(0x3a0, 0x1f);
        d.write_reg(SATP, 8 << 60 | root >> 12);
        let ms = d.read_reg(MSTATUS);
        let mpp_s = ms & !(3 << 11) | 1 << 11;
        d.write_reg(MSTATUS, mpp_s);
        let va = 0x4000_0000 + (SCRATCH - BASE) + 0x40;
        assert_eq!(d.mem(va, 3, None, true, false), 0, "virtual read");
        assert_eq!(d.data64(), 0x1122_3344_5566_7788);
        // With MPRV set in mstatus, a physical access is still physical.
        d.write_reg(MSTATUS, mpp_s | 1 << 17);
        assert_eq!(d.mem(SCRATCH + 0x40, 3, None, false, false), 0, "physical");
        assert_eq!(d.data64(), 0x1122_3344_5566_7788);
        d.write_reg(MSTATUS, mpp_s);
        // An unmapped virtual address faults; nothing the program borrowed changes.
        let (s0, s1, dcsr) = (d.gpr(S0), d.gpr(S1), d.read_reg(DCSR));
        assert_eq!(d.mem(0x7000_0000, 3, None, true, false), 3, "page fault");
        assert_eq!(
            d.mem(0x10_0000_0000, 2, None, false, false),
            3,
            "access fault"
        );
        assert_eq!((d.gpr(S0), d.gpr(S1)), (s0, s1), "s0/s1 restored");
        assert_eq!(d.read_reg(MSTATUS), mpp_s, "mstatus restored");
        assert_eq!(d.read_reg(DCSR), dcsr, "dcsr restored");
        assert_eq!(d.arg1(), 0x10_0000_0000, "no post-increment after a fault");
        // The hart still resumes and runs.
        d.write_reg(SATP, 0);
        d.write_reg(MSTATUS, ms);
        d.select(0);
        d.resume(0);
        assert_ne!(d.status() & ds::ALLRUNNING, 0);
        stop(m);
    });
}

/// Quick Access halts a running hart, runs the program buffer and resumes it.
#[test]
fn quick_access_runs_the_program_buffer_on_a_running_hart() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.select(0);
        // addi t1, t1, 1 (the loop never touches t1); ebreak.
        d.w(regs::PROGBUF0, 0x0013_0313);
        d.w(regs::PROGBUF0 + 1, 0x0010_0073);
        for _ in 0..5 {
            d.w(regs::COMMAND, 1 << 24);
            assert_eq!(d.cmderr(), 0);
            assert_ne!(d.status() & ds::ALLRUNNING, 0, "running again");
        }
        d.halt_in_loop(0);
        assert_eq!(d.gpr(T1), 5);
        // On a halted hart: halt/resume error.
        d.w(regs::COMMAND, 1 << 24);
        assert_eq!(d.cmderr(), 4);
        d.clear_cmderr();
        // An exception in the program buffer leaves the hart halted.
        d.select(0);
        d.resume(0);
        d.w(regs::PROGBUF0, 0x0000_0000); // an illegal instruction
        d.w(regs::COMMAND, 1 << 24);
        assert_eq!(d.cmderr(), 3);
        assert_ne!(d.status() & ds::ALLHALTED, 0, "halted after the exception");
        stop(m);
    });
}

/// A program buffer reaches the data registers where `hartinfo` says they are, with every
/// load and store width (signed and unsigned): what the hart loads is what DMI wrote, what
/// it stores is what DMI reads back. (The JIT sends Debug Mode loads and stores in the
/// Debug Module's memory straight to the bus: this pins down their widths and extensions.)
#[test]
fn program_buffer_loads_and_stores_the_data_registers() {
    use emu_asm::Asm;
    use emu_isa::{Op, Xlen};
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt_in_loop(0);
        let info = d.r(regs::HARTINFO);
        assert_eq!(info >> 16 & 1, 1, "dataaccess: memory-mapped");
        let data = (info & 0xfff) as i64; // dataaddr, signed 12 bits: 0 + offset
        let run = |f: &dyn Fn(&mut Asm)| {
            let mut a = Asm::new(Xlen::X64, 0);
            f(&mut a);
            a.op0(Op::Ebreak);
            let code = a.finish().unwrap();
            for (k, w) in code.chunks(4).enumerate() {
                d.w(
                    regs::PROGBUF0 + k as u8,
                    u32::from_le_bytes(w.try_into().unwrap()),
                );
            }
            d.w(regs::COMMAND, 1 << 18); // postexec, no transfer
            assert_eq!(d.cmderr(), 0, "{e}");
        };
        d.w(regs::DATA0, 0x8382_81f0);
        d.w(regs::DATA0 + 1, 0xf7f6_f5f4);
        run(&|a| {
            a.load(Op::Lb, T0, ZERO, data);
            a.load(Op::Lbu, T1, ZERO, data);
            a.load(Op::Lh, T2, ZERO, data + 2);
            a.load(Op::Lhu, A0, ZERO, data + 2);
            a.load(Op::Lw, A1, ZERO, data + 4);
            a.load(Op::Lwu, A2, ZERO, data + 4);
            a.load(Op::Ld, A3, ZERO, data);
        });
        let got: Vec<u64> = [T0, T1, T2, A0, A1, A2, A3].map(|r| d.gpr(r)).to_vec();
        assert_eq!(
            got,
            [
                0xffff_ffff_ffff_fff0,
                0xf0,
                0xffff_ffff_ffff_8382,
                0x8382,
                0xffff_ffff_f7f6_f5f4,
                0xf7f6_f5f4,
                0xf7f6_f5f4_8382_81f0,
            ],
            "{e}"
        );
        d.write_reg(0x1000 + A4 as u32, 0x1122_3344_5566_7788);
        run(&|a| {
            a.store(Op::Sd, A4, ZERO, data + 8); // data2, data3
            a.store(Op::Sw, A4, ZERO, data + 16); // data4
            a.store(Op::Sh, A4, ZERO, data + 20); // data5, low half
            a.store(Op::Sb, A4, ZERO, data + 22); // data5, third byte
        });
        d.w(regs::DATA0 + 5, 0);
        run(&|a| {
            a.store(Op::Sh, A4, ZERO, data + 20);
            a.store(Op::Sb, A4, ZERO, data + 22);
        });
        let r = |k: u8| d.r(regs::DATA0 + k);
        assert_eq!(
            [r(2), r(3), r(4), r(5)],
            [0x5566_7788, 0x1122_3344, 0x5566_7788, 0x0088_7788],
            "{e}"
        );
        stop(m);
    });
}

#[test]
fn system_bus_access() {
    let m = start("jit", 1);
    let d = Dbg(&m.dm);
    d.select(0);
    let st = d.r(regs::SBCS);
    assert_eq!(st >> 29, 1, "sbversion 1");
    assert_eq!(st >> sbcs::ASIZE_SHIFT & 0x7f, 64, "sbasize 64");
    assert_eq!(st & 0x1f, 0xf, "8 to 64-bit accesses");
    // Autoincrementing writes, then reads with readondata, while the hart runs.
    d.sb_setup(2, sbcs::AUTOINCREMENT);
    d.w(regs::SBADDRESS1, 0);
    d.w(regs::SBADDRESS0, SCRATCH as u32);
    for k in 0..8u32 {
        d.w(regs::SBDATA0, 0xa000_0000 | k);
    }
    assert_eq!(d.r(regs::SBADDRESS0), SCRATCH as u32 + 32);
    d.sb_setup(2, sbcs::AUTOINCREMENT | sbcs::READONADDR | sbcs::READONDATA);
    d.w(regs::SBADDRESS0, SCRATCH as u32);
    for k in 0..8u32 {
        assert_eq!(d.r(regs::SBDATA0), 0xa000_0000 | k);
    }
    // Bytes and halves.
    d.sb_setup(0, sbcs::READONADDR);
    d.w(regs::SBADDRESS0, SCRATCH as u32 + 4);
    assert_eq!(d.r(regs::SBDATA0), 0x01);
    assert_eq!(d.sb_error(), 0);
    // Errors: alignment (3), bad address (2), size (4); sticky until cleared, and no
    // access starts meanwhile.
    d.sb_setup(2, sbcs::READONADDR);
    d.w(regs::SBADDRESS0, SCRATCH as u32 + 2);
    assert_eq!(d.sb_error(), 3, "misaligned");
    d.w(regs::SBADDRESS0, SCRATCH as u32);
    assert_eq!(d.sb_error(), 3, "sticky");
    d.w(
        regs::SBCS,
        7 << sbcs::ERROR_SHIFT | 2 << sbcs::ACCESS_SHIFT | sbcs::READONADDR,
    );
    assert_eq!(d.sb_error(), 0, "cleared");
    d.w(regs::SBADDRESS1, 0x10);
    d.w(regs::SBADDRESS0, 0);
    assert_eq!(d.sb_error(), 2, "nothing there");
    d.w(regs::SBCS, 7 << sbcs::ERROR_SHIFT);
    d.w(regs::SBADDRESS1, 0);
    d.sb_setup(4, 0);
    d.w(regs::SBDATA0, 1);
    assert_eq!(d.sb_error(), 4, "128-bit");
    d.w(regs::SBCS, 7 << sbcs::ERROR_SHIFT);
    // Absent registers read 0.
    assert_eq!(d.r(regs::SBADDRESS2), 0);
    assert_eq!(d.r(regs::SBDATA3), 0);
    stop(m);
}

/// DMI reads of `addrs`, one `dmi_read` at a time or in one `dmi_read_many`.
fn read_each_or_batched(d: &Dbg<'_>, addrs: &[u8], batched: bool) -> Vec<u32> {
    let mut out = vec![0u32; addrs.len()];
    if batched {
        d.0.dmi_read_many(addrs, &mut out);
    } else {
        for (a, o) in addrs.iter().zip(&mut out) {
            *o = d.r(*a);
        }
    }
    out
}

/// A batch of `sbdata` reads that streams main RAM is served as a run (`sb_stream`); it
/// must read what single reads do and leave the same `sbcs` (errors included),
/// `sbaddress` and `sbdata` behind: every access size, runs with and without `sbdata1`,
/// runs that end at the last word of RAM and one word past it (an error on the last
/// access, not served as a run), a misaligned address, `sbreadondata` or
/// `sbautoincrement` off, a sticky error already set, and a run cut short by another
/// register.
#[test]
fn streamed_system_bus_reads_match_single_reads() {
    let word = |base: u64, i: u64| 0x0102_0304_0506_0708u64.wrapping_mul(i + 1) ^ base;
    let machines = [start("interp", 1), start("interp", 1)];
    let (_, ram_end) = machines[0].dm.main_memory().unwrap();
    let stream = sbcs::AUTOINCREMENT | sbcs::READONADDR | sbcs::READONDATA;
    let d1 = [regs::SBDATA1, regs::SBDATA0];
    // (access, sbcs bits, start, the reads, an error set first)
    let cases: Vec<(u32, u32, u64, Vec<u8>, bool)> = vec![
        (3, stream, SCRATCH, d1.repeat(30), false),
        (2, stream, SCRATCH + 4, vec![regs::SBDATA0; 33], false),
        (1, stream, SCRATCH + 2, vec![regs::SBDATA0; 17], false),
        (0, stream, SCRATCH + 3, vec![regs::SBDATA0; 9], false),
        (3, stream, SCRATCH, vec![regs::SBDATA0; 12], false),
        (3, stream, ram_end - 8 * 6, d1.repeat(6), false),
        (3, stream, ram_end - 8 * 6, d1.repeat(8), false),
        (2, stream, ram_end - 4 * 3, vec![regs::SBDATA0; 6], false),
        (3, stream, SCRATCH + 4, d1.repeat(4), false),
        (
            3,
            sbcs::AUTOINCREMENT | sbcs::READONADDR,
            SCRATCH,
            d1.repeat(4),
            false,
        ),
        (
            3,
            sbcs::READONADDR | sbcs::READONDATA,
            SCRATCH,
            d1.repeat(4),
            false,
        ),
        (3, stream, SCRATCH, d1.repeat(4), true),
        (
            3,
            stream,
            SCRATCH,
            [
                d1.repeat(3),
                vec![regs::SBCS, regs::SBADDRESS0],
                d1.repeat(3),
            ]
            .concat(),
            false,
        ),
    ];
    for (case, (access, bits, at, reads, error)) in cases.into_iter().enumerate() {
        let mut results = Vec::new();
        for (k, m) in machines.iter().enumerate() {
            let d = Dbg(&m.dm);
            d.select(0);
            d.sb_setup(3, 7 << sbcs::ERROR_SHIFT);
            // Distinct words to read, the page before the end of RAM included.
            for base in [SCRATCH, ram_end - 0x100] {
                for i in 0..0x100 / 8 {
                    d.sb_write64(base + 8 * i, word(base, i));
                }
            }
            if error {
                // Nothing there: a sticky bad-address error.
                d.sb_setup(3, sbcs::READONADDR);
                d.w(regs::SBADDRESS1, 0x10);
                d.w(regs::SBADDRESS0, 0);
                assert_eq!(d.sb_error(), 2);
            }
            d.sb_setup(access, bits);
            d.w(regs::SBADDRESS1, (at >> 32) as u32);
            d.w(regs::SBADDRESS0, at as u32);
            let out = read_each_or_batched(&d, &reads, k == 1);
            let after = [
                d.r(regs::SBCS),
                d.r(regs::SBADDRESS0),
                d.r(regs::SBADDRESS1),
                d.r(regs::SBDATA1),
            ];
            results.push((out, after));
        }
        assert_eq!(results[0], results[1], "case {case}");
        if case == 0 {
            // The run did read memory: the words written, high half first.
            let got = &results[1].0;
            for i in 0..30 {
                let w = word(SCRATCH, i as u64);
                assert_eq!((got[2 * i], got[2 * i + 1]), ((w >> 32) as u32, w as u32));
            }
        }
    }
    for m in machines {
        stop(m);
    }
}

/// `dmi_read_many` reads what as many `dmi_read`s do, side effects included (each sbdata0
/// read starting the next bus read), also with the DM inactive; it fills only as much of
/// `out` as there are addresses and the other way round.
#[test]
fn batched_reads_read_what_single_reads_do() {
    let machines = [start("interp", 1), start("interp", 1)];
    let mut addrs = vec![regs::SBADDRESS0];
    addrs.extend([regs::SBDATA1, regs::SBDATA0].repeat(9));
    addrs.extend([
        regs::SBADDRESS0,
        regs::SBCS,
        regs::SBDATA3,
        regs::DATA0,
        regs::DMCONTROL,
        regs::HARTINFO,
        regs::ABSTRACTCS,
        regs::PROGBUF0,
        0x7f,
    ]);
    let mut results = Vec::new();
    for (k, m) in machines.iter().enumerate() {
        let d = Dbg(&m.dm);
        d.select(0);
        d.sb_setup(3, sbcs::AUTOINCREMENT);
        d.w(regs::SBADDRESS1, 0);
        d.w(regs::SBADDRESS0, SCRATCH as u32);
        for i in 0..10u32 {
            d.w(regs::SBDATA1, 0x1111_0000 | i);
            d.w(regs::SBDATA0, 0xabcd_0000 | i);
        }
        d.w(regs::DATA0, 0x5a5a_0001);
        d.sb_setup(3, sbcs::AUTOINCREMENT | sbcs::READONADDR | sbcs::READONDATA);
        d.w(regs::SBADDRESS0, SCRATCH as u32);
        let out = read_each_or_batched(&d, &addrs, k == 1);
        results.push(out);
    }
    assert_eq!(results[0], results[1]);
    // The words read are the ones written, high half first.
    assert_eq!(
        &results[1][1..5],
        &[0x1111_0000, 0xabcd_0000, 0x1111_0001, 0xabcd_0001]
    );
    // Shorter either way: as many as both hold.
    let d = Dbg(&machines[1].dm);
    let mut out = [7u32; 3];
    machines[1].dm.dmi_read_many(&[regs::DATA0], &mut out);
    assert_eq!(out, [0x5a5a_0001, 7, 7]);
    let mut one = [0u32; 1];
    machines[1]
        .dm
        .dmi_read_many(&[regs::DATA0, regs::DATA0], &mut one);
    assert_eq!(one, [0x5a5a_0001]);
    // Inactive: everything but dmcontrol reads 0.
    d.w(regs::DMCONTROL, 0);
    let mut out = [9u32; 2];
    machines[1]
        .dm
        .dmi_read_many(&[regs::DATA0, regs::SBCS], &mut out);
    assert_eq!(out, [0, 0]);
    for m in machines {
        stop(m);
    }
}

/// `dmi_batch` does what as many single accesses do, in order, harts included: a halt
/// request that waits for the hart, an abstract command, a resume; a read of an absent
/// register and a write while the DM is inactive change nothing; reads fill `reads` in
/// turn, as many as it holds, and the ones past it still happen.
#[test]
fn a_batch_does_what_single_accesses_do() {
    use emu_dm::DmiOp::{Read, Write};
    use emu_dm::regs::abstractcs;
    let on = dc::DMACTIVE;
    let reg = |regno: u32, write: bool| 3 << 20 | 1 << 17 | (write as u32) << 16 | regno;
    let ops = [
        Write(regs::DMCONTROL, on | dc::HALTREQ),
        Write(regs::DMCONTROL, on),
        Read(regs::DMSTATUS),
        Write(regs::DATA0, 0x1234_5678),
        Write(regs::DATA0 + 1, 0x9abc_def0),
        Write(regs::COMMAND, reg(0x1000 + S1 as u32, true)),
        Write(regs::DATA0, 0),
        Write(regs::DATA0 + 1, 0),
        Write(regs::COMMAND, reg(0x1000 + S1 as u32, false)),
        Read(regs::DATA0),
        Read(regs::DATA0 + 1),
        Read(regs::ABSTRACTCS),
        Write(regs::COMMAND, reg(0xc000, false)),
        Read(regs::ABSTRACTCS),
        Write(regs::ABSTRACTCS, 7 << abstractcs::CMDERR_SHIFT),
        Read(0x7f),
        Write(regs::DMCONTROL, on | dc::RESUMEREQ),
        Read(regs::DMSTATUS),
        Write(regs::DMCONTROL, 0),
        Write(regs::DATA0, 5),
        Read(regs::DATA0),
        Write(regs::DMCONTROL, on),
        Read(regs::DATA0),
    ];
    let reads = ops.iter().filter(|o| matches!(o, Read(_))).count();
    each_engine(|e| {
        let machines = [start(e, 1), start(e, 1)];
        let mut results = Vec::new();
        for (k, m) in machines.iter().enumerate() {
            let d = Dbg(&m.dm);
            let mut out = vec![0u32; reads];
            if k == 0 {
                let mut o = out.iter_mut();
                for op in ops {
                    match op {
                        Read(a) => *o.next().unwrap() = d.r(a),
                        Write(a, v) => d.w(a, v),
                    }
                }
            } else {
                m.dm.dmi_batch(&ops, &mut out);
            }
            results.push(out);
        }
        assert_eq!(results[0], results[1]);
        let [halted, lo, hi, cs, cs_bad, absent, resumed, inactive, fresh] =
            results[1][..].try_into().unwrap();
        use emu_dm::regs::dmstatus as ds;
        assert_ne!(halted & ds::ALLHALTED, 0);
        assert_eq!(
            (lo, hi),
            (0x1234_5678, 0x9abc_def0),
            "s1 written and read back"
        );
        assert_eq!(cs >> abstractcs::CMDERR_SHIFT & 7, 0);
        assert_eq!(
            cs_bad >> abstractcs::CMDERR_SHIFT & 7,
            2,
            "no such register"
        );
        assert_eq!(absent, 0);
        assert_ne!(resumed & ds::ALLRESUMEACK, 0);
        assert_ne!(resumed & ds::ALLRUNNING, 0);
        assert_eq!(inactive, 0, "inactive: data0 reads 0");
        assert_eq!(fresh, 0, "and the write was dropped");
        // Fewer places than reads: the first ones, and the rest still happen (the
        // halt's status is there, the command after it ran).
        let d = Dbg(&machines[1].dm);
        d.select(0);
        let mut two = [7u32; 2];
        machines[1].dm.dmi_batch(
            &[
                Write(regs::DMCONTROL, on | dc::HALTREQ),
                Read(regs::DMSTATUS),
                Write(regs::DMCONTROL, on),
                Write(regs::DATA0, 0x55),
                Read(regs::DATA0),
                Write(regs::COMMAND, reg(0x1000 + S1 as u32, true)),
                Read(regs::DATA0),
            ],
            &mut two,
        );
        assert_ne!(two[0] & ds::ALLHALTED, 0);
        assert_eq!(two[1], 0x55);
        assert_eq!(d.gpr(S1), 0x55);
        // And more places than reads: the rest stay as they were.
        let mut three = [9u32; 3];
        machines[1].dm.dmi_batch(&[Read(regs::DATA0)], &mut three);
        assert_eq!(three, [0x55, 9, 9]);
        for m in machines {
            stop(m);
        }
    });
}

/// A system bus write to code the hart runs (translated by the JIT) takes effect.
#[test]
fn system_bus_writes_to_running_code_are_seen() {
    each_engine(|e| {
        let m = start(e, 1);
        let d = Dbg(&m.dm);
        d.halt_in_loop(0);
        d.select(0);
        d.resume(0);
        std::thread::sleep(Duration::from_millis(5));
        // addi s1, s1, 2 -> addi s1, s1, 3, written while the hart runs.
        let addi_s1_3: u32 = 3 << 20 | (S1 as u32) << 15 | (S1 as u32) << 7 | 0x13;
        d.sb_setup(2, 0);
        d.w(regs::SBADDRESS1, 0);
        d.w(regs::SBADDRESS0, BASE as u32 + 4);
        d.w(regs::SBDATA0, addi_s1_3);
        std::thread::sleep(Duration::from_millis(5));
        d.halt_in_loop(0);
        let (a0, a1) = (d.gpr(S0), d.gpr(S1));
        // Run until it has done enough iterations to tell +3 from +2 (on a busy host the
        // hart's thread may not get a core for a while).
        let t = Instant::now();
        let (b0, b1) = loop {
            d.select(0);
            d.resume(0);
            std::thread::sleep(Duration::from_millis(5));
            d.halt_in_loop(0);
            let b = (d.gpr(S0), d.gpr(S1));
            if b.0 - a0 > 100 || t.elapsed() > Duration::from_secs(10) {
                break b;
            }
        };
        let (ds0, ds1) = (b0 - a0, b1 - a1);
        assert!(ds0 > 100, "it ran ({ds0} iterations)");
        assert!(
            ds1.abs_diff(3 * ds0) <= 3,
            "s1 grew by 3 per iteration: {ds0} {ds1}"
        );
        stop(m);
    });
}

/// ndmreset resets the whole system (program reloaded, devices reset); with resethaltreq
/// the harts halt at the reset vector with cause 5. hartreset resets one hart.
#[test]
fn resets_with_and_without_halt() {
    each_engine(|e| {
        let m = start(e, 2);
        let d = Dbg(&m.dm);
        d.halt_in_loop(0);
        // Corrupt the program through the system bus; a system reset loads it again.
        d.sb_write64(BASE, 0);
        for h in 0..2 {
            d.w(
                regs::DMCONTROL,
                h << dc::HARTSELLO_SHIFT | dc::SETRESETHALTREQ | dc::DMACTIVE,
            );
        }
        d.w(regs::DMCONTROL, dc::NDMRESET | dc::DMACTIVE);
        let st = d.status();
        assert_ne!(st & ds::NDMRESETPENDING, 0);
        assert_ne!(st & ds::ALLUNAVAIL, 0, "held in reset");
        assert_ne!(d.r(regs::DMCONTROL) & dc::NDMRESET, 0);
        d.w(regs::DMCONTROL, dc::DMACTIVE);
        for h in 0..2 {
            d.select(h);
            wait_until("halted after reset", || d.status() & ds::ALLHALTED != 0);
            let st = d.status();
            assert_eq!(st & (ds::NDMRESETPENDING | ds::ANYUNAVAIL), 0);
            assert_ne!(st & ds::ALLHAVERESET, 0);
            assert_eq!(d.read_reg(DCSR) >> 6 & 7, 5, "cause resethaltreq");
            assert_eq!(d.read_reg(DPC), 0x1000, "at the reset vector");
            assert_eq!(d.gpr(S0), 0, "registers reset");
        }
        assert_eq!(d.mem(BASE, 3, None, false, false), 0);
        assert_ne!(d.data64(), 0, "program loaded again");
        // Both run the program again from the start.
        for h in 0..2 {
            d.w(
                regs::DMCONTROL,
                h << dc::HARTSELLO_SHIFT | dc::CLRRESETHALTREQ | dc::ACKHAVERESET | dc::DMACTIVE,
            );
            d.resume(h);
        }
        d.halt_in_loop(1);
        assert!(d.gpr(S0) > 0);
        // hartreset of hart 1 only (without resethaltreq: it runs from the reset vector).
        d.w(
            regs::DMCONTROL,
            1 << dc::HARTSELLO_SHIFT | dc::HARTRESET | dc::DMACTIVE,
        );
        assert_ne!(d.r(regs::DMCONTROL) & dc::HARTRESET, 0);
        assert_ne!(d.status() & ds::ALLUNAVAIL, 0);
        d.select(0);
        assert_eq!(d.status() & ds::ANYUNAVAIL, 0, "hart 0 unaffected");
        d.w(regs::DMCONTROL, 1 << dc::HARTSELLO_SHIFT | dc::DMACTIVE);
        assert_ne!(d.status() & ds::ALLHAVERESET, 0);
        d.halt_in_loop(1);
        let s0 = d.gpr(S0);
        assert!(s0 > 0);
        stop(m);
    });
}

/// With stickyunavail, a hart that was held in reset stays unavailable until ackunavail.
#[test]
fn sticky_unavailable() {
    let m = start_with("jit", 1, |c| c.dm_sticky_unavail = true);
    let d = Dbg(&m.dm);
    d.select(0);
    assert_ne!(d.status() & ds::STICKYUNAVAIL, 0);
    d.w(regs::DMCONTROL, dc::HARTRESET | dc::DMACTIVE);
    d.w(regs::DMCONTROL, dc::DMACTIVE);
    assert_ne!(d.status() & ds::ALLUNAVAIL, 0, "sticky");
    d.w(regs::DMCONTROL, dc::ACKUNAVAIL | dc::DMACTIVE);
    assert_eq!(d.status() & ds::ANYUNAVAIL, 0);
    assert_ne!(d.status() & ds::ALLRUNNING, 0);
    stop(m);
}

/// Halt group 1 = harts 0 and 1: halting one halts the other (cause 6); resume group 1
/// resumes both; an external trigger input in halt group 2 halts hart 2, and group 2's
/// output fires.
#[test]
fn halt_and_resume_groups_with_external_triggers() {
    each_engine(|e| {
        let m = start(e, 3);
        let d = Dbg(&m.dm);
        let group = |h: u32, g: u32, resume: bool| {
            d.select(h);
            let t = if resume { dmcs2::GROUPTYPE } else { 0 };
            d.w(regs::DMCS2, t | g << dmcs2::GROUP_SHIFT | dmcs2::HGWRITE);
            assert_eq!(d.r(regs::DMCS2) >> dmcs2::GROUP_SHIFT & 0x1f, g);
        };
        for h in 0..2 {
            group(h, 1, false);
            group(h, 1, true);
        }
        group(2, 2, false);
        d.halt_in_loop(0);
        d.select(1);
        wait_until("hart 1 halts with its group", || {
            d.status() & ds::ALLHALTED != 0
        });
        assert_eq!(d.read_reg(DCSR) >> 6 & 7, 6, "cause group");
        d.select(2);
        assert_ne!(d.status() & ds::ALLRUNNING, 0, "hart 2 is in another group");
        // Resume hart 0: its resume group brings hart 1 along.
        d.w(regs::DMCONTROL, dc::DMACTIVE);
        d.resume(0);
        d.select(1);
        assert_ne!(
            d.status() & ds::ALLRUNNING,
            0,
            "hart 1 resumed with its group"
        );
        // External trigger 0 in halt group 2.
        d.w(
            regs::DMCS2,
            dmcs2::HGSELECT | 2 << dmcs2::GROUP_SHIFT | dmcs2::HGWRITE,
        );
        assert_eq!(d.r(regs::DMCS2) >> dmcs2::GROUP_SHIFT & 0x1f, 2);
        let out = m.dm.external_trigger_out(0);
        m.dm.external_trigger(0);
        d.w(regs::DMCS2, 0);
        d.select(2);
        wait_until("hart 2 halts", || d.status() & ds::ALLHALTED != 0);
        assert_eq!(d.read_reg(DCSR) >> 6 & 7, 6);
        assert_eq!(
            m.dm.external_trigger_out(0),
            out + 1,
            "group 2's output fired"
        );
        d.select(0);
        assert_ne!(d.status() & ds::ALLRUNNING, 0, "hart 0 unaffected");
        stop(m);
    });
}

/// A command that never ends (a program buffer that loops): writes while busy set cmderr
/// busy and change nothing; hartreset ends it.
#[test]
fn writes_while_busy_and_recovery() {
    let m = start("jit", 2);
    let d = Dbg(&m.dm);
    d.halt_in_loop(0);
    d.w(regs::PROGBUF0, 0x0000_006f); // j .
    d.w(regs::COMMAND, 1 << 18); // postexec only
    assert_ne!(d.r(regs::ABSTRACTCS) & 1 << 12, 0, "busy");
    d.w(regs::DATA0, 7);
    assert_eq!(d.cmderr(), 1, "busy");
    for (reg, v) in [
        (regs::COMMAND, 3 << 20 | 1 << 17 | 0x1008),
        (regs::ABSTRACTAUTO, 1),
        (regs::PROGBUF0 + 1, 1),
    ] {
        d.w(reg, v);
        assert_eq!(d.cmderr(), 1);
    }
    d.w(regs::ABSTRACTCS, 7 << 8);
    assert_eq!(d.cmderr(), 1, "cmderr cannot be cleared while busy");
    assert_eq!(d.r(regs::ABSTRACTAUTO), 0);
    // hartsel does not change while busy.
    d.w(regs::DMCONTROL, 1 << dc::HARTSELLO_SHIFT | dc::DMACTIVE);
    assert_eq!(d.r(regs::DMCONTROL) >> dc::HARTSELLO_SHIFT & 0x3ff, 0);
    // Reset the hart: the command ends.
    d.w(regs::DMCONTROL, dc::HARTRESET | dc::DMACTIVE);
    d.w(regs::DMCONTROL, dc::DMACTIVE);
    assert_eq!(d.r(regs::ABSTRACTCS) & 1 << 12, 0, "not busy");
    d.clear_cmderr();
    assert_eq!(d.cmderr(), 0);
    d.halt_in_loop(0);
    stop(m);
}

#[test]
fn authentication() {
    let secret = 0x5151_7a7a;
    let m = start_with("jit", 1, |c| c.dm_auth_secret = Some(secret));
    let d = Dbg(&m.dm);
    d.select(0);
    assert_eq!(d.status() & ds::AUTHENTICATED, 0);
    // Nothing works before authenticating.
    d.halt(0);
    assert_eq!(d.status() & ds::ANYHALTED, 0, "no halt");
    assert_eq!(d.r(regs::ABSTRACTCS), 0, "registers read 0");
    // A wrong answer fails; the right one to the current challenge succeeds.
    let c = d.r(regs::AUTHDATA);
    d.w(regs::AUTHDATA, SharedSecret::answer(c, secret) ^ 1);
    assert_eq!(d.status() & ds::AUTHENTICATED, 0);
    let c = d.r(regs::AUTHDATA);
    d.w(regs::AUTHDATA, SharedSecret::answer(c, secret));
    assert_ne!(d.status() & ds::AUTHENTICATED, 0);
    d.halt_in_loop(0);
    assert!(d.gpr(S0) > 0);
    stop(m);
}

/// No configuration string; keepalive is recorded.
#[test]
fn confstrptr_and_keepalive() {
    let m = start("interp", 1);
    let d = Dbg(&m.dm);
    d.select(0);
    assert_eq!(d.status() & ds::CONFSTRPTRVALID, 0);
    for k in 0..4 {
        assert_eq!(d.r(regs::CONFSTRPTR0 + k), 0);
    }
    d.w(regs::DMCONTROL, dc::SETKEEPALIVE | dc::DMACTIVE);
    assert!(m.dm.keepalive(0));
    d.w(regs::DMCONTROL, dc::CLRKEEPALIVE | dc::DMACTIVE);
    assert!(!m.dm.keepalive(0));
    stop(m);
}
