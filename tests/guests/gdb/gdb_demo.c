/* The guest the GDB end-to-end tests debug: small functions to break in, step into and
 * finish out of, variables to watch, a loop to interrupt, and a second hart that counts. */

#define UART ((volatile unsigned char *)0x10000000UL)
#define FINISHER ((volatile unsigned int *)0x100000UL)

volatile int counter;          /* written by bump(): `watch counter` */
int shared = 7;                /* read by peek(): `rwatch shared` */
long results[4];
volatile int spin_forever;     /* the debugger sets it to keep spin() looping */
volatile unsigned long spins;
volatile unsigned long worker_ticks; /* hart 1 counts here */

void print(const char *s)
{
    while (*s)
        *UART = *s++;
}

int square(int x)
{
    int r = x * x;
    return r;
}

int add(int a, int b)
{
    int s = a + b;
    return s;
}

void bump(void)
{
    counter = counter + 1;
}

int peek(void)
{
    return shared;
}

void spin(void)
{
    if (spin_forever)
        print("spinning\n");
    while (spin_forever)
        spins = spins + 1;
}

void finish(int code)
{
    *FINISHER = code ? ((unsigned int)code << 16) | 0x3333 : 0x5555;
    for (;;)
        ;
}

void worker(unsigned long hart)
{
    for (;;)
        worker_ticks = worker_ticks + hart;
}

int main(void)
{
    int total = 0;
    for (int i = 0; i < 10; i++) {
        total = add(total, square(i));
        bump();
    }
    results[0] = total;
    total = total + peek();
    spin();
    print("gdb demo done\n");
    return total == 292 ? 0 : 1;
}
