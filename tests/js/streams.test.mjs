// Tests for the Streams implementation in src/runtime/streams*.js: spec behaviour and edge
// cases, Web IDL shape, the Cloudflare Workers extras (IdentityTransformStream,
// FixedLengthStream) and the internal API used by other runtime modules.
// Differential comparisons against Node's own streams live in streams_differential.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as S from '../../src/runtime/streams.js';

const {
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamDefaultController,
  ReadableByteStreamController,
  ReadableStreamBYOBRequest,
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,
  TransformStream,
  TransformStreamDefaultController,
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  IdentityTransformStream,
  FixedLengthStream,
} = S;

// Node 20 has no ArrayBuffer.prototype.transfer; this is what the runtime wires natively.
const structuredTransfer = (buffer) => structuredClone(buffer, { transfer: [buffer] });
S.setArrayBufferTransfer(structuredTransfer);
S.setAbortControllerFactory(() => new AbortController());

// Every unhandled rejection in this file is collected; the last tests assert there were none
// (the runtime reports them as errors, so the implementation must never leave one behind).
// node:test also fails whichever test is running when one occurs.
const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

// A macrotask turn: all pending microtasks (promise reactions) have run afterwards.
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));
async function settle() {
  await macrotask();
  await macrotask();
}

// Synchronously observable promise state, via a race against an already-resolved promise.
async function state(promise) {
  const pending = Symbol('pending');
  try {
    const v = await Promise.race([promise, Promise.resolve(pending)]);
    return v === pending ? 'pending' : 'fulfilled';
  } catch {
    return 'rejected';
  }
}

const bytes = (...values) => new Uint8Array(values);
const encoder = new TextEncoder();

function controlledReadable(extra = {}, strategy = undefined) {
  let controller;
  const stream = new ReadableStream(
    {
      ...extra,
      start(c) {
        controller = c;
        return extra.start?.(c);
      },
    },
    strategy,
  );
  return { stream, controller };
}

async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

// ---- ReadableStream: construction and Web IDL ------------------------------------------------------

test('ReadableStream constructor argument validation', () => {
  new ReadableStream();
  new ReadableStream(undefined, undefined);
  new ReadableStream({}, {});
  new ReadableStream({ type: undefined });
  assert.throws(() => new ReadableStream(null), TypeError);
  assert.throws(() => new ReadableStream(5), TypeError);
  assert.throws(() => new ReadableStream({ start: 'nope' }), TypeError);
  assert.throws(() => new ReadableStream({ type: 'byob' }), TypeError);
  assert.throws(() => new ReadableStream({}, 5), TypeError);
  assert.throws(() => new ReadableStream({}, { highWaterMark: -1 }), RangeError);
  assert.throws(() => new ReadableStream({}, { highWaterMark: NaN }), RangeError);
  assert.throws(() => new ReadableStream({}, { highWaterMark: 'x' }), RangeError);
  assert.throws(() => new ReadableStream({}, { highWaterMark: 1n }), TypeError);
  assert.throws(() => new ReadableStream({}, { size: {} }), TypeError);
  assert.throws(() => new ReadableStream({ type: 'bytes' }, { size: () => 1 }), RangeError);
  assert.throws(() => new ReadableStream({ type: 'bytes', autoAllocateChunkSize: 0 }), TypeError);
  assert.throws(() => new ReadableStream({ type: 'bytes', autoAllocateChunkSize: -1 }), TypeError);
  assert.throws(() => ReadableStream(), TypeError);
  const e = new Error('start');
  assert.throws(
    () =>
      new ReadableStream({
        start() {
          throw e;
        },
      }),
    (err) => err === e,
  );
});

test('highWaterMark goes through ToNumber; Infinity is allowed', () => {
  let desired;
  new ReadableStream({ start: (c) => void (desired = c.desiredSize) }, { highWaterMark: '7' });
  assert.equal(desired, 7);
  new ReadableStream({ start: (c) => void (desired = c.desiredSize) }, { highWaterMark: { valueOf: () => 2 } });
  assert.equal(desired, 2);
  new ReadableStream({ start: (c) => void (desired = c.desiredSize) }, { highWaterMark: Infinity });
  assert.equal(desired, Infinity);
  new ReadableStream({ type: 'bytes', start: (c) => void (desired = c.desiredSize) });
  assert.equal(desired, 0, 'byte streams default to a high-water mark of 0');
  new ReadableStream({ start: (c) => void (desired = c.desiredSize) });
  assert.equal(desired, 1, 'default streams default to a high-water mark of 1');
});

test('constructor reads the strategy, then the source members in lexicographic order', () => {
  const order = [];
  const spy = (label, names) =>
    Object.defineProperties(
      {},
      Object.fromEntries(names.map((n) => [n, { get: () => void order.push(`${label}.${n}`) }])),
    );
  new ReadableStream(spy('src', ['type', 'start', 'pull', 'cancel', 'autoAllocateChunkSize']), spy('qs', ['size', 'highWaterMark']));
  assert.deepEqual(order, [
    'qs.highWaterMark',
    'qs.size',
    'src.autoAllocateChunkSize',
    'src.cancel',
    'src.pull',
    'src.start',
    'src.type',
  ]);
  order.length = 0;
  new WritableStream(spy('sink', ['write', 'type', 'start', 'close', 'abort']), spy('qs', ['size', 'highWaterMark']));
  assert.deepEqual(order, ['qs.highWaterMark', 'qs.size', 'sink.abort', 'sink.close', 'sink.start', 'sink.type', 'sink.write']);
  order.length = 0;
  new TransformStream(
    spy('t', ['writableType', 'transform', 'start', 'readableType', 'flush', 'cancel']),
    spy('ws', ['size', 'highWaterMark']),
    spy('rs', ['size', 'highWaterMark']),
  );
  assert.deepEqual(order, [
    'ws.highWaterMark',
    'ws.size',
    'rs.highWaterMark',
    'rs.size',
    't.cancel',
    't.flush',
    't.readableType',
    't.start',
    't.transform',
    't.writableType',
  ]);
});

test('Web IDL shape: prototypes, lengths, enumerability, toStringTag, illegal constructors', () => {
  const expectations = [
    [ReadableStream, 'ReadableStream', { cancel: 0, getReader: 0, pipeThrough: 1, pipeTo: 1, tee: 0, values: 0 }, ['locked']],
    [ReadableStreamDefaultReader, 'ReadableStreamDefaultReader', { read: 0, releaseLock: 0, cancel: 0 }, ['closed']],
    [ReadableStreamBYOBReader, 'ReadableStreamBYOBReader', { read: 1, releaseLock: 0, cancel: 0 }, ['closed']],
    [ReadableStreamDefaultController, 'ReadableStreamDefaultController', { close: 0, enqueue: 0, error: 0 }, ['desiredSize']],
    [ReadableByteStreamController, 'ReadableByteStreamController', { close: 0, enqueue: 1, error: 0 }, ['byobRequest', 'desiredSize']],
    [ReadableStreamBYOBRequest, 'ReadableStreamBYOBRequest', { respond: 1, respondWithNewView: 1 }, ['view']],
    [WritableStream, 'WritableStream', { abort: 0, close: 0, getWriter: 0 }, ['locked']],
    [WritableStreamDefaultWriter, 'WritableStreamDefaultWriter', { abort: 0, close: 0, releaseLock: 0, write: 0 }, ['closed', 'desiredSize', 'ready']],
    [WritableStreamDefaultController, 'WritableStreamDefaultController', { error: 0 }, ['signal']],
    [TransformStream, 'TransformStream', {}, ['readable', 'writable']],
    [TransformStreamDefaultController, 'TransformStreamDefaultController', { enqueue: 0, error: 0, terminate: 0 }, ['desiredSize']],
    [ByteLengthQueuingStrategy, 'ByteLengthQueuingStrategy', {}, ['highWaterMark', 'size']],
    [CountQueuingStrategy, 'CountQueuingStrategy', {}, ['highWaterMark', 'size']],
  ];
  for (const [cls, name, methods, getters] of expectations) {
    const proto = cls.prototype;
    assert.equal(proto[Symbol.toStringTag], name);
    const tag = Object.getOwnPropertyDescriptor(proto, Symbol.toStringTag);
    assert.equal(tag.writable, false);
    assert.equal(tag.enumerable, false);
    const own = Object.getOwnPropertyNames(proto).filter((k) => k !== 'constructor').sort();
    assert.deepEqual(own, [...Object.keys(methods), ...getters].sort(), name);
    for (const [m, length] of Object.entries(methods)) {
      const d = Object.getOwnPropertyDescriptor(proto, m);
      assert.equal(typeof d.value, 'function', `${name}.${m}`);
      assert.equal(d.value.length, length, `${name}.${m}.length`);
      assert.ok(d.enumerable && d.writable && d.configurable, `${name}.${m} attributes`);
    }
    for (const g of getters) {
      const d = Object.getOwnPropertyDescriptor(proto, g);
      assert.equal(typeof d.get, 'function', `${name}.${g}`);
      assert.equal(d.set, undefined);
      assert.ok(d.enumerable && d.configurable);
    }
  }
  assert.equal(ReadableStream.length, 0);
  assert.equal(WritableStream.length, 0);
  assert.equal(TransformStream.length, 0);
  assert.equal(ReadableStreamDefaultReader.length, 1);
  assert.equal(CountQueuingStrategy.length, 1);
  assert.equal(ReadableStream.from.length, 1);
  assert.ok(Object.getOwnPropertyDescriptor(ReadableStream, 'from').enumerable);
  assert.equal(ReadableStream.prototype[Symbol.asyncIterator], ReadableStream.prototype.values);
  for (const cls of [
    ReadableStreamDefaultController,
    ReadableByteStreamController,
    ReadableStreamBYOBRequest,
    WritableStreamDefaultController,
    TransformStreamDefaultController,
  ]) {
    assert.throws(() => new cls(), TypeError);
    assert.equal(cls.length, 0);
  }
});

test('brand checks: sync members throw, promise-returning members reject', async () => {
  const fake = {};
  assert.throws(() => ReadableStream.prototype.getReader.call(fake), TypeError);
  assert.throws(() => ReadableStream.prototype.tee.call(fake), TypeError);
  assert.throws(() => Object.getOwnPropertyDescriptor(ReadableStream.prototype, 'locked').get.call(fake), TypeError);
  await assert.rejects(ReadableStream.prototype.cancel.call(fake), TypeError);
  await assert.rejects(ReadableStream.prototype.pipeTo.call(fake, new WritableStream()), TypeError);
  await assert.rejects(ReadableStreamDefaultReader.prototype.read.call(fake), TypeError);
  await assert.rejects(Object.getOwnPropertyDescriptor(ReadableStreamDefaultReader.prototype, 'closed').get.call(fake), TypeError);
  await assert.rejects(ReadableStreamBYOBReader.prototype.read.call(fake, new Uint8Array(1)), TypeError);
  await assert.rejects(WritableStreamDefaultWriter.prototype.write.call(fake, 1), TypeError);
  await assert.rejects(Object.getOwnPropertyDescriptor(WritableStreamDefaultWriter.prototype, 'ready').get.call(fake), TypeError);
  assert.throws(() => Object.getOwnPropertyDescriptor(TransformStream.prototype, 'readable').get.call(fake), TypeError);
  // A reader of one kind is not accepted as the other.
  const reader = new ReadableStream({ type: 'bytes' }).getReader();
  await assert.rejects(ReadableStreamBYOBReader.prototype.read.call(reader, new Uint8Array(1)), TypeError);
});

test('patching public prototypes and Promise.prototype.then does not affect internal operations', async () => {
  const originalGetReader = ReadableStream.prototype.getReader;
  const originalWrite = WritableStreamDefaultWriter.prototype.write;
  const originalThen = Promise.prototype.then;
  let internalThenCalls = 0;
  try {
    ReadableStream.prototype.getReader = () => assert.fail('patched getReader used');
    WritableStreamDefaultWriter.prototype.write = () => assert.fail('patched write used');
    Promise.prototype.then = function (...args) {
      // Only count calls made from the streams modules (the test runner may call then too).
      if (/streams_\w+\.js/.test(new Error().stack)) internalThenCalls++;
      return originalThen.apply(this, args);
    };
    const chunks = [];
    const rs = new ReadableStream({
      start(c) {
        c.enqueue('x');
        c.close();
      },
    });
    await rs.pipeThrough(new TransformStream()).pipeTo(new WritableStream({ write: (c) => void chunks.push(c) }));
    assert.deepEqual(chunks, ['x']);
  } finally {
    ReadableStream.prototype.getReader = originalGetReader;
    WritableStreamDefaultWriter.prototype.write = originalWrite;
    Promise.prototype.then = originalThen;
  }
  assert.equal(internalThenCalls, 0);
});

// ---- ReadableStream: reading -----------------------------------------------------------------------------

test('reads drain the queue in order; close resolves closed after the last chunk', async () => {
  const { stream, controller } = controlledReadable();
  controller.enqueue('a');
  controller.enqueue('b');
  controller.close();
  const reader = stream.getReader();
  assert.equal(await state(reader.closed), 'pending', 'closed waits for the queue to drain');
  assert.deepEqual(await reader.read(), { value: 'a', done: false });
  assert.deepEqual(await reader.read(), { value: 'b', done: false });
  assert.equal(await reader.closed, undefined);
  assert.deepEqual(await reader.read(), { value: undefined, done: true });
  assert.deepEqual(await reader.read(), { value: undefined, done: true });
});

test('pull is called after start, up to the high-water mark, and once per read after that', async () => {
  const calls = [];
  let n = 0;
  let resolveStart;
  const rs = new ReadableStream(
    {
      start: () => new Promise((r) => (resolveStart = r)),
      pull(c) {
        calls.push(c.desiredSize);
        c.enqueue(++n);
      },
    },
    { highWaterMark: 2 },
  );
  await settle();
  assert.deepEqual(calls, [], 'no pull before start settles');
  resolveStart();
  await settle();
  assert.deepEqual(calls, [2, 1], 'pulled until desiredSize reached 0');
  const reader = rs.getReader();
  assert.deepEqual(await reader.read(), { value: 1, done: false });
  await settle();
  assert.deepEqual(calls, [2, 1, 1]);
});

test('pull is not re-entered while its promise is pending, then called again once needed', async () => {
  let pulls = 0;
  let finish;
  const rs = new ReadableStream(
    {
      pull(c) {
        pulls++;
        return new Promise((r) => {
          finish = () => {
            c.enqueue(pulls);
            r();
          };
        });
      },
    },
    { highWaterMark: 0 },
  );
  const reader = rs.getReader();
  const r1 = reader.read();
  const r2 = reader.read();
  await settle();
  assert.equal(pulls, 1);
  finish();
  assert.deepEqual(await r1, { value: 1, done: false });
  await settle();
  assert.equal(pulls, 2, 'the second pending read triggers the next pull once the first settles');
  finish();
  assert.deepEqual(await r2, { value: 2, done: false });
});

test('an errored stream rejects reads and closed with the stored error', async () => {
  const e = new Error('stored');
  const { stream, controller } = controlledReadable();
  const reader = stream.getReader();
  const pending = reader.read();
  controller.error(e);
  await assert.rejects(pending, (x) => x === e);
  await assert.rejects(reader.read(), (x) => x === e);
  await assert.rejects(reader.closed, (x) => x === e);
  assert.equal(controller.desiredSize, null);
  assert.throws(() => controller.enqueue(1), TypeError);
  assert.throws(() => controller.close(), TypeError);
  controller.error(new Error('second error is ignored'));
  await assert.rejects(reader.read(), (x) => x === e);
  assert.equal(stream.locked, true);
});

test('start and pull rejections error the stream', async () => {
  const e1 = new Error('start');
  const r1 = new ReadableStream({ start: () => Promise.reject(e1) }).getReader();
  await assert.rejects(r1.read(), (x) => x === e1);
  const e2 = new Error('pull');
  const r2 = new ReadableStream({
    pull() {
      throw e2;
    },
  }).getReader();
  await assert.rejects(r2.read(), (x) => x === e2);
  await assert.rejects(r2.closed, (x) => x === e2);
});

test('desiredSize is 0 after close and null after error', () => {
  const a = controlledReadable({}, { highWaterMark: 5 });
  a.controller.enqueue('x');
  assert.equal(a.controller.desiredSize, 4);
  a.controller.close();
  assert.equal(a.controller.desiredSize, 4, 'still readable while the queue drains');
  const b = controlledReadable();
  b.controller.close();
  assert.equal(b.controller.desiredSize, 0);
  assert.throws(() => b.controller.close(), TypeError);
  assert.throws(() => b.controller.enqueue('y'), TypeError);
  const c = controlledReadable();
  c.controller.error(new Error('x'));
  assert.equal(c.controller.desiredSize, null);
});

test('strategy size(): exceptions error the stream and are rethrown; invalid sizes are RangeErrors', async () => {
  const e = new Error('size');
  const a = controlledReadable(
    {},
    {
      size() {
        throw e;
      },
    },
  );
  assert.throws(() => a.controller.enqueue('x'), (x) => x === e);
  await assert.rejects(a.stream.getReader().closed, (x) => x === e);
  for (const bad of [-1, NaN, Infinity, 'nope']) {
    const b = controlledReadable({}, { size: () => bad });
    assert.throws(() => b.controller.enqueue('x'), RangeError);
    await assert.rejects(b.stream.getReader().read(), RangeError);
  }
  const c = controlledReadable({}, { size: (chunk) => chunk.length, highWaterMark: 10 });
  c.controller.enqueue('abcd');
  assert.equal(c.controller.desiredSize, 6);
  // size() is not consulted when a read is already waiting for the chunk.
  let sizeCalls = 0;
  const d = controlledReadable({}, { size: () => ++sizeCalls });
  const reader = d.stream.getReader();
  const pending = reader.read();
  d.controller.enqueue('direct');
  assert.equal(sizeCalls, 0);
  assert.deepEqual(await pending, { value: 'direct', done: false });
});

test('releaseLock rejects pending reads and closed with TypeErrors; the stream can be re-locked', async () => {
  const { stream, controller } = controlledReadable();
  const reader = stream.getReader();
  const oldClosed = reader.closed;
  const pending = reader.read();
  reader.releaseLock();
  await assert.rejects(pending, TypeError);
  await assert.rejects(oldClosed, TypeError);
  await assert.rejects(reader.closed, TypeError);
  await assert.rejects(reader.read(), TypeError);
  await assert.rejects(reader.cancel(), TypeError);
  reader.releaseLock(); // no-op once released
  assert.equal(stream.locked, false);
  const reader2 = new ReadableStreamDefaultReader(stream);
  controller.enqueue('after');
  assert.deepEqual(await reader2.read(), { value: 'after', done: false });
  // Releasing a reader of a closed stream replaces closed with a rejected promise.
  controller.close();
  await reader2.closed;
  reader2.releaseLock();
  await assert.rejects(reader2.closed, TypeError);
});

