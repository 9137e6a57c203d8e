//! Triggers and the trigger set.

use std::ffi::c_void;

use emu_mcd_wire::{err, trig_type};
use serde_json::{Value, json};

use super::{count_in, fill, list_args, put};
use crate::abi::{self, McdReturn};
use crate::convert;
use crate::fail::{Fail, R};
use crate::ffi;
use crate::state::core_entry;

/// `mcd_qry_trig_info_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_trig_info_f(
    core: *const abi::Core,
    trig_info: *mut abi::TrigInfo,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-trig-info", json!({}))?;
        let info = convert::trig_info(m.get("trig-info").unwrap_or(&Value::Null));
        // SAFETY: the module's contract.
        unsafe { put(trig_info, info, "trig_info") }
    })
}

/// `mcd_qry_ctrigs_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_ctrigs_f(
    core: *const abi::Core,
    start_index: u32,
    num_ctrigs: *mut u32,
    ctrig_info: *mut abi::CtrigInfo,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_ctrigs, "num_ctrigs")? };
        let m = c.call(
            "mcd-qry-ctrigs",
            Value::Object(list_args("num-ctrigs", start_index, want)),
        )?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-ctrigs",
                "ctrig-info",
                num_ctrigs,
                ctrig_info,
                convert::ctrig_info,
            )
        }
    })
}

/// Which trigger structure `trig` is, from its `struct_size` and `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Simple,
    Complex,
    Counter,
    TrigBus,
    Custom,
}

fn shape(head: &abi::TrigHead) -> R<Shape> {
    let size = head.struct_size as usize;
    let s = match head.kind {
        trig_type::COUNTER => Shape::Counter,
        trig_type::TRIG_BUS => Shape::TrigBus,
        trig_type::CUSTOM => Shape::Custom,
        _ if size == size_of::<abi::TrigComplexCore>() => Shape::Complex,
        _ => Shape::Simple,
    };
    let want = match s {
        Shape::Simple => size_of::<abi::TrigSimpleCore>(),
        Shape::Complex => size_of::<abi::TrigComplexCore>(),
        Shape::Counter => size_of::<abi::TrigCounter>(),
        Shape::TrigBus => size_of::<abi::TrigTrigBus>(),
        Shape::Custom => size_of::<abi::TrigCustom>(),
    };
    if size != want {
        return Err(Fail::new(
            err::PARAM,
            format!(
                "trigger type {:#x} with struct_size {size}: this structure has {want} bytes",
                head.kind
            ),
        ));
    }
    Ok(s)
}

/// `mcd_create_trig_f`: `trig` is a simple or complex core trigger, a counter or a custom
/// trigger (a trigger-bus trigger is sent too, and emu refuses it); if emu had to change
/// it, the accepted trigger is written back with `modified` set.
///
/// # Safety
/// See [the module's contract](crate::api); `trig` points to a trigger structure whose
/// `struct_size` is its size.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_create_trig_f(
    core: *const abi::Core,
    trig: *mut c_void,
    trig_id: *mut u32,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: every trigger structure starts with the head, by the contract.
        let head = unsafe { ffi::opt_ref(trig.cast::<abi::TrigHead>()) }
            .ok_or_else(|| Fail::new(err::PARAM, "trig is a null pointer"))?;
        if trig_id.is_null() {
            return Err(Fail::new(err::PARAM, "trig_id is a null pointer"));
        }
        let s = shape(head)?;
        // SAFETY: `shape` checked that `struct_size` is the size of the structure each
        // arm reads, and the contract makes `struct_size` bytes at `trig` valid.
        let body = unsafe {
            match s {
                Shape::Simple => convert::simple_json(&*trig.cast::<abi::TrigSimpleCore>()),
                Shape::Complex => convert::complex_json(&*trig.cast::<abi::TrigComplexCore>()),
                Shape::Counter => convert::counter_json(&*trig.cast::<abi::TrigCounter>()),
                Shape::TrigBus => convert::trig_bus_json(&*trig.cast::<abi::TrigTrigBus>()),
                Shape::Custom => convert::custom_json(&*trig.cast::<abi::TrigCustom>()),
            }
        };
        let m = c.call("mcd-create-trig", json!({ "trig": body }))?;
        let v = Value::Object(m);
        let id = convert::u32_of(&v, "trig-id");
        // SAFETY: checked non-null above; valid by the contract.
        unsafe { trig_id.write(id) };
        let accepted = v.get("trig").and_then(|t| {
            t.get("trig-simple-core")
                .or_else(|| t.get("trig-complex-core"))
                .or_else(|| t.get("trig-counter"))
                .or_else(|| t.get("trig-custom"))
        });
        if let Some(a) =
            accepted.filter(|a| a.get("modified").and_then(Value::as_bool) == Some(true))
        {
            // `a` has `modified` set, so the structure written back has too (for a
            // custom trigger, a mask of 0 comes back as the causes it stands for).
            let back = match s {
                Shape::Simple => Some(Accepted::Simple(convert::simple(a))),
                Shape::Complex => Some(Accepted::Complex(convert::complex(a))),
                Shape::Counter => Some(Accepted::Counter(convert::counter(a))),
                Shape::Custom => Some(Accepted::Custom(convert::custom(a))),
                Shape::TrigBus => None,
            };
            if let Some(b) = back {
                // SAFETY: `shape` made the structure the caller's (`struct_size` bytes),
                // and the contract makes it writable.
                unsafe { b.write_to(trig) };
            }
        }
        Ok(())
    })
}

