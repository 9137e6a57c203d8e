//! The reply line of a transaction list, written quickly. A 4 KiB read answers 4096
//! numbers; serde writes them one formatted call at a time, so the list is serialized with
//! its data left empty and the numbers are written into those places from a table.

use serde::Serialize;
use serde_json::Value;

use crate::wire::TxList;

/// What `"data":[]` looks like in serde_json's compact output.
const EMPTY_DATA: &str = "\"data\":[]";

#[derive(Serialize)]
struct Return<'a> {
    #[serde(rename = "return")]
    ret: TxlistReturn<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Value>,
}

#[derive(Serialize)]
struct TxlistReturn<'a> {
    txlist: &'a TxList,
    #[serde(rename = "return-status")]
    status: u32,
}

/// `{"return":{"txlist":..., "return-status":status}, "id":...}` for `list`.
pub fn txlist_line(mut list: TxList, status: u32, id: Option<Value>) -> serde_json::Result<String> {
    // The list is written with its data taken out; the data goes into those places.
    let data: Vec<Vec<u8>> = list
        .tx
        .iter_mut()
        .map(|t| std::mem::take(&mut t.data))
        .collect();
    let text = serde_json::to_string(&Return {
        ret: TxlistReturn {
            txlist: &list,
            status,
        },
        id,
    })?;
    let size: usize = data.iter().map(|d| d.len() * 4).sum();
    let mut out = String::with_capacity(text.len() + size);
    // The transactions come first, in order, and nothing before them holds a string
    // (addresses are numbers; `id`, which may, is written last): the first places that
    // read `"data":[]` are theirs, one each.
    let mut rest = text.as_str();
    for d in &data {
        let Some(at) = rest.find(EMPTY_DATA) else {
            break;
        };
        let open = at + EMPTY_DATA.len() - 1;
        out.push_str(&rest[..open]);
        push_numbers(&mut out, d);
        rest = &rest[open..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `a,b,c` for the bytes `[a, b, c]`.
fn push_numbers(out: &mut String, data: &[u8]) {
    for (i, &b) in data.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if b >= 100 {
            out.push(char::from(b'0' + b / 100));
        }
        if b >= 10 {
            out.push(char::from(b'0' + b / 10 % 10));
        }
        out.push(char::from(b'0' + b % 10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Addr, Tx};
    use serde_json::json;

    fn tx(address: u64, data: Vec<u8>) -> Tx {
        Tx {
            addr: Addr {
                address,
                mem_space_id: 2,
                addr_space_id: 0,
                addr_space_type: 0,
            },
            access_type: 1,
            options: 0,
            access_width: 4,
            core_mode: 0,
            num_bytes: data.len() as u32,
            num_bytes_ok: data.len() as u32,
            data,
        }
    }

    #[test]
    fn the_same_json_as_serde_writes() {
        let all: Vec<u8> = (0..=255).collect();
        let cases = [
            (vec![tx(0x8000_0000, all.clone())], None),
            (
                vec![
                    tx(1, vec![]),
                    tx(2, vec![0, 9, 10, 99, 100, 255]),
                    tx(3, vec![7]),
                ],
                Some(json!({"data": [], "x": "\"data\":[]"})),
            ),
            (vec![], Some(json!("\"data\":[]"))),
        ];
        for (txs, id) in cases {
            let list = TxList {
                num_tx: txs.len() as u32,
                num_tx_ok: 1,
                tx: txs,
            };
            let fast = txlist_line(list.clone(), 3, id.clone()).unwrap_or_default();
            let plain = serde_json::to_string(&Return {
                ret: TxlistReturn {
                    txlist: &list,
                    status: 3,
                },
                id,
            })
            .unwrap_or_default();
            assert_eq!(fast, plain);
        }
    }
}