test('locking: getReader on a locked stream throws; locked reflects readers', () => {
  const rs = new ReadableStream();
  assert.equal(rs.locked, false);
  rs.getReader();
  assert.equal(rs.locked, true);
  assert.throws(() => rs.getReader(), TypeError);
  assert.throws(() => new ReadableStreamDefaultReader(rs), TypeError);
  assert.throws(() => new ReadableStreamDefaultReader({}), TypeError);
  assert.throws(() => new ReadableStream().getReader({ mode: 'BYOB' }), TypeError);
  assert.throws(() => new ReadableStream().getReader({ mode: 'byob' }), TypeError);
  assert.throws(() => new ReadableStream().getReader(7), TypeError);
});

// ---- cancel ------------------------------------------------------------------------------------------------

test('cancel: source receives the reason, pending reads finish as done, the result is undefined', async () => {
  let reason;
  const { stream } = controlledReadable({
    cancel(r) {
      reason = r;
      return 'ignored';
    },
  });
  const reader = stream.getReader();
  const pending = reader.read();
  assert.equal(await reader.cancel('because'), undefined);
  assert.equal(reason, 'because');
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(await reader.closed, undefined);
});

test('cancel: rejects on a locked stream, propagates source failures, no-ops on closed streams', async () => {
  const locked = new ReadableStream();
  locked.getReader();
  await assert.rejects(locked.cancel(), TypeError);
  const e = new Error('cancel failed');
  await assert.rejects(
    new ReadableStream({
      cancel() {
        throw e;
      },
    }).cancel(),
    (x) => x === e,
  );
  const closed = controlledReadable({ cancel: () => assert.fail('must not cancel a closed stream') });
  closed.controller.close();
  assert.equal(await closed.stream.cancel(), undefined);
  const e2 = new Error('errored');
  const errored = controlledReadable();
  errored.controller.error(e2);
  await assert.rejects(errored.stream.cancel(), (x) => x === e2);
  // Queued chunks are discarded by cancel.
  const queued = controlledReadable();
  queued.controller.enqueue(1);
  const reader = queued.stream.getReader();
  await reader.cancel();
  assert.deepEqual(await reader.read(), { value: undefined, done: true });
});

// ---- async iteration ------------------------------------------------------------------------------------

test('async iteration yields every chunk and releases the lock at the end', async () => {
  const { stream, controller } = controlledReadable();
  controller.enqueue(1);
  controller.enqueue(2);
  controller.close();
  assert.deepEqual(await readAll(stream), [1, 2]);
  assert.equal(stream.locked, false);
});

test('breaking out of for-await cancels the stream (unless preventCancel)', async () => {
  let cancelReason = 'not called';
  const make = () =>
    new ReadableStream({
      pull: (c) => c.enqueue('x'),
      cancel: (r) => void (cancelReason = r),
    });
  const rs = make();
  for await (const chunk of rs) {
    assert.equal(chunk, 'x');
    break;
  }
  assert.equal(cancelReason, undefined, 'cancelled with the return() argument (undefined)');
  assert.equal(rs.locked, false);
  assert.deepEqual(await rs.getReader().read(), { value: undefined, done: true });

  cancelReason = 'not called';
  const rs2 = make();
  for await (const chunk of rs2.values({ preventCancel: true })) {
    assert.equal(chunk, 'x');
    break;
  }
  assert.equal(cancelReason, 'not called');
  assert.equal(rs2.locked, false);
  assert.deepEqual(await rs2.getReader().read(), { value: 'x', done: false });
});

test('async iterator: errors surface from next(), then it is finished; prototype chain', async () => {
  const e = new Error('iter');
  const { stream, controller } = controlledReadable();
  const it = stream[Symbol.asyncIterator]();
  const AsyncIteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype);
  assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(it)), AsyncIteratorPrototype);
  assert.equal(Object.prototype.toString.call(it), '[object ReadableStream AsyncIterator]');
  assert.equal(Object.getPrototypeOf(it).next.length, 0);
  assert.equal(Object.getPrototypeOf(it).return.length, 1);
  assert.throws(() => stream.values(), TypeError, 'the iterator holds the lock');
  const next = it.next();
  controller.error(e);
  await assert.rejects(next, (x) => x === e);
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.deepEqual(await it.return('v'), { value: 'v', done: true });
  await assert.rejects(Object.getPrototypeOf(it).next.call({}), TypeError);
});

test('async iterator: calls are queued; return() waits for pending next()', async () => {
  const { stream, controller } = controlledReadable();
  const it = stream.values();
  const n1 = it.next();
  const ret = it.return('done');
  const n2 = it.next();
  controller.enqueue('a');
  assert.deepEqual(await n1, { value: 'a', done: false });
  assert.deepEqual(await ret, { value: 'done', done: true });
  assert.deepEqual(await n2, { value: undefined, done: true });
  assert.equal(stream.locked, false);
});

// ---- tee --------------------------------------------------------------------------------------------------

test('tee: both branches receive the same chunks; source is locked', async () => {
  const { stream, controller } = controlledReadable();
  const [a, b] = stream.tee();
  assert.equal(stream.locked, true);
  const obj = { x: 1 };
  controller.enqueue(obj);
  controller.close();
  const [ca, cb] = await Promise.all([readAll(a), readAll(b)]);
  assert.deepEqual(ca, [obj]);
  assert.equal(ca[0], cb[0], 'ReadableStream.prototype.tee does not clone');
});

test('tee: the source is cancelled only when both branches cancel, with both reasons', async () => {
  let reason;
  let cancelled = 0;
  const { stream } = controlledReadable({
    cancel(r) {
      cancelled++;
      reason = r;
    },
  });
  const [a, b] = stream.tee();
  const p1 = a.cancel('first');
  await settle();
  assert.equal(cancelled, 0);
  assert.equal(await state(p1), 'pending');
  const p2 = b.cancel('second');
  await Promise.all([p1, p2]);
  assert.equal(cancelled, 1);
  assert.deepEqual(reason, ['first', 'second']);
});

test('tee: an error reaches both branches', async () => {
  const e = new Error('tee');
  const { stream, controller } = controlledReadable();
  const [a, b] = stream.tee();
  const ra = a.getReader();
  const rb = b.getReader();
  controller.error(e);
  await assert.rejects(ra.closed, (x) => x === e);
  await assert.rejects(rb.read(), (x) => x === e);
});

test('tee: a byte stream gives each branch its own copy of each chunk', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  const [a, b] = stream.tee();
  controller.enqueue(bytes(1, 2, 3));
  controller.close();
  const ra = a.getReader();
  const rb = b.getReader({ mode: 'byob' });
  const x = await ra.read();
  const y = await rb.read(new Uint8Array(8));
  assert.deepEqual([...x.value], [1, 2, 3]);
  assert.deepEqual([...y.value], [1, 2, 3]);
  assert.notEqual(x.value.buffer, y.value.buffer);
  x.value[0] = 9;
  assert.equal(y.value[0], 1);
  assert.equal((await ra.read()).done, true);
  assert.equal((await rb.read(new Uint8Array(1))).done, true);
});

// ---- ReadableStream.from -----------------------------------------------------------------------------------

test('ReadableStream.from accepts async iterables, iterables and iterables of promises', async () => {
  assert.deepEqual(await readAll(ReadableStream.from([1, 2])), [1, 2]);
  assert.deepEqual(await readAll(ReadableStream.from([Promise.resolve('p'), 'q'])), ['p', 'q']);
  assert.deepEqual(await readAll(ReadableStream.from('ab')), ['a', 'b']);
  assert.deepEqual(
    await readAll(
      ReadableStream.from(
        (async function* () {
          yield 1;
          yield 2;
        })(),
      ),
    ),
    [1, 2],
  );
  const other = new ReadableStream({
    start(c) {
      c.enqueue('s');
      c.close();
    },
  });
  assert.deepEqual(await readAll(ReadableStream.from(other)), ['s']);
  assert.throws(() => ReadableStream.from(5), TypeError);
  assert.throws(() => ReadableStream.from(null), TypeError);
  assert.throws(() => ReadableStream.from({ [Symbol.asyncIterator]: 1 }), TypeError);
  assert.throws(() => ReadableStream.from(), TypeError);
});

test('ReadableStream.from pulls lazily and forwards cancel to return()', async () => {
  const calls = [];
  const iterable = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: () => (calls.push('next'), Promise.resolve({ value: ++i, done: false })),
        return: (r) => (calls.push(`return:${r}`), Promise.resolve({ done: true })),
      };
    },
  };
  const rs = ReadableStream.from(iterable);
  await settle();
  assert.deepEqual(calls, [], 'high-water mark 0: nothing is pulled before a read');
  const reader = rs.getReader();
  assert.deepEqual(await reader.read(), { value: 1, done: false });
  await reader.cancel('why');
  assert.deepEqual(calls, ['next', 'return:why']);
  // A non-object from return() makes cancel reject.
  const bad = ReadableStream.from({ [Symbol.asyncIterator]: () => ({ next() {}, return: () => 5 }) });
  await assert.rejects(bad.cancel(), TypeError);
  // A non-object from next() errors the stream.
  const bad2 = ReadableStream.from({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(3) }) });
  await assert.rejects(bad2.getReader().read(), TypeError);
});

