//! The GDB stub's input path: arbitrary bytes, in a few reads, as one client's session on
//! a running machine. Nothing may panic, and the session must end with the input so that
//! the next client is served (the machine runs on). The guest's ELF is a file the stub
//! offers (`qXfer:exec-file`, Host I/O), at [`ELF`].
#![no_main]

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

use emu_gdb::{GdbServer, Host, NoHost, WithExecFile};
use emu_sock::Quiet;
use libfuzzer_sys::fuzz_target;

struct Script(VecDeque<Vec<u8>>);

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(c) = self.0.pop_front() else {
            return Ok(0);
        };
        let n = c.len().min(buf.len());
        buf[..n].copy_from_slice(&c[..n]);
        if n < c.len() {
            self.0.push_front(c[n..].to_vec());
        }
        Ok(n)
    }
}

impl Quiet for Script {
    fn set_quiet(&mut self, _quiet: bool) {}
}

/// Where the guest's ELF is written for Host I/O (the seeds name it).
const ELF: &str = "/tmp/emu-fuzz-gdb.elf";

/// The host the server gets: one offering [`ELF`] once it is written, else [`NoHost`].
fn host() -> Arc<dyn Host> {
    static WRITTEN: OnceLock<bool> = OnceLock::new();
    if *WRITTEN.get_or_init(|| std::fs::write(ELF, emu_fuzz::elf()).is_ok()) {
        Arc::new(WithExecFile {
            host: NoHost,
            path: ELF.into(),
        })
    } else {
        Arc::new(NoHost)
    }
}

fuzz_target!(|data: &[u8]| {
    let g = emu_fuzz::rig();
    let Some(rig) = g.as_ref() else { return };
    // One server per machine, as in emu: each input is a client connecting anew.
    static SERVER: Mutex<Option<(u64, Arc<GdbServer>)>> = Mutex::new(None);
    let server = {
        let mut s = SERVER.lock().unwrap_or_else(|e| e.into_inner());
        if s.as_ref()
            .is_none_or(|(made_for, _)| *made_for != rig.generation)
        {
            *s = Some((rig.generation, GdbServer::new(rig.rc.clone(), host())));
        }
        s.as_ref().map(|(_, server)| server.clone())
    };
    let Some(server) = server else { return };
    let script = Script(emu_fuzz::chunks(data).into());
    server.serve(script, Box::new(emu_fuzz::Sink));
    assert!(!server.connected(), "the session ended with its input");
});
