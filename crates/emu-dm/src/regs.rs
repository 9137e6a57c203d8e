//! DMI register addresses and fields (Debug Specification 1.0, `xml/dm_registers.xml`).

/// `data0` .. `data11`.
pub const DATA0: u8 = 0x04;
/// Number of `data` registers.
pub const DATA_COUNT: u8 = 12;
/// `dmcontrol`.
pub const DMCONTROL: u8 = 0x10;
/// `dmstatus`.
pub const DMSTATUS: u8 = 0x11;
/// `hartinfo`.
pub const HARTINFO: u8 = 0x12;
/// `haltsum1`.
pub const HALTSUM1: u8 = 0x13;
/// `hawindowsel`.
pub const HAWINDOWSEL: u8 = 0x14;
/// `hawindow`.
pub const HAWINDOW: u8 = 0x15;
/// `abstractcs`.
pub const ABSTRACTCS: u8 = 0x16;
/// `command`.
pub const COMMAND: u8 = 0x17;
/// `abstractauto`.
pub const ABSTRACTAUTO: u8 = 0x18;
/// `confstrptr0` .. `confstrptr3`.
pub const CONFSTRPTR0: u8 = 0x19;
/// `nextdm`.
pub const NEXTDM: u8 = 0x1d;
/// `progbuf0` .. `progbuf15`.
pub const PROGBUF0: u8 = 0x20;
/// Program buffer words.
pub const PROGBUF_SIZE: u8 = 16;
/// `authdata`.
pub const AUTHDATA: u8 = 0x30;
/// `dmcs2`.
pub const DMCS2: u8 = 0x32;
/// `haltsum2`.
pub const HALTSUM2: u8 = 0x34;
/// `haltsum3`.
pub const HALTSUM3: u8 = 0x35;
/// `sbaddress3`.
pub const SBADDRESS3: u8 = 0x37;
/// `sbcs`.
pub const SBCS: u8 = 0x38;
/// `sbaddress0`.
pub const SBADDRESS0: u8 = 0x39;
/// `sbaddress1`.
pub const SBADDRESS1: u8 = 0x3a;
/// `sbaddress2`.
pub const SBADDRESS2: u8 = 0x3b;
/// `sbdata0`.
pub const SBDATA0: u8 = 0x3c;
/// `sbdata3`.
pub const SBDATA3: u8 = 0x3f;
/// `haltsum0`.
pub const HALTSUM0: u8 = 0x40;

/// `dmcontrol` fields.
pub mod dmcontrol {
    /// Halt the selected harts.
    pub const HALTREQ: u32 = 1 << 31;
    /// Resume the selected harts.
    pub const RESUMEREQ: u32 = 1 << 30;
    /// Reset the selected harts.
    pub const HARTRESET: u32 = 1 << 29;
    /// Clear `havereset` of the selected harts.
    pub const ACKHAVERESET: u32 = 1 << 28;
    /// Clear `unavail` stickiness of the selected harts.
    pub const ACKUNAVAIL: u32 = 1 << 27;
    /// Select the hart array mask too.
    pub const HASEL: u32 = 1 << 26;
    /// `hartsello` (10 bits at 16).
    pub const HARTSELLO_SHIFT: u32 = 16;
    /// `hartselhi` (10 bits at 6).
    pub const HARTSELHI_SHIFT: u32 = 6;
    /// Set keepalive of the selected harts.
    pub const SETKEEPALIVE: u32 = 1 << 5;
    /// Clear keepalive.
    pub const CLRKEEPALIVE: u32 = 1 << 4;
    /// Halt the selected harts out of reset.
    pub const SETRESETHALTREQ: u32 = 1 << 3;
    /// Stop halting them out of reset.
    pub const CLRRESETHALTREQ: u32 = 1 << 2;
    /// Reset the whole system except the DM.
    pub const NDMRESET: u32 = 1 << 1;
    /// The DM is active (0 resets it).
    pub const DMACTIVE: u32 = 1;
}

/// `dmstatus` fields.
pub mod dmstatus {
    /// `ndmresetpending`.
    pub const NDMRESETPENDING: u32 = 1 << 24;
    /// `stickyunavail`.
    pub const STICKYUNAVAIL: u32 = 1 << 23;
    /// `impebreak`.
    pub const IMPEBREAK: u32 = 1 << 22;
    /// `allhavereset`.
    pub const ALLHAVERESET: u32 = 1 << 19;
    /// `anyhavereset`.
    pub const ANYHAVERESET: u32 = 1 << 18;
    /// `allresumeack`.
    pub const ALLRESUMEACK: u32 = 1 << 17;
    /// `anyresumeack`.
    pub const ANYRESUMEACK: u32 = 1 << 16;
    /// `allnonexistent`.
    pub const ALLNONEXISTENT: u32 = 1 << 15;
    /// `anynonexistent`.
    pub const ANYNONEXISTENT: u32 = 1 << 14;
    /// `allunavail`.
    pub const ALLUNAVAIL: u32 = 1 << 13;
    /// `anyunavail`.
    pub const ANYUNAVAIL: u32 = 1 << 12;
    /// `allrunning`.
    pub const ALLRUNNING: u32 = 1 << 11;
    /// `anyrunning`.
    pub const ANYRUNNING: u32 = 1 << 10;
    /// `allhalted`.
    pub const ALLHALTED: u32 = 1 << 9;
    /// `anyhalted`.
    pub const ANYHALTED: u32 = 1 << 8;
    /// `authenticated`.
    pub const AUTHENTICATED: u32 = 1 << 7;
    /// `authbusy`.
    pub const AUTHBUSY: u32 = 1 << 6;
    /// `hasresethaltreq`.
    pub const HASRESETHALTREQ: u32 = 1 << 5;
    /// `confstrptrvalid`.
    pub const CONFSTRPTRVALID: u32 = 1 << 4;
    /// `version` = 3: Debug Specification 1.0.
    pub const VERSION_1_0: u32 = 3;
}

