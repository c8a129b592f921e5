// WritableStream, WritableStreamDefaultWriter and WritableStreamDefaultController
// (https://streams.spec.whatwg.org/#ws).
//
// Every public object keeps its spec internal slots in a plain record held in a single
// private field; the abstract operations below take and return those records (named
// `stream`, `writer`, `controller` as in the spec) and reach the JS-visible object through
// `record.object`. Other stream modules use the exported operations; nothing here is
// reachable from Worker code except the three classes.

import {
  Deferred,
  Queue,
  convertQueuingStrategy,
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
  isObject,
  markPromiseHandled,
  peekQueueValue,
  promiseRejectedWith,
  promiseResolvedWith,
  requireArgs,
  resetQueue,
  settledDeferred,
  toCallbackMember,
  toDictionary,
  uponPromise,
} from './streams_common.js';

// Lets a constructor tell internal creation (CreateWritableStream and friends) apart from
// script calls; script can never obtain this value.
const kInternal = Symbol('internal');

// The spec's "close sentinel": a value never equal to a chunk.
const closeSentinel = Object.freeze({ closeSentinel: true });

// ---- AbortController injection -------------------------------------------------------------

// WritableStreamDefaultController.signal comes from an AbortController, which is defined by
// the DOM and implemented by another runtime module. The factory must return an object with
// `signal` and `abort(reason)`; while none is installed `controller.signal` is undefined.
// In hearth, streams_setup.js installs one that makes abort.js's AbortController.
let abortControllerFactory;

export function setAbortControllerFactory(factory) {
  abortControllerFactory = factory;
}

// ---- internal records -------------------------------------------------------------------------

class WritableStreamRecord {
  constructor(object) {
    this.object = object;
    // InitializeWritableStream
    this.state = 'writable';
    this.storedError = undefined;
    this.writer = undefined;
    this.controller = undefined;
    this.inFlightWriteRequest = undefined; // Deferred
    this.closeRequest = undefined; // Deferred
    this.inFlightCloseRequest = undefined; // Deferred
    this.pendingAbortRequest = undefined; // { promise: Deferred, reason, wasAlreadyErroring }
    this.writeRequests = new Queue(); // of Deferred
    this.backpressure = false;
  }
}

class WriterRecord {
  constructor(object) {
    this.object = object;
    this.stream = undefined;
    this.closed = undefined; // Deferred: [[closedPromise]]
    this.ready = undefined; // Deferred: [[readyPromise]]
  }
}

class ControllerRecord {
  constructor(object) {
    this.object = object;
    this.stream = undefined;
    this.queue = undefined;
    this.queueTotalSize = 0;
    // [[abortController]], created on first use of `signal` (see that getter).
    this.abortController = undefined;
    this.abortSignalled = false;
    this.abortReason = undefined;
    this.started = false;
    this.strategySizeAlgorithm = undefined;
    this.strategyHWM = 0;
    this.writeAlgorithm = undefined;
    this.closeAlgorithm = undefined;
    this.abortAlgorithm = undefined;
  }
}

// Record accessors, assigned from the classes' static blocks.
let writableStreamRecordOf;
let writerRecordOf;
let controllerRecordOf;

// ---- WritableStream -------------------------------------------------------------------------------

export class WritableStream {
  #r;

