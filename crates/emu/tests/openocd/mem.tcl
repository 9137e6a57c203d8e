# Memory through each of OpenOCD's access methods, every width, and across methods.
halt
set scratch $sym(results)
set methods {progbuf sysbus abstract}
set n 0
foreach m $methods {
    riscv set_mem_access $m
    foreach w {8 16 32 64} {
        set vals {}
        set count [expr {32 * 8 / $w}]
        for {set i 0} {$i < $count} {incr i} {
            lappend vals [expr {(0x9e3779b97f4a7c15 * ($i + $n + 1)) & ((1 << $w) - 1)}]
        }
        write_memory $scratch $w $vals
        set got [read_memory $scratch $w $count]
        for {set i 0} {$i < $count} {incr i} {
            if {[lindex $got $i] != [lindex $vals $i]} {
                error "FAIL $m width $w item $i: got [lindex $got $i], want [lindex $vals $i]"
            }
        }
        echo "ok $m: $count items of $w bits written and read back"
        incr n
    }
}

# Written with one method, read with every other; the program's own code reads the same
# whichever way it is read.
foreach wm $methods {
    riscv set_mem_access $wm
    set vals [list [expr {0x1111 * [string length $wm]}] 0xdeadbeef 0x01234567 0x89abcdef]
    write_memory $scratch 32 $vals
    foreach rm $methods {
        riscv set_mem_access $rm
        expect_list "written by $wm, read by $rm" [read_memory $scratch 32 4] $vals
    }
}
set code {}
foreach m $methods {
    riscv set_mem_access $m
    lappend code [read_memory $sym(main) 32 16]
}
expect_list "code reads the same by progbuf and sysbus" [lindex $code 0] [lindex $code 1]
expect_list "code reads the same by progbuf and abstract" [lindex $code 0] [lindex $code 2]
expect_true "code is not blank" [expr {[lindex $code 0 0] != 0}]
echo "mem done"
