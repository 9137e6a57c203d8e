//! The opcode table for 32-bit instructions: one row per (operation, format) with the bits that
//! identify it. Decoding, encoding and operand printing are all driven from these rows, so an
//! instruction is described in exactly one place.

use crate::inst::{Fmt, Op, Xlen};

/// Operand layout of an instruction word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// rd, rs1, rs2.
    R,
    /// rd, rs1, imm\[11:0\].
    I,
    /// rd, imm(rs1): integer and FP loads.
    Load,
    /// rs2, imm(rs1): integer and FP stores.
    Store,
    /// rs1, rs2, pc-relative offset.
    Branch,
    /// rd, imm\[31:12\].
    U,
    /// rd, pc-relative offset.
    Jal,
    /// rd, rs1, shift amount of XLEN bits (6 bits on RV64, 5 on RV32).
    Shift,
    /// rd, rs1, 5-bit shift amount (word shifts).
    ShiftW,
    /// rd, rs1 (rs2 field fixed).
    Unary,
    /// rd, csr, rs1.
    Csr,
    /// rd, csr, uimm5.
    CsrI,
    /// rd, rs2, (rs1) with aq/rl.
    Amo,
    /// rd, (rs1) with aq/rl.
    Lr,
    /// fm, pred, succ.
    Fence,
    /// No operands.
    None,
    /// rs1, rs2.
    SfenceVma,
    /// rd, rs1, rs2, rs3, rm.
    R4,
    /// rd, rs1, rs2, rm.
    FRrm,
    /// rd, rs1, rs2 (rm field fixed).
    FR,
    /// rd, rs1, rm (rs2 field fixed).
    FUrm,
    /// rd, rs1 (rs2 and rm fields fixed).
    FU,
    /// fcvt between FP formats: rd, rs1, rm; source format in the rs2 field.
    FcvtFF,
}

/// Which base widths a row is valid on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// RV32 and RV64.
    Any,
    /// RV32 only.
    Rv32,
    /// RV64 only.
    Rv64,
}

