// TransformStream and TransformStreamDefaultController
// (https://streams.spec.whatwg.org/#ts), plus the Cloudflare Workers byte-oriented
// subclasses IdentityTransformStream and FixedLengthStream.
//
// A TransformStream is a WritableStream and a ReadableStream created with internal
// algorithms that call into the transformer. The spec's readable side always has a default
// controller; IdentityTransformStream needs a byte stream (so BYOB readers work), so the
// few operations on the readable controller go through small dispatchers below.

import {
  Deferred,
  cloneArrayBuffer,
  cloneAsUint8Array,
  convertQueuingStrategy,
  dictGet,
  exposeInterface,
  extractHighWaterMark,
  extractSizeAlgorithm,
  illegalConstructor,
  illegalInvocation,
  invokeCallback,
  invokePromiseCallback,
  isArrayBuffer,
  isArrayBufferView,
  isObject,
  newUint8Array,
  promiseRejectedWith,
  promiseResolvedWith,
  requireArgs,
  toCallbackMember,
  toDictionary,
  toNumber,
  transformPromiseWith,
  uponPromise,
  bufferByteLength,
  viewByteLength,
} from './streams_common.js';
import {
  createReadableByteStream,
  createReadableStream,
  readableByteStreamControllerCanCloseOrEnqueue,
  readableByteStreamControllerClose,
  readableByteStreamControllerEnqueue,
  readableByteStreamControllerError,
  readableByteStreamControllerGetDesiredSize,
  readableByteStreamControllerHasBackpressure,
  readableByteStreamControllerRespond,
  readableStreamDefaultControllerCanCloseOrEnqueue,
  readableStreamDefaultControllerClose,
  readableStreamDefaultControllerEnqueue,
  readableStreamDefaultControllerError,
  readableStreamDefaultControllerGetDesiredSize,
  readableStreamDefaultControllerHasBackpressure,
} from './streams_readable.js';
import { createWritableStream, writableStreamDefaultControllerErrorIfNeeded } from './streams_writable.js';

// Lets constructors tell internal creation apart from script calls.
const kInternal = Symbol('internal');

// ---- internal records ---------------------------------------------------------------------------

class TransformStreamRecord {
  constructor(object) {
    this.object = object;
    this.backpressure = undefined;
    this.backpressureChangePromise = undefined; // Deferred
    this.controller = undefined;
    this.readable = undefined; // readable stream record
    this.writable = undefined; // writable stream record
  }
}

class ControllerRecord {
  constructor() {
    this.object = undefined;
    this.stream = undefined;
    this.finishPromise = undefined; // Deferred
    this.transformAlgorithm = undefined;
    this.flushAlgorithm = undefined;
    this.cancelAlgorithm = undefined;
  }
}

let transformStreamRecordOf;
let controllerRecordOf;

// ---- the readable side's controller: default or byte -------------------------------------------

function readableControllerCanCloseOrEnqueue(rc) {
  return rc.isByte
    ? readableByteStreamControllerCanCloseOrEnqueue(rc)
    : readableStreamDefaultControllerCanCloseOrEnqueue(rc);
}

function readableControllerEnqueue(rc, chunk) {
  if (rc.isByte) readableByteStreamControllerEnqueue(rc, chunk);
  else readableStreamDefaultControllerEnqueue(rc, chunk);
}

function readableControllerClose(rc) {
  if (!rc.isByte) {
    readableStreamDefaultControllerClose(rc);
    return;
  }
  // Closing a byte stream throws (after erroring it) if a BYOB read holds a partial
  // element; the stream's error then speaks for itself.
  try {
    readableByteStreamControllerClose(rc);
  } catch {
    return;
  }
  // A BYOB read still pending is completed (empty, done) by a zero-byte respond.
  if (rc.stream.state === 'closed' && rc.pendingPullIntos.length > 0) readableByteStreamControllerRespond(rc, 0);
}

function readableControllerError(rc, e) {
  if (rc.isByte) readableByteStreamControllerError(rc, e);
  else readableStreamDefaultControllerError(rc, e);
}

function readableControllerHasBackpressure(rc) {
  return rc.isByte
    ? readableByteStreamControllerHasBackpressure(rc)
    : readableStreamDefaultControllerHasBackpressure(rc);
}

function readableControllerGetDesiredSize(rc) {
  return rc.isByte ? readableByteStreamControllerGetDesiredSize(rc) : readableStreamDefaultControllerGetDesiredSize(rc);
}

