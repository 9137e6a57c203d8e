//! The A extension: LR/SC with the hart's reservation, and AMOs as the bus's atomic
//! read-modify-write.

use super::*;

impl Hart {
    /// Execute LR, SC or an AMO (`OpClass::Atomic`); the caller has checked that the hart
    /// implements `i`.
    pub fn exec_atomic(&mut self, i: &Inst, bus: &dyn Bus) -> Result<(), Exception> {
        use Op::*;
        let a = self.get_x(i.rs1);
        let b = self.get_x(i.rs2);
        match i.op {
            LrW | LrD => {
                let size = if i.op == LrW { 4 } else { 8 };
                let va = self.addr(a);
                self.watch_load(va, size)?;
                if !va.is_multiple_of(size as u64) {
                    return Err(Exception::LoadMisaligned(va));
                }
                let pa = self.translate(va, size as u64, Access::Load, bus)?;
                let v = bus
                    .read(PhysAddr(pa), size)
                    .map_err(|_| Exception::LoadAccess(va))?;
                self.watch_load_value(va, size, v);
                self.reservation = Some(Reservation {
                    addr: pa,
                    size,
                    value: v,
                });
                self.set_x(
                    i.rd,
                    if size == 4 {
                        v as u32 as i32 as i64 as u64
                    } else {
                        v
                    },
                );
            }
            ScW | ScD => {
                let size = if i.op == ScW { 4 } else { 8 };
                let va = self.addr(a);
                let new = if size == 4 { b & 0xffff_ffff } else { b };
                self.watch_store(va, size, new)?;
                if !va.is_multiple_of(size as u64) {
                    return Err(Exception::StoreMisaligned(va));
                }
                let pa = self.translate(va, size as u64, Access::Store, bus)?;
                let ok = match self.reservation.take() {
                    Some(r) if r.addr == pa && r.size == size => bus
                        .compare_exchange(PhysAddr(pa), size, r.value, new)
                        .map_err(|_| Exception::StoreAccess(va))?,
                    _ => false,
                };
                self.set_x(i.rd, (!ok) as u64);
            }
            AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW
            | AmomaxuW | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD | AmomaxD
            | AmominuD | AmomaxuD => {
                let (op, size) = amo_kind(i.op);
                let va = self.addr(a);
                let operand = if size == 4 { b & 0xffff_ffff } else { b };
                // An AMO is a load and a store; the store's value is the operand (the value
                // written depends on memory, which a trigger cannot see before the access).
                self.watch_load(va, size)?;
                self.watch_store(va, size, operand)?;
                if !va.is_multiple_of(size as u64) {
                    return Err(Exception::StoreMisaligned(va));
                }
                let pa = self.translate(va, size as u64, Access::Store, bus)?;
                let old = bus
                    .amo(PhysAddr(pa), size, op, operand)
                    .map_err(|_| Exception::StoreAccess(va))?;
                self.watch_load_value(va, size, old);
                self.set_x(
                    i.rd,
                    if size == 4 {
                        old as u32 as i32 as i64 as u64
                    } else {
                        old
                    },
                );
            }
            _ => return Err(Exception::Illegal(0)),
        }
        self.pc = self.next_pc(i);
        Ok(())
    }
}

fn amo_kind(op: Op) -> (AmoOp, usize) {
    use Op::*;
    match op {
        AmoswapW => (AmoOp::Swap, 4),
        AmoaddW => (AmoOp::Add, 4),
        AmoxorW => (AmoOp::Xor, 4),
        AmoandW => (AmoOp::And, 4),
        AmoorW => (AmoOp::Or, 4),
        AmominW => (AmoOp::Min, 4),
        AmomaxW => (AmoOp::Max, 4),
        AmominuW => (AmoOp::Minu, 4),
        AmomaxuW => (AmoOp::Maxu, 4),
        AmoswapD => (AmoOp::Swap, 8),
        AmoaddD => (AmoOp::Add, 8),
        AmoxorD => (AmoOp::Xor, 8),
        AmoandD => (AmoOp::And, 8),
        AmoorD => (AmoOp::Or, 8),
        AmominD => (AmoOp::Min, 8),
        AmomaxD => (AmoOp::Max, 8),
        AmominuD => (AmoOp::Minu, 8),
        _ => (AmoOp::Maxu, 8),
    }
}
