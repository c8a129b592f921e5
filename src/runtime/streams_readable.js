// ReadableStream and everything that hangs off it (https://streams.spec.whatwg.org/#rs):
// default and BYOB readers, the default and byte-stream controllers, BYOB requests, async
// iteration, tee, pipeTo/pipeThrough and ReadableStream.from.
//
// Every public object keeps its spec internal slots in a plain record held in a single
// private field. The abstract operations take and return records (named `stream`,
// `reader`, `controller` like the spec's variables) and reach the JS-visible object through
// `record.object`. Read requests are objects with chunkSteps/closeSteps/errorSteps methods,
// exactly the spec's "read request" / "read-into request" structs.

import {
  DataViewConstructor,
  Deferred,
  Queue,
  Uint8ArrayConstructor,
  bufferByteLength,
  cloneArrayBuffer,
  cloneAsUint8Array,
  convertQueuingStrategy,
  copyDataBlockBytes,
  dequeueValue,
  dictGet,
  enqueueValueWithSize,
  exposeInterface,
  extractHighWaterMark,
  extractSizeAlgorithm,
  illegalConstructor,
  illegalInvocation,
  invokeCallback,
  invokePromiseCallback,
  isArrayBufferView,
  isDetachedBuffer,
  isObject,
  markPromiseHandled,
  newArrayBuffer,
  newUint8Array,
  newView,
  promiseRejectedWith,
  promiseResolve,
  promiseResolvedWith,
  queueMicrotaskInternal,
  requireArgs,
  resetQueue,
  settledDeferred,
  toBoolean,
  toCallbackMember,
  toDictionary,
  toEnforceRangeULL,
  transferArrayBuffer,
  transformPromiseWith,
  typedArrayElementCount,
  uponFulfillment,
  uponPromise,
  uponRejection,
  viewBuffer,
  viewSlots,
} from './streams_common.js';
import {
  acquireWritableStreamDefaultWriter,
  isWritableStreamLocked,
  writableStreamAbort,
  writableStreamCloseQueuedOrInFlight,
  writableStreamDefaultWriterCloseWithErrorPropagation,
  writableStreamDefaultWriterRelease,
  writableStreamDefaultWriterWrite,
  writableStreamRecord,
} from './streams_writable.js';

// Lets constructors tell internal creation apart from script calls; script can never
// obtain this value.
const kInternal = Symbol('internal');

// ---- internal records -------------------------------------------------------------------------

class ReadableStreamRecord {
  constructor(object) {
    this.object = object;
    // InitializeReadableStream
    this.state = 'readable';
    this.reader = undefined;
    this.storedError = undefined;
    this.disturbed = false;
    this.controller = undefined;
    // hearth: the declared length when this is the readable side of a FixedLengthStream.
    this.fixedLength = undefined;
    // hearth: what feeds a native byte stream (createNativeReadableStream's `source`), so that
    // native code can move the bytes itself when nobody touched the stream.
    this.nativeSource = undefined;
  }
}

class DefaultReaderRecord {
  constructor(object) {
    this.object = object;
    this.isBYOB = false;
    this.stream = undefined;
    this.closed = undefined; // Deferred: [[closedPromise]]
    this.readRequests = new Queue();
  }
}

class BYOBReaderRecord {
  constructor(object) {
    this.object = object;
    this.isBYOB = true;
    this.stream = undefined;
    this.closed = undefined;
    this.readIntoRequests = new Queue();
  }
}

class DefaultControllerRecord {
  constructor() {
    this.object = undefined;
    this.isByte = false;
    this.stream = undefined;
    this.queue = undefined;
    this.queueTotalSize = 0;
    this.started = false;
    this.closeRequested = false;
    this.pullAgain = false;
    this.pulling = false;
    this.strategySizeAlgorithm = undefined;
    this.strategyHWM = 0;
    this.pullAlgorithm = undefined;
    this.cancelAlgorithm = undefined;
  }
}

class ByteControllerRecord {
  constructor() {
    this.object = undefined;
    this.isByte = true;
    this.stream = undefined;
    this.queue = undefined; // Queue of {buffer, byteOffset, byteLength}
    this.queueTotalSize = 0;
    this.started = false;
    this.closeRequested = false;
    this.pullAgain = false;
    this.pulling = false;
    this.strategyHWM = 0;
    this.pullAlgorithm = undefined;
    this.cancelAlgorithm = undefined;
    this.autoAllocateChunkSize = undefined;
    this.byobRequest = null; // BYOBRequestRecord
    this.pendingPullIntos = new Queue(); // of PullIntoDescriptor
  }
}

class BYOBRequestRecord {
  constructor() {
    this.object = undefined;
    this.controller = undefined;
    this.view = null;
  }
}

// A "pull-into descriptor".
class PullIntoDescriptor {
  constructor(buffer, bufferByteLength, byteOffset, byteLength, minimumFill, elementSize, viewConstructor, readerType) {
    this.buffer = buffer;
    this.bufferByteLength = bufferByteLength;
    this.byteOffset = byteOffset;
    this.byteLength = byteLength;
    this.bytesFilled = 0;
    this.minimumFill = minimumFill;
    this.elementSize = elementSize;
    this.viewConstructor = viewConstructor;
    this.readerType = readerType; // "default", "byob" or "none"
  }
}

// Record accessors, assigned from the classes' static blocks (declared before the classes
// because static blocks run while each class is being defined).
let streamRecordOf;
let defaultReaderRecordOf;
let byobReaderRecordOf;
let defaultControllerRecordOf;
let byteControllerRecordOf;
let byobRequestRecordOf;
let asyncIteratorRecordOf;

// ---- Web IDL dictionaries -------------------------------------------------------------------------

// UnderlyingSource: autoAllocateChunkSize, cancel, pull, start, type.
function convertUnderlyingSource(value, context) {
  const dict = toDictionary(value, `${context}: the underlying source`);
  const what = `${context}: underlying source member`;
  let autoAllocateChunkSize = dictGet(dict, 'autoAllocateChunkSize');
  if (autoAllocateChunkSize !== undefined) {
    autoAllocateChunkSize = toEnforceRangeULL(autoAllocateChunkSize, `${what} 'autoAllocateChunkSize'`);
  }
  const cancel = toCallbackMember(dict, 'cancel', what);
  const pull = toCallbackMember(dict, 'pull', what);
  const start = toCallbackMember(dict, 'start', what);
  let type = dictGet(dict, 'type');
  if (type !== undefined) {
    type = `${type}`;
    if (type !== 'bytes') throw new TypeError(`${what} 'type': '${type}' is not a valid ReadableStreamType`);
  }
  return { autoAllocateChunkSize, cancel, pull, start, type };
}

// AbortSignal is implemented by another module; by default any object with the
// EventTarget-style methods and an `aborted` property is accepted. The embedder can install
// a real brand check with setAbortSignalCheck().
const isAbortSignalLike = (value) => {
  if (!isObject(value)) return false;
  try {
    return (
      typeof value.aborted === 'boolean' &&
      typeof value.addEventListener === 'function' &&
      typeof value.removeEventListener === 'function'
    );
  } catch {
    // e.g. an object inheriting AbortSignal.prototype whose brand-checking getters throw.
    return false;
  }
};

let isAbortSignal = isAbortSignalLike;

// Passing undefined restores the default.
export function setAbortSignalCheck(check) {
  isAbortSignal = check === undefined ? isAbortSignalLike : check;
}

// StreamPipeOptions: preventAbort, preventCancel, preventClose, signal.
function convertPipeOptions(options, context) {
  const dict = toDictionary(options, `${context}: the options`);
  const preventAbort = toBoolean(dictGet(dict, 'preventAbort'));
  const preventCancel = toBoolean(dictGet(dict, 'preventCancel'));
  const preventClose = toBoolean(dictGet(dict, 'preventClose'));
  const signal = dictGet(dict, 'signal');
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new TypeError(`${context}: member signal is not of type AbortSignal.`);
  }
  return { preventAbort, preventCancel, preventClose, signal };
}

// ---- ReadableStream -----------------------------------------------------------------------------------

export class ReadableStream {
  #r;

  constructor(underlyingSource = undefined, strategy = undefined) {
    if (underlyingSource === kInternal) {
      this.#r = new ReadableStreamRecord(this);
      return;
    }
    const context = "Failed to construct 'ReadableStream'";
    // Web IDL converts the arguments (`optional object`, then the QueuingStrategy dictionary)
    // before the constructor steps convert the source to the UnderlyingSource dictionary,
    // so the strategy's getters run first.
    if (underlyingSource !== undefined && !isObject(underlyingSource)) {
      throw new TypeError(`${context}: the underlying source must be an object`);
    }
    const strategyDict = convertQueuingStrategy(strategy, `${context}: the strategy`);
    const source = convertUnderlyingSource(underlyingSource === undefined ? null : underlyingSource, context);
    const stream = (this.#r = new ReadableStreamRecord(this));
    if (source.type === 'bytes') {
      if (strategyDict.size !== undefined) {
        throw new RangeError(`${context}: the strategy for a byte stream cannot have a size function`);
      }
      const highWaterMark = extractHighWaterMark(strategyDict, 0);
      setUpReadableByteStreamControllerFromUnderlyingSource(stream, underlyingSource, source, highWaterMark);
    } else {
      const sizeAlgorithm = extractSizeAlgorithm(strategyDict);
      const highWaterMark = extractHighWaterMark(strategyDict, 1);
      setUpReadableStreamDefaultControllerFromUnderlyingSource(
        stream,
        underlyingSource,
        source,
        highWaterMark,
        sizeAlgorithm,
      );
    }
  }

  static from(asyncIterable) {
    requireArgs(arguments.length, 1, "Failed to execute 'from' on 'ReadableStream'");
    return readableStreamFromIterable(asyncIterable).object;
  }

  get locked() {
    const stream = streamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('ReadableStream');
    return isReadableStreamLocked(stream);
  }

  cancel(reason = undefined) {
    const stream = streamRecordOf(this);
    if (stream === undefined) return promiseRejectedWith(illegalInvocation('ReadableStream'));
    if (isReadableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeError('Cannot cancel a ReadableStream that is locked to a reader'));
    }
    return readableStreamCancel(stream, reason);
  }

  getReader(options = undefined) {
    const stream = streamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('ReadableStream');
    const context = "Failed to execute 'getReader' on 'ReadableStream'";
    const dict = toDictionary(options, `${context}: the options`);
    let mode = dictGet(dict, 'mode');
    if (mode !== undefined) {
      mode = `${mode}`;
      if (mode !== 'byob') throw new TypeError(`${context}: '${mode}' is not a valid ReadableStreamReaderMode`);
      return acquireReadableStreamBYOBReader(stream).object;
    }
    return acquireReadableStreamDefaultReader(stream).object;
  }

