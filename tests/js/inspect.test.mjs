// Differential tests for src/runtime/inspect.js: inspect(v) must equal Node's
// util.inspect(v) and formatLogArgs(args) must equal util.format(...args) over a corpus of
// values, options and argument lists. What plain JavaScript cannot observe (promise
// state, proxy targets, Map/Set iterator contents) is tested with explicit strings, with
// fake native hooks standing in for the runtime's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  inspect,
  formatLogArgs,
  setPromiseStateInspector,
  setProxyInspector,
  setNonIndexKeysInspector,
} from '../../src/runtime/inspect.js';

const custom = Symbol.for('nodejs.util.inspect.custom');

// ---- the corpus -------------------------------------------------------------------------------

class Foo {
  constructor() {
    this.a = 1;
    this.b = 'two';
  }
}
class Empty {}
class Tagged {
  get [Symbol.toStringTag]() {
    return 'TagName';
  }
}
class Base {}
class Derived extends Base {
  x = [1, 2];
}
class MyArray extends Array {}
class MyMap extends Map {}
class MySet extends Set {}
class MyError extends Error {}
class MyDate extends Date {}
class MyRegExp extends RegExp {}
class WithProtoProp {
  constructor() {
    this.own = 1;
  }
}
WithProtoProp.prototype.inherited = 'p';
class WithStatic {
  static s = 1;
}
class NullBase extends null {}

function makeCircular() {
  const o = { name: 'root' };
  o.self = o;
  return o;
}
function makeDoubleCircular() {
  const a = { id: 'a' };
  const b = { id: 'b', a };
  a.b = b;
  a.me = a;
  b.me = b;
  return [a, b];
}
function makeSparse() {
  const a = [];
  a[3] = 'x';
  a[10] = 'y';
  return a;
}
function makeErrorWithProps() {
  const e = new Error('with props');
  e.code = 'E_CODE';
  e.status = 500;
  return e;
}
function makeErrorNoStack() {
  const e = new TypeError('no stack here');
  e.stack = undefined;
  return e;
}
function makeErrorCustomStack() {
  const e = new Error('msg');
  e.stack = 'totally custom';
  return e;
}
function makeRenamedError() {
  const e = new TypeError('renamed');
  e.name = 'CustomName';
  return e;
}
function makeNullProtoError() {
  const e = new RangeError('np');
  Object.setPrototypeOf(e, null);
  return e;
}
function makeCauseChain() {
  const root = new Error('root cause');
  const mid = new Error('middle', { cause: root });
  return new Error('top', { cause: mid });
}
function detachedBuffer() {
  const ab = new ArrayBuffer(8);
  structuredClone(ab, { transfer: [ab] });
  return ab;
}
function argumentsObject() {
  return (function () {
    return arguments;
  })(1, 'two');
}
function fnWithProps() {
  function withProps() {}
  withProps.extra = 42;
  return withProps;
}
function boundFn() {
  function original() {}
  return original.bind(null);
}
function nullProtoFn() {
  const f = function np() {};
  Object.setPrototypeOf(f, null);
  return f;
}

const longString = 'lorem ipsum dolor sit amet '.repeat(4);
const multiLine = 'first line of text\nsecond line of text\nthird line that is quite a bit longer than the others\n';

