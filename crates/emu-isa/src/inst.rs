//! The decoded instruction: one flat struct that the interpreter, the JIT, the encoder and the
//! disassembler all read. Compressed instructions decode to their 32-bit equivalents (with
//! `len == 2`), so execution never needs to know about the C extension.

/// Base integer width of a hart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Xlen {
    /// RV32.
    X32,
    /// RV64.
    X64,
}

impl Xlen {
    /// Width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Xlen::X32 => 32,
            Xlen::X64 => 64,
        }
    }
}

/// Floating-point format of an F/D/Zfh instruction (the `fmt` field, or the load width).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Fmt {
    /// Not a floating-point instruction.
    #[default]
    None,
    /// Half precision (Zfh).
    H,
    /// Single precision (F).
    S,
    /// Double precision (D).
    D,
}

impl Fmt {
    /// The suffix objdump prints (`s`, `d`, `h`).
    pub fn suffix(self) -> &'static str {
        match self {
            Fmt::None => "",
            Fmt::H => "h",
            Fmt::S => "s",
            Fmt::D => "d",
        }
    }
    /// The 2-bit `fmt` encoding of the OP-FP opcodes.
    pub fn code(self) -> u32 {
        match self {
            Fmt::S | Fmt::None => 0,
            Fmt::D => 1,
            Fmt::H => 2,
        }
    }
    /// Inverse of [`Fmt::code`]; the quad format (3) is not supported.
    pub fn from_code(c: u32) -> Option<Fmt> {
        match c {
            0 => Some(Fmt::S),
            1 => Some(Fmt::D),
            2 => Some(Fmt::H),
            _ => None,
        }
    }
}

/// An ISA extension, as far as decoding is concerned: the hart checks that the extension an
/// instruction belongs to is enabled before executing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ext {
    /// Base integer ISA (always present).
    I,
    /// Integer multiply/divide.
    M,
    /// Atomics.
    A,
    /// Single-precision floating point.
    F,
    /// Double-precision floating point.
    D,
    /// Half-precision floating point.
    Zfh,
    /// CSR instructions.
    Zicsr,
    /// `fence.i`.
    Zifencei,
    /// Address generation.
    Zba,
    /// Basic bit manipulation.
    Zbb,
    /// Carry-less multiply.
    Zbc,
    /// Single-bit instructions.
    Zbs,
    /// Bit manipulation for cryptography.
    Zbkb,
    /// Crossbar permutations.
    Zbkx,
    /// Integer conditional operations.
    Zicond,
    /// Privileged instructions (mret, sret, wfi, sfence.vma) and Sdext's dret.
    Priv,
}

/// What kind of work an operation does: which unit of the hart executes it. The JIT uses it
/// to pick the helper for an instruction it does not open-code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// `lui`, `auipc`, jumps and branches.
    Control,
    /// Pure register/immediate arithmetic and logic (base, M, Zb*, Zicond).
    Alu,
    /// Integer loads and stores.
    Memory,
    /// Fences, `ecall`, `ebreak`, trap returns, `wfi`, `sfence.vma`.
    System,
    /// Zicsr.
    Csr,
    /// LR, SC and AMOs.
    Atomic,
    /// F, D and Zfh, including their loads and stores.
    Float,
}

/// What an integer load or store accesses (see [`Op::int_access`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntAccess {
    /// Width in bytes: 1, 2, 4 or 8.
    pub size: usize,
    /// A load that sign-extends.
    pub signed: bool,
    /// A store (else a load).
    pub store: bool,
}

impl Op {
    /// An integer load or store: its width, sign extension and direction (the one table
    /// the interpreter, the JIT and its helpers share). None for every other operation.
    pub fn int_access(self) -> Option<IntAccess> {
        use Op::*;
        let (size, signed, store) = match self {
            Lb => (1, true, false),
            Lh => (2, true, false),
            Lw => (4, true, false),
            Ld => (8, true, false),
            Lbu => (1, false, false),
            Lhu => (2, false, false),
            Lwu => (4, false, false),
            Sb => (1, false, true),
            Sh => (2, false, true),
            Sw => (4, false, true),
            Sd => (8, false, true),
            _ => return None,
        };
        Some(IntAccess {
            size,
            signed,
            store,
        })
    }

    /// The unit that executes this operation.
    pub fn class(self) -> OpClass {
        use Op::*;
        match self {
            Lui | Auipc | Jal | Jalr | Beq | Bne | Blt | Bge | Bltu | Bgeu => OpClass::Control,
            Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu | Sb | Sh | Sw | Sd => OpClass::Memory,
            Illegal | Fence | FenceI | Ecall | Ebreak | Mret | Sret | Wfi | SfenceVma | Dret => {
                OpClass::System
            }
            Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => OpClass::Csr,
            _ => match self.ext() {
                Ext::A => OpClass::Atomic,
                Ext::F => OpClass::Float,
                _ => OpClass::Alu,
            },
        }
    }
}