  pipeThrough(transform, options = undefined) {
    const stream = streamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('ReadableStream');
    const context = "Failed to execute 'pipeThrough' on 'ReadableStream'";
    requireArgs(arguments.length, 1, context);
    // ReadableWritablePair: readable, writable (both required).
    const pair = toDictionary(transform, `${context}: the transform`);
    const readable = dictGet(pair, 'readable');
    if (readable === undefined) throw new TypeError(`${context}: required member readable is undefined.`);
    if (streamRecordOf(readable) === undefined) {
      throw new TypeError(`${context}: member readable is not of type ReadableStream.`);
    }
    const writableObject = dictGet(pair, 'writable');
    if (writableObject === undefined) throw new TypeError(`${context}: required member writable is undefined.`);
    const writable = writableStreamRecord(writableObject);
    if (writable === undefined) throw new TypeError(`${context}: member writable is not of type WritableStream.`);
    const opts = convertPipeOptions(options, context);
    if (isReadableStreamLocked(stream)) throw new TypeError(`${context}: this stream is locked`);
    if (isWritableStreamLocked(writable)) throw new TypeError(`${context}: the writable side is locked`);
    const promise = readableStreamPipeTo(
      stream,
      writable,
      opts.preventClose,
      opts.preventAbort,
      opts.preventCancel,
      opts.signal,
    );
    markPromiseHandled(promise);
    return readable;
  }

  pipeTo(destination, options = undefined) {
    const stream = streamRecordOf(this);
    if (stream === undefined) return promiseRejectedWith(illegalInvocation('ReadableStream'));
    const context = "Failed to execute 'pipeTo' on 'ReadableStream'";
    let dest;
    let opts;
    try {
      requireArgs(arguments.length, 1, context);
      dest = writableStreamRecord(destination);
      if (dest === undefined) throw new TypeError(`${context}: parameter 1 is not of type 'WritableStream'.`);
      opts = convertPipeOptions(options, context);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (isReadableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeError(`${context}: this stream is locked`));
    }
    if (isWritableStreamLocked(dest)) {
      return promiseRejectedWith(new TypeError(`${context}: the destination is locked`));
    }
    return readableStreamPipeTo(stream, dest, opts.preventClose, opts.preventAbort, opts.preventCancel, opts.signal);
  }

  tee() {
    const stream = streamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('ReadableStream');
    const [branch1, branch2] = readableStreamTee(stream, false);
    return [branch1.object, branch2.object];
  }

  values(options = undefined) {
    const stream = streamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('ReadableStream');
    const dict = toDictionary(options, "Failed to execute 'values' on 'ReadableStream': the options");
    const preventCancel = toBoolean(dictGet(dict, 'preventCancel'));
    const reader = acquireReadableStreamDefaultReader(stream);
    return createAsyncIterator(reader, preventCancel);
  }

