//! # emu-mcd-client: the MCD API 1.1 as a C-ABI shared library
//!
//! `libemu_mcd_client.so` exports the 54 `mcd_*_f` functions of the Multi-Core Debug API
//! with the standard structure layouts (`include/mcd_api.h` is the project's header for
//! them), so a tool built against the MCD API 1.1 (TRACE32 with `PBI=MCD <library>`, or
//! any C program) can drive `emu --mcd-port`. Each function becomes one command of emu's
//! MCD protocol (`docs/mcd.md`) on a TCP connection opened by `mcd_open_server_f`.
//!
//! Layers:
//! - [`abi`]: the API's C structures (`#[repr(C)]`), checked against the C compiler;
//! - `ffi`: the only place caller pointers become references (null-checked);
//! - `conn`: one server connection: a request out, one reply line in, errors fetched;
//! - `state`: the servers and cores handed out (pointers are looked up, never trusted)
//!   and the last error per core;
//! - `convert`: between the protocol's JSON and the C structures;
//! - `api`: the exported functions, by theme.
//!
//! Must not depend on the emulator: only on `emu-mcd-wire` and serde, so the shared
//! object stays small. This crate is the project's one exception to "unsafe only in the
//! JIT and memory layers": a C ABI takes raw pointers. Every `unsafe` block says why it
//! holds; the pointer contract is the API's (see `api`).
#![warn(missing_docs)]

pub mod abi;
mod api;
mod conn;
mod convert;
mod fail;
mod ffi;
mod state;