test('ReadableStream.from over a sync iterator closes it when an element promise rejects', async () => {
  const e = new Error('element');
  let closed = false;
  const iterable = {
    [Symbol.iterator]() {
      return {
        next: () => ({ value: Promise.reject(e), done: false }),
        return() {
          closed = true;
          return {};
        },
      };
    },
  };
  await assert.rejects(ReadableStream.from(iterable).getReader().read(), (x) => x === e);
  assert.equal(closed, true);
});

// ---- byte streams ---------------------------------------------------------------------------------------------

test('byte stream: default reader receives Uint8Array views of enqueued chunks', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  const chunk = new Uint16Array([0x0201, 0x0403]);
  controller.enqueue(chunk);
  assert.equal(chunk.buffer.byteLength, 0, 'enqueue transfers the buffer');
  const { value, done } = await stream.getReader().read();
  assert.equal(done, false);
  assert.ok(value instanceof Uint8Array);
  assert.deepEqual([...value], [1, 2, 3, 4]);
});

test('byte stream: BYOB read filled by respond(); the caller buffer is transferred', async () => {
  let seenView;
  let seen;
  const rs = new ReadableStream({
    type: 'bytes',
    pull(c) {
      seenView = c.byobRequest.view;
      seen = [seenView.constructor, seenView.byteOffset, seenView.byteLength];
      seenView.set([5, 6, 7]);
      c.byobRequest.respond(3);
      assert.equal(c.byobRequest, null, 'the request is invalidated after respond()');
    },
  });
  const reader = rs.getReader({ mode: 'byob' });
  const buffer = new ArrayBuffer(10);
  const { value, done } = await reader.read(new Uint8Array(buffer, 2, 6));
  assert.equal(done, false);
  assert.deepEqual(seen, [Uint8Array, 2, 6]);
  assert.equal(seenView.byteLength, 0, "respond() detaches the request view's buffer");
  assert.deepEqual([...value], [5, 6, 7]);
  assert.equal(value.byteOffset, 2);
  assert.equal(value.buffer.byteLength, 10);
  assert.equal(buffer.byteLength, 0, 'the original buffer is detached');
});

test('byte stream: BYOB reads of typed arrays keep partial elements queued', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  const reader = stream.getReader({ mode: 'byob' });
  const r1 = reader.read(new Uint16Array(4));
  controller.enqueue(bytes(1, 0, 2));
  const v1 = await r1;
  assert.ok(v1.value instanceof Uint16Array);
  assert.deepEqual([...v1.value], [1]);
  const r2 = reader.read(new Uint16Array(4));
  await settle();
  assert.equal(await state(r2), 'pending', 'one byte is not a whole element');
  controller.enqueue(bytes(0));
  assert.deepEqual([...(await r2).value], [2]);
  const r3 = reader.read(new DataView(new ArrayBuffer(4)));
  controller.enqueue(bytes(8, 9));
  const dv = (await r3).value;
  assert.ok(dv instanceof DataView);
  assert.equal(dv.byteLength, 2);
});

test('byte stream: read(view, {min}) waits for at least min elements', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  const reader = stream.getReader({ mode: 'byob' });
  const r = reader.read(new Uint8Array(8), { min: 3 });
  controller.enqueue(bytes(1, 2));
  await settle();
  assert.equal(await state(r), 'pending');
  controller.enqueue(bytes(3, 4));
  assert.deepEqual([...(await r).value], [1, 2, 3, 4]);
  await assert.rejects(reader.read(new Uint8Array(2), { min: 0 }), TypeError);
  await assert.rejects(reader.read(new Uint8Array(2), { min: 3 }), RangeError);
  await assert.rejects(reader.read(new Uint16Array(2), { min: 3 }), RangeError);
  // Closing with fewer than min bytes completes the read with what is there.
  const r2 = reader.read(new Uint8Array(4), { min: 4 });
  controller.enqueue(bytes(5));
  controller.close();
  controller.byobRequest.respond(0);
  const last = await r2;
  assert.equal(last.done, true);
  assert.deepEqual([...last.value], [5]);
});

test('byte stream: respondWithNewView validates the view against the request', async () => {
  const errors = [];
  const rs = new ReadableStream({
    type: 'bytes',
    pull(c) {
      const req = c.byobRequest;
      const v = req.view;
      for (const bad of [new Uint8Array(2), new Uint8Array(v.buffer, v.byteOffset + 1, 1)]) {
        try {
          req.respondWithNewView(bad);
        } catch (e) {
          errors.push(e.constructor.name);
        }
      }
      try {
        req.respond(v.byteLength + 1);
      } catch (e) {
        errors.push(e.constructor.name);
      }
      req.respondWithNewView(new Uint8Array(v.buffer, v.byteOffset, 2).fill(4));
    },
  });
  const { value } = await rs.getReader({ mode: 'byob' }).read(new Uint8Array(4));
  assert.deepEqual([...value], [4, 4]);
  assert.deepEqual(errors, ['RangeError', 'RangeError', 'RangeError']);
});

test('byte stream: autoAllocateChunkSize provides a byobRequest for default reads', async () => {
  let viewLength;
  const rs = new ReadableStream({
    type: 'bytes',
    autoAllocateChunkSize: 16,
    pull(c) {
      viewLength = c.byobRequest.view.byteLength;
      c.byobRequest.view[0] = 7;
      c.byobRequest.respond(1);
    },
  });
  const { value } = await rs.getReader().read();
  assert.equal(viewLength, 16);
  assert.deepEqual([...value], [7]);
  assert.equal(value.buffer.byteLength, 16);
});

test('byte stream: argument and state errors', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  assert.throws(() => controller.enqueue(new Uint8Array(0)), TypeError);
  assert.throws(() => controller.enqueue(new ArrayBuffer(1)), TypeError);
  assert.throws(() => controller.enqueue(), TypeError);
  const detached = new Uint8Array(4);
  structuredTransfer(detached.buffer);
  assert.throws(() => controller.enqueue(detached), TypeError);
  const reader = stream.getReader({ mode: 'byob' });
  await assert.rejects(reader.read(new Uint8Array(0)), TypeError);
  await assert.rejects(reader.read(new Uint8Array(new ArrayBuffer(0))), TypeError);
  await assert.rejects(reader.read(detached), TypeError);
  await assert.rejects(reader.read([1, 2]), TypeError);
  await assert.rejects(reader.read(), TypeError);
  // Closing while a BYOB read holds a partial element errors the stream.
  const r = reader.read(new Uint32Array(1));
  controller.enqueue(bytes(1, 2));
  assert.throws(() => controller.close(), TypeError);
  await assert.rejects(r, TypeError);
  await assert.rejects(reader.closed, TypeError);
});

test('byte stream: BYOB read of a closed stream resolves done with an empty view of the same type', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  controller.close();
  const view = new Int32Array(3);
  const { value, done } = await stream.getReader({ mode: 'byob' }).read(view);
  assert.equal(done, true);
  assert.ok(value instanceof Int32Array);
  assert.equal(value.length, 0);
  assert.equal(value.buffer.byteLength, 12);
});

test('byte stream: releasing a BYOB reader rejects its pending reads; bytes responded later are kept', async () => {
  const { stream, controller } = controlledReadable({ type: 'bytes' });
  const reader = stream.getReader({ mode: 'byob' });
  const r = reader.read(new Uint8Array(4));
  await settle();
  const request = controller.byobRequest;
  assert.ok(request);
  reader.releaseLock();
  await assert.rejects(r, TypeError);
  request.view[0] = 42;
  request.respond(1);
  const { value } = await stream.getReader().read();
  assert.deepEqual([...value], [42]);
});

// ---- WritableStream --------------------------------------------------------------------------------------------

test('WritableStream: writes run one at a time, in order, then close', async () => {
  const log = [];
  const finishers = [];
  const ws = new WritableStream({
    start: (c) => void log.push(`start ${c instanceof WritableStreamDefaultController}`),
    write(chunk, c) {
      log.push(`write ${chunk} ${c instanceof WritableStreamDefaultController}`);
      return new Promise((r) => finishers.push(r));
    },
    close: () => void log.push('close'),
  });
  const writer = ws.getWriter();
  const w1 = writer.write('a');
  const w2 = writer.write('b');
  const closed = writer.close();
  await settle();
  assert.deepEqual(log, ['start true', 'write a true']);
  finishers.shift()();
  await w1;
  await settle();
  assert.deepEqual(log, ['start true', 'write a true', 'write b true']);
  finishers.shift()();
  await w2;
  await closed;
  await writer.closed;
  assert.deepEqual(log, ['start true', 'write a true', 'write b true', 'close']);
});

test('WritableStream: backpressure through desiredSize and ready', async () => {
  const finishers = [];
  const ws = new WritableStream({ write: () => new Promise((r) => finishers.push(r)) }, { highWaterMark: 2 });
  const writer = ws.getWriter();
  assert.equal(writer.desiredSize, 2);
  const ready0 = writer.ready;
  writer.write(1);
  assert.equal(writer.desiredSize, 1);
  assert.equal(writer.ready, ready0, 'still below the high-water mark');
  writer.write(2);
  assert.equal(writer.desiredSize, 0);
  assert.notEqual(writer.ready, ready0);
  assert.equal(await state(writer.ready), 'pending');
  await settle();
  finishers.shift()();
  await writer.ready;
  assert.equal(writer.desiredSize, 1);
  const zero = new WritableStream({}, { highWaterMark: 0 }).getWriter();
  assert.equal(zero.desiredSize, 0);
  assert.equal(await state(zero.ready), 'pending');
});

