//! Memory through the Debug Module: Access Memory commands executed by a halted hart
//! (physical or virtual, every size, blocks with `aampostincrement` and `abstractauto`),
//! and System Bus Access (physical, any hart state, blocks with auto-increment and
//! read-on-data). Unaligned heads and tails take narrower accesses.

use emu_dm::regs::{self, CmdErr, access_memory as am, sbcs};

use crate::control::RunControl;
use crate::error::{RcError, Result, sb_err};
use crate::session::Session;
use crate::types::{HartStatus, MemSpace, RegId};

/// Virtual reads longer than this go through the hart's page tables (`walk`): a page costs
/// about as much as a few Access Memory commands.
const THROUGH_TABLES: usize = 64;

/// System-bus words read under one hold of the Debug Module's state.
const BATCH: usize = 64;

/// The largest access at `a` for `left` bytes, up to `max` bytes: log2 of its size.
fn size_at(a: u64, left: usize, max: u32) -> u32 {
    let mut s = max.trailing_zeros();
    while s > 0 && (!a.is_multiple_of(1 << s) || left < 1 << s) {
        s -= 1;
    }
    s
}

/// How `len` bytes at `addr` split into runs: `(offset, log2 size, count)`, full-width
/// accesses (`max` bytes) in blocks, narrower ones one at a time at the unaligned ends.
fn runs(addr: u64, len: usize, max: u32) -> Vec<(usize, u32, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < len {
        let size = size_at(addr.wrapping_add(i as u64), len - i, max);
        let n = 1usize << size;
        let count = if n == max as usize { (len - i) / n } else { 1 };
        out.push((i, size, count));
        i += count * n;
    }
    out
}

/// Little-endian word `k` of `n` bytes from `data` at `i`.
fn word(data: &[u8], i: usize, k: usize, n: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&data[i + k * n..i + (k + 1) * n]);
    u64::from_le_bytes(b)
}

impl RunControl {
    /// Read `buf.len()` bytes at `addr`. Virtual addresses need hart `h` halted (Access
    /// Memory, and its page tables for long reads); physical ones go over the system bus
    /// whatever the hart does.
    pub fn read_memory(&self, h: usize, space: MemSpace, addr: u64, buf: &mut [u8]) -> Result<()> {
        match space {
            MemSpace::Physical => self.read_memory_sba(addr, buf),
            MemSpace::Virtual => {
                if buf.len() > THROUGH_TABLES && self.read_through_tables(h, addr, buf)? {
                    return Ok(());
                }
                self.read_memory_abstract(h, space, addr, buf)
            }
        }
    }

    /// Write `data` at `addr` (as [`RunControl::read_memory`] chooses the way). A virtual
    /// write the hart's permissions refuse still lands where the hart can read (a
    /// breakpoint in read-only kernel text), through its page tables (`walk`).
    pub fn write_memory(&self, h: usize, space: MemSpace, addr: u64, data: &[u8]) -> Result<()> {
        match space {
            MemSpace::Physical => self.write_memory_sba(addr, data),
            MemSpace::Virtual => {
                let r = self.write_memory_abstract(h, space, addr, data);
                if r == Err(RcError::Command(CmdErr::Exception))
                    && self.write_past_protection(h, addr, data)?
                {
                    return Ok(());
                }
                r
            }
        }
    }

    /// Read through Access Memory commands run by halted hart `h`.
    pub fn read_memory_abstract(
        &self,
        h: usize,
        space: MemSpace,
        addr: u64,
        buf: &mut [u8],
    ) -> Result<()> {
        let mut s = self.inner.session();
        s.need_halted(h)?;
        let xb = s.xbytes();
        as_the_hart(&mut s, h, space, |s| {
            for (i, size, words) in runs(addr, buf.len(), xb) {
                let n = 1usize << size;
                let a = addr.wrapping_add(i as u64);
                am_block(s, a, size, space, words, &mut |k, v| {
                    buf[i + k * n..i + (k + 1) * n].copy_from_slice(&v.to_le_bytes()[..n]);
                })?;
            }
            Ok(())
        })
    }

