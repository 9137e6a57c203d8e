use super::one::compare;
use super::*;

const X64: Xlen = Xlen::X64;

fn ctx(prv: Priv) -> Context {
    Context {
        prv,
        debug_mode: false,
        sie: false,
        bp_delegated: false,
        asid: 0,
    }
}

/// mcontrol6 in tdata1 form: type 6, dmode, and the given low bits.
fn m6(dmode: bool, low: u64) -> u64 {
    6 << 60 | (dmode as u64) << 59 | low
}

const EXEC: u64 = 1 << 2;
const STORE: u64 = 1 << 1;
const LOAD: u64 = 1;
const M: u64 = 1 << 6;
const S: u64 = 1 << 4;
const U: u64 = 1 << 3;
const ACTION_DEBUG: u64 = 1 << 12;

fn armed(low: u64, tdata2: u64) -> Triggers {
    let mut t = Triggers::new(8);
    t.write_tdata(2, tdata2, X64, true);
    t.write_tdata1(m6(true, low), X64, true, true, true);
    t
}

fn exec(pc: u64) -> Event {
    Event::Execute {
        pc,
        len: 4,
        bits: Some(0x13),
    }
}

/// Every match type, against the spec's definitions (table: match, tdata2, value,
/// matches).
#[test]
fn match_types() {
    let rows: &[(u64, u64, u64, bool)] = &[
        (0, 0x1000, 0x1000, true),
        (0, 0x1000, 0x1004, false),
        (8, 0x1000, 0x1004, true),
        (8, 0x1000, 0x1000, false),
        // napot: bits above the lowest 0 of tdata2 are compared, so 0x1003 is the 8
        // bytes from 0x1000 and 0x1007 the 16 bytes from 0x1000.
        (1, 0x1003, 0x1000, true),
        (1, 0x1003, 0x1007, true),
        (1, 0x1003, 0x1008, false),
        (1, 0x1007, 0x100f, true),
        (1, 0x1007, 0x1010, false),
        (9, 0x1003, 0x1008, true),
        (2, 0x1000, 0x0fff, false),
        (2, 0x1000, 0x1000, true),
        (3, 0x1000, 0x0fff, true),
        (3, 0x1000, 0x1000, false),
        // mask low: low half & mask (high half of tdata2) == low half of tdata2.
        (4, 0x0000_00ff_0000_0012, 0xabcd_0000_1234_5612, true),
        (4, 0x0000_00ff_0000_0012, 0xabcd_0000_1234_5613, false),
        (12, 0x0000_00ff_0000_0012, 0xabcd_0000_1234_5613, true),
        // mask high: high half of the value, masked, against the low half of tdata2.
        (5, 0x0000_ffff_0000_abcd, 0x0000_abcd_0000_0000, true),
        (5, 0x0000_ffff_0000_abcd, 0x0000_abce_0000_0000, false),
        (13, 0x0000_ffff_0000_abcd, 0x0000_abce_0000_0000, true),
    ];
    for &(mtype, tdata2, value, want) in rows {
        assert_eq!(
            compare(mtype, tdata2, value, X64),
            want,
            "match {mtype} tdata2 {tdata2:#x} value {value:#x}"
        );
    }
}

#[test]
fn execute_breakpoint_fires_before_with_its_action() {
    let t = armed(EXEC | M | ACTION_DEBUG, 0x8000_0010);
    let f = t.check(&exec(0x8000_0010), &ctx(Priv::M), X64, false);
    assert!(f.debug && !f.breakpoint && f.hits == 1);
    assert!(
        t.check(&exec(0x8000_0014), &ctx(Priv::M), X64, false)
            .none()
    );
    // Not in U-mode (u = 0), never in Debug Mode.
    assert!(
        t.check(&exec(0x8000_0010), &ctx(Priv::U), X64, false)
            .none()
    );
    let mut dm = ctx(Priv::M);
    dm.debug_mode = true;
    assert!(t.check(&exec(0x8000_0010), &dm, X64, false).none());
}