test('WritableStream: a failed write errors the stream for good', async () => {
  const e = new Error('write');
  let writes = 0;
  const ws = new WritableStream({
    write() {
      writes++;
      throw e;
    },
  });
  const writer = ws.getWriter();
  const w1 = writer.write(1);
  const w2 = writer.write(2);
  await assert.rejects(w1, (x) => x === e);
  await assert.rejects(w2, (x) => x === e);
  await assert.rejects(writer.closed, (x) => x === e);
  await assert.rejects(writer.ready, (x) => x === e);
  await assert.rejects(writer.write(3), (x) => x === e);
  await assert.rejects(writer.close(), TypeError);
  assert.equal(writes, 1);
  assert.equal(writer.desiredSize, null);
});

test('WritableStream: abort waits for the in-flight write, rejects queued writes and signals the controller', async () => {
  let finish;
  let controller;
  let abortReason = 'not called';
  const ws = new WritableStream({
    start: (c) => void (controller = c),
    write: () => new Promise((r) => (finish = r)),
    abort: (r) => void (abortReason = r),
  });
  const writer = ws.getWriter();
  const w1 = writer.write(1);
  const w2 = writer.write(2);
  await settle();
  assert.equal(controller.signal.aborted, false);
  const reason = new Error('abort');
  const aborted = writer.abort(reason);
  assert.equal(writer.abort('again'), aborted, 'a second abort returns the pending abort promise');
  assert.equal(controller.signal.aborted, true);
  assert.equal(controller.signal.reason, reason);
  assert.equal(writer.desiredSize, null);
  await settle();
  assert.equal(abortReason, 'not called', 'the sink is not aborted during a write');
  assert.equal(await state(w2), 'pending', 'queued writes fail once the in-flight write is done');
  finish();
  await w1;
  await assert.rejects(w2, (x) => x === reason);
  await aborted;
  assert.equal(abortReason, reason);
  await assert.rejects(writer.closed, (x) => x === reason);
});

test('WritableStream: controller.signal is created on demand and reflects an earlier abort', async () => {
  let made = 0;
  S.setAbortControllerFactory(() => (made++, new AbortController()));
  try {
    let controller;
    const ws = new WritableStream({ start: (c) => void (controller = c) });
    assert.equal(made, 0, 'no AbortController until signal is read');
    const reason = new Error('why');
    await ws.abort(reason);
    const signal = controller.signal;
    assert.equal(made, 1);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
    assert.equal(controller.signal, signal, 'the same signal every time');
    let c2;
    const ws2 = new WritableStream({ start: (c) => void (c2 = c) });
    const events = [];
    c2.signal.addEventListener('abort', () => events.push(c2.signal.reason));
    await ws2.abort('first');
    await ws2.abort('second');
    assert.deepEqual(events, ['first']);
  } finally {
    S.setAbortControllerFactory(() => new AbortController());
  }
});

test('WritableStream: abort/close on a locked stream and close misuse', async () => {
  const ws = new WritableStream();
  const writer = ws.getWriter();
  await assert.rejects(ws.abort(), TypeError);
  await assert.rejects(ws.close(), TypeError);
  assert.throws(() => ws.getWriter(), TypeError);
  assert.throws(() => new WritableStreamDefaultWriter(ws), TypeError);
  const closing = writer.close();
  await assert.rejects(writer.close(), TypeError);
  await assert.rejects(writer.write('late'), TypeError);
  await closing;
  assert.equal(writer.desiredSize, 0);
  assert.equal(await ws.abort.call(new WritableStream(), 'idle'), undefined);
  writer.releaseLock();
  assert.equal(await ws.abort('after close'), undefined, 'aborting a closed stream is a no-op');
});

test('WritableStream: releaseLock rejects ready and closed with TypeErrors', async () => {
  const ws = new WritableStream({}, { highWaterMark: 0 });
  const writer = ws.getWriter();
  const ready = writer.ready;
  const closed = writer.closed;
  writer.releaseLock();
  await assert.rejects(ready, TypeError);
  await assert.rejects(closed, TypeError);
  await assert.rejects(writer.ready, TypeError);
  assert.throws(() => writer.desiredSize, TypeError);
  await assert.rejects(writer.write(1), TypeError);
  await assert.rejects(writer.close(), TypeError);
  await assert.rejects(writer.abort(), TypeError);
  assert.equal(ws.locked, false);
  writer.releaseLock();
});

test('WritableStream: start errors, slow starts and controller.error()', async () => {
  const e = new Error('start');
  const w1 = new WritableStream({ start: () => Promise.reject(e) }).getWriter();
  await assert.rejects(w1.write('x'), (x) => x === e);
  let finishStart;
  const written = [];
  const w2 = new WritableStream({
    start: () => new Promise((r) => (finishStart = r)),
    write: (c) => void written.push(c),
  }).getWriter();
  const p = w2.write('queued');
  await settle();
  assert.deepEqual(written, []);
  finishStart();
  await p;
  assert.deepEqual(written, ['queued']);
  const e2 = new Error('error()');
  let controller;
  const w3 = new WritableStream({ start: (c) => void (controller = c) }).getWriter();
  controller.error(e2);
  await assert.rejects(w3.closed, (x) => x === e2);
  controller.error(new Error('ignored'));
  assert.throws(() => new WritableStream({ type: 'bytes' }), RangeError);
  assert.throws(() => new WritableStream({ type: undefined, write: 1 }), TypeError);
});

test('WritableStream: size() errors error the stream; the signal is undefined without a factory', async () => {
  const e = new Error('size');
  const writer = new WritableStream(
    {},
    {
      size() {
        throw e;
      },
    },
  ).getWriter();
  await assert.rejects(writer.write('x'), (x) => x === e);
  await assert.rejects(writer.closed, (x) => x === e);
  S.setAbortControllerFactory(undefined);
  try {
    let controller;
    new WritableStream({ start: (c) => void (controller = c) });
    assert.equal(controller.signal, undefined);
  } finally {
    S.setAbortControllerFactory(() => new AbortController());
  }
});

// ---- TransformStream -----------------------------------------------------------------------------------------

test('TransformStream: transform and flush see the controller; output order is preserved', async () => {
  const ts = new TransformStream({
    transform(chunk, c) {
      assert.ok(c instanceof TransformStreamDefaultController);
      c.enqueue(chunk.toUpperCase());
    },
    flush(c) {
      c.enqueue('!');
    },
  });
  const writer = ts.writable.getWriter();
  writer.write('a');
  writer.write('b');
  writer.close();
  assert.deepEqual(await readAll(ts.readable), ['A', 'B', '!']);
});

test('TransformStream: backpressure holds the transform until the readable side is read', async () => {
  const seen = [];
  const ts = new TransformStream({ transform: (c, ctl) => (seen.push(c), ctl.enqueue(c)) });
  const writer = ts.writable.getWriter();
  const w1 = writer.write(1);
  writer.write(2);
  await settle();
  assert.deepEqual(seen, [], 'the readable side starts with backpressure: nothing is transformed');
  assert.equal(await state(w1), 'pending');
  assert.equal(writer.desiredSize, -1);
  const reader = ts.readable.getReader();
  assert.deepEqual(await reader.read(), { value: 1, done: false });
  await settle();
  assert.deepEqual(seen, [1], 'one read, one transform');
  assert.equal(await state(w1), 'fulfilled');
  assert.deepEqual(await reader.read(), { value: 2, done: false });
  assert.deepEqual(seen, [1, 2]);
});

test('TransformStream: errors, terminate, cancel and abort', async () => {
  const e = new Error('transform');
  const t1 = new TransformStream({
    transform() {
      throw e;
    },
  });
  const w1 = t1.writable.getWriter();
  const r1 = t1.readable.getReader().read();
  await assert.rejects(w1.write('x'), (x) => x === e);
  await assert.rejects(r1, (x) => x === e);

  const t2 = new TransformStream({
    transform(chunk, c) {
      c.enqueue(chunk);
      c.terminate();
    },
  });
  const w2 = t2.writable.getWriter();
  w2.write('last');
  assert.deepEqual(await readAll(t2.readable), ['last']);
  await assert.rejects(w2.closed, TypeError);

  let cancelReason;
  const t3 = new TransformStream({ cancel: (r) => void (cancelReason = r) });
  const w3 = t3.writable.getWriter();
  await t3.readable.cancel('stop');
  assert.equal(cancelReason, 'stop');
  await assert.rejects(w3.closed, (x) => x === 'stop');

  const t4 = new TransformStream({ cancel: (r) => void (cancelReason = r) });
  const e4 = new Error('abort');
  await t4.writable.abort(e4);
  assert.equal(cancelReason, e4);
  await assert.rejects(t4.readable.getReader().closed, (x) => x === e4);

  let controller;
  const t5 = new TransformStream({ start: (c) => void (controller = c) }, undefined, { highWaterMark: 3 });
  assert.equal(controller.desiredSize, 3);
  controller.enqueue('x');
  assert.equal(controller.desiredSize, 2);
  controller.error(e);
  await assert.rejects(t5.writable.getWriter().closed, (x) => x === e);
  assert.throws(() => controller.enqueue('y'), TypeError);

  assert.throws(() => new TransformStream({ readableType: 'bytes' }), RangeError);
  assert.throws(() => new TransformStream({ writableType: 'bytes' }), RangeError);
});

