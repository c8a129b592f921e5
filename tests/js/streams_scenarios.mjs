// Scripted streams scenarios for differential testing (streams_differential.test.mjs).
//
// Each scenario drives whatever Streams classes it is handed (`api`) and records what it
// observes with `log(...)`: underlying source/sink callbacks, desiredSize values, how and
// with what each promise settles. Running the same script against hearth's classes and
// against another implementation (Node's globals, or hearth under SpiderMonkey) must give
// identical logs. Scenarios only use microtasks (no timers) so that the log order is fully
// determined by the Streams spec, and only plain ECMAScript so that they also run in the
// js102 shell.

// A log-friendly rendering of values. Errors made by the streams implementation are logged
// by type only (messages differ between implementations); errors made by the scenarios are
// named "E1", "E2"... and logged with their message.
export function fmt(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object' && typeof v !== 'function') return String(v);
  if (typeof v === 'function') return `fn:${v.name}/${v.length}`;
  if (v instanceof Error) return /^E\d$/.test(v.name) ? `${v.name}(${v.message})` : v.name;
  if (Array.isArray(v)) return `[${v.map(fmt).join(',')}]`;
  if (ArrayBuffer.isView(v)) {
    if (v instanceof DataView) return `DataView(${v.byteOffset},${v.byteLength})`;
    return `${v.constructor.name}(${v.byteOffset})[${Array.from(v).join(',')}]`;
  }
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${k}:${fmt(v[k])}`)
      .join(',')}}`;
  }
  return `<${Object.prototype.toString.call(v).slice(8, -1)}>`;
}

function userError(n, message) {
  const e = new Error(message);
  e.name = `E${n}`;
  return e;
}

// Lets every pending microtask chain run to completion.
async function flush(turns = 60) {
  for (let i = 0; i < turns; i++) await null;
}

// Logs how a promise settles, as soon as it settles.
function watch(log, label, promise) {
  promise.then(
    (v) => log(`${label} fulfilled ${fmt(v)}`),
    (e) => log(`${label} rejected ${fmt(e)}`),
  );
}

function attempt(log, label, fn) {
  try {
    const v = fn();
    log(`${label} ok ${fmt(v)}`);
    return v;
  } catch (e) {
    log(`${label} threw ${fmt(e)}`);
    return undefined;
  }
}

// A readable whose pull enqueues the next number each time, closing after `count`.
function countingSource(log, count) {
  let n = 0;
  return {
    start() {
      log('start');
    },
    pull(c) {
      n++;
      log(`pull ${n} desiredSize=${c.desiredSize}`);
      if (n <= count) c.enqueue(n);
      if (n === count) c.close();
    },
    cancel(r) {
      log(`cancel ${fmt(r)}`);
    },
  };
}

function recordingSink(log, { failOn } = {}) {
  return {
    start(c) {
      log('sink start');
    },
    write(chunk, c) {
      log(`write ${fmt(chunk)}`);
      if (failOn !== undefined && chunk === failOn) throw userError(1, 'write failed');
      return undefined;
    },
    close() {
      log('sink close');
    },
    abort(r) {
      log(`sink abort ${fmt(r)}`);
    },
  };
}