macro_rules! ops {
    ($($v:ident = $name:literal, $ext:ident;)*) => {
        /// Operation of a decoded instruction. Floating-point operations carry their format in
        /// [`Inst::fmt`]; several variants therefore cover `.s`, `.d` and `.h` forms alike.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Op { Illegal, $($v,)* }

        impl Op {
            /// Base mnemonic (without a floating-point format suffix).
            pub fn name(self) -> &'static str {
                match self { Op::Illegal => "illegal", $(Op::$v => $name,)* }
            }
            /// Extension that must be enabled for this operation (F-format operations refine
            /// this through [`Inst::ext`]).
            pub fn ext(self) -> Ext {
                match self { Op::Illegal => Ext::I, $(Op::$v => Ext::$ext,)* }
            }
            /// Every operation, for exhaustive tests.
            pub const ALL: &'static [Op] = &[$(Op::$v,)*];
        }
    };
}

ops! {
    Lui = "lui", I; Auipc = "auipc", I; Jal = "jal", I; Jalr = "jalr", I;
    Beq = "beq", I; Bne = "bne", I; Blt = "blt", I; Bge = "bge", I; Bltu = "bltu", I; Bgeu = "bgeu", I;
    Lb = "lb", I; Lh = "lh", I; Lw = "lw", I; Ld = "ld", I; Lbu = "lbu", I; Lhu = "lhu", I; Lwu = "lwu", I;
    Sb = "sb", I; Sh = "sh", I; Sw = "sw", I; Sd = "sd", I;
    Addi = "addi", I; Slti = "slti", I; Sltiu = "sltiu", I; Xori = "xori", I; Ori = "ori", I; Andi = "andi", I;
    Slli = "slli", I; Srli = "srli", I; Srai = "srai", I;
    Add = "add", I; Sub = "sub", I; Sll = "sll", I; Slt = "slt", I; Sltu = "sltu", I; Xor = "xor", I;
    Srl = "srl", I; Sra = "sra", I; Or = "or", I; And = "and", I;
    Addiw = "addiw", I; Slliw = "slliw", I; Srliw = "srliw", I; Sraiw = "sraiw", I;
    Addw = "addw", I; Subw = "subw", I; Sllw = "sllw", I; Srlw = "srlw", I; Sraw = "sraw", I;
    Fence = "fence", I; Ecall = "ecall", I; Ebreak = "ebreak", I;
    FenceI = "fence.i", Zifencei;
    Csrrw = "csrrw", Zicsr; Csrrs = "csrrs", Zicsr; Csrrc = "csrrc", Zicsr;
    Csrrwi = "csrrwi", Zicsr; Csrrsi = "csrrsi", Zicsr; Csrrci = "csrrci", Zicsr;
    Mret = "mret", Priv; Sret = "sret", Priv; Wfi = "wfi", Priv; SfenceVma = "sfence.vma", Priv;
    Dret = "dret", Priv;
    Mul = "mul", M; Mulh = "mulh", M; Mulhsu = "mulhsu", M; Mulhu = "mulhu", M;
    Div = "div", M; Divu = "divu", M; Rem = "rem", M; Remu = "remu", M;
    Mulw = "mulw", M; Divw = "divw", M; Divuw = "divuw", M; Remw = "remw", M; Remuw = "remuw", M;
    LrW = "lr.w", A; ScW = "sc.w", A; AmoswapW = "amoswap.w", A; AmoaddW = "amoadd.w", A;
    AmoxorW = "amoxor.w", A; AmoandW = "amoand.w", A; AmoorW = "amoor.w", A;
    AmominW = "amomin.w", A; AmomaxW = "amomax.w", A; AmominuW = "amominu.w", A; AmomaxuW = "amomaxu.w", A;
    LrD = "lr.d", A; ScD = "sc.d", A; AmoswapD = "amoswap.d", A; AmoaddD = "amoadd.d", A;
    AmoxorD = "amoxor.d", A; AmoandD = "amoand.d", A; AmoorD = "amoor.d", A;
    AmominD = "amomin.d", A; AmomaxD = "amomax.d", A; AmominuD = "amominu.d", A; AmomaxuD = "amomaxu.d", A;
    // Floating point; the format lives in Inst::fmt.
    Fload = "fl", F; Fstore = "fs", F;
    Fmadd = "fmadd", F; Fmsub = "fmsub", F; Fnmsub = "fnmsub", F; Fnmadd = "fnmadd", F;
    Fadd = "fadd", F; Fsub = "fsub", F; Fmul = "fmul", F; Fdiv = "fdiv", F; Fsqrt = "fsqrt", F;
    Fsgnj = "fsgnj", F; Fsgnjn = "fsgnjn", F; Fsgnjx = "fsgnjx", F; Fmin = "fmin", F; Fmax = "fmax", F;
    FcvtWF = "fcvt.w", F; FcvtWuF = "fcvt.wu", F; FcvtLF = "fcvt.l", F; FcvtLuF = "fcvt.lu", F;
    FcvtFW = "fcvt.w", F; FcvtFWu = "fcvt.wu", F; FcvtFL = "fcvt.l", F; FcvtFLu = "fcvt.lu", F;
    FcvtFF = "fcvt", F; FmvXF = "fmv.x", F; FmvFX = "fmv.x", F; Fclass = "fclass", F;
    Feq = "feq", F; Flt = "flt", F; Fle = "fle", F;
    // Zba
    Sh1add = "sh1add", Zba; Sh2add = "sh2add", Zba; Sh3add = "sh3add", Zba; AddUw = "add.uw", Zba;
    Sh1addUw = "sh1add.uw", Zba; Sh2addUw = "sh2add.uw", Zba; Sh3addUw = "sh3add.uw", Zba;
    SlliUw = "slli.uw", Zba;
    // Zbb
    Andn = "andn", Zbb; Orn = "orn", Zbb; Xnor = "xnor", Zbb; Clz = "clz", Zbb; Ctz = "ctz", Zbb;
    Cpop = "cpop", Zbb; Clzw = "clzw", Zbb; Ctzw = "ctzw", Zbb; Cpopw = "cpopw", Zbb;
    Max = "max", Zbb; Maxu = "maxu", Zbb; Min = "min", Zbb; Minu = "minu", Zbb;
    SextB = "sext.b", Zbb; SextH = "sext.h", Zbb; ZextH = "zext.h", Zbb;
    Rol = "rol", Zbb; Ror = "ror", Zbb; Rori = "rori", Zbb; Rolw = "rolw", Zbb; Rorw = "rorw", Zbb;
    Roriw = "roriw", Zbb; OrcB = "orc.b", Zbb; Rev8 = "rev8", Zbb;
    // Zbc
    Clmul = "clmul", Zbc; Clmulh = "clmulh", Zbc; Clmulr = "clmulr", Zbc;
    // Zbs
    Bclr = "bclr", Zbs; Bclri = "bclri", Zbs; Bext = "bext", Zbs; Bexti = "bexti", Zbs;
    Binv = "binv", Zbs; Binvi = "binvi", Zbs; Bset = "bset", Zbs; Bseti = "bseti", Zbs;
    // Zbkb
    Pack = "pack", Zbkb; Packh = "packh", Zbkb; Packw = "packw", Zbkb; Brev8 = "brev8", Zbkb;
    Zip = "zip", Zbkb; Unzip = "unzip", Zbkb;
    // Zbkx
    Xperm4 = "xperm4", Zbkx; Xperm8 = "xperm8", Zbkx;
    // Zicond
    CzeroEqz = "czero.eqz", Zicond; CzeroNez = "czero.nez", Zicond;
}