    /// Write through Access Memory commands run by halted hart `h`.
    pub fn write_memory_abstract(
        &self,
        h: usize,
        space: MemSpace,
        addr: u64,
        data: &[u8],
    ) -> Result<()> {
        let mut s = self.inner.session();
        s.need_halted(h)?;
        let xb = s.xbytes();
        as_the_hart(&mut s, h, space, |s| {
            for (i, size, words) in runs(addr, data.len(), xb) {
                let n = 1usize << size;
                let a = addr.wrapping_add(i as u64);
                am_write_block(s, a, size, space, words, &|k| word(data, i, k, n))?;
            }
            Ok(())
        })
    }

    /// Read physical memory over the system bus.
    pub fn read_memory_sba(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let s = self.inner.session();
        for (i, size, words) in runs(addr, buf.len(), 8) {
            let n = 1usize << size;
            let a = addr.wrapping_add(i as u64);
            s.w(
                regs::SBCS,
                size << sbcs::ACCESS_SHIFT
                    | sbcs::AUTOINCREMENT
                    | sbcs::READONADDR
                    | if words > 1 { sbcs::READONDATA } else { 0 },
            );
            s.w(regs::SBADDRESS1, (a >> 32) as u32);
            s.w(regs::SBADDRESS0, a as u32);
            // All but the last word in batches of DMI reads (sbdata1, then sbdata0, which
            // starts the next bus read); the last after read-on-data is off.
            let per = if n == 8 { 2 } else { 1 };
            let pattern = &[regs::SBDATA1, regs::SBDATA0][2 - per..];
            let addrs: Vec<u8> = pattern.iter().copied().cycle().take(BATCH * per).collect();
            let mut vals = [0u32; 2 * BATCH];
            let mut k = 0;
            let mut put = |k: usize, v: &[u32]| {
                let w = if n == 8 {
                    (v[0] as u64) << 32 | v[1] as u64
                } else {
                    v[0] as u64
                };
                buf[i + k * n..i + (k + 1) * n].copy_from_slice(&w.to_le_bytes()[..n]);
            };
            while k + 1 < words {
                let m = (words - 1 - k).min(BATCH);
                s.r_many(&addrs[..m * per], &mut vals[..m * per]);
                for j in 0..m {
                    put(k + j, &vals[j * per..(j + 1) * per]);
                }
                k += m;
            }
            if words > 1 {
                // No read past the end (devices may have read side effects).
                s.w(regs::SBCS, size << sbcs::ACCESS_SHIFT | sbcs::AUTOINCREMENT);
            }
            s.r_many(&addrs[..per], &mut vals[..per]);
            put(words - 1, &vals[..per]);
            sb_outcome(&s)?;
        }
        Ok(())
    }

    /// Write physical memory over the system bus.
    pub fn write_memory_sba(&self, addr: u64, data: &[u8]) -> Result<()> {
        let s = self.inner.session();
        for (i, size, words) in runs(addr, data.len(), 8) {
            let n = 1usize << size;
            let a = addr.wrapping_add(i as u64);
            s.w(regs::SBCS, size << sbcs::ACCESS_SHIFT | sbcs::AUTOINCREMENT);
            s.w(regs::SBADDRESS1, (a >> 32) as u32);
            s.w(regs::SBADDRESS0, a as u32);
            for k in 0..words {
                let v = word(data, i, k, n);
                if n == 8 {
                    s.w(regs::SBDATA1, (v >> 32) as u32);
                }
                s.w(regs::SBDATA0, v as u32);
            }
            sb_outcome(&s)?;
        }
        Ok(())
    }

    /// Where hart `h` is, for callers choosing how to reach memory.
    pub fn is_halted(&self, h: usize) -> Result<bool> {
        Ok(self.status(h)? == HartStatus::Halted)
    }
}

/// The outcome of system bus accesses: `sberror` (cleared) or fine.
fn sb_outcome(s: &Session) -> Result<()> {
    let cs = s.r(regs::SBCS);
    let e = cs >> sbcs::ERROR_SHIFT & 7;
    if e != 0 || cs & sbcs::BUSYERROR != 0 {
        s.w(regs::SBCS, 7 << sbcs::ERROR_SHIFT | sbcs::BUSYERROR);
        return Err(sb_err(e));
    }
    Ok(())
}

/// `mstatus`, `dcsr`, and the fields of them a virtual access depends on.
pub(crate) const MSTATUS: RegId = RegId::Csr(0x300);
pub(crate) const DCSR: RegId = RegId::Csr(0x7b0);
const MPP_SHIFT: u32 = 11;
const MPRV: u64 = 1 << 17;

/// The privilege a hart at privilege `prv` with `mstatus` = `ms` loads and stores with.
pub(crate) fn data_priv(prv: u64, ms: u64) -> u64 {
    if prv == 3 && ms & MPRV != 0 {
        ms >> MPP_SHIFT & 3
    } else {
        prv
    }
}

/// Run `f` (Access Memory commands on halted hart `h`) so that virtual addresses translate
/// as the hart's own loads and stores did where it halted. The Debug Module translates
/// them as M-mode with `MPRV` set, that is with the privilege in `mstatus.MPP`, which is
/// seldom the hart's: a kernel halted in S-mode usually has MPP = U (its last `mret`
/// left it so) and would fault on its own pages. So `MPP` becomes the hart's data
/// privilege (`dcsr.prv`; `MPP` itself when it halted in M-mode with `MPRV` set) for the
/// commands, and `mstatus` is put back whatever they did.
pub(crate) fn as_the_hart<T>(
    s: &mut Session,
    h: usize,
    space: MemSpace,
    f: impl FnOnce(&mut Session) -> Result<T>,
) -> Result<T> {
    if space == MemSpace::Physical {
        return f(s);
    }
    let prv = s.read_reg(h, DCSR)? & 3;
    let ms = s.read_reg(h, MSTATUS)?;
    let mpp = ms >> MPP_SHIFT & 3;
    let want = data_priv(prv, ms);
    if want == mpp {
        return f(s);
    }
    s.write_reg(h, MSTATUS, ms & !(3 << MPP_SHIFT) | want << MPP_SHIFT)?;
    let r = f(s);
    let back = s.write_reg(h, MSTATUS, ms);
    r.and_then(|v| back.map(|()| v))
}

fn am_cmd(size: u32, space: MemSpace, postinc: bool, write: bool) -> u32 {
    2 << 24
        | if space == MemSpace::Virtual {
            am::VIRTUAL
        } else {
            0
        }
        | size << am::SIZE_SHIFT
        | if postinc { am::POSTINCREMENT } else { 0 }
        | if write { am::WRITE } else { 0 }
}

/// Read `words` accesses of `1 << size` bytes from `a` on the selected halted hart; the
/// first runs by `command`, the rest by reading `data0` with `abstractauto`.
pub(crate) fn am_block(
    s: &mut Session,
    a: u64,
    size: u32,
    space: MemSpace,
    words: usize,
    out: &mut dyn FnMut(usize, u64),
) -> Result<()> {
    s.set_arg(1, s.xbytes(), a);
    s.w(regs::COMMAND, am_cmd(size, space, words > 1, false));
    if words > 1 {
        s.w(regs::ABSTRACTAUTO, 1);
    }
    for k in 0..words {
        if k + 1 == words && words > 1 {
            s.w(regs::ABSTRACTAUTO, 0);
        }
        out(k, s.arg(0, 1 << size));
    }
    s.outcome()
}

fn am_write_block(
    s: &mut Session,
    a: u64,
    size: u32,
    space: MemSpace,
    words: usize,
    word: &dyn Fn(usize) -> u64,
) -> Result<()> {
    s.set_arg(1, s.xbytes(), a);
    s.set_arg(0, 1 << size, word(0));
    s.w(regs::COMMAND, am_cmd(size, space, words > 1, true));
    if words > 1 {
        s.w(regs::ABSTRACTAUTO, 1);
        for k in 1..words {
            s.set_arg(0, 1 << size, word(k));
        }
        s.w(regs::ABSTRACTAUTO, 0);
    }
    s.outcome()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_sizes_follow_alignment_and_length() {
        assert_eq!(size_at(0x1000, 100, 8), 3);
        assert_eq!(size_at(0x1004, 100, 8), 2);
        assert_eq!(size_at(0x1006, 100, 8), 1);
        assert_eq!(size_at(0x1007, 100, 8), 0);
        assert_eq!(size_at(0x1000, 3, 8), 1);
        assert_eq!(size_at(0x1000, 100, 4), 2);
        assert_eq!(runs(0x1003, 21, 8), vec![(0, 0, 1), (1, 2, 1), (5, 3, 2)]);
        assert_eq!(runs(0x1000, 6, 4), vec![(0, 2, 1), (4, 1, 1)]);
    }
}
