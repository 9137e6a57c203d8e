/* Hart 0 runs main() on a small stack, then reports through the SiFive test finisher;
   other harts park. */
    .section .text.start
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, 2f
    la      sp, _stack_top
    call    main
    li      t0, 0x100000
    li      t1, 0x5555
    sw      t1, 0(t0)
1:  j       1b
2:  wfi
    j       2b