#[test]
fn any_byte_of_an_access_matches_an_address() {
    let t = armed(STORE | M | ACTION_DEBUG, 0x1003);
    let st = |addr, size| Event::Store {
        addr,
        size,
        value: 0,
    };
    assert!(!t.check(&st(0x1000, 4), &ctx(Priv::M), X64, false).none());
    assert!(t.check(&st(0x1000, 2), &ctx(Priv::M), X64, false).none());
    // A load does not match a store trigger.
    let ld = Event::Load {
        addr: 0x1003,
        size: 1,
        value: None,
    };
    assert!(t.check(&ld, &ctx(Priv::M), X64, false).none());
}

#[test]
fn data_value_triggers() {
    // mcontrol6 select = 1 on loads: compared after the access, with the value.
    let t = armed(1 << 21 | LOAD | M | ACTION_DEBUG, 0x55);
    let ld = |value| Event::Load {
        addr: 0x2000,
        size: 1,
        value,
    };
    assert!(
        t.check(&ld(Some(0x55)), &ctx(Priv::M), X64, false).none(),
        "not before"
    );
    assert!(!t.check(&ld(Some(0x55)), &ctx(Priv::M), X64, true).none());
    assert!(t.check(&ld(Some(0x56)), &ctx(Priv::M), X64, true).none());
    // Compared at the access size: only the low byte of tdata2 counts.
    let t = armed(1 << 21 | LOAD | M | ACTION_DEBUG, 0xff55);
    assert!(!t.check(&ld(Some(0x55)), &ctx(Priv::M), X64, true).none());
}

#[test]
fn sizes_restrict_matches() {
    // size 3 = 32-bit: a compressed instruction does not match.
    let t = armed(3 << 16 | EXEC | M | ACTION_DEBUG, 0x100);
    let c = Event::Execute {
        pc: 0x100,
        len: 2,
        bits: Some(1),
    };
    assert!(t.check(&c, &ctx(Priv::M), X64, false).none());
    assert!(!t.check(&exec(0x100), &ctx(Priv::M), X64, false).none());
}

#[test]
fn chains_need_every_member() {
    let mut t = Triggers::new(8);
    // 0: store to >= 0x1000 (chain); 1: store to < 0x2000.
    t.write_tdata(2, 0x1000, X64, true);
    t.write_tdata1(
        m6(true, 1 << 11 | 2 << 7 | STORE | M | ACTION_DEBUG),
        X64,
        true,
        true,
        true,
    );
    t.write_select(1);
    t.write_tdata(2, 0x2000, X64, true);
    t.write_tdata1(
        m6(true, 3 << 7 | STORE | M | ACTION_DEBUG),
        X64,
        true,
        true,
        true,
    );
    let st = |addr| Event::Store {
        addr,
        size: 1,
        value: 0,
    };
    assert_eq!(t.check(&st(0x1800), &ctx(Priv::M), X64, false).hits, 1 << 1);
    assert!(t.check(&st(0x0800), &ctx(Priv::M), X64, false).none());
    assert!(t.check(&st(0x2800), &ctx(Priv::M), X64, false).none());
}

