// The native ops object, captured once and removed from the global before any Worker code
// runs: only runtime modules can reach C.
const ops = globalThis.__hearth_ops;
delete globalThis.__hearth_ops;
export default ops;
