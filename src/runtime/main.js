// The runtime's entry module. Evaluated first in every Worker realm: installs the Web APIs
// (globals.js), then receives the Worker's module namespace (init) and every event C delivers
// (dispatch).
import "./globals.js";
import ops from "./ops.js";
import { buildEnv } from "./env.js";
import { onDrain, startFetch, startRpc, startScheduled, startTail } from "./invocation.js";
import { fireTimer } from "./timers.js";

let worker = null;

// Called once, after the Worker's modules were evaluated.
export function init(namespace, bindingsJson, workerJson) {
  const facts = JSON.parse(workerJson);
  worker = {
    namespace,
    env: buildEnv(JSON.parse(bindingsJson), facts),
    facts,
  };
}

// Every event from C: kind, then its arguments (primitives only).
export function dispatch(kind, a, b, c, d, e, f, g) {
  switch (kind) {
    case "fetch":
      // (invocation id, method, url, raw header lines, body bytes | null, client ip)
      startFetch(worker, a, b, c, d, e, f);
      return;
    case "serviceFetch":
      // (invocation id, method, url, raw header lines, body bytes | pipe id | null): a service
      // binding's fetch(); a streamed body arrives through a pipe (service.js)
      startFetch(worker, a, b, c, d, typeof e === "number" ? ops.loadModule("service.js").pipeStream(e) : e, "", true);
      return;
    case "rpc":
      // (invocation id, entrypoint export name ("" = default), method, arguments (serialized))
      startRpc(worker, a, b, c, d);
      return;
    case "serviceReply":
      // (ticket, status, statusText, header lines, body | pipe id | null, RPC bytes | null, RPC ok)
      ops.loadModule("service.js").settle(a, b, c, d, e, f, g);
      return;
    case "servicePipe":
      // (pipe id, "read" | "write", cancelled): the other end of a streamed body moved
      ops.loadModule("service.js").onPipe(a, b, c);
      return;
    case "tail":
      // (invocation id, JSON array of trace events)
      startTail(worker, a, b);
      return;
    case "scheduled":
      // (invocation id, cron, scheduledTime in ms, answer an HTTP request (dev's /__scheduled))
      startScheduled(worker, a, b, c, d);
      return;
    case "timer":
      fireTimer(a);
      return;
    case "drain":
      onDrain(a);
      return;
    case "wsMessage": // (handle, string | ArrayBuffer)
    case "wsClose": // (handle, code, reason, wasClean)
    case "wsHandshake": // (handle, status, head | failure, protocol | body): an outbound socket's
      ops.loadModule("websocket.js").onWebSocketEvent(kind, a, b, c, d);
      return;
    case "ratelimit":
      ops.loadModule("ratelimit.js").settle(a, b);
      return;
    case "fetchHead": // (handle, status, statusText, header lines)
    case "fetchData": // (handle, bytes)
    case "fetchEnd": // (handle)
    case "fetchError": // (handle, message)
    case "fetchDrain": // (handle)
    case "fetchSpliceError": // (invocation id, message)
      ops.loadModule("fetch.js").onFetchEvent(kind, a, b, c, d);
      return;
    default:
      throw new Error(`hearth runtime: unknown event ${kind}`);
  }
}
