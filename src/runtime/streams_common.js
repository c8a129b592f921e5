// Shared plumbing for the WHATWG Streams implementation (https://streams.spec.whatwg.org/):
// captured intrinsics, promise helpers named after the spec's prose ("a promise resolved
// with", "upon fulfillment", "mark as handled"), Web IDL argument conversions, the
// queue-with-sizes operations, queuing-strategy extraction and ArrayBuffer helpers.
//
// Intrinsics are captured when this module is evaluated, before any Worker code runs, so
// that scripts patching Promise.prototype.then, typed-array getters or Array.prototype
// cannot change how streams behave internally (the spec operates on internal slots).

// ---- captured intrinsics -------------------------------------------------------------------

const uncurryThis = Function.prototype.bind.bind(Function.prototype.call);

const OriginalPromise = Promise;
const promiseThen = uncurryThis(Promise.prototype.then);
const PromiseResolveStatic = Promise.resolve;
const ReflectApply = Reflect.apply;
const ObjectDefineProperty = Object.defineProperty;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const ObjectGetOwnPropertyNames = Object.getOwnPropertyNames;
const NumberIsNaN = Number.isNaN;
const MathTrunc = Math.trunc;

function getterOf(proto, name) {
  return uncurryThis(ObjectGetOwnPropertyDescriptor(proto, name).get);
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayName = getterOf(TypedArrayPrototype, Symbol.toStringTag);
const typedArrayBuffer = getterOf(TypedArrayPrototype, 'buffer');
const typedArrayByteOffset = getterOf(TypedArrayPrototype, 'byteOffset');
const typedArrayByteLength = getterOf(TypedArrayPrototype, 'byteLength');
const typedArrayLength = getterOf(TypedArrayPrototype, 'length');
const typedArraySet = uncurryThis(TypedArrayPrototype.set);
const dataViewBuffer = getterOf(DataView.prototype, 'buffer');
const dataViewByteOffset = getterOf(DataView.prototype, 'byteOffset');
const dataViewByteLength = getterOf(DataView.prototype, 'byteLength');
const arrayBufferByteLength = getterOf(ArrayBuffer.prototype, 'byteLength');
const arrayBufferIsView = ArrayBuffer.isView;
const arrayBufferDetachedGetter = ObjectGetOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached');
const arrayBufferDetached = arrayBufferDetachedGetter ? uncurryThis(arrayBufferDetachedGetter.get) : undefined;
const arrayBufferTransferMethod = ArrayBuffer.prototype.transfer;
const OriginalArrayBuffer = ArrayBuffer;
const OriginalUint8Array = Uint8Array;
const OriginalDataView = DataView;

// Element size and constructor for each [[TypedArrayName]].
const typedArrayKinds = new Map();
for (const ctor of [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
]) {
  typedArrayKinds.set(ctor.name, { elementSize: ctor.BYTES_PER_ELEMENT, ctor });
}
if (typeof globalThis.Float16Array === 'function') {
  typedArrayKinds.set('Float16Array', { elementSize: 2, ctor: globalThis.Float16Array });
}

// ---- promises ------------------------------------------------------------------------------

const resolvedUndefined = OriginalPromise.resolve();
function noop() {}

// A pending promise together with its resolving functions and a settled flag; the spec
// often asks "if promise is pending" or resolves promises from a distance.
export class Deferred {
  constructor() {
    this.settled = false;
    this.promise = new OriginalPromise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  resolve(value) {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn(value);
  }

  reject(reason) {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(reason);
  }
}

// A Deferred that is already settled, for slots like [[closedPromise]] that the spec sets to
// "a promise resolved with"/"rejected with" a value.
export function settledDeferred(fulfilled, value) {
  const d = new Deferred();
  if (fulfilled) d.resolve(value);
  else d.reject(value);
  return d;
}

// Web IDL "a promise resolved with x": always a fresh promise (never x itself), which keeps
// the number of microtask hops identical to other engines.
export function promiseResolvedWith(value) {
  return new OriginalPromise((resolve) => resolve(value));
}

export function promiseRejectedWith(reason) {
  return new OriginalPromise((_, reject) => reject(reason));
}

// ECMAScript PromiseResolve(%Promise%, x): returns x itself when it already is a promise.
export function promiseResolve(value) {
  return ReflectApply(PromiseResolveStatic, OriginalPromise, [value]);
}

// Web IDL "react to a promise": returns the derived promise.
export function transformPromiseWith(promise, onFulfilled, onRejected) {
  return promiseThen(promise, onFulfilled, onRejected);
}

// "Upon fulfillment/rejection of p": the derived promise is dropped.
export function uponPromise(promise, onFulfilled, onRejected) {
  promiseThen(promise, onFulfilled, onRejected);
}

// The rejection is handled elsewhere (or deliberately ignored); passing a no-op keeps the
// derived promise from being reported as an unhandled rejection.
export function uponFulfillment(promise, onFulfilled) {
  promiseThen(promise, onFulfilled, noop);
}

export function uponRejection(promise, onRejected) {
  promiseThen(promise, undefined, onRejected);
}

// Set [[PromiseIsHandled]] to true: attaching a rejection handler does exactly that.
export function markPromiseHandled(promise) {
  promiseThen(promise, undefined, noop);
}

// Run fn in a fresh microtask (the spec's "queue a microtask").
export function queueMicrotaskInternal(fn) {
  promiseThen(resolvedUndefined, fn);
}

// Web IDL: invoking a callback whose return type is a promise converts both thrown
// exceptions and returned values into a promise.
export function invokePromiseCallback(fn, thisArg, args) {
  try {
    return promiseResolvedWith(ReflectApply(fn, thisArg, args));
  } catch (e) {
    return promiseRejectedWith(e);
  }
}

export function invokeCallback(fn, thisArg, args) {
  return ReflectApply(fn, thisArg, args);
}

// ---- Web IDL conversions and interface helpers -----------------------------------------------

export function isObject(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}

export function illegalInvocation(iface) {
  return new TypeError(`Illegal invocation: receiver is not a ${iface}`);
}

export function illegalConstructor() {
  return new TypeError('Illegal constructor');
}

// Converts to a Web IDL dictionary "view": null/undefined behave like {}; other
// primitives are a TypeError. Members are then read with dictGet in spec order.
export function toDictionary(value, context) {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new TypeError(`${context} must be an object`);
  return value;
}

export function dictGet(dict, member) {
  return dict === undefined ? undefined : dict[member];
}

// Web IDL `unrestricted double`: ToNumber (throws for Symbols and BigInts).
export function toNumber(value) {
  return +value;
}

export function toBoolean(value) {
  return !!value;
}

// Web IDL `[EnforceRange] unsigned long long`.
export function toEnforceRangeULL(value, context) {
  let x = +value;
  if (NumberIsNaN(x) || x === Infinity || x === -Infinity) {
    throw new TypeError(`${context} must be a finite number`);
  }
  x = MathTrunc(x);
  if (x < 0 || x > Number.MAX_SAFE_INTEGER) {
    throw new TypeError(`${context} is outside the accepted range of 0 to 2^53 - 1`);
  }
  return x === 0 ? 0 : x; // normalizes -0
}

function toCallback(value, context) {
  if (typeof value !== 'function') throw new TypeError(`${context} must be a function`);
  return value;
}

export function toCallbackMember(dict, member, context) {
  const v = dictGet(dict, member);
  return v === undefined ? undefined : toCallback(v, `${context} '${member}'`);
}

export function requireArgs(present, required, context) {
  if (present < required) {
    throw new TypeError(
      `${context}: ${required} argument${required > 1 ? 's' : ''} required, but only ${present} present.`,
    );
  }
}

// Makes a class look like a Web IDL interface: operations, attributes and static members
// enumerable, plus a non-writable Symbol.toStringTag on the prototype.
export function exposeInterface(cls, name) {
  for (const target of [cls.prototype, cls]) {
    for (const key of ObjectGetOwnPropertyNames(target)) {
      if (key === 'constructor' || key === 'prototype' || key === 'length' || key === 'name') continue;
      ObjectDefineProperty(target, key, { enumerable: true });
    }
  }
  ObjectDefineProperty(cls.prototype, Symbol.toStringTag, {
    value: name,
    writable: false,
    enumerable: false,
    configurable: true,
  });
}

// ---- queuing strategies ------------------------------------------------------------------------

// Converts a QueuingStrategy dictionary, reading members in Web IDL (lexicographic) order.
export function convertQueuingStrategy(strategy, context) {
  const dict = toDictionary(strategy, context);
  let highWaterMark = dictGet(dict, 'highWaterMark');
  if (highWaterMark !== undefined) highWaterMark = toNumber(highWaterMark);
  let size = dictGet(dict, 'size');
  if (size !== undefined) size = toCallback(size, `${context} 'size'`);
  return { highWaterMark, size };
}

// ExtractHighWaterMark(strategy, defaultHWM)
export function extractHighWaterMark(strategy, defaultHWM) {
  const hwm = strategy.highWaterMark;
  if (hwm === undefined) return defaultHWM;
  if (NumberIsNaN(hwm) || hwm < 0) throw new RangeError('Invalid highWaterMark: must be a non-negative number');
  return hwm;
}

function sizeOfOne() {
  return 1;
}

// ExtractSizeAlgorithm(strategy): the callback is invoked with an undefined this value and
// its result converted to `unrestricted double`.
export function extractSizeAlgorithm(strategy) {
  const size = strategy.size;
  if (size === undefined) return sizeOfOne;
  return (chunk) => toNumber(ReflectApply(size, undefined, [chunk]));
}

// ---- queue-with-sizes ----------------------------------------------------------------------------

// A FIFO with O(1) amortized shift. Array.prototype.shift is O(n) and patchable, and stream
// queues can get long, so items are consumed by advancing a head index and compacted lazily.
export class Queue {
  constructor() {
    this.items = [];
    this.head = 0;
  }

  get length() {
    return this.items.length - this.head;
  }

  push(value) {
    this.items[this.items.length] = value;
  }

  peek() {
    return this.items[this.head];
  }

  shift() {
    const items = this.items;
    const value = items[this.head];
    items[this.head] = undefined;
    this.head++;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      const rest = [];
      for (let i = this.head; i < items.length; i++) rest[rest.length] = items[i];
      this.items = rest;
      this.head = 0;
    }
    return value;
  }

  every(predicate) {
    const items = this.items;
    for (let i = this.head; i < items.length; i++) if (!predicate(items[i])) return false;
    return true;
  }

  // Removes and returns all items, oldest first.
  drain() {
    const out = [];
    const items = this.items;
    for (let i = this.head; i < items.length; i++) out[out.length] = items[i];
    this.items = [];
    this.head = 0;
    return out;
  }
}

function isNonNegativeNumber(v) {
  return typeof v === 'number' && !NumberIsNaN(v) && v >= 0;
}

// The containers below are records with `queue` (a Queue of {value, size}) and
// `queueTotalSize`, as in the spec's "queue-with-sizes" section.
export function dequeueValue(container) {
  const pair = container.queue.shift();
  container.queueTotalSize -= pair.size;
  // Floating-point error can leave a tiny negative remainder.
  if (container.queueTotalSize < 0) container.queueTotalSize = 0;
  return pair.value;
}

export function enqueueValueWithSize(container, value, size) {
  if (!isNonNegativeNumber(size)) throw new RangeError('The chunk size must be a non-negative number');
  if (size === Infinity) throw new RangeError('The chunk size must be finite');
  container.queue.push({ value, size });
  container.queueTotalSize += size;
}

export function peekQueueValue(container) {
  return container.queue.peek().value;
}

export function resetQueue(container) {
  container.queue = new Queue();
  container.queueTotalSize = 0;
}

// ---- ArrayBuffer / ArrayBufferView helpers -----------------------------------------------------

export function isArrayBufferView(v) {
  return arrayBufferIsView(v);
}

export function isArrayBuffer(v) {
  if (!isObject(v)) return false;
  try {
    arrayBufferByteLength(v);
    return true;
  } catch {
    return false;
  }
}

// Internal-slot reads of an ArrayBufferView: { buffer, byteOffset, byteLength, kind } where
// kind is { elementSize, ctor } for typed arrays and undefined for DataViews.
export function viewSlots(view) {
  const name = typedArrayName(view);
  if (name !== undefined) {
    return {
      buffer: typedArrayBuffer(view),
      byteOffset: typedArrayByteOffset(view),
      byteLength: typedArrayByteLength(view),
      kind: typedArrayKinds.get(name),
    };
  }
  return {
    buffer: dataViewBuffer(view),
    byteOffset: dataViewByteOffset(view),
    byteLength: dataViewByteLength(view),
    kind: undefined,
  };
}

// Byte length of a view without consulting (patchable) prototype getters; a view over a
// detached buffer reports 0.
export function viewByteLength(view) {
  try {
    return typedArrayName(view) !== undefined ? typedArrayByteLength(view) : dataViewByteLength(view);
  } catch {
    return 0;
  }
}

export function viewBuffer(view) {
  return typedArrayName(view) !== undefined ? typedArrayBuffer(view) : dataViewBuffer(view);
}

export function typedArrayElementCount(view) {
  return typedArrayLength(view);
}

export function isUint8Array(value) {
  return typedArrayName(value) === 'Uint8Array';
}

// Concatenates Uint8Arrays; a single chunk is returned as is.
export function concatUint8Arrays(chunks, totalLength) {
  if (chunks.length === 1) return chunks[0];
  const out = new OriginalUint8Array(totalLength);
  let offset = 0;
  for (const chunk of chunks) {
    typedArraySet(out, chunk, offset);
    offset += typedArrayByteLength(chunk);
  }
  return out;
}

export function bufferByteLength(buffer) {
  return arrayBufferByteLength(buffer);
}

export function isDetachedBuffer(buffer) {
  if (arrayBufferDetached !== undefined) return arrayBufferDetached(buffer);
  if (arrayBufferByteLength(buffer) !== 0) return false;
  // A zero-length buffer may be detached or genuinely empty; only the detached one refuses
  // to back a new view.
  try {
    new OriginalUint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

// TransferArrayBuffer: moves the contents to a new ArrayBuffer and detaches the original.
// ECMAScript gained ArrayBuffer.prototype.transfer only recently, so the embedder can install
// a native implementation with setArrayBufferTransfer(). Without either, the contents are
// copied and the original is left attached (readers keep working; only the detachment that
// guards against later writes through stale views is lost).
const defaultTransfer = arrayBufferTransferMethod
  ? (buffer) => ReflectApply(arrayBufferTransferMethod, buffer, [])
  : (buffer) => cloneArrayBuffer(buffer, 0, arrayBufferByteLength(buffer));
let transferImpl = defaultTransfer;

// Passing undefined restores the default.
export function setArrayBufferTransfer(fn) {
  transferImpl = fn === undefined ? defaultTransfer : fn;
}

export function transferArrayBuffer(buffer) {
  if (isDetachedBuffer(buffer)) throw new TypeError('Cannot transfer a detached ArrayBuffer');
  try {
    return transferImpl(buffer);
  } catch {
    // e.g. WebAssembly.Memory buffers, which cannot be detached (DetachArrayBuffer throws a
    // TypeError in the spec).
    throw new TypeError('This ArrayBuffer cannot be transferred');
  }
}

// CloneArrayBuffer(srcBuffer, srcByteOffset, srcLength, %ArrayBuffer%)
export function cloneArrayBuffer(buffer, byteOffset, byteLength) {
  const out = new OriginalArrayBuffer(byteLength);
  typedArraySet(new OriginalUint8Array(out), new OriginalUint8Array(buffer, byteOffset, byteLength));
  return out;
}

// CopyDataBlockBytes(toBlock, toIndex, fromBlock, fromIndex, count)
export function copyDataBlockBytes(dest, destOffset, src, srcOffset, count) {
  typedArraySet(new OriginalUint8Array(dest, destOffset, count), new OriginalUint8Array(src, srcOffset, count));
}

// CloneAsUint8Array(O)
export function cloneAsUint8Array(view) {
  const { buffer, byteOffset, byteLength } = viewSlots(view);
  return new OriginalUint8Array(cloneArrayBuffer(buffer, byteOffset, byteLength));
}

export function newUint8Array(buffer, byteOffset, length) {
  return new OriginalUint8Array(buffer, byteOffset, length);
}

export function newView(ctor, buffer, byteOffset, length) {
  return new ctor(buffer, byteOffset, length);
}

export const DataViewConstructor = OriginalDataView;
export const Uint8ArrayConstructor = OriginalUint8Array;

export function newArrayBuffer(length) {
  return new OriginalArrayBuffer(length);
}
