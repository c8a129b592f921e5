// CompressionStream and DecompressionStream (https://compression.spec.whatwg.org/), formats
// "gzip", "deflate" and "deflate-raw". As in workerd they are TransformStreams (subclasses),
// whose writable side takes BufferSource chunks and whose readable side gives Uint8Arrays.
//
// The zlib work is done in C (src/webapi/compression.c) on a z_stream kept behind a numeric
// handle. The handle is created at the first chunk (or at close), and freed by flush, by
// cancel/abort, and whenever the stream errors; the C side also frees the streams of
// invocations that have ended, so an abandoned stream does not hold zlib memory for long.
import ops from "./ops.js";
import { exposeInterface, isArrayBuffer, isArrayBufferView, requireArgs } from "./streams_common.js";
import { TransformStream } from "./streams_setup.js";

const FORMATS = ["gzip", "deflate", "deflate-raw"];

function toFormat(args, context) {
  requireArgs(args.length, 1, context);
  const format = `${args[0]}`; // Web IDL enum: ToString (a Symbol throws a TypeError)
  if (!FORMATS.includes(format)) {
    throw new TypeError(`${context}: The provided value '${format}' is not a valid enum value of type CompressionFormat.`);
  }
  return format;
}

function transformer(format, decompress) {
  const name = decompress ? "DecompressionStream" : "CompressionStream";
  let handle = 0; // 0: not created yet; -1: finished or freed
  const release = () => {
    if (handle > 0) ops.compressionFree(handle);
    handle = -1;
  };
  const current = () => {
    if (handle === 0) handle = ops.compressionCreate(format, decompress);
    if (handle < 0) throw new TypeError(`${name}: the stream is closed`);
    return handle;
  };
  return {
    transform(chunk, controller) {
      try {
        if (!isArrayBufferView(chunk) && !isArrayBuffer(chunk)) {
          throw new TypeError(`${name}: the chunk is not an ArrayBuffer or ArrayBufferView`);
        }
        // Output comes in bounded pieces: push the rest of the chunk, and (empty) input
        // while zlib says more output is pending.
        const h = current();
        const bytes = isArrayBuffer(chunk) ? new Uint8Array(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        let offset = 0;
        let more;
        do {
          const [out, used, pending] = ops.compressionPush(h, offset === 0 ? bytes : bytes.subarray(offset));
          offset += used;
          more = pending;
          if (out.byteLength > 0) controller.enqueue(new Uint8Array(out));
        } while (more || offset < bytes.byteLength);
      } catch (e) {
        release(); // the stream errors: nothing will flush or cancel it
        throw e;
      }
    },
    flush(controller) {
      try {
        const h = current();
        handle = -1; // compressionFinish frees it, also when it throws
        const out = ops.compressionFinish(h);
        if (out.byteLength > 0) controller.enqueue(new Uint8Array(out));
      } catch (e) {
        release();
        throw e;
      }
    },
    cancel() {
      release();
    },
  };
}

export class CompressionStream extends TransformStream {
  constructor(format) {
    const f = toFormat(arguments, "Failed to construct 'CompressionStream'");
    super(transformer(f, false));
  }
}

export class DecompressionStream extends TransformStream {
  constructor(format) {
    const f = toFormat(arguments, "Failed to construct 'DecompressionStream'");
    super(transformer(f, true));
  }
}

exposeInterface(CompressionStream, "CompressionStream");
exposeInterface(DecompressionStream, "DecompressionStream");
