//! The MCD API 1.1's C types, written from the API's published facts (field order, sizes,
//! numeric values): every enumeration type is a `uint32_t`, `bool` is C's one-byte
//! `_Bool`, and members are naturally aligned. `include/mcd_api.h` declares the same
//! layouts for C; `tests/c_session.rs` checks both agree with the C compiler.

use std::ffi::{c_char, c_void};

/// `mcd_return_et`.
pub type McdReturn = u32;

/// `MCD_*_LEN` and the other sizes the structures use.
pub mod len {
    /// `MCD_HOSTNAME_LEN`.
    pub const HOSTNAME: usize = 64;
    /// `MCD_REG_NAME_LEN`.
    pub const REG_NAME: usize = 32;
    /// `MCD_MEM_SPACE_NAME_LEN`.
    pub const MEM_SPACE_NAME: usize = 32;
    /// `MCD_MEM_BLOCK_NAME_LEN`.
    pub const MEM_BLOCK_NAME: usize = 32;
    /// `MCD_MEM_AUSIZE_NUM`.
    pub const MEM_AUSIZE_NUM: usize = 8;
    /// `MCD_INFO_STR_LEN`.
    pub const INFO_STR: usize = 256;
    /// `MCD_KEY_LEN`.
    pub const KEY: usize = 64;
    /// `MCD_UNIQUE_NAME_LEN`.
    pub const UNIQUE_NAME: usize = 64;
    /// `MCD_API_IMP_VENDOR_LEN`.
    pub const VENDOR: usize = 32;
    /// `MCD_CORE_MODE_NAME_LEN`.
    pub const CORE_MODE_NAME: usize = 32;
}

/// `mcd_api_version_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct ApiVersion {
    pub v_api_major: u16,
    pub v_api_minor: u16,
    pub author: [c_char; len::VENDOR],
}

/// `mcd_impl_version_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct ImplVersionInfo {
    pub v_api: ApiVersion,
    pub v_imp_major: u16,
    pub v_imp_minor: u16,
    pub v_imp_build: u16,
    pub vendor: [c_char; len::VENDOR],
    pub date: [c_char; 16],
}

/// `mcd_error_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct ErrorInfo {
    pub return_status: u32,
    pub error_code: u32,
    pub error_events: u32,
    pub error_str: [c_char; len::INFO_STR],
}

/// `mcd_server_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct ServerInfo {
    pub server: [c_char; len::UNIQUE_NAME],
    pub system_instance: [c_char; len::UNIQUE_NAME],
    pub acc_hw: [c_char; len::UNIQUE_NAME],
}

/// `mcd_server_st`: allocated by the library in `mcd_open_server_f`.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs)]
pub struct Server {
    pub instance: *mut c_void,
    pub host: *const c_char,
    pub config_string: *const c_char,
}

/// `mcd_core_con_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct CoreConInfo {
    pub host: [c_char; len::HOSTNAME],
    pub server_port: u32,
    pub server_key: [c_char; len::KEY],
    pub system_key: [c_char; len::KEY],
    pub device_key: [c_char; len::KEY],
    pub system: [c_char; len::UNIQUE_NAME],
    pub system_instance: [c_char; len::UNIQUE_NAME],
    pub acc_hw: [c_char; len::UNIQUE_NAME],
    pub device_type: u32,
    pub device: [c_char; len::UNIQUE_NAME],
    pub device_id: u32,
    pub core: [c_char; len::UNIQUE_NAME],
    pub core_type: u32,
    pub core_id: u32,
}

/// `mcd_core_st`: allocated by the library in `mcd_open_core_f`.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs)]
pub struct Core {
    pub instance: *mut c_void,
    pub core_con_info: *const CoreConInfo,
}

/// `mcd_core_mode_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct CoreModeInfo {
    pub core_mode: u8,
    pub name: [c_char; len::CORE_MODE_NAME],
}

