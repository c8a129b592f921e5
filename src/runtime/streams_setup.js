// Streams as the platform loads them (lazily, on first use of a stream class or of a body as a
// stream): the classes and the internal body API of streams.js, with the native ArrayBuffer
// transfer wired in so byte streams detach buffers as the spec says.
import ops from "./ops.js";
import { setAbortControllerFactory, setAbortSignalCheck, setArrayBufferTransfer } from "./streams.js";

export * from "./streams.js";

setArrayBufferTransfer((buffer) => ops.transferArrayBuffer(buffer));
// WritableStreamDefaultController.signal and pipeTo()'s signal: the real AbortController and
// AbortSignal (abort.js, loaded only when a stream needs one).
setAbortControllerFactory(() => new (ops.loadModule("abort.js").AbortController)());
setAbortSignalCheck((value) => ops.loadModule("abort.js").isAbortSignal(value));
