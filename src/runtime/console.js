// console: formats arguments like Node's util.format (inspect.js) and hands the text to C,
// which writes it (dev) and, later, records it in the invocation's trace.
import ops from "./ops.js";
import { withoutRuntimeFrames } from "./errors.js";
import {
  formatLogArgs,
  inspect,
  setNonIndexKeysInspector,
  setPromiseStateInspector,
  setProxyInspector,
  setStackFilter,
} from "./inspect.js";

// What inspect() cannot see from JavaScript comes from native ops.
setPromiseStateInspector((p) => {
  const s = ops.promiseState(p);
  return s === null ? undefined : { state: s[0], value: s[1] };
});
setProxyInspector((v) => {
  const parts = ops.proxyParts(v);
  return parts === null ? undefined : { target: parts[0], handler: parts[1] };
});
setNonIndexKeysInspector((obj, includeNonEnumerable) => ops.nonIndexKeys(obj, includeNonEnumerable));
setStackFilter(withoutRuntimeFrames);

const counts = new Map();
const timersByLabel = new Map();
let groupIndent = "";

function emit(level, args) {
  let text = formatLogArgs(args);
  if (groupIndent) text = groupIndent + text.replace(/\n/g, "\n" + groupIndent);
  // C says whether someone watches this invocation (tail, Tail Workers, stored logs); only
  // then are the values turned into the JSON the trace event carries.
  if (ops.log(level, text)) ops.traceLog(level, valuesJson(args, text));
}

// The logged values as a JSON array, as tail shows them: JSON-able values as they are,
// other things (functions, symbols, bigints, errors, cycles) as readable strings.
function valuesJson(args, text) {
  const seen = new WeakSet();
  try {
    return JSON.stringify(args, function (key, value) {
      switch (typeof value) {
        case "bigint":
          return `${value}n`;
        case "function":
          return `[Function: ${value.name || "(anonymous)"}]`;
        case "symbol":
          return value.toString();
        case "undefined":
          return "undefined";
        case "object":
          if (value === null) return null;
          if (value instanceof Error) return inspect(value);
          if (seen.has(value)) return "[Circular]";
          seen.add(value);
          return value;
        default:
          return value;
      }
    });
  } catch {
    return JSON.stringify([text]);
  }
}

function now() {
  return Date.now();
}

export const console = {
  log(...args) {
    emit("log", args);
  },
  info(...args) {
    emit("info", args);
  },
  debug(...args) {
    emit("debug", args);
  },
  warn(...args) {
    emit("warn", args);
  },
  error(...args) {
    emit("error", args);
  },
  // As Node: "Trace: <message>" and the caller's stack, on stderr; the runtime's own frames
  // (this method, the dispatcher) are left out.
  trace(...args) {
    const frames = withoutRuntimeFrames(String(new Error().stack))
      .split("\n")
      .filter((line) => /^\s+at /.test(line))
      .join("\n");
    emit("error", ["Trace" + (args.length ? ": " + formatLogArgs(args) : "") + (frames ? "\n" + frames : "")]);
  },
  dir(value, options) {
    emit("log", [inspect(value, options)]);
  },
  assert(condition, ...args) {
    if (condition) return;
    if (args.length === 0) args = ["Assertion failed"];
    else if (typeof args[0] === "string") args = ["Assertion failed: " + args[0], ...args.slice(1)];
    else args = ["Assertion failed:", ...args];
    emit("error", args);
  },
  count(label = "default") {
    const key = String(label);
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    emit("info", [`${key}: ${n}`]);
  },
  countReset(label = "default") {
    counts.delete(String(label));
  },
  time(label = "default") {
    timersByLabel.set(String(label), now());
  },
  timeLog(label = "default", ...args) {
    const start = timersByLabel.get(String(label));
    if (start === undefined) return emit("warn", [`Timer '${label}' does not exist`]);
    emit("info", [`${label}: ${now() - start}ms`, ...args]);
  },
  timeEnd(label = "default") {
    const start = timersByLabel.get(String(label));
    if (start === undefined) return emit("warn", [`Timer '${label}' does not exist`]);
    timersByLabel.delete(String(label));
    emit("info", [`${label}: ${now() - start}ms`]);
  },
  group(...args) {
    if (args.length) emit("log", args);
    groupIndent += "  ";
  },
  groupCollapsed(...args) {
    this.group(...args);
  },
  groupEnd() {
    groupIndent = groupIndent.slice(0, -2);
  },
  table(data) {
    emit("log", [data]);
  },
};
Object.defineProperty(console, Symbol.toStringTag, { value: "console", configurable: true });