const values = [
  // primitives
  ['zero', () => 0],
  ['negative zero', () => -0],
  ['float', () => 1.5],
  ['negative', () => -42],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['exponent', () => 1e21],
  ['small exponent', () => 1e-7],
  ['max safe', () => Number.MAX_SAFE_INTEGER],
  ['bigint', () => 1n],
  ['negative bigint', () => -12345678901234567890n],
  ['true', () => true],
  ['false', () => false],
  ['undefined', () => undefined],
  ['null', () => null],
  ['symbol empty', () => Symbol()],
  ['symbol desc', () => Symbol('desc')],
  ['symbol well-known', () => Symbol.iterator],
  ['symbol registered', () => Symbol.for('reg')],
  ['symbol with quote', () => Symbol("it's")],
  ['empty string', () => ''],
  ['string', () => 'abc'],
  ['single quote', () => "it's"],
  ['double quote', () => 'say "hi"'],
  ['both quotes', () => `it's "x"`],
  ['all quotes', () => 'a \' b " c `'],
  ['quotes and template', () => "it's \"q\" ${x}"],
  ['controls', () => 'tab\tnew\nline\rcr\b\f\v'],
  ['C0 C1 DEL', () => '\x00\x01\x1f\x7f\x80\x9f\xa0'],
  ['backslash', () => 'back\\slash'],
  ['unicode', () => 'é ü 😀 中文'],
  ['lone high surrogate', () => '\ud800'],
  ['lone low surrogate', () => 'a\udc00b'],
  ['pair and lone', () => '😀\ud83d'],
  ['long string', () => longString],
  ['long multiline', () => multiLine],
  ['long multiline no trailing nl', () => multiLine.trim()],
  ['huge string', () => 'a'.repeat(10005)],
  ['huge string by one', () => 'b'.repeat(10001)],
  ['long string with quotes', () => `${"it's ".repeat(30)}\n${'x'.repeat(120)}`],
  ['escaping long string', () => '\x01'.repeat(150) + "'"],

  // arrays
  ['empty array', () => []],
  ['array', () => [1, 2, 3]],
  ['nested arrays', () => [[1, [2, [3, [4, [5]]]]]]],
  ['string array', () => ['a', 'b', 'c']],
  ['one hole', () => [, 1]],
  ['holes', () => [1, , , , 5]],
  ['trailing hole', () => [1, ,]],
  ['only holes', () => new Array(5)],
  ['sparse', makeSparse],
  ['sparse huge', () => {
    const a = [];
    a[200] = 1;
    return a;
  }],
  ['array extra prop', () => Object.assign([1, 2], { extra: 'x' })],
  ['array symbol prop', () => Object.assign([1], { [Symbol('s')]: 2 })],
  ['empty array with prop', () => Object.assign([], { k: 1 })],
  ['array 101', () => Array.from({ length: 101 }, (_, i) => i)],
  ['array 26 numbers', () => Array.from({ length: 26 }, (_, i) => i * 37)],
  ['array negative numbers', () => [-1, 20, -300, 4000, -5, 60, -7, 800, 9]],
  ['array of short strings', () => ['a', 'bb', 'ccc', 'dddd', 'e', 'ff', 'ggg', 'h']],
  ['array of words', () => 'the quick brown fox jumps over the lazy dog again and again'.split(' ')],
  ['array 200 strings', () => Array.from({ length: 200 }, (_, i) => `s${i}`)],
  ['array mixed lengths', () => [1, 'a very long string entry that dominates', 2, 3, 4, 5, 6, 7]],
  ['array of objects', () => [{ a: 1 }, { b: 2 }, { c: { d: { e: 1 } } }]],
  ['array of booleans', () => [true, false, true, true, false, false, true, false]],
  ['array with undefined null', () => [undefined, null, NaN, -0, 0n]],
  ['array of bigints', () => [1n, 22n, 333n, 4444n, 55555n, 666666n, 7777777n]],
  ['array subclass', () => MyArray.from([1, 2])],
  ['empty array subclass', () => new MyArray()],
  ['array with tag', () => Object.assign([1], { [Symbol.toStringTag]: 'T' })],
  ['array circular', () => {
    const a = [1];
    a.push(a);
    return a;
  }],
  ['array of arrays grid', () => Array.from({ length: 8 }, (_, i) => [i, i * 2])],
  ['array with emoji strings', () => ['😀', '😀😀', 'ab', '中文', 'x', 'yy', 'zzz']],

  // typed arrays and buffers
  ['Uint8Array empty', () => new Uint8Array(0)],
  ['Uint8Array 30', () => new Uint8Array(30)],
  ['Uint8Array values', () => Uint8Array.from([1, 2, 255])],
  ['Uint8Array 200', () => new Uint8Array(200).map((_, i) => i)],
  ['Int16Array', () => Int16Array.from([-1, 300, -32768])],
  ['Float64Array', () => Float64Array.from([1.5, -0, NaN, Infinity])],
  ['Float32Array', () => Float32Array.from({ length: 10 }, (_, i) => i / 3)],
  ['BigInt64Array', () => BigInt64Array.from([1n, -2n])],
  ['BigUint64Array many', () => BigUint64Array.from({ length: 12 }, (_, i) => BigInt(i) ** 5n)],
  ['Uint8ClampedArray', () => Uint8ClampedArray.from([300, -5])],
  ['typed array extra prop', () => Object.assign(new Uint8Array(2), { tag: 'x' })],
  ['null proto typed array', () => Object.setPrototypeOf(Uint8Array.from([1, 2, 3]), null)],
  ['ArrayBuffer empty', () => new ArrayBuffer(0)],
  ['ArrayBuffer 2', () => new ArrayBuffer(2)],
  ['ArrayBuffer bytes', () => Uint8Array.from([0, 1, 15, 16, 255]).buffer],
  ['ArrayBuffer 150', () => new Uint8Array(150).fill(171).buffer],
  ['ArrayBuffer with prop', () => Object.assign(new ArrayBuffer(1), { p: 1 })],
  ['detached ArrayBuffer', detachedBuffer],
  ['SharedArrayBuffer', () => new SharedArrayBuffer(3)],
  ['DataView', () => new DataView(new ArrayBuffer(4), 1, 2)],
  ['object holding buffers', () => ({ buf: new ArrayBuffer(3), view: new Uint16Array(2) })],

  // objects
  ['empty object', () => ({})],
  ['object', () => ({ a: 1, b: 'x', c: null })],
  ['quoted keys', () => ({ 'a-b': 1, 'c d': 2, 1: 3, π: 4, $x: 5, _y: 6, '': 7 })],
  ['key escapes', () => ({ "it's": 1, 'new\nline': 2, 'back\\': 3 })],
  ['__proto__ key', () => ({ ['__proto__']: 1 })],
  ['symbol keys', () => ({ [Symbol('s')]: 1, [Symbol("q'")]: 2, [Symbol.iterator]: 3 })],
  ['non-enumerable symbol', () => Object.defineProperty({ a: 1 }, Symbol('hidden'), { value: 1 })],
  ['nested 4 levels', () => ({ l1: { l2: { l3: { l4: { l5: 1 } } } } })],
  ['nested arrays in objects', () => ({ a: [1, 2, [3, [4]]], b: { c: [] } })],
  ['many keys', () => Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`key${i}`, i]))],
  ['long values', () => ({ text: longString, other: 'short' })],
  ['long multiline value', () => ({ text: multiLine })],
  ['getter', () => ({ get g() {
    return 1;
  } })],
  ['setter', () => ({ set s(v) {} })],
  ['getter setter', () => ({ get gs() {
    return 1;
  }, set gs(v) {} })],
  ['undefined value', () => ({ u: undefined })],
  ['function values', () => ({ m() {}, arrow: () => {}, async am() {}, *gm() {}, async *agm() {} })],
  ['class value', () => ({ Foo, Empty })],
  ['null prototype', () => Object.create(null)],
  ['null prototype with keys', () => Object.assign(Object.create(null), { a: 1, b: [] })],
  ['inherited props hidden', () => Object.create({ inherited: 1 })],
  ['proto chain without constructor', () => Object.create(Object.create(null))],
  ['class instance', () => new Foo()],
  ['empty class instance', () => new Empty()],
  ['anonymous class instance', () => new (class {})()],
  ['tagged instance', () => new Tagged()],
  ['derived instance', () => new Derived()],
  ['own enumerable tag', () => ({ [Symbol.toStringTag]: 'Own', a: 1 })],
  ['object with tag', () => Object.defineProperty({ a: 1 }, Symbol.toStringTag, { value: 'Hidden' })],
  ['constructor prop overridden', () => ({ constructor: 'x' })],
  ['Math', () => Math],
  ['JSON', () => JSON],
  ['Atomics', () => Atomics],
  ['circular', makeCircular],
  ['double circular', makeDoubleCircular],
  ['nested circular', () => {
    const o = makeCircular();
    return { wrapper: { inner: o } };
  }],
  ['circular in map', () => {
    const m = new Map();
    m.set('me', m);
    return m;
  }],
  ['same object twice (not circular)', () => {
    const shared = { s: 1 };
    return { a: shared, b: shared };
  }],
  ['deep wide object', () => ({
    alpha: { beta: { gamma: [1, 2, 3], delta: 'text' }, epsilon: [{ x: 1 }, { y: 2 }] },
    zeta: Array.from({ length: 10 }, (_, i) => ({ i })),
  })],
  ['object with arrays that group', () => ({ data: Array.from({ length: 30 }, (_, i) => i * i) })],
  ['prototype object itself', () => Foo.prototype],
  ['Object.prototype', () => Object.prototype],
  ['generator object', () => (function* () {})()],
  ['async generator object', () => (async function* () {})()],
  ['arguments', argumentsObject],
  ['globalThis-free objects', () => ({ date: new Date(0), re: /x/, err: null })],

  // Map / Set / weak
  ['empty map', () => new Map()],
  ['map', () => new Map([['a', 1], ['b', { c: 2 }]])],
  ['map object keys', () => new Map([[{ k: 1 }, [1]], [NaN, null]])],
  ['map 101', () => new Map(Array.from({ length: 101 }, (_, i) => [i, i]))],
  ['map with prop', () => Object.assign(new Map([[1, 2]]), { extra: true })],
  ['map subclass', () => new MyMap([[1, 2]])],
  ['empty set', () => new Set()],
  ['set', () => new Set([1, 'two', [3]])],
  ['set of many', () => new Set(Array.from({ length: 30 }, (_, i) => i))],
  ['set subclass', () => new MySet(['x'])],
  ['nested map in object', () => ({ m: new Map([['k', new Set([1])]]) })],
  ['WeakMap', () => new WeakMap()],
  ['WeakSet', () => new WeakSet()],
  ['object holding a WeakMap', () => ({ w: new WeakMap([[{}, 1]]) })],

  // functions and classes
  ['function', () => function f() {}],
  ['anonymous function', () => function () {}],
  ['arrow', () => () => {}],
  ['named arrow', () => {
    const named = () => {};
    return named;
  }],
  ['async function', () => async function af() {}],
  ['generator function', () => function* gen() {}],
  ['async generator function', () => async function* ag() {}],
  ['class', () => Foo],
  ['derived class', () => Derived],
  ['anonymous class', () => class {}],
  ['class extends null', () => NullBase],
  ['class with static', () => WithStatic],
  ['bound function', boundFn],
  ['function with props', fnWithProps],
  ['null proto function', nullProtoFn],
  ['builtin function', () => Math.max],
  ['builtin class', () => Map],
  ['Function.prototype', () => Function.prototype],

  // dates, regexps
  ['date', () => new Date(0)],
  ['date recent', () => new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 123))],
  ['invalid date', () => new Date(NaN)],
  ['date with prop', () => Object.assign(new Date(0), { p: 1 })],
  ['date subclass', () => new MyDate(0)],
  ['regexp', () => /a[b-c]+/gi],
  ['regexp slash', () => /\//],
  ['regexp from string', () => new RegExp('a\nb', 'u')],
  ['regexp with prop', () => Object.assign(/x/, { p: 1 })],
  ['regexp subclass', () => new MyRegExp('q')],

  // errors
  ['error', () => new Error('boom')],
  ['type error', () => new TypeError('bad type')],
  ['error with props', makeErrorWithProps],
  ['error no stack', makeErrorNoStack],
  ['error custom stack', makeErrorCustomStack],
  ['error renamed', makeRenamedError],
  ['error null proto', makeNullProtoError],
  ['error subclass', () => new MyError('mine')],
  ['error with cause', () => new Error('outer', { cause: new Error('inner') })],
  ['error with primitive cause', () => new Error('outer', { cause: 'because' })],
  ['error cause chain', makeCauseChain],
  ['aggregate error', () => new AggregateError([new Error('a'), 'b'], 'many')],
  ['error multiline message', () => new Error('line1\nline2')],
  ['error empty message', () => new Error('')],
  ['error in object', () => ({ err: new RangeError('nested') })],
  ['error in array', () => [new Error('in array')]],
  ['error from Object.create', () => Object.create(Error.prototype)],
  ['error enumerable name', () => Object.assign(new Error('x'), { name: 'Error' })],

  // boxed primitives
  ['boxed number', () => new Number(3)],
  ['boxed -0', () => new Number(-0)],
  ['boxed string', () => new String('ab')],
  ['boxed string with prop', () => Object.assign(new String('ab'), { p: 1 })],
  ['boxed boolean', () => new Boolean(false)],
  ['boxed bigint', () => Object(5n)],
  ['boxed symbol', () => Object(Symbol('boxed'))],

  // unusual prototypes and shapes
  ['object from Array.prototype', () => Object.create(Array.prototype)],
  ['iterable class instance', () => new (class Coll {
    constructor() {
      this.items = [1];
    }
    *[Symbol.iterator]() {}
  })()],
  ['null proto map', () => Object.setPrototypeOf(new Map([[1, 2]]), null)],
  ['null proto set', () => Object.setPrototypeOf(new Set(['a']), null)],
  ['null proto array', () => Object.setPrototypeOf([1, 2], null)],
  ['null proto date', () => Object.setPrototypeOf(new Date(0), null)],
  ['null proto regexp', () => Object.setPrototypeOf(/np/g, null)],
  ['null proto boxed number', () => Object.setPrototypeOf(new Number(7), null)],
  ['null proto boxed symbol', () => Object.setPrototypeOf(Object(Symbol('q')), null)],
  ['null proto weakmap', () => Object.setPrototypeOf(new WeakMap(), null)],
  ['null proto arraybuffer', () => Object.setPrototypeOf(new ArrayBuffer(2), null)],
  ['null proto dataview', () => Object.setPrototypeOf(new DataView(new ArrayBuffer(1)), null)],
  ['null proto with tag', () => Object.assign(Object.create(null), { [Symbol.toStringTag]: 'Tg' })],
  ['null proto non-enumerable tag', () => Object.defineProperty(Object.create(null), Symbol.toStringTag, { value: 'Tg2' })],
  ['non-string tag', () => ({ get [Symbol.toStringTag]() {
    return 42;
  }, a: 1 })],
  ['empty tag class', () => new (class E2 {
    get [Symbol.toStringTag]() {
      return '';
    }
  })()],
  ['map subclass with tag', () => new (class TaggedMap extends Map {
    get [Symbol.toStringTag]() {
      return 'TM';
    }
  })([[1, 1]])],
  ['number subclass', () => new (class N extends Number {})(4)],
  ['getter array element', () => Object.defineProperty([], 0, { get() {
    return 1;
  }, enumerable: true })],
  ['numeric-like keys', () => ({ 1: 'a', '01': 'b', '-1': 'c', 1.5: 'd', 4294967295: 'e' })],
  ['array with large index key', () => Object.assign([1], { 4294967295: 'not an index' })],
  ['array holes and extras limited', () => Object.assign([1, , 3], { x: 1 })],
  ['generator prototype', () => (function* () {}).prototype],
  ['error subclass with name field', () => new (class ValidationError extends Error {
    name = 'ValidationError';
  })('invalid')],
  ['error with enumerable message', () => Object.assign(new Error('m'), { message: 'm2' })],
  ['deep indentation strings', () => ({ a: { b: { c: [longString, multiLine] } } })],
  ['string escapes over 100 chars', () => `${'é\x00'.repeat(30)}'"\``],
  ['boxed long string', () => new String('x'.repeat(150))],
  ['frozen object', () => Object.freeze({ a: [1] })],
  ['object with 7 short arrays', () => ({ a: [1, 2, 3, 4, 5, 6, 7], b: ['x', 'y', 'z', 'w', 'v', 'u', 't'] })],
  ['array of 7 objects', () => Array.from({ length: 7 }, (_, i) => ({ i }))],
  ['array of long strings', () => Array.from({ length: 8 }, (_, i) => `entry number ${i} `.repeat(2))],
  ['wide map', () => new Map(Array.from({ length: 12 }, (_, i) => [`key${i}`, { value: i }]))],

  // custom inspect
  ['custom string', () => ({ [custom]: () => 'CUSTOM' })],
  ['custom object', () => ({ [custom]: () => ({ replaced: true }) })],
  ['custom returns this', () => {
    const o = { a: 1 };
    o[custom] = function () {
      return this;
    };
    return o;
  }],
  ['custom uses depth and inspect', () => ({
    [custom](depth, options, insp) {
      return `depth=${depth} ${insp({ nested: [1] }, options)} ${typeof options.stylize}`;
    },
  })],
  ['custom nested multiline', () => ({ inner: { [custom]: () => 'line1\nline2' } })],
  ['custom on prototype', () => {
    class C {
      [custom]() {
        return 'C instance';
      }
    }
    return [new C(), C.prototype];
  }],
  ['custom null proto', () => {
    const o = Object.create(null);
    o[custom] = (depth, options) => `${typeof options.stylize} ${Object.getPrototypeOf(options)}`;
    return o;
  }],
  ['custom stylize', () => ({ [custom]: (d, o) => o.stylize('styled', 'special') })],
];