  static {
    streamRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- ReadableStreamDefaultReader ------------------------------------------------------------------

// The read request behind reader.read(): settles a promise with a read result.
class PromiseReadRequest {
  constructor() {
    this.result = new Deferred();
  }

  chunkSteps(chunk) {
    this.result.resolve({ value: chunk, done: false });
  }

  closeSteps() {
    this.result.resolve({ value: undefined, done: true });
  }

  errorSteps(e) {
    this.result.reject(e);
  }
}

function readerReleasedError(action) {
  return new TypeError(`Cannot ${action} a stream using a released reader`);
}

export class ReadableStreamDefaultReader {
  #r;

  constructor(stream) {
    requireArgs(arguments.length, 1, "Failed to construct 'ReadableStreamDefaultReader'");
    const streamRecord = streamRecordOf(stream);
    if (streamRecord === undefined) {
      throw new TypeError("Failed to construct 'ReadableStreamDefaultReader': parameter 1 is not a ReadableStream");
    }
    const reader = (this.#r = new DefaultReaderRecord(this));
    setUpReadableStreamDefaultReader(reader, streamRecord);
  }

  get closed() {
    const reader = defaultReaderRecordOf(this);
    if (reader === undefined) return promiseRejectedWith(illegalInvocation('ReadableStreamDefaultReader'));
    return reader.closed.promise;
  }

  cancel(reason = undefined) {
    const reader = defaultReaderRecordOf(this);
    if (reader === undefined) return promiseRejectedWith(illegalInvocation('ReadableStreamDefaultReader'));
    if (reader.stream === undefined) return promiseRejectedWith(readerReleasedError('cancel'));
    return readableStreamReaderGenericCancel(reader, reason);
  }

  read() {
    const reader = defaultReaderRecordOf(this);
    if (reader === undefined) return promiseRejectedWith(illegalInvocation('ReadableStreamDefaultReader'));
    if (reader.stream === undefined) return promiseRejectedWith(readerReleasedError('read from'));
    const readRequest = new PromiseReadRequest();
    readableStreamDefaultReaderRead(reader, readRequest);
    return readRequest.result.promise;
  }

  releaseLock() {
    const reader = defaultReaderRecordOf(this);
    if (reader === undefined) throw illegalInvocation('ReadableStreamDefaultReader');
    if (reader.stream === undefined) return;
    readableStreamDefaultReaderRelease(reader);
  }

  static {
    defaultReaderRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- ReadableStreamBYOBReader ------------------------------------------------------------------------

class PromiseReadIntoRequest {
  constructor() {
    this.result = new Deferred();
  }

  chunkSteps(chunk) {
    this.result.resolve({ value: chunk, done: false });
  }

  closeSteps(chunk) {
    this.result.resolve({ value: chunk, done: true });
  }

  errorSteps(e) {
    this.result.reject(e);
  }
}

export class ReadableStreamBYOBReader {
  #r;

  constructor(stream) {
    requireArgs(arguments.length, 1, "Failed to construct 'ReadableStreamBYOBReader'");
    const streamRecord = streamRecordOf(stream);
    if (streamRecord === undefined) {
      throw new TypeError("Failed to construct 'ReadableStreamBYOBReader': parameter 1 is not a ReadableStream");
    }
    const reader = (this.#r = new BYOBReaderRecord(this));
    setUpReadableStreamBYOBReader(reader, streamRecord);
  }

  get closed() {
    const reader = byobReaderRecordOf(this);
    if (reader === undefined) return promiseRejectedWith(illegalInvocation('ReadableStreamBYOBReader'));
    return reader.closed.promise;
  }

  cancel(reason = undefined) {
    const reader = byobReaderRecordOf(this);
    if (reader === undefined) return promiseRejectedWith(illegalInvocation('ReadableStreamBYOBReader'));
    if (reader.stream === undefined) return promiseRejectedWith(readerReleasedError('cancel'));
    return readableStreamReaderGenericCancel(reader, reason);
  }

  read(view, options = undefined) {
    const reader = byobReaderRecordOf(this);
    if (reader === undefined) return promiseRejectedWith(illegalInvocation('ReadableStreamBYOBReader'));
    const context = "Failed to execute 'read' on 'ReadableStreamBYOBReader'";
    let min;
    let slots;
    try {
      requireArgs(arguments.length, 1, context);
      if (!isArrayBufferView(view)) throw new TypeError(`${context}: parameter 1 is not of type 'ArrayBufferView'.`);
      // ReadableStreamBYOBReaderReadOptions: { [EnforceRange] unsigned long long min = 1 }
      const dict = toDictionary(options, `${context}: the options`);
      min = dictGet(dict, 'min');
      min = min === undefined ? 1 : toEnforceRangeULL(min, `${context}: member min`);
      slots = viewSlots(view);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    if (slots.byteLength === 0) {
      return promiseRejectedWith(new TypeError(`${context}: view must have non-zero byteLength`));
    }
    if (bufferByteLength(slots.buffer) === 0) {
      return promiseRejectedWith(new TypeError(`${context}: view's buffer must have non-zero byteLength`));
    }
    if (isDetachedBuffer(slots.buffer)) {
      return promiseRejectedWith(new TypeError(`${context}: view's buffer has been detached`));
    }
    if (min === 0) return promiseRejectedWith(new TypeError(`${context}: options.min must be greater than 0`));
    if (slots.kind !== undefined) {
      if (min > typedArrayElementCount(view)) {
        return promiseRejectedWith(new RangeError(`${context}: options.min must be at most the view's length`));
      }
    } else if (min > slots.byteLength) {
      return promiseRejectedWith(new RangeError(`${context}: options.min must be at most the view's byteLength`));
    }
    if (reader.stream === undefined) return promiseRejectedWith(readerReleasedError('read from'));
    const readIntoRequest = new PromiseReadIntoRequest();
    readableStreamBYOBReaderRead(reader, view, min, readIntoRequest);
    return readIntoRequest.result.promise;
  }

  releaseLock() {
    const reader = byobReaderRecordOf(this);
    if (reader === undefined) throw illegalInvocation('ReadableStreamBYOBReader');
    if (reader.stream === undefined) return;
    readableStreamBYOBReaderRelease(reader);
  }

  static {
    byobReaderRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- ReadableStreamDefaultController --------------------------------------------------------------

export class ReadableStreamDefaultController {
  #r;

  constructor(token = undefined, record = undefined) {
    if (token !== kInternal) throw illegalConstructor();
    this.#r = record;
  }

  get desiredSize() {
    const controller = defaultControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableStreamDefaultController');
    return readableStreamDefaultControllerGetDesiredSize(controller);
  }

  close() {
    const controller = defaultControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableStreamDefaultController');
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) {
      throw new TypeError('The stream is not in a state that permits close');
    }
    readableStreamDefaultControllerClose(controller);
  }

  enqueue(chunk = undefined) {
    const controller = defaultControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableStreamDefaultController');
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) {
      throw new TypeError('The stream is not in a state that permits enqueue');
    }
    readableStreamDefaultControllerEnqueue(controller, chunk);
  }

  error(e = undefined) {
    const controller = defaultControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableStreamDefaultController');
    readableStreamDefaultControllerError(controller, e);
  }

  static {
    defaultControllerRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- ReadableByteStreamController -----------------------------------------------------------------

export class ReadableByteStreamController {
  #r;

  constructor(token = undefined, record = undefined) {
    if (token !== kInternal) throw illegalConstructor();
    this.#r = record;
  }

  get byobRequest() {
    const controller = byteControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableByteStreamController');
    const request = readableByteStreamControllerGetBYOBRequest(controller);
    return request === null ? null : request.object;
  }

  get desiredSize() {
    const controller = byteControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableByteStreamController');
    return readableByteStreamControllerGetDesiredSize(controller);
  }

  close() {
    const controller = byteControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableByteStreamController');
    if (controller.closeRequested) throw new TypeError('The stream has already been closed');
    if (controller.stream.state !== 'readable') {
      throw new TypeError('The stream is not in a state that permits close');
    }
    readableByteStreamControllerClose(controller);
  }

  enqueue(chunk) {
    const controller = byteControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableByteStreamController');
    const context = "Failed to execute 'enqueue' on 'ReadableByteStreamController'";
    requireArgs(arguments.length, 1, context);
    if (!isArrayBufferView(chunk)) throw new TypeError(`${context}: parameter 1 is not of type 'ArrayBufferView'.`);
    const { buffer, byteLength } = viewSlots(chunk);
    if (byteLength === 0) throw new TypeError(`${context}: chunk must have non-zero byteLength`);
    if (bufferByteLength(buffer) === 0) throw new TypeError(`${context}: chunk's buffer must have non-zero byteLength`);
    if (controller.closeRequested) throw new TypeError(`${context}: the stream is closed or draining`);
    if (controller.stream.state !== 'readable') {
      throw new TypeError(`${context}: the stream is not in a state that permits enqueue`);
    }
    readableByteStreamControllerEnqueue(controller, chunk);
  }

  error(e = undefined) {
    const controller = byteControllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('ReadableByteStreamController');
    readableByteStreamControllerError(controller, e);
  }

  static {
    byteControllerRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- ReadableStreamBYOBRequest ---------------------------------------------------------------------

export class ReadableStreamBYOBRequest {
  #r;

  constructor(token = undefined, record = undefined) {
    if (token !== kInternal) throw illegalConstructor();
    this.#r = record;
  }

  get view() {
    const request = byobRequestRecordOf(this);
    if (request === undefined) throw illegalInvocation('ReadableStreamBYOBRequest');
    return request.view;
  }

  respond(bytesWritten) {
    const request = byobRequestRecordOf(this);
    if (request === undefined) throw illegalInvocation('ReadableStreamBYOBRequest');
    const context = "Failed to execute 'respond' on 'ReadableStreamBYOBRequest'";
    requireArgs(arguments.length, 1, context);
    bytesWritten = toEnforceRangeULL(bytesWritten, `${context}: parameter 1`);
    if (request.controller === undefined) throw new TypeError(`${context}: this request has been invalidated`);
    if (isDetachedBuffer(viewBuffer(request.view))) {
      throw new TypeError(`${context}: the view's buffer has been detached`);
    }
    readableByteStreamControllerRespond(request.controller, bytesWritten);
  }

  respondWithNewView(view) {
    const request = byobRequestRecordOf(this);
    if (request === undefined) throw illegalInvocation('ReadableStreamBYOBRequest');
    const context = "Failed to execute 'respondWithNewView' on 'ReadableStreamBYOBRequest'";
    requireArgs(arguments.length, 1, context);
    if (!isArrayBufferView(view)) throw new TypeError(`${context}: parameter 1 is not of type 'ArrayBufferView'.`);
    if (request.controller === undefined) throw new TypeError(`${context}: this request has been invalidated`);
    if (isDetachedBuffer(viewBuffer(view))) throw new TypeError(`${context}: the view's buffer has been detached`);
    readableByteStreamControllerRespondWithNewView(request.controller, view);
  }

  static {
    byobRequestRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- async iteration (Web IDL asynchronous iterator over ReadableStream) ---------------------------------

const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);

// Marks "end of iteration" in the results of readableStreamAsyncIteratorGetNext.
const endOfIteration = Object.freeze({ endOfIteration: true });

function iterResult(value, done) {
  return { value, done };
}

class AsyncIteratorRecord {
  constructor(reader, preventCancel) {
    this.reader = reader;
    this.preventCancel = preventCancel;
    this.isFinished = false;
    this.ongoingPromise = null;
  }
}

class ReadableStreamAsyncIterator {
  #r;

  constructor(token = undefined, record = undefined) {
    if (token !== kInternal) throw illegalConstructor();
    this.#r = record;
  }

  next() {
    const it = asyncIteratorRecordOf(this);
    if (it === undefined) return promiseRejectedWith(illegalInvocation('ReadableStream async iterator'));
    const nextSteps = () => {
      if (it.isFinished) return promiseResolvedWith(iterResult(undefined, true));
      const nextPromise = readableStreamAsyncIteratorGetNext(it);
      return transformPromiseWith(
        nextPromise,
        (next) => {
          it.ongoingPromise = null;
          if (next === endOfIteration) {
            it.isFinished = true;
            return iterResult(undefined, true);
          }
          return iterResult(next, false);
        },
        (reason) => {
          it.ongoingPromise = null;
          it.isFinished = true;
          throw reason;
        },
      );
    };
    // Calls to next() are serialized: each waits for the previous one to settle.
    it.ongoingPromise =
      it.ongoingPromise !== null ? transformPromiseWith(it.ongoingPromise, nextSteps, nextSteps) : nextSteps();
    return it.ongoingPromise;
  }

  return(value) {
    const it = asyncIteratorRecordOf(this);
    if (it === undefined) return promiseRejectedWith(illegalInvocation('ReadableStream async iterator'));
    const returnSteps = () => {
      if (it.isFinished) return promiseResolvedWith(iterResult(value, true));
      it.isFinished = true;
      return readableStreamAsyncIteratorReturn(it, value);
    };
    it.ongoingPromise =
      it.ongoingPromise !== null ? transformPromiseWith(it.ongoingPromise, returnSteps, returnSteps) : returnSteps();
    return transformPromiseWith(it.ongoingPromise, () => iterResult(value, true));
  }

  static {
    asyncIteratorRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// The asynchronous iterator prototype has no constructor and inherits %AsyncIteratorPrototype%.
Object.setPrototypeOf(ReadableStreamAsyncIterator.prototype, AsyncIteratorPrototype);
delete ReadableStreamAsyncIterator.prototype.constructor;

function createAsyncIterator(reader, preventCancel) {
  return new ReadableStreamAsyncIterator(kInternal, new AsyncIteratorRecord(reader, preventCancel));
}

// The "get the next iteration result" steps for ReadableStream.
function readableStreamAsyncIteratorGetNext(it) {
  const reader = it.reader;
  const promise = new Deferred();
  readableStreamDefaultReaderRead(reader, {
    chunkSteps(chunk) {
      promise.resolve(chunk);
    },
    closeSteps() {
      readableStreamDefaultReaderRelease(reader);
      promise.resolve(endOfIteration);
    },
    errorSteps(e) {
      readableStreamDefaultReaderRelease(reader);
      promise.reject(e);
    },
  });
  return promise.promise;
}

// The "asynchronous iterator return" steps for ReadableStream.
function readableStreamAsyncIteratorReturn(it, arg) {
  const reader = it.reader;
  if (!it.preventCancel) {
    const result = readableStreamReaderGenericCancel(reader, arg);
    readableStreamDefaultReaderRelease(reader);
    return result;
  }
  readableStreamDefaultReaderRelease(reader);
  return promiseResolvedWith(undefined);
}

// ---- interface objects ---------------------------------------------------------------------------------

exposeInterface(ReadableStream, 'ReadableStream');
exposeInterface(ReadableStreamDefaultReader, 'ReadableStreamDefaultReader');
exposeInterface(ReadableStreamBYOBReader, 'ReadableStreamBYOBReader');
exposeInterface(ReadableStreamDefaultController, 'ReadableStreamDefaultController');
exposeInterface(ReadableByteStreamController, 'ReadableByteStreamController');
exposeInterface(ReadableStreamBYOBRequest, 'ReadableStreamBYOBRequest');
exposeInterface(ReadableStreamAsyncIterator, 'ReadableStream AsyncIterator');
// Web IDL: @@asyncIterator is the very same function object as values().
Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, {
  value: ReadableStream.prototype.values,
  writable: true,
  enumerable: false,
  configurable: true,
});

// ---- abstract operations: ReadableStream ------------------------------------------------------------

export function acquireReadableStreamBYOBReader(stream) {
  return byobReaderRecordOf(new ReadableStreamBYOBReader(stream.object));
}

export function acquireReadableStreamDefaultReader(stream) {
  return defaultReaderRecordOf(new ReadableStreamDefaultReader(stream.object));
}

function newDefaultControllerRecord() {
  const controller = new DefaultControllerRecord();
  controller.object = new ReadableStreamDefaultController(kInternal, controller);
  return controller;
}

function newByteControllerRecord() {
  const controller = new ByteControllerRecord();
  controller.object = new ReadableByteStreamController(kInternal, controller);
  return controller;
}

// CreateReadableStream
export function createReadableStream(
  startAlgorithm,
  pullAlgorithm,
  cancelAlgorithm,
  highWaterMark = 1,
  sizeAlgorithm = () => 1,
) {
  const stream = streamRecordOf(new ReadableStream(kInternal));
  const controller = newDefaultControllerRecord();
  setUpReadableStreamDefaultController(
    stream,
    controller,
    startAlgorithm,
    pullAlgorithm,
    cancelAlgorithm,
    highWaterMark,
    sizeAlgorithm,
  );
  return stream;
}

// CreateReadableByteStream. The spec always uses a high-water mark of 0; the extra
// parameters serve the runtime's native body streams and IdentityTransformStream.
export function createReadableByteStream(
  startAlgorithm,
  pullAlgorithm,
  cancelAlgorithm,
  highWaterMark = 0,
  autoAllocateChunkSize = undefined,
) {
  const stream = streamRecordOf(new ReadableStream(kInternal));
  const controller = newByteControllerRecord();
  setUpReadableByteStreamController(
    stream,
    controller,
    startAlgorithm,
    pullAlgorithm,
    cancelAlgorithm,
    highWaterMark,
    autoAllocateChunkSize,
  );
  return stream;
}

export function isReadableStreamLocked(stream) {
  return stream.reader !== undefined;
}

export function readableStreamCancel(stream, reason) {
  stream.disturbed = true;
  if (stream.state === 'closed') return promiseResolvedWith(undefined);
  if (stream.state === 'errored') return promiseRejectedWith(stream.storedError);
  readableStreamClose(stream);
  const reader = stream.reader;
  if (reader !== undefined && reader.isBYOB) {
    for (const readIntoRequest of reader.readIntoRequests.drain()) readIntoRequest.closeSteps(undefined);
  }
  const controller = stream.controller;
  const sourceCancelPromise = controller.isByte
    ? readableByteStreamControllerCancelSteps(controller, reason)
    : readableStreamDefaultControllerCancelSteps(controller, reason);
  return transformPromiseWith(sourceCancelPromise, () => undefined);
}

function readableStreamClose(stream) {
  stream.state = 'closed';
  const reader = stream.reader;
  if (reader === undefined) return;
  reader.closed.resolve(undefined);
  if (!reader.isBYOB) {
    for (const readRequest of reader.readRequests.drain()) readRequest.closeSteps();
  }
}

function readableStreamError(stream, e) {
  stream.state = 'errored';
  stream.storedError = e;
  const reader = stream.reader;
  if (reader === undefined) return;
  reader.closed.reject(e);
  markPromiseHandled(reader.closed.promise);
  if (!reader.isBYOB) readableStreamDefaultReaderErrorReadRequests(reader, e);
  else readableStreamBYOBReaderErrorReadIntoRequests(reader, e);
}

function readableStreamAddReadRequest(stream, readRequest) {
  stream.reader.readRequests.push(readRequest);
}

function readableStreamAddReadIntoRequest(stream, readIntoRequest) {
  stream.reader.readIntoRequests.push(readIntoRequest);
}

function readableStreamFulfillReadRequest(stream, chunk, done) {
  const readRequest = stream.reader.readRequests.shift();
  if (done) readRequest.closeSteps();
  else readRequest.chunkSteps(chunk);
}

function readableStreamFulfillReadIntoRequest(stream, chunk, done) {
  const readIntoRequest = stream.reader.readIntoRequests.shift();
  if (done) readIntoRequest.closeSteps(chunk);
  else readIntoRequest.chunkSteps(chunk);
}

function readableStreamGetNumReadRequests(stream) {
  return stream.reader.readRequests.length;
}

function readableStreamGetNumReadIntoRequests(stream) {
  return stream.reader.readIntoRequests.length;
}

function readableStreamHasDefaultReader(stream) {
  const reader = stream.reader;
  return reader !== undefined && !reader.isBYOB;
}

function readableStreamHasBYOBReader(stream) {
  const reader = stream.reader;
  return reader !== undefined && reader.isBYOB;
}

// ---- abstract operations: readers ----------------------------------------------------------------------

export function readableStreamReaderGenericCancel(reader, reason) {
  return readableStreamCancel(reader.stream, reason);
}

function readableStreamReaderGenericInitialize(reader, stream) {
  reader.stream = stream;
  stream.reader = reader;
  if (stream.state === 'readable') {
    reader.closed = new Deferred();
  } else if (stream.state === 'closed') {
    reader.closed = settledDeferred(true, undefined);
  } else {
    reader.closed = settledDeferred(false, stream.storedError);
    markPromiseHandled(reader.closed.promise);
  }
}

function readableStreamReaderGenericRelease(reader) {
  const stream = reader.stream;
  const releasedError = new TypeError('The reader was released: its lock on the stream is gone');
  if (stream.state === 'readable') reader.closed.reject(releasedError);
  else reader.closed = settledDeferred(false, releasedError);
  markPromiseHandled(reader.closed.promise);
  const controller = stream.controller;
  if (controller.isByte) readableByteStreamControllerReleaseSteps(controller);
  stream.reader = undefined;
  reader.stream = undefined;
}

function readableStreamBYOBReaderErrorReadIntoRequests(reader, e) {
  for (const readIntoRequest of reader.readIntoRequests.drain()) readIntoRequest.errorSteps(e);
}

function readableStreamBYOBReaderRead(reader, view, min, readIntoRequest) {
  const stream = reader.stream;
  stream.disturbed = true;
  if (stream.state === 'errored') readIntoRequest.errorSteps(stream.storedError);
  else readableByteStreamControllerPullInto(stream.controller, view, min, readIntoRequest);
}

export function readableStreamBYOBReaderRelease(reader) {
  readableStreamReaderGenericRelease(reader);
  readableStreamBYOBReaderErrorReadIntoRequests(reader, readerReleasedTypeError());
}

function readerReleasedTypeError() {
  return new TypeError('The reader was released while a read was pending');
}

function readableStreamDefaultReaderErrorReadRequests(reader, e) {
  for (const readRequest of reader.readRequests.drain()) readRequest.errorSteps(e);
}

export function readableStreamDefaultReaderRead(reader, readRequest) {
  const stream = reader.stream;
  stream.disturbed = true;
  if (stream.state === 'closed') readRequest.closeSteps();
  else if (stream.state === 'errored') readRequest.errorSteps(stream.storedError);
  else if (stream.controller.isByte) readableByteStreamControllerPullSteps(stream.controller, readRequest);
  else readableStreamDefaultControllerPullSteps(stream.controller, readRequest);
}

export function readableStreamDefaultReaderRelease(reader) {
  readableStreamReaderGenericRelease(reader);
  readableStreamDefaultReaderErrorReadRequests(reader, readerReleasedTypeError());
}

function setUpReadableStreamBYOBReader(reader, stream) {
  if (isReadableStreamLocked(stream)) throw new TypeError('This ReadableStream is already locked to a reader');
  if (!stream.controller.isByte) {
    throw new TypeError('Cannot get a BYOB reader for a stream that is not a byte stream');
  }
  readableStreamReaderGenericInitialize(reader, stream);
  reader.readIntoRequests = new Queue();
}

function setUpReadableStreamDefaultReader(reader, stream) {
  if (isReadableStreamLocked(stream)) throw new TypeError('This ReadableStream is already locked to a reader');
  readableStreamReaderGenericInitialize(reader, stream);
  reader.readRequests = new Queue();
}

// ---- abstract operations: default controllers -------------------------------------------------------------

function readableStreamDefaultControllerCancelSteps(controller, reason) {
  resetQueue(controller);
  const result = controller.cancelAlgorithm(reason);
  readableStreamDefaultControllerClearAlgorithms(controller);
  return result;
}

function readableStreamDefaultControllerPullSteps(controller, readRequest) {
  const stream = controller.stream;
  if (controller.queue.length > 0) {
    const chunk = dequeueValue(controller);
    if (controller.closeRequested && controller.queue.length === 0) {
      readableStreamDefaultControllerClearAlgorithms(controller);
      readableStreamClose(stream);
    } else {
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    }
    readRequest.chunkSteps(chunk);
  } else {
    readableStreamAddReadRequest(stream, readRequest);
    readableStreamDefaultControllerCallPullIfNeeded(controller);
  }
}

function readableStreamDefaultControllerCallPullIfNeeded(controller) {
  if (!readableStreamDefaultControllerShouldCallPull(controller)) return;
  if (controller.pulling) {
    controller.pullAgain = true;
    return;
  }
  controller.pulling = true;
  const pullPromise = controller.pullAlgorithm();
  uponPromise(
    pullPromise,
    () => {
      controller.pulling = false;
      if (controller.pullAgain) {
        controller.pullAgain = false;
        readableStreamDefaultControllerCallPullIfNeeded(controller);
      }
    },
    (e) => readableStreamDefaultControllerError(controller, e),
  );
}

function readableStreamDefaultControllerShouldCallPull(controller) {
  const stream = controller.stream;
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return false;
  if (!controller.started) return false;
  if (isReadableStreamLocked(stream) && readableStreamGetNumReadRequests(stream) > 0) return true;
  return readableStreamDefaultControllerGetDesiredSize(controller) > 0;
}

// Dropping the algorithms lets the underlying source be garbage-collected once it can no
// longer be called.
function readableStreamDefaultControllerClearAlgorithms(controller) {
  controller.pullAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
  controller.strategySizeAlgorithm = undefined;
}

export function readableStreamDefaultControllerClose(controller) {
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  controller.closeRequested = true;
  if (controller.queue.length === 0) {
    readableStreamDefaultControllerClearAlgorithms(controller);
    readableStreamClose(stream);
  }
}

export function readableStreamDefaultControllerEnqueue(controller, chunk) {
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  if (isReadableStreamLocked(stream) && readableStreamGetNumReadRequests(stream) > 0) {
    readableStreamFulfillReadRequest(stream, chunk, false);
  } else {
    let chunkSize;
    try {
      chunkSize = controller.strategySizeAlgorithm(chunk);
    } catch (e) {
      readableStreamDefaultControllerError(controller, e);
      throw e;
    }
    try {
      enqueueValueWithSize(controller, chunk, chunkSize);
    } catch (e) {
      readableStreamDefaultControllerError(controller, e);
      throw e;
    }
  }
  readableStreamDefaultControllerCallPullIfNeeded(controller);
}

export function readableStreamDefaultControllerError(controller, e) {
  const stream = controller.stream;
  if (stream.state !== 'readable') return;
  resetQueue(controller);
  readableStreamDefaultControllerClearAlgorithms(controller);
  readableStreamError(stream, e);
}

export function readableStreamDefaultControllerGetDesiredSize(controller) {
  const state = controller.stream.state;
  if (state === 'errored') return null;
  if (state === 'closed') return 0;
  return controller.strategyHWM - controller.queueTotalSize;
}

export function readableStreamDefaultControllerHasBackpressure(controller) {
  return !readableStreamDefaultControllerShouldCallPull(controller);
}

export function readableStreamDefaultControllerCanCloseOrEnqueue(controller) {
  return !controller.closeRequested && controller.stream.state === 'readable';
}

function setUpReadableStreamDefaultController(
  stream,
  controller,
  startAlgorithm,
  pullAlgorithm,
  cancelAlgorithm,
  highWaterMark,
  sizeAlgorithm,
) {
  controller.stream = stream;
  resetQueue(controller);
  controller.started = false;
  controller.closeRequested = false;
  controller.pullAgain = false;
  controller.pulling = false;
  controller.strategySizeAlgorithm = sizeAlgorithm;
  controller.strategyHWM = highWaterMark;
  controller.pullAlgorithm = pullAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
  stream.controller = controller;
  const startResult = startAlgorithm();
  uponPromise(
    promiseResolvedWith(startResult),
    () => {
      controller.started = true;
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    },
    (r) => readableStreamDefaultControllerError(controller, r),
  );
}

function setUpReadableStreamDefaultControllerFromUnderlyingSource(
  stream,
  underlyingSource,
  source,
  highWaterMark,
  sizeAlgorithm,
) {
  const controller = newDefaultControllerRecord();
  const controllerObject = controller.object;
  let startAlgorithm = () => undefined;
  let pullAlgorithm = () => promiseResolvedWith(undefined);
  let cancelAlgorithm = () => promiseResolvedWith(undefined);
  if (source.start !== undefined) {
    startAlgorithm = () => invokeCallback(source.start, underlyingSource, [controllerObject]);
  }
  if (source.pull !== undefined) {
    pullAlgorithm = () => invokePromiseCallback(source.pull, underlyingSource, [controllerObject]);
  }
  if (source.cancel !== undefined) {
    cancelAlgorithm = (reason) => invokePromiseCallback(source.cancel, underlyingSource, [reason]);
  }
  setUpReadableStreamDefaultController(
    stream,
    controller,
    startAlgorithm,
    pullAlgorithm,
    cancelAlgorithm,
    highWaterMark,
    sizeAlgorithm,
  );
}

// ---- abstract operations: byte stream controllers ---------------------------------------------------------

function readableByteStreamControllerCancelSteps(controller, reason) {
  readableByteStreamControllerClearPendingPullIntos(controller);
  resetQueue(controller);
  const result = controller.cancelAlgorithm(reason);
  readableByteStreamControllerClearAlgorithms(controller);
  return result;
}

function readableByteStreamControllerPullSteps(controller, readRequest) {
  const stream = controller.stream;
  if (controller.queueTotalSize > 0) {
    readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest);
    return;
  }
  const autoAllocateChunkSize = controller.autoAllocateChunkSize;
  if (autoAllocateChunkSize !== undefined) {
    let buffer;
    try {
      buffer = newArrayBuffer(autoAllocateChunkSize);
    } catch (e) {
      readRequest.errorSteps(e);
      return;
    }
    controller.pendingPullIntos.push(
      new PullIntoDescriptor(
        buffer,
        autoAllocateChunkSize,
        0,
        autoAllocateChunkSize,
        1,
        1,
        Uint8ArrayConstructor,
        'default',
      ),
    );
  }
  readableStreamAddReadRequest(stream, readRequest);
  readableByteStreamControllerCallPullIfNeeded(controller);
}

function readableByteStreamControllerReleaseSteps(controller) {
  if (controller.pendingPullIntos.length === 0) return;
  // The source may still be writing into the first descriptor's buffer; keep it, detached
  // from any reader, so its bytes land in the queue for the next reader.
  const firstPendingPullInto = controller.pendingPullIntos.peek();
  firstPendingPullInto.readerType = 'none';
  controller.pendingPullIntos = new Queue();
  controller.pendingPullIntos.push(firstPendingPullInto);
}

function readableByteStreamControllerCallPullIfNeeded(controller) {
  if (!readableByteStreamControllerShouldCallPull(controller)) return;
  if (controller.pulling) {
    controller.pullAgain = true;
    return;
  }
  controller.pulling = true;
  const pullPromise = controller.pullAlgorithm();
  uponPromise(
    pullPromise,
    () => {
      controller.pulling = false;
      if (controller.pullAgain) {
        controller.pullAgain = false;
        readableByteStreamControllerCallPullIfNeeded(controller);
      }
    },
    (e) => readableByteStreamControllerError(controller, e),
  );
}

function readableByteStreamControllerClearAlgorithms(controller) {
  controller.pullAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
}

function readableByteStreamControllerClearPendingPullIntos(controller) {
  readableByteStreamControllerInvalidateBYOBRequest(controller);
  controller.pendingPullIntos = new Queue();
}

export function readableByteStreamControllerClose(controller) {
  const stream = controller.stream;
  if (controller.closeRequested || stream.state !== 'readable') return;
  if (controller.queueTotalSize > 0) {
    controller.closeRequested = true;
    return;
  }
  if (controller.pendingPullIntos.length > 0) {
    const firstPendingPullInto = controller.pendingPullIntos.peek();
    if (firstPendingPullInto.bytesFilled % firstPendingPullInto.elementSize !== 0) {
      const e = new TypeError('Insufficient bytes to fill elements in the given buffer');
      readableByteStreamControllerError(controller, e);
      throw e;
    }
  }
  readableByteStreamControllerClearAlgorithms(controller);
  readableStreamClose(stream);
}

function readableByteStreamControllerCommitPullIntoDescriptor(stream, pullIntoDescriptor) {
  let done = false;
  if (stream.state === 'closed') done = true;
  const filledView = readableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor);
  if (pullIntoDescriptor.readerType === 'default') readableStreamFulfillReadRequest(stream, filledView, done);
  else readableStreamFulfillReadIntoRequest(stream, filledView, done);
}

function readableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor) {
  const { bytesFilled, elementSize } = pullIntoDescriptor;
  const buffer = transferArrayBuffer(pullIntoDescriptor.buffer);
  return newView(pullIntoDescriptor.viewConstructor, buffer, pullIntoDescriptor.byteOffset, bytesFilled / elementSize);
}

export function readableByteStreamControllerEnqueue(controller, chunk) {
  const stream = controller.stream;
  if (controller.closeRequested || stream.state !== 'readable') return;
  const { buffer, byteOffset, byteLength } = viewSlots(chunk);
  if (isDetachedBuffer(buffer)) throw new TypeError("The chunk's buffer has been detached");
  const transferredBuffer = transferArrayBuffer(buffer);
  if (controller.pendingPullIntos.length > 0) {
    const firstPendingPullInto = controller.pendingPullIntos.peek();
    if (isDetachedBuffer(firstPendingPullInto.buffer)) {
      throw new TypeError("The BYOB request's buffer has been detached and cannot be filled with an enqueued chunk");
    }
    readableByteStreamControllerInvalidateBYOBRequest(controller);
    firstPendingPullInto.buffer = transferArrayBuffer(firstPendingPullInto.buffer);
    if (firstPendingPullInto.readerType === 'none') {
      readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, firstPendingPullInto);
    }
  }
  if (readableStreamHasDefaultReader(stream)) {
    readableByteStreamControllerProcessReadRequestsUsingQueue(controller);
    if (readableStreamGetNumReadRequests(stream) === 0) {
      readableByteStreamControllerEnqueueChunkToQueue(controller, transferredBuffer, byteOffset, byteLength);
    } else {
      if (controller.pendingPullIntos.length > 0) readableByteStreamControllerShiftPendingPullInto(controller);
      const transferredView = newUint8Array(transferredBuffer, byteOffset, byteLength);
      readableStreamFulfillReadRequest(stream, transferredView, false);
    }
  } else if (readableStreamHasBYOBReader(stream)) {
    readableByteStreamControllerEnqueueChunkToQueue(controller, transferredBuffer, byteOffset, byteLength);
    const filledPullIntos = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
    for (const filledPullInto of filledPullIntos) {
      readableByteStreamControllerCommitPullIntoDescriptor(stream, filledPullInto);
    }
  } else {
    readableByteStreamControllerEnqueueChunkToQueue(controller, transferredBuffer, byteOffset, byteLength);
  }
  readableByteStreamControllerCallPullIfNeeded(controller);
}

function readableByteStreamControllerEnqueueChunkToQueue(controller, buffer, byteOffset, byteLength) {
  controller.queue.push({ buffer, byteOffset, byteLength });
  controller.queueTotalSize += byteLength;
}

function readableByteStreamControllerEnqueueClonedChunkToQueue(controller, buffer, byteOffset, byteLength) {
  let cloneResult;
  try {
    cloneResult = cloneArrayBuffer(buffer, byteOffset, byteLength);
  } catch (e) {
    readableByteStreamControllerError(controller, e);
    throw e;
  }
  readableByteStreamControllerEnqueueChunkToQueue(controller, cloneResult, 0, byteLength);
}

function readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor) {
  if (pullIntoDescriptor.bytesFilled > 0) {
    readableByteStreamControllerEnqueueClonedChunkToQueue(
      controller,
      pullIntoDescriptor.buffer,
      pullIntoDescriptor.byteOffset,
      pullIntoDescriptor.bytesFilled,
    );
  }
  readableByteStreamControllerShiftPendingPullInto(controller);
}

function readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor) {
  const maxBytesToCopy = Math.min(
    controller.queueTotalSize,
    pullIntoDescriptor.byteLength - pullIntoDescriptor.bytesFilled,
  );
  const maxBytesFilled = pullIntoDescriptor.bytesFilled + maxBytesToCopy;
  let totalBytesToCopyRemaining = maxBytesToCopy;
  let ready = false;
  const remainderBytes = maxBytesFilled % pullIntoDescriptor.elementSize;
  const maxAlignedBytes = maxBytesFilled - remainderBytes;
  if (maxAlignedBytes >= pullIntoDescriptor.minimumFill) {
    totalBytesToCopyRemaining = maxAlignedBytes - pullIntoDescriptor.bytesFilled;
    ready = true;
  }
  const queue = controller.queue;
  while (totalBytesToCopyRemaining > 0) {
    const headOfQueue = queue.peek();
    const bytesToCopy = Math.min(totalBytesToCopyRemaining, headOfQueue.byteLength);
    const destStart = pullIntoDescriptor.byteOffset + pullIntoDescriptor.bytesFilled;
    copyDataBlockBytes(pullIntoDescriptor.buffer, destStart, headOfQueue.buffer, headOfQueue.byteOffset, bytesToCopy);
    if (headOfQueue.byteLength === bytesToCopy) {
      queue.shift();
    } else {
      headOfQueue.byteOffset += bytesToCopy;
      headOfQueue.byteLength -= bytesToCopy;
    }
    controller.queueTotalSize -= bytesToCopy;
    readableByteStreamControllerFillHeadPullIntoDescriptor(controller, bytesToCopy, pullIntoDescriptor);
    totalBytesToCopyRemaining -= bytesToCopy;
  }
  return ready;
}

function readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest) {
  const entry = controller.queue.shift();
  controller.queueTotalSize -= entry.byteLength;
  readableByteStreamControllerHandleQueueDrain(controller);
  const view = newUint8Array(entry.buffer, entry.byteOffset, entry.byteLength);
  readRequest.chunkSteps(view);
}

function readableByteStreamControllerGetBYOBRequest(controller) {
  if (controller.byobRequest === null && controller.pendingPullIntos.length > 0) {
    const firstDescriptor = controller.pendingPullIntos.peek();
    const view = newUint8Array(
      firstDescriptor.buffer,
      firstDescriptor.byteOffset + firstDescriptor.bytesFilled,
      firstDescriptor.byteLength - firstDescriptor.bytesFilled,
    );
    const byobRequest = new BYOBRequestRecord();
    byobRequest.object = new ReadableStreamBYOBRequest(kInternal, byobRequest);
    byobRequest.controller = controller;
    byobRequest.view = view;
    controller.byobRequest = byobRequest;
  }
  return controller.byobRequest;
}

export function readableByteStreamControllerGetDesiredSize(controller) {
  const state = controller.stream.state;
  if (state === 'errored') return null;
  if (state === 'closed') return 0;
  return controller.strategyHWM - controller.queueTotalSize;
}

function readableByteStreamControllerHandleQueueDrain(controller) {
  if (controller.queueTotalSize === 0 && controller.closeRequested) {
    readableByteStreamControllerClearAlgorithms(controller);
    readableStreamClose(controller.stream);
  } else {
    readableByteStreamControllerCallPullIfNeeded(controller);
  }
}

function readableByteStreamControllerInvalidateBYOBRequest(controller) {
  const byobRequest = controller.byobRequest;
  if (byobRequest === null) return;
  byobRequest.controller = undefined;
  byobRequest.view = null;
  controller.byobRequest = null;
}

function readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller) {
  const filledPullIntos = [];
  while (controller.pendingPullIntos.length > 0) {
    if (controller.queueTotalSize === 0) break;
    const pullIntoDescriptor = controller.pendingPullIntos.peek();
    if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor)) {
      readableByteStreamControllerShiftPendingPullInto(controller);
      filledPullIntos[filledPullIntos.length] = pullIntoDescriptor;
    }
  }
  return filledPullIntos;
}

function readableByteStreamControllerProcessReadRequestsUsingQueue(controller) {
  const reader = controller.stream.reader;
  while (reader.readRequests.length > 0) {
    if (controller.queueTotalSize === 0) return;
    const readRequest = reader.readRequests.shift();
    readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest);
  }
}

function readableByteStreamControllerPullInto(controller, view, min, readIntoRequest) {
  const stream = controller.stream;
  const { buffer: viewBufferValue, byteOffset, byteLength, kind } = viewSlots(view);
  let elementSize = 1;
  let ctor = DataViewConstructor;
  if (kind !== undefined) {
    elementSize = kind.elementSize;
    ctor = kind.ctor;
  }
  const minimumFill = min * elementSize;
  let buffer;
  try {
    buffer = transferArrayBuffer(viewBufferValue);
  } catch (e) {
    readIntoRequest.errorSteps(e);
    return;
  }
  const pullIntoDescriptor = new PullIntoDescriptor(
    buffer,
    bufferByteLength(buffer),
    byteOffset,
    byteLength,
    minimumFill,
    elementSize,
    ctor,
    'byob',
  );
  if (controller.pendingPullIntos.length > 0) {
    controller.pendingPullIntos.push(pullIntoDescriptor);
    readableStreamAddReadIntoRequest(stream, readIntoRequest);
    return;
  }
  if (stream.state === 'closed') {
    const emptyView = newView(ctor, pullIntoDescriptor.buffer, pullIntoDescriptor.byteOffset, 0);
    readIntoRequest.closeSteps(emptyView);
    return;
  }
  if (controller.queueTotalSize > 0) {
    if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, pullIntoDescriptor)) {
      const filledView = readableByteStreamControllerConvertPullIntoDescriptor(pullIntoDescriptor);
      readableByteStreamControllerHandleQueueDrain(controller);
      readIntoRequest.chunkSteps(filledView);
      return;
    }
    if (controller.closeRequested) {
      const e = new TypeError('Insufficient bytes to fill elements in the given buffer');
      readableByteStreamControllerError(controller, e);
      readIntoRequest.errorSteps(e);
      return;
    }
  }
  controller.pendingPullIntos.push(pullIntoDescriptor);
  readableStreamAddReadIntoRequest(stream, readIntoRequest);
  readableByteStreamControllerCallPullIfNeeded(controller);
}

export function readableByteStreamControllerRespond(controller, bytesWritten) {
  const firstDescriptor = controller.pendingPullIntos.peek();
  const state = controller.stream.state;
  if (state === 'closed') {
    if (bytesWritten !== 0) throw new TypeError('bytesWritten must be 0 when calling respond() on a closed stream');
  } else {
    if (bytesWritten === 0) {
      throw new TypeError('bytesWritten must be greater than 0 when calling respond() on a readable stream');
    }
    if (firstDescriptor.bytesFilled + bytesWritten > firstDescriptor.byteLength) {
      throw new RangeError('bytesWritten out of range');
    }
  }
  firstDescriptor.buffer = transferArrayBuffer(firstDescriptor.buffer);
  readableByteStreamControllerRespondInternal(controller, bytesWritten);
}

function readableByteStreamControllerRespondInClosedState(controller, firstDescriptor) {
  if (firstDescriptor.readerType === 'none') readableByteStreamControllerShiftPendingPullInto(controller);
  const stream = controller.stream;
  if (readableStreamHasBYOBReader(stream)) {
    const filledPullIntos = [];
    while (filledPullIntos.length < readableStreamGetNumReadIntoRequests(stream)) {
      filledPullIntos[filledPullIntos.length] = readableByteStreamControllerShiftPendingPullInto(controller);
    }
    for (const filledPullInto of filledPullIntos) {
      readableByteStreamControllerCommitPullIntoDescriptor(stream, filledPullInto);
    }
  }
}

