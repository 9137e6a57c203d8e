//! Triggers: MCD's simple and complex core triggers, its counters and its custom
//! triggers, on Sdtrig triggers armed through the Debug Module (`mcontrol`/`mcontrol6` for
//! addresses, `icount` for counters, `etrigger`/`itrigger` for the custom trap catches).

use emu_runctl::{DataCond, TrapKind, traps};

use super::*;
use crate::wire::TrigComplexExtra;

/// The options a complex core trigger may add: conditions on the data an access moves.
const DATA_OPTIONS: u32 =
    trig_opt::DATA_IS_CONDITION | trig_opt::NOT_DATA | trig_opt::DATASIZE_IS_CONDITION;

/// The custom triggers `mcd-qry-ctrigs` lists: trap catches, by `ctrig-id`. Each info
/// string fits `MCD_INFO_STR_LEN` (255 characters and the NUL).
const CTRIGS: &[(u32, TrapKind, &str)] = &[
    (
        1,
        TrapKind::Exception,
        "exception catch: the core stops at its trap handler once it has taken an exception \
         whose cause n has bit n set in the mask ctrig-args[1]:[0] (high:low word); \
         mask 0: the faults (misaligned, access, page, illegal); ctrig-args[2..3] 0",
    ),
    (
        2,
        TrapKind::Interrupt,
        "interrupt catch: the core stops at its trap handler once it has taken an interrupt \
         whose cause n has bit n set in the mask ctrig-args[1]:[0] (high:low word); \
         mask 0: every interrupt; ctrig-args[2..3] 0",
    ),
];

impl Session {
    pub(super) fn qry_trig_info(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        Ok(members(json!({
            "trig-info": {
                "type": trig_type::IP | trig_type::READ | trig_type::WRITE | trig_type::RW
                    | trig_type::COUNTER | trig_type::CUSTOM,
                "option": trig_opt::IMPL_HARDWARE | DATA_OPTIONS,
                "action": trig_action::DBG_DEBUG,
                "trig-number": crate::wire::MAX_TRIGS,
                "state-number": 0,
                "counter-number": crate::wire::MAX_TRIGS,
                "sw-breakpoints": false,
            }
        })))
    }

    pub(super) fn qry_ctrigs(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-ctrigs")?;
        Ok(match window(CTRIGS.len(), start, n)? {
            None => members(json!({ "num-ctrigs": CTRIGS.len() })),
            Some(r) => {
                let info: Vec<Value> = CTRIGS[r]
                    .iter()
                    .map(|(id, _, text)| json!({ "ctrig-id": id, "info-str": text }))
                    .collect();
                members(json!({ "num-ctrigs": info.len(), "ctrig-info": info }))
            }
        })
    }

