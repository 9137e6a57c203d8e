//! The RISC-V JTAG Debug Transport Module (Debug Specification 1.0, chapter 7): the data
//! registers behind the TAP, and the DMI operations `dmi` scans start.
//!
//! The Debug Module answers a DMI access at once (its commands complete synchronously where
//! they can), so an operation runs at Update-DR and its result is ready at the next
//! Capture-DR. A DTM can still be configured to want Run-Test/Idle cycles after each
//! operation ([`DtmConfig::min_idle`]): a debugger that gives fewer sees the spec's sticky
//! `busy` status and must recover with `dtmcs.dmireset`, as on slow silicon.

use std::sync::Arc;

use crate::tap::DataRegisters;

/// JTAG instruction: IDCODE (selected after reset).
pub const IR_IDCODE: u32 = 0x01;
/// JTAG instruction: DTM control and status.
pub const IR_DTMCS: u32 = 0x10;
/// JTAG instruction: Debug Module Interface access.
pub const IR_DMI: u32 = 0x11;
/// JTAG instruction: BYPASS (as is every instruction the DTM does not implement).
pub const IR_BYPASS: u32 = 0x1f;
/// Instruction register length.
pub const IR_LEN: u32 = 5;
/// DMI address bits (the Debug Module's registers span 0x00..0x7f).
pub const ABITS: u32 = 7;
/// emu's IDCODE: version 1, part number 0xe5e0, no JEDEC manufacturer (emu is not
/// silicon), and the mandatory 1 in bit 0.
pub const IDCODE: u32 = 0x1e5e_0001;

/// `dmi.op` / `dtmcs.dmistat` values a debugger reads.
const OP_SUCCESS: u64 = 0;
const OP_FAILED: u64 = 2;
const OP_BUSY: u64 = 3;

/// `dtmcs.errinfo`: nothing to report (the reset value).
const ERRINFO_UNKNOWN: u32 = 4;
/// `dtmcs.errinfo`: an error between the DTM and the DMI (a reserved `op`).
const ERRINFO_DMI: u32 = 1;

const DTMCS_DMIRESET: u64 = 1 << 16;
const DTMCS_DTMHARDRESET: u64 = 1 << 17;

/// The DMI: what the DTM reaches the Debug Module through.
pub trait Dmi: Send + Sync {
    /// Read DM register `addr` (7 bits).
    fn read(&self, addr: u8) -> u32;
    /// Write `data` to DM register `addr` (7 bits).
    fn write(&self, addr: u8, data: u32);
    /// The board's reset line (JTAG nRESET, OpenOCD's `srst`): assert or release a reset of
    /// every hart and device that leaves the debug logic alone.
    fn reset_line(&self, assert: bool);
}

impl Dmi for Arc<emu_dm::DebugModule> {
    fn read(&self, addr: u8) -> u32 {
        self.dmi_read(addr)
    }
    fn write(&self, addr: u8, data: u32) {
        self.dmi_write(addr, data)
    }
    fn reset_line(&self, assert: bool) {
        emu_dm::DebugModule::reset_line(self, assert)
    }
}

/// How the DTM behaves beyond the spec's fixed parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DtmConfig {
    /// Run-Test/Idle cycles a DMI operation needs before its result can be captured;
    /// fewer gives `busy`. 0 (the default): results are ready at once.
    pub min_idle: u32,
    /// The `dtmcs.idle` hint (0..=7) advertised to debuggers. Left below `min_idle`, it
    /// makes a debugger meet `busy` and back off, which is how the recovery path is tested.
    pub idle_hint: u32,
}

/// The DTM's registers and DMI state.
#[derive(Debug)]
pub struct Dtm<D> {
    dmi: D,
    cfg: DtmConfig,
    /// Sticky `dmi.op` status (success, failed or busy).
    status: u64,
    errinfo: u32,
    /// Run-Test/Idle cycles still needed by the operation in flight.
    pending: u32,
    /// What the next `dmi` Capture-DR shows.
    addr: u8,
    data: u32,
    /// Operations started and busy answers given, for tests and statistics.
    ops: u64,
    busy_seen: u64,
}

impl<D: Dmi> Dtm<D> {
    /// A DTM in its reset state on `dmi`.
    pub fn new(dmi: D, cfg: DtmConfig) -> Dtm<D> {
        Dtm {
            dmi,
            cfg,
            status: OP_SUCCESS,
            errinfo: ERRINFO_UNKNOWN,
            pending: 0,
            addr: 0,
            data: 0,
            ops: 0,
            busy_seen: 0,
        }
    }