function readableByteStreamControllerRespondInReadableState(controller, bytesWritten, pullIntoDescriptor) {
  readableByteStreamControllerFillHeadPullIntoDescriptor(controller, bytesWritten, pullIntoDescriptor);
  if (pullIntoDescriptor.readerType === 'none') {
    readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, pullIntoDescriptor);
    const filledPullIntos = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
    for (const filledPullInto of filledPullIntos) {
      readableByteStreamControllerCommitPullIntoDescriptor(controller.stream, filledPullInto);
    }
    return;
  }
  if (pullIntoDescriptor.bytesFilled < pullIntoDescriptor.minimumFill) return;
  readableByteStreamControllerShiftPendingPullInto(controller);
  const remainderSize = pullIntoDescriptor.bytesFilled % pullIntoDescriptor.elementSize;
  if (remainderSize > 0) {
    const end = pullIntoDescriptor.byteOffset + pullIntoDescriptor.bytesFilled;
    readableByteStreamControllerEnqueueClonedChunkToQueue(
      controller,
      pullIntoDescriptor.buffer,
      end - remainderSize,
      remainderSize,
    );
  }
  pullIntoDescriptor.bytesFilled -= remainderSize;
  const filledPullIntos = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
  readableByteStreamControllerCommitPullIntoDescriptor(controller.stream, pullIntoDescriptor);
  for (const filledPullInto of filledPullIntos) {
    readableByteStreamControllerCommitPullIntoDescriptor(controller.stream, filledPullInto);
  }
}

