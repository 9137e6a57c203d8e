//! The library's state: the servers and cores it has opened (identified by the address
//! of the structure it handed out, so a stale or foreign pointer is refused, never
//! dereferenced) and the last error per core.

use std::collections::HashMap;
use std::ffi::{CString, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use emu_mcd_wire::{err, ret};
use serde_json::{Map, Value};

use crate::abi;
use crate::conn::{Connection, Target};
use crate::fail::{Fail, R};

/// An open server connection.
#[derive(Debug)]
pub(crate) struct ServerConn {
    pub target: Target,
    /// The `server-uid` the server gave.
    pub uid: u32,
    conn: Mutex<Connection>,
}

impl ServerConn {
    pub(crate) fn new(target: Target, uid: u32, conn: Connection) -> ServerConn {
        ServerConn {
            target,
            uid,
            conn: Mutex::new(conn),
        }
    }

    /// [`Connection::call_full`] on this connection.
    pub(crate) fn call_full(
        &self,
        cmd: &str,
        args: Value,
        error_uid: u32,
    ) -> R<(Map<String, Value>, Option<Fail>)> {
        lock(&self.conn).call_full(cmd, args, error_uid)
    }

    /// One command on this connection; errors are fetched under `error_uid`.
    pub(crate) fn call(&self, cmd: &str, args: Value, error_uid: u32) -> R<Map<String, Value>> {
        lock(&self.conn).call(cmd, args, error_uid)
    }
}

/// What `mcd_open_server_f` hands out: the API structure first, then what it points to.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct ServerBox {
    pub st: abi::Server,
    host: CString,
    config: CString,
}

impl ServerBox {
    pub(crate) fn new(host: &str, config: &str) -> Box<ServerBox> {
        let mut b = Box::new(ServerBox {
            st: abi::Server {
                instance: std::ptr::null_mut(),
                host: std::ptr::null(),
                config_string: std::ptr::null(),
            },
            host: cstring(host),
            config: cstring(config),
        });
        b.st.instance = std::ptr::from_mut(&mut *b).cast::<c_void>();
        b.st.host = b.host.as_ptr();
        b.st.config_string = b.config.as_ptr();
        b
    }

    /// Replaces the configuration string (the pointer in `st` follows it).
    pub(crate) fn set_config(&mut self, config: &str) {
        self.config = cstring(config);
        self.st.config_string = self.config.as_ptr();
    }

    pub(crate) fn config(&self) -> String {
        self.config.to_string_lossy().into_owned()
    }
}

/// What `mcd_open_core_f` hands out.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct CoreBox {
    pub st: abi::Core,
    info: abi::CoreConInfo,
}

impl CoreBox {
    pub(crate) fn new(info: abi::CoreConInfo) -> Box<CoreBox> {
        let mut b = Box::new(CoreBox {
            st: abi::Core {
                instance: std::ptr::null_mut(),
                core_con_info: std::ptr::null(),
            },
            info,
        });
        b.st.instance = std::ptr::from_mut(&mut *b).cast::<c_void>();
        b.st.core_con_info = &raw const b.info;
        b
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

#[derive(Debug)]
struct ServerEntry {
    conn: Arc<ServerConn>,
    boxed: *mut ServerBox,
}

#[derive(Debug)]
struct CoreEntry {
    server: usize,
    uid: u32,
    boxed: *mut CoreBox,
}

/// Every server and core the library opened, by the address it handed out.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    servers: HashMap<usize, ServerEntry>,
    cores: HashMap<usize, CoreEntry>,
    /// The last call's error per core address (0: calls without a core).
    errors: HashMap<usize, Fail>,
}

// SAFETY: the raw pointers are owned boxes only this registry frees, always under its
// lock; no thread-local state hides behind them.
unsafe impl Send for Registry {}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

/// A mutex's guard, whether or not a thread panicked while holding it (the data stay
/// consistent: every update is a single insert or remove).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn registry() -> MutexGuard<'static, Registry> {
    lock(&REGISTRY)
}

/// A call's view of an open core.
#[derive(Debug)]
pub(crate) struct CoreCtx {
    pub uid: u32,
    pub server: Arc<ServerConn>,
}

impl CoreCtx {
    /// [`CoreCtx::call`], keeping a failed command's reply members.
    pub(crate) fn call_full(
        &self,
        cmd: &str,
        mut args: Value,
    ) -> R<(Map<String, Value>, Option<Fail>)> {
        if let Value::Object(m) = &mut args {
            m.insert("core-uid".into(), Value::from(self.uid));
        }
        self.server.call_full(cmd, args, self.uid)
    }

    /// One command with this core's `core-uid` added to `args`.
    pub(crate) fn call(&self, cmd: &str, mut args: Value) -> R<Map<String, Value>> {
        if let Value::Object(m) = &mut args {
            m.insert("core-uid".into(), Value::from(self.uid));
        }
        self.server.call(cmd, args, self.uid)
    }
}

impl Registry {
    pub(crate) fn add_server(
        &mut self,
        conn: Arc<ServerConn>,
        boxed: Box<ServerBox>,
    ) -> *mut abi::Server {
        let p = Box::into_raw(boxed);
        self.servers
            .insert(p as usize, ServerEntry { conn, boxed: p });
        p.cast::<abi::Server>()
    }

