//! The IEEE 1149.1 Test Access Port controller: the 16-state machine TMS walks on each
//! rising edge of TCK, the instruction register, and one shift register for whichever data
//! register the instruction selects. What the data registers hold is [`DataRegisters`]'s
//! business (the RISC-V DTM, in [`crate::dtm`]).

/// The TAP controller's states (IEEE 1149.1 figure 6-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapState {
    /// Test-Logic-Reset: the instruction register holds IDCODE.
    TestLogicReset,
    /// Run-Test/Idle: where a debugger waits between scans.
    RunTestIdle,
    /// Select-DR-Scan.
    SelectDr,
    /// Capture-DR: the selected data register is loaded into the shift register.
    CaptureDr,
    /// Shift-DR: one bit in from TDI and one out to TDO per clock.
    ShiftDr,
    /// Exit1-DR.
    Exit1Dr,
    /// Pause-DR.
    PauseDr,
    /// Exit2-DR.
    Exit2Dr,
    /// Update-DR: the shift register is written to the selected data register.
    UpdateDr,
    /// Select-IR-Scan.
    SelectIr,
    /// Capture-IR: the shift register is loaded with `0b...01`.
    CaptureIr,
    /// Shift-IR.
    ShiftIr,
    /// Exit1-IR.
    Exit1Ir,
    /// Pause-IR.
    PauseIr,
    /// Exit2-IR.
    Exit2Ir,
    /// Update-IR: the shift register becomes the instruction.
    UpdateIr,
}

impl TapState {
    /// The state after one rising TCK edge with TMS = `tms`.
    pub fn next(self, tms: bool) -> TapState {
        use TapState::*;
        match (self, tms) {
            (TestLogicReset, false) => RunTestIdle,
            (TestLogicReset, true) => TestLogicReset,
            (RunTestIdle, false) => RunTestIdle,
            (RunTestIdle, true) => SelectDr,
            (SelectDr, false) => CaptureDr,
            (SelectDr, true) => SelectIr,
            (CaptureDr, false) | (ShiftDr, false) | (Exit2Dr, false) => ShiftDr,
            (CaptureDr, true) | (ShiftDr, true) => Exit1Dr,
            (Exit1Dr, false) | (PauseDr, false) => PauseDr,
            (Exit1Dr, true) | (Exit2Dr, true) => UpdateDr,
            (PauseDr, true) => Exit2Dr,
            (UpdateDr, false) | (UpdateIr, false) => RunTestIdle,
            (UpdateDr, true) | (UpdateIr, true) => SelectDr,
            (SelectIr, false) => CaptureIr,
            (SelectIr, true) => TestLogicReset,
            (CaptureIr, false) | (ShiftIr, false) | (Exit2Ir, false) => ShiftIr,
            (CaptureIr, true) | (ShiftIr, true) => Exit1Ir,
            (Exit1Ir, false) | (PauseIr, false) => PauseIr,
            (Exit1Ir, true) | (Exit2Ir, true) => UpdateIr,
            (PauseIr, true) => Exit2Ir,
        }
    }
}

/// The data registers behind a TAP.
pub trait DataRegisters {
    /// The instruction the TAP holds after Test-Logic-Reset.
    fn reset_instruction(&self) -> u32;
    /// Capture-DR of the register instruction `ir` selects: its current value and its
    /// length in bits (1..=64).
    fn capture(&mut self, ir: u32) -> (u64, u32);
    /// Update-DR: `value` (the register's length in bits) was shifted in.
    fn update(&mut self, ir: u32, value: u64);
    /// One TCK cycle spent in Run-Test/Idle.
    fn idle(&mut self) {}
}

/// A TAP controller with an instruction register of `ir_len` bits.
#[derive(Debug)]
pub struct Tap<R> {
    state: TapState,
    ir: u32,
    ir_len: u32,
    shift: u64,
    shift_len: u32,
    regs: R,
}