// ---- TransformStream ---------------------------------------------------------------------------------

// Transformer: cancel, flush, readableType, start, transform, writableType.
function convertTransformer(value, context) {
  const dict = toDictionary(value, `${context}: the transformer`);
  const what = `${context}: transformer member`;
  const cancel = toCallbackMember(dict, 'cancel', what);
  const flush = toCallbackMember(dict, 'flush', what);
  const readableType = dictGet(dict, 'readableType');
  const start = toCallbackMember(dict, 'start', what);
  const transform = toCallbackMember(dict, 'transform', what);
  const writableType = dictGet(dict, 'writableType');
  return { cancel, flush, readableType, start, transform, writableType };
}

export class TransformStream {
  #r;

  constructor(transformer = undefined, writableStrategy = undefined, readableStrategy = undefined) {
    if (transformer === kInternal) {
      // From a subclass below; the second argument is its configuration.
      this.#r = new TransformStreamRecord(this);
      setUpIdentityTransformStream(this.#r, writableStrategy);
      return;
    }
    const context = "Failed to construct 'TransformStream'";
    // Arguments are converted first (strategies included), then the transformer dictionary.
    if (transformer !== undefined && !isObject(transformer)) {
      throw new TypeError(`${context}: the transformer must be an object`);
    }
    const writableStrategyDict = convertQueuingStrategy(writableStrategy, `${context}: the writable strategy`);
    const readableStrategyDict = convertQueuingStrategy(readableStrategy, `${context}: the readable strategy`);
    const transformerDict = convertTransformer(transformer === undefined ? null : transformer, context);
    if (transformerDict.readableType !== undefined) throw new RangeError(`${context}: invalid readableType specified`);
    if (transformerDict.writableType !== undefined) throw new RangeError(`${context}: invalid writableType specified`);
    const readableHighWaterMark = extractHighWaterMark(readableStrategyDict, 0);
    const readableSizeAlgorithm = extractSizeAlgorithm(readableStrategyDict);
    const writableHighWaterMark = extractHighWaterMark(writableStrategyDict, 1);
    const writableSizeAlgorithm = extractSizeAlgorithm(writableStrategyDict);
    const startPromise = new Deferred();
    const stream = (this.#r = new TransformStreamRecord(this));
    initializeTransformStream(
      stream,
      startPromise.promise,
      writableHighWaterMark,
      writableSizeAlgorithm,
      readableHighWaterMark,
      readableSizeAlgorithm,
      false,
    );
    setUpTransformStreamDefaultControllerFromTransformer(stream, transformer, transformerDict);
    if (transformerDict.start !== undefined) {
      startPromise.resolve(invokeCallback(transformerDict.start, transformer, [stream.controller.object]));
    } else {
      startPromise.resolve(undefined);
    }
  }

  get readable() {
    const stream = transformStreamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('TransformStream');
    return stream.readable.object;
  }

  get writable() {
    const stream = transformStreamRecordOf(this);
    if (stream === undefined) throw illegalInvocation('TransformStream');
    return stream.writable.object;
  }

  static {
    transformStreamRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- TransformStreamDefaultController ------------------------------------------------------------------

export class TransformStreamDefaultController {
  #r;

  constructor(token = undefined, record = undefined) {
    if (token !== kInternal) throw illegalConstructor();
    this.#r = record;
  }

  get desiredSize() {
    const controller = controllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('TransformStreamDefaultController');
    return readableControllerGetDesiredSize(controller.stream.readable.controller);
  }

  enqueue(chunk = undefined) {
    const controller = controllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('TransformStreamDefaultController');
    transformStreamDefaultControllerEnqueue(controller, chunk);
  }

  error(reason = undefined) {
    const controller = controllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('TransformStreamDefaultController');
    transformStreamDefaultControllerError(controller, reason);
  }

  terminate() {
    const controller = controllerRecordOf(this);
    if (controller === undefined) throw illegalInvocation('TransformStreamDefaultController');
    transformStreamDefaultControllerTerminate(controller);
  }

  static {
    controllerRecordOf = (o) => (isObject(o) && #r in o ? o.#r : undefined);
  }
}

// ---- abstract operations: TransformStream ---------------------------------------------------------------

function initializeTransformStream(
  stream,
  startPromise,
  writableHighWaterMark,
  writableSizeAlgorithm,
  readableHighWaterMark,
  readableSizeAlgorithm,
  readableIsByteStream,
  writeAlgorithm = (chunk) => transformStreamDefaultSinkWriteAlgorithm(stream, chunk),
) {
  const startAlgorithm = () => startPromise;
  const abortAlgorithm = (reason) => transformStreamDefaultSinkAbortAlgorithm(stream, reason);
  const closeAlgorithm = () => transformStreamDefaultSinkCloseAlgorithm(stream);
  stream.writable = createWritableStream(
    startAlgorithm,
    writeAlgorithm,
    closeAlgorithm,
    abortAlgorithm,
    writableHighWaterMark,
    writableSizeAlgorithm,
  );
  const pullAlgorithm = () => transformStreamDefaultSourcePullAlgorithm(stream);
  const cancelAlgorithm = (reason) => transformStreamDefaultSourceCancelAlgorithm(stream, reason);
  stream.readable = readableIsByteStream
    ? createReadableByteStream(startAlgorithm, pullAlgorithm, cancelAlgorithm, readableHighWaterMark)
    : createReadableStream(
        startAlgorithm,
        pullAlgorithm,
        cancelAlgorithm,
        readableHighWaterMark,
        readableSizeAlgorithm,
      );
  stream.backpressure = undefined;
  stream.backpressureChangePromise = undefined;
  transformStreamSetBackpressure(stream, true);
  stream.controller = undefined;
}

function transformStreamError(stream, e) {
  readableControllerError(stream.readable.controller, e);
  transformStreamErrorWritableAndUnblockWrite(stream, e);
}

function transformStreamErrorWritableAndUnblockWrite(stream, e) {
  transformStreamDefaultControllerClearAlgorithms(stream.controller);
  writableStreamDefaultControllerErrorIfNeeded(stream.writable.controller, e);
  transformStreamUnblockWrite(stream);
}

// A write blocked on backpressure would otherwise wait forever once the readable side is
// gone.
function transformStreamUnblockWrite(stream) {
  if (stream.backpressure) transformStreamSetBackpressure(stream, false);
}

function transformStreamSetBackpressure(stream, backpressure) {
  if (stream.backpressureChangePromise !== undefined) stream.backpressureChangePromise.resolve(undefined);
  stream.backpressureChangePromise = new Deferred();
  stream.backpressure = backpressure;
}

// ---- abstract operations: controllers -----------------------------------------------------------------------

function newControllerRecord() {
  const controller = new ControllerRecord();
  controller.object = new TransformStreamDefaultController(kInternal, controller);
  return controller;
}

function setUpTransformStreamDefaultController(
  stream,
  controller,
  transformAlgorithm,
  flushAlgorithm,
  cancelAlgorithm,
) {
  controller.stream = stream;
  stream.controller = controller;
  controller.transformAlgorithm = transformAlgorithm;
  controller.flushAlgorithm = flushAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
}

function setUpTransformStreamDefaultControllerFromTransformer(stream, transformer, transformerDict) {
  const controller = newControllerRecord();
  const controllerObject = controller.object;
  let transformAlgorithm = (chunk) => {
    try {
      transformStreamDefaultControllerEnqueue(controller, chunk);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    return promiseResolvedWith(undefined);
  };
  let flushAlgorithm = () => promiseResolvedWith(undefined);
  let cancelAlgorithm = () => promiseResolvedWith(undefined);
  if (transformerDict.transform !== undefined) {
    transformAlgorithm = (chunk) =>
      invokePromiseCallback(transformerDict.transform, transformer, [chunk, controllerObject]);
  }
  if (transformerDict.flush !== undefined) {
    flushAlgorithm = () => invokePromiseCallback(transformerDict.flush, transformer, [controllerObject]);
  }
  if (transformerDict.cancel !== undefined) {
    cancelAlgorithm = (reason) => invokePromiseCallback(transformerDict.cancel, transformer, [reason]);
  }
  setUpTransformStreamDefaultController(stream, controller, transformAlgorithm, flushAlgorithm, cancelAlgorithm);
}

function transformStreamDefaultControllerClearAlgorithms(controller) {
  controller.transformAlgorithm = undefined;
  controller.flushAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
}

function transformStreamDefaultControllerEnqueue(controller, chunk) {
  const stream = controller.stream;
  const readableController = stream.readable.controller;
  if (!readableControllerCanCloseOrEnqueue(readableController)) {
    throw new TypeError('The readable side of the TransformStream is not in a state that permits enqueue');
  }
  try {
    readableControllerEnqueue(readableController, chunk);
  } catch (e) {
    transformStreamErrorWritableAndUnblockWrite(stream, e);
    throw stream.readable.storedError;
  }
  const backpressure = readableControllerHasBackpressure(readableController);
  if (backpressure !== stream.backpressure) transformStreamSetBackpressure(stream, true);
}

function transformStreamDefaultControllerError(controller, e) {
  transformStreamError(controller.stream, e);
}

function transformStreamDefaultControllerPerformTransform(controller, chunk) {
  const transformPromise = controller.transformAlgorithm(chunk);
  return transformPromiseWith(transformPromise, undefined, (r) => {
    transformStreamError(controller.stream, r);
    throw r;
  });
}

function transformStreamDefaultControllerTerminate(controller) {
  const stream = controller.stream;
  readableControllerClose(stream.readable.controller);
  const error = new TypeError('The TransformStream has been terminated');
  transformStreamErrorWritableAndUnblockWrite(stream, error);
}

// ---- abstract operations: default sinks -----------------------------------------------------------------------

function transformStreamDefaultSinkWriteAlgorithm(stream, chunk) {
  const controller = stream.controller;
  if (stream.backpressure) {
    return transformPromiseWith(stream.backpressureChangePromise.promise, () => {
      const writable = stream.writable;
      if (writable.state === 'erroring') throw writable.storedError;
      return transformStreamDefaultControllerPerformTransform(controller, chunk);
    });
  }
  return transformStreamDefaultControllerPerformTransform(controller, chunk);
}

function transformStreamDefaultSinkAbortAlgorithm(stream, reason) {
  const controller = stream.controller;
  if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
  const readable = stream.readable;
  controller.finishPromise = new Deferred();
  const cancelPromise = controller.cancelAlgorithm(reason);
  transformStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    cancelPromise,
    () => {
      if (readable.state === 'errored') {
        controller.finishPromise.reject(readable.storedError);
      } else {
        readableControllerError(readable.controller, reason);
        controller.finishPromise.resolve(undefined);
      }
    },
    (r) => {
      readableControllerError(readable.controller, r);
      controller.finishPromise.reject(r);
    },
  );
  return controller.finishPromise.promise;
}

function transformStreamDefaultSinkCloseAlgorithm(stream) {
  const controller = stream.controller;
  if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
  const readable = stream.readable;
  controller.finishPromise = new Deferred();
  const flushPromise = controller.flushAlgorithm();
  transformStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    flushPromise,
    () => {
      if (readable.state === 'errored') {
        controller.finishPromise.reject(readable.storedError);
      } else {
        readableControllerClose(readable.controller);
        controller.finishPromise.resolve(undefined);
      }
    },
    (r) => {
      readableControllerError(readable.controller, r);
      controller.finishPromise.reject(r);
    },
  );
  return controller.finishPromise.promise;
}

// ---- abstract operations: default sources ---------------------------------------------------------------------

function transformStreamDefaultSourceCancelAlgorithm(stream, reason) {
  const controller = stream.controller;
  if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
  const writable = stream.writable;
  controller.finishPromise = new Deferred();
  const cancelPromise = controller.cancelAlgorithm(reason);
  transformStreamDefaultControllerClearAlgorithms(controller);
  uponPromise(
    cancelPromise,
    () => {
      if (writable.state === 'errored') {
        controller.finishPromise.reject(writable.storedError);
      } else {
        writableStreamDefaultControllerErrorIfNeeded(writable.controller, reason);
        transformStreamUnblockWrite(stream);
        controller.finishPromise.resolve(undefined);
      }
    },
    (r) => {
      writableStreamDefaultControllerErrorIfNeeded(writable.controller, r);
      transformStreamUnblockWrite(stream);
      controller.finishPromise.reject(r);
    },
  );
  return controller.finishPromise.promise;
}

function transformStreamDefaultSourcePullAlgorithm(stream) {
  transformStreamSetBackpressure(stream, false);
  return stream.backpressureChangePromise.promise;
}

// ---- Cloudflare Workers: IdentityTransformStream and FixedLengthStream ------------------------------------------

const stringChunkMessage =
  'This TransformStream is being used as a byte stream, but received a string on its writable side. ' +
  "If you wish to write a string, you'll probably want to explicitly UTF-8-encode it with TextEncoder.";
const nonBufferChunkMessage =
  'This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/' +
  'ArrayBufferView type on its writable side.';

// The bytes of a written chunk, copied: the readable side is a byte stream, whose enqueue
// would otherwise detach the writer's buffer.
function copyChunkBytes(chunk) {
  if (typeof chunk === 'string') throw new TypeError(stringChunkMessage);
  if (isArrayBufferView(chunk)) return cloneAsUint8Array(chunk);
  if (isArrayBuffer(chunk)) return newUint8Array(cloneArrayBuffer(chunk, 0, bufferByteLength(chunk)));
  throw new TypeError(nonBufferChunkMessage);
}

// config: { highWaterMark, expectedLength } where expectedLength is undefined for a plain
// IdentityTransformStream.
function setUpIdentityTransformStream(stream, config) {
  const { highWaterMark, expectedLength } = config;
  let bytesWritten = 0;
  // Chunks are checked (and counted) as soon as the writable side hands them over, before
  // waiting for a reader, so a bad write fails right away instead of when the bytes would
  // have been read. A rejected chunk errors both sides, like a failing transform.
  const writeAlgorithm = (chunk) => {
    let bytes;
    try {
      bytes = copyChunkBytes(chunk);
      const length = viewByteLength(bytes);
      if (expectedLength !== undefined && bytesWritten + length > expectedLength) {
        throw new TypeError('Attempt to write too many bytes through a FixedLengthStream.');
      }
      bytesWritten += length;
    } catch (e) {
      transformStreamError(stream, e);
      return promiseRejectedWith(e);
    }
    // A byte stream cannot carry empty chunks; an empty write is simply a no-op.
    if (viewByteLength(bytes) === 0) return promiseResolvedWith(undefined);
    return transformStreamDefaultSinkWriteAlgorithm(stream, bytes);
  };
  initializeTransformStream(
    stream,
    promiseResolvedWith(undefined),
    1,
    () => 1,
    highWaterMark,
    undefined,
    true,
    writeAlgorithm,
  );
  if (expectedLength !== undefined) stream.readable.fixedLength = expectedLength;
  const controller = newControllerRecord();
  const transformAlgorithm = (bytes) => {
    try {
      transformStreamDefaultControllerEnqueue(controller, bytes);
    } catch (e) {
      return promiseRejectedWith(e);
    }
    return promiseResolvedWith(undefined);
  };
  const flushAlgorithm = () => {
    if (expectedLength !== undefined && bytesWritten < expectedLength) {
      return promiseRejectedWith(new TypeError('FixedLengthStream did not see all expected bytes before close().'));
    }
    return promiseResolvedWith(undefined);
  };
  const cancelAlgorithm = () => promiseResolvedWith(undefined);
  setUpTransformStreamDefaultController(stream, controller, transformAlgorithm, flushAlgorithm, cancelAlgorithm);
}

// `{ highWaterMark }`: how many bytes the readable side may buffer before writes wait for
// a reader (default 0: a write is passed on only once a read is waiting for it).
function identityOptions(options, context) {
  const dict = toDictionary(options, `${context}: the options`);
  let highWaterMark = dictGet(dict, 'highWaterMark');
  if (highWaterMark === undefined) return 0;
  highWaterMark = typeof highWaterMark === 'bigint' ? Number(highWaterMark) : toNumber(highWaterMark);
  if (!(highWaterMark >= 0)) throw new RangeError(`${context}: highWaterMark must be a non-negative number`);
  return highWaterMark;
}

export class IdentityTransformStream extends TransformStream {
  constructor(options = undefined, internalConfig = undefined) {
    if (options === kInternal) {
      super(kInternal, internalConfig);
      return;
    }
    const highWaterMark = identityOptions(options, "Failed to construct 'IdentityTransformStream'");
    super(kInternal, { highWaterMark, expectedLength: undefined });
  }
}

export class FixedLengthStream extends IdentityTransformStream {
  constructor(expectedLength, options = undefined) {
    const context = "Failed to construct 'FixedLengthStream'";
    requireArgs(arguments.length, 1, context);
    const length = typeof expectedLength === 'bigint' ? Number(expectedLength) : toNumber(expectedLength);
    if (!Number.isInteger(length) || length < 0 || length > Number.MAX_SAFE_INTEGER) {
      throw new TypeError(`${context}: the expected length must be a non-negative integer less than 2^53`);
    }
    const highWaterMark = identityOptions(options, context);
    super(kInternal, { highWaterMark, expectedLength: length });
  }
}

exposeInterface(TransformStream, 'TransformStream');
exposeInterface(TransformStreamDefaultController, 'TransformStreamDefaultController');
exposeInterface(IdentityTransformStream, 'IdentityTransformStream');
exposeInterface(FixedLengthStream, 'FixedLengthStream');
