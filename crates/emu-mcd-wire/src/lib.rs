//! # emu-mcd-wire: the MCD API on the wire
//!
//! The MCD API's numeric values (MCD API 1.1) and its structures as they travel in emu's
//! MCD protocol (`docs/mcd.md`): JSON member names are the C field names with `_`
//! replaced by `-`; pointers become ids. Shared by the server (`emu-mcd`) and the C-ABI
//! client library (`emu-mcd-client`), so both sides agree by construction.
//!
//! Must not depend on anything but serde: the client library links it into a small
//! shared object.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// `mcd_return_et`.
pub mod ret {
    /// Success.
    pub const NONE: u32 = 0;
    /// Call again.
    pub const AGAIN: u32 = 1;
    /// Handle an event.
    pub const HANDLE_EVENT: u32 = 2;
    /// Failed: details through `mcd-qry-error-info`.
    pub const HANDLE_ERROR: u32 = 3;
}

/// `mcd_error_code_et`.
pub mod err {
    /// No error.
    pub const NONE: u32 = 0;
    /// Not implemented.
    pub const FN_UNIMPLEMENTED: u32 = 0x100;
    /// A call out of order.
    pub const USAGE: u32 = 0x101;
    /// A bad argument.
    pub const PARAM: u32 = 0x102;
    /// Connection-level failure (server or core already open, not open).
    pub const CONNECTION: u32 = 0x200;
    /// Timed out.
    pub const TIMED_OUT: u32 = 0x201;
    /// Anything else.
    pub const GENERAL: u32 = 0xf00;
    /// The answer would not fit.
    pub const RESULT_TOO_LONG: u32 = 0x1000;
    /// The memory space has no memory blocks.
    pub const NO_MEM_BLOCKS: u32 = 0x1402;
    /// Bad memory space id.
    pub const MEM_SPACE_ID: u32 = 0x1410;
    /// Bad register group id.
    pub const REG_GROUP_ID: u32 = 0x1441;
    /// The device cannot be accessed (a hart held in reset).
    pub const DEVICE_ACCESS: u32 = 0x1900;
    /// A read of a transaction list failed.
    pub const TXLIST_READ: u32 = 0x2100;
    /// A write of a transaction list failed.
    pub const TXLIST_WRITE: u32 = 0x2101;
    /// A transaction is malformed.
    pub const TXLIST_TX: u32 = 0x2102;
    /// The register is not a compound register.
    pub const REG_NOT_COMPOUND: u32 = 0x1442;
    /// The target has no communication channels.
    pub const CHL_TARGET_NOT_SUPPORTED: u32 = 0x3101;
    /// A trigger cannot be created.
    pub const TRIG_CREATE: u32 = 0x3200;
    /// A trigger cannot be accessed.
    pub const TRIG_ACCESS: u32 = 0x3201;
}

/// `mcd_mem_type_et` bits.
pub mod mem_type {
    /// Registers.
    pub const IS_REGISTERS: u32 = 0x1;
    /// Program memory.
    pub const IS_PROGRAM: u32 = 0x2;
    /// Virtual addresses.
    pub const IS_VIRTUAL: u32 = 0x4;
    /// Physical addresses.
    pub const IS_PHYSICAL: u32 = 0x10;
    /// The core's logical view.
    pub const IS_LOGICAL: u32 = 0x20;
}

/// `mcd_endian_et`: little endian.
pub const ENDIAN_LITTLE: u32 = 1;

/// `mcd_trig_type_et` bits.
pub mod trig_type {
    /// Instruction pointer (before execution).
    pub const IP: u32 = 0x1;
    /// Data read.
    pub const READ: u32 = 0x2;
    /// Data write.
    pub const WRITE: u32 = 0x4;
    /// Data read or write.
    pub const RW: u32 = 0x8;
    /// No cycle qualifier.
    pub const NOCYCLE: u32 = 0x10;
    /// Trigger bus.
    pub const TRIG_BUS: u32 = 0x20;
    /// Counter.
    pub const COUNTER: u32 = 0x40;
    /// Custom.
    pub const CUSTOM: u32 = 0x80;
}

/// `mcd_trig_action_et` bits.
pub mod trig_action {
    /// The implementation's default (here: enter Debug Mode).
    pub const DEFAULT: u32 = 0;
    /// Stop the core (Debug Mode).
    pub const DBG_DEBUG: u32 = 0x1;
}

/// `mcd_trig_opt_et` bits.
pub mod trig_opt {
    /// A hardware trigger.
    pub const IMPL_HARDWARE: u32 = 0x1;
    /// A software (code patch) breakpoint.
    pub const IMPL_SOFTWARE: u32 = 0x2;
    /// Fire outside the range.
    pub const OUT_OF_RANGE: u32 = 0x4;
    /// The data value is a condition.
    pub const DATA_IS_CONDITION: u32 = 0x8;
    /// The access size is a condition.
    pub const DATASIZE_IS_CONDITION: u32 = 0x10;
    /// The data comparison is negated.
    pub const NOT_DATA: u32 = 0x20;
    /// The data values are signed.
    pub const SIGNED_DATA: u32 = 0x40;
}

/// `mcd_tx_access_type_et`.
pub mod access {
    /// Read.
    pub const R: u32 = 1;
    /// Write.
    pub const W: u32 = 2;
    /// Read, then write.
    pub const RW: u32 = 3;
    /// Write, then read back.
    pub const WR: u32 = 4;
}

/// `mcd_core_step_type_et`.
pub mod step_type {
    /// Clock cycles (one instruction per cycle in emu).
    pub const CYCLES: u32 = 1;
    /// Instructions.
    pub const INSTR: u32 = 2;
}

