//! The hart side: the memory harts see in Debug Mode (ROM, program, data, flags), what
//! their loads and stores there mean, and the content tags by which the JIT keys the
//! program area's translations.

use super::*;

impl DebugModule {
    /// The tag of the code at DM offset `off`: the program area's content changes with every
    /// command, so the JIT keys blocks there by this (same content, same tag: a repeated
    /// command reuses its translation). 0 elsewhere (the ROM never changes).
    pub fn code_tag(&self, off: u64) -> u64 {
        // From the GO entry, whose blocks run on into the program.
        if (rom::GO_ENTRY..rom::NEXT).contains(&off) {
            self.tag.load(Ordering::Acquire)
        } else {
            0
        }
    }

    pub(crate) fn retag(&self, st: &mut State) {
        let mut content: Vec<u32> = st.program.to_vec();
        content.extend_from_slice(&st.progbuf);
        content.extend_from_slice(&st.cleanup);
        let tag = match st.tags.get(&content) {
            Some(&t) => t,
            None => {
                // Bounded: forgetting old contents only costs their retranslation.
                if st.tags.len() >= 4096 {
                    st.tags.clear();
                }
                let t = st.next_tag;
                st.next_tag += 1;
                st.tags.insert(content, t);
                t
            }
        };
        self.tag.store(tag, Ordering::Release);
        st.tag_stale = false;
    }

