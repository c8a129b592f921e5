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
for (const [name, code] of Object.entries(LEGACY_CODES)) {
  const constant = name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase().replace(/_ERROR$/, "_ERR");
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
