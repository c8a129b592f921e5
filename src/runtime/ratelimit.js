// The rate limiting binding: env.X.limit({ key }) → Promise<{ success }> (docs/rate-limiting.md).
// The decision is made in C (src/ratelimit/): at once by the embedded backend, or later by
// memcached, whose answer comes back as a "ratelimit" event with the ticket of the call.
import ops from "./ops.js";

const waiting = new Map(); // ticket → resolve
let nextTicket = 1;

// dispatch("ratelimit", ticket, success)
export function settle(ticket, success) {
  const resolve = waiting.get(ticket);
  if (resolve) {
    waiting.delete(ticket);
    resolve({ success });
  }
}

export class RateLimit {
  #namespaceId;
  #limit;
  #period;

  constructor(binding) {
    this.#namespaceId = binding.namespace_id;
    this.#limit = binding.simple.limit;
    this.#period = binding.simple.period;
  }

  // Not an async function: those cost a promise and a job more per call, and this is on the
  // request path of every request it limits. Errors still reject rather than throw.
  limit(options) {
    try {
      if (options === null || typeof options !== "object") {
        throw new TypeError(`limit() expects an object such as { key: "..." }, got ${describe(options)}`);
      }
      const key = options.key;
      if (typeof key !== "string") {
        throw new TypeError(`limit(): "key" must be a string, got ${describe(key)}`);
      }
      const ticket = nextTicket++;
      const decided = ops.rateLimit(ticket, this.#namespaceId, key, this.#limit, this.#period);
      if (decided >= 0) return Promise.resolve({ success: decided === 1 });
      return new Promise((resolve) => waiting.set(ticket, resolve));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

function describe(value) {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  return typeof value;
}
