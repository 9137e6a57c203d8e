//! The MCD server's input path: arbitrary bytes through the stream splitter and, for every
//! object found, the command dispatcher of a session on a running machine. Every request
//! must get one line of JSON, and nothing may panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use emu_machine::{Console, Machine, MachineConfig, RunningMachine};
use emu_mcd::session::ServerInfo;
use emu_mcd::stream::{Item, Splitter};
use emu_mcd::Session;
use emu_runctl::RunControl;
use libfuzzer_sys::fuzz_target;

/// One machine for the whole run (the default interpreter engine, halted at reset): a
/// fresh session per input.
fn machine() -> &'static (RunningMachine, Arc<RunControl>) {
    static M: OnceLock<(RunningMachine, Arc<RunControl>)> = OnceLock::new();
    M.get_or_init(|| {
        let (console, _) = Console::capture();
        let cfg = MachineConfig {
            harts: 2,
            console,
            halted: true,
            ..MachineConfig::default()
        };
        // The guest: an endless loop at the start of RAM.
        let mut a = emu_asm::Asm::new(emu_isa::Xlen::X64, 0x8000_0000);
        let top = a.here();
        a.j(top);
        let code = a.finish().expect("assemble");
        let elf = emu_asm::elf::write_elf(emu_isa::Xlen::X64, 0x8000_0000, &code, 0x8000_0000, &[]);
        let m = Machine::new(cfg, &elf).expect("the machine").start();
        let rc = Arc::new(RunControl::new(m.dm.clone()).expect("run control"));
        (m, rc)
    })
}

fuzz_target!(|data: &[u8]| {
    let (_, rc) = machine();
    let mut s = Session::new(
        rc.clone(),
        ServerInfo {
            host: "127.0.0.1".into(),
            port: 1235,
            memory_map: Vec::new(),
        },
    );
    let mut split = Splitter::new();
    // Feed in two pieces, as a socket might deliver them.
    let cut = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    split.feed(&data[..cut]);
    split.feed(&data[cut..]);
    while let Some(item) = split.next_item() {
        if let Item::Object(o) = item {
            let (line, _) = s.handle(&o);
            assert!(!line.contains('\n'));
            let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON reply");
            assert!(v.get("return").is_some() || v.get("error").is_some());
        }
    }
});