const optionCases = [
  ['depth 0', () => ({ a: { b: 1 }, c: [1] }), { depth: 0 }],
  ['depth null', () => ({ l1: { l2: { l3: { l4: { l5: {} } } } } }), { depth: null }],
  ['depth Infinity', () => [[[[[['deep']]]]]], { depth: Infinity }],
  ['depth -1', () => ({ a: 1 }), { depth: -1 }],
  ['depth 0 nested class', () => ({ f: new Foo(), m: new Map([[1, 2]]), a: [1], s: new Set(), n: Object.create(null) }), { depth: 0 }],
  ['compact false', () => ({ a: 1, b: [1, 2], c: { d: 'x' } }), { compact: false }],
  ['compact true', () => ({ a: 1, b: [1, 2], c: { d: 'x' } }), { compact: true }],
  ['compact true long', () => ({ text: longString, arr: Array.from({ length: 40 }, (_, i) => i) }), { compact: true }],
  ['compact true circular', makeCircular, { compact: true }],
  ['compact 1', () => ({ a: { b: { c: 1 } } }), { compact: 1 }],
  ['breakLength Infinity', () => ({ many: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])) }), { breakLength: Infinity }],
  ['breakLength 40', () => ({ a: 'some text', b: 'more text', c: [1, 2, 3] }), { breakLength: 40 }],
  ['breakLength Infinity long string', () => multiLine, { breakLength: Infinity }],
  ['maxArrayLength 2', () => [1, 2, 3, 4], { maxArrayLength: 2 }],
  ['maxArrayLength 0', () => ({ a: [1, 2], s: new Set([1]), m: new Map([[1, 1]]), t: new Uint8Array(3) }), { maxArrayLength: 0 }],
  ['maxArrayLength null', () => Array.from({ length: 120 }, () => 0), { maxArrayLength: null }],
  ['maxArrayLength sparse', () => [1, , 3, , 5], { maxArrayLength: 2 }],
  ['maxArrayLength buffer', () => new ArrayBuffer(10), { maxArrayLength: 3 }],
  ['maxStringLength 5', () => ['abcdefgh', 'ab'], { maxStringLength: 5 }],
  ['sorted', () => ({ c: 1, a: 2, b: 3 }), { sorted: true }],
  ['sorted comparator', () => ({ c: 1, a: 2, b: 3 }), { sorted: (x, y) => (x < y ? 1 : -1) }],
  ['sorted array extras', () => Object.assign([3, 1], { z: 1, y: 2 }), { sorted: true }],
  ['getters true', () => ({ get a() {
    return { x: 1 };
  }, get b() {
    return null;
  }, get c() {
    return 'str';
  } }), { getters: true }],
  ['getters throwing', () => ({ get bad() {
    throw new Error('nope');
  } }), { getters: true }],
  ['getters get only', () => ({ get a() {
    return 1;
  }, get b() {
    return 2;
  }, set b(v) {} }), { getters: 'get' }],
  ['getters set only', () => ({ get a() {
    return 1;
  }, get b() {
    return 2;
  }, set b(v) {} }), { getters: 'set' }],
  ['showHidden object', () => Object.defineProperty({ a: 1 }, 'hidden', { value: 2 }), { showHidden: true }],
  ['showHidden array', () => [1, 2], { showHidden: true }],
  ['showHidden typed array', () => Uint8Array.from([1, 2]), { showHidden: true }],
  ['showHidden class proto props', () => new WithProtoProp(), { showHidden: true }],
  ['showHidden error', () => new Error('hidden'), { showHidden: true }],
  ['showHidden function', () => function shown() {}, { showHidden: true }],
  ['showHidden map', () => new Map([[1, 2]]), { showHidden: true }],
  ['numericSeparator', () => [1234567, 1234.5678, -1000, 10n ** 10n, 0.0001, 123, 1e21], { numericSeparator: true }],
  ['colors', () => ({ n: 1, s: 'x', b: true, u: undefined, z: null, sym: Symbol('s'), d: new Date(0), r: /x/, f() {}, big: 1n }), { colors: true }],
  ['colors array grouping', () => Array.from({ length: 30 }, (_, i) => i), { colors: true }],
  ['colors circular', makeCircular, { colors: true }],
  ['customInspect false', () => ({ [custom]: () => 'hidden' }), { customInspect: false }],
  ['user option passthrough', () => ({ [custom]: (d, o) => `flag=${o.myFlag}` }), { myFlag: 'yes' }],
  ['legacy boolean showHidden', () => [1], true],
];

