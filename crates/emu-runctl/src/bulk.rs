//! Registers in bulk: every GPR and the pc of a halted hart in a few program-buffer
//! commands instead of one Access Register command each (GDB reads them all at every
//! stop). Each program stores as many registers as the data registers hold
//! (`sd xN, slot(x0)`, the data registers being in the hart's memory map) and ends in
//! `ebreak`; the command is Access Register with `postexec` and no transfer, so nothing is
//! written to the hart. The group with the pc reads `dpc` into the GPR stored just before
//! it, stores it, and loads that GPR back from its slot.
//!
//! A chosen few registers (GDB's expedited registers in every stop reply: pc, sp, fp, ra)
//! come the same way, in one program for the set.

use emu_asm::Asm;
use emu_asm::reg::ZERO;
use emu_dm::regs;
use emu_isa::{Op, Xlen};

use crate::control::RunControl;
use crate::error::{RcError, Result};
use crate::progbuf::{GPR_PROGRAMS, ProgKey, SET_PROGRAMS, words};
use crate::session::Session;
use crate::types::{CoreRegs, RegId};

const DPC: u16 = 0x7b1;

/// One value a bulk program reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Gpr(u8),
    Pc,
}

/// x1..x31 then the pc, in groups of `n` (at least 2, so the pc never sits alone in a
/// group and has a GPR before it to use as scratch).
fn groups(n: usize) -> Vec<Vec<Item>> {
    let items: Vec<Item> = (1..32).map(Item::Gpr).chain([Item::Pc]).collect();
    let mut g: Vec<Vec<Item>> = items.chunks(n.max(2)).map(<[Item]>::to_vec).collect();
    // The pc alone at the end (32 = k * n + 1): it takes the GPR before it along.
    if let [.., prev, last] = &mut g[..]
        && last.len() == 1
        && let Some(r) = prev.pop()
    {
        last.insert(0, r);
    }
    g
}

/// How many register sets [`RunControl::read_registers`] keeps a program for; further
/// sets are read one register at a time.
const MAX_SETS: usize = 32;

/// A set of GPRs and the pc as one program reads it: the GPRs in the order asked, the pc
/// last (after a GPR, its scratch). `None` when the set has anything else, x0 or a pc
/// without a GPR.
fn set_items(regs: &[RegId]) -> Option<Vec<Item>> {
    let mut items = Vec::with_capacity(regs.len());
    let mut pc = false;
    for r in regs {
        match *r {
            RegId::Gpr(n @ 1..=31) => items.push(Item::Gpr(n)),
            RegId::Pc => pc = true,
            _ => return None,
        }
    }
    if pc {
        if items.is_empty() {
            return None;
        }
        items.push(Item::Pc);
    }
    Some(items)
}

/// The program storing `group` into the data slots from `data`.
fn program(group: &[Item], xlen: Xlen, data: u64) -> Vec<u32> {
    let xb = xlen.bits() as i64 / 8;
    let (ld, sd) = if xlen == Xlen::X64 {
        (Op::Ld, Op::Sd)
    } else {
        (Op::Lw, Op::Sw)
    };
    let slot = |k: usize| data as i64 + k as i64 * xb;
    let mut a = Asm::new(xlen, 0);
    for (k, item) in group.iter().enumerate() {
        match *item {
            Item::Gpr(r) => a.store(sd, r, ZERO, slot(k)),
            Item::Pc => {
                let scratch = match k.checked_sub(1).map(|j| group[j]) {
                    Some(Item::Gpr(r)) => r,
                    _ => unreachable!("the pc follows a GPR in its group"),
                };
                a.csrr(scratch, DPC);
                a.store(sd, scratch, ZERO, slot(k));
                a.load(ld, scratch, ZERO, slot(k - 1));
            }
        }
    }
    a.op0(Op::Ebreak);
    words(a)
}

/// Command: Access Register, no transfer, `postexec` (the size field as for a GPR).
fn exec_command(xlen: Xlen) -> u32 {
    let size = if xlen == Xlen::X64 { 3 } else { 2 };
    size << 20 | 1 << 18 | 0x1000
}

impl Session {
    /// Registers per bulk program: as many as the data registers hold and the program
    /// buffer fits (a store each, three more for the pc and the `ebreak`); `None` when
    /// that is under two or the hart cannot reach the data registers.
    fn bulk_group_size(&mut self) -> Option<usize> {
        let info = self.progbuf_info();
        info.data?;
        let n = (info.data_words * 4 / self.xbytes() as usize).min(info.words.saturating_sub(3));
        (n >= 2).then_some(n)
    }

