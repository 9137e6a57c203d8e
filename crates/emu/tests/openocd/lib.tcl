# Helpers for emu's OpenOCD end-to-end tests. Every check prints "ok <what>" or raises
# an error, which makes OpenOCD exit non-zero; the Rust side counts the oks.

proc expect {what got want} {
    if {$got != $want} {
        error "FAIL $what: got $got, want $want"
    }
    echo "ok $what"
}

# Two lists of numbers, element by element.
proc expect_list {what got want} {
    if {[llength $got] != [llength $want]} {
        error "FAIL $what: got [llength $got] items, want [llength $want]"
    }
    foreach g $got w $want {
        if {$g != $w} {
            error "FAIL $what: got $got, want $want"
        }
    }
    echo "ok $what"
}

proc expect_true {what cond} {
    if {!$cond} {
        error "FAIL $what"
    }
    echo "ok $what"
}

# One register's value.
proc rget {name} {
    return [dict get [get_reg -force [list $name]] $name]
}

# Every register name OpenOCD lists for the current target.
proc reg_names {} {
    set names {}
    foreach line [split [capture "reg"] "\n"] {
        if {[regexp {^\(\d+\) (\S+) \(/\d+\)} $line -> n]} {
            lappend names $n
        }
    }
    return $names
}

proc state {} {
    return [[target current] curstate]
}
