// Tests for src/runtime/events.js, abort.js and scheduler.js under Node: the same scenarios
// run against hearth's classes and Node's own (which follow the DOM Standard), and must
// observe the same things; plus what Node's differ on or lack (reporting, scheduler.wait).
//
// The runtime's timers go through C ops; here a stub backs them with Node's timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const reported = [];
let nextId = 1;
const nodeTimers = new Map();
let timersModule;
globalThis.__hearth_ops = {
  currentInvocation: () => 7,
  timerStart(ms, repeat) {
    const id = nextId++;
    nodeTimers.set(id, setTimeout(() => timersModule.fireTimer(id), ms));
    return id;
  },
  timerCancel(id) {
    clearTimeout(nodeTimers.get(id));
    nodeTimers.delete(id);
  },
  reportException(id, text) {
    reported.push(text);
  },
};
timersModule = await import('../../src/runtime/timers.js');
const events = await import('../../src/runtime/events.js');
const abort = await import('../../src/runtime/abort.js');
const { scheduler, Scheduler } = await import('../../src/runtime/scheduler.js');

const hearth = {
  Event: events.Event,
  CustomEvent: events.CustomEvent,
  EventTarget: events.EventTarget,
  AbortController: abort.AbortController,
  AbortSignal: abort.AbortSignal,
};
const node = {
  Event: globalThis.Event,
  CustomEvent: globalThis.CustomEvent,
  EventTarget: globalThis.EventTarget,
  AbortController: globalThis.AbortController,
  AbortSignal: globalThis.AbortSignal,
};