    /// The DMI target.
    pub fn dmi(&self) -> &D {
        &self.dmi
    }

    /// DMI operations started so far.
    pub fn ops(&self) -> u64 {
        self.ops
    }

    /// `busy` answers given so far.
    pub fn busy_answers(&self) -> u64 {
        self.busy_seen
    }

    fn dtmcs(&self) -> u64 {
        let idle = u64::from(self.cfg.idle_hint.min(7));
        1 | (u64::from(ABITS) << 4)
            | (self.status << 10)
            | (idle << 12)
            | (u64::from(self.errinfo) << 18)
    }

    fn hard_reset(&mut self) {
        self.status = OP_SUCCESS;
        self.errinfo = ERRINFO_UNKNOWN;
        self.pending = 0;
        self.addr = 0;
        self.data = 0;
    }

    fn dmi_update(&mut self, v: u64) {
        let op = v & 3;
        // A nop never touches the status; a sticky status ignores the scan. (An operation
        // still in flight was already turned into sticky `busy` by this scan's Capture-DR:
        // Run-Test/Idle, the only place `pending` drops, cannot come between the two.)
        if op == 0 || self.status != OP_SUCCESS {
            return;
        }
        let addr = ((v >> 34) & ((1 << ABITS) - 1)) as u8;
        let data = ((v >> 2) & 0xffff_ffff) as u32;
        match op {
            1 => {
                self.data = self.dmi.read(addr);
                self.addr = addr;
            }
            2 => {
                self.dmi.write(addr, data);
                self.addr = addr;
                self.data = data;
            }
            _ => {
                self.status = OP_FAILED;
                self.errinfo = ERRINFO_DMI;
                return;
            }
        }
        self.ops += 1;
        self.pending = self.cfg.min_idle;
    }

    fn dmi_capture(&mut self) -> u64 {
        if self.pending > 0 && self.status == OP_SUCCESS {
            self.status = OP_BUSY;
            self.busy_seen += 1;
        }
        (u64::from(self.addr) << 34) | (u64::from(self.data) << 2) | self.status
    }
}

impl<D: Dmi> DataRegisters for Dtm<D> {
    fn reset_instruction(&self) -> u32 {
        IR_IDCODE
    }

    fn capture(&mut self, ir: u32) -> (u64, u32) {
        match ir {
            IR_IDCODE => (u64::from(IDCODE), 32),
            IR_DTMCS => (self.dtmcs(), 32),
            IR_DMI => (self.dmi_capture(), ABITS + 34),
            _ => (0, 1),
        }
    }

    fn update(&mut self, ir: u32, value: u64) {
        match ir {
            IR_DTMCS => {
                if value & DTMCS_DTMHARDRESET != 0 {
                    self.hard_reset();
                } else if value & DTMCS_DMIRESET != 0 {
                    // Clears the sticky status; an operation in flight goes on.
                    self.status = OP_SUCCESS;
                    self.errinfo = ERRINFO_UNKNOWN;
                }
            }
            IR_DMI => self.dmi_update(value),
            _ => {}
        }
    }

