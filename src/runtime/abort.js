// AbortController and AbortSignal (DOM Standard, https://dom.spec.whatwg.org/#aborting-ongoing-activities).
//
// Internal API, for other runtime modules (fetch(), streams, scheduler.wait). Import them
// from "./abort.js" (or ops.loadModule("abort.js") to keep this module out of realms that
// never use it):
//
//   isAbortSignal(v) → true if v is a real AbortSignal (a brand check: an object merely
//     inheriting AbortSignal.prototype, or a look-alike, is not one). Never throws.
//
//   onAbort(signal, fn) → unregister()
//     Calls fn(reason) once, when `signal` is aborted, before the signal's "abort" event is
//     dispatched to Worker code (these are the spec's "abort algorithms": Worker code cannot
//     remove them or stop them with stopImmediatePropagation()). If the signal is ALREADY
//     aborted, fn is NOT called: check `signal.aborted` first and act on `signal.reason`
//     yourself. unregister() removes fn (call it when the operation finished without being
//     aborted, so a long-lived signal does not keep every finished operation alive); it is
//     harmless after the abort. An exception thrown by fn is reported as uncaught (like a
//     listener's) and the other algorithms still run. `signal` must satisfy isAbortSignal().
//
//   abortSignal(signal, reason) — aborts `signal` as its controller would.
//
// Timer-based signals (AbortSignal.timeout) use the runtime's timers (timers.js): they may
// only be created inside a handler (in global scope timerStart throws the platform's
// "Disallowed operation called within global scope" error) and belong to the request that
// created them — when that request ends its timers are cancelled, so a timeout signal kept in
// module state and used by a later request never fires. A pending timeout does not extend a
// request: the request still ends when its response is sent and its waitUntil promises
// settled.
import { DOMException } from "./errors.js";
import { Event, EventTarget, reportUncaught, setAbortHooks } from "./events.js";
import { setTimeout } from "./timers.js";

const kCreate = Symbol("AbortSignal");

let reportAlgorithmError = (err) => reportUncaught(err, "Uncaught exception in an abort algorithm: ");
export function setAbortAlgorithmErrorReporter(fn) {
  reportAlgorithmError = fn;
}