impl<R: DataRegisters> Tap<R> {
    /// A TAP in Test-Logic-Reset with `ir_len` (1..=32) instruction bits.
    pub fn new(ir_len: u32, regs: R) -> Tap<R> {
        let ir = regs.reset_instruction();
        Tap {
            state: TapState::TestLogicReset,
            ir,
            ir_len: ir_len.clamp(1, 32),
            shift: 0,
            shift_len: 1,
            regs,
        }
    }

    /// The controller's state.
    pub fn state(&self) -> TapState {
        self.state
    }

    /// The current instruction.
    pub fn instruction(&self) -> u32 {
        self.ir
    }

    /// The data registers.
    pub fn regs(&self) -> &R {
        &self.regs
    }

    /// The data registers, mutably.
    pub fn regs_mut(&mut self) -> &mut R {
        &mut self.regs
    }

    /// TRST: back to Test-Logic-Reset, IDCODE selected.
    pub fn reset(&mut self) {
        self.state = TapState::TestLogicReset;
        self.ir = self.regs.reset_instruction();
    }

    /// What the TAP drives on TDO: the shift register's low bit while shifting (TDO
    /// changes on the falling edge, so this is what a probe samples before the next rising
    /// edge); low otherwise.
    pub fn tdo(&self) -> bool {
        matches!(self.state, TapState::ShiftDr | TapState::ShiftIr) && self.shift & 1 != 0
    }

