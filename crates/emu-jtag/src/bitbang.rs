//! OpenOCD's remote_bitbang protocol: one ASCII letter per pin change or request.
//!
//! - `0`..`7`: drive TCK, TMS, TDI (bits 2, 1, 0); a rising TCK edge clocks the TAP;
//! - `R`: sample TDO, answered with `0` or `1`;
//! - `r` `s` `t` `u`: TRST and SRST (bits 1 and 0 of the letter's offset from `r`), both
//!   active high in the letter (asserted = 1);
//! - `B` `b`: the probe's LED, ignored;
//! - `Q`: the probe is leaving.
//!
//! Letters for SWD that newer OpenOCD versions send (`O` `o` `c` `d`..`g`) are not JTAG:
//! emu has no SWD port, so they do nothing, except `c` (a SWDIO read), which is answered
//! `1` (an undriven, pulled-up line) so that a probe never waits for a reply. Anything
//! else (line ends, stray bytes) is ignored and counted.

use crate::dtm::{Dmi, Dtm};
use crate::tap::{DataRegisters, Tap};

/// What the decoder saw the probe ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// The probe sent `Q`.
    Quit,
}

/// A remote_bitbang decoder driving a TAP.
#[derive(Debug)]
pub struct BitBang<R> {
    tap: Tap<R>,
    tck: bool,
    trst: bool,
    srst: bool,
    ignored: u64,
}

impl<D: Dmi> BitBang<Dtm<D>> {
    /// A probe connection to the RISC-V DTM `dtm`.
    pub fn dtm(dtm: Dtm<D>) -> BitBang<Dtm<D>> {
        BitBang::new(Tap::new(crate::dtm::IR_LEN, dtm))
    }
}

impl<R: DataRegisters> BitBang<R> {
    /// A decoder over `tap`, with all pins low.
    pub fn new(tap: Tap<R>) -> BitBang<R> {
        BitBang {
            tap,
            tck: false,
            trst: false,
            srst: false,
            ignored: 0,
        }
    }

    /// The TAP.
    pub fn tap(&self) -> &Tap<R> {
        &self.tap
    }

    /// The TAP, mutably.
    pub fn tap_mut(&mut self) -> &mut Tap<R> {
        &mut self.tap
    }

    /// Bytes that were not protocol letters.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// The reset lines as last driven (TRST, SRST).
    pub fn resets(&self) -> (bool, bool) {
        (self.trst, self.srst)
    }

    /// A new probe connection: TCK low, the TAP reset (a probe makes no assumption about
    /// the TAP's state either). The reset lines keep their state.
    pub fn reconnect(&mut self) {
        self.tck = false;
        self.tap.reset();
    }

