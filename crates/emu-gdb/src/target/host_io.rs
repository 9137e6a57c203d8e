//! Host I/O (`vFile`) for one file: the guest's ELF, read-only. A GDB started without a
//! file learns the guest's name from `qXfer:exec-file` and reads its symbols through
//! these packets, from another host too (`--debug-listen`). Any other path is refused with
//! `EACCES`, and so is opening the ELF for writing: a debug port must not become a way to
//! read or change the host's files.

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};

use gdbstub::target::ext::host_io::{
    HostIo, HostIoClose, HostIoCloseOps, HostIoErrno, HostIoError, HostIoFstat, HostIoFstatOps,
    HostIoOpen, HostIoOpenFlags, HostIoOpenMode, HostIoOpenOps, HostIoPread, HostIoPreadOps,
    HostIoResult, HostIoStat,
};

use super::*;

/// Files GDB may hold open at once (it opens the ELF once or twice; a client opening it
/// without end gets `EMFILE`, not the host's descriptors).
const MAX_OPEN: usize = 8;

fn errno(e: HostIoErrno) -> HostIoError<RcError> {
    HostIoError::Errno(e)
}

impl EmuTarget {
    fn open_file(&self, fd: u32) -> HostIoResult<&File, Self> {
        self.files
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(errno(HostIoErrno::EBADF))
    }
}

impl HostIo for EmuTarget {
    fn support_open(&mut self) -> Option<HostIoOpenOps<'_, Self>> {
        Some(self)
    }

    fn support_close(&mut self) -> Option<HostIoCloseOps<'_, Self>> {
        Some(self)
    }

    fn support_pread(&mut self) -> Option<HostIoPreadOps<'_, Self>> {
        Some(self)
    }

    fn support_fstat(&mut self) -> Option<HostIoFstatOps<'_, Self>> {
        Some(self)
    }
}

impl HostIoOpen for EmuTarget {
    fn open(
        &mut self,
        filename: &[u8],
        flags: HostIoOpenFlags,
        _mode: HostIoOpenMode,
    ) -> HostIoResult<u32, Self> {
        let Some(path) = self
            .exec
            .as_ref()
            .filter(|p| p.as_os_str().as_encoded_bytes() == filename)
        else {
            return Err(errno(HostIoErrno::EACCES));
        };
        let writes = HostIoOpenFlags::O_WRONLY
            | HostIoOpenFlags::O_RDWR
            | HostIoOpenFlags::O_APPEND
            | HostIoOpenFlags::O_CREAT
            | HostIoOpenFlags::O_TRUNC;
        if flags.intersects(writes) {
            return Err(errno(HostIoErrno::EACCES));
        }
        let slot = match self.files.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.files.len() < MAX_OPEN => {
                self.files.push(None);
                self.files.len() - 1
            }
            None => return Err(errno(HostIoErrno::EMFILE)),
        };
        self.files[slot] = Some(File::open(path)?);
        Ok(slot as u32)
    }
}

impl HostIoClose for EmuTarget {
    fn close(&mut self, fd: u32) -> HostIoResult<(), Self> {
        match self.files.get_mut(fd as usize) {
            Some(f @ Some(_)) => {
                *f = None;
                Ok(())
            }
            _ => Err(errno(HostIoErrno::EBADF)),
        }
    }
}

impl HostIoPread for EmuTarget {
    fn pread(
        &mut self,
        fd: u32,
        count: usize,
        offset: u64,
        buf: &mut [u8],
    ) -> HostIoResult<usize, Self> {
        let f = self.open_file(fd)?;
        let n = count.min(buf.len());
        // One read: fewer bytes than asked is a valid answer (GDB asks again).
        Ok(f.read_at(&mut buf[..n], offset)?)
    }
}

impl HostIoFstat for EmuTarget {
    fn fstat(&mut self, fd: u32) -> HostIoResult<HostIoStat, Self> {
        let m = self.open_file(fd)?.metadata()?;
        // GDB's `struct stat` has 32-bit fields where the host's are wider.
        let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let time = |v: i64| u32::try_from(v).unwrap_or(0);
        Ok(HostIoStat {
            st_dev: narrow(m.dev()),
            st_ino: narrow(m.ino()),
            st_mode: HostIoOpenMode::from_bits_truncate(m.mode()),
            st_nlink: narrow(m.nlink()),
            st_uid: m.uid(),
            st_gid: m.gid(),
            st_rdev: narrow(m.rdev()),
            st_size: m.size(),
            st_blksize: m.blksize(),
            st_blocks: m.blocks(),
            st_atime: time(m.atime()),
            st_mtime: time(m.mtime()),
            st_ctime: time(m.ctime()),
        })
    }
}
