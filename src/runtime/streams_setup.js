// Streams as the platform loads them (lazily, on first use of a stream class or of a body as a
// stream): the classes and the internal body API of streams.js, with the native ArrayBuffer
// transfer wired in so byte streams detach buffers as the spec says.
import ops from "./ops.js";
import { setArrayBufferTransfer } from "./streams.js";

export * from "./streams.js";

setArrayBufferTransfer((buffer) => ops.transferArrayBuffer(buffer));
