//! Pure integer operations of the register-register and register-immediate instructions
//! (base, M, Zba, Zbb, Zbc, Zbs, Zbkb, Zbkx, Zicond). Inputs are register values as the hart
//! holds them (sign-extended on RV32); the caller normalises the result.

use emu_isa::{Op, Xlen};

fn sh(xlen: Xlen, b: u64) -> u32 {
    (b & (xlen.bits() as u64 - 1)) as u32
}

fn sext32(v: u64) -> u64 {
    v as u32 as i32 as i64 as u64
}

fn clmul_full(a: u64, b: u64) -> u128 {
    let mut r = 0u128;
    for i in 0..64 {
        if b >> i & 1 != 0 {
            r ^= (a as u128) << i;
        }
    }
    r
}

fn brev8(v: u64) -> u64 {
    let mut r = 0;
    for byte in 0..8 {
        let b = ((v >> (8 * byte)) & 0xff) as u8;
        r |= (b.reverse_bits() as u64) << (8 * byte);
    }
    r
}

fn xperm(a: u64, b: u64, bits: u32, xlen: Xlen) -> u64 {
    let n = xlen.bits() / bits;
    let mask = (1u64 << bits) - 1;
    let mut r = 0;
    for i in 0..n {
        let idx = (b >> (i * bits)) & mask;
        if idx < n as u64 {
            r |= ((a >> (idx as u32 * bits)) & mask) << (i * bits);
        }
    }
    r
}

