//! One client's MCD session: what it has opened, its triggers and last errors, and the
//! commands, each on the run-control API.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use emu_runctl::{
    HartSel, HartStatus, MemSpace, RcError, RegId, RunControl, StopCause, StopEvent, TriggerId,
    WatchKind,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::args::Args;

mod hierarchy;
mod memory;
mod run;
mod trig;
use crate::error::{McdError, Result};
use crate::regs::{Backing, GROUPS, RegMap};
use crate::wire::{
    Addr, CoreConInfo, CoreState, ENDIAN_LITTLE, Memspace, RegGroup, RegisterInfo, TrigCore,
    TrigCounter, TrigCustom, TrigHead, TrigState, Tx, TxList, access, core_state, err, event,
    mem_type, ret, step_type, trig_action, trig_opt, trig_type,
};

/// The most data one transaction list may move (its JSON reply stays under 64 KiB).
pub const MAX_PAYLOAD: usize = 12 * 1024;
/// Picoseconds per cycle: emu's time is a nominal 1 GHz clock, one instruction a cycle.
pub const PS_PER_CYCLE: u64 = 1000;
/// The most steps one `mcd-step` takes (it answers when they are done).
pub const MAX_STEPS: u32 = 1_000_000;

/// Memory space ids (0 is taken as LOGICAL).
const SPACE_PHYSICAL: u32 = 1;
const SPACE_LOGICAL: u32 = 2;
const SPACE_REGISTERS: u32 = 3;

/// ELF machine number of RISC-V (the API's core type).
const EM_RISCV: u32 = 243;
/// The JTAG IDCODE of emu's DTM (the API's device type).
const DEVICE_TYPE: u32 = 0x1e5e_0001;

/// Reset classes: bit 0 the whole system, bit 1 the addressed hart alone.
const RST_SYSTEM: u32 = 1 << 0;
const RST_HART: u32 = 1 << 1;

/// What the server tells clients about itself.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    /// The host name clients connected to.
    pub host: String,
    /// The port.
    pub port: u16,
    /// The machine's physical memory map (`mcd-qry-mem-blocks`); empty if not known.
    pub memory_map: Vec<MemBlock>,
}

/// One region of the machine's physical memory map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemBlock {
    /// A short name (`ram`, `rom`, `uart`, ...).
    pub name: String,
    /// First address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// What kind of region it is.
    pub kind: BlockKind,
}

/// The kind of a memory region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// Read-write memory.
    Ram,
    /// Read-only memory (the hart cannot write it).
    Rom,
    /// Device registers: reads and writes have side effects.
    Mmio,
}

/// What a session does after a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading requests.
    Continue,
    /// The client said `mcd-exit`: close the connection.
    Exit,
}

#[derive(Debug, Default)]
struct Core {
    open: bool,
    global: bool,
    /// Why it last stopped, and the MCD trigger that stopped it.
    last: Option<(StopCause, u32)>,
    /// Events since the client last asked.
    events: u32,
    /// Whether addresses were untranslated when last looked at (M-mode or `satp` bare).
    bare: Option<bool>,
    /// Resumed by this session and no stop event seen since.
    awaiting: bool,
    /// The `seq` of the latest halt taken in: a report of it (or of an older one)
    /// arriving later is not news.
    seen: u64,
    /// The counter of an `mcd-run-until` under way.
    until: Option<TriggerId>,
    /// The last stop was the end of an `mcd-run-until`.
    until_reached: bool,
}

#[derive(Debug)]
struct Trig {
    hart: usize,
    rc_id: TriggerId,
    /// As accepted, echoed by `mcd-qry-trig`.
    accepted: Value,
    captured: bool,
    kind: TrigKind,
}

/// Which of MCD's trigger structures a trigger came from, where it matters after creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrigKind {
    /// A simple or complex core trigger.
    Core,
    /// An instruction counter (`trig-counter`): its count left can be read.
    Counter,
    /// A trap catch (`trig-custom`): its stop reads "trap caught".
    Catch,
}

