# Entry for the GDB test guest: every hart gets its own 16 KiB stack; hart 0 runs main and
# ends emu through the test finisher with main's result, the others run worker(hartid).
    .section .text.start, "ax"
    .globl _start
_start:
    csrr    a0, mhartid
    la      sp, stack_top
    slli    t0, a0, 14
    sub     sp, sp, t0
    bnez    a0, 1f
    call    main
    call    finish
1:  call    worker
2:  j       2b

    .bss
    .balign 16
    .space  4 * 16384
stack_top:
