// DOMException, and turning any thrown value into the text hearth logs.

// Legacy numeric codes of the names that have one (WebIDL).
const LEGACY_CODES = {
  IndexSizeError: 1,
  HierarchyRequestError: 3,
  WrongDocumentError: 4,
  InvalidCharacterError: 5,
  NoModificationAllowedError: 7,
  NotFoundError: 8,
  NotSupportedError: 9,
  InvalidStateError: 11,
  SyntaxError: 12,
  InvalidModificationError: 13,
  NamespaceError: 14,
  InvalidAccessError: 15,
  TypeMismatchError: 17,
  SecurityError: 18,
  NetworkError: 19,
  AbortError: 20,
  URLMismatchError: 21,
  QuotaExceededError: 22,
  TimeoutError: 23,
  InvalidNodeTypeError: 24,
  DataCloneError: 25,
};

export class DOMException extends Error {
  #name;
  #message;
  constructor(message = "", options = "Error") {
    const opts = options !== null && typeof options === "object" ? options : null;
    super(String(message), opts && "cause" in opts ? { cause: opts.cause } : undefined);
    this.#message = String(message);
    this.#name = opts ? (opts.name === undefined ? "Error" : String(opts.name)) : String(options);
  }
  get name() {
    return this.#name;
  }
  get message() {
    return this.#message;
  }
  get code() {
    return LEGACY_CODES[this.#name] ?? 0;
  }
  get [Symbol.toStringTag]() {
    return "DOMException";
  }
}
// `message` is an own data property of Error instances; keep the getter authoritative.
Object.defineProperty(DOMException.prototype, "name", { enumerable: true });
// The legacy constants (INDEX_SIZE_ERR = 1, ...), written out rather than derived with a regular
// expression at load: evaluating one would set up RegExp in every realm.
const LEGACY_CONSTANTS = [
  ["INDEX_SIZE_ERR", 1], ["DOMSTRING_SIZE_ERR", 2], ["HIERARCHY_REQUEST_ERR", 3],
  ["WRONG_DOCUMENT_ERR", 4], ["INVALID_CHARACTER_ERR", 5], ["NO_DATA_ALLOWED_ERR", 6],
  ["NO_MODIFICATION_ALLOWED_ERR", 7], ["NOT_FOUND_ERR", 8], ["NOT_SUPPORTED_ERR", 9],
  ["INUSE_ATTRIBUTE_ERR", 10], ["INVALID_STATE_ERR", 11], ["SYNTAX_ERR", 12],
  ["INVALID_MODIFICATION_ERR", 13], ["NAMESPACE_ERR", 14], ["INVALID_ACCESS_ERR", 15],
  ["VALIDATION_ERR", 16], ["TYPE_MISMATCH_ERR", 17], ["SECURITY_ERR", 18], ["NETWORK_ERR", 19],
  ["ABORT_ERR", 20], ["URL_MISMATCH_ERR", 21], ["QUOTA_EXCEEDED_ERR", 22], ["TIMEOUT_ERR", 23],
  ["INVALID_NODE_TYPE_ERR", 24], ["DATA_CLONE_ERR", 25],
];
for (let i = 0; i < LEGACY_CONSTANTS.length; i++) {
  const [constant, code] = LEGACY_CONSTANTS[i];
  Object.defineProperty(DOMException, constant, { value: code, enumerable: true });
  Object.defineProperty(DOMException.prototype, constant, { value: code, enumerable: true });
}

// Frames of the runtime's own modules ("hearth:...") say nothing about the Worker's code; the
// platform's stacks do not show its internals either.
export function withoutRuntimeFrames(stack) {
  if (!stack.includes("hearth:")) return stack;
  return stack
    .split("\n")
    .filter((line) => !/^\s+at (.* \()?hearth:/.test(line))
    .join("\n");
}

// The text of an uncaught exception: "Name: message" and the stack, as V8 prints it.
export function formatError(err) {
  if (err !== null && typeof err === "object") {
    let name, message, stack;
    try {
      name = err.name;
      message = err.message;
      stack = err.stack;
    } catch {
      return "Uncaught exception (its properties could not be read)";
    }
    if (name !== undefined || message !== undefined) {
      const head = message === "" || message === undefined ? String(name ?? "Error") : `${name ?? "Error"}: ${message}`;
      if (typeof stack !== "string" || stack === "") return head;
      stack = withoutRuntimeFrames(stack);
      return stack.startsWith(head) ? stack : `${head}\n${stack}`;
    }
  }
  try {
    return `Uncaught ${typeof err === "string" ? err : String(err)}`;
  } catch {
    return "Uncaught exception";
  }
}

// An exception's parts for C: [name, message, stack], the stack with every frame (C maps it
// through the version's source maps, which needs each frame's real caller, then drops the
// runtime's frames). Never throws.
function errorParts(err) {
  if (err !== null && typeof err === "object") {
    try {
      const name = err.name === undefined ? "Error" : String(err.name);
      const message = err.message === undefined ? "" : String(err.message);
      const stack = typeof err.stack === "string" ? err.stack : "";
      return [name, message, stack];
    } catch {
      return ["Error", "(its properties could not be read)", ""];
    }
  }
  try {
    return ["Error", typeof err === "string" ? err : String(err), ""];
  } catch {
    return ["Error", "", ""];
  }
}

// Reports an uncaught exception of invocation `id` to C. The console shows
// prefix + formatError(err) + suffix (C shows the source-mapped stack instead when the
// version has maps); the trace event records name, message and stack. logOnly: it does not
// fail the request (a rejected waitUntil promise, an exception in a timer callback, ...).
// The platform's error for I/O, timers and randomness in a Worker's global scope (its code runs
// once, at load, for every request after): they are only available inside a handler.
export const GLOBAL_SCOPE_MESSAGE =
  "Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or connect()), " +
  "setting a timeout, and generating random values are not allowed within global scope. To fix " +
  "this error, perform this operation within a handler.";

export function reportException(ops, id, err, { prefix = "", suffix = "", logOnly = false } = {}) {
  const [name, message, stack] = errorParts(err);
  ops.reportException(id, prefix + formatError(err) + suffix, logOnly, name, message, stack, prefix, suffix);
}
