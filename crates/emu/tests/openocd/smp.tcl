# Two harts: one target each in an SMP group.
foreach t {emu.cpu0 emu.cpu1} {
    targets $t
    expect "$t halted at start" [state] halted
}
write_memory $sym(spin_forever) 32 {1}
resume
sleep 200
foreach t {emu.cpu0 emu.cpu1} {
    targets $t
    expect "$t running" [state] running
}
halt
set i 0
foreach t {emu.cpu0 emu.cpu1} {
    targets $t
    expect "$t halted with the group" [state] halted
    expect "$t is hart $i" [rget mhartid] $i
    incr i
}
targets emu.cpu1
set pc [rget pc]
expect_true "hart 1 halted in worker()" [expr {$pc >= $sym(worker) && $pc < $sym(main)}]
set ticks [lindex [read_memory $sym(worker_ticks) 64 1] 0]
expect_true "hart 1 counted ($ticks)" [expr {$ticks > 0}]
echo "smp done"