// ---- pipes --------------------------------------------------------------------------------------------------------

function sink(log, extra = {}) {
  return {
    write: (c) => void log.push(`write ${c}`),
    close: () => void log.push('close'),
    abort: (r) => void log.push(`abort ${r instanceof Error ? r.message : r}`),
    ...extra,
  };
}

test('pipeTo: copies every chunk, closes the destination and unlocks both', async () => {
  const log = [];
  const { stream, controller } = controlledReadable();
  const ws = new WritableStream(sink(log));
  const p = stream.pipeTo(ws);
  assert.ok(stream.locked && ws.locked);
  controller.enqueue(1);
  controller.enqueue(2);
  controller.close();
  assert.equal(await p, undefined);
  assert.deepEqual(log, ['write 1', 'write 2', 'close']);
  assert.ok(!stream.locked && !ws.locked);
});

test('pipeTo: preventClose, preventAbort and preventCancel', async () => {
  const log = [];
  const r1 = controlledReadable();
  const ws1 = new WritableStream(sink(log));
  const p1 = r1.stream.pipeTo(ws1, { preventClose: true });
  r1.controller.close();
  await p1;
  assert.deepEqual(log, []);
  await ws1.getWriter().write('still open');
  assert.deepEqual(log, ['write still open']);

  log.length = 0;
  const e = new Error('source');
  const r2 = controlledReadable();
  const ws2 = new WritableStream(sink(log));
  const p2 = r2.stream.pipeTo(ws2, { preventAbort: true });
  r2.controller.error(e);
  await assert.rejects(p2, (x) => x === e);
  assert.deepEqual(log, []);

  let cancelled = false;
  const r3 = controlledReadable({ cancel: () => void (cancelled = true) });
  const e3 = new Error('dest');
  const ws3 = new WritableStream({ start: (c) => c.error(e3) });
  await assert.rejects(r3.stream.pipeTo(ws3, { preventCancel: true }), (x) => x === e3);
  assert.equal(cancelled, false);
  assert.equal(r3.stream.locked, false);
});

test('pipeTo: errors propagate forward (abort) and backward (cancel)', async () => {
  const log = [];
  const e = new Error('source failed');
  const r1 = controlledReadable();
  const p1 = r1.stream.pipeTo(new WritableStream(sink(log)));
  r1.controller.error(e);
  await assert.rejects(p1, (x) => x === e);
  assert.deepEqual(log, ['abort source failed']);

  let cancelReason;
  const e2 = new Error('dest failed');
  const r2 = controlledReadable({ cancel: (r) => void (cancelReason = r) });
  const p2 = r2.stream.pipeTo(
    new WritableStream({
      write() {
        throw e2;
      },
    }),
  );
  r2.controller.enqueue('x');
  await assert.rejects(p2, (x) => x === e2);
  assert.equal(cancelReason, e2);

  // A closed destination cancels the source with a TypeError.
  const ws = new WritableStream();
  await ws.close();
  const r3 = controlledReadable({ cancel: (r) => void (cancelReason = r) });
  await assert.rejects(r3.stream.pipeTo(ws), TypeError);
  assert.ok(cancelReason instanceof TypeError);
});

test('pipeTo: abort signal, already aborted and mid-pipe, removes its listener', async () => {
  const log = [];
  const ac = new AbortController();
  const reason = new Error('aborted');
  ac.abort(reason);
  let cancelled;
  const r1 = controlledReadable({ cancel: (r) => void (cancelled = r) });
  await assert.rejects(r1.stream.pipeTo(new WritableStream(sink(log)), { signal: ac.signal }), (x) => x === reason);
  assert.equal(cancelled, reason);
  assert.deepEqual(log, ['abort aborted']);

  // A minimal AbortSignal stand-in built on EventTarget, counting its listeners.
  class Signal extends EventTarget {
    aborted = false;
    reason = undefined;
    listeners = 0;
    addEventListener(type, fn, opts) {
      this.listeners++;
      super.addEventListener(type, fn, opts);
    }
    removeEventListener(type, fn, opts) {
      this.listeners--;
      super.removeEventListener(type, fn, opts);
    }
    abort(r) {
      this.aborted = true;
      this.reason = r;
      this.dispatchEvent(new Event('abort'));
    }
  }
  log.length = 0;
  const signal = new Signal();
  const r2 = controlledReadable({ cancel: (r) => void (cancelled = r) });
  const p2 = r2.stream.pipeTo(new WritableStream(sink(log)), { signal });
  assert.equal(signal.listeners, 1);
  r2.controller.enqueue('before');
  await settle();
  signal.abort('stop');
  await assert.rejects(p2, (x) => x === 'stop');
  assert.equal(cancelled, 'stop');
  assert.deepEqual(log, ['write before', 'abort stop']);
  assert.equal(signal.listeners, 0);

  const signal2 = new Signal();
  const r3 = controlledReadable();
  const p3 = r3.stream.pipeTo(new WritableStream(), { signal: signal2 });
  r3.controller.close();
  await p3;
  assert.equal(signal2.listeners, 0, 'the listener is removed when the pipe finishes normally');
  await assert.rejects(new ReadableStream().pipeTo(new WritableStream(), { signal: {} }), TypeError);
  await assert.rejects(new ReadableStream().pipeTo(new WritableStream(), { signal: null }), TypeError);
});

test('pipeTo: locked streams and bad arguments reject without locking anything', async () => {
  const rs = new ReadableStream();
  const ws = new WritableStream();
  const locked = new ReadableStream();
  locked.getReader();
  await assert.rejects(locked.pipeTo(ws), TypeError);
  assert.equal(ws.locked, false);
  const lockedWs = new WritableStream();
  lockedWs.getWriter();
  await assert.rejects(rs.pipeTo(lockedWs), TypeError);
  assert.equal(rs.locked, false);
  await assert.rejects(rs.pipeTo({}), TypeError);
  await assert.rejects(rs.pipeTo(), TypeError);
  await assert.rejects(rs.pipeTo(ws, 1), TypeError);
  assert.equal(rs.locked, false);
});

test('pipeTo: does not read ahead of the destination', async () => {
  let pulls = 0;
  const rs = new ReadableStream({ pull: (c) => c.enqueue(++pulls) }, { highWaterMark: 0 });
  const finishers = [];
  const ws = new WritableStream({ write: () => new Promise((r) => finishers.push(r)) }, { highWaterMark: 1 });
  const ac = new AbortController();
  const piped = rs.pipeTo(ws, { signal: ac.signal });
  await settle();
  // The chunk being written still counts against the destination's high-water mark.
  assert.equal(pulls, 1, `pulled ${pulls} chunks while the sink had not finished one`);
  finishers.shift()();
  await settle();
  assert.equal(pulls, 2);
  ac.abort('done');
  while (finishers.length) finishers.shift()();
  await assert.rejects(piped, (x) => x === 'done');
});

test('pipeThrough: returns the readable side; validates the pair and locks', () => {
  const ts = new TransformStream();
  const rs = new ReadableStream();
  assert.equal(rs.pipeThrough(ts), ts.readable);
  assert.ok(rs.locked && ts.writable.locked);
  assert.throws(() => new ReadableStream().pipeThrough({ readable: new ReadableStream() }), TypeError);
  assert.throws(() => new ReadableStream().pipeThrough({ writable: new WritableStream() }), TypeError);
  assert.throws(() => new ReadableStream().pipeThrough({ readable: {}, writable: new WritableStream() }), TypeError);
  assert.throws(() => new ReadableStream().pipeThrough(), TypeError);
  const locked = new ReadableStream();
  locked.getReader();
  assert.throws(() => locked.pipeThrough(new TransformStream()), TypeError);
  const ts2 = new TransformStream();
  ts2.writable.getWriter();
  assert.throws(() => new ReadableStream().pipeThrough(ts2), TypeError);
});

test('pipeThrough: a failing pipe surfaces on the readable side without unhandled rejections', async () => {
  const e = new Error('upstream');
  const out = new ReadableStream({ start: (c) => c.error(e) }).pipeThrough(new TransformStream());
  await assert.rejects(out.getReader().read(), (x) => x === e);
});

// ---- queuing strategies ----------------------------------------------------------------------------------------

