//! Builds the demo guest with emu-asm and embeds its ELF bytes in the binary.

#[path = "src/demo_src.rs"]
mod demo_src;

fn main() {
    println!("cargo:rerun-if-changed=src/demo_src.rs");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let elf = demo_src::demo_elf().expect("demo guest assembles");
    std::fs::write(format!("{out}/demo.elf"), elf).expect("write demo.elf");
}
