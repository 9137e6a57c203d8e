//! Run control, state, time, commands and reset.

use std::ffi::c_char;

use emu_mcd_wire::err;
use serde_json::{Value, json};

use super::put;
use crate::abi::{self, McdReturn};
use crate::convert;
use crate::fail::Fail;
use crate::ffi;
use crate::state::core_entry;

/// `mcd_run_f`: returns with the core (all cores if `global`) running.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_run_f(core: *const abi::Core, global: bool) -> McdReturn {
    core_entry(core, |c| {
        c.call("mcd-run", json!({ "global": global })).map(drop)
    })
}

/// `mcd_stop_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_stop_f(core: *const abi::Core, global: bool) -> McdReturn {
    core_entry(core, |c| {
        c.call("mcd-stop", json!({ "global": global })).map(drop)
    })
}

/// `mcd_run_until_f`: runs until the core's time (`mcd_qry_current_time_f`, in
/// picoseconds) reaches `run_until_time`, or for that long when `absolute_time` is false.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_run_until_f(
    core: *const abi::Core,
    global: bool,
    absolute_time: bool,
    run_until_time: u64,
) -> McdReturn {
    core_entry(core, |c| {
        c.call(
            "mcd-run-until",
            json!({ "global": global, "absolute-time": absolute_time, "run-until-time": run_until_time }),
        )
        .map(drop)
    })
}

/// `mcd_qry_current_time_f`: picoseconds of execution.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_current_time_f(
    core: *const abi::Core,
    current_time: *mut u64,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-current-time", json!({}))?;
        let v = Value::Object(m);
        if v.get("time-ps").is_none() {
            return Err(Fail::new(err::GENERAL, "the server reports no time-ps"));
        }
        // SAFETY: the module's contract.
        unsafe { put(current_time, convert::u64_of(&v, "time-ps"), "current_time") }
    })
}

/// `mcd_step_f`: synchronous; returns when the step is done.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_step_f(
    core: *const abi::Core,
    global: bool,
    step_type: u32,
    n_steps: u32,
) -> McdReturn {
    core_entry(core, |c| {
        c.call(
            "mcd-step",
            json!({ "global": global, "step-type": step_type, "n-steps": n_steps }),
        )
        .map(drop)
    })
}

/// `mcd_set_global_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_set_global_f(core: *const abi::Core, enable: bool) -> McdReturn {
    core_entry(core, |c| {
        c.call("mcd-set-global", json!({ "enable": enable }))
            .map(drop)
    })
}

/// `mcd_qry_state_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_state_f(
    core: *const abi::Core,
    state: *mut abi::CoreState,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-state", json!({}))?;
        let st = convert::core_state(m.get("state").unwrap_or(&Value::Null));
        // SAFETY: the module's contract.
        unsafe { put(state, st, "state") }
    })
}

/// `mcd_execute_command_f`: one of the server's monitor commands (`help` lists them);
/// the result is cut to `result_string_size` bytes including its NUL.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_execute_command_f(
    core: *const abi::Core,
    command_string: *const c_char,
    result_string_size: u32,
    result_string: *mut c_char,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let cmd = unsafe { ffi::cstr(command_string) }
            .ok_or_else(|| Fail::new(err::PARAM, "command_string is a null pointer"))?;
        let m = c.call("mcd-execute-command", json!({ "command-string": cmd }))?;
        let text = m.get("result-string").and_then(Value::as_str).unwrap_or("");
        // SAFETY: `result_string` has room for `result_string_size` bytes by the contract.
        if let Some(dst) = unsafe { ffi::slice_mut(result_string, result_string_size as usize) } {
            ffi::to_array(dst, text);
        } else if result_string_size > 0 {
            return Err(Fail::new(err::PARAM, "result_string is a null pointer"));
        }
        Ok(())
    })
}

/// `mcd_qry_rst_classes_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_rst_classes_f(
    core: *const abi::Core,
    rst_class_vector: *mut u32,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-rst-classes", json!({}))?;
        let v = convert::u32_of(&Value::Object(m), "rst-class-vector");
        // SAFETY: the module's contract.
        unsafe { put(rst_class_vector, v, "rst_class_vector") }
    })
}

/// `mcd_qry_rst_class_info_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_rst_class_info_f(
    core: *const abi::Core,
    rst_class: u8,
    rst_info: *mut abi::RstInfo,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-rst-class-info", json!({ "rst-class": rst_class }))?;
        let info = convert::rst_info(m.get("rst-info").unwrap_or(&Value::Null));
        // SAFETY: the module's contract.
        unsafe { put(rst_info, info, "rst_info") }
    })
}

/// `mcd_rst_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_rst_f(
    core: *const abi::Core,
    rst_class_vector: u32,
    rst_and_halt: bool,
) -> McdReturn {
    core_entry(core, |c| {
        c.call(
            "mcd-rst",
            json!({ "rst-class-vector": rst_class_vector, "rst-and-halt": rst_and_halt }),
        )
        .map(drop)
    })
}