impl Width {
    /// Whether the row applies to `xlen`.
    pub fn allows(self, xlen: Xlen) -> bool {
        matches!(
            (self, xlen),
            (Width::Any, _) | (Width::Rv32, Xlen::X32) | (Width::Rv64, Xlen::X64)
        )
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Operation.
    pub op: Op,
    /// FP format (or `Fmt::None`).
    pub fmt: Fmt,
    /// Operand layout.
    pub form: Form,
    /// Bits that identify the instruction.
    pub mask: u32,
    /// Their value.
    pub bits: u32,
    /// Valid base widths.
    pub width: Width,
}

const R: u32 = 0xfe00_707f;
const I: u32 = 0x0000_707f;
const U: u32 = 0x0000_007f;
const SH: u32 = 0xfc00_707f;
const SHW: u32 = 0xfe00_707f;
const UN: u32 = 0xfff0_707f;
const AMO: u32 = 0xf800_707f;
const LR: u32 = 0xf9f0_707f;
const FRRM: u32 = 0xfe00_007f;
const FURM: u32 = 0xfff0_007f;
const R4: u32 = 0x0600_007f;
const EXACT: u32 = 0xffff_ffff;

macro_rules! row {
    ($op:ident, $form:ident, $mask:expr, $bits:expr) => {
        row!($op, None, $form, $mask, $bits, Any)
    };
    ($op:ident, $form:ident, $mask:expr, $bits:expr, $w:ident) => {
        row!($op, None, $form, $mask, $bits, $w)
    };
    ($op:ident, $fmt:ident, $form:ident, $mask:expr, $bits:expr, $w:ident) => {
        Row {
            op: Op::$op,
            fmt: Fmt::$fmt,
            form: Form::$form,
            mask: $mask,
            bits: $bits,
            width: Width::$w,
        }
    };
}

/// Floating-point rows for one format: `f` is the format and `c` its 2-bit code.
macro_rules! fp_rows {
    ($f:ident, $c:expr, $load:expr) => {
        [
            row!(Fload, $f, Load, I, 0x07 | ($load << 12), Any),
            row!(Fstore, $f, Store, I, 0x27 | ($load << 12), Any),
            row!(Fmadd, $f, R4, R4, 0x43 | ($c << 25), Any),
            row!(Fmsub, $f, R4, R4, 0x47 | ($c << 25), Any),
            row!(Fnmsub, $f, R4, R4, 0x4b | ($c << 25), Any),
            row!(Fnmadd, $f, R4, R4, 0x4f | ($c << 25), Any),
            row!(Fadd, $f, FRrm, FRRM, 0x53 | (($c | 0x00) << 25), Any),
            row!(Fsub, $f, FRrm, FRRM, 0x53 | (($c | 0x04) << 25), Any),
            row!(Fmul, $f, FRrm, FRRM, 0x53 | (($c | 0x08) << 25), Any),
            row!(Fdiv, $f, FRrm, FRRM, 0x53 | (($c | 0x0c) << 25), Any),
            row!(Fsqrt, $f, FUrm, FURM, 0x53 | (($c | 0x2c) << 25), Any),
            row!(Fsgnj, $f, FR, R, 0x53 | (($c | 0x10) << 25), Any),
            row!(
                Fsgnjn,
                $f,
                FR,
                R,
                0x53 | (($c | 0x10) << 25) | (1 << 12),
                Any
            ),
            row!(
                Fsgnjx,
                $f,
                FR,
                R,
                0x53 | (($c | 0x10) << 25) | (2 << 12),
                Any
            ),
            row!(Fmin, $f, FR, R, 0x53 | (($c | 0x14) << 25), Any),
            row!(Fmax, $f, FR, R, 0x53 | (($c | 0x14) << 25) | (1 << 12), Any),
            row!(FcvtWF, $f, FUrm, FURM, 0x53 | (($c | 0x60) << 25), Any),
            row!(
                FcvtWuF,
                $f,
                FUrm,
                FURM,
                0x53 | (($c | 0x60) << 25) | (1 << 20),
                Any
            ),
            row!(
                FcvtLF,
                $f,
                FUrm,
                FURM,
                0x53 | (($c | 0x60) << 25) | (2 << 20),
                Rv64
            ),
            row!(
                FcvtLuF,
                $f,
                FUrm,
                FURM,
                0x53 | (($c | 0x60) << 25) | (3 << 20),
                Rv64
            ),
            row!(FcvtFW, $f, FUrm, FURM, 0x53 | (($c | 0x68) << 25), Any),
            row!(
                FcvtFWu,
                $f,
                FUrm,
                FURM,
                0x53 | (($c | 0x68) << 25) | (1 << 20),
                Any
            ),
            row!(
                FcvtFL,
                $f,
                FUrm,
                FURM,
                0x53 | (($c | 0x68) << 25) | (2 << 20),
                Rv64
            ),
            row!(
                FcvtFLu,
                $f,
                FUrm,
                FURM,
                0x53 | (($c | 0x68) << 25) | (3 << 20),
                Rv64
            ),
            row!(FcvtFF, $f, FcvtFF, FRRM, 0x53 | (($c | 0x20) << 25), Any),
            row!(FmvXF, $f, FU, UN, 0x53 | (($c | 0x70) << 25), Any),
            row!(
                Fclass,
                $f,
                FU,
                UN,
                0x53 | (($c | 0x70) << 25) | (1 << 12),
                Any
            ),
            row!(FmvFX, $f, FU, UN, 0x53 | (($c | 0x78) << 25), Any),
            row!(Feq, $f, FR, R, 0x53 | (($c | 0x50) << 25) | (2 << 12), Any),
            row!(Flt, $f, FR, R, 0x53 | (($c | 0x50) << 25) | (1 << 12), Any),
            row!(Fle, $f, FR, R, 0x53 | (($c | 0x50) << 25), Any),
        ]
    };
}

const FP_S: [Row; 31] = fp_rows!(S, 0, 2);
const FP_D: [Row; 31] = fp_rows!(D, 1, 3);
const FP_H: [Row; 31] = fp_rows!(H, 2, 1);

/// Integer, system and bit-manipulation rows. More specific rows come first where two rows
/// overlap (`zext.h` before `pack`, `pause`-style fences are plain fences).
const INT_ROWS: &[Row] = &[
    row!(Lui, U, U, 0x37),
    row!(Auipc, U, U, 0x17),
    row!(Jal, Jal, U, 0x6f),
    row!(Jalr, Load, I, 0x67),
    row!(Beq, Branch, I, 0x63),
    row!(Bne, Branch, I, 0x1063),
    row!(Blt, Branch, I, 0x4063),
    row!(Bge, Branch, I, 0x5063),
    row!(Bltu, Branch, I, 0x6063),
    row!(Bgeu, Branch, I, 0x7063),
    row!(Lb, Load, I, 0x03),
    row!(Lh, Load, I, 0x1003),
    row!(Lw, Load, I, 0x2003),
    row!(Ld, Load, I, 0x3003, Rv64),
    row!(Lbu, Load, I, 0x4003),
    row!(Lhu, Load, I, 0x5003),
    row!(Lwu, Load, I, 0x6003, Rv64),
    row!(Sb, Store, I, 0x23),
    row!(Sh, Store, I, 0x1023),
    row!(Sw, Store, I, 0x2023),
    row!(Sd, Store, I, 0x3023, Rv64),
    row!(Addi, I, I, 0x13),
    row!(Slti, I, I, 0x2013),
    row!(Sltiu, I, I, 0x3013),
    row!(Xori, I, I, 0x4013),
    row!(Ori, I, I, 0x6013),
    row!(Andi, I, I, 0x7013),
    // Zbb/Zbkb unary forms of OP-IMM (specific masks) before the shift rows.
    row!(Clz, Unary, UN, 0x6000_1013),
    row!(Ctz, Unary, UN, 0x6010_1013),
    row!(Cpop, Unary, UN, 0x6020_1013),
    row!(SextB, Unary, UN, 0x6040_1013),
    row!(SextH, Unary, UN, 0x6050_1013),
    row!(OrcB, Unary, UN, 0x2870_5013),
    row!(Rev8, Unary, UN, 0x6980_5013, Rv32),
    row!(Rev8, Unary, UN, 0x6b80_5013, Rv64),
    row!(Brev8, Unary, UN, 0x6870_5013),
    row!(Zip, Unary, UN, 0x08f0_1013, Rv32),
    row!(Unzip, Unary, UN, 0x08f0_5013, Rv32),
    row!(Slli, Shift, SH, 0x1013),
    row!(Srli, Shift, SH, 0x5013),
    row!(Srai, Shift, SH, 0x4000_5013),
    row!(Rori, Shift, SH, 0x6000_5013),
    row!(Bclri, Shift, SH, 0x4800_1013),
    row!(Bexti, Shift, SH, 0x4800_5013),
    row!(Binvi, Shift, SH, 0x6800_1013),
    row!(Bseti, Shift, SH, 0x2800_1013),
    row!(Add, R, R, 0x33),
    row!(Sub, R, R, 0x4000_0033),
    row!(Sll, R, R, 0x1033),
    row!(Slt, R, R, 0x2033),
    row!(Sltu, R, R, 0x3033),
    row!(Xor, R, R, 0x4033),
    row!(Srl, R, R, 0x5033),
    row!(Sra, R, R, 0x4000_5033),
    row!(Or, R, R, 0x6033),
    row!(And, R, R, 0x7033),
    row!(Addiw, I, I, 0x1b, Rv64),
    row!(Slliw, ShiftW, SHW, 0x101b, Rv64),
    row!(Srliw, ShiftW, SHW, 0x501b, Rv64),
    row!(Sraiw, ShiftW, SHW, 0x4000_501b, Rv64),
    row!(Addw, R, R, 0x3b, Rv64),
    row!(Subw, R, R, 0x4000_003b, Rv64),
    row!(Sllw, R, R, 0x103b, Rv64),
    row!(Srlw, R, R, 0x503b, Rv64),
    row!(Sraw, R, R, 0x4000_503b, Rv64),
    row!(Fence, Fence, I, 0x0f),
    row!(FenceI, None, I, 0x100f),
    row!(Ecall, None, EXACT, 0x73),
    row!(Ebreak, None, EXACT, 0x0010_0073),
    row!(Mret, None, EXACT, 0x3020_0073),
    row!(Sret, None, EXACT, 0x1020_0073),
    row!(Wfi, None, EXACT, 0x1050_0073),
    row!(Dret, None, EXACT, 0x7b20_0073),
    row!(SfenceVma, SfenceVma, 0xfe00_7fff, 0x1200_0073),
    row!(Csrrw, Csr, I, 0x1073),
    row!(Csrrs, Csr, I, 0x2073),
    row!(Csrrc, Csr, I, 0x3073),
    row!(Csrrwi, CsrI, I, 0x5073),
    row!(Csrrsi, CsrI, I, 0x6073),
    row!(Csrrci, CsrI, I, 0x7073),
    row!(Mul, R, R, 0x0200_0033),
    row!(Mulh, R, R, 0x0200_1033),
    row!(Mulhsu, R, R, 0x0200_2033),
    row!(Mulhu, R, R, 0x0200_3033),
    row!(Div, R, R, 0x0200_4033),
    row!(Divu, R, R, 0x0200_5033),
    row!(Rem, R, R, 0x0200_6033),
    row!(Remu, R, R, 0x0200_7033),
    row!(Mulw, R, R, 0x0200_003b, Rv64),
    row!(Divw, R, R, 0x0200_403b, Rv64),
    row!(Divuw, R, R, 0x0200_503b, Rv64),
    row!(Remw, R, R, 0x0200_603b, Rv64),
    row!(Remuw, R, R, 0x0200_703b, Rv64),
    row!(LrW, Lr, LR, 0x1000_202f),
    row!(ScW, Amo, AMO, 0x1800_202f),
    row!(AmoswapW, Amo, AMO, 0x0800_202f),
    row!(AmoaddW, Amo, AMO, 0x0000_202f),
    row!(AmoxorW, Amo, AMO, 0x2000_202f),
    row!(AmoandW, Amo, AMO, 0x6000_202f),
    row!(AmoorW, Amo, AMO, 0x4000_202f),
    row!(AmominW, Amo, AMO, 0x8000_202f),
    row!(AmomaxW, Amo, AMO, 0xa000_202f),
    row!(AmominuW, Amo, AMO, 0xc000_202f),
    row!(AmomaxuW, Amo, AMO, 0xe000_202f),
    row!(LrD, Lr, LR, 0x1000_302f, Rv64),
    row!(ScD, Amo, AMO, 0x1800_302f, Rv64),
    row!(AmoswapD, Amo, AMO, 0x0800_302f, Rv64),
    row!(AmoaddD, Amo, AMO, 0x0000_302f, Rv64),
    row!(AmoxorD, Amo, AMO, 0x2000_302f, Rv64),
    row!(AmoandD, Amo, AMO, 0x6000_302f, Rv64),
    row!(AmoorD, Amo, AMO, 0x4000_302f, Rv64),
    row!(AmominD, Amo, AMO, 0x8000_302f, Rv64),
    row!(AmomaxD, Amo, AMO, 0xa000_302f, Rv64),
    row!(AmominuD, Amo, AMO, 0xc000_302f, Rv64),
    row!(AmomaxuD, Amo, AMO, 0xe000_302f, Rv64),
    // Zba
    row!(Sh1add, R, R, 0x2000_2033),
    row!(Sh2add, R, R, 0x2000_4033),
    row!(Sh3add, R, R, 0x2000_6033),
    row!(AddUw, R, R, 0x0800_003b, Rv64),
    row!(Sh1addUw, R, R, 0x2000_203b, Rv64),
    row!(Sh2addUw, R, R, 0x2000_403b, Rv64),
    row!(Sh3addUw, R, R, 0x2000_603b, Rv64),
    row!(SlliUw, Shift, SH, 0x0800_101b, Rv64),
    // Zbb
    row!(Andn, R, R, 0x4000_7033),
    row!(Orn, R, R, 0x4000_6033),
    row!(Xnor, R, R, 0x4000_4033),
    row!(Clzw, Unary, UN, 0x6000_101b, Rv64),
    row!(Ctzw, Unary, UN, 0x6010_101b, Rv64),
    row!(Cpopw, Unary, UN, 0x6020_101b, Rv64),
    row!(Max, R, R, 0x0a00_6033),
    row!(Maxu, R, R, 0x0a00_7033),
    row!(Min, R, R, 0x0a00_4033),
    row!(Minu, R, R, 0x0a00_5033),
    row!(ZextH, Unary, UN, 0x0800_4033, Rv32),
    row!(ZextH, Unary, UN, 0x0800_403b, Rv64),
    row!(Rol, R, R, 0x6000_1033),
    row!(Ror, R, R, 0x6000_5033),
    row!(Rolw, R, R, 0x6000_103b, Rv64),
    row!(Rorw, R, R, 0x6000_503b, Rv64),
    row!(Roriw, ShiftW, SHW, 0x6000_501b, Rv64),
    // Zbc
    row!(Clmul, R, R, 0x0a00_1033),
    row!(Clmulr, R, R, 0x0a00_2033),
    row!(Clmulh, R, R, 0x0a00_3033),
    // Zbs
    row!(Bclr, R, R, 0x4800_1033),
    row!(Bext, R, R, 0x4800_5033),
    row!(Binv, R, R, 0x6800_1033),
    row!(Bset, R, R, 0x2800_1033),
    // Zbkb
    row!(Pack, R, R, 0x0800_4033),
    row!(Packh, R, R, 0x0800_7033),
    row!(Packw, R, R, 0x0800_403b, Rv64),
    // Zbkx
    row!(Xperm4, R, R, 0x2800_2033),
    row!(Xperm8, R, R, 0x2800_4033),
    // Zicond
    row!(CzeroEqz, R, R, 0x0e00_5033),
    row!(CzeroNez, R, R, 0x0e00_7033),
];

/// Every row of the table, in match priority order.
pub fn rows() -> impl Iterator<Item = &'static Row> {
    INT_ROWS
        .iter()
        .chain(FP_S.iter())
        .chain(FP_D.iter())
        .chain(FP_H.iter())
}