/// `abstractcs` fields.
pub mod abstractcs {
    /// `progbufsize` (5 bits at 24).
    pub const PROGBUFSIZE_SHIFT: u32 = 24;
    /// `datacount` (4 bits at 0).
    pub const DATACOUNT: u32 = 0xf;
    /// `busy`.
    pub const BUSY: u32 = 1 << 12;
    /// `relaxedpriv`.
    pub const RELAXEDPRIV: u32 = 1 << 11;
    /// `cmderr` (3 bits at 8, write 1 to clear).
    pub const CMDERR_SHIFT: u32 = 8;
}

/// `cmderr` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CmdErr {
    /// No error.
    None = 0,
    /// A register was written, or a command issued, while one was running.
    Busy = 1,
    /// The command (or an option of it) is not supported.
    NotSupported = 2,
    /// An exception occurred while executing the command.
    Exception = 3,
    /// The hart was not in the state the command needs (halted, or running).
    HaltResume = 4,
    /// A bus error (Access Memory).
    Bus = 5,
    /// Reserved.
    Reserved = 6,
    /// Anything else.
    Other = 7,
}

/// Abstract command types (`command.cmdtype`).
pub mod cmdtype {
    /// Access Register.
    pub const ACCESS_REGISTER: u32 = 0;
    /// Quick Access.
    pub const QUICK_ACCESS: u32 = 1;
    /// Access Memory.
    pub const ACCESS_MEMORY: u32 = 2;
}

/// Access Register fields.
pub mod access_register {
    /// `aarsize` (3 bits at 20): 2 = 32, 3 = 64, 4 = 128 bits.
    pub const AARSIZE_SHIFT: u32 = 20;
    /// `aarpostincrement`.
    pub const POSTINCREMENT: u32 = 1 << 19;
    /// `postexec`.
    pub const POSTEXEC: u32 = 1 << 18;
    /// `transfer`.
    pub const TRANSFER: u32 = 1 << 17;
    /// `write`.
    pub const WRITE: u32 = 1 << 16;
}

/// Register numbers of Access Register (`regno`).
pub mod regno {
    /// First CSR (0x0000-0x0fff are CSRs).
    pub const CSR0: u32 = 0x0000;
    /// First GPR (0x1000-0x101f).
    pub const GPR0: u32 = 0x1000;
    /// First FPR (0x1020-0x103f).
    pub const FPR0: u32 = 0x1020;
}

/// Access Memory fields.
pub mod access_memory {
    /// `aamvirtual`.
    pub const VIRTUAL: u32 = 1 << 23;
    /// `aamsize` (3 bits at 20): log2 of the size in bytes.
    pub const SIZE_SHIFT: u32 = 20;
    /// `aampostincrement`.
    pub const POSTINCREMENT: u32 = 1 << 19;
    /// `write`.
    pub const WRITE: u32 = 1 << 16;
}

/// `sbcs` fields.
pub mod sbcs {
    /// `sbversion` = 1 (3 bits at 29).
    pub const VERSION_1: u32 = 1 << 29;
    /// `sbbusyerror` (write 1 to clear).
    pub const BUSYERROR: u32 = 1 << 22;
    /// `sbbusy`.
    pub const BUSY: u32 = 1 << 21;
    /// `sbreadonaddr`.
    pub const READONADDR: u32 = 1 << 20;
    /// `sbaccess` (3 bits at 17).
    pub const ACCESS_SHIFT: u32 = 17;
    /// `sbautoincrement`.
    pub const AUTOINCREMENT: u32 = 1 << 16;
    /// `sbreadondata`.
    pub const READONDATA: u32 = 1 << 15;
    /// `sberror` (3 bits at 12, write 1 to clear).
    pub const ERROR_SHIFT: u32 = 12;
    /// `sbasize` (7 bits at 5).
    pub const ASIZE_SHIFT: u32 = 5;
    /// `sbaccess8`..`sbaccess64` (bits 0-3).
    pub const ACCESS_8_TO_64: u32 = 0xf;
}

/// `sberror` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum SbError {
    /// No error.
    None = 0,
    /// A bus timeout.
    Timeout = 1,
    /// Nothing answers at the address.
    BadAddress = 2,
    /// The address is not aligned to the access size.
    Alignment = 3,
    /// The access size is not supported.
    Size = 4,
    /// Anything else (the device refused the access).
    Other = 7,
}

/// `dmcs2` fields.
pub mod dmcs2 {
    /// `grouptype`: 0 halt group, 1 resume group.
    pub const GROUPTYPE: u32 = 1 << 11;
    /// `dmexttrigger` (4 bits at 7).
    pub const EXTTRIGGER_SHIFT: u32 = 7;
    /// `group` (5 bits at 2).
    pub const GROUP_SHIFT: u32 = 2;
    /// `hgwrite`.
    pub const HGWRITE: u32 = 1 << 1;
    /// `hgselect`: 0 harts, 1 external triggers.
    pub const HGSELECT: u32 = 1;
}

/// Registers emu adds to the list above.
pub const CONFSTRPTR3: u8 = 0x1c;
/// `sbdata1`.
pub const SBDATA1: u8 = 0x3d;
/// `sbdata2`.
pub const SBDATA2: u8 = 0x3e;
