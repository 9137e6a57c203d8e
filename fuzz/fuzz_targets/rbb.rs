//! The remote_bitbang server's input path: arbitrary bytes as one probe's session on the
//! JTAG DTM of a running machine (pin writes, reads, resets, quit, garbage). Nothing may
//! panic; each session ends with its input, and the next probe is served.
#![no_main]

use std::io::Cursor;

use emu_jtag::{Dtm, DtmConfig, Ended, RbbServer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let g = emu_fuzz::rig();
    let Some(rig) = g.as_ref() else { return };
    let server = RbbServer::new(Dtm::new(rig.machine.dm.clone(), DtmConfig::default()));
    let ended = server.serve(Cursor::new(data), emu_fuzz::Sink);
    assert_ne!(
        ended,
        Ended::Refused,
        "one probe at a time, and this is the only one"
    );
});
