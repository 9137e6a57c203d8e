# Entry for the paged guest, a kernel in miniature: M-mode opens PMP, builds Sv39 tables
# (devices identity-mapped, text read+execute only, data read+write; virtual = physical)
# and drops to S-mode in kernel_main. Its mret leaves mstatus.MPP = U, as a real kernel's
# firmware does, so a debugger that translates by MPP cannot read the kernel's pages.
    .section .text.start, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    la      sp, stack_top
    # PMP entry 0: all of memory, read, write and execute, for S and U.
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, 0x1f
    csrw    pmpcfg0, t0
    # root[0]: gigapage 0 (devices) identity, V R W A D.
    la      t1, root
    li      t0, 0xc7
    sd      t0, 0(t1)
    # root[2]: the 2 MiB pages of 0x80000000-0xbfffffff, in table l1.
    la      t2, l1
    srli    t0, t2, 12
    slli    t0, t0, 10
    ori     t0, t0, 1
    sd      t0, 16(t1)
    # l1[0]: text, V R X A; l1[1]: data, V R W A D.
    li      t0, 0x80000000
    srli    t0, t0, 2
    ori     t0, t0, 0x4b
    sd      t0, 0(t2)
    li      t0, 0x80200000
    srli    t0, t0, 2
    ori     t0, t0, 0xc7
    sd      t0, 8(t2)
    # satp = Sv39 | root.
    srli    t0, t1, 12
    li      t3, 8
    slli    t3, t3, 60
    or      t0, t0, t3
    csrw    satp, t0
    sfence.vma
    # mret to S-mode.
    li      t0, 3 << 11
    csrc    mstatus, t0
    li      t0, 1 << 11
    csrs    mstatus, t0
    la      t0, kernel_main
    csrw    mepc, t0
    mret
park:
    wfi
    j       park

    .bss
    .balign 4096
root:
    .space  4096
l1:
    .space  4096
    .balign 16
    .space  16384
stack_top:
