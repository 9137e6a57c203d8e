//! The system bus: routes physical accesses to RAM, the boot ROM and the devices, and
//! implements HTIF on top of RAM at the ELF's `tohost` symbol.

use emu_core::bus::irq;
use emu_core::{AmoOp, Bus, BusFault, HartId, PhysAddr};
use emu_dm::DebugModule;

use crate::console::Console;
use crate::dev::clint::Clint;
use crate::dev::plic::{Plic, SOURCES};
use crate::dev::uart::Uart;
use crate::hostwrites::HostWrites;
use crate::map::*;
use crate::ram::Ram;
use crate::signals::Signals;
use std::sync::Arc;

/// HTIF mailbox addresses (from the ELF's `tohost`/`fromhost` symbols).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Htif {
    /// Physical address of `tohost`.
    pub tohost: u64,
    /// Physical address of `fromhost`, if present.
    pub fromhost: Option<u64>,
}

/// Everything behind the harts' [`Bus`].
#[derive(Debug)]
pub struct SystemBus {
    /// Guest RAM at [`RAM_BASE`].
    pub ram: Ram,
    rom: Vec<u8>,
    /// The UART.
    pub uart: Uart,
    /// The CLINT.
    pub clint: Clint,
    /// The PLIC.
    pub plic: Plic,
    htif: Option<Htif>,
    console: Console,
    /// Exit and wake-up signals.
    pub signals: Arc<Signals>,
    /// The Debug Module, at [`DM_BASE`] (harts reach it only in Debug Mode).
    dm: Option<Arc<DebugModule>>,
    /// Writes by the host (debugger, reset), for engines' code caches.
    host_writes: HostWrites,
}

impl SystemBus {
    /// A bus with `ram_size` bytes of RAM and `harts` harts' worth of CLINT/PLIC state.
    pub fn new(
        ram_size: u64,
        harts: usize,
        console: Console,
        signals: Arc<Signals>,
    ) -> std::io::Result<SystemBus> {
        Ok(SystemBus {
            ram: Ram::new(ram_size as usize)?,
            rom: Vec::new(),
            uart: Uart::new(console.clone()),
            clint: Clint::new(harts),
            plic: Plic::new(harts),
            htif: None,
            dm: None,
            host_writes: HostWrites::default(),
            console,
            signals,
        })
    }

    /// Install the boot ROM contents.
    pub fn set_rom(&mut self, rom: Vec<u8>) {
        self.rom = rom;
    }

    /// Enable HTIF at the given mailbox. The addresses come from the ELF file: a `tohost`
    /// whose 8 bytes are not in RAM leaves HTIF off (the program may still exit through the
    /// test finisher), and a `fromhost` outside RAM is dropped.
    pub fn set_htif(&mut self, h: Option<Htif>) {
        self.htif = h
            .filter(|h| self.ram_off(h.tohost, 8).is_some())
            .map(|h| Htif {
                fromhost: h.fromhost.filter(|&f| self.ram_off(f, 8).is_some()),
                ..h
            });
    }

    fn levels(&self) -> [bool; SOURCES] {
        let mut l = [false; SOURCES];
        l[UART_IRQ] = self.uart.irq();
        l
    }

    fn ram_off(&self, a: u64, size: usize) -> Option<u64> {
        let off = a.checked_sub(RAM_BASE)?;
        (off.checked_add(size as u64)? <= self.ram.len() as u64).then_some(off)
    }

    /// HTIF: a write of `size` bytes at `a` touched `tohost`; act on the 64-bit value now in
    /// RAM once the command is complete. RV32 guests write the two halves separately: a low
    /// half is acted on at once when it is an exit (`code << 1 | 1` with the high half zero) or
    /// completes a command whose high half (device, command) is already there; a high half
    /// completes a command whose low half is already there.
    fn htif_poke(&self, h: Htif, a: u64, size: usize) {
        let Some(off) = self.ram_off(h.tohost, 8) else {
            return;
        };
        let v = self.ram.read(off, 8).unwrap_or(0);
        let (lo, hi) = (v & 0xffff_ffff, v >> 32);
        let wrote_lo = a < h.tohost + 4;
        let wrote_hi = a + size as u64 > h.tohost + 4;
        let complete = match (wrote_lo, wrote_hi) {
            (true, true) => true,
            (true, false) => hi != 0 || lo & 1 == 1,
            (false, _) => lo != 0,
        };
        if v == 0 || !complete {
            return;
        }
        let dev = v >> 56;
        let cmd = (v >> 48) & 0xff;
        let payload = v & 0xffff_ffff_ffff;
        match (dev, cmd) {
            (0, _) if payload & 1 == 1 => {
                let code = (payload >> 1) as i32;
                self.console.flush();
                self.signals.exit_guest(code);
            }
            (0, _) => self.htif_syscall(payload),
            (1, 1) => {
                self.console.put(payload as u8);
                self.ram.write(off, 8, 0);
                if let Some(f) = h.fromhost.and_then(|f| self.ram_off(f, 8)) {
                    self.ram.write(f, 8, (1 << 56) | (1 << 48));
                }
            }
            _ => {
                // Unknown device or command: acknowledge so the guest does not spin forever.
                self.ram.write(off, 8, 0);
            }
        }
    }