    fn idle(&mut self) {
        self.pending = self.pending.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A DMI target with 128 plain registers, logging accesses.
    #[derive(Default)]
    pub(crate) struct FakeDm {
        pub(crate) regs: Mutex<Vec<u32>>,
        pub(crate) log: Mutex<Vec<String>>,
    }

    impl Dmi for Arc<FakeDm> {
        fn read(&self, addr: u8) -> u32 {
            self.log.lock().unwrap().push(format!("r{addr:02x}"));
            self.regs
                .lock()
                .unwrap()
                .get(addr as usize)
                .copied()
                .unwrap_or(0)
        }
        fn write(&self, addr: u8, data: u32) {
            self.log
                .lock()
                .unwrap()
                .push(format!("w{addr:02x}={data:x}"));
            let mut r = self.regs.lock().unwrap();
            if r.len() < 128 {
                r.resize(128, 0);
            }
            r[addr as usize] = data;
        }
        fn reset_line(&self, assert: bool) {
            self.log.lock().unwrap().push(format!("srst={assert}"));
        }
    }

    fn dmi_scan(d: &mut Dtm<Arc<FakeDm>>, op: u64, addr: u8, data: u32) -> (u8, u32, u64) {
        let (v, len) = d.capture(IR_DMI);
        assert_eq!(len, 41);
        d.update(
            IR_DMI,
            (u64::from(addr) << 34) | (u64::from(data) << 2) | op,
        );
        (
            ((v >> 34) & 0x7f) as u8,
            ((v >> 2) & 0xffff_ffff) as u32,
            v & 3,
        )
    }

    #[test]
    fn registers_read_as_the_spec_lays_them_out() {
        let mut d = Dtm::new(Arc::new(FakeDm::default()), DtmConfig::default());
        assert_eq!(d.capture(IR_IDCODE), (u64::from(IDCODE), 32));
        assert_eq!(IDCODE & 1, 1);
        let (cs, len) = d.capture(IR_DTMCS);
        assert_eq!(len, 32);
        assert_eq!(cs & 0xf, 1, "version 1 (spec 0.13 and 1.0)");
        assert_eq!((cs >> 4) & 0x3f, 7, "abits");
        assert_eq!((cs >> 10) & 3, 0, "dmistat");
        assert_eq!((cs >> 18) & 7, 4, "errinfo resets to 'unknown'");
        for ir in [0x00, IR_BYPASS, 0x12, 0x17, 0x02] {
            assert_eq!(d.capture(ir), (0, 1), "ir {ir:#x} selects BYPASS");
        }
    }

    #[test]
    fn a_read_returns_its_result_at_the_next_capture() {
        let fake = Arc::new(FakeDm::default());
        let mut d = Dtm::new(fake.clone(), DtmConfig::default());
        dmi_scan(&mut d, 2, 0x04, 0xdead_beef);
        let (_, _, st) = dmi_scan(&mut d, 1, 0x04, 0);
        assert_eq!(st, OP_SUCCESS);
        let (a, v, st) = dmi_scan(&mut d, 0, 0, 0);
        assert_eq!((a, v, st), (0x04, 0xdead_beef, OP_SUCCESS));
        assert_eq!(*fake.log.lock().unwrap(), vec!["w04=deadbeef", "r04"]);
        assert_eq!(d.ops(), 2);
    }

    #[test]
    fn too_few_idle_cycles_give_sticky_busy_until_dmireset() {
        let fake = Arc::new(FakeDm::default());
        let cfg = DtmConfig {
            min_idle: 3,
            idle_hint: 0,
        };
        let mut d = Dtm::new(fake.clone(), cfg);
        dmi_scan(&mut d, 2, 0x05, 7);
        // No idle: busy, and the write scanned with it is ignored.
        let (_, _, st) = dmi_scan(&mut d, 2, 0x06, 8);
        assert_eq!(st, OP_BUSY);
        for _ in 0..5 {
            d.idle();
        }
        // Still sticky after the wait.
        let (_, _, st) = dmi_scan(&mut d, 1, 0x05, 0);
        assert_eq!(st, OP_BUSY);
        assert_eq!((d.capture(IR_DTMCS).0 >> 10) & 3, OP_BUSY);
        d.update(IR_DTMCS, DTMCS_DMIRESET);
        assert_eq!((d.capture(IR_DTMCS).0 >> 10) & 3, OP_SUCCESS);
        dmi_scan(&mut d, 1, 0x05, 0);
        for _ in 0..3 {
            d.idle();
        }
        let (a, v, st) = dmi_scan(&mut d, 0, 0, 0);
        assert_eq!((a, v, st), (0x05, 7, OP_SUCCESS));
        assert_eq!(*fake.log.lock().unwrap(), vec!["w05=7", "r05"]);
        assert_eq!(d.busy_answers(), 1);
    }

    #[test]
    fn reserved_op_fails_until_reset_and_hard_reset_clears_everything() {
        let fake = Arc::new(FakeDm::default());
        let mut d = Dtm::new(
            fake.clone(),
            DtmConfig {
                min_idle: 9,
                idle_hint: 2,
            },
        );
        assert_eq!((d.capture(IR_DTMCS).0 >> 12) & 7, 2, "idle hint");
        dmi_scan(&mut d, 3, 0x10, 0);
        let (_, _, st) = dmi_scan(&mut d, 1, 0x10, 0);
        assert_eq!(st, OP_FAILED);
        assert_eq!((d.capture(IR_DTMCS).0 >> 18) & 7, 1, "errinfo: dmi error");
        assert!(fake.log.lock().unwrap().is_empty());
        d.update(IR_DTMCS, DTMCS_DMIRESET);
        dmi_scan(&mut d, 1, 0x10, 0);
        let (_, _, st) = dmi_scan(&mut d, 1, 0x10, 0);
        assert_eq!(st, OP_BUSY, "min_idle 9 not met");
        d.update(IR_DTMCS, DTMCS_DTMHARDRESET);
        let (a, v, st) = dmi_scan(&mut d, 0, 0, 0);
        assert_eq!((a, v, st), (0, 0, OP_SUCCESS));
    }
}