/// A trigger structure as emu accepted it.
enum Accepted {
    Simple(abi::TrigSimpleCore),
    Complex(abi::TrigComplexCore),
    Counter(abi::TrigCounter),
    Custom(abi::TrigCustom),
}

impl Accepted {
    /// The size of its structure.
    fn size(&self) -> usize {
        match self {
            Accepted::Simple(_) => size_of::<abi::TrigSimpleCore>(),
            Accepted::Complex(_) => size_of::<abi::TrigComplexCore>(),
            Accepted::Counter(_) => size_of::<abi::TrigCounter>(),
            Accepted::Custom(_) => size_of::<abi::TrigCustom>(),
        }
    }

    /// Write the structure at `p`, which need not be aligned.
    ///
    /// # Safety
    /// `p` is valid for writes of [`Accepted::size`] bytes.
    unsafe fn write_to(self, p: *mut c_void) {
        // SAFETY: by this function's contract, for the structure of each arm.
        unsafe {
            match self {
                Accepted::Simple(t) => p.cast::<abi::TrigSimpleCore>().write_unaligned(t),
                Accepted::Complex(t) => p.cast::<abi::TrigComplexCore>().write_unaligned(t),
                Accepted::Counter(t) => p.cast::<abi::TrigCounter>().write_unaligned(t),
                Accepted::Custom(t) => p.cast::<abi::TrigCustom>().write_unaligned(t),
            }
        }
    }
}

/// `mcd_qry_trig_f`: the trigger as accepted, if `max_trig_size` holds its structure.
///
/// # Safety
/// See [the module's contract](crate::api); `trig` has room for `max_trig_size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_trig_f(
    core: *const abi::Core,
    trig_id: u32,
    max_trig_size: u32,
    trig: *mut c_void,
) -> McdReturn {
    core_entry(core, |c| {
        if trig.is_null() {
            return Err(Fail::new(err::PARAM, "trig is a null pointer"));
        }
        let m = c.call("mcd-qry-trig", json!({ "trig-id": trig_id }))?;
        let t = m.get("trig").unwrap_or(&Value::Null);
        let room = max_trig_size as usize;
        let got = if let Some(b) = t.get("trig-complex-core") {
            Accepted::Complex(convert::complex(b))
        } else if let Some(b) = t.get("trig-simple-core") {
            Accepted::Simple(convert::simple(b))
        } else if let Some(b) = t.get("trig-custom") {
            Accepted::Custom(convert::custom(b))
        } else if let Some(b) = t.get("trig-counter") {
            Accepted::Counter(convert::counter(b))
        } else {
            return Err(Fail::new(
                err::TRIG_ACCESS,
                format!("trigger {trig_id}: the reply has no trigger"),
            ));
        };
        let need = got.size();
        if room < need {
            return Err(Fail::new(
                err::RESULT_TOO_LONG,
                format!("trigger {trig_id} needs {need} bytes, max_trig_size is {room}"),
            ));
        }
        // SAFETY: `trig` has room for `max_trig_size >= need` bytes by the contract.
        unsafe { got.write_to(trig) };
        Ok(())
    })
}

/// `mcd_remove_trig_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_remove_trig_f(core: *const abi::Core, trig_id: u32) -> McdReturn {
    core_entry(core, |c| {
        c.call("mcd-remove-trig", json!({ "trig-id": trig_id }))
            .map(drop)
    })
}

/// `mcd_qry_trig_state_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_trig_state_f(
    core: *const abi::Core,
    trig_id: u32,
    trig_state: *mut abi::TrigState,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-trig-state", json!({ "trig-id": trig_id }))?;
        let st = convert::trig_state(m.get("trig-state").unwrap_or(&Value::Null));
        // SAFETY: the module's contract.
        unsafe { put(trig_state, st, "trig_state") }
    })
}

/// `mcd_activate_trig_set_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_activate_trig_set_f(core: *const abi::Core) -> McdReturn {
    core_entry(core, |c| {
        c.call("mcd-activate-trig-set", json!({})).map(drop)
    })
}

/// `mcd_remove_trig_set_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_remove_trig_set_f(core: *const abi::Core) -> McdReturn {
    core_entry(core, |c| c.call("mcd-remove-trig-set", json!({})).map(drop))
}

/// `mcd_qry_trig_set_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_trig_set_f(
    core: *const abi::Core,
    start_index: u32,
    num_trigs: *mut u32,
    trig_ids: *mut u32,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_trigs, "num_trigs")? };
        let m = c.call(
            "mcd-qry-trig-set",
            Value::Object(list_args("num-trigs", start_index, want)),
        )?;
        let id = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        // SAFETY: the module's contract.
        unsafe { fill(&m, "num-trigs", "trig-ids", num_trigs, trig_ids, id) }
    })
}

/// `mcd_qry_trig_set_state_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_trig_set_state_f(
    core: *const abi::Core,
    trig_state: *mut abi::TrigSetState,
) -> McdReturn {
    core_entry(core, |c| {
        let m = c.call("mcd-qry-trig-set-state", json!({}))?;
        let st = convert::trig_set_state(m.get("trig-state").unwrap_or(&Value::Null));
        // SAFETY: the module's contract.
        unsafe { put(trig_state, st, "trig_state") }
    })
}