    /// Decode `input`, appending TDO replies to `out`; `on_srst` is told of SRST edges.
    /// Stops at `Q` (the rest of `input` is dropped).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>, on_srst: &mut dyn FnMut(bool)) -> Flow {
        for &c in input {
            match c {
                b'0'..=b'7' => {
                    let v = c - b'0';
                    let tck = v & 4 != 0;
                    if tck && !self.tck && !self.trst {
                        self.tap.clock(v & 2 != 0, v & 1 != 0);
                    }
                    self.tck = tck;
                }
                b'R' => out.push(if self.tap.tdo() { b'1' } else { b'0' }),
                b'r'..=b'u' => {
                    let v = c - b'r';
                    self.trst = v & 2 != 0;
                    if self.trst {
                        self.tap.reset();
                    }
                    let srst = v & 1 != 0;
                    if srst != self.srst {
                        self.srst = srst;
                        on_srst(srst);
                    }
                }
                b'B' | b'b' | b'O' | b'o' | b'd'..=b'g' => {}
                b'c' => out.push(b'1'),
                b'Q' => return Flow::Quit,
                _ => self.ignored += 1,
            }
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtm::{DtmConfig, IDCODE, IR_DMI};
    use crate::tap::TapState;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Regs(Mutex<Vec<u32>>);

    impl Dmi for Arc<Regs> {
        fn read(&self, addr: u8) -> u32 {
            self.0.lock().unwrap()[addr as usize]
        }
        fn write(&self, addr: u8, data: u32) {
            self.0.lock().unwrap()[addr as usize] = data;
        }
        fn reset_line(&self, _assert: bool) {}
    }

    /// What OpenOCD's bitbang driver sends for one clock: TCK low with the new TMS/TDI,
    /// optionally a read, then TCK high.
    fn clk(s: &mut Vec<u8>, tms: bool, tdi: bool, read: bool) {
        let v = (u8::from(tms) << 1) | u8::from(tdi);
        s.push(b'0' + v);
        if read {
            s.push(b'R');
        }
        s.push(b'0' + (4 | v));
    }

    /// Letters for a scan of `len` bits of `value` from Run-Test/Idle back to it, reading
    /// TDO at every bit.
    fn scan(s: &mut Vec<u8>, ir: bool, value: u64, len: u32) {
        clk(s, true, false, false);
        if ir {
            clk(s, true, false, false);
        }
        clk(s, false, false, false);
        clk(s, false, false, false);
        for i in 0..len {
            clk(s, i == len - 1, (value >> i) & 1 != 0, true);
        }
        clk(s, true, false, false);
        clk(s, false, false, false);
    }

    fn bits(r: &[u8]) -> u64 {
        r.iter()
            .enumerate()
            .fold(0, |a, (i, &b)| a | (u64::from(b == b'1') << i))
    }

    fn probe() -> (BitBang<Dtm<Arc<Regs>>>, Arc<Regs>) {
        let regs = Arc::new(Regs(Mutex::new(vec![0; 128])));
        (
            BitBang::dtm(Dtm::new(regs.clone(), DtmConfig::default())),
            regs,
        )
    }

    #[test]
    fn idcode_after_reset_then_a_dmi_write_and_read() {
        let (mut bb, regs) = probe();
        let mut s = Vec::new();
        for _ in 0..5 {
            clk(&mut s, true, false, false);
        }
        clk(&mut s, false, false, false);
        scan(&mut s, false, 0, 32);
        let mut out = Vec::new();
        assert_eq!(bb.feed(&s, &mut out, &mut |_| {}), Flow::Continue);
        assert_eq!(out.len(), 32);
        assert_eq!(bits(&out), u64::from(IDCODE));

        let mut s = Vec::new();
        scan(&mut s, true, u64::from(IR_DMI), 5);
        scan(&mut s, false, (0x04u64 << 34) | (0x1234_5678 << 2) | 2, 41);
        scan(&mut s, false, (0x04u64 << 34) | 1, 41);
        scan(&mut s, false, 0, 41);
        let mut out = Vec::new();
        bb.feed(&s, &mut out, &mut |_| {});
        assert_eq!(out.len(), 5 + 3 * 41);
        assert_eq!(bits(&out[..5]) & 3, 1, "IR captures 0b01");
        let last = bits(&out[5 + 82..]);
        assert_eq!(
            (last >> 34, (last >> 2) & 0xffff_ffff, last & 3),
            (4, 0x1234_5678, 0)
        );
        assert_eq!(regs.0.lock().unwrap()[4], 0x1234_5678);
        assert_eq!(bb.tap().state(), TapState::RunTestIdle);
    }

    #[test]
    fn resets_quit_and_other_letters() {
        let (mut bb, _) = probe();
        let mut edges = Vec::new();
        let mut out = Vec::new();
        // Walk to Shift-DR, then TRST puts the TAP back in Test-Logic-Reset.
        bb.feed(b"040602040004", &mut out, &mut |e| edges.push(e));
        assert_eq!(bb.tap().state(), TapState::ShiftDr);
        bb.feed(b"t", &mut out, &mut |e| edges.push(e));
        assert_eq!(bb.tap().state(), TapState::TestLogicReset);
        // Clocks while TRST is held do nothing.
        bb.feed(b"0404", &mut out, &mut |e| edges.push(e));
        assert_eq!(bb.tap().state(), TapState::TestLogicReset);
        bb.feed(b"usr\n Bb Oo de fg c", &mut out, &mut |e| edges.push(e));
        assert_eq!(edges, vec![true, false]);
        assert_eq!(bb.resets(), (false, false));
        assert_eq!(out, b"1");
        assert_eq!(bb.ignored(), 6, "newline and spaces");
        assert_eq!(bb.feed(b"0Q4R", &mut out, &mut |_| {}), Flow::Quit);
        assert_eq!(out, b"1", "nothing after Q is decoded");
    }
}
