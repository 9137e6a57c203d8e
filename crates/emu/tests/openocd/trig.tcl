# Hardware breakpoints and watchpoints, on Sdtrig triggers armed through the Debug Module.
expect "halted at start" [state] halted

bp $sym(bump) 4 hw
resume
wait_halt 5000
expect "hardware breakpoint stops at bump" [rget pc] $sym(bump)
expect "counter before the first bump" [lindex [read_memory $sym(counter) 32 1] 0] 0
rbp $sym(bump)

wp $sym(counter) 4 w
resume
wait_halt 5000
set pc [rget pc]
expect_true "write watchpoint stops in bump" [expr {$pc >= $sym(bump) && $pc < $sym(peek)}]
set hits [lindex [read_memory $sym(counter) 32 1] 0]
echo "counter at the write watchpoint: $hits"
resume
wait_halt 5000
expect "the next write stops again, one bump later" [lindex [read_memory $sym(counter) 32 1] 0] [expr {$hits + 1}]
rwp $sym(counter)

wp $sym(shared) 4 r
resume
wait_halt 5000
set pc [rget pc]
expect_true "read watchpoint stops in peek" [expr {$pc >= $sym(peek) && $pc < $sym(spin)}]
expect "bump ran ten times before peek" [lindex [read_memory $sym(counter) 32 1] 0] 10
rwp $sym(shared)

# Nothing armed: the test resumes the guest to its end over a raw probe once OpenOCD has
# left, since emu exits as soon as the guest ends and would cut short whatever OpenOCD
# scans next (its resume reads dmstatus, its shutdown polls).
echo "trig done"
