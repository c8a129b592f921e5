// WHATWG Streams (https://streams.spec.whatwg.org/) for Worker realms: the public classes
// and the internal hooks other runtime modules use. The implementation is split by job:
//
//   streams_common.js     promises, Web IDL conversions, queue-with-sizes, buffer helpers
//   streams_queuing.js    ByteLengthQueuingStrategy, CountQueuingStrategy
//   streams_writable.js   WritableStream, its writer and controller
//   streams_readable.js   ReadableStream, readers, controllers, tee, pipeTo, from
//   streams_transform.js  TransformStream, IdentityTransformStream, FixedLengthStream
//   streams_body.js       internal API for bodies: native byte streams, read-all, inspection
//
// Only the classes are meant to be installed on the global object. Everything else exported
// here is internal API: it bypasses the public methods (so a script that patches
// ReadableStream.prototype cannot interfere) and must not be exposed to Worker code.

export { ByteLengthQueuingStrategy, CountQueuingStrategy } from './streams_queuing.js';
export {
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,
} from './streams_writable.js';
export {
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamDefaultController,
  ReadableByteStreamController,
  ReadableStreamBYOBRequest,
} from './streams_readable.js';
export {
  TransformStream,
  TransformStreamDefaultController,
  IdentityTransformStream,
  FixedLengthStream,
} from './streams_transform.js';

// ---- internal API ----------------------------------------------------------------------------------

// setAbortControllerFactory(factory): `factory()` must return a new AbortController-like
// object ({ signal, abort(reason) }). A WritableStreamDefaultController calls it the first
// time its `signal` getter is read (and never otherwise) and returns that signal; aborting
// the stream calls `abort(reason)` on it before the sink's abort() runs (a signal first read
// after the abort is aborted on creation). While no factory is installed, `controller.signal`
// is undefined. Passing undefined uninstalls it.
export { setAbortControllerFactory } from './streams_writable.js';

// setAbortSignalCheck(isSignal): `isSignal(value)` decides whether pipeTo()/pipeThrough()
// accept `options.signal` (otherwise a TypeError, as Web IDL requires for a non-AbortSignal).
// The default (restored by passing undefined) accepts any object whose `aborted` is a
// boolean and that has add/removeEventListener methods. The pipe only ever uses
// `signal.aborted`, `signal.reason`, and `signal.addEventListener("abort", fn)` /
// `removeEventListener("abort", fn)`.
export { setAbortSignalCheck } from './streams_readable.js';

// setArrayBufferTransfer(transfer): `transfer(buffer)` must return a new ArrayBuffer owning
// `buffer`'s bytes and detach `buffer` (the spec's TransferArrayBuffer; natively
// JS::StealArrayBufferContents + JS::NewArrayBufferWithContents). SpiderMonkey 102 has no
// ArrayBuffer.prototype.transfer, so until this is installed, byte streams copy instead of
// transferring: everything works, but buffers handed to enqueue()/BYOB read() stay usable
// by the caller instead of becoming detached. If `transfer` throws (a buffer that cannot be
// detached, e.g. WebAssembly.Memory's), the stream operation throws a TypeError, as the
// spec's DetachArrayBuffer would. Passing undefined restores the copying default.
export { setArrayBufferTransfer } from './streams_common.js';

