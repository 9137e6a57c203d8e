//! Memory spaces and blocks, registers, and transaction lists.

use emu_mcd_wire::{self as wire, access, err};
use serde_json::{Value, json};

use super::{count_in, fill, list_args};
use crate::abi::{self, McdReturn};
use crate::convert;
use crate::fail::Fail;
use crate::ffi;
use crate::state::core_entry;

/// `mcd_qry_mem_spaces_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_mem_spaces_f(
    core: *const abi::Core,
    start_index: u32,
    num_mem_spaces: *mut u32,
    mem_spaces: *mut abi::Memspace,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_mem_spaces, "num_mem_spaces")? };
        let args = list_args("num-mem-spaces", start_index, want);
        let m = c.call("mcd-qry-mem-spaces", Value::Object(args))?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-mem-spaces",
                "mem-spaces",
                num_mem_spaces,
                mem_spaces,
                convert::memspace,
            )
        }
    })
}

/// `mcd_qry_mem_blocks_f`: RAM, ROM and device regions of a memory space.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_mem_blocks_f(
    core: *const abi::Core,
    mem_space_id: u32,
    start_index: u32,
    num_mem_blocks: *mut u32,
    mem_blocks: *mut abi::Memblock,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_mem_blocks, "num_mem_blocks")? };
        let mut args = list_args("num-mem-blocks", start_index, want);
        args.insert("mem-space-id".into(), json!(mem_space_id));
        let m = c.call("mcd-qry-mem-blocks", Value::Object(args))?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-mem-blocks",
                "mem-blocks",
                num_mem_blocks,
                mem_blocks,
                convert::memblock,
            )
        }
    })
}

/// `mcd_qry_active_overlays_f`: emu has no overlays, so the count is 0.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_active_overlays_f(
    core: *const abi::Core,
    _start_index: u32,
    num_active_overlays: *mut u32,
    _active_overlays: *mut u32,
) -> McdReturn {
    core_entry(core, |_| {
        // SAFETY: the module's contract.
        unsafe { count_in(num_active_overlays, "num_active_overlays")? };
        // SAFETY: checked non-null by `count_in`.
        unsafe { num_active_overlays.write(0) };
        Ok(())
    })
}

/// `mcd_qry_reg_groups_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_reg_groups_f(
    core: *const abi::Core,
    start_index: u32,
    num_reg_groups: *mut u32,
    reg_groups: *mut abi::RegisterGroup,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_reg_groups, "num_reg_groups")? };
        let args = list_args("num-reg-groups", start_index, want);
        let m = c.call("mcd-qry-reg-groups", Value::Object(args))?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-reg-groups",
                "reg-groups",
                num_reg_groups,
                reg_groups,
                convert::reg_group,
            )
        }
    })
}

/// `mcd_qry_reg_map_f`.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_reg_map_f(
    core: *const abi::Core,
    reg_group_id: u32,
    start_index: u32,
    num_regs: *mut u32,
    reg_info: *mut abi::RegisterInfo,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let want = unsafe { count_in(num_regs, "num_regs")? };
        let mut args = list_args("num-regs", start_index, want);
        args.insert("reg-group-id".into(), json!(reg_group_id));
        let m = c.call("mcd-qry-reg-map", Value::Object(args))?;
        // SAFETY: the module's contract.
        unsafe {
            fill(
                &m,
                "num-regs",
                "reg-info",
                num_regs,
                reg_info,
                convert::reg_info,
            )
        }
    })
}

/// `mcd_qry_reg_compound_f`: every emu register is simple.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_qry_reg_compound_f(
    core: *const abi::Core,
    compound_reg_id: u32,
    _start_index: u32,
    _num_reg_ids: *mut u32,
    _reg_id_array: *mut u32,
) -> McdReturn {
    core_entry(core, |_| {
        Err(Fail::new(
            err::REG_NOT_COMPOUND,
            format!("register {compound_reg_id} is not a compound register (emu has none)"),
        ))
    })
}

/// `mcd_execute_txlist_f`: the list travels whole; read data, `num_bytes_ok` and
/// `num_tx_ok` come back into the caller's structures, also for the transactions done
/// before one that failed.
///
/// # Safety
/// See [the module's contract](crate::api).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcd_execute_txlist_f(
    core: *const abi::Core,
    txlist: *mut abi::TxList,
) -> McdReturn {
    core_entry(core, |c| {
        // SAFETY: the module's contract.
        let list = unsafe { ffi::opt_mut(txlist) }
            .ok_or_else(|| Fail::new(err::PARAM, "txlist is a null pointer"))?;
        list.num_tx_ok = 0;
        if list.num_tx as usize > wire::TX_NUM_MAX {
            return Err(Fail::new(
                err::TXLIST_TX,
                format!(
                    "{} transactions: at most {} in one list",
                    list.num_tx,
                    wire::TX_NUM_MAX
                ),
            ));
        }
        // SAFETY: `tx` holds `num_tx` transactions by the module's contract.
        let txs = unsafe { ffi::slice_mut(list.tx, list.num_tx as usize) }
            .ok_or_else(|| Fail::new(err::PARAM, "txlist.tx is a null pointer"))?;
        let mut out = Vec::with_capacity(txs.len());
        for (i, t) in txs.iter_mut().enumerate() {
            t.num_bytes_ok = 0;
            let n = t.num_bytes as usize;
            if n > 1 << 20 {
                return Err(Fail::new(
                    err::TXLIST_TX,
                    format!("transaction {i}: {n} bytes"),
                ));
            }
            // SAFETY: `data` holds `num_bytes` bytes by the module's contract.
            let data = unsafe { ffi::bytes(t.data, n) }.ok_or_else(|| {
                Fail::new(
                    err::PARAM,
                    format!("transaction {i}: data is a null pointer"),
                )
            })?;
            let writes = matches!(t.access_type, access::W | access::RW | access::WR);
            out.push(wire::Tx {
                addr: wire::Addr {
                    address: t.addr.address,
                    mem_space_id: t.addr.mem_space_id,
                    addr_space_id: t.addr.addr_space_id,
                    addr_space_type: t.addr.addr_space_type,
                },
                access_type: t.access_type,
                options: t.options,
                access_width: t.access_width,
                core_mode: t.core_mode,
                data: if writes { data.to_vec() } else { vec![0; n] },
                num_bytes: t.num_bytes,
                num_bytes_ok: 0,
            });
        }
        let request = wire::TxList {
            num_tx: list.num_tx,
            tx: out,
            num_tx_ok: 0,
        };
        let args = json!({ "txlist": request });
        let (m, failed) = c.call_full("mcd-execute-txlist", args)?;
        let Some(done) = m
            .get("txlist")
            .and_then(|v| serde_json::from_value::<wire::TxList>(v.clone()).ok())
        else {
            return Err(failed.unwrap_or_else(|| {
                Fail::new(err::TXLIST_TX, "the reply has no transaction list")
            }));
        };
        let ran = done.num_tx_ok.min(list.num_tx) as usize;
        for (t, d) in txs.iter_mut().zip(&done.tx).take(ran) {
            let n = (t.num_bytes as usize).min(d.data.len());
            if !matches!(t.access_type, access::W) && n > 0 {
                // SAFETY: `data` holds `num_bytes >= n` bytes by the module's contract.
                if let Some(dst) = unsafe { ffi::slice_mut(t.data, n) } {
                    dst.copy_from_slice(&d.data[..n]);
                }
            }
            t.num_bytes_ok = d.num_bytes_ok.min(t.num_bytes);
        }
        list.num_tx_ok = ran as u32;
        failed.map_or(Ok(()), Err)
    })
}