/// A decoded instruction.
///
/// Field use by operation class:
/// - `imm`: immediate (sign-extended), shift amount, CSR number (CSR ops), or the fence's
///   `fm|pred|succ` bits;
/// - `rs1`: also the 5-bit immediate of `csrr*i`;
/// - `rm`: rounding mode of F ops, `aq << 1 | rl` of atomics;
/// - `rs2` of `fcvt.F.F`: the source format code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Inst {
    /// Operation.
    pub op: Op,
    /// Destination register.
    pub rd: u8,
    /// First source register.
    pub rs1: u8,
    /// Second source register.
    pub rs2: u8,
    /// Third source register (fused multiply-add).
    pub rs3: u8,
    /// Rounding mode or aq/rl bits.
    pub rm: u8,
    /// Floating-point format.
    pub fmt: Fmt,
    /// Immediate.
    pub imm: i64,
    /// Length in bytes: 2 (compressed) or 4.
    pub len: u8,
}

impl Inst {
    /// The illegal instruction (also what every undecodable word decodes to).
    pub const ILLEGAL: Inst = Inst {
        op: Op::Illegal,
        rd: 0,
        rs1: 0,
        rs2: 0,
        rs3: 0,
        rm: 0,
        fmt: Fmt::None,
        imm: 0,
        len: 4,
    };

    /// A new instruction with the given operation and all fields zero.
    pub fn new(op: Op) -> Inst {
        Inst {
            op,
            ..Inst::ILLEGAL
        }
    }

    /// Whether this is the illegal instruction.
    pub fn is_illegal(&self) -> bool {
        self.op == Op::Illegal
    }

    /// Extension the hart must have enabled to execute this instruction.
    pub fn ext(&self) -> Ext {
        match self.op.ext() {
            Ext::F => match self.fmt {
                Fmt::D => Ext::D,
                Fmt::H => Ext::Zfh,
                _ => Ext::F,
            },
            e => e,
        }
    }

    /// Whether the instruction ends a basic block (changes control flow or privileged state).
    pub fn ends_block(&self) -> bool {
        use Op::*;
        matches!(
            self.op,
            Jal | Jalr
                | Beq
                | Bne
                | Blt
                | Bge
                | Bltu
                | Bgeu
                | Ecall
                | Ebreak
                | Mret
                | Sret
                | Dret
                | Wfi
                | FenceI
                | SfenceVma
                | Csrrw
                | Csrrs
                | Csrrc
                | Csrrwi
                | Csrrsi
                | Csrrci
                | Illegal
        )
    }
}