  constructor(underlyingSink = undefined, strategy = undefined) {
    if (underlyingSink === kInternal) {
      this.#r = new WritableStreamRecord(this);
      return;
    }
    const context = "Failed to construct 'WritableStream'";
    // Web IDL converts the arguments (`optional object`, then the QueuingStrategy dictionary)
    // before the constructor steps convert the sink to the UnderlyingSink dictionary, so the
    // strategy's getters run before the sink's.
    if (underlyingSink !== undefined && !isObject(underlyingSink)) {
      throw new TypeError(`${context}: the underlying sink must be an object`);
    }
    const strategyDict = convertQueuingStrategy(strategy, `${context}: the strategy`);
    const sink = convertUnderlyingSink(underlyingSink === undefined ? null : underlyingSink, context);
    if (sink.type !== undefined) throw new RangeError(`${context}: invalid type is specified`);
    const stream = (this.#r = new WritableStreamRecord(this));
    const sizeAlgorithm = extractSizeAlgorithm(strategyDict);
    const highWaterMark = extractHighWaterMark(strategyDict, 1);
    setUpWritableStreamDefaultControllerFromUnderlyingSink(stream, underlyingSink, sink, highWaterMark, sizeAlgorithm);
  }

  get locked() {
    const stream = writableStreamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('WritableStream');
    return isWritableStreamLocked(stream);
  }

  abort(reason = undefined) {
    const stream = writableStreamRecordOf(this);
    if (stream === undefined) return promiseRejectedWith(illegalInvocation('WritableStream'));
    if (isWritableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeError('Cannot abort a WritableStream that is locked to a writer'));
    }
    return writableStreamAbort(stream, reason);
  }

  close() {
    const stream = writableStreamRecordOf(this);
    if (stream === undefined) return promiseRejectedWith(illegalInvocation('WritableStream'));
    if (isWritableStreamLocked(stream)) {
      return promiseRejectedWith(new TypeError('Cannot close a WritableStream that is locked to a writer'));
    }
    if (writableStreamCloseQueuedOrInFlight(stream)) {
      return promiseRejectedWith(new TypeError('Cannot close a WritableStream that is already closing'));
    }
    return writableStreamClose(stream);
  }

  getWriter() {
    const stream = writableStreamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('WritableStream');
    return acquireWritableStreamDefaultWriter(stream).object;
  }

