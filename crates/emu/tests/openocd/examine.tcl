# What OpenOCD learnt when it examined the target.
expect "misa" [rget misa] $want_misa
expect "misa.MXL = 2 (64-bit)" [expr {([rget misa] >> 62) & 3}] 2
# Triggers: as many as emu's default --triggers (8); tselect takes 0..7 and no more.
set n 0
for {set i 0} {$i < 16} {incr i} {
    set_reg [list tselect $i]
    if {[rget tselect] == $i} { incr n }
}
expect "8 triggers" $n 8
set_reg {tselect 0}
expect "dcsr.debugver = 4 (1.0)" [expr {[rget dcsr] >> 28}] 4
echo "examine done"
