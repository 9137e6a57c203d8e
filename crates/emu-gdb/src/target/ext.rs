//! What GDB reads about the target rather than from it: the target description, the
//! memory map, the guest's ELF file, what `info threads` says of each hart, and `monitor`
//! commands.

use super::*;

impl TargetDescriptionXmlOverride for EmuTarget {
    fn target_description_xml(
        &self,
        annex: &[u8],
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        if annex != b"target.xml" {
            return Err(TargetError::NonFatal);
        }
        // Made when GDB attached (it probes which CSRs exist).
        let Some(xml) = &self.xml else {
            return Err(TargetError::NonFatal);
        };
        Ok(page(xml, offset, length, buf))
    }
}

impl MonitorCmd for EmuTarget {
    fn handle_monitor_cmd(
        &mut self,
        cmd: &[u8],
        mut out: ConsoleOutput<'_>,
    ) -> Result<(), RcError> {
        let cmd = String::from_utf8_lossy(cmd);
        match self.monitor(&cmd) {
            Ok(s) => out.write_raw(s.as_bytes()),
            Err(e) => out.write_raw(format!("error: {e}\n").as_bytes()),
        }
        Ok(())
    }
}

impl MemoryMap for EmuTarget {
    fn memory_map_xml(
        &self,
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let mut x = String::from(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n<memory-map>\n",
        );
        for Region { start, len, rom } in self.host.memory_map() {
            let ty = if rom { "rom" } else { "ram" };
            x += &format!("  <memory type=\"{ty}\" start=\"{start:#x}\" length=\"{len:#x}\"/>\n");
        }
        x += "</memory-map>\n";
        Ok(page(x.as_bytes(), offset, length, buf))
    }
}

impl ExecFile for EmuTarget {
    fn get_exec_file(
        &self,
        _pid: Option<gdbstub::common::Pid>,
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        // One process: whatever pid GDB names, the guest's file.
        let Some(path) = &self.exec else {
            return Err(TargetError::NonFatal);
        };
        Ok(page(
            path.as_os_str().as_encoded_bytes(),
            offset,
            length,
            buf,
        ))
    }
}

impl ThreadExtraInfo for EmuTarget {
    /// `info threads`: the hart and its privilege mode where it halted (`Thread 1.2 (hart
    /// 1, S-mode)`), or that it runs or is unavailable. Never an error: gdbstub ends the
    /// session on one, and any client may ask about any thread.
    fn thread_extra_info(&self, t: Tid, buf: &mut [u8]) -> Result<usize, RcError> {
        let h = hart(t);
        let text = if h >= self.harts {
            String::new()
        } else {
            match self.rc.status(h) {
                Ok(HartStatus::Halted) => match self.rc.read_register(h, RegId::Csr(0x7b0)) {
                    Ok(dcsr) => format!("hart {h}, {}", mode_name(dcsr)),
                    Err(_) => format!("hart {h}"),
                },
                Ok(HartStatus::Running) => format!("hart {h}, running"),
                Ok(HartStatus::Unavailable) => format!("hart {h}, unavailable"),
                Err(_) => format!("hart {h}"),
            }
        };
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        Ok(n)
    }
}

/// The privilege mode a hart halted in, from its `dcsr` (`prv`, and `v` for a virtualised
/// mode).
pub(crate) fn mode_name(dcsr: u64) -> &'static str {
    let virt = dcsr >> 5 & 1 != 0;
    match (dcsr & 3, virt) {
        (3, _) => "M-mode",
        (1, false) => "S-mode",
        (1, true) => "VS-mode",
        (0, false) => "U-mode",
        (0, true) => "VU-mode",
        _ => "reserved mode",
    }
}

#[cfg(test)]
mod tests {
    use super::mode_name;

    #[test]
    fn modes_from_dcsr() {
        // dcsr.prv is bits 1:0, dcsr.v bit 5 (Debug Specification 1.0, dcsr).
        let table = [
            (0x4000_0003, "M-mode"),
            (0x4000_0023, "M-mode"),
            (0x4000_0001, "S-mode"),
            (0x4000_0021, "VS-mode"),
            (0x4000_0000, "U-mode"),
            (0x4000_0020, "VU-mode"),
            (0x4000_0002, "reserved mode"),
        ];
        for (dcsr, name) in table {
            assert_eq!(mode_name(dcsr), name, "dcsr {dcsr:#x}");
        }
    }
}