/// `mcd_addr_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs)]
pub struct Addr {
    pub address: u64,
    pub mem_space_id: u32,
    pub addr_space_id: u32,
    pub addr_space_type: u32,
}

/// `mcd_memspace_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct Memspace {
    pub mem_space_id: u32,
    pub mem_space_name: [c_char; len::MEM_SPACE_NAME],
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

/// `mcd_memblock_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct Memblock {
    pub mem_block_id: u32,
    pub mem_block_name: [c_char; len::MEM_BLOCK_NAME],
    pub has_children: bool,
    pub parent_id: u32,
    pub start_addr: u64,
    pub end_addr: u64,
    pub endian: u32,
    pub supported_au_sizes: [u32; len::MEM_AUSIZE_NUM],
    pub supported_access_options: u32,
    pub core_mode_mask_read: u32,
    pub core_mode_mask_write: u32,
}

/// `mcd_register_group_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct RegisterGroup {
    pub reg_group_id: u32,
    pub reg_group_name: [c_char; len::REG_NAME],
    pub n_registers: u32,
}

/// `mcd_register_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct RegisterInfo {
    pub addr: Addr,
    pub reg_group_id: u32,
    pub regname: [c_char; len::REG_NAME],
    pub regsize: u32,
    pub core_mode_mask_read: u32,
    pub core_mode_mask_write: u32,
    pub has_side_effects_read: bool,
    pub has_side_effects_write: bool,
    pub reg_type: u32,
    pub hw_thread_id: u32,
}

/// `mcd_trig_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigInfo {
    pub kind: u32,
    pub option: u32,
    pub action: u32,
    pub trig_number: u32,
    pub state_number: u32,
    pub counter_number: u32,
    pub sw_breakpoints: bool,
}

/// `mcd_ctrig_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct CtrigInfo {
    pub ctrig_id: u32,
    pub info_str: [c_char; len::INFO_STR],
}

/// The members every trigger structure starts with (`struct_size` tells which one it is).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigHead {
    pub struct_size: u32,
    pub kind: u32,
    pub option: u32,
    pub action: u32,
    pub action_param: u32,
    pub modified: bool,
    pub state_mask: u32,
}

/// `mcd_trig_simple_core_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigSimpleCore {
    pub head: TrigHead,
    pub addr_start: Addr,
    pub addr_range: u64,
}

/// `mcd_trig_complex_core_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigComplexCore {
    pub head: TrigHead,
    pub addr_start: Addr,
    pub addr_range: u64,
    pub data_start: u64,
    pub data_range: u64,
    pub data_mask: u64,
    pub data_size: u32,
    pub hw_thread_id: u32,
    pub sw_thread_id: u64,
    pub core_mode_mask: u32,
}

/// `mcd_trig_trig_bus_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigTrigBus {
    pub head: TrigHead,
    pub trig_bus_value: u32,
    pub trig_bus_mask: u32,
}

/// `mcd_trig_counter_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigCounter {
    pub head: TrigHead,
    pub count_value: u64,
    pub reload_value: u64,
}

/// `mcd_trig_custom_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigCustom {
    pub head: TrigHead,
    pub ctrig_id: u32,
    pub ctrig_args: [u32; 4],
}

/// `mcd_trig_state_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigState {
    pub active: bool,
    pub captured: bool,
    pub captured_valid: bool,
    pub count_value: u64,
    pub count_valid: bool,
}

/// `mcd_trig_set_state_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TrigSetState {
    pub active: bool,
    pub state: u32,
    pub state_valid: bool,
    pub trig_bus: u32,
    pub trig_bus_valid: bool,
    pub trace: bool,
    pub trace_valid: bool,
    pub analysis: bool,
    pub analysis_valid: bool,
}

/// `mcd_tx_st`.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs)]
pub struct Tx {
    pub addr: Addr,
    pub access_type: u32,
    pub options: u32,
    pub access_width: u8,
    pub core_mode: u8,
    pub data: *mut u8,
    pub num_bytes: u32,
    pub num_bytes_ok: u32,
}

