// Value formatting for console.*, compatible with Node's util.inspect / util.format.
//
// Workers code is written against workerd, whose console output follows Node's
// util.inspect, so the goal is byte-identical output for the same value and options.
// Everything here is plain ECMAScript. What JavaScript cannot observe (a promise's state,
// a proxy's target) or cannot do cheaply (list an array's non-index keys) comes from
// optional native hooks: setPromiseStateInspector(), setProxyInspector() and
// setNonIndexKeysInspector().

const customInspectSymbol = Symbol.for('nodejs.util.inspect.custom');

const defaultOptions = {
  showHidden: false,
  depth: 2,
  colors: false,
  customInspect: true,
  showProxy: false,
  maxArrayLength: 100,
  maxStringLength: 10000,
  breakLength: 80,
  compact: 3,
  sorted: false,
  getters: false,
  numericSeparator: false,
};

// How formatProperty() renders an entry: object property ("key: value"), array element
// (value only) or extra property on an array-like ("key: value", array indentation).
const kObjectType = 0;
const kArrayType = 1;
const kArrayExtrasType = 2;

// Strings shorter than this are never split over several lines.
const kMinLineWidth = 16;

// ---- native hooks ---------------------------------------------------------------------

let promiseInspector;
let proxyInspector;
let nonIndexKeysInspector;

// `fn(value)` must return undefined when `value` is not a promise, otherwise
// `{ state: 'pending' | 'fulfilled' | 'rejected', value }`. Without a hook, promises are
// recognised by their prototype and always shown as pending.
export function setPromiseStateInspector(fn) {
  promiseInspector = typeof fn === 'function' ? fn : undefined;
}

// `fn(value)` must return undefined when `value` is not a proxy, otherwise
// `{ target, handler }` (target null once revoked). With a hook, proxies are shown as
// their target (or as `Proxy [ target, handler ]` with showProxy) without running traps;
// without one they are inspected through their traps like ordinary objects.
export function setProxyInspector(fn) {
  proxyInspector = typeof fn === 'function' ? fn : undefined;
}

// `fn(obj, includeNonEnumerable)` must return obj's own property keys that are not array
// indices (strings then symbols, in property order; only enumerable ones unless
// includeNonEnumerable). Plain JavaScript can only get them by listing every index, which
// takes a noticeable fraction of a second for a megabyte-sized typed array; a native op
// can skip integer ids without creating strings for them.
export function setNonIndexKeysInspector(fn) {
  nonIndexKeysInspector = typeof fn === 'function' ? fn : undefined;
}

// ---- intrinsics, captured before user code can patch them ------------------------------

const uncurry = (fn) => Function.prototype.call.bind(fn);
const getterOf = (obj, key) => uncurry(Object.getOwnPropertyDescriptor(obj, key).get);

const objectToString = uncurry(Object.prototype.toString);
const hasOwn = uncurry(Object.prototype.hasOwnProperty);
const isEnumerable = uncurry(Object.prototype.propertyIsEnumerable);
const isPrototypeOf = uncurry(Object.prototype.isPrototypeOf);
const { getPrototypeOf, getOwnPropertyDescriptor, getOwnPropertyNames, getOwnPropertySymbols, keys: objectKeys } =
  Object;
const { ownKeys } = Reflect;
const functionToString = uncurry(Function.prototype.toString);
const ordinaryHasInstance = uncurry(Function.prototype[Symbol.hasInstance]);
const errorToString = uncurry(Error.prototype.toString);
const symbolToString = uncurry(Symbol.prototype.toString);
const symbolValueOf = uncurry(Symbol.prototype.valueOf);
const numberValueOf = uncurry(Number.prototype.valueOf);
const stringValueOf = uncurry(String.prototype.valueOf);
const booleanValueOf = uncurry(Boolean.prototype.valueOf);
const bigintValueOf = uncurry(BigInt.prototype.valueOf);
const dateGetTime = uncurry(Date.prototype.getTime);
const dateToISOString = uncurry(Date.prototype.toISOString);
const dateToString = uncurry(Date.prototype.toString);
const regexpToString = uncurry(RegExp.prototype.toString);
const regexpSource = getterOf(RegExp.prototype, 'source');
const mapSize = getterOf(Map.prototype, 'size');
const setSize = getterOf(Set.prototype, 'size');
const mapEntries = uncurry(Map.prototype.entries);
const setValues = uncurry(Set.prototype.values);
const MapIteratorPrototype = getPrototypeOf(new Map().entries());
const SetIteratorPrototype = getPrototypeOf(new Set().values());
const mapIteratorNext = uncurry(MapIteratorPrototype.next);
const setIteratorNext = uncurry(SetIteratorPrototype.next);
const weakMapHas = uncurry(WeakMap.prototype.has);
const weakSetHas = uncurry(WeakSet.prototype.has);
const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = getterOf(TypedArrayPrototype, Symbol.toStringTag);
const typedArrayLength = getterOf(TypedArrayPrototype, 'length');
const typedArrayByteLength = getterOf(TypedArrayPrototype, 'byteLength');
const typedArrayByteOffset = getterOf(TypedArrayPrototype, 'byteOffset');
const typedArrayBuffer = getterOf(TypedArrayPrototype, 'buffer');
const arrayBufferByteLength = getterOf(ArrayBuffer.prototype, 'byteLength');
const sharedArrayBufferByteLength =
  typeof SharedArrayBuffer === 'function' ? getterOf(SharedArrayBuffer.prototype, 'byteLength') : undefined;
const { isView } = ArrayBuffer;
const { isArray } = Array;
const AsyncFunctionPrototype = getPrototypeOf(async function () {});
const GeneratorFunctionPrototype = getPrototypeOf(function* () {});
const AsyncGeneratorFunctionPrototype = getPrototypeOf(async function* () {});
const IntrinsicError = Error;
const IntrinsicObject = Object;
const IntrinsicPromise = Promise;
const RegExpPrototype = RegExp.prototype;
const ObjectPrototype = Object.prototype;
const FunctionPrototype = Function.prototype;
const jsonStringify = JSON.stringify;

