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
