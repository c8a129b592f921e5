// Content codings of HTTP bodies, as the Workers runtime handles them:
//
// - fetch() decodes a gzip or br response body as it is read; the Response keeps the origin's
//   Content-Encoding and Content-Length headers (fetch.js);
// - a Response whose Content-Encoding is gzip or br is compressed on its way to the client,
//   unless it was made with `encodeBody: "manual"` (its body is already encoded)
//   (invocation.js);
// - a fetched body returned untouched goes out as the origin encoded it (fetch.js's splice).
//
// "deflate" and every other coding are neither decoded nor encoded, as in workerd.
//
// The codec is zlib's or Brotli's, in C behind a handle (src/webapi/compression.c), also used
// by CompressionStream and DecompressionStream (compression.js).
import ops from "./ops.js";
import { concatBytes } from "./bytes.js";

// "gzip" or "br" for a Content-Encoding value that names one of them alone, else null.
export function codingOf(value) {
  if (value === null || value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (v === "gzip" || v === "x-gzip") return "gzip";
  if (v === "br") return "br";
  return null;
}

// The coding of a flat [name, value, ...] header list (names in lower case).
export function codingOfList(flat) {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (flat[i] === "content-encoding") return codingOf(flat[i + 1]);
  }
  return null;
}

// A compressor or decompressor ("gzip", "deflate", "deflate-raw", "br"). push(bytes, emit)
// calls emit(piece) for each piece of output (a Uint8Array) it produces; finish() returns the
// rest and frees the codec (also when it throws: truncated input); free() gives it up early.
// Output comes from C in bounded pieces, so a decompression bomb meets the memory limit rather
// than growing the C heap. `name` is for the "closed" error.
export function createCodec(format, decompress, name = decompress ? "DecompressionStream" : "CompressionStream") {
  let handle = 0; // 0: not created yet; -1: finished or freed
  const current = () => {
    if (handle === 0) handle = ops.compressionCreate(format, decompress);
    if (handle < 0) throw new TypeError(`${name}: the stream is closed`);
    return handle;
  };
  const free = () => {
    if (handle > 0) ops.compressionFree(handle);
    handle = -1;
  };
  return {
    push(bytes, emit) {
      try {
        const h = current();
        let offset = 0;
        let more;
        do {
          const [out, used, pending] = ops.compressionPush(h, offset === 0 ? bytes : bytes.subarray(offset));
          offset += used;
          more = pending;
          if (out.byteLength > 0) emit(new Uint8Array(out));
        } while (more || offset < bytes.byteLength);
      } catch (e) {
        free(); // nothing will finish it now
        throw e;
      }
    },
    finish() {
      const h = current();
      handle = -1; // compressionFinish frees it, also when it throws
      return new Uint8Array(ops.compressionFinish(h));
    },
    free,
  };
}

// All the output for `bytes` (push), as one Uint8Array.
export function pushAll(codec, bytes) {
  const pieces = [];
  codec.push(bytes, (p) => pieces.push(p));
  return concatBytes(pieces);
}
