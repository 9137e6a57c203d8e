//! Running `emu` and external clients (gdb-multiarch, OpenOCD) as processes for the
//! end-to-end tests: start, find the port emu announces, collect output with a time
//! limit, and never leave a process behind.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running emu: the rest of the line it announced its server with, its console (stdout)
/// and stderr lines, and the process (killed when dropped).
#[derive(Debug)]
pub struct EmuProcess {
    child: Child,
    /// What followed the announcement prefix (an address or a port).
    pub announced: String,
    console: Receiver<String>,
    stderr: Receiver<String>,
}

impl EmuProcess {
    /// Start `bin` with `args` and wait for a stderr line starting with `prefix`.
    pub fn start(bin: &Path, args: &[&str], prefix: &str) -> EmuProcess {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start emu");
        let stderr = child.stderr.take().expect("stderr piped");
        let mut lines = BufReader::new(stderr).lines();
        let announced = loop {
            let line = lines
                .next()
                .expect("emu ended before listening")
                .expect("read emu's stderr");
            if let Some(a) = line.strip_prefix(prefix) {
                break a.to_string();
            }
        };
        // Keep draining both streams so emu never blocks on them.
        let (etx, stderr) = channel();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let _ = etx.send(l);
            }
        });
        let (tx, console) = channel();
        let stdout = child.stdout.take().expect("stdout piped");
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        EmuProcess {
            child,
            announced,
            console,
            stderr,
        }
    }

    /// Wait (at most a minute) for the guest to print `line`.
    pub fn wait_console(&self, line: &str) {
        wait_line(&self.console, |l| l == line, line);
    }

    /// Wait (at most a minute) for a console line starting with `prefix`.
    pub fn wait_console_prefix(&self, prefix: &str) {
        wait_line(&self.console, |l| l.starts_with(prefix), prefix);
    }

    /// Wait (at most a minute) for a stderr line starting with `prefix`; the line.
    pub fn wait_stderr(&self, prefix: &str) -> String {
        wait_line(&self.stderr, |l| l.starts_with(prefix), prefix)
    }

    /// emu's exit code, waiting at most a minute.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("emu did not exit");
    }

    /// emu is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn wait_line(rx: &Receiver<String>, want: impl Fn(&str) -> bool, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if want(&l) => return l,
            Ok(_) => {}
            Err(e) => panic!("emu never printed {what:?}: {e}"),
        }
    }
}

impl Drop for EmuProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait for `child` at most `limit` (then kill it); its stdout and stderr together, and
/// whether it exited with status 0.
pub fn collect(mut child: Child, limit: Duration) -> (String, bool) {
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let done = Arc::new(Mutex::new(false));
    {
        let pid = child.id();
        let d = done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            while Instant::now() < deadline {
                if *d.lock().unwrap_or_else(|e| e.into_inner()) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        });
    }
    let mut s = String::new();
    let _ = out.read_to_string(&mut s);
    let ok = child.wait().map(|st| st.success()).unwrap_or(false);
    *done.lock().unwrap_or_else(|e| e.into_inner()) = true;
    (s + &t.join().unwrap_or_default(), ok)
}

/// A TCP port nothing listens on at the moment (for clients that cannot pick their own).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}