  static {
    writableStreamRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// UnderlyingSink dictionary: abort, close, start, type, write.
function convertUnderlyingSink(value, context) {
  const dict = toDictionary(value, `${context}: the underlying sink`);
  const what = `${context}: underlying sink member`;
  const abort = toCallbackMember(dict, 'abort', what);
  const close = toCallbackMember(dict, 'close', what);
  const start = toCallbackMember(dict, 'start', what);
  const type = dictGet(dict, 'type');
  const write = toCallbackMember(dict, 'write', what);
  return { abort, close, start, type, write };
}

// ---- WritableStreamDefaultWriter ----------------------------------------------------------------

export class WritableStreamDefaultWriter {
  #r;

  constructor(stream) {
    requireArgs(arguments.length, 1, "Failed to construct 'WritableStreamDefaultWriter'");
    const streamRecord = writableStreamRecordOf(stream);
    if (streamRecord === undefined) {
      throw new TypeError("Failed to construct 'WritableStreamDefaultWriter': parameter 1 is not a WritableStream");
    }
    const writer = (this.#r = new WriterRecord(this));
    setUpWritableStreamDefaultWriter(writer, streamRecord);
  }

  get closed() {
    const writer = writerRecordOf(this);
    if (writer === undefined) return promiseRejectedWith(illegalInvocation('WritableStreamDefaultWriter'));
    return writer.closed.promise;
  }

  get desiredSize() {
    const writer = writerRecordOf(this);
    if (writer === undefined) throw illegalInvocation('WritableStreamDefaultWriter');
    if (writer.stream === undefined) throw lockReleasedError('get the desired size of');
    return writableStreamDefaultWriterGetDesiredSize(writer);
  }

  get ready() {
    const writer = writerRecordOf(this);
    if (writer === undefined) return promiseRejectedWith(illegalInvocation('WritableStreamDefaultWriter'));
    return writer.ready.promise;
  }

  abort(reason = undefined) {
    const writer = writerRecordOf(this);
    if (writer === undefined) return promiseRejectedWith(illegalInvocation('WritableStreamDefaultWriter'));
    if (writer.stream === undefined) return promiseRejectedWith(lockReleasedError('abort'));
    return writableStreamDefaultWriterAbort(writer, reason);
  }

  close() {
    const writer = writerRecordOf(this);
    if (writer === undefined) return promiseRejectedWith(illegalInvocation('WritableStreamDefaultWriter'));
    const stream = writer.stream;
    if (stream === undefined) return promiseRejectedWith(lockReleasedError('close'));
    if (writableStreamCloseQueuedOrInFlight(stream)) {
      return promiseRejectedWith(new TypeError('Cannot close a WritableStream that is already closing'));
    }
    return writableStreamDefaultWriterClose(writer);
  }

  releaseLock() {
    const writer = writerRecordOf(this);
    if (writer === undefined) throw illegalInvocation('WritableStreamDefaultWriter');
    if (writer.stream === undefined) return;
    writableStreamDefaultWriterRelease(writer);
  }

  write(chunk = undefined) {
    const writer = writerRecordOf(this);
    if (writer === undefined) return promiseRejectedWith(illegalInvocation('WritableStreamDefaultWriter'));
    if (writer.stream === undefined) return promiseRejectedWith(lockReleasedError('write to'));
    return writableStreamDefaultWriterWrite(writer, chunk);
  }

  static {
    writerRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

function lockReleasedError(action) {
  return new TypeError(`Cannot ${action} a stream using a released writer`);
}

// ---- WritableStreamDefaultController ------------------------------------------------------------

export class WritableStreamDefaultController {
  #r;

  constructor(token = undefined, record = undefined) {
    if (token !== kInternal) throw illegalConstructor();
    this.#r = record;
  }

  // Creating an AbortController for every stream is wasted work when nobody looks at the
  // signal, so it is created on first access. That is unobservable: nobody can have
  // listened to a signal that did not exist, and one created after the stream was aborted
  // starts out aborted with the same reason.
  get signal() {
    const controller = controllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('WritableStreamDefaultController');
    if (controller.abortController === undefined) {
      if (abortControllerFactory === undefined) return undefined;
      controller.abortController = abortControllerFactory();
      if (controller.abortSignalled) controller.abortController.abort(controller.abortReason);
    }
    return controller.abortController.signal;
  }

  error(e = undefined) {
    const controller = controllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('WritableStreamDefaultController');
    if (controller.stream.state !== 'writable') return;
    writableStreamDefaultControllerError(controller, e);
  }

  static {
    controllerRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

exposeInterface(WritableStream, 'WritableStream');
exposeInterface(WritableStreamDefaultWriter, 'WritableStreamDefaultWriter');
exposeInterface(WritableStreamDefaultController, 'WritableStreamDefaultController');

// ---- record access for sibling modules ---------------------------------------------------------

export function writableStreamRecord(value) {
  return writableStreamRecordOf(value);
}

// ---- abstract operations: WritableStream ---------------------------------------------------------

export function acquireWritableStreamDefaultWriter(stream) {
  const object = new WritableStreamDefaultWriter(stream.object);
  return writerRecordOf(object);
}

// CreateWritableStream: used by TransformStream for its writable side.
export function createWritableStream(
  startAlgorithm,
  writeAlgorithm,
  closeAlgorithm,
  abortAlgorithm,
  highWaterMark = 1,
  sizeAlgorithm = () => 1,
) {
  const stream = writableStreamRecordOf(new WritableStream(kInternal));
  const controller = newControllerRecord();
  setUpWritableStreamDefaultController(
    stream,
    controller,
    startAlgorithm,
    writeAlgorithm,
    closeAlgorithm,
    abortAlgorithm,
    highWaterMark,
    sizeAlgorithm,
  );
  return stream;
}

export function isWritableStreamLocked(stream) {
  return stream.writer !== undefined;
}

function newControllerRecord() {
  const record = new ControllerRecord(undefined);
  record.object = new WritableStreamDefaultController(kInternal, record);
  return record;
}

function setUpWritableStreamDefaultWriter(writer, stream) {
  if (isWritableStreamLocked(stream)) throw new TypeError('This WritableStream is already locked to a writer');
  writer.stream = stream;
  stream.writer = writer;
  const state = stream.state;
  if (state === 'writable') {
    if (!writableStreamCloseQueuedOrInFlight(stream) && stream.backpressure) {
      writer.ready = new Deferred();
    } else {
      writer.ready = settledDeferred(true, undefined);
    }
    writer.closed = new Deferred();
  } else if (state === 'erroring') {
    writer.ready = settledDeferred(false, stream.storedError);
    markPromiseHandled(writer.ready.promise);
    writer.closed = new Deferred();
  } else if (state === 'closed') {
    writer.ready = settledDeferred(true, undefined);
    writer.closed = settledDeferred(true, undefined);
  } else {
    const storedError = stream.storedError;
    writer.ready = settledDeferred(false, storedError);
    markPromiseHandled(writer.ready.promise);
    writer.closed = settledDeferred(false, storedError);
    markPromiseHandled(writer.closed.promise);
  }
}

export function writableStreamAbort(stream, reason) {
  if (stream.state === 'closed' || stream.state === 'errored') return promiseResolvedWith(undefined);
  // Signalling abort runs author code (abort event listeners), which may change the state.
  writableStreamDefaultControllerSignalAbort(stream.controller, reason);
  const state = stream.state;
  if (state === 'closed' || state === 'errored') return promiseResolvedWith(undefined);
  if (stream.pendingAbortRequest !== undefined) return stream.pendingAbortRequest.promise.promise;
  let wasAlreadyErroring = false;
  if (state === 'erroring') {
    wasAlreadyErroring = true;
    reason = undefined;
  }
  const promise = new Deferred();
  stream.pendingAbortRequest = { promise, reason, wasAlreadyErroring };
  if (!wasAlreadyErroring) writableStreamStartErroring(stream, reason);
  return promise.promise;
}

export function writableStreamClose(stream) {
  const state = stream.state;
  if (state === 'closed' || state === 'errored') {
    return promiseRejectedWith(new TypeError(`Cannot close a WritableStream that is ${state}`));
  }
  const promise = new Deferred();
  stream.closeRequest = promise;
  const writer = stream.writer;
  if (writer !== undefined && stream.backpressure && state === 'writable') writer.ready.resolve(undefined);
  writableStreamDefaultControllerClose(stream.controller);
  return promise.promise;
}

function writableStreamAddWriteRequest(stream) {
  const promise = new Deferred();
  stream.writeRequests.push(promise);
  return promise.promise;
}

export function writableStreamCloseQueuedOrInFlight(stream) {
  return stream.closeRequest !== undefined || stream.inFlightCloseRequest !== undefined;
}

function writableStreamDealWithRejection(stream, error) {
  if (stream.state === 'writable') {
    writableStreamStartErroring(stream, error);
    return;
  }
  writableStreamFinishErroring(stream);
}

function writableStreamFinishErroring(stream) {
  stream.state = 'errored';
  writableStreamDefaultControllerErrorSteps(stream.controller);
  const storedError = stream.storedError;
  for (const writeRequest of stream.writeRequests.drain()) writeRequest.reject(storedError);
  const abortRequest = stream.pendingAbortRequest;
  if (abortRequest === undefined) {
    writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    return;
  }
  stream.pendingAbortRequest = undefined;
  if (abortRequest.wasAlreadyErroring) {
    abortRequest.promise.reject(storedError);
    writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    return;
  }
  const promise = writableStreamDefaultControllerAbortSteps(stream.controller, abortRequest.reason);
  uponPromise(
    promise,
    () => {
      abortRequest.promise.resolve(undefined);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    },
    (reason) => {
      abortRequest.promise.reject(reason);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
    },
  );
}

function writableStreamFinishInFlightClose(stream) {
  stream.inFlightCloseRequest.resolve(undefined);
  stream.inFlightCloseRequest = undefined;
  if (stream.state === 'erroring') {
    stream.storedError = undefined;
    if (stream.pendingAbortRequest !== undefined) {
      stream.pendingAbortRequest.promise.resolve(undefined);
      stream.pendingAbortRequest = undefined;
    }
  }
  stream.state = 'closed';
  const writer = stream.writer;
  if (writer !== undefined) writer.closed.resolve(undefined);
}

function writableStreamFinishInFlightCloseWithError(stream, error) {
  stream.inFlightCloseRequest.reject(error);
  stream.inFlightCloseRequest = undefined;
  if (stream.pendingAbortRequest !== undefined) {
    stream.pendingAbortRequest.promise.reject(error);
    stream.pendingAbortRequest = undefined;
  }
  writableStreamDealWithRejection(stream, error);
}

function writableStreamFinishInFlightWrite(stream) {
  stream.inFlightWriteRequest.resolve(undefined);
  stream.inFlightWriteRequest = undefined;
}

function writableStreamFinishInFlightWriteWithError(stream, error) {
  stream.inFlightWriteRequest.reject(error);
  stream.inFlightWriteRequest = undefined;
  writableStreamDealWithRejection(stream, error);
}

function writableStreamHasOperationMarkedInFlight(stream) {
  return stream.inFlightWriteRequest !== undefined || stream.inFlightCloseRequest !== undefined;
}

function writableStreamMarkCloseRequestInFlight(stream) {
  stream.inFlightCloseRequest = stream.closeRequest;
  stream.closeRequest = undefined;
}

function writableStreamMarkFirstWriteRequestInFlight(stream) {
  stream.inFlightWriteRequest = stream.writeRequests.shift();
}

function writableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
  if (stream.closeRequest !== undefined) {
    stream.closeRequest.reject(stream.storedError);
    stream.closeRequest = undefined;
  }
  const writer = stream.writer;
  if (writer !== undefined) {
    writer.closed.reject(stream.storedError);
    markPromiseHandled(writer.closed.promise);
  }
}

function writableStreamStartErroring(stream, reason) {
  const controller = stream.controller;
  stream.state = 'erroring';
  stream.storedError = reason;
  const writer = stream.writer;
  if (writer !== undefined) writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, reason);
  if (!writableStreamHasOperationMarkedInFlight(stream) && controller.started) {
    writableStreamFinishErroring(stream);
  }
}

function writableStreamUpdateBackpressure(stream, backpressure) {
  const writer = stream.writer;
  if (writer !== undefined && backpressure !== stream.backpressure) {
    if (backpressure) writer.ready = new Deferred();
    else writer.ready.resolve(undefined);
  }
  stream.backpressure = backpressure;
}

// ---- abstract operations: writers ------------------------------------------------------------------

function writableStreamDefaultWriterAbort(writer, reason) {
  return writableStreamAbort(writer.stream, reason);
}

function writableStreamDefaultWriterClose(writer) {
  return writableStreamClose(writer.stream);
}

export function writableStreamDefaultWriterCloseWithErrorPropagation(writer) {
  const stream = writer.stream;
  const state = stream.state;
  if (writableStreamCloseQueuedOrInFlight(stream) || state === 'closed') return promiseResolvedWith(undefined);
  if (state === 'errored') return promiseRejectedWith(stream.storedError);
  return writableStreamDefaultWriterClose(writer);
}

function writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, error) {
  if (!writer.closed.settled) writer.closed.reject(error);
  else writer.closed = settledDeferred(false, error);
  markPromiseHandled(writer.closed.promise);
}

function writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, error) {
  if (!writer.ready.settled) writer.ready.reject(error);
  else writer.ready = settledDeferred(false, error);
  markPromiseHandled(writer.ready.promise);
}

export function writableStreamDefaultWriterGetDesiredSize(writer) {
  const stream = writer.stream;
  const state = stream.state;
  if (state === 'errored' || state === 'erroring') return null;
  if (state === 'closed') return 0;
  return writableStreamDefaultControllerGetDesiredSize(stream.controller);
}

export function writableStreamDefaultWriterRelease(writer) {
  const stream = writer.stream;
  const releasedError = new TypeError('The writer was released: its lock on the stream is gone');
  writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, releasedError);
  writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, releasedError);
  stream.writer = undefined;
  writer.stream = undefined;
}

export function writableStreamDefaultWriterWrite(writer, chunk) {
  const stream = writer.stream;
  const controller = stream.controller;
  const chunkSize = writableStreamDefaultControllerGetChunkSize(controller, chunk);
  // The size algorithm is author code and may have released this writer.
  if (stream !== writer.stream) return promiseRejectedWith(lockReleasedError('write to'));
  const state = stream.state;
  if (state === 'errored') return promiseRejectedWith(stream.storedError);
  if (writableStreamCloseQueuedOrInFlight(stream) || state === 'closed') {
    return promiseRejectedWith(new TypeError('Cannot write to a WritableStream that is closing or closed'));
  }
  if (state === 'erroring') return promiseRejectedWith(stream.storedError);
  const promise = writableStreamAddWriteRequest(stream);
  writableStreamDefaultControllerWrite(controller, chunk, chunkSize);
  return promise;
}

// ---- abstract operations: controllers ------------------------------------------------------------

function setUpWritableStreamDefaultController(
  stream,
  controller,
  startAlgorithm,
  writeAlgorithm,
  closeAlgorithm,
  abortAlgorithm,
  highWaterMark,
  sizeAlgorithm,
) {
  controller.stream = stream;
  stream.controller = controller;
  resetQueue(controller);
  controller.started = false;
  controller.strategySizeAlgorithm = sizeAlgorithm;
  controller.strategyHWM = highWaterMark;
  controller.writeAlgorithm = writeAlgorithm;
  controller.closeAlgorithm = closeAlgorithm;
  controller.abortAlgorithm = abortAlgorithm;
  const backpressure = writableStreamDefaultControllerGetBackpressure(controller);
  writableStreamUpdateBackpressure(stream, backpressure);
  const startResult = startAlgorithm();
  const startPromise = promiseResolvedWith(startResult);
  uponPromise(
    startPromise,
    () => {
      controller.started = true;
      writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
    },
    (r) => {
      controller.started = true;
      writableStreamDealWithRejection(stream, r);
    },
  );
}

function setUpWritableStreamDefaultControllerFromUnderlyingSink(
  stream,
  underlyingSink,
  sink,
  highWaterMark,
  sizeAlgorithm,
) {
  const controller = newControllerRecord();
  const controllerObject = controller.object;
  let startAlgorithm = () => undefined;
  let writeAlgorithm = () => promiseResolvedWith(undefined);
  let closeAlgorithm = () => promiseResolvedWith(undefined);
  let abortAlgorithm = () => promiseResolvedWith(undefined);
  if (sink.start !== undefined) startAlgorithm = () => invokeCallback(sink.start, underlyingSink, [controllerObject]);
  if (sink.write !== undefined) {
    writeAlgorithm = (chunk) => invokePromiseCallback(sink.write, underlyingSink, [chunk, controllerObject]);
  }
  if (sink.close !== undefined) closeAlgorithm = () => invokePromiseCallback(sink.close, underlyingSink, []);
  if (sink.abort !== undefined) {
    abortAlgorithm = (reason) => invokePromiseCallback(sink.abort, underlyingSink, [reason]);
  }
  setUpWritableStreamDefaultController(
    stream,
    controller,
    startAlgorithm,
    writeAlgorithm,
    closeAlgorithm,
    abortAlgorithm,
    highWaterMark,
    sizeAlgorithm,
  );
}

// "Signal abort on controller.[[abortController]] with reason"; only the first abort counts.
function writableStreamDefaultControllerSignalAbort(controller, reason) {
  if (controller.abortController !== undefined) {
    controller.abortController.abort(reason);
  } else if (!controller.abortSignalled) {
    controller.abortSignalled = true;
    controller.abortReason = reason;
  }
}

function writableStreamDefaultControllerAbortSteps(controller, reason) {
  const result = controller.abortAlgorithm(reason);
  writableStreamDefaultControllerClearAlgorithms(controller);
  return result;
}

function writableStreamDefaultControllerErrorSteps(controller) {
  resetQueue(controller);
}

function writableStreamDefaultControllerAdvanceQueueIfNeeded(controller) {
  const stream = controller.stream;
  if (!controller.started) return;
  if (stream.inFlightWriteRequest !== undefined) return;
  if (stream.state === 'erroring') {
    writableStreamFinishErroring(stream);
    return;
  }
  if (controller.queue.length === 0) return;
  const value = peekQueueValue(controller);
  if (value === closeSentinel) writableStreamDefaultControllerProcessClose(controller);
  else writableStreamDefaultControllerProcessWrite(controller, value);
}

// Dropping the algorithms lets the underlying sink be garbage-collected once it can no
// longer be called.
function writableStreamDefaultControllerClearAlgorithms(controller) {
  controller.writeAlgorithm = undefined;
  controller.closeAlgorithm = undefined;
  controller.abortAlgorithm = undefined;
  controller.strategySizeAlgorithm = undefined;
}

function writableStreamDefaultControllerClose(controller) {
  enqueueValueWithSize(controller, closeSentinel, 0);
  writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
}

function writableStreamDefaultControllerError(controller, error) {
  const stream = controller.stream;
  writableStreamDefaultControllerClearAlgorithms(controller);
  writableStreamStartErroring(stream, error);
}

export function writableStreamDefaultControllerErrorIfNeeded(controller, error) {
  if (controller.stream.state === 'writable') writableStreamDefaultControllerError(controller, error);
}

function writableStreamDefaultControllerGetBackpressure(controller) {
  return writableStreamDefaultControllerGetDesiredSize(controller) <= 0;
}

function writableStreamDefaultControllerGetChunkSize(controller, chunk) {
  // The algorithms are cleared once the stream leaves the "writable" state.
  if (controller.strategySizeAlgorithm === undefined) return 1;
  try {
    return controller.strategySizeAlgorithm(chunk);
  } catch (e) {
    writableStreamDefaultControllerErrorIfNeeded(controller, e);
    return 1;
  }
}

function writableStreamDefaultControllerGetDesiredSize(controller) {
  return controller.strategyHWM - controller.queueTotalSize;
}

function writableStreamDefaultControllerProcessClose(controller) {
  const stream = controller.stream;
  writableStreamMarkCloseRequestInFlight(stream);
  dequeueValue(controller);
  const sinkClosePromise = controller.closeAlgorithm();
  writableStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    sinkClosePromise,
    () => writableStreamFinishInFlightClose(stream),
    (reason) => writableStreamFinishInFlightCloseWithError(stream, reason),
  );
}