// Run a brand-checking builtin; true when it accepted `value`.
function passes(check, value) {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

// The class part of Object.prototype.toString, e.g. "Date"; only trustworthy for the
// internal kind of an object when it has no string @@toStringTag.
function builtinTagOf(value) {
  return objectToString(value).slice(8, -1);
}

const isMap = (v) => passes(mapSize, v);
const isSet = (v) => passes(setSize, v);
const isTypedArray = (v) => typedArrayTag(v) !== undefined;

function instanceOf(value, ctor) {
  try {
    return value instanceof ctor;
  } catch {
    return false;
  }
}

// Global constructor names that count as "built in" (Node uses the same rule: capitalised
// identifiers on the global object). Computed on first use so the runtime's Web API
// globals are installed by then.
let builtInNames;
function isBuiltInName(name) {
  if (builtInNames === undefined) {
    builtInNames = new Set(getOwnPropertyNames(globalThis).filter((n) => /^[A-Z][a-zA-Z0-9]+$/.test(n)));
  }
  return builtInNames.has(name);
}

// ---- colors -------------------------------------------------------------------------------

const colorCodes = {
  bold: [1, 22],
  underline: [4, 24],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  grey: [90, 39],
};
const styleColors = {
  special: 'cyan',
  number: 'yellow',
  bigint: 'yellow',
  boolean: 'yellow',
  undefined: 'grey',
  null: 'bold',
  string: 'green',
  symbol: 'green',
  date: 'magenta',
  regexp: 'red',
  module: 'underline',
};

function stylizeWithColor(str, styleType) {
  const color = colorCodes[styleColors[styleType]];
  return color === undefined ? str : `\u001b[${color[0]}m${str}\u001b[${color[1]}m`;
}

function stylizeNoColor(str) {
  return str;
}

const sgrRe = /\u001b\[\d\d?m/g;
// CSI and OSC escape sequences, for measuring display width.
const vtControlRe = /[\u001b\u009b](?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;

// ---- string width (used for column layout) ------------------------------------------------

function isZeroWidth(cp) {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x483 && cp <= 0x489) ||
    (cp >= 0x591 && cp <= 0x5bd) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xfe20 && cp <= 0xfe2f) ||
    cp === 0xfeff ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

// East Asian Wide / Fullwidth code points and wide emoji, as [first, last] pairs.
const wideRanges = [
  0x1100, 0x115f, 0x231a, 0x231b, 0x2329, 0x232a, 0x23e9, 0x23ec, 0x23f0, 0x23f0, 0x23f3, 0x23f3,
  0x25fd, 0x25fe, 0x2614, 0x2615, 0x2648, 0x2653, 0x267f, 0x267f, 0x2693, 0x2693, 0x26a1, 0x26a1,
  0x26aa, 0x26ab, 0x26bd, 0x26be, 0x26c4, 0x26c5, 0x26ce, 0x26ce, 0x26d4, 0x26d4, 0x26ea, 0x26ea,
  0x26f2, 0x26f3, 0x26f5, 0x26f5, 0x26fa, 0x26fa, 0x26fd, 0x26fd, 0x2705, 0x2705, 0x270a, 0x270b,
  0x2728, 0x2728, 0x274c, 0x274c, 0x274e, 0x274e, 0x2753, 0x2755, 0x2757, 0x2757, 0x2795, 0x2797,
  0x27b0, 0x27b0, 0x27bf, 0x27bf, 0x2b1b, 0x2b1c, 0x2b50, 0x2b50, 0x2b55, 0x2b55, 0x2e80, 0x303e,
  0x3041, 0x33ff, 0x3400, 0x4dbf, 0x4e00, 0x9fff, 0xa000, 0xa4cf, 0xa960, 0xa97f, 0xac00, 0xd7a3,
  0xf900, 0xfaff, 0xfe10, 0xfe19, 0xfe30, 0xfe6f, 0xff00, 0xff60, 0xffe0, 0xffe6, 0x16fe0, 0x16fe4,
  0x17000, 0x18aff, 0x1b000, 0x1b2ff, 0x1f004, 0x1f004, 0x1f0cf, 0x1f0cf, 0x1f18e, 0x1f18e,
  0x1f191, 0x1f19a, 0x1f200, 0x1f2ff, 0x1f300, 0x1f320, 0x1f32d, 0x1f335, 0x1f337, 0x1f37c,
  0x1f37e, 0x1f393, 0x1f3a0, 0x1f3ca, 0x1f3cf, 0x1f3d3, 0x1f3e0, 0x1f3f0, 0x1f3f4, 0x1f3f4,
  0x1f3f8, 0x1f43e, 0x1f440, 0x1f440, 0x1f442, 0x1f4fc, 0x1f4ff, 0x1f53d, 0x1f54b, 0x1f54e,
  0x1f550, 0x1f567, 0x1f57a, 0x1f57a, 0x1f595, 0x1f596, 0x1f5a4, 0x1f5a4, 0x1f5fb, 0x1f64f,
  0x1f680, 0x1f6c5, 0x1f6cc, 0x1f6cc, 0x1f6d0, 0x1f6d2, 0x1f6d5, 0x1f6d7, 0x1f6eb, 0x1f6ec,
  0x1f6f4, 0x1f6fc, 0x1f7e0, 0x1f7eb, 0x1f90c, 0x1f93a, 0x1f93c, 0x1f945, 0x1f947, 0x1f9ff,
  0x1fa70, 0x1faff, 0x20000, 0x2fffd, 0x30000, 0x3fffd,
];

function isWide(cp) {
  if (cp < 0x1100) return false;
  for (let i = 0; i < wideRanges.length; i += 2) {
    if (cp < wideRanges[i]) return false;
    if (cp <= wideRanges[i + 1]) return true;
  }
  return false;
}

// Columns a string takes in a terminal. ASCII is counted directly (controls are zero
// width); the rest is NFC-normalized and measured per code point.
function getStringWidth(str, removeControlChars) {
  if (removeControlChars) str = str.replace(vtControlRe, '');
  let width = 0;
  for (let i = 0; i < str.length; i++) {
    const code = str.charCodeAt(i);
    if (code >= 127) {
      for (const ch of str.slice(i).normalize('NFC')) {
        const cp = ch.codePointAt(0);
        if (!isZeroWidth(cp)) width += isWide(cp) ? 2 : 1;
      }
      return width;
    }
    if (code >= 32) width++;
  }
  return width;
}

// ---- strings ----------------------------------------------------------------------------

function escapeCodeUnit(c) {
  switch (c) {
    case 0x08:
      return '\\b';
    case 0x09:
      return '\\t';
    case 0x0a:
      return '\\n';
    case 0x0c:
      return '\\f';
    case 0x0d:
      return '\\r';
    case 0x27:
      return "\\'";
    case 0x5c:
      return '\\\\';
    default:
      // Other C0/C1 controls as \xHH (uppercase), lone surrogates as \uhhhh (lowercase).
      if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `\\x${c.toString(16).toUpperCase().padStart(2, '0')}`;
      return `\\u${c.toString(16)}`;
  }
}

// Escape controls, backslashes, lone surrogates and (when `quote` is the single quote)
// single quotes.
function escapeString(str, escapeSingleQuote) {
  let result = '';
  let last = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x20 || c === 0x5c || (c >= 0x7f && c <= 0x9f) || (c === 0x27 && escapeSingleQuote)) {
      result += str.slice(last, i) + escapeCodeUnit(c);
      last = i + 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < str.length) {
        const d = str.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          i++;
          continue;
        }
      }
      result += str.slice(last, i) + escapeCodeUnit(c);
      last = i + 1;
    }
  }
  return last === 0 ? str : result + str.slice(last);
}

const needsEscapeRe = /[\x00-\x1f\x27\x5c\x7f-\x9f\ud800-\udfff]/;

// Quote a string the way Node does: single quotes unless the string contains one, then
// double quotes, then backticks, and only if all are taken single quotes with escaping.
function quoteString(str) {
  let quote = "'";
  if (str.includes("'")) {
    if (!str.includes('"')) quote = '"';
    else if (!str.includes('`') && !str.includes('${')) quote = '`';
  }
  const body = needsEscapeRe.test(str) ? escapeString(str, quote === "'") : str;
  return quote + body + quote;
}

// Symbol descriptions and non-enumerable keys are escaped but not quoted; this also
// escapes single quotes.
const escapeAllRe = /[\x00-\x1f\x27\x5c\x7f-\x9f\ud800-\udfff]/;
function escapeUnquoted(str) {
  return escapeAllRe.test(str) ? escapeString(str, true) : str;
}

// ---- numbers --------------------------------------------------------------------------------