function readableByteStreamControllerRespondInternal(controller, bytesWritten) {
  const firstDescriptor = controller.pendingPullIntos.peek();
  readableByteStreamControllerInvalidateBYOBRequest(controller);
  if (controller.stream.state === 'closed') {
    readableByteStreamControllerRespondInClosedState(controller, firstDescriptor);
  } else {
    readableByteStreamControllerRespondInReadableState(controller, bytesWritten, firstDescriptor);
  }
  readableByteStreamControllerCallPullIfNeeded(controller);
}

export function readableByteStreamControllerRespondWithNewView(controller, view) {
  const firstDescriptor = controller.pendingPullIntos.peek();
  const state = controller.stream.state;
  const { buffer, byteOffset, byteLength } = viewSlots(view);
  if (state === 'closed') {
    if (byteLength !== 0) {
      throw new TypeError("The view's length must be 0 when calling respondWithNewView() on a closed stream");
    }
  } else if (byteLength === 0) {
    throw new TypeError("The view's length must be positive when calling respondWithNewView() on a readable stream");
  }
  if (firstDescriptor.byteOffset + firstDescriptor.bytesFilled !== byteOffset) {
    throw new RangeError('The region specified by view does not match byobRequest');
  }
  if (firstDescriptor.bufferByteLength !== bufferByteLength(buffer)) {
    throw new RangeError('The buffer of view has different capacity than byobRequest');
  }
  if (firstDescriptor.bytesFilled + byteLength > firstDescriptor.byteLength) {
    throw new RangeError('The region specified by view is larger than byobRequest');
  }
  firstDescriptor.buffer = transferArrayBuffer(buffer);
  readableByteStreamControllerRespondInternal(controller, byteLength);
}

function readableByteStreamControllerShiftPendingPullInto(controller) {
  return controller.pendingPullIntos.shift();
}

function readableByteStreamControllerShouldCallPull(controller) {
  const stream = controller.stream;
  if (stream.state !== 'readable') return false;
  if (controller.closeRequested) return false;
  if (!controller.started) return false;
  if (readableStreamHasDefaultReader(stream) && readableStreamGetNumReadRequests(stream) > 0) return true;
  if (readableStreamHasBYOBReader(stream) && readableStreamGetNumReadIntoRequests(stream) > 0) return true;
  return readableByteStreamControllerGetDesiredSize(controller) > 0;
}

export function readableByteStreamControllerError(controller, e) {
  const stream = controller.stream;
  if (stream.state !== 'readable') return;
  readableByteStreamControllerClearPendingPullIntos(controller);
  resetQueue(controller);
  readableByteStreamControllerClearAlgorithms(controller);
  readableStreamError(stream, e);
}

function readableByteStreamControllerFillHeadPullIntoDescriptor(controller, size, pullIntoDescriptor) {
  pullIntoDescriptor.bytesFilled += size;
}

// The byte-controller counterparts of the default controller's CanCloseOrEnqueue,
// HasBackpressure and GetDesiredSize, for TransformStreams whose readable side is a byte
// stream (IdentityTransformStream).
export function readableByteStreamControllerCanCloseOrEnqueue(controller) {
  return !controller.closeRequested && controller.stream.state === 'readable';
}

export function readableByteStreamControllerHasBackpressure(controller) {
  return !readableByteStreamControllerShouldCallPull(controller);
}

function setUpReadableByteStreamController(
  stream,
  controller,
  startAlgorithm,
  pullAlgorithm,
  cancelAlgorithm,
  highWaterMark,
  autoAllocateChunkSize,
) {
  controller.stream = stream;
  controller.pullAgain = false;
  controller.pulling = false;
  controller.byobRequest = null;
  resetQueue(controller);
  controller.closeRequested = false;
  controller.started = false;
  controller.strategyHWM = highWaterMark;
  controller.pullAlgorithm = pullAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
  controller.autoAllocateChunkSize = autoAllocateChunkSize;
  controller.pendingPullIntos = new Queue();
  stream.controller = controller;
  const startResult = startAlgorithm();
  uponPromise(
    promiseResolvedWith(startResult),
    () => {
      controller.started = true;
      readableByteStreamControllerCallPullIfNeeded(controller);
    },
    (r) => readableByteStreamControllerError(controller, r),
  );
}

