// CompressionStream and DecompressionStream (https://compression.spec.whatwg.org/), formats
// "gzip", "deflate" and "deflate-raw". As in workerd they are TransformStreams (subclasses),
// whose writable side takes BufferSource chunks and whose readable side gives Uint8Arrays.
//
// The zlib work is done in C (src/webapi/compression.c) on a z_stream kept behind a numeric
// handle. The handle is created at the first chunk (or at close), and freed by flush, by
// cancel/abort, and whenever the stream errors; the C side also frees the streams of
// invocations that have ended, so an abandoned stream does not hold zlib memory for long.
import { createCodec } from "./content_coding.js";
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
  const codec = createCodec(format, decompress, name);
  return {
    transform(chunk, controller) {
      if (!isArrayBufferView(chunk) && !isArrayBuffer(chunk)) {
        codec.free(); // the stream errors: nothing will flush or cancel it
        throw new TypeError(`${name}: the chunk is not an ArrayBuffer or ArrayBufferView`);
      }
      const bytes = isArrayBuffer(chunk) ? new Uint8Array(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      codec.push(bytes, (piece) => controller.enqueue(piece));
    },
    flush(controller) {
      const out = codec.finish();
      if (out.byteLength > 0) controller.enqueue(out);
    },
    cancel() {
      codec.free();
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
