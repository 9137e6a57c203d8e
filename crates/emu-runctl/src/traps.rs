//! Trap cause codes by name (the privileged architecture's `mcause` table), for trap
//! catches ([`crate::RunControl::add_trap_catch`]) and the debugger's `catch` commands.

use crate::types::TrapKind;

/// A trap cause: its code, the name the `catch` commands take, and what it is.
pub type Cause = (u8, &'static str, &'static str);

/// Exception codes.
pub const EXCEPTIONS: &[Cause] = &[
    (0, "misaligned-fetch", "instruction address misaligned"),
    (1, "fetch-fault", "instruction access fault"),
    (2, "illegal", "illegal instruction"),
    (3, "breakpoint", "breakpoint"),
    (4, "misaligned-load", "load address misaligned"),
    (5, "load-fault", "load access fault"),
    (6, "misaligned-store", "store/AMO address misaligned"),
    (7, "store-fault", "store/AMO access fault"),
    (8, "ecall-u", "environment call from U-mode"),
    (9, "ecall-s", "environment call from S-mode"),
    (10, "ecall-vs", "environment call from VS-mode"),
    (11, "ecall-m", "environment call from M-mode"),
    (12, "fetch-page-fault", "instruction page fault"),
    (13, "load-page-fault", "load page fault"),
    (15, "store-page-fault", "store/AMO page fault"),
    (18, "software-check", "software check"),
    (19, "hardware-error", "hardware error"),
    (20, "fetch-guest-page-fault", "instruction guest-page fault"),
    (21, "load-guest-page-fault", "load guest-page fault"),
    (22, "virtual-instruction", "virtual instruction"),
    (23, "store-guest-page-fault", "store/AMO guest-page fault"),
];

/// Interrupt codes.
pub const INTERRUPTS: &[Cause] = &[
    (1, "ssi", "supervisor software interrupt"),
    (2, "vssi", "virtual supervisor software interrupt"),
    (3, "msi", "machine software interrupt"),
    (5, "sti", "supervisor timer interrupt"),
    (6, "vsti", "virtual supervisor timer interrupt"),
    (7, "mti", "machine timer interrupt"),
    (9, "sei", "supervisor external interrupt"),
    (10, "vsei", "virtual supervisor external interrupt"),
    (11, "mei", "machine external interrupt"),
    (12, "sgei", "supervisor guest external interrupt"),
    (13, "lcofi", "counter overflow interrupt"),
];

/// What `catch exception` with no cause stops on: the faults (misaligned accesses, access
/// and page faults, illegal instructions), not the calls and breakpoints programs make on
/// purpose.
pub const FAULTS: u64 =
    1 << 0 | 1 << 1 | 1 << 2 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 12 | 1 << 13 | 1 << 15;

/// The table of `kind`'s causes.
pub fn table(kind: TrapKind) -> &'static [Cause] {
    match kind {
        TrapKind::Exception => EXCEPTIONS,
        TrapKind::Interrupt => INTERRUPTS,
    }
}

/// Every cause of `kind` in the table, as a mask.
pub fn all(kind: TrapKind) -> u64 {
    table(kind).iter().fold(0, |m, &(c, _, _)| m | 1 << c)
}

/// The mask for the causes named in `words` (names from the table, or codes 0-63 in
/// decimal or `0x` hex; `all` for every one in the table).
pub fn parse(kind: TrapKind, words: &[&str]) -> Result<u64, String> {
    let mut mask = 0u64;
    for w in words {
        if *w == "all" {
            mask |= all(kind);
            continue;
        }
        let code = match table(kind).iter().find(|(_, name, _)| name == w) {
            Some(&(c, _, _)) => u32::from(c),
            None => {
                let n = match w.strip_prefix("0x") {
                    Some(h) => u32::from_str_radix(h, 16),
                    None => w.parse(),
                };
                n.ok().filter(|&n| n < 64).ok_or_else(|| {
                    let names: Vec<&str> = table(kind).iter().map(|c| c.1).collect();
                    format!(
                        "no {} cause {w:?}: a code 0-63, all, or one of {}",
                        noun(kind),
                        names.join(", ")
                    )
                })?
            }
        };
        mask |= 1 << code;
    }
    Ok(mask)
}

/// The causes in `mask`, by name where the table has one (`illegal (2), 24`).
pub fn describe(kind: TrapKind, mask: u64) -> String {
    (0..64u8)
        .filter(|c| mask >> c & 1 != 0)
        .map(|c| match table(kind).iter().find(|e| e.0 == c) {
            Some((_, name, _)) => format!("{name} ({c})"),
            None => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `kind`'s causes are called: "exception" or "interrupt".
pub fn noun(kind: TrapKind) -> &'static str {
    match kind {
        TrapKind::Exception => "exception",
        TrapKind::Interrupt => "interrupt",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_parse_to_masks() {
        let e = TrapKind::Exception;
        let i = TrapKind::Interrupt;
        let table: &[(TrapKind, &[&str], Result<u64, ()>)] = &[
            (e, &["illegal"], Ok(1 << 2)),
            (e, &["2"], Ok(1 << 2)),
            (e, &["0x2", "load-fault"], Ok(1 << 2 | 1 << 5)),
            (e, &["63"], Ok(1 << 63)),
            (e, &["64"], Err(())),
            (e, &["ilegal"], Err(())),
            (e, &["mti"], Err(())),
            (e, &[], Ok(0)),
            (i, &["mti", "msi"], Ok(1 << 7 | 1 << 3)),
            (i, &["illegal"], Err(())),
        ];
        for (kind, words, want) in table {
            assert_eq!(parse(*kind, words).map_err(|_| ()), *want, "{words:?}");
        }
        assert_eq!(parse(e, &["all"]), Ok(all(e)));
        assert_eq!(all(e) & FAULTS, FAULTS, "the faults are all exceptions");
        assert_eq!(all(e).count_ones() as usize, EXCEPTIONS.len());
        assert!(parse(e, &["x"]).is_err_and(|m| m.contains("illegal, breakpoint")));
    }

    #[test]
    fn masks_read_back_by_name() {
        assert_eq!(
            describe(TrapKind::Exception, 1 << 2 | 1 << 13 | 1 << 40),
            "illegal (2), load-page-fault (13), 40"
        );
        assert_eq!(describe(TrapKind::Interrupt, 1 << 7), "mti (7)");
    }
}
