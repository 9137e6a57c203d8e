//! One TCP connection to an emu MCD server: a request out, its one reply line in.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use emu_mcd_wire::{err, ret};
use serde_json::{Map, Value, json};

use crate::fail::{Fail, R};

/// A reply line longer than this is not from an emu server (they stay under 64 KiB).
const MAX_LINE: u64 = 16 << 20;

/// Where and how to connect (from `mcd_open_server_f`'s config string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub host: String,
    pub port: u16,
    pub timeout: Duration,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            host: "localhost".into(),
            port: 1235,
            timeout: Duration::from_secs(30),
        }
    }
}

impl Target {
    /// Reads `McdHostName`, `McdServerPort` and `McdTimeoutMs` from a config string
    /// (`Key=value` or `Key="value"`, separated by white space); other keys are the
    /// server's business.
    pub(crate) fn from_config(config: &str) -> R<Target> {
        let mut t = Target::default();
        for (key, value) in config_pairs(config) {
            match key.as_str() {
                "McdHostName" if !value.is_empty() => t.host = value,
                "McdServerPort" => {
                    t.port = value.parse().map_err(|_| {
                        Fail::new(err::PARAM, format!("McdServerPort={value}: not a TCP port"))
                    })?;
                }
                "McdTimeoutMs" => {
                    let ms: u64 = value.parse().map_err(|_| {
                        Fail::new(err::PARAM, format!("McdTimeoutMs={value}: not a number"))
                    })?;
                    t.timeout = Duration::from_millis(ms.max(1));
                }
                _ => {}
            }
        }
        Ok(t)
    }
}

