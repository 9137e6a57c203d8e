//! A 16550-compatible UART (the register file QEMU's virt machine exposes at 0x1000_0000):
//! transmit goes straight to the console, receive comes from the console's input queue.

use std::sync::Mutex;

use crate::console::Console;

/// UART registers that software can change.
#[derive(Debug, Default)]
struct Regs {
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    fcr: u8,
}

/// The UART.
#[derive(Debug)]
pub struct Uart {
    regs: Mutex<Regs>,
    console: Console,
}

const LSR_DR: u8 = 1;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

impl Uart {
    /// A UART on `console`.
    pub fn new(console: Console) -> Uart {
        Uart {
            regs: Mutex::default(),
            console,
        }
    }

    /// Back to the power-on register values (system reset).
    pub fn reset(&self) {
        *self.regs.lock().unwrap_or_else(|e| e.into_inner()) = Regs::default();
    }

    /// Whether the UART raises its interrupt line (receive data available or THR empty, when
    /// enabled in IER).
    pub fn irq(&self) -> bool {
        let r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        (r.ier & 1 != 0 && self.console.has_input()) || r.ier & 2 != 0
    }

    /// Register read (byte registers; offset 0..8).
    pub fn read(&self, off: u64) -> u8 {
        let r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        let dlab = r.lcr & 0x80 != 0;
        match off {
            0 if dlab => r.dll,
            0 => self.console.pop_input().unwrap_or(0),
            1 if dlab => r.dlm,
            1 => r.ier,
            2 => {
                // IIR: FIFOs enabled bits, then the highest pending interrupt.
                let fifo = if r.fcr & 1 != 0 { 0xc0 } else { 0 };
                let id = if r.ier & 1 != 0 && self.console.has_input() {
                    0x04
                } else if r.ier & 2 != 0 {
                    0x02
                } else {
                    0x01
                };
                fifo | id
            }
            3 => r.lcr,
            4 => r.mcr,
            5 => LSR_THRE | LSR_TEMT | if self.console.has_input() { LSR_DR } else { 0 },
            6 => 0xb0, // DCD, DSR, CTS
            7 => r.scr,
            _ => 0,
        }
    }

    /// Register write.
    pub fn write(&self, off: u64, v: u8) {
        let mut r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        let dlab = r.lcr & 0x80 != 0;
        match off {
            0 if dlab => r.dll = v,
            0 => {
                drop(r);
                self.console.put(v);
            }
            1 if dlab => r.dlm = v,
            1 => r.ier = v & 0x0f,
            2 => r.fcr = v,
            3 => r.lcr = v,
            4 => r.mcr = v,
            7 => r.scr = v,
            _ => {}
        }
    }
}