    /// The proxied system calls of riscv-tests' benchmarks: `write` (64) and `exit` (93).
    fn htif_syscall(&self, magic: u64) {
        let rd = |i: u64| {
            self.ram_off(magic + 8 * i, 8)
                .and_then(|o| self.ram.read(o, 8))
                .unwrap_or(0)
        };
        let (num, a0, a1, a2) = (rd(0), rd(1), rd(2), rd(3));
        let ret = match num {
            64 if a0 == 1 || a0 == 2 => {
                let len = a2.min(1 << 20);
                match self.ram_off(a1, len as usize) {
                    Some(o) => {
                        let bytes: Vec<u8> = (0..len)
                            .map(|k| self.ram.read(o + k, 1).unwrap_or(0) as u8)
                            .collect();
                        self.console.put_all(&bytes);
                        len
                    }
                    None => (-14i64) as u64, // EFAULT
                }
            }
            93 => {
                self.console.flush();
                self.signals.exit_guest(a0 as i32);
                0
            }
            _ => (-38i64) as u64, // ENOSYS
        };
        if let Some(o) = self.ram_off(magic, 8) {
            self.ram.write(o, 8, ret);
        }
        if let Some(h) = self.htif {
            if let Some(o) = self.ram_off(h.tohost, 8) {
                self.ram.write(o, 8, 0);
            }
            if let Some(f) = h.fromhost.and_then(|f| self.ram_off(f, 8)) {
                self.ram.write(f, 8, 1);
            }
        }
    }

    /// The Debug Module, when one is mapped.
    pub fn dm(&self) -> Option<&DebugModule> {
        self.dm.as_deref()
    }

    /// System reset of the devices: UART, CLINT and PLIC back to their power-on state.
    pub fn reset_devices(&self) {
        self.uart.reset();
        self.clint.reset();
        self.plic.reset();
    }

    /// Map the Debug Module at [`DM_BASE`].
    pub fn set_dm(&mut self, dm: Arc<DebugModule>) {
        self.dm = Some(dm);
    }

    fn dm_off(&self, a: u64, size: usize) -> Option<(&DebugModule, u64)> {
        let dm = self.dm.as_deref()?;
        let off = a.checked_sub(DM_BASE)?;
        (off.checked_add(size as u64)? <= DM_SIZE).then_some((dm, off))
    }

    fn mmio_read(&self, a: u64, size: usize) -> Result<u64, BusFault> {
        let fault = Err(BusFault::Unmapped(PhysAddr(a)));
        let unsupported = Err(BusFault::Unsupported(PhysAddr(a)));
        if let Some((dm, off)) = self.dm_off(a, size) {
            return Ok(dm.mem_read(off, size));
        }
        if (ROM_BASE..ROM_BASE + ROM_SIZE).contains(&a) {
            let off = (a - ROM_BASE) as usize;
            return Ok((0..size).fold(0u64, |acc, k| {
                acc | (*self.rom.get(off + k).unwrap_or(&0) as u64) << (8 * k)
            }));
        }
        if (TEST_BASE..TEST_BASE + TEST_SIZE).contains(&a) {
            return Ok(0);
        }
        if (CLINT_BASE..CLINT_BASE + CLINT_SIZE).contains(&a) {
            return self
                .clint
                .read(a - CLINT_BASE, size)
                .ok_or(BusFault::Unsupported(PhysAddr(a)));
        }
        if (PLIC_BASE..PLIC_BASE + PLIC_SIZE).contains(&a) {
            if size != 4 || !a.is_multiple_of(4) {
                return unsupported;
            }
            return self
                .plic
                .read(a - PLIC_BASE, &self.levels())
                .ok_or(BusFault::Unsupported(PhysAddr(a)));
        }
        if (UART_BASE..UART_BASE + UART_SIZE).contains(&a) {
            return Ok(self.uart.read(a - UART_BASE) as u64);
        }
        fault
    }

