// The `scheduler` global: scheduler.wait(ms, { signal }), as in the Workers runtime — an
// awaitable setTimeout that an AbortSignal can cancel. It uses the runtime's timers
// (timers.js), so it works only inside a handler, like setTimeout.
import { clearTimeout, setTimeout } from "./timers.js";
import { isAbortSignal, onAbort } from "./abort.js";

const kCreate = Symbol("Scheduler");

export class Scheduler {
  constructor(token = undefined) {
    if (token !== kCreate) throw new TypeError("Illegal constructor");
  }

  wait(delay, options = undefined) {
    if (!(this instanceof Scheduler)) return Promise.reject(new TypeError("Illegal invocation"));
    if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
      return Promise.reject(new TypeError("Failed to execute 'wait' on 'Scheduler': The provided value is not of type 'WaitOptions'."));
    }
    const signal = options?.signal;
    if (signal !== undefined && !isAbortSignal(signal)) {
      return Promise.reject(new TypeError("Failed to execute 'wait' on 'Scheduler': member signal is not of type AbortSignal."));
    }
    if (signal !== undefined && signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let unregister = null;
      const id = setTimeout(() => {
        if (unregister !== null) unregister();
        resolve();
      }, Number(delay) || 0);
      if (signal !== undefined) {
        unregister = onAbort(signal, (reason) => {
          clearTimeout(id);
          reject(reason);
        });
      }
    });
  }
}
Object.defineProperty(Scheduler.prototype, "wait", { enumerable: true });
Object.defineProperty(Scheduler.prototype, Symbol.toStringTag, { value: "Scheduler", configurable: true });

export const scheduler = new Scheduler(kCreate);