    pub(super) fn create_trig(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let trig: Value = a.parse("trig")?;
        let (member, body) = match (
            trig.get("trig-simple-core"),
            trig.get("trig-complex-core"),
            trig.get("trig-counter"),
            trig.get("trig-custom"),
        ) {
            (Some(b), None, None, None) => ("trig-simple-core", b),
            (None, Some(b), None, None) => ("trig-complex-core", b),
            (None, None, Some(b), None) => return self.create_counter(h, b),
            (None, None, None, Some(b)) => return self.create_custom(h, b),
            _ => {
                return Err(McdError::new(
                    err::TRIG_CREATE,
                    "trig needs exactly one of trig-simple-core, trig-complex-core, \
                     trig-counter and trig-custom",
                ));
            }
        };
        let mut t = TrigCore::deserialize(body)
            .map_err(|e| McdError::new(err::TRIG_CREATE, format!("{member}: {e}")))?;
        if member == "trig-complex-core" && t.complex.is_none() {
            return Err(McdError::new(
                err::TRIG_CREATE,
                "trig-complex-core needs data-start",
            ));
        }
        self.room()?;
        let kind = t.head.kind & !trig_type::NOCYCLE;
        if ![
            trig_type::IP,
            trig_type::READ,
            trig_type::WRITE,
            trig_type::RW,
        ]
        .contains(&kind)
        {
            return Err(McdError::new(
                err::TRIG_CREATE,
                format!(
                    "trigger type {:#x}: emu's triggers are IP, READ, WRITE or RW",
                    t.head.kind
                ),
            ));
        }
        accept_head(
            &mut t.head,
            if t.complex.is_some() { DATA_OPTIONS } else { 0 },
        )?;
        let cond = match &t.complex {
            Some(x) => data_cond(&t.head, x)?,
            None => None,
        };
        let lo = t.addr_start.address;
        let hi = lo
            .checked_add(t.addr_range.max(1))
            .ok_or_else(|| McdError::new(err::TRIG_CREATE, "the address range wraps"))?;
        let armed = match (kind, cond) {
            (trig_type::IP, Some(_)) => {
                return Err(McdError::new(
                    err::TRIG_CREATE,
                    "a data condition needs a READ, WRITE or RW trigger",
                ));
            }
            (trig_type::IP, None) if hi - lo == 1 => self.rc.add_breakpoint(h, lo),
            (trig_type::IP, None) => self.rc.add_breakpoint_range(h, lo, hi),
            _ => {
                let w = match kind {
                    trig_type::READ => WatchKind::Read,
                    trig_type::WRITE => WatchKind::Write,
                    _ => WatchKind::Access,
                };
                match cond {
                    Some(c) => self.rc.add_watchpoint_if(h, lo, hi, w, c),
                    None => self.rc.add_watchpoint(h, lo, hi, w, true),
                }
            }
        }
        .map_err(|e| McdError::rc(err::TRIG_CREATE, &e))?;
        Ok(self.keep(h, armed, json!({ member: t }), TrigKind::Core))
    }

    /// Record trigger `armed` of hart `h` under a new MCD id: the reply.
    fn keep(&mut self, h: usize, armed: TriggerId, accepted: Value, kind: TrigKind) -> Members {
        let id = self.next_trig;
        self.next_trig = self.next_trig.wrapping_add(1).max(1);
        self.trigs.insert(
            id,
            Trig {
                hart: h,
                rc_id: armed,
                accepted: accepted.clone(),
                captured: false,
                kind,
            },
        );
        members(json!({ "trig": accepted, "trig-id": id }))
    }

    fn room(&self) -> Result<()> {
        if self.trigs.len() >= crate::wire::MAX_TRIGS {
            return Err(McdError::new(
                err::TRIG_CREATE,
                "the trigger set is full (32 triggers)",
            ));
        }
        Ok(())
    }

    /// A counter trigger: the core stops (DEBUG) once `count-value` instructions have
    /// retired or trapped outside Debug Mode (an Sdtrig `icount` trigger, whose count has
    /// 14 bits); each time it runs on after that, it counts `reload-value` again (0: once).
    fn create_counter(&mut self, h: usize, body: &Value) -> Result<Members> {
        let mut t = TrigCounter::deserialize(body)
            .map_err(|e| McdError::new(err::TRIG_CREATE, format!("trig-counter: {e}")))?;
        self.room()?;
        if t.head.kind & !trig_type::NOCYCLE != trig_type::COUNTER {
            return Err(McdError::new(
                err::TRIG_CREATE,
                format!("trig-counter with type {:#x}: COUNTER (0x40)", t.head.kind),
            ));
        }
        accept_head(&mut t.head, 0)?;
        let max = emu_runctl::ICOUNT_MAX;
        if t.count_value == 0 || t.count_value > max || t.reload_value > max {
            return Err(McdError::new(
                err::TRIG_CREATE,
                format!(
                    "count-value {} and reload-value {}: an Sdtrig icount counts 1 to {max} \
                     instructions (reload 0: once)",
                    t.count_value, t.reload_value
                ),
            ));
        }
        let armed = self
            .rc
            .add_instruction_counter(h, t.count_value, t.reload_value)
            .map_err(|e| McdError::rc(err::TRIG_CREATE, &e))?;
        Ok(self.keep(h, armed, json!({ "trig-counter": t }), TrigKind::Counter))
    }

    /// A custom trigger: a trap catch on this core (`CTRIGS`). A mask of 0 asks for the
    /// default causes, and the accepted trigger carries them, `modified` set.
    fn create_custom(&mut self, h: usize, body: &Value) -> Result<Members> {
        let mut t = TrigCustom::deserialize(body)
            .map_err(|e| McdError::new(err::TRIG_CREATE, format!("trig-custom: {e}")))?;
        self.room()?;
        if t.head.kind != trig_type::CUSTOM {
            return Err(McdError::new(
                err::TRIG_CREATE,
                format!("trig-custom with type {:#x}: CUSTOM (0x80)", t.head.kind),
            ));
        }
        let kind = CTRIGS
            .iter()
            .find(|c| c.0 == t.ctrig_id)
            .map(|c| c.1)
            .ok_or_else(|| {
                McdError::new(
                    err::TRIG_CREATE,
                    format!(
                        "no custom trigger {} (mcd-qry-ctrigs lists 1 and 2)",
                        t.ctrig_id
                    ),
                )
            })?;
        if t.ctrig_args[2] != 0 || t.ctrig_args[3] != 0 {
            return Err(McdError::new(
                err::TRIG_CREATE,
                "ctrig-args[2] and [3] must be 0",
            ));
        }
        accept_head(&mut t.head, 0)?;
        let mut mask = u64::from(t.ctrig_args[1]) << 32 | u64::from(t.ctrig_args[0]);
        if mask == 0 {
            mask = match kind {
                TrapKind::Exception => traps::FAULTS,
                TrapKind::Interrupt => traps::all(kind),
            };
            t.ctrig_args[0] = mask as u32;
            t.ctrig_args[1] = (mask >> 32) as u32;
            t.head.modified = true;
        }
        let armed = self
            .rc
            .add_trap_catch(h, kind, mask)
            .map_err(|e| McdError::rc(err::TRIG_CREATE, &e))?;
        Ok(self.keep(h, armed, json!({ "trig-custom": t }), TrigKind::Catch))
    }

    pub(super) fn trig_of(&self, a: &Args<'_>, h: usize) -> Result<u32> {
        let id = a.u32("trig-id")?;
        match self.trigs.get(&id) {
            Some(t) if t.hart == h => Ok(id),
            _ => Err(McdError::new(
                err::TRIG_ACCESS,
                format!("no trigger {id} on this core"),
            )),
        }
    }

    pub(super) fn qry_trig(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let id = self.trig_of(a, h)?;
        let t = self.trigs.get(&id).map(|t| t.accepted.clone());
        Ok(members(json!({ "trig": t })))
    }

    pub(super) fn remove_trig(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let id = self.trig_of(a, h)?;
        if let Some(t) = self.trigs.remove(&id) {
            self.rc
                .remove_trigger(t.rc_id)
                .map_err(|e| McdError::rc(err::TRIG_ACCESS, &e))?;
        }
        Ok(Map::new())
    }

    pub(super) fn qry_trig_state(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let id = self.trig_of(a, h)?;
        self.drain();
        let captured = self.trigs.get(&id).is_some_and(|t| t.captured);
        // A counter's count left is read from the hart while it is halted (not valid
        // while it runs: `counter_value` refuses a running hart).
        let count = match self.trigs.get(&id) {
            Some(t) if t.kind == TrigKind::Counter => self.rc.counter_value(t.rc_id, h).ok(),
            _ => None,
        };
        let st = TrigState {
            active: true,
            captured,
            captured_valid: true,
            count_value: count.unwrap_or(0),
            count_valid: count.is_some(),
        };
        Ok(members(json!({ "trig-state": st })))
    }

    pub(super) fn activate_trig_set(&mut self, a: &Args<'_>) -> Result<Members> {
        // Triggers are armed in the hart when they are created.
        self.core(a)?;
        Ok(Map::new())
    }