// Each scenario takes a set of classes and returns what it observed (JSON-comparable).
const scenarios = {
  order({ EventTarget, Event }) {
    const t = new EventTarget();
    const log = [];
    const b = () => log.push('b');
    t.addEventListener('x', () => log.push('a'));
    t.addEventListener('x', b);
    t.addEventListener('x', b);
    t.addEventListener('x', b, { capture: true });
    t.addEventListener('x', () => log.push('cap'), true);
    t.addEventListener('x', { handleEvent(e) { log.push(`obj:${e.eventPhase}`); } });
    t.addEventListener('x', null);
    const e = new Event('x', { cancelable: true });
    const r = t.dispatchEvent(e);
    return { log, r, phase: e.eventPhase, current: e.currentTarget, same: e.target === t };
  },
  removal({ EventTarget, Event }) {
    const t = new EventTarget();
    const log = [];
    const c = () => log.push('c');
    const d = () => log.push('d');
    t.addEventListener('x', () => {
      log.push('a');
      t.removeEventListener('x', c);
      t.addEventListener('x', () => log.push('added'));
    });
    t.addEventListener('x', c);
    t.addEventListener('x', d, { once: true });
    t.dispatchEvent(new Event('x'));
    t.dispatchEvent(new Event('x'));
    t.removeEventListener('x', d);
    t.removeEventListener('nothing', d);
    return log;
  },
  onceReentrant({ EventTarget, Event }) {
    const t = new EventTarget();
    const log = [];
    const f = () => {
      log.push('f');
      t.dispatchEvent(new Event('x')); // the once listener is already gone
    };
    t.addEventListener('x', f, { once: true });
    t.dispatchEvent(new Event('x'));
    return log;
  },
  stop({ EventTarget, Event }) {
    const t = new EventTarget();
    const log = [];
    t.addEventListener('x', (e) => { log.push(1); e.stopImmediatePropagation(); log.push(e.cancelBubble); });
    t.addEventListener('x', () => log.push(2));
    const e = new Event('x');
    t.dispatchEvent(e);
    log.push(e.cancelBubble);
    return log;
  },
  cancel({ EventTarget, Event }) {
    const t = new EventTarget();
    const out = [];
    t.addEventListener('x', (e) => { e.preventDefault(); out.push(e.defaultPrevented); });
    out.push(t.dispatchEvent(new Event('x', { cancelable: true })));
    out.push(t.dispatchEvent(new Event('x')));
    const e = new Event('y', { cancelable: true });
    e.returnValue = false;
    out.push(e.defaultPrevented, e.returnValue);
    return out;
  },
  eventInit({ Event, CustomEvent }) {
    const e = new Event('t', { bubbles: 1, cancelable: '', composed: {} });
    const c = new CustomEvent('c', { detail: [1] });
    return [e.type, e.bubbles, e.cancelable, e.composed, e.isTrusted, e.eventPhase, e.target,
      c.detail, new CustomEvent('c').detail, c instanceof Event, Event.AT_TARGET, e.BUBBLING_PHASE];
  },
  abortBasics({ AbortController, AbortSignal, EventTarget }) {
    const c = new AbortController();
    const s = c.signal;
    const log = [];
    s.addEventListener('abort', (e) => log.push(['listener', e.type, s.aborted, e.target === s]));
    s.onabort = () => log.push(['onabort']);
    log.push(s.aborted, s.reason);
    c.abort();
    c.abort('again');
    let thrown;
    try { s.throwIfAborted(); } catch (err) { thrown = err === s.reason; }
    return { log, thrown, name: s.reason.name, code: s.reason.code, isTarget: s instanceof EventTarget,
      custom: AbortSignal.abort('r').reason, defaultName: AbortSignal.abort().reason.name };
  },
  onabortPosition({ AbortController }) {
    const c = new AbortController();
    const log = [];
    c.signal.onabort = () => log.push('first');
    c.signal.addEventListener('abort', () => log.push('listener'));
    c.signal.onabort = () => log.push('second');
    c.abort();
    const c2 = new AbortController();
    c2.signal.onabort = () => log.push('removed');
    c2.signal.onabort = null;
    c2.abort();
    return log;
  },
  listenerSignal({ EventTarget, Event, AbortController, AbortSignal }) {
    const t = new EventTarget();
    const c = new AbortController();
    let n = 0;
    t.addEventListener('x', () => n++, { signal: c.signal });
    t.addEventListener('x', () => n += 100, { signal: AbortSignal.abort() });
    t.dispatchEvent(new Event('x'));
    c.abort();
    t.dispatchEvent(new Event('x'));
    return n;
  },
  any({ AbortController, AbortSignal }) {
    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    const nested = AbortSignal.any([any, a.signal]);
    const log = [];
    b.signal.addEventListener('abort', () => log.push('b'));
    any.addEventListener('abort', () => log.push(`any:${any.reason}`));
    nested.addEventListener('abort', () => log.push(`nested:${nested.reason}`));
    b.abort('B');
    a.abort('A');
    const pre = AbortSignal.any([AbortSignal.abort('first'), AbortSignal.abort('second')]);
    return { log, pre: pre.reason, empty: AbortSignal.any([]).aborted };
  },
  errors({ EventTarget, Event, AbortSignal }) {
    const t = new EventTarget();
    const names = [];
    const tryIt = (f) => { try { f(); names.push('ok'); } catch (err) { names.push(err.name); } };
    tryIt(() => t.dispatchEvent({ type: 'x' }));
    tryIt(() => t.addEventListener('x', 5));
    tryIt(() => new AbortSignal());
    tryIt(() => AbortSignal.any([{}]));
    tryIt(() => AbortSignal.timeout(-1));
    tryIt(() => new Event());
    const e = new Event('n');
    t.addEventListener('n', () => tryIt(() => t.dispatchEvent(e)));
    t.dispatchEvent(e);
    return names;
  },
};

// Where Node's implementation departs from the DOM Standard, what the Standard says instead.
const SPEC = {
  // Node dispatches in insertion order regardless of `capture`, and runs listeners added
  // during the dispatch; the Standard runs the target's capture listeners first and
  // iterates over a clone of the list taken when the dispatch started.
  order: {
    log: ['b', 'cap', 'a', 'b', 'obj:2'], r: true, phase: 0, current: null, same: true,
  },
  removal: ['a', 'd', 'a', 'added'],
  // The Standard clears the stop propagation flag when the dispatch ends; Node does not.
  stop: [1, true, false],
  // Node has no returnValue setter.
  cancel: [true, false, false, true, true, false],
  // Node lacks the phase constants on Event.prototype.
  eventInit: ['t', true, false, true, false, 0, null, [1], null, true, 2, 3],
  // [EnforceRange] failures are TypeErrors (Node: RangeError); re-dispatching an event being
  // dispatched is an InvalidStateError DOMException (Node: a plain Error).
  errors: ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError', 'InvalidStateError'],
};

for (const [name, scenario] of Object.entries(scenarios)) {
  if (name in SPEC) {
    test(`as the DOM Standard says (Node differs): ${name}`, () => {
      assert.deepEqual(scenario(hearth), SPEC[name]);
    });
  } else {
    test(`same as Node: ${name}`, () => {
      assert.deepEqual(scenario(hearth), scenario(node));
    });
  }
}