/// One client's session.
pub struct Session {
    rc: Arc<RunControl>,
    info: ServerInfo,
    /// Stop events, while the server is open (a session with no server open hears none).
    events: Option<emu_runctl::Subscription>,
    /// The server's one-client slot, shared by its connections: taken by the session
    /// that opens the server, given back when it closes it or leaves. `None`: this
    /// session is alone (an in-process client).
    slot: Option<Arc<AtomicBool>>,
    /// This session holds `slot`.
    holds_slot: bool,
    server_uid: Option<u32>,
    next_server_uid: u32,
    cores: Vec<Core>,
    /// Last error per core uid (0: the server level).
    errors: HashMap<u32, McdError>,
    /// The register map, and whether its CSRs were probed (on a halted hart).
    regmap: Option<(RegMap, bool)>,
    trigs: BTreeMap<u32, Trig>,
    next_trig: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server_uid", &self.server_uid)
            .field("trigs", &self.trigs.len())
            .finish_non_exhaustive()
    }
}

type Members = Map<String, Value>;

/// What a command answers besides `return-status`.
enum Reply {
    /// Members of the `return` object.
    Members(Members),
    /// A transaction list after execution (serialized straight from its types).
    Txlist(TxList),
    /// A transaction list that failed part way: the transactions done are reported
    /// with `return-status` 3, and the error is kept under the core uid.
    TxlistFailed(TxList, u32, McdError),
}

/// `mcd-execute-txlist`'s arguments.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct TxlistArgs {
    core_uid: u32,
    txlist: TxList,
}

/// A request that is (most likely) `mcd-execute-txlist`, parsed in one pass.
#[derive(Deserialize)]
struct TxlistRequest {
    execute: String,
    arguments: TxlistArgs,
    id: Option<Value>,
}

/// A request: `arguments` kept as text until the command is known.
#[derive(Deserialize)]
struct Request {
    execute: Option<Value>,
    arguments: Option<Box<RawValue>>,
    id: Option<Value>,
}

fn members(v: Value) -> Members {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The `[start, start + n)` window of a count-then-fill query over `count` entries: `None`
/// when only the count is asked for.
fn window(count: usize, start: u32, n: u32) -> Result<Option<std::ops::Range<usize>>> {
    if n == 0 {
        return Ok(None);
    }
    let start = start as usize;
    if start >= count {
        return Err(McdError::param(format!(
            "start-index {start} is past the last of {count} entries"
        )));
    }
    Ok(Some(start..count.min(start.saturating_add(n as usize))))
}

impl Session {
    /// A session on `rc` for a client of the server described by `info`, the only one.
    pub fn new(rc: Arc<RunControl>, info: ServerInfo) -> Session {
        Session::with_slot(rc, info, None)
    }

    /// A session for one of several clients of a server that serves one at a time: the
    /// first to open the server (`mcd-open-server`) has it until it closes it or leaves;
    /// the others' opens fail with `MCD_ERR_CONNECTION` (the protocol's answer to a
    /// second open) and succeed once it is free. A tool that connected while another had
    /// the target need not reconnect.
    pub fn sharing(rc: Arc<RunControl>, info: ServerInfo, slot: Arc<AtomicBool>) -> Session {
        Session::with_slot(rc, info, Some(slot))
    }

    fn with_slot(rc: Arc<RunControl>, info: ServerInfo, slot: Option<Arc<AtomicBool>>) -> Session {
        let harts = rc.harts();
        Session {
            rc,
            info,
            events: None,
            slot,
            holds_slot: false,
            server_uid: None,
            next_server_uid: 1,
            cores: (0..harts).map(|_| Core::default()).collect(),
            errors: HashMap::new(),
            regmap: None,
            trigs: BTreeMap::new(),
            next_trig: 1,
        }
    }

    /// Take the server's slot for this session: whether it has it now.
    fn claim_slot(&mut self) -> bool {
        if let Some(slot) = &self.slot
            && !self.holds_slot
        {
            if slot.swap(true, Ordering::AcqRel) {
                return false;
            }
            self.holds_slot = true;
        }
        true
    }

    /// Answer one request (the bytes of one JSON object): the reply line (without its
    /// newline) and what to do next.
    pub fn handle(&mut self, request: &[u8]) -> (String, Flow) {
        // Memory transfers are the large requests: a transaction list is parsed in one pass
        // straight into its types when it can be (the general path keeps `arguments` as
        // raw text first, a second pass over 8 KiB of a 4 KiB write).
        if memchr::memmem::find(request, b"\"mcd-execute-txlist\"").is_some()
            && let Ok(req) = serde_json::from_slice::<TxlistRequest>(request)
            && req.execute == "mcd-execute-txlist"
        {
            let r = Session::txlist_reply(self.run_txlist_args(req.arguments));
            return (self.reply_line(&req.execute, req.id, r), Flow::Continue);
        }
        let req: Request = match serde_json::from_slice(request) {
            Ok(r) => r,
            Err(e) => {
                return (
                    qmp_error("GenericError", &format!("JSON parse error: {e}")),
                    Flow::Continue,
                );
            }
        };
        let id = req.id;
        let Some(Value::String(cmd)) = req.execute else {
            return (
                with_id(
                    qmp_error_value("GenericError", "the request has no \"execute\" string"),
                    id,
                ),
                Flow::Continue,
            );
        };
        if cmd == "mcd-exit" {
            self.close();
            return (with_id(json!({"return": {}}), id), Flow::Exit);
        }
        let Some(r) = self.dispatch(&cmd, req.arguments.as_deref()) else {
            return (
                with_id(
                    qmp_error_value(
                        "CommandNotFound",
                        &format!("the command {cmd} has not been found"),
                    ),
                    id,
                ),
                Flow::Continue,
            );
        };
        (self.reply_line(&cmd, id, r), Flow::Continue)
    }

    /// The reply line to command `cmd`'s result `r`; an error is kept for
    /// `mcd-qry-error-info`.
    fn reply_line(
        &mut self,
        cmd: &str,
        id: Option<Value>,
        r: std::result::Result<Reply, (u32, McdError)>,
    ) -> String {
        let (mut m, status) = match r {
            Ok(Reply::Members(m)) => (m, ret::NONE),
            Ok(Reply::Txlist(list)) => {
                let line = crate::txjson::txlist_line(list, ret::NONE, id)
                    .unwrap_or_else(|e| qmp_error("GenericError", &e.to_string()));
                return line;
            }
            Ok(Reply::TxlistFailed(list, uid, e)) => {
                tracing::debug!("mcd: {cmd}: {e}");
                self.errors.insert(uid, e);
                let line = crate::txjson::txlist_line(list, ret::HANDLE_ERROR, id)
                    .unwrap_or_else(|e| qmp_error("GenericError", &e.to_string()));
                return line;
            }
            Err((uid, e)) => {
                tracing::debug!("mcd: {cmd}: {e}");
                self.errors.insert(uid, e);
                (Map::new(), ret::HANDLE_ERROR)
            }
        };
        if !m.contains_key("return-status") {
            m.insert("return-status".into(), json!(status));
        }
        with_id(json!({"return": m}), id)
    }

    /// A transaction list's outcome as a reply.
    fn txlist_reply(
        r: std::result::Result<TxList, (u32, McdError, Option<TxList>)>,
    ) -> std::result::Result<Reply, (u32, McdError)> {
        match r {
            Ok(list) => Ok(Reply::Txlist(list)),
            Err((uid, e, Some(list))) => Ok(Reply::TxlistFailed(list, uid, e)),
            Err((uid, e, None)) => Err((uid, e)),
        }
    }

    /// Forget what the client set up: its triggers are disarmed, its cores and server
    /// closed. (The harts stay as they are.)
    pub fn close(&mut self) {
        for (_, t) in std::mem::take(&mut self.trigs) {
            let _ = self.rc.remove_trigger(t.rc_id);
        }
        for c in &mut self.cores {
            c.open = false;
            c.global = false;
        }
        self.server_uid = None;
        self.events = None;
        if let Some(slot) = self.slot.as_ref().filter(|_| self.holds_slot) {
            slot.store(false, Ordering::Release);
            self.holds_slot = false;
        }
    }

    /// Run `cmd`; `None` if there is no such command. Errors carry the core uid they are
    /// stored under.
    fn dispatch(
        &mut self,
        cmd: &str,
        arguments: Option<&RawValue>,
    ) -> Option<std::result::Result<Reply, (u32, McdError)>> {
        if cmd == "mcd-execute-txlist" {
            let r = self.execute_txlist(arguments);
            return Some(Session::txlist_reply(r));
        }
        let arguments: Option<Value> = match arguments.map(|r| serde_json::from_str(r.get())) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => return Some(Err((0, McdError::param(format!("{cmd}: {e}"))))),
        };
        let a = match Args::new(cmd, arguments.as_ref()) {
            Ok(a) => a,
            Err(e) => return Some(Err((0, e))),
        };
        // Errors of a command that names an open core are that core's.
        let uid = a.u32("core-uid").unwrap_or(0);
        let uid = if (1..=self.cores.len() as u32).contains(&uid) {
            uid
        } else {
            0
        };
        let r = match cmd {
            "mcd-initialize" => self.initialize(&a),
            "mcd-qry-servers" => self.qry_servers(&a),
            "mcd-open-server" => self.open_server(&a),
            "mcd-close-server" => self.close_server(&a),
            "mcd-qry-systems" => self.qry_systems(&a),
            "mcd-qry-devices" => self.qry_devices(&a),
            "mcd-qry-cores" => self.qry_cores(&a),
            "mcd-open-core" => self.open_core(&a),
            "mcd-close-core" => self.close_core(&a),
            "mcd-qry-error-info" => return Some(Ok(Reply::Members(self.qry_error_info(&a)))),
            "mcd-qry-mem-spaces" => self.qry_mem_spaces(&a),
            "mcd-qry-reg-groups" => self.qry_reg_groups(&a),
            "mcd-qry-reg-map" => self.qry_reg_map(&a),
            "mcd-run" => self.run(&a),
            "mcd-run-until" => self.run_until(&a),
            "mcd-stop" => self.stop(&a),
            "mcd-step" => self.step(&a),
            "mcd-set-global" => self.set_global(&a),
            "mcd-qry-state" => self.qry_state(&a),
            "mcd-qry-rst-classes" => self.qry_rst_classes(&a),
            "mcd-qry-rst-class-info" => self.qry_rst_class_info(&a),
            "mcd-rst" => self.rst(&a),
            "mcd-qry-trig-info" => self.qry_trig_info(&a),
            "mcd-qry-ctrigs" => self.qry_ctrigs(&a),
            "mcd-create-trig" => self.create_trig(&a),
            "mcd-qry-trig" => self.qry_trig(&a),
            "mcd-remove-trig" => self.remove_trig(&a),
            "mcd-qry-trig-state" => self.qry_trig_state(&a),
            "mcd-activate-trig-set" => self.activate_trig_set(&a),
            "mcd-remove-trig-set" => self.remove_trig_set(&a),
            "mcd-qry-trig-set" => self.qry_trig_set(&a),
            "mcd-qry-trig-set-state" => self.qry_trig_set_state(&a),
            "mcd-qry-max-payload-size" => self.qry_max_payload_size(&a),
            "mcd-qry-core-modes" => self.qry_core_modes(&a),
            "mcd-qry-current-time" => self.qry_current_time(&a),
            "mcd-qry-mem-blocks" => self.qry_mem_blocks(&a),
            "mcd-execute-command" => self.execute_command(&a),
            _ => return None,
        };
        Some(r.map(Reply::Members).map_err(|e| (uid, e)))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

fn run_error(e: &RcError) -> u32 {
    match e {
        RcError::Unavailable(_) => err::DEVICE_ACCESS,
        RcError::Timeout(_) => err::TIMED_OUT,
        RcError::Running(_) | RcError::Halted(_) => err::USAGE,
        _ => err::GENERAL,
    }
}

fn mem_error(code: u32, at: u64, e: &RcError) -> McdError {
    McdError::new(code, format!("at {at:#x}: {e}"))
}

fn stop_text(cause: StopCause, trig: u32) -> String {
    match cause {
        StopCause::Ebreak => "ebreak".into(),
        StopCause::Trigger(_) if trig != 0 => format!("trigger {trig}"),
        StopCause::Trigger(_) => "hardware trigger".into(),
        StopCause::HaltRequest => "stopped by the debugger".into(),
        StopCause::Step => "step".into(),
        StopCause::ResetHalt => "reset halt".into(),
        StopCause::Group => "halted with its group".into(),
        StopCause::Other(c) => format!("Debug Mode entry cause {c}"),
    }
}

fn qmp_error_value(class: &str, desc: &str) -> Value {
    json!({"error": {"class": class, "desc": desc}})
}

/// A QMP-style error line (for input that is not an MCD command).
pub fn qmp_error(class: &str, desc: &str) -> String {
    qmp_error_value(class, desc).to_string()
}

fn with_id(mut v: Value, id: Option<Value>) -> String {
    if let (Some(id), Value::Object(m)) = (id, &mut v) {
        m.insert("id".into(), id);
    }
    v.to_string()
}
