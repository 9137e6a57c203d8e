/* The paged guest's S-mode part: a counter to watch and set, a function to break in (its
 * text is mapped without write permission), and an end through the test finisher. */

#define FINISHER ((volatile unsigned int *)0x100000UL)

volatile int ticks;

void tick(void)
{
    ticks = ticks + 1;
}

void kernel_main(void)
{
    for (int i = 0; i < 5; i++)
        tick();
    /* Exit code 0 after five ticks, else the count (a debugger may have changed it). */
    *FINISHER = ticks == 5 ? 0x5555 : ((unsigned int)ticks << 16) | 0x3333;
    for (;;)
        ;
}
