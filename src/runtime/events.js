// Event, CustomEvent and EventTarget (DOM Standard, https://dom.spec.whatwg.org/#events), as
// the Workers runtime exposes them. There is no tree here: an event's path is its target
// alone, so dispatch runs the target's capture listeners, then its other listeners, both in
// the AT_TARGET phase.
//
// Loaded lazily (globals.js) and imported by abort.js.
import ops from "./ops.js";
import { DOMException, formatError, reportException } from "./errors.js";

// An exception thrown by a listener is reported as uncaught and dispatch goes on, as for a
// timer callback (timers.js). Outside hearth (the Node unit tests) there are no ops: the
// reporter can be replaced.
let reportListenerError = (err) => reportUncaught(err, "Uncaught exception in an event listener: ");

// Reports `err` as uncaught without failing the request; in global scope, where there is no
// request to report it with, it goes to console.error (workerd logs it there too).
export function reportUncaught(err, prefix) {
  const id = ops.currentInvocation();
  if (id === 0) {
    ops.loadModule("console.js").console.error(prefix + formatError(err));
    return;
  }
  reportException(ops, id, err, { prefix, logOnly: true });
}
export function setListenerErrorReporter(fn) {
  reportListenerError = fn;
}

function isObject(v) {
  return v !== null && (typeof v === "object" || typeof v === "function");
}

let eventState; // (event) → the event itself, or a TypeError for a non-Event
let dispatchImpl; // (target, event, listenersOf) → !canceled

export class Event {
  #type;
  #bubbles;
  #cancelable;
  #composed;
  #timeStamp;
  #target = null;
  #currentTarget = null;
  #phase = 0;
  #canceled = false;
  #stopPropagation = false;
  #stopImmediate = false;
  #inPassiveListener = false;
  #dispatching = false;

  constructor(type, init = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
    }
    if (init !== undefined && init !== null && !isObject(init)) {
      throw new TypeError("Failed to construct 'Event': The provided value is not of type 'EventInit'.");
    }
    this.#type = String(type);
    this.#bubbles = Boolean(init?.bubbles);
    this.#cancelable = Boolean(init?.cancelable);
    this.#composed = Boolean(init?.composed);
    this.#timeStamp = Date.now();
  }

  get type() {
    return eventState(this).#type;
  }
  get target() {
    return eventState(this).#target;
  }
  get srcElement() {
    return eventState(this).#target;
  }
  get currentTarget() {
    return eventState(this).#currentTarget;
  }
  get eventPhase() {
    return eventState(this).#phase;
  }
  get bubbles() {
    return eventState(this).#bubbles;
  }
  get cancelable() {
    return eventState(this).#cancelable;
  }
  get composed() {
    return eventState(this).#composed;
  }
  get defaultPrevented() {
    return eventState(this).#canceled;
  }
  get returnValue() {
    return !eventState(this).#canceled;
  }
  set returnValue(value) {
    const e = eventState(this);
    if (!value) e.#cancel();
  }
  get cancelBubble() {
    return eventState(this).#stopPropagation;
  }
  set cancelBubble(value) {
    const e = eventState(this);
    if (value) e.#stopPropagation = true;
  }
  get isTrusted() {
    eventState(this);
    return false;
  }
  get timeStamp() {
    return eventState(this).#timeStamp;
  }
  composedPath() {
    const e = eventState(this);
    return e.#dispatching && e.#currentTarget !== null ? [e.#currentTarget] : [];
  }
  preventDefault() {
    eventState(this).#cancel();
  }
  stopPropagation() {
    eventState(this).#stopPropagation = true;
  }
  stopImmediatePropagation() {
    const e = eventState(this);
    e.#stopPropagation = true;
    e.#stopImmediate = true;
  }

  #cancel() {
    if (this.#cancelable && !this.#inPassiveListener) this.#canceled = true;
  }

  static {
    eventState = (e) => {
      if (!isObject(e) || !(#type in e)) throw new TypeError("Illegal invocation");
      return e;
    };
    // dispatchEvent (below) is the only other code that touches an event's flags.
    dispatchImpl = (target, event, listenersOf) => {
      if (event.#dispatching) {
        throw new DOMException("The event is already being dispatched.", "InvalidStateError");
      }
      event.#dispatching = true;
      event.#target = target;
      event.#currentTarget = target;
      event.#phase = 2; // AT_TARGET
      try {
        // Capture listeners first, then the others (the spec's two passes over the path).
        for (const capturePass of [true, false]) {
          if (event.#stopPropagation) break;
          const list = listenersOf(event.#type);
          if (list === undefined) continue;
          // A snapshot: listeners added during dispatch do not run; removed ones are
          // skipped through their `removed` flag.
          for (const l of list.slice()) {
            if (l.removed || l.capture !== capturePass) continue;
            if (l.once) l.remove();
            let fn = l.callback;
            let thisArg = target;
            if (typeof fn !== "function") {
              thisArg = fn;
              try {
                fn = fn.handleEvent;
                if (typeof fn !== "function") throw new TypeError("'handleEvent' property of the event listener is not callable.");
              } catch (err) {
                reportListenerError(err);
                continue;
              }
            }
            if (l.passive) event.#inPassiveListener = true;
            try {
              fn.call(thisArg, event);
            } catch (err) {
              reportListenerError(err);
            }
            event.#inPassiveListener = false;
            if (event.#stopImmediate) break;
          }
        }
      } finally {
        event.#dispatching = false;
        event.#phase = 0;
        event.#currentTarget = null;
        event.#stopPropagation = false;
        event.#stopImmediate = false;
      }
      return !event.#canceled;
    };
  }
}

for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
  Object.defineProperty(Event, name, { value, enumerable: true });
  Object.defineProperty(Event.prototype, name, { value, enumerable: true });
}

export class CustomEvent extends Event {
  #detail;
  constructor(type, init = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to construct 'CustomEvent': 1 argument required, but only 0 present.");
    }
    super(type, init);
    this.#detail = init?.detail ?? null;
  }
  get detail() {
    if (!isObject(this) || !(#detail in this)) throw new TypeError("Illegal invocation");
    return this.#detail;
  }
}

// addEventListener's options: a boolean is `capture`.
function flattenOptions(options) {
  return { capture: isObject(options) ? Boolean(options.capture) : Boolean(options) };
}

let targetState;
let abortHooks = null; // { isAbortSignal, onAbort } from abort.js, set when it loads

export function setAbortHooks(hooks) {
  abortHooks = hooks;
}

export class EventTarget {
  #listeners = new Map(); // type → [{ callback, capture, once, passive, removed, remove }]

  constructor() {}

  addEventListener(type, callback, options = undefined) {
    const self = targetState(this);
    if (arguments.length < 2) {
      throw new TypeError(`Failed to execute 'addEventListener' on 'EventTarget': 2 arguments required, but only ${arguments.length} present.`);
    }
    type = String(type);
    if (callback !== null && !isObject(callback)) {
      throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': parameter 2 is not of type 'Object'.");
    }
    const { capture } = flattenOptions(options);
    let once = false;
    let passive = false;
    let signal;
    if (isObject(options)) {
      once = Boolean(options.once);
      passive = Boolean(options.passive);
      signal = options.signal;
      if (signal !== undefined && (abortHooks === null || !abortHooks.isAbortSignal(signal))) {
        throw new TypeError("Failed to execute 'addEventListener' on 'EventTarget': member signal is not of type AbortSignal.");
      }
    }
    if (callback === null) return;
    if (signal !== undefined && signal.aborted) return;
    let list = self.#listeners.get(type);
    if (list === undefined) self.#listeners.set(type, (list = []));
    for (const l of list) if (l.callback === callback && l.capture === capture) return;
    const listener = {
      callback,
      capture,
      once,
      passive,
      removed: false,
      unregister: null, // stops following `signal`
      remove() {
        if (listener.removed) return;
        listener.removed = true;
        if (listener.unregister !== null) listener.unregister();
        const i = list.indexOf(listener);
        if (i >= 0) list.splice(i, 1);
      },
    };
    list.push(listener);
    if (signal !== undefined) listener.unregister = abortHooks.onAbort(signal, () => listener.remove());
  }

  removeEventListener(type, callback, options = undefined) {
    const self = targetState(this);
    if (arguments.length < 2) {
      throw new TypeError(`Failed to execute 'removeEventListener' on 'EventTarget': 2 arguments required, but only ${arguments.length} present.`);
    }
    type = String(type);
    if (callback !== null && !isObject(callback)) {
      throw new TypeError("Failed to execute 'removeEventListener' on 'EventTarget': parameter 2 is not of type 'Object'.");
    }
    const { capture } = flattenOptions(options);
    const list = self.#listeners.get(type);
    if (list === undefined) return;
    for (const l of list) {
      if (l.callback === callback && l.capture === capture) {
        l.remove();
        return;
      }
    }
  }

  dispatchEvent(event) {
    const self = targetState(this);
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': 1 argument required, but only 0 present.");
    }
    try {
      eventState(event);
    } catch {
      throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
    }
    return dispatchImpl(self, event, (type) => self.#listeners.get(type));
  }

  static {
    targetState = (t) => {
      if (!isObject(t) || !(#listeners in t)) throw new TypeError("Illegal invocation");
      return t;
    };
  }
}

// Is `v` an EventTarget (created by this module's constructor)?
export function isEventTarget(v) {
  try {
    targetState(v);
    return true;
  } catch {
    return false;
  }
}

// WebIDL: attributes and operations are enumerable; @@toStringTag is a data property.
for (const [cls, name] of [[Event, "Event"], [CustomEvent, "CustomEvent"], [EventTarget, "EventTarget"]]) {
  for (const key of Object.getOwnPropertyNames(cls.prototype)) {
    if (key === "constructor" || typeof Object.getOwnPropertyDescriptor(cls.prototype, key).value === "number") continue;
    Object.defineProperty(cls.prototype, key, { enumerable: true });
  }
  Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
}