test('a throwing listener is reported, not thrown; the next listener runs', () => {
  reported.length = 0;
  const t = new hearth.EventTarget();
  const log = [];
  t.addEventListener('x', () => { throw new Error('boom'); });
  t.addEventListener('x', { handleEvent: 1 });
  t.addEventListener('x', () => log.push('next'));
  assert.equal(t.dispatchEvent(new hearth.Event('x')), true);
  assert.deepEqual(log, ['next']);
  assert.equal(reported.length, 2);
  assert.match(reported[0], /^Uncaught exception in an event listener: Error: boom/);
  assert.match(reported[1], /handleEvent/);
});

test('onAbort: internal algorithms run before listeners, once, and can be unregistered', () => {
  const c = new hearth.AbortController();
  const log = [];
  c.signal.addEventListener('abort', (e) => e.stopImmediatePropagation());
  c.signal.addEventListener('abort', () => log.push('listener'));
  abort.onAbort(c.signal, (reason) => log.push(`algo:${reason}`));
  const off = abort.onAbort(c.signal, () => log.push('unregistered'));
  off();
  assert.equal(abort.isAbortSignal(c.signal), true);
  assert.equal(abort.isAbortSignal(Object.create(hearth.AbortSignal.prototype)), false);
  assert.equal(abort.isAbortSignal({ aborted: false }), false);
  c.abort('R');
  c.abort('again');
  assert.deepEqual(log, ['algo:R']);
  // Already aborted: not called (the caller checks `aborted`).
  abort.onAbort(c.signal, () => log.push('late'));
  assert.deepEqual(log, ['algo:R']);
  const s = abort.neverAbortingSignal();
  abort.abortSignal(s, 'x');
  assert.equal(s.reason, 'x');
});

test('AbortSignal.timeout aborts with a TimeoutError DOMException after the delay', async () => {
  const started = Date.now();
  const s = hearth.AbortSignal.timeout(20);
  assert.equal(s.aborted, false);
  await new Promise((r) => s.addEventListener('abort', r));
  assert.ok(Date.now() - started >= 19);
  assert.equal(s.reason.name, 'TimeoutError');
  assert.equal(s.reason.code, 23);
  assert.equal(Object.prototype.toString.call(s.reason), '[object DOMException]');
});

test('scheduler.wait: resolves after the delay, rejects on abort and cancels its timer', async () => {
  const started = Date.now();
  assert.equal(await scheduler.wait(20), undefined);
  assert.ok(Date.now() - started >= 19);
  const c = new hearth.AbortController();
  const p = scheduler.wait(60000, { signal: c.signal });
  const timersBefore = nodeTimers.size;
  c.abort('stop');
  await assert.rejects(p, (err) => err === 'stop');
  assert.equal(nodeTimers.size, timersBefore - 1, 'the timer was cancelled');
  await assert.rejects(scheduler.wait(1, { signal: hearth.AbortSignal.abort() }), { name: 'AbortError' });
  await assert.rejects(scheduler.wait(1, { signal: {} }), TypeError);
  assert.throws(() => new Scheduler(), TypeError);
  assert.equal(Object.prototype.toString.call(scheduler), '[object Scheduler]');
});

test('WebIDL shape: enumerable members, @@toStringTag data properties, brand checks', () => {
  for (const [cls, member] of [[hearth.Event, 'type'], [hearth.EventTarget, 'addEventListener'],
    [hearth.AbortSignal, 'aborted'], [hearth.AbortController, 'abort'], [hearth.CustomEvent, 'detail']]) {
    assert.equal(Object.getOwnPropertyDescriptor(cls.prototype, member).enumerable, true, `${cls.name}.${member}`);
    const tag = Object.getOwnPropertyDescriptor(cls.prototype, Symbol.toStringTag);
    assert.deepEqual(tag, { value: cls.name, writable: false, enumerable: false, configurable: true });
  }
  for (const name of ['abort', 'timeout', 'any']) {
    assert.equal(Object.getOwnPropertyDescriptor(hearth.AbortSignal, name).enumerable, true);
  }
  const get = (cls, k) => Object.getOwnPropertyDescriptor(cls.prototype, k).get;
  assert.throws(() => get(hearth.Event, 'type').call({}), TypeError);
  assert.throws(() => get(hearth.AbortSignal, 'aborted').call(new hearth.EventTarget()), TypeError);
  assert.throws(() => hearth.EventTarget.prototype.addEventListener.call({}, 'x', () => {}), TypeError);
});
