// Internal API for other runtime modules (Request/Response bodies, fetch): creating byte
// streams fed by native code, reading bodies to completion, and inspecting streams without
// going through their public (patchable) methods. Re-exported, with contracts, by
// streams.js. Nothing here is reachable from Worker code.

import {
  Deferred,
  Uint8ArrayConstructor,
  concatUint8Arrays,
  invokePromiseCallback,
  isUint8Array,
  markPromiseHandled,
  promiseRejectedWith,
  promiseResolvedWith,
  queueMicrotaskInternal,
  transformPromiseWith,
  viewByteLength,
} from './streams_common.js';
import {
  acquireReadableStreamDefaultReader,
  createReadableByteStream,
  isReadableStreamLocked,
  readableByteStreamControllerClose,
  readableByteStreamControllerEnqueue,
  readableByteStreamControllerRespond,
  readableStreamDefaultReaderRead,
  readableStreamReaderGenericCancel,
  readableStreamRecord,
  readableStreamTee,
} from './streams_readable.js';

function requireStream(value, fn) {
  const stream = readableStreamRecord(value);
  if (stream === undefined) throw new TypeError(`${fn}: argument is not a ReadableStream`);
  return stream;
}

// Brand check that does not consult (patchable) prototypes.
export function isReadableStream(value) {
  return readableStreamRecord(value) !== undefined;
}

// The spec's [[disturbed]]: the stream has been read from or cancelled.
export function isDisturbed(value) {
  return requireStream(value, 'isDisturbed').disturbed;
}

// IsReadableStreamLocked.
export function isLocked(value) {
  return isReadableStreamLocked(requireStream(value, 'isLocked'));
}

// The expected length of a FixedLengthStream's readable side, else undefined.
export function fixedLengthOf(value) {
  const stream = readableStreamRecord(value);
  return stream === undefined ? undefined : stream.fixedLength;
}

// A byte stream fed by `pull()` (a promise of a Uint8Array, or null at the end).
export function createNativeReadableStream(pull, cancel, options = undefined) {
  let highWaterMark = options === undefined || options === null ? undefined : options.highWaterMark;
  const source = options === undefined || options === null ? undefined : options.source;
  highWaterMark = highWaterMark === undefined ? 0 : +highWaterMark;
  if (!(highWaterMark >= 0)) throw new RangeError('createNativeReadableStream: invalid highWaterMark');
  let stream;
  const pullOnce = () => {
    let result;
    try {
      result = pull();
    } catch (e) {
      return promiseRejectedWith(e);
    }
    return transformPromiseWith(promiseResolvedWith(result), (chunk) => {
      const controller = stream.controller;
      // Cancelled or errored while the native read was in flight: drop the chunk.
      if (controller.closeRequested || stream.state !== 'readable') return undefined;
      if (chunk === null || chunk === undefined) {
        readableByteStreamControllerClose(controller);
        // A BYOB read still waiting is completed (empty, done) by a zero-byte respond.
        if (stream.state === 'closed' && controller.pendingPullIntos.length > 0) {
          readableByteStreamControllerRespond(controller, 0);
        }
        return undefined;
      }
      if (!isUint8Array(chunk)) throw new TypeError('native pull() must produce a Uint8Array or null');
      // An empty chunk cannot be enqueued, and nothing else would trigger another pull.
      if (viewByteLength(chunk) === 0) return pullOnce();
      readableByteStreamControllerEnqueue(controller, chunk);
      return undefined;
    });
  };
  const cancelAlgorithm =
    typeof cancel === 'function'
      ? (reason) => invokePromiseCallback(cancel, undefined, [reason])
      : () => promiseResolvedWith(undefined);
  stream = createReadableByteStream(() => undefined, pullOnce, cancelAlgorithm, highWaterMark);
  stream.nativeSource = source;
  return stream.object;
}

// The `source` of a native stream nobody has touched (not read, locked, cancelled, and with
// nothing pulled yet) for which accept(source) is true, after locking the stream for good;
// else undefined, with no side effects.
export function takeNativeSource(value, accept) {
  const stream = readableStreamRecord(value);
  if (stream === undefined || stream.nativeSource === undefined) return undefined;
  if (!accept(stream.nativeSource)) return undefined;
  const controller = stream.controller;
  if (stream.disturbed || isReadableStreamLocked(stream) || stream.state !== 'readable') return undefined;
  if (controller.pulling || controller.queueTotalSize !== 0 || controller.closeRequested) return undefined;
  acquireReadableStreamDefaultReader(stream);
  stream.disturbed = true;
  const source = stream.nativeSource;
  stream.nativeSource = undefined;
  return source;
}

// A closed byte stream holding `bytes` (whose buffer it takes over).
export function readableStreamFromBytes(bytes) {
  const stream = createReadableByteStream(
    () => undefined,
    () => promiseResolvedWith(undefined),
    () => promiseResolvedWith(undefined),
  );
  if (viewByteLength(bytes) > 0) readableByteStreamControllerEnqueue(stream.controller, bytes);
  readableByteStreamControllerClose(stream.controller);
  return stream.object;
}

// A chunk-at-a-time reader over internal operations, for streaming a body out to native code.
export function acquireBodyReader(value) {
  const stream = requireStream(value, 'acquireBodyReader');
  if (isReadableStreamLocked(stream)) throw new TypeError('acquireBodyReader: the ReadableStream is locked');
  const reader = acquireReadableStreamDefaultReader(stream);
  return {
    read() {
      const result = new Deferred();
      readableStreamDefaultReaderRead(reader, {
        chunkSteps(chunk) {
          if (isUint8Array(chunk)) {
            result.resolve(chunk);
            return;
          }
          const e = new TypeError('The body stream produced a chunk that is not a Uint8Array');
          markPromiseHandled(readableStreamReaderGenericCancel(reader, e));
          result.reject(e);
        },
        closeSteps() {
          result.resolve(null);
        },
        errorSteps(e) {
          result.reject(e);
        },
      });
      return result.promise;
    },
    cancel(reason) {
      return readableStreamReaderGenericCancel(reader, reason);
    },
  };
}

// Fetch's "fully read": locks the stream for good and concatenates every chunk.
export function readAllBytes(value) {
  let stream;
  try {
    stream = requireStream(value, 'readAllBytes');
    if (isReadableStreamLocked(stream)) throw new TypeError('readAllBytes: the ReadableStream is locked');
  } catch (e) {
    return promiseRejectedWith(e);
  }
  const reader = acquireReadableStreamDefaultReader(stream);
  const result = new Deferred();
  const chunks = [];
  let totalLength = 0;
  let inRead = false;
  let readAgain = false;
  const readRequest = {
    chunkSteps(chunk) {
      if (!isUint8Array(chunk)) {
        const e = new TypeError('The body stream produced a chunk that is not a Uint8Array');
        result.reject(e);
        markPromiseHandled(readableStreamReaderGenericCancel(reader, e));
        return;
      }
      chunks[chunks.length] = chunk;
      totalLength += viewByteLength(chunk);
      // Synchronously available chunks are taken in a loop; chunks delivered later (from
      // inside the source's enqueue) resume reading on a fresh microtask.
      if (inRead) readAgain = true;
      else queueMicrotaskInternal(pump);
    },
    closeSteps() {
      result.resolve(chunks.length === 0 ? new Uint8ArrayConstructor(0) : concatUint8Arrays(chunks, totalLength));
    },
    errorSteps(e) {
      result.reject(e);
    },
  };
  function pump() {
    do {
      readAgain = false;
      inRead = true;
      readableStreamDefaultReaderRead(reader, readRequest);
      inRead = false;
    } while (readAgain);
  }
  pump();
  return result.promise;
}

// Takes every chunk at once when the whole body is already queued; otherwise null.
export function tryTakeBufferedChunks(value) {
  const stream = readableStreamRecord(value);
  if (stream === undefined || isReadableStreamLocked(stream) || stream.disturbed) return null;
  if (stream.state === 'closed') {
    acquireReadableStreamDefaultReader(stream);
    stream.disturbed = true;
    return [];
  }
  const controller = stream.controller;
  if (stream.state !== 'readable' || !controller.closeRequested) return null;
  if (!controller.isByte && !controller.queue.every((entry) => isUint8Array(entry.value))) return null;
  // Everything left is queued and no source code can run while it is dequeued, so reading
  // synchronously here is exactly what readAllBytes() would observe.
  const reader = acquireReadableStreamDefaultReader(stream);
  const chunks = [];
  const readRequest = {
    chunkSteps(chunk) {
      chunks[chunks.length] = chunk;
    },
    closeSteps() {},
    errorSteps() {},
  };
  while (stream.state === 'readable' && controller.queue.length > 0) {
    readableStreamDefaultReaderRead(reader, readRequest);
  }
  return chunks;
}

// ReadableStreamTee with an optional StructuredClone stand-in for the second branch.
export function teeReadableStream(value, cloneChunk = undefined) {
  const stream = requireStream(value, 'teeReadableStream');
  const [branch1, branch2] = readableStreamTee(stream, cloneChunk === undefined ? false : cloneChunk);
  return [branch1.object, branch2.object];
}