// Insert "_" every three digits from the right of an integer string (keeping a sign).
function groupIntegerDigits(digits) {
  const start = digits[0] === '-' ? 1 : 0;
  let out = '';
  let i = digits.length;
  for (; i - 3 > start; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return digits.slice(0, i) + out;
}

// Insert "_" every three digits from the left of a fraction string.
function groupFractionDigits(digits) {
  let out = '';
  let i = 0;
  for (; i < digits.length - 3; i += 3) out += `${digits.slice(i, i + 3)}_`;
  return out + digits.slice(i);
}

function formatNumber(stylize, number, numericSeparator) {
  if (!numericSeparator) {
    return stylize(Object.is(number, -0) ? '-0' : `${number}`, 'number');
  }
  const str = `${number}`;
  if (Number.isInteger(number)) {
    return stylize(str.includes('e') ? str : groupIntegerDigits(str), 'number');
  }
  if (!Number.isFinite(number)) return stylize(str, 'number');
  const dot = str.indexOf('.');
  if (dot === -1) return stylize(str, 'number');
  return stylize(`${groupIntegerDigits(str.slice(0, dot))}.${groupFractionDigits(str.slice(dot + 1))}`, 'number');
}

function formatBigInt(stylize, bigint, numericSeparator) {
  const str = `${bigint}`;
  return stylize(`${numericSeparator ? groupIntegerDigits(str) : str}n`, 'bigint');
}

// Split after every newline, keeping the newline with its line.
function splitLinesKeepingBreaks(str) {
  const lines = [];
  let start = 0;
  for (let nl = str.indexOf('\n'); nl !== -1; nl = str.indexOf('\n', start)) {
    lines.push(str.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < str.length) lines.push(str.slice(start));
  return lines;
}

function formatPrimitive(stylize, value, ctx) {
  switch (typeof value) {
    case 'string': {
      let trailer = '';
      if (value.length > ctx.maxStringLength) {
        const remaining = value.length - ctx.maxStringLength;
        value = value.slice(0, ctx.maxStringLength);
        trailer = `... ${remaining} more character${remaining > 1 ? 's' : ''}`;
      }
      // Long strings with newlines are shown as one quoted piece per line joined by "+".
      if (
        ctx.compact !== true &&
        value.length > kMinLineWidth &&
        value.length > ctx.breakLength - ctx.indentationLvl - 4
      ) {
        return (
          splitLinesKeepingBreaks(value)
            .map((line) => stylize(quoteString(line), 'string'))
            .join(` +\n${' '.repeat(ctx.indentationLvl + 2)}`) + trailer
        );
      }
      return stylize(quoteString(value), 'string') + trailer;
    }
    case 'number':
      return formatNumber(stylize, value, ctx.numericSeparator);
    case 'bigint':
      return formatBigInt(stylize, value, ctx.numericSeparator);
    case 'boolean':
      return stylize(`${value}`, 'boolean');
    case 'undefined':
      return stylize('undefined', 'undefined');
    default:
      return stylize(symbolToString(value), 'symbol');
  }
}

// ---- public entry points ----------------------------------------------------------------------

// util.inspect(value[, options]); also accepts the legacy (value, showHidden, depth, colors).
export function inspect(value, opts) {
  const ctx = {
    budget: {},
    indentationLvl: 0,
    seen: [],
    currentDepth: 0,
    stylize: stylizeNoColor,
    ...defaultOptions,
  };
  if (arguments.length > 1) {
    if (arguments.length > 2) {
      if (arguments[2] !== undefined) ctx.depth = arguments[2];
      if (arguments.length > 3 && arguments[3] !== undefined) ctx.colors = arguments[3];
    }
    if (typeof opts === 'boolean') {
      ctx.showHidden = opts;
    } else if (opts) {
      for (const key of objectKeys(opts)) {
        if (hasOwn(defaultOptions, key) || key === 'stylize') ctx[key] = opts[key];
        // Unknown options are handed through to custom inspect functions.
        else ctx.userOptions ??= opts;
      }
    }
  }
  if (ctx.colors) ctx.stylize = stylizeWithColor;
  if (ctx.maxArrayLength === null) ctx.maxArrayLength = Infinity;
  if (ctx.maxStringLength === null) ctx.maxStringLength = Infinity;
  return formatValue(ctx, value, 0);
}
inspect.custom = customInspectSymbol;

// What console.log(...args) prints (util.format): printf-style placeholders when the first
// argument is a string, then every remaining argument inspected (strings raw), joined by
// spaces. `inspectOptions` applies to every inspected value.
export function formatLogArgs(args, inspectOptions = undefined) {
  const first = args[0];
  let argIndex = 0;
  let out = '';
  let separator = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    let copied = 0; // first[copied..] is not yet in `out`
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 0x25) continue;
      const spec = first.charCodeAt(++i);
      if (argIndex + 1 === args.length) {
        // Out of arguments: only "%%" is still rewritten.
        if (spec === 0x25) {
          out += first.slice(copied, i);
          copied = i + 1;
        }
        continue;
      }
      let replacement;
      switch (spec) {
        case 0x73: // %s
          replacement = formatStringPlaceholder(args[++argIndex], inspectOptions);
          break;
        case 0x6a: // %j
          replacement = jsonOrCircular(args[++argIndex]);
          break;
        case 0x64: {
          // %d
          const arg = args[++argIndex];
          if (typeof arg === 'bigint') replacement = formatBigInt(stylizeNoColor, arg, numericSeparatorOf(inspectOptions));
          else if (typeof arg === 'symbol') replacement = 'NaN';
          else replacement = formatNumber(stylizeNoColor, Number(arg), numericSeparatorOf(inspectOptions));
          break;
        }
        case 0x69: {
          // %i
          const arg = args[++argIndex];
          if (typeof arg === 'bigint') replacement = formatBigInt(stylizeNoColor, arg, numericSeparatorOf(inspectOptions));
          else if (typeof arg === 'symbol') replacement = 'NaN';
          else replacement = formatNumber(stylizeNoColor, Number.parseInt(arg), numericSeparatorOf(inspectOptions));
          break;
        }
        case 0x66: {
          // %f
          const arg = args[++argIndex];
          replacement =
            typeof arg === 'symbol'
              ? 'NaN'
              : formatNumber(stylizeNoColor, Number.parseFloat(arg), numericSeparatorOf(inspectOptions));
          break;
        }
        case 0x4f: // %O
          replacement = inspect(args[++argIndex], inspectOptions);
          break;
        case 0x6f: // %o
          replacement = inspect(args[++argIndex], {
            ...inspectOptions,
            showHidden: true,
            showProxy: true,
            depth: 4,
          });
          break;
        case 0x63: // %c: CSS has no meaning here; the argument is consumed.
          argIndex++;
          replacement = '';
          break;
        case 0x25: // %%
          out += first.slice(copied, i);
          copied = i + 1;
          continue;
        default:
          continue;
      }
      out += first.slice(copied, i - 1) + replacement;
      copied = i + 1;
    }
    if (copied !== 0) {
      // The format string was consumed as a template.
      argIndex++;
      separator = ' ';
      if (copied < first.length) out += first.slice(copied);
    }
  }
  for (; argIndex < args.length; argIndex++) {
    const value = args[argIndex];
    out += separator + (typeof value === 'string' ? value : inspect(value, inspectOptions));
    separator = ' ';
  }
  return out;
}

function numericSeparatorOf(options) {
  return options?.numericSeparator ?? defaultOptions.numericSeparator;
}

function formatStringPlaceholder(arg, inspectOptions) {
  if (typeof arg === 'number') return formatNumber(stylizeNoColor, arg, numericSeparatorOf(inspectOptions));
  if (typeof arg === 'bigint') return formatBigInt(stylizeNoColor, arg, numericSeparatorOf(inspectOptions));
  if (arg === null || typeof arg !== 'object' || !hasBuiltInToString(arg)) return String(arg);
  // Objects without a user-defined toString are inspected shallowly instead.
  return inspect(arg, { ...inspectOptions, compact: 3, colors: false, depth: 0 });
}

// Whether `value`'s string conversion comes from a built-in class (so %s should inspect it
// rather than call a user-provided toString / @@toPrimitive).
function hasBuiltInToString(value) {
  if (proxyInspector !== undefined) {
    const proxy = proxyInspector(value);
    if (proxy != null) {
      if (proxy.target === null) return true;
      value = proxy.target;
    }
  }
  const hasToString = typeof value.toString === 'function';
  const hasToPrimitive = typeof value[Symbol.toPrimitive] === 'function';
  if (!hasToString && !hasToPrimitive) return true;
  // Find the nearest object in the chain that defines the conversion actually used.
  for (let obj = value; obj !== null; obj = getPrototypeOf(obj)) {
    if ((hasToString && hasOwn(obj, 'toString')) || (hasToPrimitive && hasOwn(obj, Symbol.toPrimitive))) {
      if (obj === value) return false;
      const desc = getOwnPropertyDescriptor(obj, 'constructor');
      return desc !== undefined && typeof desc.value === 'function' && isBuiltInName(desc.value.name);
    }
  }
  return true;
}

let circularJSONMessage;
function firstLine(message) {
  return `${message}`.split('\n', 1)[0];
}

// %j: JSON, with "[Circular]" for cyclic values (detected by matching the engine's own
// cyclic-structure error message).
function jsonOrCircular(arg) {
  try {
    return jsonStringify(arg);
  } catch (err) {
    if (circularJSONMessage === undefined) {
      const cyclic = {};
      cyclic.self = cyclic;
      try {
        jsonStringify(cyclic);
      } catch (probe) {
        circularJSONMessage = firstLine(probe.message);
      }
    }
    if (err?.name === 'TypeError' && firstLine(err.message) === circularJSONMessage) return '[Circular]';
    throw err;
  }
}

// ---- the formatter --------------------------------------------------------------------------

function userOptionsFor(ctx, crossContext) {
  const options = {
    stylize: ctx.stylize,
    showHidden: ctx.showHidden,
    depth: ctx.depth,
    colors: ctx.colors,
    customInspect: ctx.customInspect,
    showProxy: ctx.showProxy,
    maxArrayLength: ctx.maxArrayLength,
    maxStringLength: ctx.maxStringLength,
    breakLength: ctx.breakLength,
    compact: ctx.compact,
    sorted: ctx.sorted,
    getters: ctx.getters,
    numericSeparator: ctx.numericSeparator,
    ...ctx.userOptions,
  };
  if (!crossContext) return options;
  // Objects that are not instances of this realm's Object (null-prototype objects,
  // proxies) get a prototype-free options bag holding only primitives, so nothing from
  // here leaks into them.
  const bare = { __proto__: null };
  for (const key of objectKeys(options)) {
    const v = options[key];
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) bare[key] = v;
  }
  bare.stylize = Object.setPrototypeOf((str, styleType) => {
    let styled;
    try {
      styled = `${ctx.stylize(str, styleType)}`;
    } catch {
      // Fall back to the plain string.
    }
    return typeof styled === 'string' ? styled : str;
  }, null);
  return bare;
}

