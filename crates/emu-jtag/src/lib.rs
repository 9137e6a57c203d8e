//! # emu-jtag: the JTAG Debug Transport Module and its remote_bitbang server
//!
//! Owns `emu --rbb-port`: what a JTAG debug probe sees of emu. OpenOCD's `remote_bitbang`
//! adapter drives the JTAG pins over TCP one letter at a time; emu clocks an IEEE 1149.1
//! TAP controller with them, and the TAP's RISC-V DTM registers (`dtmcs`, `dmi`) reach the
//! Debug Module through the same DMI interface as every other front end (Debug
//! Specification 1.0, chapters 6 and 7).
//!
//! Layers, each usable without the one after it:
//! - [`tap`]: the TAP state machine and the instruction and data shift registers;
//! - [`dtm`]: the RISC-V DTM behind the TAP (IDCODE, BYPASS, `dtmcs`, `dmi` with its
//!   sticky busy and failed status) on a [`Dmi`] target;
//! - [`bitbang`]: the remote_bitbang letters, decoded from a byte stream into pin changes
//!   and TDO replies (no sockets, so it is testable byte for byte);
//! - [`server`]: the TCP listener, one probe at a time.
//!
//! Must not depend on the machine, the JIT, the run-control API or any other front end: it
//! is handed something that answers DMI reads and writes ([`Dmi`], implemented here for
//! the Debug Module).

pub mod bitbang;
pub mod dtm;
pub mod server;
pub mod tap;

pub use bitbang::BitBang;
pub use dtm::{Dmi, Dtm, DtmConfig};
pub use server::{Ended, RbbServer, Reporter, Session};
pub use tap::{Tap, TapState};