function setUpReadableByteStreamControllerFromUnderlyingSource(stream, underlyingSource, source, highWaterMark) {
  const controller = newByteControllerRecord();
  const controllerObject = controller.object;
  let startAlgorithm = () => undefined;
  let pullAlgorithm = () => promiseResolvedWith(undefined);
  let cancelAlgorithm = () => promiseResolvedWith(undefined);
  if (source.start !== undefined) {
    startAlgorithm = () => invokeCallback(source.start, underlyingSource, [controllerObject]);
  }
  if (source.pull !== undefined) {
    pullAlgorithm = () => invokePromiseCallback(source.pull, underlyingSource, [controllerObject]);
  }
  if (source.cancel !== undefined) {
    cancelAlgorithm = (reason) => invokePromiseCallback(source.cancel, underlyingSource, [reason]);
  }
  const autoAllocateChunkSize = source.autoAllocateChunkSize;
  if (autoAllocateChunkSize === 0) throw new TypeError('autoAllocateChunkSize must be greater than 0');
  setUpReadableByteStreamController(
    stream,
    controller,
    startAlgorithm,
    pullAlgorithm,
    cancelAlgorithm,
    highWaterMark,
    autoAllocateChunkSize,
  );
}

// ---- tee ---------------------------------------------------------------------------------------------------

// ReadableStreamTee(stream, cloneForBranch2). cloneForBranch2 is false or a function that
// clones a chunk for the second branch (the spec's StructuredClone, which the embedder
// provides when it needs it, e.g. for Response.clone() over a default stream).
export function readableStreamTee(stream, cloneForBranch2) {
  if (stream.controller.isByte) return readableByteStreamTee(stream);
  return readableStreamDefaultTee(stream, cloneForBranch2);
}

function readableStreamDefaultTee(stream, cloneForBranch2) {
  const reader = acquireReadableStreamDefaultReader(stream);
  let reading = false;
  let readAgain = false;
  let canceled1 = false;
  let canceled2 = false;
  let reason1;
  let reason2;
  let branch1;
  let branch2;
  const cancelPromise = new Deferred();

  const readRequest = {
    chunkSteps(chunk) {
      // Deferred by a microtask so that an error detected through reader.closed (which
      // takes a microtask) is not overtaken by synchronously available chunks.
      queueMicrotaskInternal(() => {
        readAgain = false;
        const chunk1 = chunk;
        let chunk2 = chunk;
        if (!canceled2 && cloneForBranch2) {
          try {
            chunk2 = cloneForBranch2(chunk2);
          } catch (e) {
            readableStreamDefaultControllerError(branch1.controller, e);
            readableStreamDefaultControllerError(branch2.controller, e);
            cancelPromise.resolve(readableStreamCancel(stream, e));
            return;
          }
        }
        if (!canceled1) readableStreamDefaultControllerEnqueue(branch1.controller, chunk1);
        if (!canceled2) readableStreamDefaultControllerEnqueue(branch2.controller, chunk2);
        reading = false;
        if (readAgain) pullAlgorithm();
      });
    },
    closeSteps() {
      reading = false;
      if (!canceled1) readableStreamDefaultControllerClose(branch1.controller);
      if (!canceled2) readableStreamDefaultControllerClose(branch2.controller);
      if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
    },
    errorSteps() {
      reading = false;
    },
  };

  function pullAlgorithm() {
    if (reading) {
      readAgain = true;
      return promiseResolvedWith(undefined);
    }
    reading = true;
    readableStreamDefaultReaderRead(reader, readRequest);
    return promiseResolvedWith(undefined);
  }

  function cancel1Algorithm(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) cancelPromise.resolve(readableStreamCancel(stream, [reason1, reason2]));
    return cancelPromise.promise;
  }

  function cancel2Algorithm(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) cancelPromise.resolve(readableStreamCancel(stream, [reason1, reason2]));
    return cancelPromise.promise;
  }

  const startAlgorithm = () => undefined;
  branch1 = createReadableStream(startAlgorithm, pullAlgorithm, cancel1Algorithm);
  branch2 = createReadableStream(startAlgorithm, pullAlgorithm, cancel2Algorithm);
  uponRejection(reader.closed.promise, (r) => {
    readableStreamDefaultControllerError(branch1.controller, r);
    readableStreamDefaultControllerError(branch2.controller, r);
    if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
  });
  return [branch1, branch2];
}

function readableByteStreamTee(stream) {
  let reader = acquireReadableStreamDefaultReader(stream);
  let reading = false;
  let readAgainForBranch1 = false;
  let readAgainForBranch2 = false;
  let canceled1 = false;
  let canceled2 = false;
  let reason1;
  let reason2;
  let branch1;
  let branch2;
  const cancelPromise = new Deferred();

  // The tee switches between a default and a BYOB reader depending on how the branches are
  // read; only errors seen by the current reader matter.
  function forwardReaderError(thisReader) {
    uponRejection(thisReader.closed.promise, (r) => {
      if (thisReader !== reader) return;
      readableByteStreamControllerError(branch1.controller, r);
      readableByteStreamControllerError(branch2.controller, r);
      if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
    });
  }

  function pullWithDefaultReader() {
    if (reader.isBYOB) {
      readableStreamBYOBReaderRelease(reader);
      reader = acquireReadableStreamDefaultReader(stream);
      forwardReaderError(reader);
    }
    readableStreamDefaultReaderRead(reader, {
      chunkSteps(chunk) {
        queueMicrotaskInternal(() => {
          readAgainForBranch1 = false;
          readAgainForBranch2 = false;
          const chunk1 = chunk;
          let chunk2 = chunk;
          if (!canceled1 && !canceled2) {
            try {
              chunk2 = cloneAsUint8Array(chunk);
            } catch (e) {
              readableByteStreamControllerError(branch1.controller, e);
              readableByteStreamControllerError(branch2.controller, e);
              cancelPromise.resolve(readableStreamCancel(stream, e));
              return;
            }
          }
          if (!canceled1) readableByteStreamControllerEnqueue(branch1.controller, chunk1);
          if (!canceled2) readableByteStreamControllerEnqueue(branch2.controller, chunk2);
          reading = false;
          if (readAgainForBranch1) pull1Algorithm();
          else if (readAgainForBranch2) pull2Algorithm();
        });
      },
      closeSteps() {
        reading = false;
        if (!canceled1) readableByteStreamControllerClose(branch1.controller);
        if (!canceled2) readableByteStreamControllerClose(branch2.controller);
        if (branch1.controller.pendingPullIntos.length > 0) {
          readableByteStreamControllerRespond(branch1.controller, 0);
        }
        if (branch2.controller.pendingPullIntos.length > 0) {
          readableByteStreamControllerRespond(branch2.controller, 0);
        }
        if (!canceled1 || !canceled2) cancelPromise.resolve(undefined);
      },
      errorSteps() {
        reading = false;
      },
    });
  }

  function pullWithBYOBReader(view, forBranch2) {
    if (!reader.isBYOB) {
      readableStreamDefaultReaderRelease(reader);
      reader = acquireReadableStreamBYOBReader(stream);
      forwardReaderError(reader);
    }
    const byobBranch = forBranch2 ? branch2 : branch1;
    const otherBranch = forBranch2 ? branch1 : branch2;
    readableStreamBYOBReaderRead(reader, view, 1, {
      chunkSteps(chunk) {
        queueMicrotaskInternal(() => {
          readAgainForBranch1 = false;
          readAgainForBranch2 = false;
          const byobCanceled = forBranch2 ? canceled2 : canceled1;
          const otherCanceled = forBranch2 ? canceled1 : canceled2;
          if (!otherCanceled) {
            let clonedChunk;
            try {
              clonedChunk = cloneAsUint8Array(chunk);
            } catch (e) {
              readableByteStreamControllerError(byobBranch.controller, e);
              readableByteStreamControllerError(otherBranch.controller, e);
              cancelPromise.resolve(readableStreamCancel(stream, e));
              return;
            }
            if (!byobCanceled) readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
            readableByteStreamControllerEnqueue(otherBranch.controller, clonedChunk);
          } else if (!byobCanceled) {
            readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
          }
          reading = false;
          if (readAgainForBranch1) pull1Algorithm();
          else if (readAgainForBranch2) pull2Algorithm();
        });
      },
      closeSteps(chunk) {
        reading = false;
        const byobCanceled = forBranch2 ? canceled2 : canceled1;
        const otherCanceled = forBranch2 ? canceled1 : canceled2;
        if (!byobCanceled) readableByteStreamControllerClose(byobBranch.controller);
        if (!otherCanceled) readableByteStreamControllerClose(otherBranch.controller);
        if (chunk !== undefined) {
          if (!byobCanceled) readableByteStreamControllerRespondWithNewView(byobBranch.controller, chunk);
          if (!otherCanceled && otherBranch.controller.pendingPullIntos.length > 0) {
            readableByteStreamControllerRespond(otherBranch.controller, 0);
          }
        }
        if (!byobCanceled || !otherCanceled) cancelPromise.resolve(undefined);
      },
      errorSteps() {
        reading = false;
      },
    });
  }

  function pull1Algorithm() {
    if (reading) {
      readAgainForBranch1 = true;
      return promiseResolvedWith(undefined);
    }
    reading = true;
    const byobRequest = readableByteStreamControllerGetBYOBRequest(branch1.controller);
    if (byobRequest === null) pullWithDefaultReader();
    else pullWithBYOBReader(byobRequest.view, false);
    return promiseResolvedWith(undefined);
  }

  function pull2Algorithm() {
    if (reading) {
      readAgainForBranch2 = true;
      return promiseResolvedWith(undefined);
    }
    reading = true;
    const byobRequest = readableByteStreamControllerGetBYOBRequest(branch2.controller);
    if (byobRequest === null) pullWithDefaultReader();
    else pullWithBYOBReader(byobRequest.view, true);
    return promiseResolvedWith(undefined);
  }

  function cancel1Algorithm(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) cancelPromise.resolve(readableStreamCancel(stream, [reason1, reason2]));
    return cancelPromise.promise;
  }

  function cancel2Algorithm(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) cancelPromise.resolve(readableStreamCancel(stream, [reason1, reason2]));
    return cancelPromise.promise;
  }

  const startAlgorithm = () => undefined;
  branch1 = createReadableByteStream(startAlgorithm, pull1Algorithm, cancel1Algorithm);
  branch2 = createReadableByteStream(startAlgorithm, pull2Algorithm, cancel2Algorithm);
  forwardReaderError(reader);
  return [branch1, branch2];
}

// ---- pipeTo ------------------------------------------------------------------------------------------------

// Fulfills when every promise fulfills, rejects with the first rejection (Web IDL "wait for
// all", without going through the patchable Promise.all).
function waitForAll(promises) {
  const result = new Deferred();
  let remaining = promises.length;
  if (remaining === 0) result.resolve(undefined);
  for (const promise of promises) {
    uponPromise(
      promise,
      () => {
        if (--remaining === 0) result.resolve(undefined);
      },
      (e) => result.reject(e),
    );
  }
  return result.promise;
}