/// Result of integer operation `op` on `a` and `b` (b is rs2 or the immediate). Returns
/// `None` for operations that are not pure ALU operations.
pub fn alu(op: Op, a: u64, b: u64, xlen: Xlen) -> Option<u64> {
    use Op::*;
    let rv32 = xlen == Xlen::X32;
    // Unsigned view of an XLEN-bit value.
    let u = |v: u64| if rv32 { v as u32 as u64 } else { v };
    Some(match op {
        Add | Addi => a.wrapping_add(b),
        Sub => a.wrapping_sub(b),
        Sll | Slli => a << sh(xlen, b),
        Slt | Slti => ((a as i64) < (b as i64)) as u64,
        Sltu | Sltiu => (a < b) as u64,
        Xor | Xori => a ^ b,
        Or | Ori => a | b,
        And | Andi => a & b,
        Srl | Srli => u(a) >> sh(xlen, b),
        Sra | Srai => ((a as i64) >> sh(xlen, b)) as u64,
        Addw | Addiw => sext32(a.wrapping_add(b)),
        Subw => sext32(a.wrapping_sub(b)),
        Sllw | Slliw => sext32((a as u32 as u64) << (b & 31)),
        Srlw | Srliw => sext32(((a as u32) >> (b & 31)) as u64),
        Sraw | Sraiw => ((a as i32) >> (b & 31)) as i64 as u64,
        Mul => a.wrapping_mul(b),
        Mulh => {
            if rv32 {
                ((a as i64 * b as i64) >> 32) as u64
            } else {
                ((a as i64 as i128 * b as i64 as i128) >> 64) as u64
            }
        }
        Mulhu => {
            if rv32 {
                (u(a) * u(b)) >> 32
            } else {
                ((a as u128 * b as u128) >> 64) as u64
            }
        }
        Mulhsu => {
            if rv32 {
                ((a as i64).wrapping_mul(u(b) as i64) >> 32) as u64
            } else {
                ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64
            }
        }
        Div => {
            let (x, y) = (a as i64, b as i64);
            if y == 0 {
                u64::MAX
            } else if rv32 {
                (x as i32).wrapping_div(y as i32) as i64 as u64
            } else {
                x.wrapping_div(y) as u64
            }
        }
        Divu => {
            if b == 0 {
                u64::MAX
            } else {
                u(a) / u(b)
            }
        }
        Rem => {
            let (x, y) = (a as i64, b as i64);
            if y == 0 {
                a
            } else if rv32 {
                (x as i32).wrapping_rem(y as i32) as i64 as u64
            } else {
                x.wrapping_rem(y) as u64
            }
        }
        Remu => {
            if u(b) == 0 {
                a
            } else {
                u(a) % u(b)
            }
        }
        Mulw => sext32(a.wrapping_mul(b)),
        Divw => {
            let (x, y) = (a as i32, b as i32);
            if y == 0 {
                u64::MAX
            } else {
                x.wrapping_div(y) as i64 as u64
            }
        }
        Divuw => (a as u32)
            .checked_div(b as u32)
            .map_or(u64::MAX, |q| sext32(q as u64)),
        Remw => {
            let (x, y) = (a as i32, b as i32);
            if y == 0 {
                sext32(a)
            } else {
                x.wrapping_rem(y) as i64 as u64
            }
        }
        Remuw => {
            let (x, y) = (a as u32, b as u32);
            if y == 0 {
                sext32(a)
            } else {
                sext32((x % y) as u64)
            }
        }
        Sh1add => a.wrapping_shl(1).wrapping_add(b),
        Sh2add => a.wrapping_shl(2).wrapping_add(b),
        Sh3add => a.wrapping_shl(3).wrapping_add(b),
        AddUw => (a as u32 as u64).wrapping_add(b),
        Sh1addUw => ((a as u32 as u64) << 1).wrapping_add(b),
        Sh2addUw => ((a as u32 as u64) << 2).wrapping_add(b),
        Sh3addUw => ((a as u32 as u64) << 3).wrapping_add(b),
        SlliUw => (a as u32 as u64) << (b & 63),
        Andn => a & !b,
        Orn => a | !b,
        Xnor => !(a ^ b),
        Clz => {
            if rv32 {
                (a as u32).leading_zeros() as u64
            } else {
                a.leading_zeros() as u64
            }
        }
        Ctz => {
            if rv32 {
                (a as u32).trailing_zeros() as u64
            } else {
                a.trailing_zeros() as u64
            }
        }
        Cpop => u(a).count_ones() as u64,
        Clzw => (a as u32).leading_zeros() as u64,
        Ctzw => (a as u32).trailing_zeros() as u64,
        Cpopw => (a as u32).count_ones() as u64,
        Max => (a as i64).max(b as i64) as u64,
        Min => (a as i64).min(b as i64) as u64,
        Maxu => a.max(b),
        Minu => a.min(b),
        SextB => a as i8 as i64 as u64,
        SextH => a as i16 as i64 as u64,
        ZextH => a & 0xffff,
        Rol => {
            if rv32 {
                (a as u32).rotate_left(b as u32 & 31) as u64
            } else {
                a.rotate_left(b as u32 & 63)
            }
        }
        Ror | Rori => {
            if rv32 {
                (a as u32).rotate_right(b as u32 & 31) as u64
            } else {
                a.rotate_right(b as u32 & 63)
            }
        }
        Rolw => sext32((a as u32).rotate_left(b as u32 & 31) as u64),
        Rorw | Roriw => sext32((a as u32).rotate_right(b as u32 & 31) as u64),
        OrcB => {
            let mut r = 0;
            for i in 0..8 {
                if (a >> (8 * i)) & 0xff != 0 {
                    r |= 0xff << (8 * i);
                }
            }
            r
        }
        Rev8 => {
            if rv32 {
                (a as u32).swap_bytes() as u64
            } else {
                a.swap_bytes()
            }
        }
        Clmul => clmul_full(u(a), u(b)) as u64,
        Clmulh => {
            if rv32 {
                (clmul_full(u(a), u(b)) >> 32) as u64
            } else {
                (clmul_full(a, b) >> 64) as u64
            }
        }
        Clmulr => {
            if rv32 {
                (clmul_full(u(a), u(b)) >> 31) as u64
            } else {
                (clmul_full(a, b) >> 63) as u64
            }
        }
        Bclr | Bclri => a & !(1 << sh(xlen, b)),
        Bext | Bexti => (a >> sh(xlen, b)) & 1,
        Binv | Binvi => a ^ (1 << sh(xlen, b)),
        Bset | Bseti => a | (1 << sh(xlen, b)),
        Pack => {
            if rv32 {
                (a & 0xffff) | (b & 0xffff) << 16
            } else {
                (a & 0xffff_ffff) | b << 32
            }
        }
        Packh => (a & 0xff) | (b & 0xff) << 8,
        Packw => sext32((a & 0xffff) | (b & 0xffff) << 16),
        Brev8 => brev8(a),
        Zip => {
            let mut r = 0u64;
            for i in 0..16 {
                r |= ((a >> i) & 1) << (2 * i);
                r |= ((a >> (i + 16)) & 1) << (2 * i + 1);
            }
            r
        }
        Unzip => {
            let mut r = 0u64;
            for i in 0..16 {
                r |= ((a >> (2 * i)) & 1) << i;
                r |= ((a >> (2 * i + 1)) & 1) << (i + 16);
            }
            r
        }
        Xperm4 => xperm(u(a), u(b), 4, xlen),
        Xperm8 => xperm(u(a), u(b), 8, xlen),
        CzeroEqz => {
            if b == 0 {
                0
            } else {
                a
            }
        }
        CzeroNez => {
            if b != 0 {
                0
            } else {
                a
            }
        }
        _ => return None,
    })
}
