/* A call-heavy workload of the project's own: a doubly recursive Fibonacci and a loop of
 * indirect calls through a function table, the shapes (calls, returns, calls through
 * pointers) that end most blocks in compiled C code outside tight loops. It prints a
 * checksum over the UART so the emulators' results can be compared. */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)

static void puts_(const char *s) {
    while (*s) *UART = (uint8_t)*s++;
}

static void puthex(uint32_t v) {
    for (int i = 28; i >= 0; i -= 4) *UART = (uint8_t)"0123456789abcdef"[(v >> i) & 15];
    *UART = '\n';
}

__attribute__((noinline)) static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

typedef uint32_t (*op_t)(uint32_t, uint32_t);
__attribute__((noinline)) static uint32_t add(uint32_t a, uint32_t b) { return a + b; }
__attribute__((noinline)) static uint32_t mix(uint32_t a, uint32_t b) { return (a ^ b) * 2654435761u; }
__attribute__((noinline)) static uint32_t rot(uint32_t a, uint32_t b) {
    return (a << (b & 31)) | (a >> ((32 - b) & 31));
}
static op_t const ops[3] = {add, mix, rot};

int main(void) {
    uint32_t acc = fib(27);
    for (uint32_t i = 0; i < 3000000; i++) acc = ops[i % 3](acc, i);
    puts_("calls ");
    puthex(acc);
    return 0;
}