/// `mcd_core_state_et`.
pub mod core_state {
    /// Not known.
    pub const UNKNOWN: u32 = 0;
    /// Running.
    pub const RUNNING: u32 = 1;
    /// Halted by itself (not by the debugger).
    pub const HALTED: u32 = 2;
    /// Stopped in Debug Mode.
    pub const DEBUG: u32 = 3;
}

/// `mcd_core_event_et` bits.
pub mod event {
    /// Nothing happened.
    pub const NONE: u32 = 0;
    /// A trigger's state changed.
    pub const TRIGGER_CHANGE: u32 = 0x8;
    /// The core stopped.
    pub const STOPPED: u32 = 0x10;
}

/// The API's maximum number of triggers (`MCD_MAX_TRIGS`).
pub const MAX_TRIGS: usize = 32;
/// The most transactions in one list (`MCD_TX_NUM_MAX`).
pub const TX_NUM_MAX: usize = 64;

/// `mcd_core_con_info_st`: where a system, device or core is.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CoreConInfo {
    pub host: String,
    pub server_port: u32,
    pub server_key: String,
    pub system_key: String,
    pub device_key: String,
    pub system: String,
    pub system_instance: String,
    pub acc_hw: String,
    pub device_type: u32,
    pub device: String,
    pub device_id: u32,
    pub core: String,
    pub core_type: u32,
    pub core_id: u32,
}

/// `mcd_addr_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Addr {
    pub address: u64,
    #[serde(default)]
    pub mem_space_id: u32,
    #[serde(default)]
    pub addr_space_id: u32,
    #[serde(default)]
    pub addr_space_type: u32,
}

/// `mcd_memspace_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Memspace {
    pub mem_space_id: u32,
    pub mem_space_name: String,
    pub mem_type: u32,
    pub bits_per_mau: u32,
    pub invariance: u8,
    pub endian: u32,
    pub min_addr: u64,
    pub max_addr: u64,
    pub num_mem_blocks: u32,
    pub supported_access_options: u32,
    pub core_mode_mask_read: u32,
    pub core_mode_mask_write: u32,
}

/// `mcd_register_group_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RegGroup {
    pub reg_group_id: u32,
    pub reg_group_name: String,
    pub n_registers: u32,
}

/// `mcd_register_info_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RegisterInfo {
    pub addr: Addr,
    pub reg_group_id: u32,
    pub regname: String,
    pub regsize: u32,
    pub core_mode_mask_read: u32,
    pub core_mode_mask_write: u32,
    pub side_effects_read: bool,
    pub side_effects_write: bool,
    pub reg_type: u32,
    pub hw_thread_id: u32,
}

/// `mcd_tx_st`: one transaction of a list. Reads arrive with `data` zero-filled.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Tx {
    pub addr: Addr,
    pub access_type: u32,
    #[serde(default)]
    pub options: u32,
    #[serde(default)]
    pub access_width: u8,
    #[serde(default)]
    pub core_mode: u8,
    #[serde(default)]
    pub data: Vec<u8>,
    pub num_bytes: u32,
    #[serde(default)]
    pub num_bytes_ok: u32,
}

/// `mcd_txlist_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TxList {
    pub tx: Vec<Tx>,
    pub num_tx: u32,
    #[serde(default)]
    pub num_tx_ok: u32,
}

/// The members every MCD trigger structure starts with.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrigHead {
    #[serde(rename = "type")]
    pub kind: u32,
    #[serde(default)]
    pub option: u32,
    #[serde(default)]
    pub action: u32,
    #[serde(default)]
    pub action_param: u32,
    #[serde(default)]
    pub modified: bool,
    #[serde(default)]
    pub state_mask: u32,
}

/// `mcd_trig_simple_core_st`, and the complex trigger's extra members (present when the
/// client sent `trig-complex-core`).
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrigCore {
    #[serde(flatten)]
    pub head: TrigHead,
    pub addr_start: Addr,
    #[serde(default)]
    pub addr_range: u64,
    #[serde(flatten)]
    pub complex: Option<TrigComplexExtra>,
}

/// `mcd_trig_counter_st`: emu counts retired instructions (an Sdtrig `icount` trigger).
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrigCounter {
    #[serde(flatten)]
    pub head: TrigHead,
    pub count_value: u64,
    #[serde(default)]
    pub reload_value: u64,
}

/// `mcd_trig_custom_st`: one of the custom triggers `mcd-qry-ctrigs` lists, by `ctrig-id`,
/// with four arguments whose meaning that list gives.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrigCustom {
    #[serde(flatten)]
    pub head: TrigHead,
    pub ctrig_id: u32,
    #[serde(default)]
    pub ctrig_args: [u32; 4],
}

/// The members a complex core trigger adds.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrigComplexExtra {
    pub data_start: u64,
    #[serde(default)]
    pub data_range: u64,
    #[serde(default)]
    pub data_mask: u64,
    #[serde(default)]
    pub data_size: u32,
    #[serde(default)]
    pub hw_thread_id: u32,
    #[serde(default)]
    pub sw_thread_id: u64,
    #[serde(default)]
    pub core_mode_mask: u32,
}

/// `mcd_trig_state_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrigState {
    pub active: bool,
    pub captured: bool,
    pub captured_valid: bool,
    pub count_value: u64,
    pub count_valid: bool,
}

/// `mcd_core_state_st`.
#[allow(missing_docs)] // The members are the API's fields, named as the protocol names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CoreState {
    pub state: u32,
    pub event: u32,
    pub hw_thread_id: u32,
    pub trig_id: u32,
    pub stop_str: String,
    pub info_str: String,
}