    /// Every GPR and the pc of halted hart `h`.
    pub(crate) fn read_core(&mut self, h: usize) -> Result<CoreRegs> {
        self.select(h)?;
        let mut out = CoreRegs::default();
        let Some(n) = self.bulk_group_size() else {
            // No program buffer to speak of: one Access Register command each.
            for r in 1..32u8 {
                out.x[r as usize] = self.read_reg(h, RegId::Gpr(r))?;
            }
            out.pc = self.read_reg(h, RegId::Pc)?;
            return Ok(out);
        };
        let (xlen, xb) = (self.xlen, self.xbytes());
        let mut values = [0u64; regs::DATA_COUNT as usize];
        for (g, group) in groups(n).iter().enumerate() {
            let key = GPR_PROGRAMS
                .checked_add(g as u8)
                .ok_or(RcError::Unsupported("too many register groups"))?;
            // Program, command, outcome and values: one DMI batch per group.
            let mut ops = Vec::with_capacity(32);
            self.program_ops(key, |xlen, data| program(group, xlen, data), &mut ops)?;
            let values = &mut values[..group.len()];
            self.command_batch(ops, exec_command(xlen), 0..group.len() as u8, xb, values)?;
            for (item, &v) in group.iter().zip(values.iter()) {
                match *item {
                    Item::Gpr(r) => out.x[r as usize] = v,
                    Item::Pc => out.pc = v,
                }
            }
        }
        Ok(out)
    }

    /// Registers `regs` of halted hart `h`, in that order: one program-buffer command for
    /// a set of GPRs and the pc that fits one program, else one Access Register command
    /// each.
    pub(crate) fn read_set(&mut self, h: usize, regs: &[RegId]) -> Result<Vec<u64>> {
        self.select(h)?;
        let bulk = set_items(regs)
            .filter(|items| {
                !items.is_empty() && self.bulk_group_size().is_some_and(|n| items.len() <= n)
            })
            .and_then(|items| Some((self.set_key(&items)?, items)));
        let Some((key, items)) = bulk else {
            return regs.iter().map(|&r| self.read_reg(h, r)).collect();
        };
        let mut ops = Vec::with_capacity(32);
        self.program_ops(key, |xlen, data| program(&items, xlen, data), &mut ops)?;
        let mut values = vec![0u64; items.len()];
        let xb = self.xbytes();
        self.command_batch(
            ops,
            exec_command(self.xlen),
            0..items.len() as u8,
            xb,
            &mut values,
        )?;
        Ok(regs
            .iter()
            .map(|r| {
                let item = match *r {
                    RegId::Gpr(n) => Item::Gpr(n),
                    _ => Item::Pc,
                };
                items
                    .iter()
                    .position(|&i| i == item)
                    .map_or(0, |k| values[k])
            })
            .collect())
    }

    /// The program key of register set `items` (a new one the first time), while keys last.
    fn set_key(&mut self, items: &[Item]) -> Option<ProgKey> {
        let k = match self.sets.iter().position(|s| s == items) {
            Some(k) => k,
            None if self.sets.len() < MAX_SETS => {
                self.sets.push(items.to_vec());
                self.sets.len() - 1
            }
            None => return None,
        };
        SET_PROGRAMS.checked_add(u8::try_from(k).ok()?)
    }
}

impl RunControl {
    /// Registers `regs` of halted hart `h`, in that order. A few GPRs and the pc (a stop
    /// reply's registers) come in one program-buffer command; any other register, or a
    /// set too large for one program, one Access Register command each.
    pub fn read_registers(&self, h: usize, regs: &[RegId]) -> Result<Vec<u64>> {
        let mut s = self.inner.session();
        s.check_hart(h)?;
        s.read_set(h, regs).map_err(|e| s.not_halted(h, e))
    }

    /// Every GPR (`x[0]` is 0) and the pc of halted hart `h`, in a few program-buffer
    /// commands (one Access Register command each when the Debug Module has no room for
    /// the programs).
    pub fn read_core_registers(&self, h: usize) -> Result<CoreRegs> {
        let mut s = self.inner.session();
        s.check_hart(h)?;
        s.read_core(h).map_err(|e| s.not_halted(h, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cover_every_register_once_and_the_pc_has_a_scratch() {
        for n in [2, 3, 6, 12, 31, 32, 40] {
            let g = groups(n);
            let flat: Vec<Item> = g.concat();
            assert_eq!(flat.len(), 32, "n={n}");
            assert_eq!(flat.last(), Some(&Item::Pc));
            for (i, r) in (1..32).enumerate() {
                assert_eq!(flat[i], Item::Gpr(r));
            }
            let last = g.last().map(Vec::len).unwrap_or(0);
            assert!(last >= 2, "n={n}: the pc alone in its group");
            assert!(g.iter().all(|x| x.len() <= n.max(2)));
        }
    }

    #[test]
    fn programs_fit_and_end_in_ebreak() {
        for (xlen, n) in [(Xlen::X64, 6), (Xlen::X32, 12)] {
            for group in groups(n) {
                let p = program(&group, xlen, 0x380);
                assert!(p.len() <= 16, "{xlen:?}: {} words", p.len());
                assert_eq!(p.last(), Some(&0x0010_0073));
            }
        }
    }
}