/// The `Key=value` pairs of a config string; a value may be quoted and hold blanks.
pub(crate) fn config_pairs(config: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = config.trim_start();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = rest[..end].to_string();
        rest = &rest[end..];
        let mut value = String::new();
        if let Some(r) = rest.strip_prefix('=') {
            if let Some(q) = r.strip_prefix('"') {
                let close = q.find('"').unwrap_or(q.len());
                value = q[..close].to_string();
                rest = q.get(close + 1..).unwrap_or("");
            } else {
                let close = r.find(char::is_whitespace).unwrap_or(r.len());
                value = r[..close].to_string();
                rest = &r[close..];
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
        rest = rest.trim_start();
    }
    out
}

/// A connected server.
#[derive(Debug)]
pub(crate) struct Connection {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
    line: String,
    /// Set after an I/O failure: the stream may be mid-reply, so it is not used again.
    broken: bool,
}

impl Connection {
    pub(crate) fn open(t: &Target) -> R<Connection> {
        let addrs: Vec<_> = (t.host.as_str(), t.port)
            .to_socket_addrs()
            .map_err(|e| Fail::new(err::CONNECTION, format!("{}: {e}", t.host)))?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, t.timeout) {
                Ok(s) => {
                    let io = |e: std::io::Error| Fail::new(err::CONNECTION, e.to_string());
                    s.set_nodelay(true).map_err(io)?;
                    s.set_read_timeout(Some(t.timeout)).map_err(io)?;
                    s.set_write_timeout(Some(t.timeout)).map_err(io)?;
                    let reader = BufReader::new(s.try_clone().map_err(io)?);
                    return Ok(Connection {
                        writer: s,
                        reader,
                        line: String::new(),
                        broken: false,
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Fail::new(
            err::CONNECTION,
            match last {
                Some(e) => format!("cannot connect to {}:{}: {e}", t.host, t.port),
                None => format!("{}: no address", t.host),
            },
        ))
    }

    /// Sends one command and returns the members of its `return` object. A failed command
    /// (`return-status` 3) becomes a [`Fail`] with the server's error code and text,
    /// fetched at once from `mcd-qry-error-info` under `error_uid`.
    pub(crate) fn call(&mut self, cmd: &str, args: Value, error_uid: u32) -> R<Map<String, Value>> {
        match self.call_full(cmd, args, error_uid)? {
            (m, None) => Ok(m),
            (_, Some(e)) => Err(e),
        }
    }

    /// Like [`Connection::call`], but a failed command's reply members are kept (a
    /// transaction list reports what it did before the failure).
    pub(crate) fn call_full(
        &mut self,
        cmd: &str,
        args: Value,
        error_uid: u32,
    ) -> R<(Map<String, Value>, Option<Fail>)> {
        let m = self.exchange(cmd, &args)?;
        match m.get("return-status").and_then(Value::as_u64).unwrap_or(0) {
            0 => Ok((m, None)),
            s if s == u64::from(ret::HANDLE_ERROR) => {
                let info =
                    self.exchange("mcd-qry-error-info", &json!({ "core-uid": error_uid }))?;
                let code = info
                    .get("error-code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(err::GENERAL);
                let text = info.get("error-str").and_then(Value::as_str).unwrap_or("");
                Ok((m, Some(Fail::new(code, format!("{cmd}: {text}")))))
            }
            s => Ok((
                m,
                Some(Fail::new(err::GENERAL, format!("{cmd}: return-status {s}"))),
            )),
        }
    }

    /// One request, one reply; no interpretation of `return-status`.
    fn exchange(&mut self, cmd: &str, args: &Value) -> R<Map<String, Value>> {
        if self.broken {
            return Err(Fail::new(
                err::CONNECTION,
                "the connection to the server failed earlier; close and open the server again",
            ));
        }
        let req = json!({ "execute": cmd, "arguments": args });
        let text = req.to_string();
        if let Err(e) = self.writer.write_all(text.as_bytes()) {
            return Err(self.io_fail(cmd, &e));
        }
        loop {
            self.line.clear();
            match (&mut self.reader).take(MAX_LINE).read_line(&mut self.line) {
                Ok(0) => {
                    self.broken = true;
                    return Err(Fail::new(
                        err::CONNECTION,
                        format!("{cmd}: the server closed the connection"),
                    ));
                }
                Ok(_) if !self.line.ends_with('\n') => {
                    self.broken = true;
                    return Err(Fail::new(err::CONNECTION, format!("{cmd}: reply too long")));
                }
                Ok(_) => {}
                Err(e) => return Err(self.io_fail(cmd, &e)),
            }
            let Ok(Value::Object(mut obj)) = serde_json::from_str::<Value>(&self.line) else {
                self.broken = true;
                return Err(Fail::new(
                    err::CONNECTION,
                    format!("{cmd}: the reply is not JSON"),
                ));
            };
            if let Some(Value::Object(m)) = obj.remove("return") {
                return Ok(m);
            }
            if let Some(e) = obj.get("error") {
                let class = e.get("class").and_then(Value::as_str).unwrap_or("");
                let desc = e.get("desc").and_then(Value::as_str).unwrap_or("");
                let code = if class == "CommandNotFound" {
                    err::FN_UNIMPLEMENTED
                } else {
                    err::GENERAL
                };
                return Err(Fail::new(code, format!("{cmd}: {class}: {desc}")));
            }
            // Anything else (a greeting, say) is not a reply: read on.
        }
    }

    fn io_fail(&mut self, cmd: &str, e: &std::io::Error) -> Fail {
        self.broken = true;
        let code = match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => err::TIMED_OUT,
            _ => err::CONNECTION,
        };
        Fail::new(code, format!("{cmd}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_strings_are_read_like_the_api_describes() {
        let t = Target::from_config(
            "McdHostName=\"127.0.0.1\"  McdServerPort=4242\tMcdExitIfLastClient=TRUE McdTimeoutMs=250",
        )
        .expect("valid");
        assert_eq!(t.host, "127.0.0.1");
        assert_eq!(t.port, 4242);
        assert_eq!(t.timeout, Duration::from_millis(250));
        assert_eq!(Target::from_config("").expect("empty"), Target::default());
        let pairs = config_pairs("A=\"x y\" B C=3");
        assert_eq!(
            pairs,
            vec![
                ("A".into(), "x y".into()),
                ("B".into(), String::new()),
                ("C".into(), "3".into())
            ]
        );
        let e = Target::from_config("McdServerPort=99999").expect_err("not a port");
        assert_eq!(e.code, err::PARAM);
        assert!(Target::from_config("McdServerPort=\"unterminated").is_err());
    }
}
