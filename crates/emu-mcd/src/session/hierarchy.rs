//! The hierarchy: versions, the server, systems, devices, cores, errors; and the
//! queries QEMU's schema leaves out (payload size, core modes, time).

use super::*;

impl Session {
    pub(super) fn initialize(&mut self, a: &Args<'_>) -> Result<Members> {
        let req: Value = a.parse("version-req")?;
        let major = req.get("v-api-major").and_then(Value::as_u64);
        let minor = req.get("v-api-minor").and_then(Value::as_u64);
        match (major, minor) {
            (Some(1), Some(0..=1)) => {}
            (Some(_), Some(_)) => {
                return Err(McdError::new(
                    err::GENERAL,
                    format!(
                        "incompatible versions: emu implements MCD API 1.1, asked for {}.{}",
                        major.unwrap_or(0),
                        minor.unwrap_or(0)
                    ),
                ));
            }
            _ => {
                return Err(McdError::param(
                    "mcd-initialize: version-req needs v-api-major and v-api-minor",
                ));
            }
        }
        let v = |s: &str| s.parse::<u64>().unwrap_or(0);
        let mut parts = env!("CARGO_PKG_VERSION").split('.');
        let (ma, mi, bu) = (
            v(parts.next().unwrap_or("0")),
            v(parts.next().unwrap_or("0")),
            v(parts.next().unwrap_or("0")),
        );
        Ok(members(json!({
            "impl-info": {
                "v-api": {"v-api-major": 1, "v-api-minor": 1, "author": "emu"},
                "v-imp-major": ma, "v-imp-minor": mi, "v-imp-build": bu,
                "vendor": "emu", "date": "2026-11-21",
            }
        })))
    }

    pub(super) fn qry_servers(&mut self, a: &Args<'_>) -> Result<Members> {
        let _ = a.string_or("host")?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-servers")?;
        let all = [json!({
            "server": "emu RISC-V system emulator",
            "system-instance": self.system_instance(),
            "acc-hw": "",
        })];
        Ok(match window(all.len(), start, n)? {
            None => members(json!({"num-servers": all.len()})),
            Some(r) => members(json!({"num-servers": r.len(), "server-info": &all[r]})),
        })
    }

    pub(super) fn open_server(&mut self, a: &Args<'_>) -> Result<Members> {
        let _ = a.string_or("system-key")?;
        let config = a.string_or("config-string")?;
        if self.server_uid.is_some() {
            return Err(McdError::new(err::CONNECTION, "server already open"));
        }
        if !self.claim_slot() {
            return Err(McdError::new(
                err::CONNECTION,
                "server already open: another MCD client has it open (emu serves one at a \
                 time; try again when it has closed it)",
            ));
        }
        self.events = Some(self.rc.subscribe());
        let uid = self.next_server_uid;
        self.next_server_uid = self.next_server_uid.wrapping_add(1).max(1);
        self.server_uid = Some(uid);
        Ok(members(json!({
            "server-uid": uid,
            "host": self.info.host,
            "config-string": config,
        })))
    }

    pub(super) fn close_server(&mut self, a: &Args<'_>) -> Result<Members> {
        let uid = a.u32("server-uid")?;
        if self.server_uid != Some(uid) {
            return Err(McdError::new(
                err::CONNECTION,
                format!("server {uid} is not open"),
            ));
        }
        self.close();
        Ok(Map::new())
    }

    pub(super) fn need_server(&self) -> Result<()> {
        if self.server_uid.is_none() {
            return Err(McdError::new(
                err::CONNECTION,
                "the server is not open (mcd-open-server)",
            ));
        }
        Ok(())
    }

    pub(super) fn system_instance(&self) -> String {
        format!("emu RV64, {} hart(s)", self.cores.len())
    }

    pub(super) fn con_info(&self, level: u8, core: u32) -> CoreConInfo {
        let mut c = CoreConInfo {
            host: self.info.host.clone(),
            server_port: u32::from(self.info.port),
            system: "emu".into(),
            system_instance: self.system_instance(),
            acc_hw: String::new(),
            ..CoreConInfo::default()
        };
        if level >= 1 {
            c.device = "emu-virt".into();
            c.device_type = DEVICE_TYPE;
            c.device_id = 0;
        }
        if level >= 2 {
            c.core = format!("hart{core}");
            c.core_type = EM_RISCV;
            c.core_id = core;
        }
        c
    }

    pub(super) fn qry_systems(&mut self, a: &Args<'_>) -> Result<Members> {
        self.need_server()?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-systems")?;
        Ok(match window(1, start, n)? {
            None => members(json!({"num-systems": 1})),
            Some(_) => members(json!({"num-systems": 1, "system-con-info": [self.con_info(0, 0)]})),
        })
    }

    pub(super) fn qry_devices(&mut self, a: &Args<'_>) -> Result<Members> {
        self.need_server()?;
        let _: CoreConInfo = a.parse("system-con-info")?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-devices")?;
        Ok(match window(1, start, n)? {
            None => members(json!({"num-devices": 1})),
            Some(_) => members(json!({"num-devices": 1, "device-con-info": [self.con_info(1, 0)]})),
        })
    }

    pub(super) fn qry_cores(&mut self, a: &Args<'_>) -> Result<Members> {
        self.need_server()?;
        let _: CoreConInfo = a.parse("connection-info")?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-cores")?;
        let count = self.cores.len();
        Ok(match window(count, start, n)? {
            None => members(json!({"num-cores": count})),
            Some(r) => {
                let infos: Vec<CoreConInfo> =
                    r.clone().map(|i| self.con_info(2, i as u32)).collect();
                members(json!({"num-cores": r.len(), "core-con-info": infos}))
            }
        })
    }

    pub(super) fn open_core(&mut self, a: &Args<'_>) -> Result<Members> {
        self.need_server()?;
        let info: CoreConInfo = a.parse("core-con-info")?;
        let h = info.core_id as usize;
        let Some(core) = self.cores.get_mut(h) else {
            return Err(McdError::param(format!(
                "no core {h}: emu has {} hart(s)",
                self.cores.len()
            )));
        };
        if core.open {
            return Err(McdError::new(
                err::CONNECTION,
                format!("core {h} is already open"),
            ));
        }
        core.open = true;
        core.events = 0;
        Ok(members(json!({
            "core-uid": h + 1,
            "core-con-info": self.con_info(2, h as u32),
        })))
    }

    /// The hart of the open core `core-uid`.
    pub(super) fn core(&self, a: &Args<'_>) -> Result<usize> {
        self.open_core_of(a.u32("core-uid")?)
    }

    /// The hart of the open core `uid`.
    pub(super) fn open_core_of(&self, uid: u32) -> Result<usize> {
        let h = (uid as usize).wrapping_sub(1);
        match self.cores.get(h) {
            Some(c) if c.open => Ok(h),
            Some(_) => Err(McdError::param(format!(
                "core-uid {uid}: the core is not open"
            ))),
            None => Err(McdError::param(format!("core-uid {uid}: no such core"))),
        }
    }

    pub(super) fn close_core(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        // Closing goes ahead even if a trigger cannot be disarmed (a hart in reset).
        let _ = self.drop_triggers(h);
        self.cores[h] = Core::default();
        Ok(Map::new())
    }

    pub(super) fn qry_error_info(&mut self, a: &Args<'_>) -> Members {
        let uid = a.u32("core-uid").unwrap_or(0);
        let e = self.errors.get(&uid).or_else(|| self.errors.get(&0));
        match e {
            Some(e) => members(json!({
                "return-status": ret::HANDLE_ERROR,
                "error-code": e.code,
                "error-events": 0,
                "error-str": e.text,
            })),
            None => members(json!({
                "return-status": ret::NONE,
                "error-code": err::NONE,
                "error-events": 0,
                "error-str": "",
            })),
        }
    }

    pub(super) fn qry_max_payload_size(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        Ok(members(json!({ "max-payload": MAX_PAYLOAD })))
    }

    pub(super) fn qry_core_modes(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        let start = a.u32_or("start-index", 0)?;
        let n = a.u32("num-modes")?;
        let all = [
            json!({"core-mode": 1, "name": "User"}),
            json!({"core-mode": 2, "name": "Supervisor"}),
            json!({"core-mode": 3, "name": "Machine"}),
        ];
        Ok(match window(all.len(), start, n)? {
            None => members(json!({"num-modes": all.len()})),
            Some(r) => members(json!({"num-modes": r.len(), "core-mode-info": &all[r]})),
        })
    }

    pub(super) fn qry_current_time(&mut self, a: &Args<'_>) -> Result<Members> {
        let h = self.core(a)?;
        let read = |c: u16| {
            self.rc
                .read_register(h, RegId::Csr(c))
                .map_err(|e| McdError::rc(err::DEVICE_ACCESS, &e))
        };
        let instret = read(0xb02)?;
        let cycles = read(0xb00)?;
        Ok(members(json!({
            "instret": instret,
            "cycles": cycles,
            "time-ps": cycles.saturating_mul(PS_PER_CYCLE),
        })))
    }

    /// Halted hart `h`'s time in picoseconds (`time-ps`): emu's harts retire one
    /// instruction per cycle of a nominal 1 GHz clock.
    pub(super) fn time_ps(&self, h: usize) -> Result<u64> {
        let cycles = self
            .rc
            .read_register(h, RegId::Csr(0xb00))
            .map_err(|e| McdError::rc(err::DEVICE_ACCESS, &e))?;
        Ok(cycles.saturating_mul(PS_PER_CYCLE))
    }

    /// `mcd-execute-command`: the debugger's text commands (`help` lists them), the same
    /// as GDB's `monitor`.
    pub(super) fn execute_command(&mut self, a: &Args<'_>) -> Result<Members> {
        self.core(a)?;
        let cmd = a.string_or("command-string")?;
        match emu_runctl::monitor::execute(&self.rc, &cmd, "") {
            Ok(text) => Ok(members(json!({ "result-string": text }))),
            Err(text) => Err(McdError::new(err::GENERAL, text)),
        }
    }
}
