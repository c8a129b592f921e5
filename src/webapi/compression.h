/* compression — the zlib ops behind CompressionStream and DecompressionStream
 * (src/runtime/compression.js). */
#ifndef HEARTH_WEBAPI_COMPRESSION_H
#define HEARTH_WEBAPI_COMPRESSION_H

void compression_ops_register(void);

#endif
