/* A CoreMark-like workload of the project's own: linked-list search and reversal, integer
 * matrix multiply, a CRC-16 over the results, and a small state machine scanning text.
 * It prints a checksum over the UART so the emulators' results can be compared. */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)

static void putc_(char c) { *UART = (uint8_t)c; }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void puthex(uint32_t v) {
    for (int i = 28; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

static uint16_t crc16(uint16_t crc, uint32_t v) {
    for (int i = 0; i < 32; i++) {
        uint16_t bit = (uint16_t)((v >> i) & 1) ^ (crc & 1);
        crc >>= 1;
        if (bit) crc ^= 0xa001;
    }
    return crc;
}

struct node { struct node *next; int32_t key; int32_t val; };
#define NODES 64
static struct node pool[NODES];

static struct node *list_build(uint32_t seed) {
    struct node *head = 0;
    for (int i = 0; i < NODES; i++) {
        seed = seed * 1103515245u + 12345u;
        pool[i].key = (int32_t)(seed >> 16) & 0x3ff;
        pool[i].val = i;
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}

static struct node *list_reverse(struct node *h) {
    struct node *prev = 0;
    while (h) { struct node *n = h->next; h->next = prev; prev = h; h = n; }
    return prev;
}

static int32_t list_find(struct node *h, int32_t key) {
    for (; h; h = h->next) if (h->key == key) return h->val;
    return -1;
}

#define N 12
static int32_t ma[N][N], mb[N][N], mc[N][N];

static uint32_t matrix(uint32_t seed) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            seed = seed * 1664525u + 1013904223u;
            ma[i][j] = (int32_t)(seed >> 24) - 128;
            mb[i][j] = (int32_t)((seed >> 16) & 0xff) - 128;
        }
    uint32_t sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int32_t acc = 0;
            for (int k = 0; k < N; k++) acc += ma[i][k] * mb[k][j];
            mc[i][j] = acc;
            sum += (uint32_t)acc;
        }
    return sum;
}

static const char text[] = "5012 -73 0x1f +42 9. 17e3 -0.5 abc 1234567 0 -0 3.14159 x 88";

static uint32_t state_machine(void) {
    enum { START, INT, FRAC, EXP, INVALID } st = START;
    uint32_t counts[5] = {0};
    for (const char *p = text; ; p++) {
        char c = *p;
        if (c == ' ' || c == 0) {
            counts[st]++;
            st = START;
            if (!c) break;
            continue;
        }
        switch (st) {
        case START: st = (c >= '0' && c <= '9') || c == '-' || c == '+' ? INT : INVALID; break;
        case INT: st = c == '.' ? FRAC : (c == 'e' || c == 'E') ? EXP : (c >= '0' && c <= '9') ? INT : INVALID; break;
        case FRAC: st = (c >= '0' && c <= '9') ? FRAC : (c == 'e') ? EXP : INVALID; break;
        case EXP: st = (c >= '0' && c <= '9') ? EXP : INVALID; break;
        default: break;
        }
    }
    return counts[INT] | counts[FRAC] << 8 | counts[EXP] << 16 | counts[INVALID] << 24;
}

int main(void) {
    uint16_t crc = 0;
    for (uint32_t iter = 0; iter < 2000; iter++) {
        struct node *h = list_build(iter);
        h = list_reverse(h);
        crc = crc16(crc, (uint32_t)list_find(h, (int32_t)(iter & 0x3ff)));
        crc = crc16(crc, matrix(iter));
        crc = crc16(crc, state_machine());
    }
    puts_("coremark-like crc ");
    puthex(crc);
    putc_('\n');
    return 0;
}