// ReadableStreamPipeTo. The spec describes the copying loop in prose; here it is one read
// at a time, each started once the destination's writer reports no backpressure (its ready
// promise), with the propagation rules checked up front and on every state change.
export function readableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
  const reader = acquireReadableStreamDefaultReader(source);
  const writer = acquireWritableStreamDefaultWriter(dest);
  source.disturbed = true;
  let shuttingDown = false;
  const promise = new Deferred();
  // The most recent write. Writes settle in order, so waiting for the last one that has
  // been started waits for all of them.
  let currentWrite = promiseResolvedWith(undefined);
  let abortAlgorithm;

  function waitForPendingWrites(then) {
    const lastWrite = currentWrite;
    const check = () => (lastWrite === currentWrite ? then() : waitForPendingWrites(then));
    uponPromise(lastWrite, check, check);
  }

  function shouldFlushPendingWrites() {
    return dest.state === 'writable' && !writableStreamCloseQueuedOrInFlight(dest);
  }

  function finalize(hasError, error) {
    writableStreamDefaultWriterRelease(writer);
    readableStreamDefaultReaderRelease(reader);
    if (signal !== undefined) signal.removeEventListener('abort', abortAlgorithm);
    if (hasError) promise.reject(error);
    else promise.resolve(undefined);
  }

  // "Shutdown with an action": let queued writes finish, run the action, then finalize.
  function shutdownWithAnAction(action, hasError, originalError) {
    if (shuttingDown) return;
    shuttingDown = true;
    const doAction = () => {
      uponPromise(
        action(),
        () => finalize(hasError, originalError),
        (newError) => finalize(true, newError),
      );
    };
    if (shouldFlushPendingWrites()) waitForPendingWrites(doAction);
    else doAction();
  }

  function shutdown(hasError, error) {
    if (shuttingDown) return;
    shuttingDown = true;
    if (shouldFlushPendingWrites()) waitForPendingWrites(() => finalize(hasError, error));
    else finalize(hasError, error);
  }

  // Errors must be propagated forward.
  function sourceErrored(storedError) {
    if (!preventAbort) shutdownWithAnAction(() => writableStreamAbort(dest, storedError), true, storedError);
    else shutdown(true, storedError);
  }

  // Errors must be propagated backward.
  function destErrored(storedError) {
    if (!preventCancel) shutdownWithAnAction(() => readableStreamCancel(source, storedError), true, storedError);
    else shutdown(true, storedError);
  }

  // Closing must be propagated forward.
  function sourceClosed() {
    if (!preventClose) shutdownWithAnAction(() => writableStreamDefaultWriterCloseWithErrorPropagation(writer));
    else shutdown(false);
  }

  // Closing must be propagated backward.
  function destClosed() {
    const destClosedError = new TypeError('The destination stream closed before all data could be piped to it');
    if (!preventCancel) {
      shutdownWithAnAction(() => readableStreamCancel(source, destClosedError), true, destClosedError);
    } else {
      shutdown(true, destClosedError);
    }
  }

  const pipeReadRequest = {
    chunkSteps(chunk) {
      // Chunk steps can run inside the source's enqueue(); writing there would call the
      // sink's write() synchronously from that author code, so write on a microtask.
      // currentWrite covers the gap so that a shutdown still waits for (and flushes) it.
      const written = new Deferred();
      currentWrite = written.promise;
      queueMicrotaskInternal(() => {
        // finalize() may already have released the writer; the chunk is then dropped.
        if (writer.stream !== undefined) {
          const settle = () => written.resolve(undefined);
          uponPromise(writableStreamDefaultWriterWrite(writer, chunk), settle, settle);
        } else {
          written.resolve(undefined);
        }
        pipeStep();
      });
    },
    // End of stream and errors are observed through reader.closed.
    closeSteps() {},
    errorSteps() {},
  };

  function pipeStep() {
    if (shuttingDown) return;
    // [[readyPromise]] is replaced whenever backpressure reappears, so read it afresh.
    uponPromise(
      writer.ready.promise,
      () => {
        if (!shuttingDown) readableStreamDefaultReaderRead(reader, pipeReadRequest);
      },
      // A rejected ready promise means the destination is erroring; writer.closed reports it.
      () => {},
    );
  }

  if (signal !== undefined) {
    abortAlgorithm = () => {
      const error = signal.reason;
      const actions = [];
      if (!preventAbort) {
        actions[actions.length] = () =>
          dest.state === 'writable' ? writableStreamAbort(dest, error) : promiseResolvedWith(undefined);
      }
      if (!preventCancel) {
        actions[actions.length] = () =>
          source.state === 'readable' ? readableStreamCancel(source, error) : promiseResolvedWith(undefined);
      }
      shutdownWithAnAction(
        () => {
          const promises = [];
          for (const action of actions) promises[promises.length] = action();
          return waitForAll(promises);
        },
        true,
        error,
      );
    };
    if (signal.aborted) {
      abortAlgorithm();
      return promise.promise;
    }
    signal.addEventListener('abort', abortAlgorithm);
  }

  // The propagation rules, checked now in the spec's order and again whenever the reader's
  // or writer's closed promise settles. (Once finalize() releases them, shuttingDown makes
  // the resulting rejections no-ops.)
  if (source.state === 'errored') sourceErrored(source.storedError);
  else uponRejection(reader.closed.promise, sourceErrored);
  if (dest.state === 'errored') destErrored(dest.storedError);
  else uponRejection(writer.closed.promise, destErrored);
  if (source.state === 'closed') sourceClosed();
  else uponFulfillment(reader.closed.promise, sourceClosed);
  if (writableStreamCloseQueuedOrInFlight(dest) || dest.state === 'closed') destClosed();

  pipeStep();
  return promise.promise;
}

// ---- ReadableStream.from --------------------------------------------------------------------------------

function getMethod(value, key) {
  const method = value[key];
  if (method === undefined || method === null) return undefined;
  if (typeof method !== 'function') throw new TypeError(`${String(key)} is not a function`);
  return method;
}

// IteratorClose(iteratorRecord, throwCompletion): call return() but keep the original error.
function closeIteratorAfterError(iterator) {
  try {
    const returnMethod = getMethod(iterator, 'return');
    if (returnMethod !== undefined) invokeCallback(returnMethod, iterator, []);
  } catch {
    // The original error wins over anything return() throws.
  }
}

// AsyncFromSyncIteratorContinuation(result, promiseCapability, syncIteratorRecord, closeOnRejection)
function asyncFromSyncIteratorContinuation(result, syncIterator, closeOnRejection) {
  let done;
  let valueWrapper;
  try {
    done = toBoolean(result.done);
    const value = result.value;
    try {
      valueWrapper = promiseResolve(value);
    } catch (e) {
      if (!done && closeOnRejection) closeIteratorAfterError(syncIterator);
      throw e;
    }
  } catch (e) {
    return promiseRejectedWith(e);
  }
  const onRejected =
    done || !closeOnRejection
      ? undefined
      : (error) => {
          closeIteratorAfterError(syncIterator);
          throw error;
        };
  return transformPromiseWith(valueWrapper, (v) => iterResult(v, done), onRejected);
}

// CreateAsyncFromSyncIterator: an object with next() and return() as the spec's
// %AsyncFromSyncIteratorPrototype% would provide (throw() is never used by streams).
function createAsyncFromSyncIterator(syncIterator, syncNext) {
  return {
    next() {
      let result;
      try {
        result = invokeCallback(syncNext, syncIterator, []);
        if (!isObject(result)) throw new TypeError('iterator.next() returned a non-object value');
      } catch (e) {
        return promiseRejectedWith(e);
      }
      return asyncFromSyncIteratorContinuation(result, syncIterator, true);
    },
    return(value) {
      let result;
      try {
        const returnMethod = getMethod(syncIterator, 'return');
        if (returnMethod === undefined) return promiseResolvedWith(iterResult(value, true));
        result = invokeCallback(returnMethod, syncIterator, [value]);
        if (!isObject(result)) throw new TypeError('iterator.return() returned a non-object value');
      } catch (e) {
        return promiseRejectedWith(e);
      }
      return asyncFromSyncIteratorContinuation(result, syncIterator, false);
    },
  };
}

// GetIterator(obj, async)
function getAsyncIterator(obj) {
  const method = getMethod(obj, Symbol.asyncIterator);
  if (method === undefined) {
    const syncMethod = getMethod(obj, Symbol.iterator);
    if (syncMethod === undefined) throw new TypeError('ReadableStream.from: the argument is not iterable');
    const syncIterator = invokeCallback(syncMethod, obj, []);
    if (!isObject(syncIterator)) throw new TypeError('ReadableStream.from: the iterator is not an object');
    const iterator = createAsyncFromSyncIterator(syncIterator, syncIterator.next);
    return { iterator, nextMethod: iterator.next };
  }
  const iterator = invokeCallback(method, obj, []);
  if (!isObject(iterator)) throw new TypeError('ReadableStream.from: the async iterator is not an object');
  return { iterator, nextMethod: iterator.next };
}

// ReadableStreamFromIterable(asyncIterable)
function readableStreamFromIterable(asyncIterable) {
  let stream;
  const iteratorRecord = getAsyncIterator(asyncIterable);
  const startAlgorithm = () => undefined;
  const pullAlgorithm = () => {
    let nextResult;
    try {
      nextResult = invokeCallback(iteratorRecord.nextMethod, iteratorRecord.iterator, []);
      if (!isObject(nextResult)) throw new TypeError('The iterator.next() method must return an object');
    } catch (e) {
      return promiseRejectedWith(e);
    }
    const nextPromise = promiseResolvedWith(nextResult);
    return transformPromiseWith(nextPromise, (iterResultValue) => {
      if (!isObject(iterResultValue)) {
        throw new TypeError('The promise returned by iterator.next() must fulfill with an object');
      }
      const done = toBoolean(iterResultValue.done);
      if (done) {
        readableStreamDefaultControllerClose(stream.controller);
      } else {
        const value = iterResultValue.value;
        readableStreamDefaultControllerEnqueue(stream.controller, value);
      }
    });
  };
  const cancelAlgorithm = (reason) => {
    const iterator = iteratorRecord.iterator;
    let returnResult;
    try {
      const returnMethod = getMethod(iterator, 'return');
      if (returnMethod === undefined) return promiseResolvedWith(undefined);
      returnResult = invokeCallback(returnMethod, iterator, [reason]);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    const returnPromise = promiseResolvedWith(returnResult);
    return transformPromiseWith(returnPromise, (iterResultValue) => {
      if (!isObject(iterResultValue)) {
        throw new TypeError('The promise returned by iterator.return() must fulfill with an object');
      }
      return undefined;
    });
  };
  stream = createReadableStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, 0);
  return stream;
}

// ---- record access for sibling modules ------------------------------------------------------------------

export function readableStreamRecord(value) {
  return streamRecordOf(value);
}