function formatValue(ctx, value, recurseTimes, typedArray) {
  if (typeof value !== 'object' && typeof value !== 'function') {
    return formatPrimitive(ctx.stylize, value, ctx);
  }
  if (value === null) return ctx.stylize('null', 'null');

  const original = value;
  let proxy;
  if (proxyInspector !== undefined) {
    proxy = proxyInspector(value) ?? undefined;
    if (proxy !== undefined) {
      if (proxy.target === null) return ctx.stylize('<Revoked Proxy>', 'special');
      if (ctx.showProxy) return formatProxy(ctx, proxy, recurseTimes);
      // Look at the target directly so no traps run.
      value = proxy.target;
    }
  }

  if (ctx.customInspect) {
    const custom = value[customInspectSymbol];
    // Skip our own inspect and prototype objects (whose method is meant for instances).
    if (
      typeof custom === 'function' &&
      custom !== inspect &&
      !(value.constructor && value.constructor.prototype === value)
    ) {
      const depth = ctx.depth === null ? null : ctx.depth - recurseTimes;
      const crossContext = proxy !== undefined || !(original instanceof IntrinsicObject);
      const ret = custom.call(original, depth, userOptionsFor(ctx, crossContext), inspect);
      if (ret !== original) {
        if (typeof ret !== 'string') return formatValue(ctx, ret, recurseTimes);
        return ret.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
      }
    }
  }

  // A value already on the current path is a cycle: number the target once.
  if (ctx.seen.includes(value)) {
    ctx.circular ??= new Map();
    let index = ctx.circular.get(value);
    if (index === undefined) {
      index = ctx.circular.size + 1;
      ctx.circular.set(value, index);
    }
    return ctx.stylize(`[Circular *${index}]`, 'special');
  }

  return formatRaw(ctx, value, recurseTimes, typedArray);
}

function formatProxy(ctx, proxy, recurseTimes) {
  if (ctx.depth !== null && recurseTimes > ctx.depth) return ctx.stylize('Proxy [Array]', 'special');
  recurseTimes += 1;
  ctx.indentationLvl += 2;
  const parts = [formatValue(ctx, proxy.target, recurseTimes), formatValue(ctx, proxy.handler, recurseTimes)];
  ctx.indentationLvl -= 2;
  return reduceToSingleString(ctx, parts, '', ['Proxy [', ']'], kArrayExtrasType, recurseTimes);
}

// Name of the nearest constructor in the prototype chain whose prototype `obj` really
// inherits from; null for objects without any prototype. With showHidden, inherited
// non-function properties of user classes are collected into `protoProps`.
function getConstructorName(obj, ctx, recurseTimes, protoProps) {
  const start = obj;
  let firstProto;
  while (obj) {
    // Object.prototype and Function.prototype are recognised even if their `constructor`
    // was tampered with.
    const wellKnown = obj === ObjectPrototype ? IntrinsicObject : obj === FunctionPrototype ? Function : undefined;
    if (wellKnown !== undefined && ordinaryHasInstance(wellKnown, start)) {
      if (protoProps !== undefined && firstProto !== obj) {
        addPrototypeProperties(ctx, start, firstProto || start, recurseTimes, protoProps);
      }
      return wellKnown === IntrinsicObject ? 'Object' : 'Function';
    }
    const desc = getOwnPropertyDescriptor(obj, 'constructor');
    if (
      desc !== undefined &&
      typeof desc.value === 'function' &&
      desc.value.name !== '' &&
      instanceOf(start, desc.value)
    ) {
      if (protoProps !== undefined && (firstProto !== obj || !isBuiltInName(desc.value.name))) {
        addPrototypeProperties(ctx, start, firstProto || start, recurseTimes, protoProps);
      }
      return String(desc.value.name);
    }
    obj = getPrototypeOf(obj);
    if (firstProto === undefined) firstProto = obj;
  }
  if (firstProto === null) return null;

  // A chain without a usable constructor: describe it through its prototype.
  const fallback = fallbackClassName(start);
  if (ctx.depth !== null && recurseTimes > ctx.depth) return `${fallback} <Complex prototype>`;
  const protoName = getConstructorName(firstProto, ctx, recurseTimes + 1, protoProps);
  if (protoName === null) {
    return `${fallback} <${inspect(firstProto, { ...ctx, customInspect: false, depth: -1 })}>`;
  }
  return `${fallback} <${protoName}>`;
}

// Best guess at the engine's own class name for an object whose prototype chain names no
// usable constructor: a string @@toStringTag data property, else a named `constructor`
// data property, else the basic kind of object.
function fallbackClassName(value) {
  for (const key of [Symbol.toStringTag, 'constructor']) {
    for (let obj = value; obj !== null; obj = getPrototypeOf(obj)) {
      const desc = getOwnPropertyDescriptor(obj, key);
      if (desc === undefined) continue;
      if (key === Symbol.toStringTag && typeof desc.value === 'string') return desc.value;
      if (key === 'constructor' && typeof desc.value === 'function' && desc.value.name) return desc.value.name;
      break;
    }
  }
  if (typeof value === 'function') return 'Function';
  if (isArray(value)) return 'Array';
  return 'Object';
}

// With showHidden: inherited own properties of up to three user-defined prototype levels
// (not methods, not built-in prototypes), shown as if they were on the object.
function addPrototypeProperties(ctx, main, obj, recurseTimes, output) {
  let keySet;
  let previousKeys;
  for (let level = 0; level < 3; level++) {
    if (level !== 0 || main === obj) {
      obj = getPrototypeOf(obj);
      if (obj === null) return;
      const desc = getOwnPropertyDescriptor(obj, 'constructor');
      if (desc !== undefined && typeof desc.value === 'function' && isBuiltInName(desc.value.name)) return;
    }
    if (level === 0) keySet = new Set();
    else for (const key of previousKeys) keySet.add(key);
    previousKeys = ownKeys(obj);
    ctx.seen.push(main);
    for (const key of previousKeys) {
      if (key === 'constructor' || hasOwn(main, key) || (level !== 0 && keySet.has(key))) continue;
      const desc = getOwnPropertyDescriptor(obj, key);
      if (typeof desc.value === 'function') continue;
      const str = formatProperty(ctx, obj, recurseTimes, key, kObjectType, desc, main);
      output.push(ctx.colors ? `\u001b[2m${str}\u001b[22m` : str);
    }
    ctx.seen.pop();
  }
}

// "Foo(2) [Tag] " style prefix; `fallback` names the built-in type when the prototype
// chain is gone.
function getPrefix(constructor, tag, fallback, size = '') {
  if (constructor === null) {
    if (tag !== '' && fallback !== tag) return `[${fallback}${size}: null prototype] [${tag}] `;
    return `[${fallback}${size}: null prototype] `;
  }
  if (tag !== '' && constructor !== tag) return `${constructor}${size} [${tag}] `;
  return `${constructor}${size} `;
}

function getObjectPrefix(value, constructor, tag) {
  let fallback = '';
  if (constructor === null) {
    fallback = fallbackClassName(value);
    if (fallback === tag) fallback = 'Object';
  }
  return getPrefix(constructor, tag, fallback);
}

// Own enumerable string keys then enumerable symbols (everything with showHidden).
function getKeys(value, showHidden) {
  const symbols = getOwnPropertySymbols(value);
  let keys;
  if (showHidden) {
    keys = getOwnPropertyNames(value);
    for (const s of symbols) keys.push(s);
    return keys;
  }
  try {
    keys = objectKeys(value);
  } catch (err) {
    // Object.keys on a module namespace with uninitialized bindings throws.
    if (!(err instanceof ReferenceError)) throw err;
    keys = getOwnPropertyNames(value);
  }
  for (const s of symbols) if (isEnumerable(value, s)) keys.push(s);
  return keys;
}

const arrayIndexRe = /^(?:0|[1-9][0-9]*)$/;

