//! The system, its devices and cores; core connections and their errors.

use std::ffi::c_char;

use emu_mcd_wire::{err, ret};
use serde_json::{Value, json};

use super::{count_in, fill, list_args, put};
use crate::abi::{self, McdReturn};
use crate::convert;
use crate::fail::Fail;
use crate::ffi;
use crate::state::{CoreBox, core_entry, entry, registry};

/// `mcd_qry_systems_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_systems_f(
    start_index: u32,
    num_systems: *mut u32,
    system_con_info: *mut abi::CoreConInfo,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_systems, "num_systems")? };
        let s = registry().server_for("", 0)?;
        let m = s.call(
            "mcd-qry-systems",
            Value::Object(list_args("num-systems", start_index, want)),
            0,
        )?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-systems",
                "system-con-info",
                num_systems,
                system_con_info,
                convert::con_info,
            )
        }
    })
}

/// `mcd_qry_devices_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_devices_f(
    system_con_info: *const abi::CoreConInfo,
    start_index: u32,
    num_devices: *mut u32,
    device_con_info: *mut abi::CoreConInfo,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let sys = unsafe { ffi::opt_ref(system_con_info) }
            .ok_or_else(|| Fail::new(err::PARAM, "system_con_info is a null pointer"))?;
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_devices, "num_devices")? };
        let s = registry().server_for(&ffi::from_array(&sys.host), sys.server_port)?;
        let mut args = list_args("num-devices", start_index, want);
        args.insert("system-con-info".into(), convert::con_info_to_json(sys));
        let m = s.call("mcd-qry-devices", Value::Object(args), 0)?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-devices",
                "device-con-info",
                num_devices,
                device_con_info,
                convert::con_info,
            )
        }
    })
}

/// `mcd_qry_cores_f`: the cores of a system or a device.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_cores_f(
    connection_info: *const abi::CoreConInfo,
    start_index: u32,
    num_cores: *mut u32,
    core_con_info: *mut abi::CoreConInfo,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let ci = unsafe { ffi::opt_ref(connection_info) }
            .ok_or_else(|| Fail::new(err::PARAM, "connection_info is a null pointer"))?;
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_cores, "num_cores")? };
        let s = registry().server_for(&ffi::from_array(&ci.host), ci.server_port)?;
        let mut args = list_args("num-cores", start_index, want);
        args.insert("connection-info".into(), convert::con_info_to_json(ci));
        let m = s.call("mcd-qry-cores", Value::Object(args), 0)?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-cores",
                "core-con-info",
                num_cores,
                core_con_info,
                convert::con_info,
            )
        }
    })
}

/// `mcd_qry_core_modes_f`: User, Supervisor and Machine.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_core_modes_f(
    core: *const abi::Core,
    start_index: u32,
    num_modes: *mut u32,
    core_mode_info: *mut abi::CoreModeInfo,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_modes, "num_modes")? };
        let m = c.call(
            "mcd-qry-core-modes",
            Value::Object(list_args("num-modes", start_index, want)),
        )?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-modes",
                "core-mode-info",
                num_modes,
                core_mode_info,
                convert::core_mode,
            )
        }
    })
}

/// `mcd_open_core_f`: the library allocates the `mcd_core_st`; `mcd_close_core_f` (or
/// closing its server) frees it.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_open_core_f(
    core_con_info: *const abi::CoreConInfo,
    core: *mut *mut abi::Core,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let ci = unsafe { ffi::opt_ref(core_con_info) }
            .ok_or_else(|| Fail::new(err::PARAM, "core_con_info is a null pointer"))?;
        if core.is_null() {
            return Err(Fail::new(err::PARAM, "core is a null pointer"));
        }
        let s = registry().server_for(&ffi::from_array(&ci.host), ci.server_port)?;
        let m = s.call(
            "mcd-open-core",
            json!({"core-con-info": convert::con_info_to_json(ci)}),
            0,
        )?;
        let v = Value::Object(m);
        let uid = convert::u32_of(&v, "core-uid");
        if uid == 0 {
            return Err(Fail::new(
                err::CONNECTION,
                "mcd-open-core: the reply has no core-uid",
            ));
        }
        let info = convert::con_info(v.get("core-con-info").unwrap_or(&Value::Null));
        let p = registry().add_core(&s, uid, CoreBox::new(info));
        // SAFETY: checked non-null above; valid by the module's contract.
        unsafe { core.write(p) };
        Ok(())
    })
}

/// `mcd_close_core_f`: the core's triggers go with it. The structure is freed even if the
/// server could not be told; that error is then reported for `mcd_qry_error_info_f(NULL)`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_close_core_f(core: *const abi::Core) -> McdReturn {
    let r = core_entry(core, |c| c.call("mcd-close-core", json!({})).map(drop));
    registry().remove_core(core);
    r
}

/// `mcd_qry_error_info_f`: the error of the last call on `core` (null: of the last call
/// without a core).
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_error_info_f(
    core: *const abi::Core,
    error_info: *mut abi::ErrorInfo,
) {
    let info = match registry().last_error(core as usize) {
        Some(e) => convert::error_info(ret::HANDLE_ERROR, e.code, &e.text),
        None => convert::error_info(ret::NONE, err::NONE, ""),
    };
    // SAFETY: the module's contract; a null pointer is ignored (there is no way to
    // report it).
    let _ = unsafe { put(error_info, info, "error_info") };
}

/// `mcd_qry_device_description_f`: emu has no IP-XACT description.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_device_description_f(
    core: *const abi::Core,
    _url: *mut c_char,
    _url_length: *mut u32,
) -> McdReturn {
    core_entry(core, |_| {
        Err(Fail::new(
            err::GENERAL,
            "emu has no IP-XACT description of its devices",
        ))
    })
}

/// `mcd_qry_max_payload_size_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_max_payload_size_f(
    core: *const abi::Core,
    max_payload: *mut u32,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-max-payload-size", json!({}))?;
        let n = convert::u32_of(&Value::Object(m), "max-payload");
        // SAFETY: the module's contract.
        unsafe { put(max_payload, n, "max_payload") }
    })
}

/// `mcd_qry_input_handle_f`: -1, since emu's protocol has no asynchronous messages to
/// wait for (stops are learnt by polling `mcd_qry_state_f`).
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_input_handle_f(
    core: *const abi::Core,
    input_handle: *mut u32,
) -> McdReturn {
    // SAFETY: the module's contract.
    core_entry(core, |_| unsafe {
        put(input_handle, u32::MAX, "input_handle")
    })
}
