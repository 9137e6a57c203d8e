//! The physical memory map (QEMU `virt`).

/// Debug Module window (Debug Mode only).
pub const DM_BASE: u64 = 0x0000_0000;
/// Debug Module window size.
pub const DM_SIZE: u64 = 0x1000;
/// Boot ROM.
pub const ROM_BASE: u64 = 0x0000_1000;
/// Boot ROM size.
pub const ROM_SIZE: u64 = 0xf000;
/// SiFive test finisher.
pub const TEST_BASE: u64 = 0x0010_0000;
/// Test finisher window size.
pub const TEST_SIZE: u64 = 0x1000;
/// CLINT.
pub const CLINT_BASE: u64 = 0x0200_0000;
/// CLINT size.
pub const CLINT_SIZE: u64 = 0x1_0000;
/// PLIC.
pub const PLIC_BASE: u64 = 0x0c00_0000;
/// PLIC size.
pub const PLIC_SIZE: u64 = 0x400_0000;
/// UART 16550.
pub const UART_BASE: u64 = 0x1000_0000;
/// UART window size.
pub const UART_SIZE: u64 = 0x100;
/// PLIC source of the UART.
pub const UART_IRQ: usize = 10;
/// RAM.
pub const RAM_BASE: u64 = 0x8000_0000;
/// Default RAM size (128 MiB, QEMU virt's default).
pub const RAM_DEFAULT_SIZE: u64 = 128 << 20;

/// What a region of the map holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// Read-write memory.
    Ram,
    /// Read-only memory.
    Rom,
    /// Device registers.
    Mmio,
}

/// One region of the physical map, for debuggers' memory maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Its name.
    pub name: &'static str,
    /// First address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// What it holds.
    pub kind: RegionKind,
}

/// The physical map with `ram_size` bytes of RAM, in address order.
pub fn regions(ram_size: u64) -> [Region; 7] {
    let r = |name, start, len, kind| Region {
        name,
        start,
        len,
        kind,
    };
    [
        r("debug-module", DM_BASE, DM_SIZE, RegionKind::Mmio),
        r("rom", ROM_BASE, ROM_SIZE, RegionKind::Rom),
        r("test-finisher", TEST_BASE, TEST_SIZE, RegionKind::Mmio),
        r("clint", CLINT_BASE, CLINT_SIZE, RegionKind::Mmio),
        r("plic", PLIC_BASE, PLIC_SIZE, RegionKind::Mmio),
        r("uart", UART_BASE, UART_SIZE, RegionKind::Mmio),
        r("ram", RAM_BASE, ram_size, RegionKind::Ram),
    ]
}