function isArrayIndexKey(key) {
  return arrayIndexRe.test(key) && +key < 4294967295;
}

// Keys of an array or typed array other than its indices. Property order puts every
// index first, so the other string keys are found by scanning back from the end; this
// keeps inspecting a large array from testing millions of index keys (though listing
// them is still linear, which is what the native hook avoids).
function getNonIndexKeys(value, showHidden) {
  if (nonIndexKeysInspector !== undefined) return nonIndexKeysInspector(value, !!showHidden);
  const names = showHidden ? getOwnPropertyNames(value) : objectKeys(value);
  let first = names.length;
  while (first > 0 && !isArrayIndexKey(names[first - 1])) first--;
  const out = names.slice(first);
  for (const s of getOwnPropertySymbols(value)) if (showHidden || isEnumerable(value, s)) out.push(s);
  return out;
}

function isModuleNamespace(value) {
  const desc = getOwnPropertyDescriptor(value, Symbol.toStringTag);
  return (
    desc !== undefined &&
    desc.value === 'Module' &&
    !desc.writable &&
    !desc.enumerable &&
    !desc.configurable &&
    !Object.isExtensible(value)
  );
}

const noEntries = () => [];

function formatRaw(ctx, value, recurseTimes, typedArray) {
  let protoProps;
  if (ctx.showHidden && (ctx.depth === null || recurseTimes <= ctx.depth)) protoProps = [];
  const constructor = getConstructorName(value, ctx, recurseTimes, protoProps);
  if (protoProps !== undefined && protoProps.length === 0) protoProps = undefined;

  const rawTag = value[Symbol.toStringTag];
  // Show a tag only when it says something the constructor name does not, and is not
  // going to be printed as a property anyway.
  let tag = rawTag;
  if (
    typeof tag !== 'string' ||
    (tag !== '' && (ctx.showHidden ? hasOwn : isEnumerable)(value, Symbol.toStringTag))
  ) {
    tag = '';
  }

  let keys;
  let base = '';
  let formatter = noEntries;
  let braces;
  let extrasType = kObjectType;
  let handled = false;
  const noProps = () => keys.length === 0 && protoProps === undefined;

  if (Symbol.iterator in value || constructor === null) {
    handled = true;
    if (isArray(value)) {
      // Plain arrays print without a prefix; subclasses and tagged ones with "Foo(n) ".
      const prefix =
        constructor !== 'Array' || tag !== '' ? getPrefix(constructor, tag, 'Array', `(${value.length})`) : '';
      keys = getNonIndexKeys(value, ctx.showHidden);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && noProps()) return `${braces[0]}]`;
      extrasType = kArrayExtrasType;
      formatter = formatArray;
    } else if (isSet(value)) {
      const size = setSize(value);
      const prefix = getPrefix(constructor, tag, 'Set', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatSet;
      if (size === 0 && noProps()) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (isMap(value)) {
      const size = mapSize(value);
      const prefix = getPrefix(constructor, tag, 'Map', `(${size})`);
      keys = getKeys(value, ctx.showHidden);
      formatter = formatMap;
      if (size === 0 && noProps()) return `${prefix}{}`;
      braces = [`${prefix}{`, '}'];
    } else if (isTypedArray(value)) {
      keys = getNonIndexKeys(value, ctx.showHidden);
      const size = typedArrayLength(value);
      const prefix = getPrefix(constructor, tag, constructor === null ? typedArrayTag(value) : '', `(${size})`);
      braces = [`${prefix}[`, ']'];
      if (value.length === 0 && keys.length === 0 && !ctx.showHidden) return `${braces[0]}]`;
      formatter = (c, v, r) => formatTypedArray(v, size, c, r);
      extrasType = kArrayExtrasType;
    } else if (isPrototypeOf(MapIteratorPrototype, value)) {
      keys = getKeys(value, ctx.showHidden);
      braces = getIteratorBraces('Map', tag);
      formatter = formatUnknownEntries;
    } else if (isPrototypeOf(SetIteratorPrototype, value)) {
      keys = getKeys(value, ctx.showHidden);
      braces = getIteratorBraces('Set', tag);
      formatter = formatUnknownEntries;
    } else {
      handled = false;
    }
  }

  if (!handled) {
    keys = getKeys(value, ctx.showHidden);
    braces = ['{', '}'];
    // The Object.prototype.toString class is reliable only without a string @@toStringTag.
    const builtin = typeof rawTag === 'string' ? null : builtinTagOf(value);
    const unknownBrand = builtin === null || constructor === null;
    let promiseDetails;
    if (typeof value === 'function') {
      base = getFunctionBase(value, constructor, tag);
      if (noProps()) return ctx.stylize(base, 'special');
    } else if (constructor === 'Object') {
      if (builtin === 'Arguments') braces[0] = '[Arguments] {';
      else if (tag !== '') braces[0] = `${getPrefix(constructor, tag, 'Object')}{`;
      if (noProps()) return `${braces[0]}}`;
    } else if (
      builtin === 'RegExp' ||
      (unknownBrand && value !== RegExpPrototype && passes(regexpSource, value))
    ) {
      base = regexpToString(constructor !== null ? value : new RegExp(value));
      const prefix = getPrefix(constructor, tag, 'RegExp');
      if (prefix !== 'RegExp ') base = `${prefix}${base}`;
      if (noProps() || (ctx.depth !== null && recurseTimes > ctx.depth)) return ctx.stylize(base, 'regexp');
    } else if (builtin === 'Date' || (unknownBrand && passes(dateGetTime, value))) {
      base = Number.isNaN(dateGetTime(value)) ? dateToString(value) : dateToISOString(value);
      const prefix = getPrefix(constructor, tag, 'Date');
      if (prefix !== 'Date ') base = `${prefix}${base}`;
      if (noProps()) return ctx.stylize(base, 'date');
    } else if (builtin === 'Error' || instanceOf(value, IntrinsicError)) {
      base = formatError(value, constructor, tag, ctx, keys);
      if (noProps()) return base;
    } else if (
      ((rawTag === 'ArrayBuffer' || unknownBrand) && passes(arrayBufferByteLength, value)) ||
      (sharedArrayBufferByteLength !== undefined &&
        (rawTag === 'SharedArrayBuffer' || unknownBrand) &&
        passes(sharedArrayBufferByteLength, value))
    ) {
      const prefix = getPrefix(constructor, tag, passes(arrayBufferByteLength, value) ? 'ArrayBuffer' : 'SharedArrayBuffer');
      if (typedArray === undefined) {
        formatter = formatArrayBuffer;
      } else if (noProps()) {
        return `${prefix}{ byteLength: ${formatNumber(ctx.stylize, value.byteLength, false)} }`;
      }
      braces[0] = `${prefix}{`;
      keys.unshift('byteLength');
    } else if (isView(value) && !isTypedArray(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'DataView')}{`;
      // .buffer last: it is the only non-primitive of the three.
      keys.unshift('byteLength', 'byteOffset', 'buffer');
    } else if (
      promiseInspector !== undefined
        ? (promiseDetails = promiseInspector(value)) !== undefined
        : rawTag === 'Promise' && ordinaryHasInstance(IntrinsicPromise, value)
    ) {
      braces[0] = `${getPrefix(constructor, tag, 'Promise')}{`;
      formatter = (c, v, r) => formatPromise(c, promiseDetails, r);
    } else if ((rawTag === 'WeakSet' || unknownBrand) && passes((v) => weakSetHas(v, v), value)) {
      braces[0] = `${getPrefix(constructor, tag, 'WeakSet')}{`;
      formatter = formatUnknownEntries;
    } else if ((rawTag === 'WeakMap' || unknownBrand) && passes((v) => weakMapHas(v, v), value)) {
      braces[0] = `${getPrefix(constructor, tag, 'WeakMap')}{`;
      formatter = formatUnknownEntries;
    } else if (constructor === null && isModuleNamespace(value)) {
      braces[0] = `${getPrefix(constructor, tag, 'Module')}{`;
      const namespaceKeys = keys;
      keys = [];
      formatter = (c, v, r) => formatNamespaceObject(namespaceKeys, c, v, r);
    } else if ((base = getBoxedBase(value, ctx, keys, constructor, tag, builtin, rawTag)) !== '') {
      if (noProps()) return base;
    } else {
      const prefix = getObjectPrefix(value, constructor, tag);
      if (noProps()) return `${prefix}{}`;
      braces[0] = `${prefix}{`;
    }
  }

  if (ctx.depth !== null && recurseTimes > ctx.depth) {
    let name = getObjectPrefix(value, constructor, tag).slice(0, -1);
    if (constructor !== null) name = `[${name}]`;
    return ctx.stylize(name, 'special');
  }
  recurseTimes += 1;

  ctx.seen.push(value);
  ctx.currentDepth = recurseTimes;
  let output;
  const indentationLvl = ctx.indentationLvl;
  try {
    output = formatter(ctx, value, recurseTimes);
    for (const key of keys) output.push(formatProperty(ctx, value, recurseTimes, key, extrasType));
    if (protoProps !== undefined) output.push(...protoProps);
  } catch (err) {
    if (!isStackOverflow(err)) throw err;
    ctx.seen.pop();
    ctx.indentationLvl = indentationLvl;
    const name = getObjectPrefix(value, constructor, tag).slice(0, -1);
    return ctx.stylize(`[${name}: Inspection interrupted prematurely. Maximum call stack size exceeded.]`, 'special');
  }

  if (ctx.circular !== undefined) {
    const index = ctx.circular.get(value);
    if (index !== undefined) {
      const reference = ctx.stylize(`<ref *${index}>`, 'special');
      if (ctx.compact !== true) base = base === '' ? reference : `${reference} ${base}`;
      else braces[0] = `${reference} ${braces[0]}`;
    }
  }
  ctx.seen.pop();

  if (ctx.sorted) {
    const comparator = ctx.sorted === true ? undefined : ctx.sorted;
    if (extrasType === kObjectType) {
      output.sort(comparator);
    } else if (keys.length > 1) {
      // Only the extra properties after the elements are sorted.
      const extras = output.slice(output.length - keys.length).sort(comparator);
      output.splice(output.length - keys.length, keys.length, ...extras);
    }
  }

  const res = reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value);
  // Stop descending once the output gets huge, so inspecting giant structures terminates
  // in reasonable time and memory.
  const total = (ctx.budget[ctx.indentationLvl] || 0) + res.length;
  ctx.budget[ctx.indentationLvl] = total;
  if (total > 2 ** 27) ctx.depth = -1;
  return res;
}

let stackOverflowProbe;
function isStackOverflow(err) {
  if (stackOverflowProbe === undefined) {
    const recurse = () => recurse() + 1;
    try {
      recurse();
    } catch (probe) {
      stackOverflowProbe = { name: probe?.name, message: probe?.message };
    }
  }
  return (
    err != null &&
    typeof err === 'object' &&
    err.name === stackOverflowProbe.name &&
    err.message === stackOverflowProbe.message
  );
}

function getIteratorBraces(type, tag) {
  if (tag !== `${type} Iterator`) {
    tag = tag === '' ? `${type} Iterator` : `${tag}] [${type} Iterator`;
  }
  return [`[${tag}] {`, '}'];
}

// Contents JavaScript cannot enumerate without side effects (weak collections, and
// Map/Set iterators, which would be consumed).
function formatUnknownEntries(ctx) {
  return [ctx.stylize('<items unknown>', 'special')];
}

function getBoxedBase(value, ctx, keys, constructor, tag, builtin, rawTag) {
  let type;
  let primitive;
  const unknownBrand = builtin === null || constructor === null;
  if (builtin === 'Number' || (unknownBrand && passes(numberValueOf, value))) {
    type = 'Number';
    primitive = numberValueOf(value);
  } else if (builtin === 'String' || (unknownBrand && passes(stringValueOf, value))) {
    type = 'String';
    primitive = stringValueOf(value);
    // The character indices are own enumerable keys; they only add noise.
    keys.splice(0, primitive.length);
  } else if (builtin === 'Boolean' || (unknownBrand && passes(booleanValueOf, value))) {
    type = 'Boolean';
    primitive = booleanValueOf(value);
  } else if ((rawTag === 'BigInt' || unknownBrand) && passes(bigintValueOf, value)) {
    type = 'BigInt';
    primitive = bigintValueOf(value);
  } else if ((rawTag === 'Symbol' || unknownBrand) && passes(symbolValueOf, value)) {
    type = 'Symbol';
    primitive = symbolValueOf(value);
  } else {
    return '';
  }
  let base = `[${type}`;
  if (type !== constructor) base += constructor === null ? ' (null prototype)' : ` (${constructor})`;
  base += `: ${formatPrimitive(stylizeNoColor, primitive, ctx)}]`;
  if (tag !== '' && tag !== constructor) base += ` [${tag}]`;
  if (keys.length !== 0 || ctx.stylize === stylizeNoColor) return base;
  return ctx.stylize(base, type.toLowerCase());
}

const classBodyRe = /^(\s+[^(]*?)\s*{/;
const commentsRe = /(\/\/.*?\n)|(\/\*(.|\n)*?\*\/)/g;

function getFunctionBase(value, constructor, tag) {
  const source = functionToString(value);
  if (source.startsWith('class') && source.endsWith('}')) {
    // "class X extends (a, b) {" has a parenthesis before the body; tell that apart from
    // a function whose source merely starts with "class" after stripping comments.
    const rest = source.slice(5, -1);
    const brace = rest.indexOf('{');
    if (brace !== -1 && (!rest.slice(0, brace).includes('(') || classBodyRe.test(rest.replace(commentsRe, '')))) {
      return getClassBase(value, constructor, tag);
    }
  }
  let type = 'Function';
  const proto = getPrototypeOf(value);
  if (proto === GeneratorFunctionPrototype) type = 'GeneratorFunction';
  else if (proto === AsyncFunctionPrototype) type = 'AsyncFunction';
  else if (proto === AsyncGeneratorFunctionPrototype) type = 'AsyncGeneratorFunction';
  let base = `[${type}`;
  if (constructor === null) base += ' (null prototype)';
  base += value.name === '' ? ' (anonymous)' : `: ${value.name}`;
  base += ']';
  if (constructor !== type && constructor !== null) base += ` ${constructor}`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  return base;
}

function getClassBase(value, constructor, tag) {
  const name = (hasOwn(value, 'name') && value.name) || '(anonymous)';
  let base = `class ${name}`;
  if (constructor !== 'Function' && constructor !== null) base += ` [${constructor}]`;
  if (tag !== '' && constructor !== tag) base += ` [${tag}]`;
  if (constructor !== null) {
    const superName = getPrototypeOf(value).name;
    if (superName) base += ` extends ${superName}`;
  } else {
    base += ' extends [null prototype]';
  }
  return `[${base}]`;
}

// ---- errors -------------------------------------------------------------------------------------

// SpiderMonkey stack frames look like "name@file:line:col" and the stack has no
// "Name: message" header; V8-style output is what console readers (and Node's layout
// rules below) expect, so such stacks are rewritten to "Name: message\n    at name (...)".
const spiderMonkeyFrameRe = /^([^@\n]*)@(.*:\d+:\d+)$/;

// The runtime removes its own frames from stacks it shows (see errors.js).
let stackFilter = (stack) => stack;
export function setStackFilter(fn) {
  stackFilter = typeof fn === 'function' ? fn : (stack) => stack;
}

function getStackString(error) {
  return stackFilter(rawStackString(error));
}

function rawStackString(error) {
  let stack;
  try {
    stack = error.stack;
  } catch {
    stack = undefined;
  }
  if (!stack) return errorToString(error);
  stack = String(stack);
  const lines = stack.replace(/\n+$/, '').split('\n');
  if (lines.length > 0 && lines.every((line) => spiderMonkeyFrameRe.test(line))) {
    const frames = lines.map((line) => {
      const [, name, location] = spiderMonkeyFrameRe.exec(line);
      return name === '' ? `    at ${location}` : `    at ${name} (${location})`;
    });
    return `${errorToString(error)}\n${frames.join('\n')}`;
  }
  return stack;
}

function isErrorLike(value) {
  return value !== null && typeof value === 'object' && (builtinTagOf(value) === 'Error' || instanceOf(value, IntrinsicError));
}

// First index in `a` where at least four lines in a row also appear (in order) in `b`.
function findCommonFrames(a, b) {
  for (let i = 0; i < a.length - 3; i++) {
    const pos = b.indexOf(a[i]);
    if (pos === -1) continue;
    const rest = b.length - pos;
    if (rest <= 3) continue;
    const maxLen = Math.min(a.length - i, rest);
    let len = 1;
    while (len < maxLen && a[i + len] === b[pos + len]) len++;
    if (len > 3) return { len, offset: i };
  }
  return { len: 0, offset: 0 };
}

// Frames of `err`, with a run of frames shared with its cause's stack collapsed.
function getStackFrames(ctx, err, framesText) {
  const frames = framesText.split('\n');
  let cause;
  try {
    cause = err.cause;
  } catch {
    // A throwing `cause` getter is ignored.
  }
  if (cause != null && isErrorLike(cause)) {
    const causeStack = getStackString(cause);
    const at = causeStack.indexOf('\n    at');
    if (at !== -1) {
      const { len, offset } = findCommonFrames(frames, causeStack.slice(at + 1).split('\n'));
      if (len > 0) {
        const skipped = len - 2;
        frames.splice(offset + 1, skipped, ctx.stylize(`    ... ${skipped} lines matching cause stack trace ...`, 'undefined'));
      }
    }
  }
  return frames;
}

// Make the first line say what the object really is when its name and class differ,
// e.g. "TypeError [CustomName]: msg" or "[Error: null prototype]".
function improveStack(stack, constructor, name, tag) {
  let len = name.length;
  const looksNormal =
    name.endsWith('Error') &&
    stack.startsWith(name) &&
    (stack.length === len || stack[len] === ':' || stack[len] === '\n');
  if (constructor !== null && !looksNormal) return stack;
  let fallback = 'Error';
  if (constructor === null) {
    const m = /^([A-Z][a-z_ A-Z0-9[\]()-]+)(?::|\n {4}at)/.exec(stack) || /^([a-z_A-Z0-9-]*Error)$/.exec(stack);
    fallback = (m && m[1]) || '';
    len = fallback.length;
    fallback ||= 'Error';
  }
  const prefix = getPrefix(constructor, tag, fallback).slice(0, -1);
  if (name === prefix) return stack;
  if (prefix.includes(name)) {
    return len === 0 ? `${prefix}: ${stack}` : `${prefix}${stack.slice(len)}`;
  }
  return `${prefix} [${name}]${stack.slice(len)}`;
}

function formatError(err, constructor, tag, ctx, keys) {
  const name = err.name != null ? String(err.name) : 'Error';
  let stack = getStackString(err);

  // name/message/stack properties are dropped when the stack already shows them.
  if (!ctx.showHidden && keys.length !== 0) {
    for (const prop of ['name', 'message', 'stack']) {
      const index = keys.indexOf(prop);
      if (index !== -1 && stack.includes(err[prop])) keys.splice(index, 1);
    }
  }
  if ('cause' in err && (keys.length === 0 || !keys.includes('cause'))) keys.push('cause');
  if (isArray(err.errors) && (keys.length === 0 || !keys.includes('errors'))) keys.push('errors');

  stack = improveStack(stack, constructor, name, tag);

  // Frames start after the message (which may itself contain "\n    at").
  let pos = (err.message && stack.indexOf(err.message)) || -1;
  if (pos !== -1) pos += err.message.length;
  const framesStart = stack.indexOf('\n    at', pos);
  if (framesStart === -1) {
    stack = `[${stack}]`;
  } else {
    const frames = getStackFrames(ctx, err, stack.slice(framesStart + 1));
    stack = `${stack.slice(0, framesStart)}\n${frames.join('\n')}`;
  }
  if (ctx.indentationLvl !== 0) stack = stack.replaceAll('\n', `\n${' '.repeat(ctx.indentationLvl)}`);
  return stack;
}

// ---- collections ------------------------------------------------------------------------------

function moreItems(remaining) {
  return `... ${remaining} more item${remaining > 1 ? 's' : ''}`;
}

function formatArray(ctx, value, recurseTimes) {
  const length = value.length;
  const limit = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const output = [];
  for (let i = 0; i < limit; i++) {
    if (!hasOwn(value, i)) return formatSparseArray(ctx, value, recurseTimes, limit, output, i);
    output.push(formatProperty(ctx, value, recurseTimes, i, kArrayType));
  }
  if (length > limit) output.push(moreItems(length - limit));
  return output;
}

// Continue an array that has holes at `i`: runs of holes become "<n empty items>".
function formatSparseArray(ctx, value, recurseTimes, limit, output, i) {
  const keys = objectKeys(value);
  let index = i;
  for (; i < keys.length && output.length < limit; i++) {
    const key = keys[i];
    const n = +key;
    if (n > 2 ** 32 - 2) break; // past the indices
    if (`${index}` !== key) {
      if (!arrayIndexRe.test(key)) break;
      const holes = n - index;
      output.push(ctx.stylize(`<${holes} empty item${holes > 1 ? 's' : ''}>`, 'undefined'));
      index = n;
      if (output.length === limit) break;
    }
    output.push(formatProperty(ctx, value, recurseTimes, key, kArrayType));
    index++;
  }
  const remaining = value.length - index;
  if (output.length !== limit) {
    if (remaining > 0) output.push(ctx.stylize(`<${remaining} empty item${remaining > 1 ? 's' : ''}>`, 'undefined'));
  } else if (remaining > 0) {
    output.push(moreItems(remaining));
  }
  return output;
}

const bytesPerElement = {
  Int8Array: 1,
  Uint8Array: 1,
  Uint8ClampedArray: 1,
  Int16Array: 2,
  Uint16Array: 2,
  Int32Array: 4,
  Uint32Array: 4,
  Float32Array: 4,
  Float64Array: 8,
  BigInt64Array: 8,
  BigUint64Array: 8,
};

function formatTypedArray(value, length, ctx, recurseTimes) {
  const limit = Math.min(Math.max(0, ctx.maxArrayLength), length);
  const output = new Array(limit);
  const format = length > 0 && typeof value[0] === 'number' ? formatNumber : formatBigInt;
  for (let i = 0; i < limit; i++) output[i] = format(ctx.stylize, value[i], ctx.numericSeparator);
  if (length > limit) output[limit] = moreItems(length - limit);
  if (ctx.showHidden) {
    // Read through the intrinsic accessors so null-prototype typed arrays work too.
    const extras = [
      ['BYTES_PER_ELEMENT', bytesPerElement[typedArrayTag(value)]],
      ['length', length],
      ['byteLength', typedArrayByteLength(value)],
      ['byteOffset', typedArrayByteOffset(value)],
      ['buffer', typedArrayBuffer(value)],
    ];
    ctx.indentationLvl += 2;
    for (const [key, v] of extras) output.push(`[${key}]: ${formatValue(ctx, v, recurseTimes, true)}`);
    ctx.indentationLvl -= 2;
  }
  return output;
}

function formatArrayBuffer(ctx, value) {
  let bytes;
  try {
    bytes = new Uint8Array(value);
  } catch {
    return [ctx.stylize('(detached)', 'special')];
  }
  const shown = Math.min(ctx.maxArrayLength, bytes.length);
  let hex = '';
  for (let i = 0; i < shown; i++) hex += (i === 0 ? '' : ' ') + (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  const remaining = bytes.length - ctx.maxArrayLength;
  if (remaining > 0) hex += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
  return [`${ctx.stylize('[Uint8Contents]', 'special')}: <${hex}>`];
}

function formatSet(ctx, value, recurseTimes) {
  const size = setSize(value);
  const limit = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output = [];
  ctx.indentationLvl += 2;
  const it = setValues(value);
  for (let i = 0; i < limit; i++) {
    const step = setIteratorNext(it);
    if (step.done) break;
    output.push(formatValue(ctx, step.value, recurseTimes));
  }
  if (size > limit) output.push(moreItems(size - limit));
  ctx.indentationLvl -= 2;
  return output;
}

function formatMap(ctx, value, recurseTimes) {
  const size = mapSize(value);
  const limit = Math.min(Math.max(0, ctx.maxArrayLength), size);
  const output = [];
  ctx.indentationLvl += 2;
  const it = mapEntries(value);
  for (let i = 0; i < limit; i++) {
    const step = mapIteratorNext(it);
    if (step.done) break;
    const [k, v] = step.value;
    output.push(`${formatValue(ctx, k, recurseTimes)} => ${formatValue(ctx, v, recurseTimes)}`);
  }
  if (size > limit) output.push(moreItems(size - limit));
  ctx.indentationLvl -= 2;
  return output;
}

function formatPromise(ctx, details, recurseTimes) {
  if (details === undefined || details.state === 'pending') return [ctx.stylize('<pending>', 'special')];
  ctx.indentationLvl += 2;
  const str = formatValue(ctx, details.value, recurseTimes);
  ctx.indentationLvl -= 2;
  return [details.state === 'rejected' ? `${ctx.stylize('<rejected>', 'special')} ${str}` : str];
}

// Module namespace bindings still in their TDZ throw on access; show them as
// <uninitialized>, laid out exactly like a property with a value.
function formatNamespaceObject(keys, ctx, value, recurseTimes) {
  const output = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    try {
      output[i] = formatProperty(ctx, value, recurseTimes, keys[i], kObjectType);
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      const placeholder = formatProperty(ctx, { [keys[i]]: '' }, recurseTimes, keys[i], kObjectType);
      output[i] = placeholder.slice(0, placeholder.lastIndexOf(' ') + 1) + ctx.stylize('<uninitialized>', 'special');
    }
  }
  return output;
}

// ---- properties ---------------------------------------------------------------------------------

const identifierKeyRe = /^[a-zA-Z_][a-zA-Z_0-9]*$/;

function formatProperty(ctx, value, recurseTimes, key, type, desc, receiver = value) {
  let str;
  let separator = ' ';
  desc = desc || getOwnPropertyDescriptor(value, key) || { value: value[key], enumerable: true };
  if (desc.value !== undefined) {
    const diff = ctx.compact !== true || type !== kObjectType ? 2 : 3;
    ctx.indentationLvl += diff;
    str = formatValue(ctx, desc.value, recurseTimes);
    if (diff === 3 && ctx.breakLength < getStringWidth(str, ctx.colors)) {
      separator = `\n${' '.repeat(ctx.indentationLvl)}`;
    }
    ctx.indentationLvl -= diff;
  } else if (desc.get !== undefined) {
    const label = desc.set !== undefined ? 'Getter/Setter' : 'Getter';
    const s = ctx.stylize;
    const wanted =
      ctx.getters &&
      (ctx.getters === true ||
        (ctx.getters === 'get' && desc.set === undefined) ||
        (ctx.getters === 'set' && desc.set !== undefined));
    if (wanted) {
      try {
        const got = desc.get.call(receiver);
        ctx.indentationLvl += 2;
        if (got === null) str = `${s(`[${label}:`, 'special')} ${s('null', 'null')}${s(']', 'special')}`;
        else if (typeof got === 'object') str = `${s(`[${label}]`, 'special')} ${formatValue(ctx, got, recurseTimes)}`;
        else str = `${s(`[${label}:`, 'special')} ${formatPrimitive(s, got, ctx)}${s(']', 'special')}`;
        ctx.indentationLvl -= 2;
      } catch (err) {
        str = `${s(`[${label}:`, 'special')} <Inspection threw (${err.message})>${s(']', 'special')}`;
      }
    } else {
      str = s(`[${label}]`, 'special');
    }
  } else if (desc.set !== undefined) {
    str = ctx.stylize('[Setter]', 'special');
  } else {
    str = ctx.stylize('undefined', 'undefined');
  }
  if (type === kArrayType) return str;

  let name;
  if (typeof key === 'symbol') name = `[${ctx.stylize(escapeUnquoted(symbolToString(key)), 'symbol')}]`;
  else if (key === '__proto__') name = "['__proto__']";
  else if (desc.enumerable === false) name = `[${escapeUnquoted(key)}]`;
  else if (identifierKeyRe.test(key)) name = ctx.stylize(key, 'name');
  else name = ctx.stylize(quoteString(key), 'string');
  return `${name}:${separator}${str}`;
}

// ---- layout -----------------------------------------------------------------------------------------

// Lay out many short array entries in aligned columns (numbers right-aligned), e.g.
//   [
//      0,  1,  2, ...
//     10, 11, 12, ...
//   ]
function groupArrayElements(ctx, output, value) {
  let totalLength = 0;
  let maxLength = 0;
  // The trailing "... n more items" entry is not part of the grid.
  const outputLength = ctx.maxArrayLength < output.length ? output.length - 1 : output.length;
  const separatorSpace = 2; // ", "
  const dataLen = new Array(outputLength);
  for (let i = 0; i < outputLength; i++) {
    const len = getStringWidth(output[i], ctx.colors);
    dataLen[i] = len;
    totalLength += len + separatorSpace;
    if (maxLength < len) maxLength = len;
  }
  const actualMax = maxLength + separatorSpace;
  // Group only if three columns fit and no entry dwarfs the others.
  if (actualMax * 3 + ctx.indentationLvl < ctx.breakLength && (totalLength / actualMax > 5 || maxLength <= 6)) {
    // Aim for a roughly square block, assuming characters are 2.5 times as tall as wide;
    // short entries get a few more columns.
    const averageBias = Math.sqrt(actualMax - totalLength / output.length);
    const biasedMax = Math.max(actualMax - 3 - averageBias, 1);
    const columns = Math.min(
      Math.round(Math.sqrt(2.5 * biasedMax * outputLength) / biasedMax),
      Math.floor((ctx.breakLength - ctx.indentationLvl) / actualMax),
      ctx.compact * 4,
      15,
    );
    if (columns <= 1) return output;

    const maxLineLength = [];
    for (let i = 0; i < columns; i++) {
      let lineMax = 0;
      for (let j = i; j < output.length; j += columns) if (dataLen[j] > lineMax) lineMax = dataLen[j];
      maxLineLength.push(lineMax + separatorSpace);
    }
    let padStart = true;
    if (value !== undefined) {
      for (let i = 0; i < output.length; i++) {
        if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') {
          padStart = false;
          break;
        }
      }
    }
    const rows = [];
    for (let i = 0; i < outputLength; i += columns) {
      const end = Math.min(i + columns, outputLength);
      let row = '';
      let j = i;
      for (; j < end - 1; j++) {
        // Widths are display columns; padding works in code units, so correct for both.
        const width = maxLineLength[j - i] + output[j].length - dataLen[j];
        row += padStart ? `${output[j]}, `.padStart(width, ' ') : `${output[j]}, `.padEnd(width, ' ');
      }
      if (padStart) {
        const width = maxLineLength[j - i] + output[j].length - dataLen[j] - separatorSpace;
        row += output[j].padStart(width, ' ');
      } else {
        row += output[j];
      }
      rows.push(row);
    }
    if (ctx.maxArrayLength < output.length) rows.push(output[outputLength]);
    return rows;
  }
  return output;
}

function isBelowBreakLength(ctx, output, start, base) {
  // Entries are joined with at least a comma each, hence output.length up front.
  let totalLength = output.length + start;
  if (totalLength + output.length > ctx.breakLength) return false;
  for (const entry of output) {
    totalLength += ctx.colors ? entry.replace(sgrRe, '').length : entry.length;
    if (totalLength > ctx.breakLength) return false;
  }
  return base === '' || !base.includes('\n');
}

function reduceToSingleString(ctx, output, base, braces, extrasType, recurseTimes, value) {
  if (ctx.compact !== true) {
    if (typeof ctx.compact === 'number' && ctx.compact >= 1) {
      const entries = output.length;
      if (extrasType === kArrayExtrasType && entries > 6) output = groupArrayElements(ctx, output, value);
      // The innermost `compact` levels may share one line if it fits; currentDepth is the
      // depth of the most recently formatted nested object.
      if (ctx.currentDepth - recurseTimes < ctx.compact && entries === output.length) {
        const start = output.length + ctx.indentationLvl + braces[0].length + base.length + 10;
        if (isBelowBreakLength(ctx, output, start, base)) {
          const joined = output.join(', ');
          if (!joined.includes('\n')) {
            return `${base ? `${base} ` : ''}${braces[0]} ${joined} ${braces[1]}`;
          }
        }
      }
    }
    const indentation = `\n${' '.repeat(ctx.indentationLvl)}`;
    return `${base ? `${base} ` : ''}${braces[0]}${indentation}  ${output.join(`,${indentation}  `)}${indentation}${braces[1]}`;
  }
  // compact === true: fill lines, closing brace on the last line.
  if (isBelowBreakLength(ctx, output, 0, base)) {
    return `${braces[0]}${base ? ` ${base}` : ''} ${output.join(', ')} ${braces[1]}`;
  }
  const indentation = ' '.repeat(ctx.indentationLvl);
  const first = base === '' && braces[0].length === 1 ? ' ' : `${base ? ` ${base}` : ''}\n${indentation}  `;
  return `${braces[0]}${first}${output.join(`,\n${indentation}  `)} ${braces[1]}`;
}