export const scenarios = [
  // ---- ReadableStream with a default controller -------------------------------------------------
  {
    name: 'start enqueues and closes; reads drain the queue',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        start(c) {
          log(`start desiredSize=${c.desiredSize}`);
          c.enqueue('a');
          c.enqueue('b');
          log(`after enqueue desiredSize=${c.desiredSize}`);
          c.close();
          log(`after close desiredSize=${c.desiredSize}`);
        },
        pull() {
          log('pull (must not happen)');
        },
      });
      const reader = rs.getReader();
      watch(log, 'closed', reader.closed);
      for (let i = 0; i < 3; i++) watch(log, `read${i}`, reader.read());
      await flush();
    },
  },
  {
    name: 'pull fills up to the high-water mark, then one pull per read',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 5), { highWaterMark: 2 });
      await flush();
      const reader = rs.getReader();
      for (let i = 0; i < 6; i++) {
        log(`read ${fmt(await reader.read())}`);
        await flush(5);
      }
    },
  },
  {
    name: 'pull is not called again while its promise is pending',
    async run({ ReadableStream }, log) {
      let resolvePull;
      let pulls = 0;
      const rs = new ReadableStream(
        {
          pull(c) {
            pulls++;
            log(`pull ${pulls}`);
            return new Promise((r) => {
              resolvePull = () => {
                c.enqueue(pulls);
                r();
              };
            });
          },
        },
        { highWaterMark: 0 },
      );
      const reader = rs.getReader();
      watch(log, 'read1', reader.read());
      watch(log, 'read2', reader.read());
      await flush();
      log('resolving pull 1');
      resolvePull();
      await flush();
      log('resolving pull 2');
      resolvePull();
      await flush();
    },
  },
  {
    name: 'start rejecting errors the stream',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        start() {
          return Promise.reject(userError(1, 'start failed'));
        },
        pull() {
          log('pull (must not happen)');
        },
      });
      const reader = rs.getReader();
      watch(log, 'closed', reader.closed);
      watch(log, 'read', reader.read());
      await flush();
      log(`desiredSize after error`);
    },
  },
  {
    name: 'controller.error() rejects pending reads and later reads',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({
        start(c) {
          controller = c;
        },
      });
      const reader = rs.getReader();
      watch(log, 'read1', reader.read());
      watch(log, 'closed', reader.closed);
      await flush();
      controller.error(userError(2, 'boom'));
      log(`desiredSize=${controller.desiredSize}`);
      attempt(log, 'enqueue after error', () => controller.enqueue(1));
      watch(log, 'read2', reader.read());
      await flush();
    },
  },
  {
    name: 'pull throwing errors the stream',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        pull() {
          log('pull');
          throw userError(3, 'pull failed');
        },
      });
      const reader = rs.getReader();
      watch(log, 'read', reader.read());
      watch(log, 'closed', reader.closed);
      await flush();
    },
  },
  {
    name: 'cancel calls the source and resolves pending reads as done',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        cancel(reason) {
          log(`source cancel ${fmt(reason)}`);
          return Promise.resolve('ignored');
        },
      });
      const reader = rs.getReader();
      watch(log, 'read', reader.read());
      watch(log, 'cancel', reader.cancel('why'));
      watch(log, 'closed', reader.closed);
      watch(log, 'read after cancel', reader.read());
      await flush();
    },
  },
  {
    name: 'cancel rejection is propagated',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        cancel() {
          throw userError(1, 'cancel failed');
        },
      });
      watch(log, 'cancel', rs.cancel());
      await flush();
      log(`locked=${rs.locked}`);
    },
  },
  {
    name: 'cancel on a locked stream rejects; cancelling a closed or errored stream',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream();
      rs.getReader();
      watch(log, 'locked cancel', rs.cancel());
      const closed = new ReadableStream({
        start(c) {
          c.close();
        },
      });
      watch(log, 'closed cancel', closed.cancel('x'));
      const errored = new ReadableStream({
        start(c) {
          c.error(userError(1, 'bad'));
        },
      });
      watch(log, 'errored cancel', errored.cancel('x'));
      await flush();
    },
  },
  {
    name: 'releaseLock rejects pending reads and closed; a new reader works',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({
        start(c) {
          controller = c;
        },
      });
      const reader = rs.getReader();
      const closed = reader.closed;
      watch(log, 'read', reader.read());
      reader.releaseLock();
      watch(log, 'old closed', closed);
      watch(log, 'closed after release', reader.closed);
      log(`same closed promise: ${closed === reader.closed}`);
      watch(log, 'read after release', reader.read());
      log(`locked=${rs.locked}`);
      const reader2 = rs.getReader();
      controller.enqueue('x');
      watch(log, 'reader2 read', reader2.read());
      await flush();
    },
  },
  {
    name: 'getReader twice throws; reader constructor on locked stream throws',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream();
      attempt(log, 'first', () => typeof rs.getReader());
      attempt(log, 'second', () => rs.getReader());
      attempt(log, 'constructor', () => new (rs.getReader.call(new ReadableStream()).constructor)(rs));
      attempt(log, 'bad mode', () => new ReadableStream().getReader({ mode: 'nope' }));
      attempt(log, 'byob on default stream', () => new ReadableStream().getReader({ mode: 'byob' }));
    },
  },
  {
    name: 'strategy size: throwing, negative, NaN and Infinity sizes',
    async run({ ReadableStream }, log) {
      for (const size of [
        () => {
          throw userError(1, 'size threw');
        },
        () => -1,
        () => NaN,
        () => Infinity,
        () => '2',
      ]) {
        let controller;
        const rs = new ReadableStream(
          {
            start(c) {
              controller = c;
            },
          },
          { size, highWaterMark: 4 },
        );
        attempt(log, 'enqueue', () => controller.enqueue('chunk'));
        log(`desiredSize=${controller.desiredSize}`);
        watch(log, 'closed', rs.getReader().closed);
        await flush(5);
      }
    },
  },
  {
    name: 'highWaterMark validation and conversion',
    async run({ ReadableStream, WritableStream, TransformStream }, log) {
      for (const hwm of [-1, NaN, 'abc', '3', Infinity, 0, {}, null]) {
        attempt(log, `RS hwm ${fmt(hwm)}`, () => {
          let d;
          new ReadableStream({ start: (c) => void (d = c.desiredSize) }, { highWaterMark: hwm });
          return d;
        });
        attempt(log, `WS hwm ${fmt(hwm)}`, () => new WritableStream({}, { highWaterMark: hwm }).getWriter().desiredSize);
        attempt(log, `TS hwm ${fmt(hwm)}`, () => {
          let d;
          new TransformStream({ start: (c) => void (d = c.desiredSize) }, undefined, { highWaterMark: hwm });
          return d;
        });
      }
      attempt(log, 'size not callable', () => new ReadableStream({}, { size: 1 }));
      attempt(log, 'symbol hwm', () => new ReadableStream({}, { highWaterMark: Symbol('x') }));
    },
  },
  {
    name: 'desiredSize after close and after error; close/enqueue after close throw',
    async run({ ReadableStream }, log) {
      let c1;
      new ReadableStream({ start: (c) => void (c1 = c) }, { highWaterMark: 3 });
      c1.enqueue('x');
      log(`desiredSize=${c1.desiredSize}`);
      c1.close();
      log(`after close desiredSize=${c1.desiredSize}`);
      attempt(log, 'enqueue after close', () => c1.enqueue('y'));
      attempt(log, 'close after close', () => c1.close());
      attempt(log, 'error after close', () => c1.error(userError(1, 'late')));
      let c2;
      new ReadableStream({ start: (c) => void (c2 = c) });
      c2.error(userError(2, 'e'));
      log(`after error desiredSize=${c2.desiredSize}`);
      attempt(log, 'close after error', () => c2.close());
    },
  },
  {
    name: 'reading a closed stream and an errored stream',
    async run({ ReadableStream }, log) {
      const closed = new ReadableStream({ start: (c) => c.close() });
      const r1 = closed.getReader();
      watch(log, 'closed read', r1.read());
      watch(log, 'closed closed', r1.closed);
      const errored = new ReadableStream({ start: (c) => c.error(userError(1, 'stored')) });
      const r2 = errored.getReader();
      watch(log, 'errored read', r2.read());
      watch(log, 'errored closed', r2.closed);
      await flush();
    },
  },
  {
    name: 'brand checks of methods and promise-returning getters',
    async run({ ReadableStream, WritableStream }, log) {
      const rsProto = ReadableStream.prototype;
      attempt(log, 'getReader on {}', () => rsProto.getReader.call({}));
      attempt(log, 'locked on {}', () => Object.getOwnPropertyDescriptor(rsProto, 'locked').get.call({}));
      watch(log, 'cancel on {}', rsProto.cancel.call({}));
      const reader = new ReadableStream().getReader();
      const readerProto = Object.getPrototypeOf(reader);
      watch(log, 'read on {}', readerProto.read.call({}));
      watch(log, 'closed on {}', Object.getOwnPropertyDescriptor(readerProto, 'closed').get.call({}));
      const writer = new WritableStream().getWriter();
      const writerProto = Object.getPrototypeOf(writer);
      watch(log, 'write on {}', writerProto.write.call({}, 1));
      watch(log, 'ready on {}', Object.getOwnPropertyDescriptor(writerProto, 'ready').get.call({}));
      attempt(log, 'desiredSize on {}', () => Object.getOwnPropertyDescriptor(writerProto, 'desiredSize').get.call({}));
      await flush();
    },
  },
  {
    name: 'interface shape: method lengths, enumerability and toStringTag',
    async run({ ReadableStream, WritableStream, TransformStream, CountQueuingStrategy, ByteLengthQueuingStrategy }, log) {
      let rsController;
      let byteController;
      let wsController;
      let tsController;
      new ReadableStream({ start: (c) => void (rsController = c) });
      new ReadableStream({ type: 'bytes', start: (c) => void (byteController = c) });
      new WritableStream({ start: (c) => void (wsController = c) });
      new TransformStream({ start: (c) => void (tsController = c) });
      const objects = {
        ReadableStream: new ReadableStream(),
        ReadableStreamDefaultReader: new ReadableStream().getReader(),
        ReadableStreamBYOBReader: new ReadableStream({ type: 'bytes' }).getReader({ mode: 'byob' }),
        ReadableStreamDefaultController: rsController,
        ReadableByteStreamController: byteController,
        WritableStream: new WritableStream(),
        WritableStreamDefaultWriter: new WritableStream().getWriter(),
        WritableStreamDefaultController: wsController,
        TransformStream: new TransformStream(),
        TransformStreamDefaultController: tsController,
        CountQueuingStrategy: new CountQueuingStrategy({ highWaterMark: 1 }),
        ByteLengthQueuingStrategy: new ByteLengthQueuingStrategy({ highWaterMark: 1 }),
      };
      for (const [name, obj] of Object.entries(objects)) {
        const proto = Object.getPrototypeOf(obj);
        const members = Object.getOwnPropertyNames(proto)
          .filter((k) => k !== 'constructor')
          .sort()
          .map((k) => {
            const d = Object.getOwnPropertyDescriptor(proto, k);
            const kind = d.get ? `get${d.set ? '/set' : ''}` : `fn${d.value.length}`;
            return `${k}:${kind}${d.enumerable ? '' : '(hidden)'}`;
          });
        log(`${name} [${proto[Symbol.toStringTag]}] ${members.join(' ')} ctor.length=${proto.constructor.length}`);
      }
      log(`asyncIterator is values: ${ReadableStream.prototype[Symbol.asyncIterator] === ReadableStream.prototype.values}`);
      log(`from: ${fmt(ReadableStream.from)}`);
    },
  },
  {
    name: 'controller and reader interfaces cannot be constructed directly',
    async run({ ReadableStream, WritableStream, TransformStream }, log) {
      let rsController;
      new ReadableStream({ start: (c) => void (rsController = c) });
      let wsController;
      new WritableStream({ start: (c) => void (wsController = c) });
      let tsController;
      new TransformStream({ start: (c) => void (tsController = c) });
      for (const c of [rsController, wsController, tsController]) {
        attempt(log, `new ${c[Symbol.toStringTag]}`, () => new c.constructor());
      }
      const Reader = new ReadableStream().getReader().constructor;
      attempt(log, 'new Reader({})', () => new Reader({}));
      attempt(log, 'new Reader()', () => new Reader());
    },
  },

  // ---- async iteration ---------------------------------------------------------------------------
  {
    name: 'async iteration reads every chunk and releases the lock',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 3));
      for await (const chunk of rs) log(`chunk ${fmt(chunk)}`);
      log(`locked=${rs.locked}`);
    },
  },
  {
    name: 'breaking out of async iteration cancels the stream',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 10));
      for await (const chunk of rs) {
        log(`chunk ${fmt(chunk)}`);
        if (chunk === 2) break;
      }
      log(`locked=${rs.locked}`);
      watch(log, 'read after break', rs.getReader().read());
      await flush();
    },
  },
  {
    name: 'values({preventCancel: true}) leaves the stream readable after break',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 4));
      for await (const chunk of rs.values({ preventCancel: true })) {
        log(`chunk ${fmt(chunk)}`);
        break;
      }
      log(`locked=${rs.locked}`);
      const reader = rs.getReader();
      log(`next read ${fmt(await reader.read())}`);
    },
  },
  {
    name: 'iterator next/return interleaving and errors',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({
        start: (c) => void (controller = c),
        cancel: (r) => log(`cancel ${fmt(r)}`),
      });
      const it = rs.values();
      watch(log, 'next1', it.next());
      watch(log, 'next2', it.next());
      watch(log, 'return', it.return('bye'));
      watch(log, 'next3', it.next());
      controller.enqueue('a');
      await flush();
      controller.enqueue('b');
      await flush();
      const errored = new ReadableStream({ start: (c) => c.error(userError(1, 'iter')) });
      const it2 = errored[Symbol.asyncIterator]();
      watch(log, 'errored next', it2.next());
      watch(log, 'errored next again', it2.next());
      watch(log, 'return after error', it2.return('x'));
      const third = rs.values();
      log(`iterator class ${Object.prototype.toString.call(third).slice(8, -1)}`);
      attempt(log, 'values on locked', () => rs.values());
      await flush();
    },
  },

  // ---- tee ---------------------------------------------------------------------------------------------
  {
    name: 'tee: both branches see every chunk; cancelling both cancels the source with both reasons',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        start(c) {
          c.enqueue('a');
          c.enqueue('b');
        },
        cancel(reason) {
          log(`source cancel ${fmt(reason)}`);
        },
      });
      const [b1, b2] = rs.tee();
      log(`source locked=${rs.locked}`);
      const r1 = b1.getReader();
      const r2 = b2.getReader();
      log(`b1 ${fmt(await r1.read())}`);
      log(`b2 ${fmt(await r2.read())}`);
      watch(log, 'cancel1', r1.cancel('r1'));
      await flush();
      log('after first cancel');
      watch(log, 'cancel2', r2.cancel('r2'));
      await flush();
    },
  },
  {
    name: 'tee: errors reach both branches',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({ start: (c) => void (controller = c) });
      const [b1, b2] = rs.tee();
      const r1 = b1.getReader();
      const r2 = b2.getReader();
      watch(log, 'b1 read', r1.read());
      watch(log, 'b2 closed', r2.closed);
      controller.enqueue('x');
      await flush();
      controller.error(userError(1, 'tee error'));
      await flush();
      watch(log, 'b2 read', r2.read());
      await flush();
    },
  },
  {
    name: 'tee: close reaches both branches, including one that is read later',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        start(c) {
          c.enqueue(1);
          c.close();
        },
      });
      const [b1, b2] = rs.tee();
      const r1 = b1.getReader();
      log(`b1 ${fmt(await r1.read())} ${fmt(await r1.read())}`);
      const r2 = b2.getReader();
      log(`b2 ${fmt(await r2.read())} ${fmt(await r2.read())}`);
    },
  },

  // ---- ReadableStream.from ------------------------------------------------------------------------------
  {
    name: 'ReadableStream.from: arrays, generators, async generators and bad inputs',
    async run({ ReadableStream }, log) {
      const collect = async (label, iterable) => {
        try {
          const out = [];
          for await (const x of ReadableStream.from(iterable)) out.push(x);
          log(`${label} ${fmt(out)}`);
        } catch (e) {
          log(`${label} threw ${fmt(e)}`);
        }
      };
      await collect('array', [1, 2, 3]);
      await collect('array with promises', [Promise.resolve('p'), 'q']);
      await collect(
        'generator',
        (function* () {
          yield 'g1';
          yield 'g2';
        })(),
      );
      await collect(
        'async generator',
        (async function* () {
          yield 'a1';
          await null;
          yield 'a2';
        })(),
      );
      await collect('string', 'hi');
      await collect('number', 5);
      await collect('null', null);
      await collect('bad next', { [Symbol.asyncIterator]: () => ({ next: () => 42 }) });
      await collect('rejected element', [Promise.reject(userError(1, 'element'))]);
    },
  },
  {
    name: 'ReadableStream.from: cancel calls return() with the reason',
    async run({ ReadableStream }, log) {
      const iterable = {
        [Symbol.asyncIterator]() {
          let i = 0;
          return {
            next() {
              i++;
              log(`next ${i}`);
              return Promise.resolve({ value: i, done: false });
            },
            return(reason) {
              log(`return ${fmt(reason)}`);
              return Promise.resolve({ done: true });
            },
          };
        },
      };
      const rs = ReadableStream.from(iterable);
      const reader = rs.getReader();
      log(`read ${fmt(await reader.read())}`);
      watch(log, 'cancel', reader.cancel('stop'));
      await flush();
    },
  },

  // ---- WritableStream -----------------------------------------------------------------------------------
  {
    name: 'writes run one at a time in order, then close',
    async run({ WritableStream }, log) {
      const resolvers = [];
      const ws = new WritableStream(
        {
          start() {
            log('start');
          },
          write(chunk) {
            log(`write ${fmt(chunk)} begins`);
            return new Promise((r) => resolvers.push(() => (log(`write ${fmt(chunk)} ends`), r())));
          },
          close() {
            log('close');
          },
        },
        { highWaterMark: 2 },
      );
      const writer = ws.getWriter();
      log(`desiredSize=${writer.desiredSize}`);
      watch(log, 'ready0', writer.ready);
      for (const c of ['a', 'b', 'c']) {
        watch(log, `write(${c})`, writer.write(c));
        log(`desiredSize=${writer.desiredSize}`);
      }
      watch(log, 'ready1', writer.ready);
      watch(log, 'close', writer.close());
      watch(log, 'closed', writer.closed);
      await flush();
      while (resolvers.length) {
        resolvers.shift()();
        await flush();
        log(`desiredSize=${writer.desiredSize}`);
      }
    },
  },
  {
    name: 'backpressure: ready is pending while the queue is full',
    async run({ WritableStream }, log) {
      let finishWrite;
      const ws = new WritableStream({
        write(chunk) {
          log(`write ${fmt(chunk)}`);
          return new Promise((r) => (finishWrite = r));
        },
      });
      const writer = ws.getWriter();
      await writer.ready;
      log('initially ready');
      writer.write(1);
      log(`desiredSize=${writer.desiredSize}`);
      const ready = writer.ready;
      watch(log, 'ready', ready);
      await flush();
      log('finishing write');
      finishWrite();
      await flush();
      log(`desiredSize=${writer.desiredSize}`);
    },
  },
  {
    name: 'highWaterMark 0 starts with backpressure',
    async run({ WritableStream }, log) {
      const ws = new WritableStream({ write: (c) => log(`write ${fmt(c)}`) }, { highWaterMark: 0 });
      const writer = ws.getWriter();
      log(`desiredSize=${writer.desiredSize}`);
      watch(log, 'ready', writer.ready);
      await flush();
      watch(log, 'write', writer.write('x'));
      watch(log, 'ready2', writer.ready);
      await flush();
    },
  },
  {
    name: 'a failing write errors the stream',
    async run({ WritableStream }, log) {
      const ws = new WritableStream(recordingSink(log, { failOn: 'bad' }));
      const writer = ws.getWriter();
      watch(log, 'w1', writer.write('ok'));
      watch(log, 'w2', writer.write('bad'));
      watch(log, 'w3', writer.write('after'));
      watch(log, 'closed', writer.closed);
      watch(log, 'ready', writer.ready);
      await flush();
      log(`desiredSize=${writer.desiredSize}`);
      watch(log, 'w4', writer.write('later'));
      watch(log, 'close', writer.close());
      await flush();
    },
  },
  {
    name: 'abort waits for the in-flight write and rejects queued writes',
    async run({ WritableStream }, log) {
      let finishWrite;
      const ws = new WritableStream({
        write(chunk) {
          log(`write ${fmt(chunk)}`);
          return new Promise((r) => (finishWrite = r));
        },
        abort(reason) {
          log(`abort ${fmt(reason)}`);
        },
      });
      const writer = ws.getWriter();
      watch(log, 'w1', writer.write(1));
      watch(log, 'w2', writer.write(2));
      await flush();
      watch(log, 'abort', writer.abort('reason'));
      watch(log, 'abort again', writer.abort('other'));
      watch(log, 'closed', writer.closed);
      log(`desiredSize=${writer.desiredSize}`);
      await flush();
      log('finishing write');
      finishWrite();
      await flush();
    },
  },
  {
    name: 'abort on an idle stream and on a closed stream',
    async run({ WritableStream }, log) {
      const ws = new WritableStream(recordingSink(log));
      watch(log, 'abort', ws.abort(userError(1, 'stop')));
      await flush();
      const writer = ws.getWriter();
      watch(log, 'closed', writer.closed);
      watch(log, 'write', writer.write('x'));
      const ws2 = new WritableStream(recordingSink(log));
      await ws2.close();
      watch(log, 'abort closed', ws2.abort('late'));
      await flush();
    },
  },
  {
    name: 'sink abort rejection is reported by abort()',
    async run({ WritableStream }, log) {
      const ws = new WritableStream({
        abort() {
          throw userError(2, 'abort failed');
        },
      });
      const writer = ws.getWriter();
      watch(log, 'abort', writer.abort('r'));
      watch(log, 'closed', writer.closed);
      await flush();
    },
  },
  {
    name: 'close/abort misuse: locked, twice, after close',
    async run({ WritableStream }, log) {
      const ws = new WritableStream(recordingSink(log));
      const writer = ws.getWriter();
      watch(log, 'stream close while locked', ws.close());
      watch(log, 'stream abort while locked', ws.abort());
      watch(log, 'close', writer.close());
      watch(log, 'close again', writer.close());
      watch(log, 'write after close', writer.write('x'));
      log(`desiredSize=${writer.desiredSize}`);
      await flush();
      log(`desiredSize=${writer.desiredSize}`);
      attempt(log, 'getWriter while locked', () => ws.getWriter());
    },
  },
  {
    name: 'writer.releaseLock rejects ready and closed',
    async run({ WritableStream }, log) {
      const ws = new WritableStream(recordingSink(log), { highWaterMark: 0 });
      const writer = ws.getWriter();
      const ready = writer.ready;
      const closed = writer.closed;
      writer.releaseLock();
      watch(log, 'old ready', ready);
      watch(log, 'old closed', closed);
      watch(log, 'ready', writer.ready);
      watch(log, 'closed', writer.closed);
      attempt(log, 'desiredSize', () => writer.desiredSize);
      watch(log, 'write', writer.write('x'));
      watch(log, 'close', writer.close());
      log(`locked=${ws.locked}`);
      writer.releaseLock();
      await flush();
    },
  },
  {
    name: 'controller.error() in start errors the stream',
    async run({ WritableStream }, log) {
      const ws = new WritableStream({
        start(c) {
          c.error(userError(1, 'start error'));
        },
        write() {
          log('write (must not happen)');
        },
      });
      const writer = ws.getWriter();
      watch(log, 'write', writer.write('x'));
      watch(log, 'closed', writer.closed);
      watch(log, 'ready', writer.ready);
      await flush();
    },
  },
  {
    name: 'writes wait for a slow start; start rejection errors the stream',
    async run({ WritableStream }, log) {
      let finishStart;
      const ws = new WritableStream({
        start() {
          log('start');
          return new Promise((r) => (finishStart = r));
        },
        write(c) {
          log(`write ${fmt(c)}`);
        },
      });
      const writer = ws.getWriter();
      watch(log, 'write', writer.write('a'));
      await flush();
      log('finishing start');
      finishStart();
      await flush();
      const ws2 = new WritableStream({ start: () => Promise.reject(userError(2, 'no start')) });
      const w2 = ws2.getWriter();
      watch(log, 'ws2 write', w2.write('b'));
      watch(log, 'ws2 closed', w2.closed);
      await flush();
    },
  },
  {
    name: 'size strategy on a WritableStream',
    async run({ WritableStream, ByteLengthQueuingStrategy }, log) {
      const ws = new WritableStream(
        { write: () => new Promise(() => {}) },
        { highWaterMark: 10, size: (chunk) => chunk.length },
      );
      const writer = ws.getWriter();
      writer.write('abc');
      log(`desiredSize=${writer.desiredSize}`);
      writer.write('defghij');
      log(`desiredSize=${writer.desiredSize}`);
      const ws2 = new WritableStream({}, new ByteLengthQueuingStrategy({ highWaterMark: 4 }));
      const w2 = ws2.getWriter();
      w2.write(new Uint8Array(3));
      log(`byte strategy desiredSize=${w2.desiredSize}`);
      const ws3 = new WritableStream(
        {},
        {
          size() {
            throw userError(1, 'size');
          },
        },
      );
      const w3 = ws3.getWriter();
      watch(log, 'throwing size write', w3.write('x'));
      watch(log, 'throwing size closed', w3.closed);
      await flush();
    },
  },
  {
    name: 'WritableStream rejects a type and non-object sinks',
    async run({ WritableStream }, log) {
      attempt(log, 'type', () => new WritableStream({ type: 'bytes' }));
      attempt(log, 'null sink', () => new WritableStream(null));
      attempt(log, 'write not callable', () => new WritableStream({ write: 'x' }));
      attempt(log, 'start throws', () =>
        new WritableStream({
          start() {
            throw userError(1, 'start');
          },
        }),
      );
    },
  },

  // ---- TransformStream ----------------------------------------------------------------------------------
  {
    name: 'identity TransformStream: backpressure holds writes until reads',
    async run({ TransformStream }, log) {
      const ts = new TransformStream();
      const writer = ts.writable.getWriter();
      const reader = ts.readable.getReader();
      log(`writer desiredSize=${writer.desiredSize}`);
      watch(log, 'w1', writer.write('a'));
      watch(log, 'w2', writer.write('b'));
      await flush();
      log(`writer desiredSize=${writer.desiredSize}`);
      log(`read ${fmt(await reader.read())}`);
      await flush();
      log(`read ${fmt(await reader.read())}`);
      watch(log, 'close', writer.close());
      log(`read ${fmt(await reader.read())}`);
      await flush();
    },
  },
  {
    name: 'transform, flush and the controller',
    async run({ TransformStream }, log) {
      const ts = new TransformStream({
        start(c) {
          log(`start desiredSize=${c.desiredSize}`);
        },
        transform(chunk, c) {
          log(`transform ${fmt(chunk)} desiredSize=${c.desiredSize}`);
          c.enqueue(chunk.toUpperCase());
          c.enqueue(chunk + chunk);
        },
        flush(c) {
          log('flush');
          c.enqueue('end');
        },
      });
      const writer = ts.writable.getWriter();
      writer.write('a');
      writer.write('b');
      writer.close();
      const out = [];
      for await (const x of ts.readable) out.push(x);
      log(`out ${fmt(out)}`);
    },
  },
  {
    name: 'transform throwing errors both sides',
    async run({ TransformStream }, log) {
      const ts = new TransformStream({
        transform() {
          throw userError(1, 'transform failed');
        },
      });
      const writer = ts.writable.getWriter();
      const reader = ts.readable.getReader();
      watch(log, 'write', writer.write('x'));
      watch(log, 'read', reader.read());
      watch(log, 'writer closed', writer.closed);
      watch(log, 'reader closed', reader.closed);
      await flush();
    },
  },
  {
    name: 'terminate() closes the readable side and errors the writable side',
    async run({ TransformStream }, log) {
      const ts = new TransformStream({
        transform(chunk, c) {
          c.enqueue(chunk);
          c.terminate();
          log(`after terminate desiredSize=${c.desiredSize}`);
          try {
            c.enqueue('more');
          } catch (e) {
            log(`enqueue after terminate threw ${fmt(e)}`);
          }
        },
      });
      const writer = ts.writable.getWriter();
      const reader = ts.readable.getReader();
      watch(log, 'write', writer.write('only'));
      watch(log, 'writer closed', writer.closed);
      log(`read ${fmt(await reader.read())}`);
      log(`read ${fmt(await reader.read())}`);
      await flush();
    },
  },
  {
    name: 'cancelling the readable side calls transformer.cancel and errors the writable side',
    async run({ TransformStream }, log) {
      const ts = new TransformStream({
        cancel(reason) {
          log(`transformer cancel ${fmt(reason)}`);
        },
        flush() {
          log('flush (must not happen)');
        },
      });
      const writer = ts.writable.getWriter();
      watch(log, 'cancel', ts.readable.cancel('no more'));
      watch(log, 'writer closed', writer.closed);
      await flush();
      watch(log, 'write after cancel', writer.write('x'));
      await flush();
    },
  },
  {
    name: 'aborting the writable side calls transformer.cancel and errors the readable side',
    async run({ TransformStream }, log) {
      const ts = new TransformStream({
        cancel(reason) {
          log(`transformer cancel ${fmt(reason)}`);
        },
      });
      const reader = ts.readable.getReader();
      watch(log, 'abort', ts.writable.abort(userError(1, 'aborted')));
      watch(log, 'reader closed', reader.closed);
      await flush();
    },
  },
  {
    name: 'flush rejection errors the readable side',
    async run({ TransformStream }, log) {
      const ts = new TransformStream({
        flush() {
          return Promise.reject(userError(1, 'flush failed'));
        },
      });
      const writer = ts.writable.getWriter();
      watch(log, 'close', writer.close());
      watch(log, 'reader closed', ts.readable.getReader().closed);
      await flush();
    },
  },
  {
    name: 'TransformStream rejects readableType/writableType',
    async run({ TransformStream }, log) {
      attempt(log, 'readableType', () => new TransformStream({ readableType: 'bytes' }));
      attempt(log, 'writableType', () => new TransformStream({ writableType: 'bytes' }));
      attempt(log, 'transform not callable', () => new TransformStream({ transform: 1 }));
    },
  },

  // ---- pipes --------------------------------------------------------------------------------------------------
  {
    name: 'pipeTo copies every chunk and closes the destination',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream({
        start(c) {
          c.enqueue('a');
          c.enqueue('b');
          c.close();
        },
      });
      const ws = new WritableStream(recordingSink(log));
      const p = rs.pipeTo(ws);
      log(`locked ${rs.locked} ${ws.locked}`);
      watch(log, 'pipe', p);
      await flush();
      log(`locked ${rs.locked} ${ws.locked}`);
    },
  },
  {
    name: 'pipeTo with preventClose leaves the destination open',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream({
        start(c) {
          c.enqueue(1);
          c.close();
        },
      });
      const ws = new WritableStream(recordingSink(log));
      watch(log, 'pipe', rs.pipeTo(ws, { preventClose: true }));
      await flush();
      const writer = ws.getWriter();
      watch(log, 'write after pipe', writer.write(2));
      await flush();
    },
  },
  {
    name: 'pipeTo propagates a source error by aborting the destination',
    async run({ ReadableStream, WritableStream }, log) {
      let controller;
      const rs = new ReadableStream({ start: (c) => void (controller = c) });
      const ws = new WritableStream(recordingSink(log));
      watch(log, 'pipe', rs.pipeTo(ws));
      controller.enqueue('x');
      await flush();
      controller.error(userError(1, 'source failed'));
      await flush();
    },
  },
  {
    name: 'pipeTo with preventAbort does not abort the destination',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream({ start: (c) => c.error(userError(1, 'source failed')) });
      const ws = new WritableStream(recordingSink(log));
      watch(log, 'pipe', rs.pipeTo(ws, { preventAbort: true }));
      await flush();
      log(`ws locked=${ws.locked}`);
      watch(log, 'write', ws.getWriter().write('still writable'));
      await flush();
    },
  },
  {
    name: 'pipeTo propagates a destination error by cancelling the source',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 5));
      const ws = new WritableStream(recordingSink(log, { failOn: 2 }));
      watch(log, 'pipe', rs.pipeTo(ws));
      await flush();
    },
  },
  {
    name: 'pipeTo with preventCancel keeps the source alive',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 5));
      const ws = new WritableStream({
        start: (c) => c.error(userError(2, 'dest broken')),
      });
      watch(log, 'pipe', rs.pipeTo(ws, { preventCancel: true }));
      await flush();
      log(`rs locked=${rs.locked}`);
    },
  },
  {
    name: 'pipeTo into a closed destination cancels the source',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 3));
      const ws = new WritableStream(recordingSink(log));
      await ws.close();
      watch(log, 'pipe', rs.pipeTo(ws));
      await flush();
    },
  },
  {
    name: 'pipeTo rejects for locked streams and bad arguments',
    async run({ ReadableStream, WritableStream }, log) {
      const locked = new ReadableStream();
      locked.getReader();
      watch(log, 'locked source', locked.pipeTo(new WritableStream()));
      const ws = new WritableStream();
      ws.getWriter();
      watch(log, 'locked dest', new ReadableStream().pipeTo(ws));
      watch(log, 'not a stream', new ReadableStream().pipeTo({}));
      watch(log, 'bad signal', new ReadableStream().pipeTo(new WritableStream(), { signal: {} }));
      attempt(log, 'pipeThrough bad pair', () => new ReadableStream().pipeThrough({ readable: 1, writable: 2 }));
      await flush();
    },
  },
  {
    name: 'pipeTo with an already-aborted signal',
    needs: 'AbortController',
    async run({ ReadableStream, WritableStream, AbortController }, log) {
      const ac = new AbortController();
      ac.abort(userError(1, 'aborted early'));
      const rs = new ReadableStream(countingSource(log, 3));
      const ws = new WritableStream(recordingSink(log));
      watch(log, 'pipe', rs.pipeTo(ws, { signal: ac.signal }));
      await flush();
      log(`locked ${rs.locked} ${ws.locked}`);
    },
  },
  {
    name: 'aborting a pipe mid-way cancels the source and aborts the destination',
    needs: 'AbortController',
    async run({ ReadableStream, WritableStream, AbortController }, log) {
      const ac = new AbortController();
      let controller;
      const rs = new ReadableStream({
        start: (c) => void (controller = c),
        cancel: (r) => log(`source cancel ${fmt(r)}`),
      });
      const ws = new WritableStream(recordingSink(log));
      watch(log, 'pipe', rs.pipeTo(ws, { signal: ac.signal }));
      controller.enqueue('first');
      await flush();
      ac.abort(userError(2, 'stop'));
      await flush();
    },
  },
  {
    name: 'pipeThrough chains transforms and returns the readable side',
    async run({ ReadableStream, TransformStream }, log) {
      const rs = new ReadableStream({
        start(c) {
          c.enqueue(1);
          c.enqueue(2);
          c.close();
        },
      });
      const double = new TransformStream({ transform: (x, c) => c.enqueue(x * 2) });
      const inc = new TransformStream({ transform: (x, c) => c.enqueue(x + 1) });
      const out = rs.pipeThrough(double).pipeThrough(inc);
      log(`returns readable: ${out === inc.readable}`);
      const reader = out.getReader();
      log(`${fmt(await reader.read())} ${fmt(await reader.read())} ${fmt(await reader.read())}`);
    },
  },
  {
    name: 'pipeTo respects the destination backpressure',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream(countingSource(log, 6), { highWaterMark: 0 });
      const finish = [];
      const ws = new WritableStream(
        {
          write(c) {
            log(`write ${c}`);
            return new Promise((r) => finish.push(r));
          },
          close: () => log('sink close'),
        },
        { highWaterMark: 2 },
      );
      watch(log, 'pipe', rs.pipeTo(ws));
      await flush();
      while (finish.length) {
        finish.shift()();
        await flush();
      }
    },
  },

  // ---- byte streams ------------------------------------------------------------------------------------------------
  {
    name: 'byte stream with a default reader',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        type: 'bytes',
        start(c) {
          log(`start byobRequest=${fmt(c.byobRequest)} desiredSize=${c.desiredSize}`);
          c.enqueue(new Uint8Array([1, 2, 3]));
        },
        pull(c) {
          log(`pull byobRequest=${fmt(c.byobRequest)}`);
          c.enqueue(new Uint8Array([4]));
          c.close();
        },
      });
      const reader = rs.getReader();
      log(`read ${fmt(await reader.read())}`);
      log(`read ${fmt(await reader.read())}`);
      log(`read ${fmt(await reader.read())}`);
    },
  },
  {
    name: 'BYOB read filled by respond()',
    async run({ ReadableStream }, log) {
      let n = 0;
      const rs = new ReadableStream({
        type: 'bytes',
        pull(c) {
          const view = c.byobRequest.view;
          log(`pull view=${fmt(view)} buffer=${view.buffer.byteLength}`);
          view[0] = ++n;
          view[1] = ++n;
          c.byobRequest.respond(2);
          log(`after respond byobRequest=${fmt(c.byobRequest)}`);
        },
      });
      const reader = rs.getReader({ mode: 'byob' });
      const buffer = new ArrayBuffer(8);
      const result = await reader.read(new Uint8Array(buffer, 2, 4));
      log(`result ${fmt(result)} buffer=${result.value.buffer.byteLength} old=${buffer.byteLength}`);
      log(`read ${fmt(await reader.read(new Uint16Array(2)))}`);
    },
  },
  {
    name: 'BYOB read filled by respondWithNewView() and enqueue()',
    async run({ ReadableStream }, log) {
      let step = 0;
      const rs = new ReadableStream({
        type: 'bytes',
        pull(c) {
          step++;
          if (step === 1) {
            const v = c.byobRequest.view;
            const replacement = new Uint8Array(v.buffer, v.byteOffset, 3);
            replacement.set([7, 8, 9]);
            c.byobRequest.respondWithNewView(replacement);
          } else {
            c.enqueue(new Uint8Array([10, 11, 12, 13, 14, 15]));
          }
        },
      });
      const reader = rs.getReader({ mode: 'byob' });
      log(`read ${fmt(await reader.read(new Uint8Array(5)))}`);
      log(`read ${fmt(await reader.read(new Uint8Array(4)))}`);
      log(`read ${fmt(await reader.read(new Uint8Array(4)))}`);
    },
  },
  {
    name: 'BYOB read into a Uint16Array keeps an odd trailing byte queued',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({
        type: 'bytes',
        start: (c) => void (controller = c),
      });
      const reader = rs.getReader({ mode: 'byob' });
      watch(log, 'read1', reader.read(new Uint16Array(4)));
      await flush();
      controller.enqueue(new Uint8Array([1, 0, 2]));
      await flush();
      watch(log, 'read2', reader.read(new Uint16Array(4)));
      await flush();
      controller.enqueue(new Uint8Array([0]));
      await flush();
      watch(log, 'read3', reader.read(new Uint16Array(1)));
      controller.enqueue(new Uint8Array([5]));
      attempt(log, 'close with partial element', () => controller.close());
      await flush();
    },
  },
  {
    name: 'BYOB read with min waits for enough bytes',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({ type: 'bytes', start: (c) => void (controller = c) });
      const reader = rs.getReader({ mode: 'byob' });
      watch(log, 'read', reader.read(new Uint8Array(6), { min: 4 }));
      controller.enqueue(new Uint8Array([1, 2]));
      await flush();
      log('after 2 bytes');
      controller.enqueue(new Uint8Array([3, 4, 5]));
      await flush();
      watch(log, 'bad min', reader.read(new Uint8Array(2), { min: 3 }));
      watch(log, 'zero min', reader.read(new Uint8Array(2), { min: 0 }));
      await flush();
    },
  },
  {
    name: 'autoAllocateChunkSize gives default reads a byobRequest',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        type: 'bytes',
        autoAllocateChunkSize: 4,
        pull(c) {
          const v = c.byobRequest.view;
          log(`pull view=${fmt(v)}`);
          v[0] = 42;
          c.byobRequest.respond(1);
        },
      });
      const reader = rs.getReader();
      log(`read ${fmt(await reader.read())}`);
      attempt(log, 'autoAllocateChunkSize 0', () => new ReadableStream({ type: 'bytes', autoAllocateChunkSize: 0 }));
    },
  },
  {
    name: 'BYOB reads of closed and errored byte streams',
    async run({ ReadableStream }, log) {
      const closed = new ReadableStream({ type: 'bytes', start: (c) => c.close() });
      const r1 = closed.getReader({ mode: 'byob' });
      log(`closed read ${fmt(await r1.read(new Uint32Array(2)))}`);
      let controller;
      const pending = new ReadableStream({ type: 'bytes', start: (c) => void (controller = c) });
      const r2 = pending.getReader({ mode: 'byob' });
      watch(log, 'pending read', r2.read(new Uint8Array(4)));
      await flush();
      controller.close();
      controller.byobRequest.respond(0);
      await flush();
      const errored = new ReadableStream({ type: 'bytes', start: (c) => c.error(userError(1, 'bytes')) });
      watch(log, 'errored read', errored.getReader({ mode: 'byob' }).read(new Uint8Array(1)));
      await flush();
    },
  },
  {
    name: 'byte stream argument checks',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({ type: 'bytes', start: (c) => void (controller = c) });
      attempt(log, 'enqueue empty', () => controller.enqueue(new Uint8Array(0)));
      attempt(log, 'enqueue non-view', () => controller.enqueue([1]));
      const reader = rs.getReader({ mode: 'byob' });
      watch(log, 'read empty view', reader.read(new Uint8Array(0)));
      watch(log, 'read non-view', reader.read({}));
      watch(log, 'read no args', reader.read());
      attempt(log, 'size with bytes', () => new ReadableStream({ type: 'bytes' }, { size: () => 1 }));
      attempt(log, 'bad type', () => new ReadableStream({ type: 'byte' }));
      await flush();
    },
  },
  {
    name: 'releasing a BYOB reader rejects its pending read',
    async run({ ReadableStream }, log) {
      let controller;
      const rs = new ReadableStream({ type: 'bytes', start: (c) => void (controller = c) });
      const reader = rs.getReader({ mode: 'byob' });
      watch(log, 'read', reader.read(new Uint8Array(4)));
      await flush();
      reader.releaseLock();
      log(`byobRequest after release: ${fmt(controller.byobRequest)}`);
      await flush();
      const reader2 = rs.getReader();
      watch(log, 'default read', reader2.read());
      controller.enqueue(new Uint8Array([9]));
      await flush();
    },
  },
  {
    name: 'tee of a byte stream gives each branch its own copy',
    async run({ ReadableStream }, log) {
      const rs = new ReadableStream({
        type: 'bytes',
        start(c) {
          c.enqueue(new Uint8Array([1, 2, 3]));
          c.close();
        },
      });
      const [b1, b2] = rs.tee();
      const r1 = b1.getReader();
      const r2 = b2.getReader({ mode: 'byob' });
      const a = await r1.read();
      const b = await r2.read(new Uint8Array(2));
      log(`b1 ${fmt(a)} b2 ${fmt(b)} distinct buffers: ${a.value.buffer !== b.value.buffer}`);
      a.value[0] = 99;
      log(`b2 after mutating b1: ${fmt(await r2.read(new Uint8Array(4)))}`);
      log(`b1 ${fmt(await r1.read())} b2 ${fmt(await r2.read(new Uint8Array(1)))}`);
    },
  },
  {
    name: 'pipeTo from a byte stream',
    async run({ ReadableStream, WritableStream }, log) {
      const rs = new ReadableStream({
        type: 'bytes',
        start(c) {
          c.enqueue(new Uint8Array([1, 2]));
          c.enqueue(new Uint8Array([3]));
          c.close();
        },
      });
      watch(log, 'pipe', rs.pipeTo(new WritableStream(recordingSink(log))));
      await flush();
    },
  },

  // ---- queuing strategies ------------------------------------------------------------------------------------------
  {
    name: 'queuing strategies',
    async run({ CountQueuingStrategy, ByteLengthQueuingStrategy }, log) {
      const c1 = new CountQueuingStrategy({ highWaterMark: 3 });
      const c2 = new CountQueuingStrategy({ highWaterMark: '5' });
      const b1 = new ByteLengthQueuingStrategy({ highWaterMark: -1 });
      log(`count hwm ${c1.highWaterMark} ${c2.highWaterMark} size ${fmt(c1.size)} same=${c1.size === c2.size}`);
      log(`count size() ${c1.size('anything')}`);
      log(`byte hwm ${b1.highWaterMark} size ${fmt(b1.size)} ${b1.size(new Uint8Array(7))} ${b1.size({ byteLength: 'x' })}`);
      log(`same byte size: ${b1.size === new ByteLengthQueuingStrategy({ highWaterMark: 1 }).size}`);
      attempt(log, 'no init', () => new CountQueuingStrategy());
      attempt(log, 'empty init', () => new ByteLengthQueuingStrategy({}));
      attempt(log, 'byte size of undefined', () => b1.size(undefined));
      attempt(log, 'brand', () => Object.getOwnPropertyDescriptor(CountQueuingStrategy.prototype, 'highWaterMark').get.call(b1));
      attempt(log, 'new size()', () => new c1.size());
    },
  },
  {
    name: 'strategy and source getters are read in Web IDL order',
    async run({ ReadableStream, WritableStream, TransformStream }, log) {
      const spy = (label, members) => {
        const o = {};
        for (const m of members) {
          Object.defineProperty(o, m, {
            get() {
              log(`get ${label}.${m}`);
              return undefined;
            },
          });
        }
        return o;
      };
      new ReadableStream(
        spy('source', ['type', 'start', 'pull', 'cancel', 'autoAllocateChunkSize']),
        spy('strategy', ['size', 'highWaterMark']),
      );
      new WritableStream(spy('sink', ['write', 'start', 'close', 'abort', 'type']), spy('strategy', ['size', 'highWaterMark']));
      new TransformStream(
        spy('transformer', ['transform', 'start', 'flush', 'cancel', 'readableType', 'writableType']),
        spy('wstrategy', ['size', 'highWaterMark']),
        spy('rstrategy', ['size', 'highWaterMark']),
      );
      new ReadableStream().pipeTo(new WritableStream(), spy('options', ['signal', 'preventClose', 'preventAbort', 'preventCancel'])).then(
        () => log('pipe done'),
      );
      await flush();
    },
  },
];
