//! The debugger's text commands ("monitor" commands), on the run-control API, so GDB's
//! `monitor ...` and MCD's `mcd_execute_command_f` offer the same set with the same
//! answers.

use crate::{HartSel, HartStatus, RunControl, TrapKind, traps};

/// What `help` prints.
pub const HELP: &str = "emu commands:\n\
  reset [run]          system reset, harts run\n\
  reset halt           system reset, harts halt at the reset vector\n\
  reset hart N [halt]  reset one hart\n\
  harts                each hart's state\n\
  dm                   the Debug Module's main registers\n\
  triggers             the triggers armed through the run-control API\n\
  catch exception [C]  stop every hart when it takes one of these exceptions (names\n\
                       or codes; default: the faults; all: every one), at the handler\n\
  catch interrupt [C]  the same for interrupts (default: all)\n\
  catch                the trap catches armed\n\
  catch off            remove every trap catch\n";

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
            for (id, what) in rc.trigger_descriptions() {
                s += &format!("trigger {}: {what}\n", id.0);
            }
            s += &catches(rc);
            if s.is_empty() {
                s = "no triggers armed\n".into();
            }
            Ok(s)
        }
        ["catch"] => {
            let s = catches(rc);
            Ok(if s.is_empty() {
                "no trap catches\n".into()
            } else {
                s
            })
        }
        ["catch", "off"] => {
            let ids = rc.trap_catches();
            for &(id, _, _) in &ids {
                rc.remove_trigger(id).map_err(err)?;
            }
            Ok(format!("{} trap catches removed\n", ids.len()))
        }
        ["catch", which, causes @ ..] => {
            let kind = match *which {
                "exception" | "exceptions" => TrapKind::Exception,
                "interrupt" | "interrupts" => TrapKind::Interrupt,
                _ => return Err(format!("{how}catch takes exception, interrupt or off")),
            };
            let mask = match (kind, causes) {
                (TrapKind::Exception, []) => traps::FAULTS,
                (TrapKind::Interrupt, []) => traps::all(kind),
                _ => traps::parse(kind, causes)?,
            };
            let id = rc.add_trap_catch(HartSel::All, kind, mask).map_err(err)?;
            Ok(format!(
                "trigger {}: every hart stops at its handler on {}s {}\n",
                id.0,
                traps::noun(kind),
                traps::describe(kind, mask)
            ))
        }
        ["help"] | [] => Ok(HELP.into()),
        _ => Err(format!("unknown {how}command {cmd:?} (try \"{how}help\")")),
    }
}

/// The trap catches armed, a line each.
fn catches(rc: &RunControl) -> String {
    rc.trap_catches()
        .iter()
        .map(|&(id, kind, mask)| {
            format!(
                "trigger {}: catch {}s {}\n",
                id.0,
                traps::noun(kind),
                traps::describe(kind, mask)
            )
        })
        .collect()
}
