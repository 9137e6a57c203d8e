//! The debugger's text commands ("monitor" commands), on the run-control API, so GDB's
//! `monitor ...` and MCD's `mcd_execute_command_f` offer the same set with the same
//! answers.

use crate::{HartStatus, RunControl};

/// What `help` prints.
pub const HELP: &str = "emu commands:\n\
  reset [run]          system reset, harts run\n\
  reset halt           system reset, harts halt at the reset vector\n\
  reset hart N [halt]  reset one hart\n\
  harts                each hart's state\n\
  dm                   the Debug Module's main registers\n\
  triggers             the triggers armed through the run-control API\n";

/// Runs one command; the text to show, or why it failed. `how` is how the front end's
/// user types these commands (`"monitor "` in GDB, `""` in MCD), for the error text.
pub fn execute(rc: &RunControl, cmd: &str, how: &str) -> Result<String, String> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let err = |e: crate::RcError| e.to_string();
    match words.as_slice() {
        ["reset"] | ["reset", "run"] => {
            rc.reset(None, false).map_err(err)?;
            Ok("system reset; harts running\n".into())
        }
        ["reset", "halt"] => {
            rc.reset(None, true).map_err(err)?;
            Ok("system reset; harts halted at the reset vector\n".into())
        }
        ["reset", "hart", n] | ["reset", "hart", n, "halt"] => {
            let h: usize = n.parse().map_err(|_| format!("no hart {n:?}"))?;
            if h >= rc.harts() {
                return Err(format!("no hart {h}: the machine has {}", rc.harts()));
            }
            rc.reset(Some(h), words.len() == 4).map_err(err)?;
            Ok(format!("hart {h} reset\n"))
        }
        ["harts"] => {
            let mut s = String::new();
            for h in 0..rc.harts() {
                let st = match rc.status(h) {
                    Ok(HartStatus::Running) => "running",
                    Ok(HartStatus::Halted) => "halted",
                    Ok(HartStatus::Unavailable) => "unavailable",
                    Err(_) => "unknown",
                };
                s += &format!("hart {h}: {st}\n");
            }
            Ok(s)
        }
        ["dm"] => {
            let dm = rc.dm();
            let mut s = String::new();
            for (name, a) in [
                ("dmcontrol", 0x10u8),
                ("dmstatus", 0x11),
                ("hartinfo", 0x12),
                ("abstractcs", 0x16),
                ("sbcs", 0x38),
            ] {
                s += &format!("{name:<11} {:#010x}\n", dm.dmi_read(a));
            }
            Ok(s)
        }
        ["triggers"] => {
            let mut s = String::new();
            for (id, lo, hi) in rc.triggers() {
                s += &format!("trigger {}: {lo:#x}..{hi:#x}\n", id.0);
            }
            if s.is_empty() {
                s = "no triggers armed\n".into();
            }
            Ok(s)
        }
        ["help"] | [] => Ok(HELP.into()),
        _ => Err(format!("unknown {how}command {cmd:?} (try \"{how}help\")")),
    }
}