const formatCases = [
  [],
  ['plain'],
  ['a', 'b'],
  ['%s', 'x'],
  ['%s', 1],
  ['%s', -0],
  ['%s', 1n],
  ['%s', { a: 1 }],
  ['%s', { a: { b: { c: 1 } } }],
  ['%s', [1, [2, [3]]]],
  ['%s', new Foo()],
  ['%s', { toString() {
    return 'custom toString';
  } }],
  ['%s', new (class Stringy {
    toString() {
      return 'from class';
    }
  })()],
  ['%s', { [Symbol.toPrimitive]() {
    return 'prim';
  } }],
  ['%s', Symbol('s')],
  ['%s', null],
  ['%s', undefined],
  ['%s', new Error('err in %s')],
  ['%s', () => {}],
  ['%s', new Date(0)],
  ['%s', Object.create(null)],
  ['%s', new Map([[1, 2]])],
  ['%d', '42'],
  ['%d', 1.5],
  ['%d', -0],
  ['%d', 10n],
  ['%d', Symbol()],
  ['%d', {}],
  ['%d', '0x10'],
  ['%i', '42.9'],
  ['%i', 10n],
  ['%i', Symbol()],
  ['%i', 'abc'],
  ['%f', '1.5e3'],
  ['%f', Symbol()],
  ['%f', 'x'],
  ['%j', { a: [1, 'x'] }],
  ['%j', makeCircular()],
  ['%j', undefined],
  ['%j', 'str'],
  ['%o', { a: [1] }],
  ['%o', function namedForO() {}],
  ['%o', [1, 2, { a: 1 }]],
  ['%O', { a: { b: { c: { d: {} } } } }],
  ['%O', 'string'],
  ['%c', 'color: red'],
  ['%cstyled%c', 'color: red', ''],
  ['%%'],
  ['%%', 'x'],
  ['%% %s', 'x'],
  ['100%', 'x'],
  ['%s %s', 'only one'],
  ['%x %s', 1],
  ['%s', 'a', 'extra', { b: 2 }],
  [1, 'str', { a: 1 }],
  [{ a: 1 }, '%s', 'x'],
  ['%'],
  ['a%'],
  ['%s:%s', 'a', 'b', 'c'],
  ['%%s', 'x'],
  ['%s', '%s', 'x'],
  ['%d %i %f', '1', '2', '3'],
  ['%s%', 'x'],
  ['trailing %s', 'x', 'y'],
  [Symbol('first')],
  [null, undefined],
  ['multi\nline', { a: 1 }],
  ['%s', longString],
  ['%o', makeCircular()],
  [new Error('logged error')],
  ['%s', 'x', new Error('after')],
  [[1, 2, 3], new Map([['a', 1]])],
];

