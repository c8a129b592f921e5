#include "base/ids.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

void uuid_v4(char out[37]) {
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) abort(); /* the kernel's CSPRNG failed */
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);                      /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);                      /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}
