// ByteLengthQueuingStrategy and CountQueuingStrategy
// (https://streams.spec.whatwg.org/#qs-api).
//
// Each realm has exactly one "size" function per strategy class, so
// `new CountQueuingStrategy({highWaterMark: 1}).size === new CountQueuingStrategy({highWaterMark: 2}).size`.
// This module is evaluated once per Worker realm, which gives that identity for free.

import { dictGet, exposeInterface, illegalInvocation, requireArgs, toDictionary, toNumber } from './streams_common.js';

// Method shorthand gives functions named "size" that are not constructors and have no
// `prototype`, like the spec's CreateBuiltinFunction results. Lengths: 1 and 0.
const byteLengthSize = {
  size(chunk) {
    return chunk.byteLength;
  },
}.size;

const countSize = {
  size() {
    return 1;
  },
}.size;

// Brand checks, assigned from the classes' static blocks (declared first: static blocks run
// while the class is being defined).
let isByteLengthStrategy;
let isCountStrategy;

// QueuingStrategyInit: { required unrestricted double highWaterMark }
function convertInit(init, iface) {
  const context = `Failed to construct '${iface}'`;
  const dict = toDictionary(init, `${context}: the init argument`);
  const hwm = dictGet(dict, 'highWaterMark');
  if (hwm === undefined) throw new TypeError(`${context}: required member highWaterMark is undefined.`);
  return toNumber(hwm);
}

export class ByteLengthQueuingStrategy {
  #highWaterMark;

  constructor(init) {
    requireArgs(arguments.length, 1, "Failed to construct 'ByteLengthQueuingStrategy'");
    this.#highWaterMark = convertInit(init, 'ByteLengthQueuingStrategy');
  }

  get highWaterMark() {
    if (!isByteLengthStrategy(this)) throw illegalInvocation('ByteLengthQueuingStrategy');
    return this.#highWaterMark;
  }

  get size() {
    if (!isByteLengthStrategy(this)) throw illegalInvocation('ByteLengthQueuingStrategy');
    return byteLengthSize;
  }

  static {
    isByteLengthStrategy = (o) => typeof o === 'object' && o !== null && #highWaterMark in o;
  }
}

export class CountQueuingStrategy {
  #highWaterMark;

  constructor(init) {
    requireArgs(arguments.length, 1, "Failed to construct 'CountQueuingStrategy'");
    this.#highWaterMark = convertInit(init, 'CountQueuingStrategy');
  }

  get highWaterMark() {
    if (!isCountStrategy(this)) throw illegalInvocation('CountQueuingStrategy');
    return this.#highWaterMark;
  }

  get size() {
    if (!isCountStrategy(this)) throw illegalInvocation('CountQueuingStrategy');
    return countSize;
  }

  static {
    isCountStrategy = (o) => typeof o === 'object' && o !== null && #highWaterMark in o;
  }
}

exposeInterface(ByteLengthQueuingStrategy, 'ByteLengthQueuingStrategy');
exposeInterface(CountQueuingStrategy, 'CountQueuingStrategy');
