# load_image / verify_image of the file $image at $addr, timed.
halt
set t0 [clock microseconds]
load_image $image $addr bin
set t1 [clock microseconds]
set report [verify_image $image $addr bin]
set t2 [clock microseconds]
set kib [expr {[file size $image] / 1024.0}]
echo [format "ok load_image %.0f KiB in %.1f ms: %.0f KiB/s" $kib [expr {($t1 - $t0) / 1000.0}] [expr {$kib * 1e6 / ($t1 - $t0)}]]
echo "ok verify_image: $report"
# A changed byte is noticed.
set at [expr {$addr + 4097}]
set b [lindex [read_memory $at 8 1] 0]
write_memory $at 8 [list [expr {$b ^ 0xff}]]
set bad [catch {verify_image $image $addr bin} msg]
expect_true "verify_image notices a changed byte" [expr {$bad != 0}]
echo "load done"
