# Read and write every GPR and FPR, read every CSR OpenOCD knows of (the ones emu lacks
# must fail cleanly), and write the writable ones back and forth.
halt
expect "halted" [state] halted

set gprs {ra sp gp tp t0 t1 t2 fp s1 a0 a1 a2 a3 a4 a5 a6 a7 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6}
set fprs {ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 fa6 fa7 fs2 fs3 fs4 fs5 fs6 fs7 fs8 fs9 fs10 fs11 ft8 ft9 ft10 ft11}

# Save, write distinct patterns, read back, restore. GPRs first: OpenOCD moves FPRs and
# CSRs through s0 when it has to use the program buffer, and restores s0 only on resume.
set saved [get_reg -force [concat $gprs $fprs]]
proc pattern {i} { return [expr {0x0101010101010101 * $i ^ 0x8000000000000000}] }
foreach set [list $gprs $fprs] {
    set i 1
    foreach r $set {
        set_reg [list $r [format 0x%016x [pattern $i]]]
        incr i
    }
    set i 1
    foreach r $set {
        set got [dict get [get_reg -force [list $r]] $r]
        if {$got != [pattern $i]} { error "FAIL $r: got $got, want [format 0x%016x [pattern $i]]" }
        incr i
    }
    echo "ok [llength $set] registers from $r down written and read back"
}
set_reg $saved
expect "x0 reads zero" [rget zero] 0

# Known values.
expect "misa" [rget misa] $::want_misa
expect "mhartid" [rget mhartid] 0
expect "mvendorid" [rget mvendorid] 0

# Every CSR: readable or cleanly absent.
set csrs [lrange [reg_names] 65 end]
set readable 0
set absent {}
foreach r $csrs {
    if {[catch {get_reg -force [list $r]} v]} {
        lappend absent $r
    } else {
        incr readable
    }
}
echo "csrs: $readable readable, [llength $absent] absent"
foreach must {mstatus misa mie mtvec mscratch mepc mcause mtval mip sstatus stvec sscratch sepc satp dcsr dpc tselect tdata1 tdata2 tinfo mcycle minstret fcsr} {
    expect_true "$must readable" [expr {[lsearch -exact $absent $must] < 0}]
}
foreach gone {hstatus vsstatus mtvt} {
    expect_true "$gone absent" [expr {[lsearch -exact $absent $gone] >= 0}]
}

# Writable CSRs keep what is written.
foreach {r v} {mscratch 0x123456789abcdef0 sscratch 0x0fedcba987654321 mepc 0x80001230 sepc 0x80004560 mtvec 0x80000100 stvec 0x80000200} {
    set old [rget $r]
    set_reg [list $r $v]
    expect "$r written" [dict get [get_reg -force [list $r]] $r] $v
    set_reg [list $r $old]
}
# Fields: WARL mstatus.MPP keeps a legal value.
set old [rget mstatus]
set_reg [list mstatus [expr {($old & ~0x1800) | 0x800}]]
expect "mstatus.MPP = S" [expr {([dict get [get_reg -force {mstatus}] mstatus] >> 11) & 3}] 1
set_reg [list mstatus $old]
echo "regs done"