    fn mmio_write(&self, a: u64, size: usize, v: u64) -> Result<(), BusFault> {
        let unsupported = Err(BusFault::Unsupported(PhysAddr(a)));
        if let Some((dm, off)) = self.dm_off(a, size) {
            dm.mem_write(off, size, v);
            return Ok(());
        }
        if (TEST_BASE..TEST_BASE + TEST_SIZE).contains(&a) {
            if a == TEST_BASE && size >= 4 {
                match v & 0xffff {
                    0x5555 => self.signals.exit_guest(0),
                    0x3333 => self.signals.exit_guest(((v >> 16) & 0xffff) as i32),
                    0x7777 => self.signals.exit_host(),
                    _ => {}
                }
            }
            return Ok(());
        }
        if (CLINT_BASE..CLINT_BASE + CLINT_SIZE).contains(&a) {
            return match self.clint.write(a - CLINT_BASE, size, v) {
                Some(_) => {
                    self.signals.wake_all();
                    Ok(())
                }
                None => unsupported,
            };
        }
        if (PLIC_BASE..PLIC_BASE + PLIC_SIZE).contains(&a) {
            if size != 4 || !a.is_multiple_of(4) {
                return unsupported;
            }
            self.plic
                .write(a - PLIC_BASE, v)
                .ok_or(BusFault::Unsupported(PhysAddr(a)))?;
            self.signals.wake_all();
            return Ok(());
        }
        if (UART_BASE..UART_BASE + UART_SIZE).contains(&a) {
            self.uart.write(a - UART_BASE, v as u8);
            return Ok(());
        }
        if (ROM_BASE..ROM_BASE + ROM_SIZE).contains(&a) {
            return unsupported; // read-only
        }
        Err(BusFault::Unmapped(PhysAddr(a)))
    }

    fn touches_tohost(&self, a: u64, size: usize) -> Option<Htif> {
        let h = self.htif?;
        (a < h.tohost + 8 && a + size as u64 > h.tohost).then_some(h)
    }
}

impl Bus for SystemBus {
    #[inline]
    fn read(&self, addr: PhysAddr, size: usize) -> Result<u64, BusFault> {
        let a = addr.0;
        if let Some(off) = self.ram_off(a, size) {
            return self.ram.read(off, size).ok_or(BusFault::Unmapped(addr));
        }
        self.mmio_read(a, size)
    }

    #[inline]
    fn write(&self, addr: PhysAddr, size: usize, val: u64) -> Result<(), BusFault> {
        let a = addr.0;
        if let Some(off) = self.ram_off(a, size) {
            self.ram.write(off, size, val);
            if let Some(h) = self.touches_tohost(a, size) {
                self.htif_poke(h, a, size);
            }
            return Ok(());
        }
        self.mmio_write(a, size, val)
    }

    fn amo(&self, addr: PhysAddr, size: usize, op: AmoOp, val: u64) -> Result<u64, BusFault> {
        match self.ram_off(addr.0, size) {
            Some(off) => self
                .ram
                .amo(off, size, op, val)
                .ok_or(BusFault::Unsupported(addr)),
            None => Err(BusFault::Unsupported(addr)),
        }
    }

    fn compare_exchange(
        &self,
        addr: PhysAddr,
        size: usize,
        expected: u64,
        new: u64,
    ) -> Result<bool, BusFault> {
        match self.ram_off(addr.0, size) {
            Some(off) => self
                .ram
                .compare_exchange(off, size, expected, new)
                .ok_or(BusFault::Unsupported(addr)),
            None => Err(BusFault::Unsupported(addr)),
        }
    }

    fn irq_lines(&self, hart: HartId) -> u64 {
        let h = hart.0 as usize;
        let mut v = self.clint.lines(h);
        let levels = self.levels();
        if levels.iter().any(|&l| l) {
            if self.plic.asserted(2 * h, &levels) {
                v |= irq::MEIP;
            }
            if self.plic.asserted(2 * h + 1, &levels) {
                v |= irq::SEIP;
            }
        }
        v
    }

    fn mtime(&self) -> u64 {
        self.clint.mtime()
    }

    fn ram_range(&self) -> Option<(u64, u64)> {
        Some((RAM_BASE, RAM_BASE + self.ram.len() as u64))
    }

    fn code_tag(&self, addr: PhysAddr) -> u64 {
        self.dm_off(addr.0, 1)
            .map_or(0, |(dm, off)| dm.code_tag(off))
    }

    fn note_host_write(&self, start: u64, end: u64) {
        self.host_writes.note(start, end);
    }

    fn host_write_epoch(&self) -> u64 {
        self.host_writes.epoch()
    }

    fn host_writes_since(&self, since: u64, f: &mut dyn FnMut(u64, u64)) -> u64 {
        self.host_writes.since(since, f)
    }

    fn ram_window(&self) -> Option<emu_core::bus::RamWindow> {
        Some(emu_core::bus::RamWindow {
            base: RAM_BASE,
            size: self.ram.len() as u64,
            host: self.ram.host_base() as usize,
            watch: self.htif.map(|h| (h.tohost, h.tohost + 8)),
        })
    }
}
