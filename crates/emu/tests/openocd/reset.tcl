# `reset halt` lands at the reset vector with the program image loaded again.
halt
write_memory $sym(shared) 32 {99}
write_memory $sym(spin_forever) 32 {1}
resume
sleep 100
reset halt
expect "halted after reset halt" [state] halted
expect "pc at the reset vector" [rget pc] 0x1000
expect "initialised data is back" [lindex [read_memory $sym(shared) 32 1] 0] 7
expect "bss is zero again" [lindex [read_memory $sym(spin_forever) 32 1] 0] 0
# And the program runs from there.
bp $sym(main) 4 hw
resume
wait_halt 5000
expect "runs to main after the reset" [rget pc] $sym(main)
rbp $sym(main)
echo "reset done"