    pub(super) fn mem_byte(&self, st: &State, off: u64) -> u8 {
        let word = |w: u32, o: u64| (w >> (8 * (o % 4))) as u8;
        let n = st.harts.len() as u64;
        match off {
            o if (rom::SAVE..rom::SAVE + 64).contains(&o) => st.save[(o - rom::SAVE) as usize],
            o if (rom::DATA..rom::DATA + 4 * regs::DATA_COUNT as u64).contains(&o) => {
                word(st.data[((o - rom::DATA) / 4) as usize], o)
            }
            o if (rom::GO_ENTRY..rom::PROGRAM).contains(&o) => self
                .go
                .get((o - rom::GO_ENTRY) as usize)
                .copied()
                .unwrap_or(0),
            o if (rom::PROGRAM..rom::PROGBUF).contains(&o) => {
                word(st.program[((o - rom::PROGRAM) / 4) as usize], o)
            }
            o if (rom::PROGBUF..rom::IMPEBREAK).contains(&o) => {
                word(st.progbuf[((o - rom::PROGBUF) / 4) as usize], o)
            }
            o if (rom::IMPEBREAK..rom::CLEANUP).contains(&o) => word(EBREAK, o),
            o if (rom::CLEANUP..rom::NEXT).contains(&o) => {
                let i = ((o - rom::CLEANUP) / 4) as usize;
                word(st.cleanup.get(i).copied().unwrap_or(EBREAK), o)
            }
            o if (rom::NEXT..rom::NEXT + 4 * n).contains(&o) => {
                word(self.next_entry((o - rom::NEXT) as usize / 4), o)
            }
            o if o >= rom::HALT_VECTOR => self
                .rom
                .get((o - rom::HALT_VECTOR) as usize)
                .copied()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// Where hart `h`'s park loop goes next.
    fn next_entry(&self, h: usize) -> u32 {
        rom::next_entry(self.ports[h].flags.load(Ordering::Acquire))
    }

    /// A hart reads `size` bytes at DM offset `off`.
    pub fn mem_read(&self, off: u64, size: usize) -> u64 {
        // The park loop's read of its word, without the state (see `Port::flags`).
        if size == 4
            && off.is_multiple_of(4)
            && let Some(h) = off
                .checked_sub(rom::NEXT)
                .map(|i| i as usize / 4)
                .filter(|&h| h < self.ports.len())
        {
            return self.next_entry(h) as u64;
        }
        let st = self.lock();
        if let Some(v) = scratch_read(&st, off, size) {
            return v;
        }
        (0..size as u64).fold(0, |v, k| {
            v | (self.mem_byte(&st, off + k) as u64) << (8 * k)
        })
    }

    /// A hart writes `size` bytes of `val` at DM offset `off`.
    pub fn mem_write(&self, off: u64, size: usize, val: u64) {
        let mut st = self.lock();
        let n = st.harts.len();
        let hart = |v: u64| (v as usize).min(n - 1);
        let per_hart = |base: u64| {
            (base..base + 4 * n as u64)
                .contains(&off)
                .then(|| ((off - base) / 4) as usize)
        };
        match off {
            rom::GOING => {
                let h = hart(val);
                self.ports[h]
                    .flags
                    .fetch_and(!(rom::FLAG_GO | rom::FLAG_CLEANUP), Ordering::AcqRel);
                if let Some(c) = st.cmd.as_mut()
                    && c.hart == h
                {
                    c.going = true;
                }
            }
            rom::XFER_DONE => {
                if let Some(c) = st.cmd.as_mut() {
                    c.xfer_done = true;
                }
            }
            rom::EXCEPTION => crate::command::exception(self, &mut st),
            // A store lands in the area its first byte is in; bytes past its end are
            // dropped.
            o if (rom::SAVE..rom::SAVE + 64).contains(&o) => {
                let i = (o - rom::SAVE) as usize;
                let n = size.min(8).min(st.save.len() - i);
                st.save[i..i + n].copy_from_slice(&val.to_le_bytes()[..n]);
            }
            o if (rom::DATA..rom::DATA + 4 * regs::DATA_COUNT as u64).contains(&o) => {
                // A program's word or doubleword store: whole registers.
                if let Some((w, n)) = data_words(o, size) {
                    // `data_words` keeps `w + n` within the registers.
                    st.data[w] = val as u32;
                    if n == 2 {
                        st.data[w + 1] = (val >> 32) as u32;
                    }
                } else {
                    for k in 0..size as u64 {
                        let b = o + k - rom::DATA;
                        if let Some(w) = st.data.get_mut((b / 4) as usize) {
                            let sh = 8 * (b % 4);
                            *w = (*w & !(0xff << sh)) | (((val >> (8 * k)) as u32 & 0xff) << sh);
                        }
                    }
                }
            }
            // Only the ROM's own word stores report: a program's stray byte store there
            // must not pass for a hart resuming or halting.
            _ if size != 4 || !off.is_multiple_of(4) => {}
            _ => {
                if let Some(h) = per_hart(rom::RESUMING) {
                    self.resuming(&mut st, h, val as u32);
                } else if let Some(h) = per_hart(rom::ENTERED) {
                    st.harts[h].entry_dcsr = val as u32;
                    self.halted(&mut st, h);
                }
                // The ROM and the program areas are read-only for harts.
            }
        }
        self.unlock(st);
    }

    /// Hart `h` entered (or re-entered) the park loop.
    pub(super) fn halted(&self, st: &mut State, h: usize) {
        let fresh = !st.harts[h].halted;
        let hs = &mut st.harts[h];
        hs.halted = true;
        hs.stepping = false;
        let dcsr = hs.entry_dcsr;
        let group = hs.halt_group;
        if fresh {
            hs.halts += 1;
            let seq = hs.halts;
            // Stored only where set: the debugger that waits for this halt writes the same
            // cache line next (it releases `haltreq`), and a line this thread only read
            // goes over to it sooner than one it wrote.
            let p = &self.ports[h];
            for a in [&p.released, &p.grouphalt, &p.resethalt, &p.wfi] {
                if a.load(Ordering::Relaxed) {
                    a.store(false, Ordering::Release);
                }
            }
            st.events.push(DmEvent::Halted { hart: h, dcsr, seq });
            // A hart that halted on its own halts its group (one halted for the group, cause
            // 6, is the group's doing already).
            if group != 0 && dcsr >> 6 & 7 != DebugCause::Group.code() {
                self.halt_group(st, group, Some(h));
            }
        }
        crate::command::hart_halted(self, st, h, fresh);
        self.notify();
    }

    /// Halt every running hart of halt group `g` (and pulse its external trigger outputs).
    pub(crate) fn halt_group(&self, st: &mut State, g: u8, except: Option<usize>) {
        let mut any = false;
        for (i, hs) in st.harts.iter().enumerate() {
            if hs.halt_group == g && Some(i) != except && !hs.halted && !hs.held {
                self.ports[i].grouphalt.store(true, Ordering::Release);
                any = true;
            }
        }
        for (k, &og) in st.ext_out_group.iter().enumerate() {
            if og == g {
                st.ext_out_count[k] += 1;
            }
        }
        if any {
            // The harts run on their own threads; they halt at their next batch.
            self.wake();
        }
    }

    /// Hart `h` is about to `dret` with `dcsr` = `dcsr`.
    pub(super) fn resuming(&self, st: &mut State, h: usize, dcsr: u32) {
        let step = dcsr & 4 != 0;
        let hs = &mut st.harts[h];
        hs.halted = false;
        hs.resumeack = true;
        self.ports[h]
            .flags
            .fetch_and(!rom::FLAG_RESUME, Ordering::AcqRel);
        hs.stepping = step;
        if !step {
            self.ports[h].released.store(true, Ordering::Release);
        }
        st.events.push(DmEvent::Resumed { hart: h, step });
        crate::command::hart_resumed(st, h);
        self.notify();
    }
}

/// The data registers `(first, count)` a word or doubleword access at `off` covers whole
/// (word-aligned, inside `data0..`): the accesses programs make. Others go byte by byte.
fn data_words(off: u64, size: usize) -> Option<(usize, usize)> {
    let n = match size {
        4 => 1,
        8 => 2,
        _ => return None,
    };
    let w = off.checked_sub(rom::DATA).filter(|o| o % 4 == 0)? / 4;
    (w + n as u64 <= regs::DATA_COUNT as u64).then_some((w as usize, n))
}

/// A program's read of a save slot or of data registers, without the byte-wise decode
/// of the whole memory map.
fn scratch_read(st: &State, off: u64, size: usize) -> Option<u64> {
    if let Some((w, n)) = data_words(off, size) {
        let lo = *st.data.get(w)? as u64;
        return Some(if n == 2 {
            lo | (*st.data.get(w + 1)? as u64) << 32
        } else {
            lo
        });
    }
    let i = usize::try_from(off.checked_sub(rom::SAVE)?).ok()?;
    let bytes = st.save.get(i..i.checked_add(size).filter(|_| size <= 8)?)?;
    let mut b = [0u8; 8];
    b[..size].copy_from_slice(bytes);
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use crate::regs::{self, dmcontrol as dc, dmstatus as ds};
    use crate::{DebugModule, HartCaps, rom};

    /// An active Debug Module for one RV64 hart.
    fn active_dm() -> DebugModule {
        let caps = HartCaps {
            xlen: emu_isa::Xlen::X64,
            f: false,
            d: false,
        };
        let dm = DebugModule::new(1, caps);
        dm.dmi_write(regs::DMCONTROL, dc::DMACTIVE);
        dm
    }

    /// Save slots and data registers read back what was written at every size and offset
    /// around their edges (where the word-wise way meets the byte-wise one, and where
    /// the last save slot adjoins `data0`), and as the bytes the debugger sees.
    #[test]
    fn scratch_accesses_agree_with_the_bytes() {
        let dm = active_dm();
        let data_end = rom::DATA + 4 * regs::DATA_COUNT as u64;
        let mut offs: Vec<u64> = Vec::new();
        for edge in [rom::SAVE, rom::DATA, data_end] {
            offs.extend(edge - 9..edge + 9);
        }
        offs.extend([rom::SAVE + 24, rom::DATA + 20]);
        let pattern = 0x8877_6655_4433_2211u64;
        for &off in &offs {
            for size in [1usize, 2, 4, 8] {
                let mask = if size == 8 {
                    u64::MAX
                } else {
                    (1 << (8 * size)) - 1
                };
                // Clear the neighbourhood byte by byte, then write at this size.
                for k in 0..24 {
                    dm.mem_write(off - 8 + k, 1, 0);
                }
                dm.mem_write(off, size, pattern);
                // A store lands in the area its first byte is in (bytes beyond it are
                // dropped), as it always has.
                let area = |a: u64| {
                    if (rom::SAVE..rom::SAVE + 64).contains(&a) {
                        1
                    } else if (rom::DATA..data_end).contains(&a) {
                        2
                    } else {
                        0
                    }
                };
                let inside = |a: u64| area(off) != 0 && area(a) == area(off);
                // Each byte, read alone, is the pattern's where written, 0 elsewhere.
                let mut want = 0u64;
                for k in 0..size as u64 {
                    let b = if inside(off + k) {
                        pattern >> (8 * k) & 0xff
                    } else {
                        0
                    };
                    assert_eq!(dm.mem_read(off + k, 1), b, "byte {k} of {off:#x}/{size}");
                    want |= b << (8 * k);
                }
                assert_eq!(dm.mem_read(off, size), want & mask, "{off:#x}/{size}");
                // Bytes around it were not touched.
                assert_eq!(dm.mem_read(off - 1, 1), 0, "below {off:#x}/{size}");
                assert_eq!(
                    dm.mem_read(off + size as u64, 1),
                    0,
                    "above {off:#x}/{size}"
                );
            }
        }
        // The debugger's view of data0 after a hart's doubleword store there.
        dm.mem_write(rom::DATA, 8, pattern);
        assert_eq!(dm.dmi_read(regs::DATA0), 0x4433_2211);
        assert_eq!(dm.dmi_read(regs::DATA0 + 1), 0x8877_6655);
    }

    /// The ROM's word store at ENTERED reports the halt; a program's byte or halfword
    /// store there or at RESUMING (the program buffer is the debugger's to fill) reports
    /// nothing.
    #[test]
    fn only_a_word_store_at_entered_reports_a_halt() {
        let dm = active_dm();
        let halted = |dm: &DebugModule| dm.dmi_read(regs::DMSTATUS) & ds::ALLHALTED != 0;
        assert!(!halted(&dm));
        dm.mem_write(rom::ENTERED + 1, 1, 0xc0);
        assert!(!halted(&dm), "a byte store is no report");
        dm.mem_write(rom::ENTERED, 2, 0xc0);
        assert!(!halted(&dm), "a halfword store is no report");
        dm.mem_write(rom::ENTERED, 4, 3 << 6 | 3);
        assert!(halted(&dm));
        dm.mem_write(rom::RESUMING, 1, 0);
        assert!(halted(&dm), "a byte store at RESUMING is no resume");
    }
}
