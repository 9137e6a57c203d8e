# Halt, resume and step. emu starts with the hart halted at the reset vector.
expect "halted at start" [state] halted
expect "pc at the reset vector" [rget pc] 0x1000

# Keep the guest looping in spin(), then let it run.
write_memory $sym(spin_forever) 32 {1}
resume
sleep 200
expect "running after resume" [state] running
halt
expect "halted again" [state] halted
set pc [rget pc]
expect_true "halted inside spin()" [expr {$pc >= $sym(spin) && $pc < $sym(finish)}]

# One step moves the pc and retires one instruction; twenty retire twenty.
set i0 [rget minstret]
step
expect "one step retires one instruction" [expr {[rget minstret] - $i0}] 1
expect_true "the step moved the pc" [expr {[rget pc] != $pc}]
set i0 [rget minstret]
for {set i 0} {$i < 20} {incr i} { step }
expect "twenty steps retire twenty" [expr {[rget minstret] - $i0}] 20
expect "still halted after stepping" [state] halted

# Resume and halt a few times; the loop counter keeps moving between halts.
set last [lindex [read_memory $sym(spins) 64 1] 0]
for {set i 0} {$i < 3} {incr i} {
    resume
    sleep 50
    halt
    set now [lindex [read_memory $sym(spins) 64 1] 0]
    expect_true "spins advanced while running ($now > $last)" [expr {$now > $last}]
    set last $now
}

# Let the guest finish once resumed: the test resumes it over a raw probe after OpenOCD
# has left, since emu exits with main's result as soon as the guest ends, which would cut
# OpenOCD's own resume short (it reads dmstatus after the resume request).
write_memory $sym(spin_forever) 32 {0}
echo "run done"
