/* Compiled to WebAssembly (wasm32, no libc) and called from src/index.js.
 *
 * The Worker copies the request body into `input` (in the module's linear memory) and calls
 * crc32(len); fib(n) shows a plain call. `log_progress` is imported from JavaScript, to show
 * calls in the other direction. */
#include <stdint.h>

#define INPUT_MAX (1 << 20)

/* Provided by the Worker (the import object's env.log_progress). */
void log_progress(uint32_t done, uint32_t total);

static uint8_t input[INPUT_MAX];
static uint32_t table[256];

/* Where JavaScript writes the bytes to checksum, and how many fit. */
uint8_t *input_buffer(void) { return input; }
uint32_t input_capacity(void) { return INPUT_MAX; }

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib's crc32(). */
uint32_t crc32(uint32_t len) {
    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    }
    if (len > INPUT_MAX) len = INPUT_MAX;
    uint32_t c = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < len; i++) {
        c = table[(c ^ input[i]) & 0xFF] ^ (c >> 8);
        if ((i + 1) % 65536 == 0) log_progress(i + 1, len);
    }
    return c ^ 0xFFFFFFFFu;
}

uint64_t fib(uint32_t n) {
    uint64_t a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}