/// What chains can match: the members' addresses intersected and their kinds in common
/// (table: the triggers as (tdata1 low bits, tdata2), the covers expected).
#[test]
fn chain_covers_intersect_their_members() {
    const CHAIN: u64 = 1 << 11;
    const DATA: u64 = 1 << 21; // mcontrol6 select
    let ge = |v| (CHAIN | 2 << 7 | STORE | LOAD | M, v);
    let lt = |v| (3 << 7 | STORE | LOAD | M, v);
    let cover = |store, load, execute, lo, hi| Cover {
        execute,
        store,
        load,
        lo,
        hi,
    };
    type Row = (&'static str, Vec<(u64, u64)>, Vec<Cover>);
    let rows: Vec<Row> = vec![
        (
            "a range as ge/lt: the range, not everything",
            vec![ge(0x1000), lt(0x100c)],
            vec![cover(true, true, false, 0x1000, 0x100b)],
        ),
        (
            "an address and a data value: the address",
            vec![(CHAIN | STORE | M, 0x2000), (DATA | STORE | M, 7)],
            vec![cover(true, false, false, 0x2000, 0x2000)],
        ),
        (
            "kinds in common only: a store-only member makes the chain store-only",
            vec![(CHAIN | STORE | LOAD | M, 0x40), (STORE | M, 0x40)],
            vec![cover(true, false, false, 0x40, 0x40)],
        ),
        (
            "disjoint members: the chain never fires",
            vec![(CHAIN | STORE | M, 0x40), (STORE | M, 0x80)],
            vec![],
        ),
        (
            "no kind in common: never fires",
            vec![(CHAIN | STORE | M, 0x40), (LOAD | M, 0x40)],
            vec![],
        ),
        (
            "a disarmed member ends nothing but kills its chain; lone triggers stand alone",
            vec![(CHAIN | M, 0x40), (STORE | M, 0x40), (EXEC | M, 0x80)],
            vec![cover(false, false, true, 0x80, 0x80)],
        ),
        (
            "a chain open at the end never fires",
            vec![(EXEC | M, 0x80), (CHAIN | EXEC | M, 0x90)],
            vec![cover(false, false, true, 0x80, 0x80)],
        ),
        (
            "lt 0 matches nothing",
            vec![(CHAIN | 2 << 7 | LOAD | M, 0), (3 << 7 | LOAD | M, 0)],
            vec![],
        ),
    ];
    for (what, members, want) in rows {
        let mut t = Triggers::new(8);
        for (i, &(low, tdata2)) in members.iter().enumerate() {
            t.write_select(i as u64);
            t.write_tdata(2, tdata2, X64, true);
            t.write_tdata1(m6(true, low | ACTION_DEBUG), X64, true, true, true);
        }
        assert_eq!(t.chain_covers(X64), want, "{what}");
    }
}

#[test]
fn dmode_rules() {
    let mut t = Triggers::new(2);
    // Outside Debug Mode dmode cannot be set, and action 1 becomes 0.
    t.write_tdata1(m6(true, EXEC | M | ACTION_DEBUG), X64, false, true, true);
    assert_eq!(t.t[0].tdata1(X64), m6(false, EXEC | M));
    // A dmode trigger is read-only outside Debug Mode (tdata1..3).
    t.write_tdata1(m6(true, EXEC | M | ACTION_DEBUG), X64, true, true, true);
    let before = t.t[0];
    t.write_tdata1(0, X64, false, true, true);
    t.write_tdata(2, 0x1234, X64, false);
    assert_eq!(t.t[0], before);
    // Writing 0 from Debug Mode leaves a disabled mcontrol6.
    t.write_tdata1(0, X64, true, true, true);
    assert_eq!(t.t[0].tdata1(X64), 6 << 60);
    assert!(!t.any_armed());
}

#[test]
fn warl_fields() {
    let mut t = Triggers::new(2);
    // Reserved match 6 and size 7 read back as 0; uncertain and uncertainen stay 0; s
    // and u vanish on a hart without them.
    t.write_tdata1(
        m6(true, 1 << 26 | 7 << 16 | 6 << 7 | 1 << 5 | M | S | U | EXEC),
        X64,
        true,
        false,
        false,
    );
    assert_eq!(t.t[0].tdata1(X64), m6(true, M | EXEC));
    // mcontrol shows maskmax 63; RV32 layout puts type in 31:28.
    t.write_tdata1(2 << 28 | 1 << 27 | EXEC | M, Xlen::X32, true, true, true);
    assert_eq!(
        t.t[0].tdata1(Xlen::X32),
        2 << 28 | 1 << 27 | 63 << 21 | EXEC | M
    );
    // tselect beyond the last trigger keeps the old value.
    t.write_select(1);
    t.write_select(2);
    assert_eq!(t.select, 1);
}

#[test]
fn action0_reentrancy() {
    let mut t = armed(EXEC | M, 0x40);
    t.t[0].dmode = false;
    assert!(
        t.check(&exec(0x40), &ctx(Priv::M), X64, false).none(),
        "mte = 0"
    );
    t.tcontrol = MTE;
    let f = t.check(&exec(0x40), &ctx(Priv::M), X64, false);
    assert!(f.breakpoint && f.tval == 0x40);
    t.on_trap_to_m();
    assert_eq!(t.tcontrol, MPTE);
    t.on_mret();
    assert_eq!(t.tcontrol, MPTE | MTE);
}

#[test]
fn hits_are_recorded() {
    let mut t = armed(EXEC | M | ACTION_DEBUG, 0x40);
    let f = t.check(&exec(0x40), &ctx(Priv::M), X64, false);
    t.record_hits(&f, true);
    assert_eq!(t.t[0].tdata1(X64) >> 22 & 1, 1, "hit0 = 1: before");
}
