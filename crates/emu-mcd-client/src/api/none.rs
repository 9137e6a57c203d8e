//! Communication channels and traces, which emu does not have: clear refusals (and an
//! empty trace list) rather than missing symbols, so tools that probe for them go on.

use emu_mcd_wire::err;

use super::count_in;
use crate::abi::{self, McdReturn};
use crate::fail::Fail;
use crate::state::{core_entry, entry};

const NO_CHANNELS: &str = "emu has no target communication channels";

/// A channel call: `core` may be a system- or device-level structure (null instance), so
/// it is not looked up.
fn no_channel() -> McdReturn {
    entry(|| Err(Fail::new(err::CHL_TARGET_NOT_SUPPORTED, NO_CHANNELS)))
}

/// `mcd_chl_open_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_chl_open_f(
    _core: *const abi::Core,
    _channel: *mut abi::Chl,
) -> McdReturn {
    no_channel()
}

/// `mcd_send_msg_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_send_msg_f(
    _core: *const abi::Core,
    _channel: *const abi::Chl,
    _msg_len: u32,
    _msg: *const u8,
) -> McdReturn {
    no_channel()
}

/// `mcd_receive_msg_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_receive_msg_f(
    _core: *const abi::Core,
    _channel: *const abi::Chl,
    _timeout: u32,
    _msg_len: *mut u32,
    _msg: *mut u8,
) -> McdReturn {
    no_channel()
}

/// `mcd_chl_reset_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_chl_reset_f(
    _core: *const abi::Core,
    _channel: *const abi::Chl,
) -> McdReturn {
    no_channel()
}

/// `mcd_chl_close_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_chl_close_f(
    _core: *const abi::Core,
    _channel: *const abi::Chl,
) -> McdReturn {
    no_channel()
}

/// `mcd_qry_traces_f`: no traces, so the count is 0.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_traces_f(
    core: *const abi::Core,
    start_index: u32,
    num_traces: *mut u32,
    _trace_info: *mut abi::TraceInfo,
) -> McdReturn {
    core_entry(core, |_| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_traces, "num_traces")? };
        if want > 0 || start_index > 0 {
            return Err(Fail::new(
                err::PARAM,
                "emu has no traces (start_index beyond 0)",
            ));
        }
        // SAFETY: checked non-null by `count_in`.
        unsafe { num_traces.write(0) };
        Ok(())
    })
}

fn no_trace(core: *const abi::Core, trace_id: u32) -> McdReturn {
    core_entry(core, |_| {
        Err(Fail::new(
            err::PARAM,
            format!("no trace {trace_id}: emu has no traces"),
        ))
    })
}

/// `mcd_qry_trace_state_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_trace_state_f(
    core: *const abi::Core,
    trace_id: u32,
    _state: *mut abi::TraceState,
) -> McdReturn {
    no_trace(core, trace_id)
}

/// `mcd_set_trace_state_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_set_trace_state_f(
    core: *const abi::Core,
    trace_id: u32,
    _state: *mut abi::TraceState,
) -> McdReturn {
    no_trace(core, trace_id)
}

/// `mcd_read_trace_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_read_trace_f(
    core: *const abi::Core,
    trace_id: u32,
    _start_index: u64,
    _num_frames: *mut u32,
    _trace_data_size: u32,
    _trace_data: *mut std::ffi::c_void,
) -> McdReturn {
    no_trace(core, trace_id)
}
