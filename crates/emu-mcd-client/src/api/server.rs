//! Initialisation and server connections.

use std::ffi::c_char;
use std::sync::Arc;

use emu_mcd_wire::err;
use serde_json::{Value, json};

use super::{fill, list_args, put};
use crate::abi::{self, McdReturn};
use crate::conn::{Connection, Target};
use crate::convert;
use crate::fail::Fail;
use crate::ffi;
use crate::state::{ServerBox, ServerConn, entry, registry};

/// `mcd_initialize_f`: answered by the library (major version 1, minor 0 or 1).
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_initialize_f(
    version_req: *const abi::ApiVersion,
    impl_info: *mut abi::ImplVersionInfo,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let v = unsafe { ffi::opt_ref(version_req) }
            .ok_or_else(|| Fail::new(err::PARAM, "version_req is a null pointer"))?;
        // SAFETY: the module's contract.
        unsafe { put(impl_info, convert::impl_info(), "impl_info")? };
        if v.v_api_major != 1 || v.v_api_minor > 1 {
            return Err(Fail::new(
                err::GENERAL,
                format!(
                    "incompatible versions: API {}.{} requested, this library implements 1.1",
                    v.v_api_major, v.v_api_minor
                ),
            ));
        }
        Ok(())
    })
}

/// `mcd_exit_f`: closes every server and core connection.
#[unsafe(no_mangle)]
pub extern "C" fn mcd_exit_f() {
    let conns = registry().clear();
    for c in conns {
        let _ = c.call("mcd-exit", json!({}), 0);
    }
}

/// `mcd_qry_servers_f`: asks the emu at `host` (port 1235, or the open server there).
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_servers_f(
    host: *const c_char,
    running: bool,
    start_index: u32,
    num_servers: *mut u32,
    server_info: *mut abi::ServerInfo,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let host = unsafe { ffi::cstr(host) }.filter(|h| !h.is_empty());
        // SAFETY: the module's contract.
        let want = unsafe { super::count_in(num_servers, "num_servers")? };
        let target = Target {
            host: host.unwrap_or_else(|| Target::default().host),
            ..Target::default()
        };
        let open = registry()
            .server_for(&target.host, u32::from(target.port))
            .ok();
        let mut args = list_args("num-servers", start_index, want);
        args.insert("host".into(), json!(target.host));
        args.insert("running".into(), json!(running));
        let m = match open.filter(|s| s.target.host == target.host) {
            Some(s) => s.call("mcd-qry-servers", Value::Object(args), 0)?,
            None => Connection::open(&target)?.call("mcd-qry-servers", Value::Object(args), 0)?,
        };
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-servers",
                "server-info",
                num_servers,
                server_info,
                convert::server_info,
            )
        }
    })
}

/// `mcd_open_server_f`: connects (config keys `McdHostName`, `McdServerPort`,
/// `McdTimeoutMs`), checks the server's API version and opens it.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_open_server_f(
    system_key: *const c_char,
    config_string: *const c_char,
    server: *mut *mut abi::Server,
) -> McdReturn {
    entry(|| {
        if server.is_null() {
            return Err(Fail::new(err::PARAM, "server is a null pointer"));
        }
        // SAFETY: the module's contract.
        let key = unsafe { ffi::cstr(system_key) }.unwrap_or_default();
        // SAFETY: the module's contract.
        let config = unsafe { ffi::cstr(config_string) }.unwrap_or_default();
        let target = Target::from_config(&config)?;
        let mut conn = Connection::open(&target)?;
        conn.call(
            "mcd-initialize",
            json!({"version-req": {"v-api-major": 1, "v-api-minor": 1, "author": "emu"}}),
            0,
        )?;
        let m = conn.call(
            "mcd-open-server",
            json!({"system-key": key, "config-string": config}),
            0,
        )?;
        let uid = convert::u32_of(&Value::Object(m.clone()), "server-uid");
        let host = m
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or(&target.host)
            .to_string();
        let boxed = ServerBox::new(&host, &config);
        let sc = Arc::new(ServerConn::new(target, uid, conn));
        let p = registry().add_server(sc, boxed);
        // SAFETY: checked non-null above; valid by the module's contract.
        unsafe { server.write(p) };
        Ok(())
    })
}

/// `mcd_close_server_f`: closes the server and frees its structure and its cores'.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_close_server_f(server: *const abi::Server) -> McdReturn {
    entry(|| {
        let conn = registry().remove_server(server).ok_or_else(|| {
            Fail::new(
                err::PARAM,
                "not a server this library opened (or closed already)",
            )
        })?;
        conn.call("mcd-close-server", json!({"server-uid": conn.uid}), 0)
            .map(drop)
    })
}

/// `mcd_set_server_config_f`: emu's server has nothing to change once open; the string is
/// kept and reported back by `mcd_qry_server_config_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_set_server_config_f(
    server: *const abi::Server,
    config_string: *const c_char,
) -> McdReturn {
    entry(|| {
        // SAFETY: the module's contract.
        let config = unsafe { ffi::cstr(config_string) }
            .ok_or_else(|| Fail::new(err::PARAM, "config_string is a null pointer"))?;
        registry().with_server_box(server, |b| b.set_config(&config))
    })
}

/// `mcd_qry_server_config_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_server_config_f(
    server: *const abi::Server,
    max_len: *mut u32,
    config_string: *mut c_char,
) -> McdReturn {
    entry(|| {
        let config = registry().with_server_box(server, |b| b.config())?;
        let need = u32::try_from(config.len() + 1).unwrap_or(u32::MAX);
        // SAFETY: the module's contract.
        let room = unsafe { super::count_in(max_len, "max_len")? };
        // SAFETY: `count_in` checked it non-null; valid by the module's contract.
        unsafe { max_len.write(need) };
        if config_string.is_null() {
            return Ok(());
        }
        if room < need {
            return Err(Fail::new(
                err::RESULT_TOO_LONG,
                format!("the configuration string needs {need} bytes, {room} given"),
            ));
        }
        // SAFETY: `room >= need` bytes are writable by the module's contract.
        let dst = unsafe { ffi::slice_mut(config_string, need as usize) };
        if let Some(d) = dst {
            ffi::to_array(d, &config);
        }
        Ok(())
    })
}