function writableStreamDefaultControllerProcessWrite(controller, chunk) {
  const stream = controller.stream;
  writableStreamMarkFirstWriteRequestInFlight(stream);
  const sinkWritePromise = controller.writeAlgorithm(chunk);
  uponPromise(
    sinkWritePromise,
    () => {
      writableStreamFinishInFlightWrite(stream);
      const state = stream.state;
      dequeueValue(controller);
      if (!writableStreamCloseQueuedOrInFlight(stream) && state === 'writable') {
        const backpressure = writableStreamDefaultControllerGetBackpressure(controller);
        writableStreamUpdateBackpressure(stream, backpressure);
      }
      writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
    },
    (reason) => {
      if (stream.state === 'writable') writableStreamDefaultControllerClearAlgorithms(controller);
      writableStreamFinishInFlightWriteWithError(stream, reason);
    },
  );
}

function writableStreamDefaultControllerWrite(controller, chunk, chunkSize) {
  try {
    enqueueValueWithSize(controller, chunk, chunkSize);
  } catch (e) {
    writableStreamDefaultControllerErrorIfNeeded(controller, e);
    return;
  }
  const stream = controller.stream;
  if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === 'writable') {
    const backpressure = writableStreamDefaultControllerGetBackpressure(controller);
    writableStreamUpdateBackpressure(stream, backpressure);
  }
  writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
}
