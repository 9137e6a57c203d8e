//! A command's `arguments`, read member by member with errors that name the member.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{McdError, Result};

/// The `arguments` object of one command (an absent one reads as empty).
pub(crate) struct Args<'a> {
    cmd: &'a str,
    v: Option<&'a serde_json::Map<String, Value>>,
}

impl<'a> Args<'a> {
    pub(crate) fn new(cmd: &'a str, v: Option<&'a Value>) -> Result<Args<'a>> {
        match v {
            None | Some(Value::Null) => Ok(Args { cmd, v: None }),
            Some(Value::Object(m)) => Ok(Args { cmd, v: Some(m) }),
            Some(_) => Err(McdError::param(format!(
                "{cmd}: arguments must be an object"
            ))),
        }
    }

    fn get(&self, name: &str) -> Result<&'a Value> {
        self.v
            .and_then(|m| m.get(name))
            .ok_or_else(|| McdError::param(format!("{}: missing member {name}", self.cmd)))
    }

    fn opt(&self, name: &str) -> Option<&'a Value> {
        self.v.and_then(|m| m.get(name)).filter(|v| !v.is_null())
    }

    pub(crate) fn u32(&self, name: &str) -> Result<u32> {
        let v = self.get(name)?;
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                McdError::param(format!(
                    "{}: {name} must be an unsigned 32-bit integer, not {}",
                    self.cmd,
                    short(v)
                ))
            })
    }

    /// An unsigned 32-bit member that may be left out.
    pub(crate) fn u32_or(&self, name: &str, default: u32) -> Result<u32> {
        match self.opt(name) {
            None => Ok(default),
            Some(_) => self.u32(name),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool> {
        self.get(name)?
            .as_bool()
            .ok_or_else(|| McdError::param(format!("{}: {name} must be a boolean", self.cmd)))
    }

    pub(crate) fn bool_or(&self, name: &str, default: bool) -> Result<bool> {
        match self.opt(name) {
            None => Ok(default),
            Some(_) => self.bool(name),
        }
    }

    pub(crate) fn string_or(&self, name: &str) -> Result<String> {
        match self.opt(name) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(McdError::param(format!(
                "{}: {name} must be a string",
                self.cmd
            ))),
        }
    }

    /// A structured member.
    pub(crate) fn parse<T: DeserializeOwned>(&self, name: &str) -> Result<T> {
        T::deserialize(self.get(name)?)
            .map_err(|e| McdError::param(format!("{}: {name}: {e}", self.cmd)))
    }
}

/// A value, shortened for an error message.
fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 40 {
        let mut end = 37;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}
