//! The MCD server's input path: arbitrary bytes through the stream splitter and, for every
//! object found, the command dispatcher of a session on a running machine. Every request
//! must get one line of JSON, and nothing may panic (on the machine of `emu_fuzz::rig`).
#![no_main]

use emu_mcd::Session;
use emu_mcd::session::ServerInfo;
use emu_mcd::stream::{Item, Splitter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let g = emu_fuzz::rig();
    let Some(rig) = g.as_ref() else { return };
    let mut s = Session::new(
        rig.rc.clone(),
        ServerInfo {
            host: "127.0.0.1".into(),
            port: 1235,
            memory_map: Vec::new(),
        },
    );
    let mut split = Splitter::new();
    for c in emu_fuzz::chunks(data) {
        split.feed(&c);
    }
    while let Some(item) = split.next_item() {
        if let Item::Object(o) = item {
            let (line, _) = s.handle(&o);
            assert!(!line.contains('\n'));
            let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON reply");
            assert!(v.get("return").is_some() || v.get("error").is_some());
        }
    }
});