test('queuing strategies: highWaterMark, size functions and their identity', () => {
  const c = new CountQueuingStrategy({ highWaterMark: 4 });
  const b = new ByteLengthQueuingStrategy({ highWaterMark: '-2' });
  assert.equal(c.highWaterMark, 4);
  assert.equal(b.highWaterMark, -2, 'not validated until used by a stream');
  assert.equal(c.size(), 1);
  assert.equal(b.size(new Uint8Array(5)), 5);
  assert.equal(b.size({ byteLength: 'x' }), 'x');
  assert.throws(() => b.size(), TypeError);
  assert.equal(c.size, new CountQueuingStrategy({ highWaterMark: 1 }).size);
  assert.equal(b.size, new ByteLengthQueuingStrategy({ highWaterMark: 1 }).size);
  assert.notEqual(b.size, c.size);
  assert.equal(c.size.name, 'size');
  assert.equal(c.size.length, 0);
  assert.equal(b.size.length, 1);
  assert.equal(b.size.prototype, undefined);
  assert.throws(() => new b.size(), TypeError);
  assert.throws(() => new CountQueuingStrategy(), TypeError);
  assert.throws(() => new CountQueuingStrategy({}), TypeError);
  assert.throws(() => new CountQueuingStrategy(1), TypeError);
  assert.throws(() => Object.getOwnPropertyDescriptor(CountQueuingStrategy.prototype, 'size').get.call(b), TypeError);
  const ws = new WritableStream({}, new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
  const writer = ws.getWriter();
  writer.write(new Uint8Array(4));
  assert.equal(writer.desiredSize, 6);
});

// ---- IdentityTransformStream / FixedLengthStream ------------------------------------------------------------------

test('IdentityTransformStream: bytes pass through to a byte stream; chunks are copied', async () => {
  const its = new IdentityTransformStream();
  assert.ok(its instanceof TransformStream);
  assert.equal(Object.prototype.toString.call(its), '[object IdentityTransformStream]');
  const writer = its.writable.getWriter();
  const chunk = encoder.encode('hello');
  const reader = its.readable.getReader({ mode: 'byob' });
  const read = reader.read(new Uint8Array(3));
  await writer.write(chunk);
  assert.equal(chunk.byteLength, 5, "the writer's buffer is not detached");
  assert.deepEqual([...(await read).value], [...encoder.encode('hel')]);
  reader.releaseLock();
  writer.write(new Uint16Array([0x6261]).buffer);
  writer.write(new DataView(encoder.encode('c').buffer));
  writer.write(new Uint8Array(0));
  writer.close();
  const rest = await S.readAllBytes(its.readable);
  assert.equal(new TextDecoder().decode(rest), 'loabc');
});

test('IdentityTransformStream: rejects strings and other non-buffer chunks', async () => {
  const its = new IdentityTransformStream();
  const writer = its.writable.getWriter();
  await assert.rejects(writer.write('text'), {
    name: 'TypeError',
    message:
      'This TransformStream is being used as a byte stream, but received a string on its writable side. ' +
      "If you wish to write a string, you'll probably want to explicitly UTF-8-encode it with TextEncoder.",
  });
  await assert.rejects(its.readable.getReader().read(), TypeError);
  const writer2 = new IdentityTransformStream().writable.getWriter();
  await assert.rejects(writer2.write(42), /non-ArrayBuffer\/ArrayBufferView/);
});

test('IdentityTransformStream: a pending BYOB read completes as done when the writer closes', async () => {
  const its = new IdentityTransformStream();
  const reader = its.readable.getReader({ mode: 'byob' });
  const read = reader.read(new Uint8Array(4));
  await its.writable.close();
  const { value, done } = await read;
  assert.equal(done, true);
  assert.equal(value.byteLength, 0);
});

test('FixedLengthStream: passes exactly the expected bytes and exposes the length', async () => {
  const fls = new FixedLengthStream(6);
  assert.ok(fls instanceof IdentityTransformStream);
  assert.equal(S.fixedLengthOf(fls.readable), 6);
  assert.equal(S.fixedLengthOf(new IdentityTransformStream().readable), undefined);
  assert.equal(S.fixedLengthOf(new ReadableStream()), undefined);
  assert.equal(S.fixedLengthOf({}), undefined);
  const writer = fls.writable.getWriter();
  writer.write(encoder.encode('abc'));
  writer.write(encoder.encode('def'));
  writer.close();
  assert.equal(new TextDecoder().decode(await S.readAllBytes(fls.readable)), 'abcdef');
  assert.equal(S.fixedLengthOf(new FixedLengthStream(10n).readable), 10);
  assert.equal(S.fixedLengthOf(new FixedLengthStream(0).readable), 0);
  assert.throws(() => new FixedLengthStream(), TypeError);
  assert.throws(() => new FixedLengthStream(-1), TypeError);
  assert.throws(() => new FixedLengthStream(1.5), TypeError);
  assert.throws(() => new FixedLengthStream(2 ** 53), TypeError);
});

test('FixedLengthStream: writing too many bytes fails the write and the stream', async () => {
  const fls = new FixedLengthStream(4);
  const writer = fls.writable.getWriter();
  const reader = fls.readable.getReader();
  writer.write(bytes(1, 2, 3));
  assert.deepEqual([...(await reader.read()).value], [1, 2, 3]);
  await assert.rejects(writer.write(bytes(4, 5)), {
    name: 'TypeError',
    message: 'Attempt to write too many bytes through a FixedLengthStream.',
  });
  await assert.rejects(reader.read(), /too many bytes/);
});

test('FixedLengthStream: closing early fails the close and the stream', async () => {
  const fls = new FixedLengthStream(5);
  const writer = fls.writable.getWriter();
  const all = S.readAllBytes(fls.readable);
  writer.write(bytes(1, 2));
  await assert.rejects(writer.close(), {
    name: 'TypeError',
    message: 'FixedLengthStream did not see all expected bytes before close().',
  });
  await assert.rejects(all, /did not see all expected bytes/);
});

// ---- internal API ---------------------------------------------------------------------------------------------

test('createNativeReadableStream: chunks from pull(), null ends, pulls only on demand', async () => {
  const chunks = [bytes(1, 2), new Uint8Array(0), bytes(3), null];
  let pulls = 0;
  const rs = S.createNativeReadableStream(() => {
    pulls++;
    return Promise.resolve(chunks.shift());
  });
  assert.ok(S.isReadableStream(rs));
  await settle();
  assert.equal(pulls, 0, 'highWaterMark 0: no pull before a read');
  const reader = rs.getReader();
  assert.deepEqual([...(await reader.read()).value], [1, 2]);
  assert.equal(pulls, 1);
  assert.deepEqual([...(await reader.read()).value], [3], 'empty chunks are skipped');
  assert.equal((await reader.read()).done, true);
  assert.equal(pulls, 4);
});

test('createNativeReadableStream: highWaterMark prefetches; BYOB reads work', async () => {
  let pulls = 0;
  const rs = S.createNativeReadableStream(() => (pulls++, bytes(pulls, pulls)), undefined, { highWaterMark: 4 });
  await settle();
  assert.equal(pulls, 2, 'prefetched up to 4 bytes');
  const reader = rs.getReader({ mode: 'byob' });
  const { value } = await reader.read(new Uint8Array(3));
  assert.deepEqual([...value], [1, 1, 2]);
  assert.throws(() => S.createNativeReadableStream(() => null, undefined, { highWaterMark: -1 }), RangeError);
});

test('createNativeReadableStream: a pending BYOB read completes when the source ends', async () => {
  let finish;
  const rs = S.createNativeReadableStream(() => new Promise((r) => (finish = r)));
  const reader = rs.getReader({ mode: 'byob' });
  const read = reader.read(new Uint8Array(8));
  await settle();
  finish(null);
  const { value, done } = await read;
  assert.equal(done, true);
  assert.equal(value.byteLength, 0);
});

test('createNativeReadableStream: failures error the stream; cancel reaches native code', async () => {
  const e = new Error('socket reset');
  await assert.rejects(S.createNativeReadableStream(() => Promise.reject(e)).getReader().read(), (x) => x === e);
  await assert.rejects(
    S.createNativeReadableStream(() => {
      throw e;
    })
      .getReader()
      .read(),
    (x) => x === e,
  );
  await assert.rejects(S.createNativeReadableStream(() => 'text').getReader().read(), TypeError);

  let finish;
  let cancelReason;
  const rs = S.createNativeReadableStream(
    () => new Promise((r) => (finish = r)),
    (reason) => {
      cancelReason = reason;
      return Promise.resolve();
    },
  );
  const reader = rs.getReader();
  const read = reader.read();
  await settle();
  await reader.cancel('client went away');
  assert.equal(cancelReason, 'client went away');
  assert.deepEqual(await read, { value: undefined, done: true });
  finish(bytes(1));
  await settle();
  assert.equal((await reader.read()).done, true, 'a chunk arriving after cancel is dropped');
});

test('readAllBytes: concatenates, locks and disturbs; single chunks are returned as is', async () => {
  const { stream, controller } = controlledReadable();
  controller.enqueue(bytes(1, 2));
  controller.enqueue(bytes(3));
  controller.close();
  assert.equal(S.isDisturbed(stream), false);
  const all = await S.readAllBytes(stream);
  assert.deepEqual([...all], [1, 2, 3]);
  assert.equal(S.isLocked(stream), true);
  assert.equal(S.isDisturbed(stream), true);
  const one = bytes(9, 9);
  const single = controlledReadable();
  single.controller.enqueue(one);
  single.controller.close();
  assert.equal(await S.readAllBytes(single.stream), one);
  const empty = controlledReadable();
  empty.controller.close();
  assert.equal((await S.readAllBytes(empty.stream)).byteLength, 0);
  // Many asynchronously produced chunks.
  let n = 0;
  const slow = new ReadableStream({
    async pull(c) {
      await null;
      if (++n > 100) c.close();
      else c.enqueue(bytes(n & 0xff));
    },
  });
  const got = await S.readAllBytes(slow);
  assert.equal(got.byteLength, 100);
  assert.equal(got[99], 100);
});

test('readAllBytes: rejects for locked, errored and non-byte streams', async () => {
  const locked = new ReadableStream();
  locked.getReader();
  await assert.rejects(S.readAllBytes(locked), TypeError);
  await assert.rejects(S.readAllBytes({}), TypeError);
  const e = new Error('errored');
  await assert.rejects(S.readAllBytes(new ReadableStream({ start: (c) => c.error(e) })), (x) => x === e);
  let cancelReason;
  const bad = controlledReadable({ cancel: (r) => void (cancelReason = r) });
  bad.controller.enqueue('not bytes');
  await assert.rejects(S.readAllBytes(bad.stream), TypeError);
  assert.ok(cancelReason instanceof TypeError, 'the source is cancelled with the TypeError');
});

test('acquireBodyReader: chunk by chunk, null at the end, errors and cancel', async () => {
  const { stream, controller } = controlledReadable();
  const body = S.acquireBodyReader(stream);
  assert.equal(stream.locked, true);
  assert.throws(() => S.acquireBodyReader(stream), TypeError);
  assert.throws(() => S.acquireBodyReader({}), TypeError);
  const first = body.read();
  controller.enqueue(bytes(1, 2));
  assert.deepEqual([...(await first)], [1, 2]);
  controller.enqueue(bytes(3));
  controller.close();
  assert.deepEqual([...(await body.read())], [3]);
  assert.equal(await body.read(), null);
  assert.equal(await body.read(), null);

  const e = new Error('errored');
  const failing = controlledReadable();
  const r2 = S.acquireBodyReader(failing.stream);
  failing.controller.error(e);
  await assert.rejects(r2.read(), (x) => x === e);

  let cancelReason;
  const text = controlledReadable({ cancel: (r) => void (cancelReason = r) });
  text.controller.enqueue('not bytes');
  await assert.rejects(S.acquireBodyReader(text.stream).read(), TypeError);
  assert.ok(cancelReason instanceof TypeError);

  const cancelled = controlledReadable({ cancel: (r) => void (cancelReason = r) });
  const r3 = S.acquireBodyReader(cancelled.stream);
  const pending = r3.read();
  assert.equal(await r3.cancel('client gone'), undefined);
  assert.equal(cancelReason, 'client gone');
  assert.equal(await pending, null);
});

test('readableStreamFromBytes: a closed byte stream holding the bytes', async () => {
  const rs = S.readableStreamFromBytes(encoder.encode('body'));
  const reader = rs.getReader({ mode: 'byob' });
  const first = await reader.read(new Uint8Array(2));
  assert.deepEqual([...first.value], [...encoder.encode('bo')]);
  const second = await reader.read(new Uint8Array(8));
  assert.deepEqual([...second.value], [...encoder.encode('dy')]);
  assert.equal((await reader.read(new Uint8Array(1))).done, true);
  const empty = S.readableStreamFromBytes(new Uint8Array(0));
  assert.deepEqual(await empty.getReader().read(), { value: undefined, done: true });
});

test('isReadableStream / isLocked / isDisturbed', async () => {
  assert.equal(S.isReadableStream(new ReadableStream()), true);
  assert.equal(S.isReadableStream(Object.create(ReadableStream.prototype)), false);
  assert.equal(S.isReadableStream(globalThis.ReadableStream ? new globalThis.ReadableStream() : {}), false);
  assert.equal(S.isReadableStream(null), false);
  assert.throws(() => S.isLocked({}), TypeError);
  assert.throws(() => S.isDisturbed(1), TypeError);
  const rs = new ReadableStream();
  assert.equal(S.isLocked(rs), false);
  await rs.cancel();
  assert.equal(S.isDisturbed(rs), true, 'cancel disturbs');
});

test('tryTakeBufferedChunks: takes fully buffered bodies synchronously, otherwise does nothing', async () => {
  let pulls = 0;
  const full = controlledReadable({ pull: () => void pulls++ });
  full.controller.enqueue(bytes(1));
  full.controller.enqueue(bytes(2, 3));
  assert.equal(S.tryTakeBufferedChunks(full.stream), null, 'not closed yet: more may come');
  assert.equal(full.stream.locked, false);
  full.controller.close();
  const chunks = S.tryTakeBufferedChunks(full.stream);
  assert.deepEqual(chunks.map((c) => [...c]), [[1], [2, 3]]);
  assert.ok(S.isLocked(full.stream) && S.isDisturbed(full.stream));
  await settle();
  assert.equal(pulls, 0);
  assert.equal(S.tryTakeBufferedChunks(full.stream), null, 'already taken');

  const fromBytes = S.readableStreamFromBytes(bytes(7, 8));
  assert.deepEqual(S.tryTakeBufferedChunks(fromBytes).map((c) => [...c]), [[7, 8]]);

  const closedEmpty = controlledReadable();
  closedEmpty.controller.close();
  assert.deepEqual(S.tryTakeBufferedChunks(closedEmpty.stream), []);

  const mixed = controlledReadable();
  mixed.controller.enqueue('text');
  mixed.controller.close();
  assert.equal(S.tryTakeBufferedChunks(mixed.stream), null);
  assert.equal(mixed.stream.locked, false);

  const disturbed = controlledReadable();
  disturbed.controller.enqueue(bytes(1));
  disturbed.controller.enqueue(bytes(2));
  disturbed.controller.close();
  const reader = disturbed.stream.getReader();
  await reader.read();
  reader.releaseLock();
  assert.equal(S.tryTakeBufferedChunks(disturbed.stream), null);
  assert.equal(S.tryTakeBufferedChunks({}), null);
});

test('teeReadableStream: optional clone for the second branch; clone failures cancel the source', async () => {
  const { stream, controller } = controlledReadable();
  const [a, b] = S.teeReadableStream(stream, (chunk) => ({ ...chunk, cloned: true }));
  const original = { n: 1 };
  controller.enqueue(original);
  controller.close();
  const [ca, cb] = await Promise.all([readAll(a), readAll(b)]);
  assert.equal(ca[0], original);
  assert.deepEqual(cb[0], { n: 1, cloned: true });

  const e = new Error('clone');
  let cancelReason;
  const src = controlledReadable({ cancel: (r) => void (cancelReason = r) });
  const [c, d] = S.teeReadableStream(src.stream, () => {
    throw e;
  });
  src.controller.enqueue('x');
  await assert.rejects(c.getReader().read(), (x) => x === e);
  await assert.rejects(d.getReader().read(), (x) => x === e);
  assert.equal(cancelReason, e);
  assert.throws(() => S.teeReadableStream(src.stream), TypeError, 'locked');
});

test('without a native ArrayBuffer transfer, byte streams copy and leave buffers usable', async () => {
  S.setArrayBufferTransfer(undefined);
  try {
    const { stream, controller } = controlledReadable({ type: 'bytes' });
    const chunk = bytes(1, 2, 3);
    controller.enqueue(chunk);
    assert.equal(chunk.byteLength, 3, 'not detached');
    const reader = stream.getReader({ mode: 'byob' });
    const view = new Uint8Array(2);
    const { value } = await reader.read(view);
    assert.deepEqual([...value], [1, 2]);
    assert.equal(view.byteLength, 2, 'the caller view stays attached');
    assert.notEqual(value.buffer, view.buffer);
  } finally {
    S.setArrayBufferTransfer(structuredTransfer);
  }
  // A transfer hook that refuses (e.g. a WebAssembly.Memory buffer) makes enqueue throw a TypeError.
  S.setArrayBufferTransfer(() => {
    throw new Error('cannot detach');
  });
  try {
    const { controller } = controlledReadable({ type: 'bytes' });
    assert.throws(() => controller.enqueue(bytes(1)), TypeError);
  } finally {
    S.setArrayBufferTransfer(structuredTransfer);
  }
});

test('setAbortSignalCheck installs the brand check used by pipeTo', async () => {
  S.setAbortSignalCheck((v) => v instanceof AbortSignal);
  try {
    const fake = { aborted: false, addEventListener() {}, removeEventListener() {} };
    await assert.rejects(new ReadableStream().pipeTo(new WritableStream(), { signal: fake }), TypeError);
  } finally {
    S.setAbortSignalCheck(undefined);
  }
  const lookalike = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} };
  const rs = new ReadableStream({ start: (c) => c.close() });
  await rs.pipeTo(new WritableStream(), { signal: lookalike });
});

