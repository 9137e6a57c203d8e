//! Write the benchmark guest ELFs (built with emu-asm) into a directory, for
//! `scripts/compare-qemu.sh`: `cargo run -p emu-benches --example workloads -- DIR`.

use emu_benches::{alu_loop, mem_loop, mem_loop_sv39};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: workloads DIR");
        std::process::exit(2);
    };
    for (name, elf) in [
        ("alu_loop.elf", alu_loop(50_000_000)),
        ("mem_loop.elf", mem_loop(25_000_000)),
        ("mem_loop_sv39.elf", mem_loop_sv39(25_000_000)),
    ] {
        let path = std::path::Path::new(&dir).join(name);
        if let Err(e) = std::fs::write(&path, elf) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
