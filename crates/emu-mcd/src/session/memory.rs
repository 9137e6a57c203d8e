//! Memory spaces, registers and transaction lists.

use super::*;

impl Session {
    /// The register map: probed on a halted hart and kept; a running hart gets the full
    /// list, probed again once it is halted.
    /// The register map: probed on a halted hart and kept; a running hart gets the full
    /// list, probed again once it is halted.
    pub(super) fn regmap(&mut self, h: usize) -> &RegMap {
        if !matches!(self.regmap, Some((_, true))) {
            self.regmap = Some(RegMap::probe(&self.rc, h));
        }
        let rc = &self.rc;
        &self.regmap.get_or_insert_with(|| RegMap::probe(rc, h)).0
    }

    pub(super) fn qry_mem_spaces(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-mem-spaces")?;
        let max_reg = self.regmap(h).max_regnum();
        let blocks = self.info.memory_map.len() as u32;
        let space = |id: u32, name: &str, ty: u32, max: u64| Memspace {
            mem_space_id: id,
            mem_space_name: name.into(),
            mem_type: ty,
            bits_per_mau: 8,
            invariance: 1,
            endian: ENDIAN_LITTLE,
            min_addr: 0,
            max_addr: max,
            num_mem_blocks: if id == SPACE_REGISTERS { 0 } else { blocks },
            supported_access_options: 0,
            core_mode_mask_read: 0,
            core_mode_mask_write: 0,
        };
        let all = [
            space(SPACE_PHYSICAL, "PHYSICAL", mem_type::IS_PHYSICAL, u64::MAX),
            space(
                SPACE_LOGICAL,
                "LOGICAL",
                mem_type::IS_LOGICAL | mem_type::IS_VIRTUAL | mem_type::IS_PROGRAM,
                u64::MAX,
            ),
            space(
                SPACE_REGISTERS,
                "REGISTERS",
                mem_type::IS_REGISTERS,
                max_reg,
            ),
        ];
        Ok(match window(all.len(), start, n)? {
            None => members(json!({"num-mem-spaces": all.len()})),
            Some(r) => members(json!({"num-mem-spaces": r.len(), "mem-spaces": &all[r]})),
        })
    }

