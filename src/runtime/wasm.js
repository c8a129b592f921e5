// WebAssembly, as the engine provides it, with its promise-returning functions made aware of
// the request they serve: compilation runs on a helper thread, so the request must stay open
// (not be taken for hung) while it does, and what follows the await must run as part of it.
import ops from "./ops.js";

const WA = ops.engineWebAssembly();

for (const name of ["compile", "instantiate"]) {
  const original = WA[name];
  const wrapped = {
    [name](...args) {
      const id = ops.pendingBegin();
      const settle = (fn) => (value) =>
        ops.withAsyncContext(id, () => {
          ops.pendingEnd(id);
          fn(value);
        });
      return new Promise((resolve, reject) => {
        original.apply(WA, args).then(settle(resolve), settle(reject));
      });
    },
  }[name];
  Object.defineProperty(wrapped, "length", { value: original.length });
  Object.defineProperty(WA, name, { value: wrapped, writable: true, enumerable: true, configurable: true });
}

export { WA as WebAssembly };