export {
  // createNativeReadableStream(pull, cancel, { highWaterMark = 0, source } = {}) → ReadableStream
  //   A byte stream (`type: "bytes"`, so BYOB readers work) fed from native code. `pull()`
  //   is called with no arguments whenever the stream wants data (a read is pending, or
  //   fewer than highWaterMark bytes are queued) and never again before its promise
  //   settles. It returns (a promise of) a Uint8Array chunk or null for end of stream. The
  //   chunk's whole ArrayBuffer is transferred into the stream (see
  //   setArrayBufferTransfer), so hand over buffers nobody else uses. Empty chunks are
  //   skipped (pull() is called again). A rejection or a throw errors the stream with that
  //   reason, any other value with a TypeError. `cancel(reason)` (optional) is called once if the
  //   consumer cancels; its return value or promise is awaited by cancel(). After cancel,
  //   chunks from an in-flight pull() are dropped.
  //   `source` (optional) is kept for takeNativeSource.
  createNativeReadableStream,
  // takeNativeSource(stream, accept) → the `source` given to createNativeReadableStream, or
  //   undefined. Succeeds only for a native stream that is untouched (unlocked, not disturbed,
  //   readable, with nothing queued and no pull() in flight) and whose source accept(source)
  //   approves. It then locks the stream with a reader that
  //   is never released and marks it disturbed (the body is used), so that the caller can move
  //   the bytes natively, bypassing the stream. No author code runs.
  takeNativeSource,
  // readAllBytes(stream) → Promise<Uint8Array>
  //   Fetch's "fully read": locks the stream with a reader it never releases (the body is
  //   then used: disturbed and locked), reads to the end and resolves with the
  //   concatenation (the chunk itself when there was exactly one). Rejects with a TypeError
  //   if `stream` is not a ReadableStream or is locked; with the stream's error if it
  //   errors; with a TypeError (and cancels the stream with it) if a chunk is not a
  //   Uint8Array.
  readAllBytes,
  // acquireBodyReader(stream) → { read(), cancel(reason) }
  //   For streaming a body out chunk by chunk (e.g. to a socket). Locks the stream with a
  //   reader that is never released (throws TypeError if `stream` is not a ReadableStream or
  //   is locked). `read()` → Promise<Uint8Array | null>: the next chunk, or null once the
  //   stream has ended (and on every later call); rejects with the stream's error, or with a
  //   TypeError when a chunk is not a Uint8Array (the stream is then cancelled with it).
  //   Call read() again only after the previous promise settled. `cancel(reason)` →
  //   Promise<undefined>: cancels the stream (the source's cancel runs with `reason`); a
  //   pending read() then resolves null.
  acquireBodyReader,
  // readableStreamFromBytes(u8) → ReadableStream
  //   An already-closed byte stream holding exactly the bytes of `u8` (as one chunk; none
  //   if empty). Takes ownership: u8's ArrayBuffer is transferred (detached once
  //   setArrayBufferTransfer is wired), so pass a buffer the caller no longer needs.
  readableStreamFromBytes,
  // isReadableStream(v) → boolean: brand check, unaffected by prototype tampering.
  isReadableStream,
  // isDisturbed(stream) → boolean: the spec's [[disturbed]] (read from or cancelled).
  //   Throws TypeError for a non-stream.
  isDisturbed,
  // isLocked(stream) → boolean: IsReadableStreamLocked. Throws TypeError for a non-stream.
  isLocked,
  // fixedLengthOf(readable) → number | undefined: the expected length when `readable` is
  //   the readable side of a FixedLengthStream (for Content-Length), otherwise undefined.
  fixedLengthOf,
  // tryTakeBufferedChunks(stream) → Uint8Array[] | null
  //   Fast path for bodies whose bytes are all already queued. Succeeds only when the
  //   stream is unlocked, not disturbed, and either closed or readable with close()
  //   already requested and (for default streams) only Uint8Array chunks queued. It then
  //   reads everything synchronously, leaving the stream locked, disturbed and closed
  //   exactly as readAllBytes() would, and returns the chunks in order. Otherwise returns
  //   null and has no side effects. No author code runs in either case.
  tryTakeBufferedChunks,
  // teeReadableStream(stream, cloneChunk?) → [ReadableStream, ReadableStream]
  //   ReadableStreamTee for Fetch's "clone a body". Byte streams always give the second
  //   branch copies. For default streams, `cloneChunk(chunk)` (the spec's StructuredClone
  //   with cloneForBranch2 = true) is applied to the second branch's chunks when given; if
  //   it throws, both branches error and the source is cancelled with that error. Throws
  //   TypeError for a non-stream or a locked stream.
  teeReadableStream,
} from './streams_body.js';