// ---- tests ---------------------------------------------------------------------------------------

test('corpus size', () => {
  assert.ok(values.length + optionCases.length >= 150, `${values.length + optionCases.length} values`);
  assert.ok(values.length >= 150, `${values.length} values`);
  assert.ok(formatCases.length >= 50, `${formatCases.length} format cases`);
});

test('inspect(value) matches util.inspect(value)', () => {
  for (const [label, make] of values) {
    // Fresh values per side so stateful cases cannot interfere.
    const v = make();
    assert.equal(inspect(v), util.inspect(v), label);
  }
});

test('inspect(value, options) matches util.inspect(value, options)', () => {
  for (const [label, make, options] of optionCases) {
    const v = make();
    assert.equal(inspect(v, options), util.inspect(v, options), label);
  }
  // Legacy positional arguments: (value, showHidden, depth, colors).
  const deep = { a: { b: { c: { d: 1 } } } };
  assert.equal(inspect(deep, false, 0), util.inspect(deep, false, 0));
  assert.equal(inspect(deep, false, null, true), util.inspect(deep, false, null, true));
});

test('values nested inside containers match too', () => {
  // Re-run the corpus one and two levels deep, so indentation, depth limits and line
  // breaking are exercised for every kind of value.
  for (const [label, make] of values) {
    const inObject = { key: make(), sibling: 'value' };
    assert.equal(inspect(inObject), util.inspect(inObject), `{ ${label} }`);
    const inArray = [[make()], 1];
    assert.equal(inspect(inArray), util.inspect(inArray), `[[ ${label} ]]`);
    const inMap = new Map([['k', { deep: make() }]]);
    assert.equal(inspect(inMap), util.inspect(inMap), `Map ${label}`);
  }
});