/// `mcd_txlist_st`.
#[repr(C)]
#[derive(Debug)]
#[allow(missing_docs)]
pub struct TxList {
    pub tx: *mut Tx,
    pub num_tx: u32,
    pub num_tx_ok: u32,
}

/// `mcd_core_state_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct CoreState {
    pub state: u32,
    pub event: u32,
    pub hw_thread_id: u32,
    pub trig_id: u32,
    pub stop_str: [c_char; len::INFO_STR],
    pub info_str: [c_char; len::INFO_STR],
}

/// `mcd_rst_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct RstInfo {
    pub class_vector: u32,
    pub info_str: [c_char; len::INFO_STR],
}

/// `mcd_chl_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct Chl {
    pub chl_id: u32,
    pub kind: u32,
    pub attributes: u32,
    pub max_msg_len: u32,
    pub msg_buffer_addr: Addr,
    pub prio: u8,
}

/// `mcd_trace_info_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TraceInfo {
    pub trace_id: u32,
    pub trace_name: [c_char; len::INFO_STR],
    pub trace_type: u32,
    pub trace_format: u32,
    pub trace_modes: u32,
    pub trace_no_timestamps: bool,
    pub trace_shared: bool,
    pub trace_size_is_bytes: bool,
}

/// `mcd_trace_state_st`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub struct TraceState {
    pub state: u32,
    pub mode: u32,
    pub autoarm: bool,
    pub wraparound: bool,
    pub frames: u64,
    pub count: u64,
    pub size: u64,
    pub trigger_delay: u64,
    pub timestamp_accuracy: u8,
    pub timestamp_is_time: bool,
    pub options: u32,
    pub modified: bool,
    pub info_str: [c_char; len::INFO_STR],
}

/// The layout of every structure: (C name, size, alignment), for the check against the C
/// compiler's view of `include/mcd_api.h`.
pub fn layouts() -> Vec<(&'static str, usize, usize)> {
    use std::mem::{align_of, size_of};
    macro_rules! l {
        ($($c:literal => $t:ty),* $(,)?) => {
            vec![$(($c, size_of::<$t>(), align_of::<$t>())),*]
        };
    }
    l![
        "mcd_api_version_st" => ApiVersion,
        "mcd_impl_version_info_st" => ImplVersionInfo,
        "mcd_error_info_st" => ErrorInfo,
        "mcd_server_info_st" => ServerInfo,
        "mcd_server_st" => Server,
        "mcd_core_con_info_st" => CoreConInfo,
        "mcd_core_st" => Core,
        "mcd_core_mode_info_st" => CoreModeInfo,
        "mcd_addr_st" => Addr,
        "mcd_memspace_st" => Memspace,
        "mcd_memblock_st" => Memblock,
        "mcd_register_group_st" => RegisterGroup,
        "mcd_register_info_st" => RegisterInfo,
        "mcd_trig_info_st" => TrigInfo,
        "mcd_ctrig_info_st" => CtrigInfo,
        "mcd_trig_simple_core_st" => TrigSimpleCore,
        "mcd_trig_complex_core_st" => TrigComplexCore,
        "mcd_trig_trig_bus_st" => TrigTrigBus,
        "mcd_trig_counter_st" => TrigCounter,
        "mcd_trig_custom_st" => TrigCustom,
        "mcd_trig_state_st" => TrigState,
        "mcd_trig_set_state_st" => TrigSetState,
        "mcd_tx_st" => Tx,
        "mcd_txlist_st" => TxList,
        "mcd_core_state_st" => CoreState,
        "mcd_rst_info_st" => RstInfo,
        "mcd_chl_st" => Chl,
        "mcd_trace_info_st" => TraceInfo,
        "mcd_trace_state_st" => TraceState,
    ]
}
