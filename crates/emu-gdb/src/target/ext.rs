//! What GDB reads about the target rather than from it: the target description, the
//! memory map, and `monitor` commands.

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