    /// The ids of hart `h`'s triggers.
    pub(super) fn trig_ids(&self, h: usize) -> Vec<u32> {
        self.trigs
            .iter()
            .filter(|(_, t)| t.hart == h)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Disarm and forget every trigger of hart `h`.
    pub(super) fn drop_triggers(&mut self, h: usize) -> std::result::Result<(), RcError> {
        let mut first = Ok(());
        for id in self.trig_ids(h) {
            if let Some(t) = self.trigs.remove(&id)
                && let Err(e) = self.rc.remove_trigger(t.rc_id)
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }

    pub(super) fn remove_trig_set(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        self.drop_triggers(h)
            .map_err(|e| McdError::rc(err::TRIG_ACCESS, &e))?;
        Ok(Map::new())
    }

    pub(super) fn qry_trig_set(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-trigs")?;
        let ids = self.trig_ids(h);
        Ok(match window(ids.len(), start, n)? {
            None => members(json!({"num-trigs": ids.len()})),
            Some(r) => members(json!({"num-trigs": r.len(), "trig-ids": &ids[r]})),
        })
    }

    pub(super) fn qry_trig_set_state(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let active = self.trigs.values().any(|t| t.hart == h);
        Ok(members(json!({
            "trig-state": {
                "active": active, "state": 0, "state-valid": false,
                "trig-bus": 0, "trig-bus-valid": false, "trace": false, "trace-valid": false,
                "analysis": false, "analysis-valid": false,
            }
        })))
    }
}

/// What every kind of trigger must ask of emu: to stop the core (action DBG_DEBUG), with no
/// option but a hardware implementation and those in `extra`. A software breakpoint asked
/// for is served by an Sdtrig trigger, and the head says so (`modified`). An option emu
/// would not honour is refused rather than dropped: the trigger would fire where the
/// client said it must not.
fn accept_head(head: &mut TrigHead, extra: u32) -> Result<()> {
    if head.action != trig_action::DEFAULT && head.action != trig_action::DBG_DEBUG {
        return Err(McdError::new(
            err::TRIG_CREATE,
            format!(
                "action {:#x}: emu's triggers stop the core (DBG_DEBUG)",
                head.action
            ),
        ));
    }
    let allowed = trig_opt::IMPL_HARDWARE | trig_opt::IMPL_SOFTWARE | extra;
    if head.option & !allowed != 0 {
        return Err(McdError::new(
            err::TRIG_CREATE,
            format!(
                "option {:#x}: this trigger takes only {allowed:#x} (IMPL_HARDWARE, \
                 IMPL_SOFTWARE{})",
                head.option,
                if extra != 0 {
                    ", DATA_IS_CONDITION, DATASIZE_IS_CONDITION, NOT_DATA"
                } else {
                    ""
                }
            ),
        ));
    }
    if head.option & trig_opt::IMPL_SOFTWARE != 0 {
        head.option = head.option & !trig_opt::IMPL_SOFTWARE | trig_opt::IMPL_HARDWARE;
        head.modified = true;
    }
    Ok(())
}

/// A complex core trigger's conditions on the data (`None`: none): the value
/// (`data-start`, up to `data-start + data-range`; `data-mask` bits set are ignored;
/// negated with NOT_DATA) and the access size (`data-size`, with DATASIZE_IS_CONDITION).
fn data_cond(head: &TrigHead, x: &TrigComplexExtra) -> Result<Option<DataCond>> {
    let on = |o| head.option & o != 0;
    if on(trig_opt::NOT_DATA) && !on(trig_opt::DATA_IS_CONDITION) {
        return Err(McdError::new(
            err::TRIG_CREATE,
            "NOT_DATA negates a data condition: set DATA_IS_CONDITION too",
        ));
    }
    let size = if on(trig_opt::DATASIZE_IS_CONDITION) {
        u8::try_from(x.data_size).unwrap_or(u8::MAX)
    } else {
        0
    };
    let cond = if on(trig_opt::DATA_IS_CONDITION) {
        let hi = x
            .data_start
            .checked_add(x.data_range)
            .ok_or_else(|| McdError::new(err::TRIG_CREATE, "data-start + data-range overflows"))?;
        DataCond {
            lo: x.data_start,
            hi,
            ignore: x.data_mask,
            negate: on(trig_opt::NOT_DATA),
            size,
        }
    } else if on(trig_opt::DATASIZE_IS_CONDITION) {
        // The size alone: any value.
        DataCond {
            lo: 0,
            hi: u64::MAX,
            ignore: 0,
            negate: false,
            size,
        }
    } else {
        return Ok(None);
    };
    Ok(Some(cond))
}