    /// Runs `f` on the box of an open server.
    pub(crate) fn with_server_box<T>(
        &mut self,
        p: *const abi::Server,
        f: impl FnOnce(&mut ServerBox) -> T,
    ) -> R<T> {
        let e = self.servers.get(&(p as usize)).ok_or_else(|| {
            Fail::new(
                err::PARAM,
                "not a server this library opened (or closed already)",
            )
        })?;
        // SAFETY: `boxed` came from `Box::into_raw` and is freed only by `remove_server`,
        // under this registry's lock, which `&mut self` holds.
        Ok(f(unsafe { &mut *e.boxed }))
    }

    /// The first open server, or the one at `host:port` if several are open.
    pub(crate) fn server_for(&self, host: &str, port: u32) -> R<Arc<ServerConn>> {
        let mut all: Vec<(&usize, &ServerEntry)> = self.servers.iter().collect();
        all.sort_by_key(|(k, _)| **k);
        all.iter()
            .find(|(_, e)| u32::from(e.conn.target.port) == port && e.conn.target.host == host)
            .or_else(|| all.first())
            .map(|(_, e)| Arc::clone(&e.conn))
            .ok_or_else(|| Fail::new(err::CONNECTION, "no server is open (mcd_open_server_f)"))
    }

    /// Forgets a server and frees its structure and those of its cores.
    pub(crate) fn remove_server(&mut self, p: *const abi::Server) -> Option<Arc<ServerConn>> {
        let e = self.servers.remove(&(p as usize))?;
        let key = p as usize;
        let cores: Vec<usize> = self
            .cores
            .iter()
            .filter(|(_, c)| c.server == key)
            .map(|(k, _)| *k)
            .collect();
        for k in cores {
            if let Some(c) = self.cores.remove(&k) {
                self.errors.remove(&k);
                // SAFETY: made by `Box::into_raw` in `add_core` and removed from the map
                // just now, so freed exactly once.
                drop(unsafe { Box::from_raw(c.boxed) });
            }
        }
        // SAFETY: as above, for the server's box.
        drop(unsafe { Box::from_raw(e.boxed) });
        Some(e.conn)
    }

    pub(crate) fn add_core(
        &mut self,
        server: &Arc<ServerConn>,
        uid: u32,
        boxed: Box<CoreBox>,
    ) -> *mut abi::Core {
        let skey = self
            .servers
            .iter()
            .find(|(_, e)| Arc::ptr_eq(&e.conn, server))
            .map_or(0, |(k, _)| *k);
        let p = Box::into_raw(boxed);
        self.cores.insert(
            p as usize,
            CoreEntry {
                server: skey,
                uid,
                boxed: p,
            },
        );
        p.cast::<abi::Core>()
    }

    pub(crate) fn core(&self, p: *const abi::Core) -> R<CoreCtx> {
        let c = self.cores.get(&(p as usize)).ok_or_else(|| {
            Fail::new(
                err::PARAM,
                "not a core this library opened (or closed already)",
            )
        })?;
        let s = self
            .servers
            .get(&c.server)
            .ok_or_else(|| Fail::new(err::CONNECTION, "the core's server is closed"))?;
        Ok(CoreCtx {
            uid: c.uid,
            server: Arc::clone(&s.conn),
        })
    }

    /// Forgets a core and frees its structure. The error of its last call (a close that
    /// failed) moves to the calls without a core: the address may be handed out again.
    pub(crate) fn remove_core(&mut self, p: *const abi::Core) {
        if let Some(e) = self.errors.remove(&(p as usize)) {
            self.errors.insert(0, e);
        }
        if let Some(c) = self.cores.remove(&(p as usize)) {
            // SAFETY: made by `Box::into_raw` in `add_core`, removed from the map just
            // now, so freed exactly once.
            drop(unsafe { Box::from_raw(c.boxed) });
        }
    }

    /// Forgets everything (`mcd_exit_f`), returning the connections to say goodbye on.
    pub(crate) fn clear(&mut self) -> Vec<Arc<ServerConn>> {
        let keys: Vec<usize> = self.servers.keys().copied().collect();
        let mut out = Vec::new();
        for k in keys {
            if let Some(c) = self.remove_server(k as *const abi::Server) {
                out.push(c);
            }
        }
        self.errors.clear();
        out
    }

    pub(crate) fn last_error(&self, key: usize) -> Option<&Fail> {
        self.errors.get(&key)
    }
}

/// Runs one API call that has no core: its error is kept under key 0.
pub(crate) fn entry(f: impl FnOnce() -> R<()>) -> abi::McdReturn {
    finish(0, catch(f))
}

/// Runs one API call on `core`; its error is kept for `mcd_qry_error_info_f(core)`.
pub(crate) fn core_entry(
    core: *const abi::Core,
    f: impl FnOnce(&CoreCtx) -> R<()>,
) -> abi::McdReturn {
    let ctx = registry().core(core);
    match ctx {
        Ok(ctx) => finish(core as usize, catch(|| f(&ctx))),
        Err(e) => finish(0, Err(e)),
    }
}

fn catch(f: impl FnOnce() -> R<()>) -> R<()> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Fail::new(
            err::GENERAL,
            "internal error in the MCD client library",
        ))
    })
}

fn finish(key: usize, r: R<()>) -> abi::McdReturn {
    let mut reg = registry();
    match r {
        Ok(()) => {
            reg.errors.remove(&key);
            ret::NONE
        }
        Err(e) => {
            reg.errors.insert(key, e);
            ret::HANDLE_ERROR
        }
    }
}
