//! Between the protocol's JSON and the API's C structures. Replies are read leniently (a
//! missing member reads as zero or empty) but never trusted: strings are cut to their
//! arrays and numbers that do not fit read as zero.

use std::ffi::c_char;

use emu_mcd_wire as wire;
use serde_json::{Map, Value, json};

use crate::abi::{self, len};
use crate::ffi::{from_array, to_array};

pub(crate) fn u64_of(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

pub(crate) fn u32_of(v: &Value, k: &str) -> u32 {
    u32::try_from(u64_of(v, k)).unwrap_or(0)
}

fn u8_of(v: &Value, k: &str) -> u8 {
    u8::try_from(u64_of(v, k)).unwrap_or(0)
}

fn bool_of(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn arr<const N: usize>(s: &str) -> [c_char; N] {
    let mut a = [0; N];
    to_array(&mut a, s);
    a
}

pub(crate) fn con_info_to_json(c: &abi::CoreConInfo) -> Value {
    let w = wire::CoreConInfo {
        host: from_array(&c.host),
        server_port: c.server_port,
        server_key: from_array(&c.server_key),
        system_key: from_array(&c.system_key),
        device_key: from_array(&c.device_key),
        system: from_array(&c.system),
        system_instance: from_array(&c.system_instance),
        acc_hw: from_array(&c.acc_hw),
        device_type: c.device_type,
        device: from_array(&c.device),
        device_id: c.device_id,
        core: from_array(&c.core),
        core_type: c.core_type,
        core_id: c.core_id,
    };
    serde_json::to_value(w).unwrap_or(Value::Null)
}

pub(crate) fn con_info(v: &Value) -> abi::CoreConInfo {
    abi::CoreConInfo {
        host: arr::<{ len::HOSTNAME }>(str_of(v, "host")),
        server_port: u32_of(v, "server-port"),
        server_key: arr::<{ len::KEY }>(str_of(v, "server-key")),
        system_key: arr::<{ len::KEY }>(str_of(v, "system-key")),
        device_key: arr::<{ len::KEY }>(str_of(v, "device-key")),
        system: arr::<{ len::UNIQUE_NAME }>(str_of(v, "system")),
        system_instance: arr::<{ len::UNIQUE_NAME }>(str_of(v, "system-instance")),
        acc_hw: arr::<{ len::UNIQUE_NAME }>(str_of(v, "acc-hw")),
        device_type: u32_of(v, "device-type"),
        device: arr::<{ len::UNIQUE_NAME }>(str_of(v, "device")),
        device_id: u32_of(v, "device-id"),
        core: arr::<{ len::UNIQUE_NAME }>(str_of(v, "core")),
        core_type: u32_of(v, "core-type"),
        core_id: u32_of(v, "core-id"),
    }
}

pub(crate) fn server_info(v: &Value) -> abi::ServerInfo {
    abi::ServerInfo {
        server: arr::<{ len::UNIQUE_NAME }>(str_of(v, "server")),
        system_instance: arr::<{ len::UNIQUE_NAME }>(str_of(v, "system-instance")),
        acc_hw: arr::<{ len::UNIQUE_NAME }>(str_of(v, "acc-hw")),
    }
}

pub(crate) fn core_mode(v: &Value) -> abi::CoreModeInfo {
    abi::CoreModeInfo {
        core_mode: u8_of(v, "core-mode"),
        name: arr::<{ len::CORE_MODE_NAME }>(str_of(v, "name")),
    }
}

pub(crate) fn addr(v: &Value) -> abi::Addr {
    abi::Addr {
        address: u64_of(v, "address"),
        mem_space_id: u32_of(v, "mem-space-id"),
        addr_space_id: u32_of(v, "addr-space-id"),
        addr_space_type: u32_of(v, "addr-space-type"),
    }
}

pub(crate) fn addr_to_json(a: &abi::Addr) -> Value {
    json!({
        "address": a.address, "mem-space-id": a.mem_space_id,
        "addr-space-id": a.addr_space_id, "addr-space-type": a.addr_space_type,
    })
}

pub(crate) fn memspace(v: &Value) -> abi::Memspace {
    abi::Memspace {
        mem_space_id: u32_of(v, "mem-space-id"),
        mem_space_name: arr::<{ len::MEM_SPACE_NAME }>(str_of(v, "mem-space-name")),
        mem_type: u32_of(v, "mem-type"),
        bits_per_mau: u32_of(v, "bits-per-mau"),
        invariance: u8_of(v, "invariance"),
        endian: u32_of(v, "endian"),
        min_addr: u64_of(v, "min-addr"),
        max_addr: u64_of(v, "max-addr"),
        num_mem_blocks: u32_of(v, "num-mem-blocks"),
        supported_access_options: u32_of(v, "supported-access-options"),
        core_mode_mask_read: u32_of(v, "core-mode-mask-read"),
        core_mode_mask_write: u32_of(v, "core-mode-mask-write"),
    }
}

pub(crate) fn memblock(v: &Value) -> abi::Memblock {
    let mut au = [0u32; len::MEM_AUSIZE_NUM];
    if let Some(a) = v.get("supported-au-sizes").and_then(Value::as_array) {
        for (d, s) in au.iter_mut().zip(a) {
            *d = s.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        }
    }
    abi::Memblock {
        mem_block_id: u32_of(v, "mem-block-id"),
        mem_block_name: arr::<{ len::MEM_BLOCK_NAME }>(str_of(v, "mem-block-name")),
        has_children: bool_of(v, "has-children"),
        parent_id: u32_of(v, "parent-id"),
        start_addr: u64_of(v, "start-addr"),
        end_addr: u64_of(v, "end-addr"),
        endian: u32_of(v, "endian"),
        supported_au_sizes: au,
        supported_access_options: u32_of(v, "supported-access-options"),
        core_mode_mask_read: u32_of(v, "core-mode-mask-read"),
        core_mode_mask_write: u32_of(v, "core-mode-mask-write"),
    }
}

pub(crate) fn reg_group(v: &Value) -> abi::RegisterGroup {
    abi::RegisterGroup {
        reg_group_id: u32_of(v, "reg-group-id"),
        reg_group_name: arr::<{ len::REG_NAME }>(str_of(v, "reg-group-name")),
        n_registers: u32_of(v, "n-registers"),
    }
}

pub(crate) fn reg_info(v: &Value) -> abi::RegisterInfo {
    abi::RegisterInfo {
        addr: addr(v.get("addr").unwrap_or(&Value::Null)),
        reg_group_id: u32_of(v, "reg-group-id"),
        regname: arr::<{ len::REG_NAME }>(str_of(v, "regname")),
        regsize: u32_of(v, "regsize"),
        core_mode_mask_read: u32_of(v, "core-mode-mask-read"),
        core_mode_mask_write: u32_of(v, "core-mode-mask-write"),
        has_side_effects_read: bool_of(v, "side-effects-read"),
        has_side_effects_write: bool_of(v, "side-effects-write"),
        reg_type: u32_of(v, "reg-type"),
        hw_thread_id: u32_of(v, "hw-thread-id"),
    }
}

pub(crate) fn trig_info(v: &Value) -> abi::TrigInfo {
    abi::TrigInfo {
        kind: u32_of(v, "type"),
        option: u32_of(v, "option"),
        action: u32_of(v, "action"),
        trig_number: u32_of(v, "trig-number"),
        state_number: u32_of(v, "state-number"),
        counter_number: u32_of(v, "counter-number"),
        sw_breakpoints: bool_of(v, "sw-breakpoints"),
    }
}

pub(crate) fn ctrig_info(v: &Value) -> abi::CtrigInfo {
    abi::CtrigInfo {
        ctrig_id: u32_of(v, "ctrig-id"),
        info_str: arr::<{ len::INFO_STR }>(str_of(v, "info-str")),
    }
}

pub(crate) fn trig_state(v: &Value) -> abi::TrigState {
    abi::TrigState {
        active: bool_of(v, "active"),
        captured: bool_of(v, "captured"),
        captured_valid: bool_of(v, "captured-valid"),
        count_value: u64_of(v, "count-value"),
        count_valid: bool_of(v, "count-valid"),
    }
}

pub(crate) fn trig_set_state(v: &Value) -> abi::TrigSetState {
    abi::TrigSetState {
        active: bool_of(v, "active"),
        state: u32_of(v, "state"),
        state_valid: bool_of(v, "state-valid"),
        trig_bus: u32_of(v, "trig-bus"),
        trig_bus_valid: bool_of(v, "trig-bus-valid"),
        trace: bool_of(v, "trace"),
        trace_valid: bool_of(v, "trace-valid"),
        analysis: bool_of(v, "analysis"),
        analysis_valid: bool_of(v, "analysis-valid"),
    }
}

pub(crate) fn core_state(v: &Value) -> abi::CoreState {
    abi::CoreState {
        state: u32_of(v, "state"),
        event: u32_of(v, "event"),
        hw_thread_id: u32_of(v, "hw-thread-id"),
        trig_id: u32_of(v, "trig-id"),
        stop_str: arr::<{ len::INFO_STR }>(str_of(v, "stop-str")),
        info_str: arr::<{ len::INFO_STR }>(str_of(v, "info-str")),
    }
}

pub(crate) fn rst_info(v: &Value) -> abi::RstInfo {
    abi::RstInfo {
        class_vector: u32_of(v, "class-vector"),
        info_str: arr::<{ len::INFO_STR }>(str_of(v, "info-str")),
    }
}

pub(crate) fn error_info(status: u32, code: u32, text: &str) -> abi::ErrorInfo {
    abi::ErrorInfo {
        return_status: status,
        error_code: code,
        error_events: 0,
        error_str: arr::<{ len::INFO_STR }>(text),
    }
}

pub(crate) fn impl_info() -> abi::ImplVersionInfo {
    let mut v = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse::<u16>().unwrap_or(0));
    abi::ImplVersionInfo {
        v_api: abi::ApiVersion {
            v_api_major: 1,
            v_api_minor: 1,
            author: arr::<{ len::VENDOR }>("emu"),
        },
        v_imp_major: v.next().unwrap_or(0),
        v_imp_minor: v.next().unwrap_or(0),
        v_imp_build: v.next().unwrap_or(0),
        vendor: arr::<{ len::VENDOR }>("emu"),
        date: arr::<16>("2026-11-21"),
    }
}

/// The head members of a trigger as JSON.
fn head_json(h: &abi::TrigHead) -> Map<String, Value> {
    let v = json!({
        "type": h.kind, "option": h.option, "action": h.action,
        "action-param": h.action_param, "modified": h.modified, "state-mask": h.state_mask,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(crate) fn simple_json(t: &abi::TrigSimpleCore) -> Value {
    let mut m = head_json(&t.head);
    m.insert("addr-start".into(), addr_to_json(&t.addr_start));
    m.insert("addr-range".into(), json!(t.addr_range));
    json!({ "trig-simple-core": m })
}

pub(crate) fn complex_json(t: &abi::TrigComplexCore) -> Value {
    let mut m = head_json(&t.head);
    m.insert("addr-start".into(), addr_to_json(&t.addr_start));
    for (k, v) in [
        ("addr-range", json!(t.addr_range)),
        ("data-start", json!(t.data_start)),
        ("data-range", json!(t.data_range)),
        ("data-mask", json!(t.data_mask)),
        ("data-size", json!(t.data_size)),
        ("hw-thread-id", json!(t.hw_thread_id)),
        ("sw-thread-id", json!(t.sw_thread_id)),
        ("core-mode-mask", json!(t.core_mode_mask)),
    ] {
        m.insert(k.into(), v);
    }
    json!({ "trig-complex-core": m })
}

pub(crate) fn counter_json(t: &abi::TrigCounter) -> Value {
    let mut m = head_json(&t.head);
    m.insert("count-value".into(), json!(t.count_value));
    m.insert("reload-value".into(), json!(t.reload_value));
    json!({ "trig-counter": m })
}

pub(crate) fn trig_bus_json(t: &abi::TrigTrigBus) -> Value {
    let mut m = head_json(&t.head);
    m.insert("trig-bus-value".into(), json!(t.trig_bus_value));
    m.insert("trig-bus-mask".into(), json!(t.trig_bus_mask));
    json!({ "trig-trig-bus": m })
}

pub(crate) fn custom_json(t: &abi::TrigCustom) -> Value {
    let mut m = head_json(&t.head);
    m.insert("ctrig-id".into(), json!(t.ctrig_id));
    m.insert("ctrig-args".into(), json!(t.ctrig_args));
    json!({ "trig-custom": m })
}

pub(crate) fn head(v: &Value, struct_size: usize) -> abi::TrigHead {
    abi::TrigHead {
        struct_size: u32::try_from(struct_size).unwrap_or(0),
        kind: u32_of(v, "type"),
        option: u32_of(v, "option"),
        action: u32_of(v, "action"),
        action_param: u32_of(v, "action-param"),
        modified: bool_of(v, "modified"),
        state_mask: u32_of(v, "state-mask"),
    }
}

pub(crate) fn simple(v: &Value) -> abi::TrigSimpleCore {
    abi::TrigSimpleCore {
        head: head(v, size_of::<abi::TrigSimpleCore>()),
        addr_start: addr(v.get("addr-start").unwrap_or(&Value::Null)),
        addr_range: u64_of(v, "addr-range"),
    }
}

pub(crate) fn complex(v: &Value) -> abi::TrigComplexCore {
    abi::TrigComplexCore {
        head: head(v, size_of::<abi::TrigComplexCore>()),
        addr_start: addr(v.get("addr-start").unwrap_or(&Value::Null)),
        addr_range: u64_of(v, "addr-range"),
        data_start: u64_of(v, "data-start"),
        data_range: u64_of(v, "data-range"),
        data_mask: u64_of(v, "data-mask"),
        data_size: u32_of(v, "data-size"),
        hw_thread_id: u32_of(v, "hw-thread-id"),
        sw_thread_id: u64_of(v, "sw-thread-id"),
        core_mode_mask: u32_of(v, "core-mode-mask"),
    }
}

pub(crate) fn custom(v: &Value) -> abi::TrigCustom {
    let args = v.get("ctrig-args").and_then(Value::as_array);
    let arg = |i: usize| {
        args.and_then(|a| a.get(i))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    };
    abi::TrigCustom {
        head: head(v, size_of::<abi::TrigCustom>()),
        ctrig_id: u32_of(v, "ctrig-id"),
        ctrig_args: [arg(0), arg(1), arg(2), arg(3)],
    }
}

pub(crate) fn counter(v: &Value) -> abi::TrigCounter {
    abi::TrigCounter {
        head: head(v, size_of::<abi::TrigCounter>()),
        count_value: u64_of(v, "count-value"),
        reload_value: u64_of(v, "reload-value"),
    }
}