test('formatLogArgs(args) matches util.format(...args)', () => {
  for (const args of formatCases) {
    assert.equal(formatLogArgs(args), util.format(...args), util.inspect(args));
  }
  // %j of a BigInt throws in both.
  assert.throws(() => formatLogArgs(['%j', 1n]), TypeError);
  assert.throws(() => util.format('%j', 1n), TypeError);
  // Options are applied to inspected arguments.
  assert.equal(formatLogArgs([{ a: { b: {} } }], { depth: 0 }), util.formatWithOptions({ depth: 0 }, { a: { b: {} } }));
  assert.equal(formatLogArgs(['%d', 1234567], { numericSeparator: true }), util.formatWithOptions({ numericSeparator: true }, '%d', 1234567));
});

test('module namespace objects', async () => {
  const ns = await import('data:text/javascript,export const a = 1; export function b() {}; export default { d: 2 };');
  assert.equal(inspect(ns), util.inspect(ns));
  assert.equal(inspect({ ns }), util.inspect({ ns }));
});

test('inspect.custom is the shared symbol', () => {
  assert.equal(inspect.custom, Symbol.for('nodejs.util.inspect.custom'));
  // Objects whose custom method is our inspect itself are not recursed into.
  const o = { [custom]: inspect, a: 1 };
  assert.match(inspect(o), /^\{\s+a: 1,\s+\[Symbol\(nodejs\.util\.inspect\.custom\)\]: \[Function: inspect\]/);
});

// The test runner's async hooks tag promises with symbol properties; drop them so the
// explicit expectations stay readable.
function untagged(p) {
  for (const s of Object.getOwnPropertySymbols(p)) delete p[s];
  return p;
}

test('promises via the state hook', () => {
  const fulfilled = untagged(Promise.resolve(1));
  const rejected = untagged(Promise.reject(new Error('nope')));
  rejected.catch(() => {});
  const pending = untagged(new Promise(() => {}));
  const nested = untagged(Promise.resolve({ a: [1, { b: 2 }] }));
  // Without a hook every promise shows as pending.
  setPromiseStateInspector(undefined);
  assert.equal(inspect(fulfilled), 'Promise { <pending> }');
  assert.equal(inspect({ p: fulfilled }), '{ p: Promise { <pending> } }');
  assert.equal(inspect(Object.assign(untagged(Promise.resolve()), { extra: 1 })), 'Promise { <pending>, extra: 1 }');
  // The hook stands in for the native op; Node itself sees real state, so compare.
  const states = new Map([
    [fulfilled, { state: 'fulfilled', value: 1 }],
    [rejected, { state: 'rejected', value: null }],
    [pending, { state: 'pending' }],
    [nested, { state: 'fulfilled', value: { a: [1, { b: 2 }] } }],
  ]);
  let rejectedReason;
  rejected.catch((e) => {
    rejectedReason = e;
  });
  return Promise.resolve().then(() => {
    states.get(rejected).value = rejectedReason;
    setPromiseStateInspector((v) => states.get(v));
    try {
      for (const p of [fulfilled, rejected, pending, nested]) {
        assert.equal(inspect(p), util.inspect(p));
        assert.equal(inspect({ wrapped: p }), util.inspect({ wrapped: p }));
      }
      assert.equal(inspect(fulfilled), 'Promise { 1 }');
      assert.equal(inspect(pending), 'Promise { <pending> }');
      assert.match(inspect(rejected), /^Promise \{\n  <rejected> Error: nope\n {6}at /);
      // Subclasses and null-prototype promises are found through the hook.
      class MyPromise extends Promise {}
      const sub = untagged(MyPromise.resolve('s'));
      states.set(sub, { state: 'fulfilled', value: 's' });
      assert.equal(inspect(sub), "MyPromise [Promise] { 's' }");
      // Non-promises answer undefined and are inspected normally.
      assert.equal(inspect({ then() {} }), '{ then: [Function: then] }');
    } finally {
      setPromiseStateInspector(undefined);
    }
  });
});

test('proxies via the proxy hook', () => {
  const proxies = new Map();
  const makeProxy = (target, handler) => {
    const p = new Proxy(target, handler);
    proxies.set(p, { target, handler });
    return p;
  };
  const trapping = {
    get(t, k) {
      return k === 'a' ? 'from trap' : t[k];
    },
    ownKeys() {
      return ['a', 'b'];
    },
    getOwnPropertyDescriptor(t, k) {
      return { value: `desc ${String(k)}`, enumerable: true, configurable: true };
    },
  };
  const target = { a: 1, b: 2 };
  const p = makeProxy(target, trapping);
  const arrProxy = makeProxy([1, 2], {});
  const fnProxy = makeProxy(function target() {}, {});
  const { proxy: revocable, revoke } = Proxy.revocable({}, {});
  proxies.set(revocable, { target: null, handler: null });
  revoke();
  // Without a hook, proxies are inspected through their traps.
  setProxyInspector(undefined);
  assert.equal(inspect(p), "{ a: 'desc a', b: 'desc b' }");
  assert.equal(inspect(arrProxy), '[ 1, 2 ]');
  setProxyInspector((v) => proxies.get(v));
  try {
    for (const v of [p, arrProxy, fnProxy, { nested: p }]) {
      assert.equal(inspect(v), util.inspect(v));
      assert.equal(inspect(v, { showProxy: true }), util.inspect(v, { showProxy: true }));
    }
    assert.equal(inspect(p), '{ a: 1, b: 2 }');
    assert.equal(inspect(revocable), '<Revoked Proxy>');
    assert.equal(util.inspect(revocable), '<Revoked Proxy>');
    assert.equal(inspect(p, { showProxy: true, depth: -1 }), util.inspect(p, { showProxy: true, depth: -1 }));
    assert.equal(formatLogArgs(['%o', p]), util.format('%o', p));
    assert.equal(formatLogArgs(['%s', p]), util.format('%s', p));
  } finally {
    setProxyInspector(undefined);
  }
});

test('Map and Set iterators (contents cannot be previewed without consuming them)', () => {
  const map = new Map([['a', 1]]);
  const set = new Set([1]);
  assert.equal(inspect(map.entries()), '[Map Iterator] { <items unknown> }');
  assert.equal(inspect(map.keys()), '[Map Iterator] { <items unknown> }');
  assert.equal(inspect(set.values()), '[Set Iterator] { <items unknown> }');
  const it = map.entries();
  inspect(it);
  assert.deepEqual(it.next().value, ['a', 1], 'inspecting did not consume the iterator');
});

test('SpiderMonkey-style stacks are shown V8-style', () => {
  const e = new TypeError('sm error');
  e.stack = 'inner@file:///worker.js:3:9\nouter/<@file:///worker.js:10:1\n@file:///worker.js:12:5\n';
  assert.equal(
    inspect(e),
    'TypeError: sm error\n' +
      '    at inner (file:///worker.js:3:9)\n' +
      '    at outer/< (file:///worker.js:10:1)\n' +
      '    at file:///worker.js:12:5',
  );
  assert.equal(
    inspect({ e }),
    '{\n  e: TypeError: sm error\n      at inner (file:///worker.js:3:9)\n' +
      '      at outer/< (file:///worker.js:10:1)\n      at file:///worker.js:12:5\n}',
  );
  const empty = new Error('no frames');
  empty.stack = '';
  assert.equal(inspect(empty), '[Error: no frames]');
  const withCode = new RangeError('coded');
  withCode.stack = 'f@a.js:1:1\n';
  withCode.code = 'E1';
  assert.equal(inspect(withCode), "RangeError: coded\n    at f (a.js:1:1) {\n  code: 'E1'\n}");
});

test('inspection never runs user code it does not have to', () => {
  let touched = false;
  const sneaky = new Map([[1, 2]]);
  sneaky[Symbol.iterator] = () => {
    touched = true;
    return [][Symbol.iterator]();
  };
  // (Node runs the overridden iterator here and prints what it yields.)
  assert.equal(inspect(sneaky), 'Map(1) { 1 => 2, [Symbol(Symbol.iterator)]: [Function (anonymous)] }');
  assert.equal(touched, false);
  // Deep recursion is reported instead of crashing.
  let deep = {};
  for (let i = 0; i < 20000; i++) deep = { next: deep };
  assert.match(inspect(deep, { depth: Infinity }), /Maximum call stack size exceeded|next/);
});

test('native non-index keys hook is used for arrays and typed arrays', () => {
  const calls = [];
  setNonIndexKeysInspector((obj, includeNonEnumerable) => {
    calls.push(includeNonEnumerable);
    return Reflect.ownKeys(obj).filter(
      (k) =>
        !(typeof k === 'string' && /^(?:0|[1-9]\d*)$/.test(k) && +k < 4294967295) &&
        (includeNonEnumerable || Object.prototype.propertyIsEnumerable.call(obj, k)),
    );
  });
  try {
    for (const v of [
      Object.assign([1, 2], { extra: 1, [Symbol('s')]: 2 }),
      Object.assign(new Uint8Array(3), { tag: 'x' }),
      Object.assign([], { 4294967295: 'big' }),
    ]) {
      assert.equal(inspect(v), util.inspect(v));
      assert.equal(inspect(v, { showHidden: true }), util.inspect(v, { showHidden: true }));
    }
    assert.deepEqual(calls, [false, true, false, true, false, true]);
  } finally {
    setNonIndexKeysInspector(undefined);
  }
});

// ---- the same formatter under SpiderMonkey 102 ------------------------------------------------

// Expressions whose values are identical in V8 and SpiderMonkey; their inspection in the
// js102 shell must equal Node's util.inspect.
const crossEngineSources = [
  '({ a: 1, b: [1, 2, 3], c: { d: { e: { f: 1 } } } })',
  'new Map([["a", 1], [{ k: 1 }, [2]]])',
  'new Set([1, "two", [3]])',
  'new Uint8Array(30)',
  'Array.from({ length: 120 }, (_, i) => i * 7)',
  '["a", "bb", "ccc", "dddd", "e", "ff", "ggg", "h"]',
  'new ArrayBuffer(3)',
  'new DataView(new ArrayBuffer(2), 1)',
  'new Float64Array([1.5, -0, NaN])',
  'new BigInt64Array([1n, -2n])',
  '[1, , 3, , , 6]',
  'Object.create(null)',
  'Object.assign(Object.create(null), { x: 1 })',
  '"it\'s \\"quoted\\""',
  '"\\u0000\\u001f\\u007f\\ud800 é 😀"',
  '-0',
  '10n',
  'Symbol("s")',
  '/x[a-z]+/gi',
  'new Date(0)',
  'new Date(NaN)',
  'new WeakMap()',
  'new WeakSet()',
  '(class Foo {})',
  '(class Bar extends Map {})',
  '(function named() {})',
  '(() => {})',
  '(async function af() {})',
  '(function* gen() {})',
  '(async function* ag() {})',
  '(() => { const o = { n: 1 }; o.self = o; o.arr = [o]; return o; })()',
  'new Number(3)',
  'new String("ab")',
  'new Boolean(false)',
  'Object(1n)',
  'Object(Symbol("boxed"))',
  '({ get g() { return 1; }, set s(v) {}, get gs() { return 1; }, set gs(v) {} })',
  '({ "a-b": 1, [Symbol("k")]: 2, __proto__: { inherited: 1 }, 1: "one" })',
  '(function () { return arguments; })(1, "x")',
  '(function* () {})()',
  'Math',
  'JSON',
  '({ long: "lorem ipsum ".repeat(12), multi: "line one here\\nline two here\\nline three is here\\n" })',
  '(() => { const e = new TypeError("t"); e.stack = "TypeError: t\\n    at f (x.js:1:1)\\n    at g (x.js:2:2)"; e.code = "E"; return e; })()',
  '(() => { const e = new Error("no frames"); e.stack = "Error: no frames"; return e; })()',
  '({ [Symbol.for("nodejs.util.inspect.custom")]: (depth, opts) => `custom ${depth} ${opts.breakLength}` })',
  'new (class Foo { constructor() { this.a = [new Map([[1, new Set([2])]])]; } })()',
  'Object.assign([1, 2], { extra: true })',
  'new Array(150).fill("x")',
  'new Map(Array.from({ length: 5 }, (_, i) => [i, { i }]))',
];
const crossEngineFormatSources = [
  '["%s is %d years", "Bob", 42, { extra: true }]',
  '["%j and %o", { a: 1 }, [1]]',
  '["%i %f %%", "12.5", "1e3"]',
  '["plain", 1, "str", null, undefined, [1]]',
  '["%c%s", "color: red", { toString() { return "custom"; } }]',
];

function js102Available() {
  const r = spawnSync('js102', ['-e', 'print(1)'], { encoding: 'utf8' });
  return r.status === 0;
}

test('SpiderMonkey 102 shell produces the same output as Node', (t) => {
  if (!js102Available()) {
    console.log('SKIPPED — js102 (SpiderMonkey 102 shell, from libmozjs-102-dev) not found');
    t.skip('js102 not found');
    return;
  }
  const moduleUrl = new URL('../../src/runtime/inspect.js', import.meta.url).pathname;
  const script = [
    `import { inspect, formatLogArgs } from ${JSON.stringify(moduleUrl)};`,
    `for (const src of ${JSON.stringify(crossEngineSources)}) print(JSON.stringify(inspect((0, eval)(src))));`,
    `for (const src of ${JSON.stringify(crossEngineFormatSources)}) print(JSON.stringify(formatLogArgs((0, eval)(src))));`,
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'hearth-inspect-'));
  try {
    const file = join(dir, 'cross.mjs');
    writeFileSync(file, script);
    const r = spawnSync('js102', ['-m', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const expected = [
      ...crossEngineSources.map((src) => util.inspect((0, eval)(src))),
      ...crossEngineFormatSources.map((src) => util.format(...(0, eval)(src))),
    ];
    assert.equal(lines.length, expected.length);
    for (let i = 0; i < expected.length; i++) {
      const src = i < crossEngineSources.length ? crossEngineSources[i] : crossEngineFormatSources[i - crossEngineSources.length];
      assert.equal(lines[i], expected[i], src);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
