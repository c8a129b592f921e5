// setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask. The clock lives in C
// (a uv timer per JavaScript timer, owned by the request that set it); here are the callbacks.
import ops from "./ops.js";
import { reportException } from "./errors.js";

const timers = new Map(); // id → { fn, args, repeat, invocation }

function start(fn, delay, args, repeat) {
  if (typeof fn !== "function") {
    throw new TypeError(
      `Failed to execute '${repeat ? "setInterval" : "setTimeout"}': parameter 1 is not of type 'Function'.`,
    );
  }
  const ms = Number(delay) || 0;
  const id = ops.timerStart(ms, repeat);
  timers.set(id, { fn, args, repeat, invocation: ops.currentInvocation() });
  return id;
}

function clear(id) {
  if (typeof id !== "number" || !timers.has(id)) return;
  timers.delete(id);
  ops.timerCancel(id);
}

export function setTimeout(fn, delay = 0, ...args) {
  return start(fn, delay, args, false);
}
export function setInterval(fn, delay = 0, ...args) {
  return start(fn, delay, args, true);
}
export function clearTimeout(id) {
  clear(id);
}
export function clearInterval(id) {
  clear(id);
}

export function queueMicrotask(fn) {
  if (typeof fn !== "function") {
    throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
  }
  // An error thrown by the callback is an uncaught exception, not a rejected promise.
  Promise.resolve().then(() => {
    try {
      fn();
    } catch (err) {
      reportException(ops, ops.currentInvocation(), err, { prefix: "Uncaught (in queueMicrotask) ", logOnly: true });
    }
  });
}

export function fireTimer(id) {
  const t = timers.get(id);
  if (!t) return;
  if (!t.repeat) timers.delete(id);
  try {
    t.fn.apply(globalThis, t.args);
  } catch (err) {
    // The request goes on: an exception in a timer callback is only reported.
    reportException(ops, t.invocation, err, { prefix: "Uncaught exception in a timer callback: ", logOnly: true });
  }
}

// The invocation ended: C cancelled its timers; drop their callbacks.
export function forgetInvocationTimers(invocation) {
  for (const [id, t] of timers) if (t.invocation === invocation) timers.delete(id);
}