let signalState; // (signal) → the signal, or a TypeError for anything else
let signalAbort; // (signal, reason): the spec's "signal abort"
export let isAbortSignal;
export let onAbort;

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #algorithms = new Set(); // fn(reason), run once on abort
  #onabort = null; // the `onabort` event handler
  #onabortListener = null; // its listener, added on first non-null set (keeps its position)
  #dependent = false; // made by AbortSignal.any()
  #sources = null; // any(): the (non-dependent) signals it follows
  #dependents = null; // the any() signals following this one

  constructor(token = undefined) {
    if (token !== kCreate) throw new TypeError("Illegal constructor");
    super();
  }

  get aborted() {
    return signalState(this).#aborted;
  }
  get reason() {
    return signalState(this).#reason;
  }
  throwIfAborted() {
    const s = signalState(this);
    if (s.#aborted) throw s.#reason;
  }
  get onabort() {
    return signalState(this).#onabort;
  }
  set onabort(value) {
    const s = signalState(this);
    // An EventHandler is a nullable callback function: any other value is null.
    const handler = typeof value === "function" || (value !== null && typeof value === "object") ? value : null;
    s.#onabort = handler;
    if (handler === null) {
      if (s.#onabortListener !== null) {
        EventTarget.prototype.removeEventListener.call(s, "abort", s.#onabortListener);
        s.#onabortListener = null;
      }
    } else if (s.#onabortListener === null) {
      s.#onabortListener = function (event) {
        const h = s.#onabort;
        if (typeof h === "function") return h.call(this, event);
      };
      EventTarget.prototype.addEventListener.call(s, "abort", s.#onabortListener);
    }
  }

  static abort(reason = undefined) {
    const signal = new AbortSignal(kCreate);
    signal.#aborted = true;
    signal.#reason = reason === undefined ? defaultReason() : reason;
    return signal;
  }

  static timeout(ms) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': 1 argument required, but only 0 present.");
    }
    // [EnforceRange] unsigned long long
    const n = Number(ms);
    if (!Number.isFinite(n) || Math.trunc(n) < 0 || Math.trunc(n) > Number.MAX_SAFE_INTEGER) {
      throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': Value is outside the 'unsigned long long' value range.");
    }
    const signal = new AbortSignal(kCreate);
    setTimeout(() => {
      signalAbort(signal, new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    }, Math.trunc(n));
    return signal;
  }

  static any(signals) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'any' on 'AbortSignal': 1 argument required, but only 0 present.");
    }
    if (!(signals !== null && typeof signals === "object") || typeof signals[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to execute 'any' on 'AbortSignal': The provided value cannot be converted to a sequence.");
    }
    const list = Array.from(signals);
    for (const s of list) {
      if (!isAbortSignal(s)) {
        throw new TypeError("Failed to execute 'any' on 'AbortSignal': Failed to convert value to 'AbortSignal'.");
      }
    }
    const result = new AbortSignal(kCreate);
    for (const s of list) {
      if (s.#aborted) {
        result.#aborted = true;
        result.#reason = s.#reason;
        return result;
      }
    }
    result.#dependent = true;
    result.#sources = new Set();
    const follow = (source) => {
      if (result.#sources.has(source)) return;
      result.#sources.add(source);
      (source.#dependents ??= new Set()).add(result);
    };
    for (const s of list) {
      if (s.#dependent) {
        for (const source of s.#sources) follow(source);
      } else {
        follow(s);
      }
    }
    return result;
  }

  static {
    signalState = (s) => {
      if (s === null || (typeof s !== "object" && typeof s !== "function") || !(#aborted in s)) {
        throw new TypeError("Illegal invocation");
      }
      return s;
    };
    isAbortSignal = (v) => v !== null && (typeof v === "object" || typeof v === "function") && #aborted in v;
    onAbort = (signal, fn) => {
      const s = signalState(signal);
      if (s.#aborted) return () => {};
      // A wrapper, so the same fn registered twice runs twice and unregisters separately.
      const algorithm = (reason) => fn(reason);
      s.#algorithms.add(algorithm);
      return () => s.#algorithms.delete(algorithm);
    };
    // "Signal abort" (DOM): set the reason, run the algorithms, fire "abort", then do the
    // same for the any() signals that follow it.
    signalAbort = (signal, reason) => {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason === undefined ? defaultReason() : reason;
      const dependents = [];
      if (signal.#dependents !== null) {
        for (const d of signal.#dependents) {
          if (d.#aborted) continue;
          d.#aborted = true;
          d.#reason = signal.#reason;
          dependents.push(d);
        }
        signal.#dependents = null;
      }
      runAbortSteps(signal);
      for (const d of dependents) runAbortSteps(d);
    };
    const runAbortSteps = (signal) => {
      const algorithms = signal.#algorithms;
      signal.#algorithms = new Set();
      for (const fn of algorithms) {
        try {
          fn(signal.#reason);
        } catch (err) {
          reportAlgorithmError(err);
        }
      }
      // A dependent no longer needs its sources (nor they it).
      if (signal.#sources !== null) {
        for (const source of signal.#sources) source.#dependents?.delete(signal);
        signal.#sources = null;
      }
      EventTarget.prototype.dispatchEvent.call(signal, new Event("abort"));
    };
  }
}

export function abortSignal(signal, reason) {
  signalAbort(signalState(signal), reason);
}

function defaultReason() {
  return new DOMException("The operation was aborted.", "AbortError");
}

export class AbortController {
  #signal = new AbortSignal(kCreate);
  get signal() {
    if (!(this !== null && typeof this === "object" && #signal in this)) throw new TypeError("Illegal invocation");
    return this.#signal;
  }
  abort(reason = undefined) {
    if (!(this !== null && typeof this === "object" && #signal in this)) throw new TypeError("Illegal invocation");
    signalAbort(this.#signal, reason);
  }
}

// A signal that never aborts (a Request's when it was given none).
export function neverAbortingSignal() {
  return new AbortSignal(kCreate);
}

setAbortHooks({ isAbortSignal, onAbort });

// WebIDL: attributes and operations are enumerable; @@toStringTag is a data property.
for (const [cls, name] of [[AbortSignal, "AbortSignal"], [AbortController, "AbortController"]]) {
  for (const target of [cls.prototype, cls]) {
    for (const key of Object.getOwnPropertyNames(target)) {
      if (key === "constructor" || key === "prototype" || key === "length" || key === "name") continue;
      Object.defineProperty(target, key, { enumerable: true });
    }
  }
  Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
}