// ---- no stray rejections -------------------------------------------------------------------------------------------

test('errored and released streams leave no unhandled rejections behind', async () => {
  const before = unhandled.length;
  // Errors with no reader, with a reader, after release; aborted writers; failed pipes;
  // tees and transforms that error; iterators broken out of.
  const a = controlledReadable();
  a.controller.error(new Error('no reader'));
  const b = controlledReadable();
  b.stream.getReader();
  b.controller.error(new Error('reader'));
  const c = controlledReadable();
  c.stream.getReader().releaseLock();
  const ws = new WritableStream();
  ws.getWriter().abort(new Error('abort')).catch(() => {});
  const w2 = new WritableStream({}, { highWaterMark: 0 }).getWriter();
  w2.releaseLock();
  const d = controlledReadable();
  d.stream.pipeTo(new WritableStream()).catch(() => {});
  d.controller.error(new Error('pipe'));
  const e = controlledReadable();
  e.stream.pipeThrough(new TransformStream());
  e.controller.error(new Error('pipeThrough'));
  const f = controlledReadable();
  f.stream.tee();
  f.controller.error(new Error('tee'));
  const g = controlledReadable({ type: 'bytes' });
  g.stream.tee();
  g.controller.error(new Error('byte tee'));
  const t = new TransformStream();
  t.writable.abort(new Error('ts abort')).catch(() => {});
  const h = new FixedLengthStream(3);
  h.writable.close().catch(() => {});
  await settle();
  await settle();
  assert.deepEqual(unhandled.slice(before), []);
});

test('no unhandled rejections were produced by any test in this file', async () => {
  await settle();
  assert.deepEqual(unhandled, []);
});