    /// One rising TCK edge with TMS = `tms` and TDI = `tdi`.
    pub fn clock(&mut self, tms: bool, tdi: bool) {
        match self.state {
            TapState::ShiftDr | TapState::ShiftIr => {
                self.shift >>= 1;
                if tdi {
                    self.shift |= 1 << (self.shift_len - 1);
                }
            }
            TapState::RunTestIdle => self.regs.idle(),
            _ => {}
        }
        self.state = self.state.next(tms);
        match self.state {
            TapState::TestLogicReset => self.ir = self.regs.reset_instruction(),
            TapState::CaptureIr => {
                // IEEE 1149.1: the two low bits of the captured IR are 01.
                self.shift = 1;
                self.shift_len = self.ir_len;
            }
            TapState::UpdateIr => self.ir = (self.shift & mask(self.ir_len)) as u32,
            TapState::CaptureDr => {
                let (v, len) = self.regs.capture(self.ir);
                self.shift_len = len.clamp(1, 64);
                self.shift = v & mask(self.shift_len);
            }
            TapState::UpdateDr => self.regs.update(self.ir, self.shift & mask(self.shift_len)),
            _ => {}
        }
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 5-bit IR over two registers: 0x01 (8 bits, captures 0xa5) and anything else (a
    /// 1-bit bypass). Records updates and idle cycles.
    #[derive(Default)]
    struct Regs {
        updates: Vec<(u32, u64)>,
        idles: u32,
    }

    impl DataRegisters for Regs {
        fn reset_instruction(&self) -> u32 {
            1
        }
        fn capture(&mut self, ir: u32) -> (u64, u32) {
            if ir == 1 { (0xa5, 8) } else { (0, 1) }
        }
        fn update(&mut self, ir: u32, value: u64) {
            self.updates.push((ir, value));
        }
        fn idle(&mut self) {
            self.idles += 1;
        }
    }

    /// Clock `tms` bits, returning TDO as sampled before each edge.
    fn walk(t: &mut Tap<Regs>, bits: &[(bool, bool)]) -> Vec<bool> {
        bits.iter()
            .map(|&(tms, tdi)| {
                let o = t.tdo();
                t.clock(tms, tdi);
                o
            })
            .collect()
    }

    #[test]
    fn five_ones_reach_reset_from_every_state() {
        use TapState::*;
        let all = [
            TestLogicReset,
            RunTestIdle,
            SelectDr,
            CaptureDr,
            ShiftDr,
            Exit1Dr,
            PauseDr,
            Exit2Dr,
            UpdateDr,
            SelectIr,
            CaptureIr,
            ShiftIr,
            Exit1Ir,
            PauseIr,
            Exit2Ir,
            UpdateIr,
        ];
        for s in all {
            let mut st = s;
            for _ in 0..5 {
                st = st.next(true);
            }
            assert_eq!(st, TestLogicReset, "from {s:?}");
        }
    }

    #[test]
    fn ir_scan_captures_01_and_selects_the_instruction() {
        let mut t = Tap::new(5, Regs::default());
        // TLR -> RTI -> SelDR -> SelIR -> CapIR -> ShiftIR.
        walk(
            &mut t,
            &[(false, false), (true, false), (true, false), (false, false)],
        );
        assert_eq!(t.state(), TapState::CaptureIr);
        walk(&mut t, &[(false, false)]);
        assert_eq!(t.state(), TapState::ShiftIr);
        // Shift in 0b10001 LSB first; the last bit leaves with TMS high.
        let bits = [1, 0, 0, 0, 1].map(|b| b == 1);
        let seq: Vec<(bool, bool)> = bits.iter().enumerate().map(|(i, &b)| (i == 4, b)).collect();
        let out = walk(&mut t, &seq);
        assert_eq!(out, vec![true, false, false, false, false]);
        walk(&mut t, &[(true, false)]);
        assert_eq!(t.state(), TapState::UpdateIr);
        assert_eq!(t.instruction(), 0b10001);
    }

    #[test]
    fn dr_scan_shifts_through_the_register_length() {
        let mut t = Tap::new(5, Regs::default());
        walk(
            &mut t,
            &[
                (false, false),
                (true, false),
                (false, false),
                (false, false),
            ],
        );
        assert_eq!(t.state(), TapState::ShiftDr);
        // 8 bits out LSB first (0xa5), 0x3c in.
        let seq: Vec<(bool, bool)> = (0..8).map(|i| (i == 7, (0x3c >> i) & 1 == 1)).collect();
        let out = walk(&mut t, &seq);
        let got = out
            .iter()
            .enumerate()
            .fold(0u64, |a, (i, &b)| a | (u64::from(b) << i));
        assert_eq!(got, 0xa5);
        walk(
            &mut t,
            &[
                (true, false),
                (false, false),
                (false, false),
                (false, false),
            ],
        );
        assert_eq!(t.state(), TapState::RunTestIdle);
        assert_eq!(t.regs().updates, vec![(1, 0x3c)]);
        // Edges clocked in Run-Test/Idle: the one leaving it at the start, two at the end.
        assert_eq!(t.regs().idles, 3);
    }

    #[test]
    fn bypass_delays_by_one_bit_and_pause_keeps_the_shift() {
        let mut t = Tap::new(5, Regs::default());
        // Select instruction 0x1f (bypass).
        walk(
            &mut t,
            &[(false, false), (true, false), (true, false), (false, false)],
        );
        walk(&mut t, &[(false, false)]);
        let seq: Vec<(bool, bool)> = (0..5).map(|i| (i == 4, true)).collect();
        walk(&mut t, &seq);
        walk(
            &mut t,
            &[(true, false), (true, false), (false, false), (false, false)],
        );
        assert_eq!(t.instruction(), 0x1f);
        assert_eq!(t.state(), TapState::ShiftDr);
        // Bypass: first out is the captured 0, then what went in one clock earlier.
        let out = walk(&mut t, &[(false, true), (false, false), (true, true)]);
        assert_eq!(out, vec![false, true, false]);
        // Exit1 -> Pause -> Exit2 -> Shift keeps the register.
        walk(&mut t, &[(false, false), (true, false), (false, false)]);
        assert_eq!(t.state(), TapState::ShiftDr);
        assert!(t.tdo(), "the last bit shifted in before the pause");
        t.reset();
        assert_eq!(t.instruction(), 1);
        assert_eq!(t.state(), TapState::TestLogicReset);
    }
}