    /// `mcd-qry-mem-blocks`: the physical memory map, for the PHYSICAL space and the
    /// LOGICAL one (the same addresses in M-mode, where firmware runs).
    pub(super) fn qry_mem_blocks(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        let space = a.u32("mem-space-id")?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-mem-blocks")?;
        match space {
            0 | SPACE_PHYSICAL | SPACE_LOGICAL => {}
            SPACE_REGISTERS => {
                return Err(McdError::new(
                    err::NO_MEM_BLOCKS,
                    "the REGISTERS space has no memory blocks",
                ));
            }
            s => {
                return Err(McdError::new(
                    err::MEM_SPACE_ID,
                    format!("no memory space {s}"),
                ));
            }
        }
        if self.info.memory_map.is_empty() {
            return Err(McdError::new(
                err::NO_MEM_BLOCKS,
                "this server was not given the memory map",
            ));
        }
        let all: Vec<Value> = self
            .info
            .memory_map
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // Modes 1-3 (User, Supervisor, Machine) may not write a ROM.
                let no_write = if b.kind == BlockKind::Rom { 0x7 } else { 0 };
                json!({
                    "mem-block-id": i + 1,
                    "mem-block-name": b.name,
                    "has-children": false,
                    "parent-id": 0,
                    "start-addr": b.start,
                    "end-addr": b.start.saturating_add(b.len.max(1) - 1),
                    "endian": ENDIAN_LITTLE,
                    "supported-au-sizes": [1, 2, 4, 8],
                    "supported-access-options": 0,
                    "core-mode-mask-read": 0,
                    "core-mode-mask-write": no_write,
                })
            })
            .collect();
        Ok(match window(all.len(), start, n)? {
            None => members(json!({"num-mem-blocks": all.len()})),
            Some(r) => members(json!({"num-mem-blocks": r.len(), "mem-blocks": &all[r]})),
        })
    }

    pub(super) fn qry_reg_groups(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-reg-groups")?;
        let map = self.regmap(h);
        let all: Vec<RegGroup> = GROUPS
            .iter()
            .map(|&(id, name)| RegGroup {
                reg_group_id: id,
                reg_group_name: name.into(),
                n_registers: map.group(id).count() as u32,
            })
            .filter(|g| g.n_registers > 0)
            .collect();
        Ok(match window(all.len(), start, n)? {
            None => members(json!({"num-reg-groups": all.len()})),
            Some(r) => members(json!({"num-reg-groups": r.len(), "reg-groups": &all[r]})),
        })
    }

    pub(super) fn qry_reg_map(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let g = a.u32("reg-group-id")?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-regs")?;
        if g != 0 && !GROUPS.iter().any(|&(id, _)| id == g) {
            return Err(McdError::new(
                err::REG_GROUP_ID,
                format!("no register group {g}"),
            ));
        }
        let map = self.regmap(h);
        let regs: Vec<RegisterInfo> = map
            .group(g)
            .map(|r| RegisterInfo {
                addr: Addr {
                    address: u64::from(r.regnum),
                    mem_space_id: SPACE_REGISTERS,
                    addr_space_id: 0,
                    addr_space_type: 0,
                },
                reg_group_id: r.group,
                regname: r.name.into(),
                regsize: r.bits,
                core_mode_mask_read: 0,
                core_mode_mask_write: 0,
                side_effects_read: false,
                side_effects_write: false,
                reg_type: 0,
                hw_thread_id: h as u32,
            })
            .collect();
        if regs.is_empty() {
            return Err(McdError::new(
                err::REG_GROUP_ID,
                format!("register group {g} is empty"),
            ));
        }
        Ok(match window(regs.len(), start, n)? {
            None => members(json!({"num-regs": regs.len()})),
            Some(r) => members(json!({"num-regs": r.len(), "reg-info": &regs[r]})),
        })
    }

    /// How LOGICAL addresses of hart `h` are reached now.
    pub(super) fn logical(&mut self, h: usize) -> Result<MemSpace> {
        let halted = self.rc.is_halted(h).unwrap_or(false);
        match self.cores[h].bare {
            Some(true) => Ok(MemSpace::Physical),
            _ if halted => Ok(MemSpace::Virtual),
            _ => Err(McdError::new(
                err::DEVICE_ACCESS,
                "the core is running and its addresses may be translated: stop it, or use the PHYSICAL memory space",
            )),
        }
    }

    /// Look at whether hart `h` translates addresses, once per halt.
    pub(super) fn note_translation(&mut self, h: usize) {
        if self.cores[h].bare.is_none() {
            self.cores[h].bare = self.rc.translates(h).ok().map(|t| !t);
        }
    }

    /// `mcd-execute-txlist`, its arguments parsed straight into their types. Errors carry
    /// the core uid they are kept under.
    pub(super) fn execute_txlist(
        &mut self,
        raw: Option<&RawValue>,
    ) -> std::result::Result<TxList, (u32, McdError, Option<TxList>)> {
        let text = raw.map_or("{}", RawValue::get);
        let args: TxlistArgs = serde_json::from_str(text)
            .map_err(|e| (0, McdError::param(format!("mcd-execute-txlist: {e}")), None))?;
        self.run_txlist_args(args)
    }

    /// `mcd-execute-txlist` on its parsed arguments.
    pub(super) fn run_txlist_args(
        &mut self,
        args: TxlistArgs,
    ) -> std::result::Result<TxList, (u32, McdError, Option<TxList>)> {
        let uid = args.core_uid;
        let known = if (1..=self.cores.len() as u32).contains(&uid) {
            uid
        } else {
            0
        };
        self.run_txlist(uid, args.txlist)
            .map_err(|(e, list)| (known, e, list))
    }

    /// Runs a list; on failure, the error and (once transactions ran) the list with what
    /// was done.
    fn run_txlist(
        &mut self,
        uid: u32,
        mut list: TxList,
    ) -> std::result::Result<TxList, (McdError, Option<TxList>)> {
        let h = self.open_core_of(uid).map_err(|e| (e, None))?;
        if list.num_tx as usize != list.tx.len() {
            return Err((
                McdError::new(
                    err::TXLIST_TX,
                    format!(
                        "num-tx is {} but the list has {} transactions",
                        list.num_tx,
                        list.tx.len()
                    ),
                ),
                None,
            ));
        }
        if list.tx.len() > crate::wire::TX_NUM_MAX {
            return Err((
                McdError::new(
                    err::TXLIST_TX,
                    format!(
                        "{} transactions: at most {} in one list",
                        list.tx.len(),
                        crate::wire::TX_NUM_MAX
                    ),
                ),
                None,
            ));
        }
        let total: u64 = list.tx.iter().map(|t| u64::from(t.num_bytes)).sum();
        if total > MAX_PAYLOAD as u64 {
            return Err((
                McdError::new(
                    err::TXLIST_TX,
                    format!(
                        "{total} bytes in one list: at most {MAX_PAYLOAD} (mcd-qry-max-payload-size)"
                    ),
                ),
                None,
            ));
        }
        self.note_translation(h);
        list.num_tx_ok = 0;
        for i in 0..list.tx.len() {
            let tx = &mut list.tx[i];
            tx.num_bytes_ok = 0;
            let mut t = tx.clone();
            match self.one_tx(h, &mut t) {
                Ok(()) => list.tx[i] = t,
                Err(e) => {
                    let e = McdError::new(e.code, format!("transaction {i}: {}", e.text));
                    return Err((e, Some(list)));
                }
            }
            list.num_tx_ok += 1;
        }
        Ok(list)
    }

    pub(super) fn one_tx(&mut self, h: usize, tx: &mut Tx) -> Result<()> {
        let n = tx.num_bytes as usize;
        let (read, write, read_first) = match tx.access_type {
            access::R => (true, false, true),
            access::W => (false, true, false),
            access::RW => (true, true, true),
            access::WR => (true, true, false),
            t => {
                return Err(McdError::new(
                    err::TXLIST_TX,
                    format!("access-type {t} is not R, W, RW or WR"),
                ));
            }
        };
        if write && tx.data.len() < n {
            return Err(McdError::new(
                err::TXLIST_TX,
                format!(
                    "a write of {n} bytes carries {} bytes of data",
                    tx.data.len()
                ),
            ));
        }
        let w = match tx.access_width {
            0 => n.max(1),
            w @ (1 | 2 | 4 | 8) => usize::from(w),
            w => {
                return Err(McdError::new(
                    err::TXLIST_TX,
                    format!("access-width {w} is not 0, 1, 2, 4 or 8"),
                ));
            }
        };
        if !n.is_multiple_of(w) {
            return Err(McdError::new(
                err::TXLIST_TX,
                format!("{n} bytes is not a whole number of {w}-byte accesses"),
            ));
        }
        let wdata: Vec<u8> = tx.data.iter().take(n).copied().collect();
        let mut rdata = vec![0u8; n];
        let space_id = match tx.addr.mem_space_id {
            0 => SPACE_LOGICAL,
            s => s,
        };
        let addr = tx.addr.address;
        if n > 0 && addr.checked_add(n as u64 - 1).is_none() {
            return Err(McdError::new(
                err::TXLIST_TX,
                "the transaction wraps past the top of the address space",
            ));
        }
        match space_id {
            SPACE_REGISTERS => {
                let ops: [(bool, bool); 2] = if read_first {
                    [(read, false), (false, write)]
                } else {
                    [(false, write), (read, false)]
                };
                for (r, wr) in ops {
                    if r {
                        self.reg_read(h, addr, &mut rdata)?;
                    }
                    if wr {
                        self.reg_write(h, addr, &wdata)?;
                    }
                }
            }
            SPACE_PHYSICAL | SPACE_LOGICAL => {
                let space = if space_id == SPACE_PHYSICAL {
                    MemSpace::Physical
                } else {
                    self.logical(h)?
                };
                let ops: [(bool, bool); 2] = if read_first {
                    [(read, false), (false, write)]
                } else {
                    [(false, write), (read, false)]
                };
                for (r, wr) in ops {
                    for off in (0..n).step_by(w) {
                        let at = addr + off as u64;
                        if r {
                            self.rc
                                .read_memory(h, space, at, &mut rdata[off..off + w])
                                .map_err(|e| mem_error(err::TXLIST_READ, at, &e))?;
                        }
                        if wr {
                            self.rc
                                .write_memory(h, space, at, &wdata[off..off + w])
                                .map_err(|e| mem_error(err::TXLIST_WRITE, at, &e))?;
                        }
                    }
                }
            }
            s => {
                return Err(McdError::new(
                    err::MEM_SPACE_ID,
                    format!("no memory space {s}"),
                ));
            }
        }
        tx.data = if read { rdata } else { wdata };
        tx.num_bytes_ok = tx.num_bytes;
        Ok(())
    }

    pub(super) fn reg_of(
        &mut self,
        h: usize,
        regnum: u64,
        n: usize,
        code: u32,
    ) -> Result<(Backing, usize)> {
        let map = self.regmap(h);
        let Some(r) = map.by_regnum(regnum) else {
            return Err(McdError::new(
                code,
                format!("no register numbered {regnum}"),
            ));
        };
        let size = (r.bits as usize).div_ceil(8);
        if n > size {
            return Err(McdError::new(
                err::TXLIST_TX,
                format!("register {} has {size} bytes, not {n}", r.name),
            ));
        }
        Ok((r.backing, size))
    }

    pub(super) fn reg_read(&mut self, h: usize, regnum: u64, out: &mut [u8]) -> Result<()> {
        let (b, _) = self.reg_of(h, regnum, out.len(), err::TXLIST_READ)?;
        let v = match b {
            Backing::Rc(r) => self.rc.read_register(h, r),
            Backing::Priv => self.rc.read_register(h, RegId::Csr(0x7b0)).map(|d| d & 3),
        }
        .map_err(|e| McdError::rc(err::TXLIST_READ, &e))?;
        let n = out.len();
        out.copy_from_slice(&v.to_le_bytes()[..n]);
        Ok(())
    }

    pub(super) fn reg_write(&mut self, h: usize, regnum: u64, data: &[u8]) -> Result<()> {
        let (b, size) = self.reg_of(h, regnum, data.len(), err::TXLIST_WRITE)?;
        let fail = |e: RcError| McdError::rc(err::TXLIST_WRITE, &e);
        let mut bytes = [0u8; 8];
        if data.len() < size {
            // A partial write keeps the other bytes.
            let mut old = [0u8; 8];
            self.reg_read(h, regnum, &mut old[..size])
                .map_err(|e| McdError::new(err::TXLIST_WRITE, e.text))?;
            bytes = old;
        }
        bytes[..data.len()].copy_from_slice(data);
        let v = u64::from_le_bytes(bytes);
        match b {
            Backing::Rc(r) => self.rc.write_register(h, r, v).map_err(fail),
            Backing::Priv => {
                let dcsr = self.rc.read_register(h, RegId::Csr(0x7b0)).map_err(fail)?;
                self.rc
                    .write_register(h, RegId::Csr(0x7b0), dcsr & !3 | v & 3)
                    .map_err(fail)
            }
        }
    }
}
