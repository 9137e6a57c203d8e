//! The interpreter never panics, whatever it runs: random code, random register state,
//! random trap vectors and page-table roots (the same property the cargo-fuzz target in
//! fuzz/ checks from arbitrary bytes).

mod common;

use common::*;
use emu_core::{Bus, PhysAddr};

use emu_isa::Xlen;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_code_never_panics(code in proptest::collection::vec(any::<u32>(), 64..512), regs in proptest::collection::vec(any::<u64>(), 32), rv32 in any::<bool>(), satp in any::<u64>(), tvec in 0u64..4096) {
        let xlen = if rv32 { Xlen::X32 } else { Xlen::X64 };
        let bus = test_bus();
        for (k, w) in code.iter().enumerate() {
            bus.write(PhysAddr(RAM_BASE + 4 * k as u64), 4, *w as u64).expect("in RAM");
        }
        let mut h = hart(xlen);
        for (r, v) in regs.iter().enumerate().skip(1) {
            // Half the registers point into RAM so loads and stores do something.
            h.x[r] = h.norm(if r % 2 == 0 { RAM_BASE + (v % 0x1_0000) } else { *v });
        }
        h.csr.mtvec = RAM_BASE + tvec * 4;
        h.csr.satp = satp;
        h.csr.pmpaddr[0] = u64::MAX;
        h.csr.pmpcfg[0] = 0x1f;
        for _ in 0..1000 {
            h.step(&bus);
            // Architectural invariants hold after every step.
            prop_assert_eq!(h.x[0], 0);
            prop_assert_eq!(h.pc & 1, 0);
            if rv32 {
                prop_assert!(h.pc <= u32::MAX as u64);
                prop_assert!(h.x.iter().all(|&v| v == v as u32 as i32 as i64 as u64), "RV32 registers stay sign-extended");
            }
        }
    }
}
