// The global fetch(): a Worker's outbound requests to origins this test runs itself (node:http
// and node:https on 127.0.0.1). Bodies both ways (buffered and streamed), a large streamed
// response through the Worker with bounded memory, headers, redirects, connection reuse,
// network failures, abort, the subrequest limit and fetch() at global scope.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDev, worker, sleep, SLOW, SANITIZED, rssKiB, sendGenerated, drainSamplingRss, listenLoopback, closeServer } from "./lib/harness.mjs";

const SOURCE = `
let globalScopeError = null;
try {
  fetch("http://127.0.0.1:1/");
} catch (e) {
  globalScopeError = e.message;
}

const json = (v, status = 200) => new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
const describe = (e) => ({ name: e?.name, message: String(e?.message ?? e) });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const u = url.searchParams.get("u");
    try {
      switch (url.pathname) {
        case "/get": {
          const r = await fetch(u, { headers: { "x-from-worker": "yes", "x-empty": "" }, cf: { cacheTtl: 5 } });
          return json({ status: r.status, statusText: r.statusText, headers: [...r.headers], text: await r.text() });
        }
        case "/post": {
          const r = await fetch(u, { method: "POST", body: "ping-" + "x".repeat(1000), headers: { "content-type": "text/x-test" } });
          return json({ status: r.status, body: await r.json() });
        }
        case "/put-bytes": {
          const bytes = new Uint8Array(3 * 1024 * 1024);
          for (let i = 0; i < bytes.length; i++) bytes[i] = i & 255;
          const r = await fetch(u, { method: "PUT", body: bytes });
          return json(await r.json());
        }
        case "/post-stream": {
          let i = 0;
          const enc = new TextEncoder();
          const body = new ReadableStream({
            async pull(c) {
              await new Promise((r) => setTimeout(r, 5));
              if (i === 5) { c.close(); return; }
              c.enqueue(enc.encode("chunk" + i++ + ";"));
            },
          });
          const r = await fetch(u, { method: "POST", body });
          return json(await r.json());
        }
        case "/post-stream-big": {
          // 8 MiB produced in 64 KiB pieces: the producer waits while the upload is behind.
          let sent = 0;
          const body = new ReadableStream({
            pull(c) {
              if (sent >= 8 * 1024 * 1024) { c.close(); return; }
              sent += 65536;
              c.enqueue(new Uint8Array(65536).fill(97));
            },
          });
          const r = await fetch(u, { method: "POST", body });
          return json(await r.json());
        }
        case "/proxy": {
          const r = await fetch(u);
          return new Response(r.body, { status: r.status, headers: r.headers });
        }
        case "/proxy-js": {
          // Through a stream of the Worker's: every chunk passes through JavaScript (an
          // untouched body is moved by C instead; see fetch_splice.test.mjs).
          const r = await fetch(u);
          return new Response(r.body.pipeThrough(new TransformStream()), { status: r.status, headers: r.headers });
        }
        case "/forward": {
          // The incoming request, forwarded whole to another URL.
          const r = await fetch(u, request);
          return json(await r.json());
        }
        case "/request-input": {
          const req = new Request(u, { method: "PATCH", body: "patched", headers: { "x-custom": "1" } });
          const r = await fetch(req);
          return json(await r.json());
        }
        case "/echo-through": {
          // The incoming request's body, streamed on to the origin.
          const r = await fetch(u, { method: "POST", body: request.body });
          return json(await r.json());
        }
        case "/redirect": {
          const mode = url.searchParams.get("mode");
          const method = url.searchParams.get("method") ?? "GET";
          const r = await fetch(u, { redirect: mode, method, body: method === "GET" ? undefined : "payload" });
          return json({ status: r.status, location: r.headers.get("location"), body: await r.text(), url: r.url, redirected: r.redirected });
        }
        case "/seq": {
          const ports = [];
          for (let i = 0; i < 4; i++) {
            const r = await fetch(u);
            await r.text();
            ports.push(r.headers.get("x-remote-port"));
          }
          return json(ports);
        }
        case "/read-all": {
          const r = await fetch(u);
          const t = await r.text();
          return json({ length: t.length });
        }
        case "/read-stream": {
          // Reads the body to the end, reporting a stream error rather than failing.
          const r = await fetch(u);
          const reader = r.body.getReader();
          let n = 0;
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              n += value.byteLength;
            }
            return json({ ok: true, n });
          } catch (e) {
            return json({ ok: false, n, error: describe(e) });
          }
        }
        case "/unread": {
          // Looks at the head only; the body is never read.
          const r = await fetch(u);
          return json({ status: r.status });
        }
        case "/abort-head": {
          if (typeof AbortController !== "function") return json({ skipped: true });
          const c = new AbortController();
          setTimeout(() => c.abort(new Error("gave up waiting")), 50);
          const t0 = Date.now();
          try {
            await fetch(u, { signal: c.signal });
            return json({ ok: true });
          } catch (e) {
            return json({ ok: false, error: describe(e), ms: Date.now() - t0 });
          }
        }
        case "/abort-body": {
          if (typeof AbortController !== "function") return json({ skipped: true });
          const c = new AbortController();
          const r = await fetch(u, { signal: c.signal });
          const reader = r.body.getReader();
          await reader.read();
          c.abort(new Error("stop reading"));
          try {
            for (;;) {
              const { done } = await reader.read();
              if (done) return json({ ok: true });
            }
          } catch (e) {
            return json({ ok: false, error: describe(e) });
          }
        }
        case "/abort-before": {
          if (typeof AbortController !== "function") return json({ skipped: true });
          const c = new AbortController();
          c.abort(new Error("already"));
          try {
            await fetch(u, { signal: c.signal });
            return json({ ok: true });
          } catch (e) {
            return json({ ok: false, error: describe(e) });
          }
        }
        case "/limit": {
          let done = 0;
          for (let i = 0; i < 1001; i++) {
            try {
              await fetch(u);
              done++;
            } catch (e) {
              if (e.message === "Too many subrequests.") return json({ done, error: e.message });
              done++;
            }
          }
          return json({ done });
        }
        case "/parallel": {
          const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => fetch(u + "?i=" + i).then((r) => r.text())));
          return json(rs);
        }
        case "/bad-body": {
          // A request body stream that fails midway: the fetch rejects with its error.
          let n = 0;
          const body = new ReadableStream({
            pull(c) {
              if (n++ === 2) throw new Error("producer broke");
              c.enqueue(new Uint8Array(1000));
            },
          });
          try {
            await fetch(u, { method: "POST", body });
            return json({ ok: true });
          } catch (e) {
            return json({ ok: false, error: describe(e) });
          }
        }
        case "/cancel": {
          // Cancelling the body stops the transfer; the next fetch still works.
          const r = await fetch(u);
          const reader = r.body.getReader();
          await reader.read();
          await reader.cancel("enough");
          const again = await fetch(u.replace("/big", "/hello"));
          return json({ status: again.status, text: await again.text() });
        }
        case "/global":
          return json({ globalScopeError });
        case "/bad-scheme":
          try {
            await fetch("ftp://127.0.0.1/x");
            return json({ ok: true });
          } catch (e) {
            return json({ ok: false, error: describe(e) });
          }
        default: {
          // Errors (DNS, refused, TLS, ...) come back as a description.
          try {
            const r = await fetch(u);
            return json({ ok: true, status: r.status, text: await r.text() });
          } catch (e) {
            return json({ ok: false, error: describe(e) });
          }
        }
      }
    } catch (e) {
      return json({ uncaught: describe(e) }, 500);
    }
  },
};
`;

const BIG = 50 * 1024 * 1024;
let server, origin, originUrl, tlsOrigin, tlsUrl, tlsDir;
let connections = 0;

function body(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

async function handle(req, res) {
  const u = new URL(req.url, "http://x");
  res.setHeader("x-remote-port", String(req.socket.remotePort));
  switch (u.pathname) {
    case "/hello":
      res.setHeader("x-origin", "node");
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.writeHead(201, "Made It", { "content-type": "text/plain" });
      res.end(`hello ${req.headers["x-from-worker"]} empty=${JSON.stringify(req.headers["x-empty"])} accept=${req.headers.accept ?? "none"}`);
      return;
    case "/echo": {
      const b = await body(req);
      res.setHeader("content-type", "application/json");
      let sum = 0;
      for (const x of b) sum = (sum + x) % 65521;
      res.end(JSON.stringify({
        method: req.method,
        host: req.headers.host,
        custom: req.headers["x-custom"] ?? null,
        length: b.length,
        sum,
        text: b.length < 2000 ? b.toString() : null,
        contentType: req.headers["content-type"] ?? null,
        contentLength: req.headers["content-length"] ?? null,
        chunked: req.headers["transfer-encoding"] === "chunked",
      }));
      return;
    }
    case "/big":
      sendGenerated(res, Number(u.searchParams.get("size") ?? BIG));
      return;
    case "/redir": {
      const to = u.searchParams.get("to");
      const code = Number(u.searchParams.get("code") ?? 302);
      res.writeHead(code, { location: to });
      res.end("redirect body");
      return;
    }
    case "/loop":
      res.writeHead(302, { location: "/loop" });
      res.end();
      return;
    case "/reset":
      res.writeHead(200, { "content-type": "text/plain", "content-length": "1000000" });
      res.write(Buffer.alloc(100000, 65));
      setTimeout(() => req.socket.destroy(), 50);
      return;
    case "/hang": {
      // answers late (after whoever asked has given up)
      const t = setTimeout(() => res.end("late"), 3000);
      res.on("close", () => clearTimeout(t));
      return;
    }
    case "/slow-body": {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first");
      const t = setInterval(() => res.write("more"), 20);
      res.on("close", () => clearInterval(t));
      return;
    }
    case "/nobody":
      res.writeHead(204);
      res.end();
      return;
    default:
      res.end("ok");
  }
}

before(async () => {
  origin = http.createServer(handle);
  origin.keepAliveTimeout = 30000;
  origin.on("connection", () => connections++);
  originUrl = `http://127.0.0.1:${await listenLoopback(origin)}`;

  // An HTTPS origin with a self-signed certificate.
  tlsDir = mkdtempSync(path.join(tmpdir(), "hearth-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", path.join(tlsDir, "key.pem"), "-out", path.join(tlsDir, "cert.pem"),
  ], { stdio: "ignore" });
  tlsOrigin = https.createServer(
    { key: readFileSync(path.join(tlsDir, "key.pem")), cert: readFileSync(path.join(tlsDir, "cert.pem")) },
    (req, res) => res.end("secure hello"),
  );
  tlsUrl = `https://127.0.0.1:${await listenLoopback(tlsOrigin)}`;

  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});

after(async () => {
  await server?.stop();
  closeServer(origin);
  closeServer(tlsOrigin);
});

const call = async (p, u, init) => {
  const res = await server.fetch(`${p}${p.includes("?") ? "&" : "?"}u=${encodeURIComponent(u)}`, init);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text, status: res.status };
  }
};

test("GET: status, status text and headers both ways; cf is accepted", async () => {
  const r = await call("/get", `${originUrl}/hello`);
  assert.equal(r.status, 201);
  assert.equal(r.statusText, "Made It");
  assert.equal(r.text, 'hello yes empty="" accept=none');
  const h = new Map(r.headers);
  assert.equal(h.get("x-origin"), "node");
  assert.equal(h.get("content-type"), "text/plain");
  assert.equal(h.get("keep-alive"), undefined); // the origin hop's own
  assert.equal(h.get("connection"), undefined);
  assert.deepEqual(r.headers.filter(([n]) => n === "set-cookie").map(([, v]) => v), ["a=1", "b=2"]);
});

test("POST with a string body: content-length and content-type are sent", async () => {
  const r = await call("/post", `${originUrl}/echo`);
  assert.equal(r.status, 200);
  assert.equal(r.body.method, "POST");
  assert.equal(r.body.length, 1005);
  assert.equal(r.body.contentLength, "1005");
  assert.equal(r.body.contentType, "text/x-test");
  assert.equal(r.body.chunked, false);
  assert.ok(r.body.text.startsWith("ping-xxx"));
});

test("PUT with a 3 MiB byte body arrives intact", async () => {
  const r = await call("/put-bytes", `${originUrl}/echo`);
  assert.equal(r.method, "PUT");
  assert.equal(r.contentType, null); // bytes have no type
  assert.equal(r.contentLength, String(3 * 1024 * 1024));
  assert.equal(r.length, 3 * 1024 * 1024);
  let sum = 0;
  for (let i = 0; i < 3 * 1024 * 1024; i++) sum = (sum + (i & 255)) % 65521;
  assert.equal(r.sum, sum);
});

test("a ReadableStream request body is streamed with chunked encoding", async () => {
  const r = await call("/post-stream", `${originUrl}/echo`);
  assert.equal(r.chunked, true);
  assert.equal(r.text, "chunk0;chunk1;chunk2;chunk3;chunk4;");
  const big = await call("/post-stream-big", `${originUrl}/echo`);
  assert.equal(big.length, 8 * 1024 * 1024);
  assert.equal(big.chunked, true);
});

test("the incoming request's body can be forwarded", async () => {
  const payload = Buffer.alloc(200000, 66);
  const r = await call("/echo-through", `${originUrl}/echo`, { method: "POST", body: payload });
  assert.equal(r.length, payload.length);
});

test("a Request as input; an incoming request forwarded whole (Host from the URL)", async () => {
  const r = await call("/request-input", `${originUrl}/echo`);
  assert.equal(r.method, "PATCH");
  assert.equal(r.text, "patched");
  assert.equal(r.custom, "1");
  const f = await call("/forward", `${originUrl}/echo`, { method: "PUT", body: "forwarded", headers: { "x-custom": "2" } });
  assert.equal(f.method, "PUT");
  assert.equal(f.text, "forwarded");
  assert.equal(f.custom, "2");
  assert.equal(f.host, new URL(originUrl).host);
});

test("a 50 MB response streams through a Worker's stream without the process growing", async () => {
  const proxy = async () => {
    const res = await server.fetch(`/proxy-js?u=${encodeURIComponent(`${originUrl}/big`)}`);
    assert.equal(res.status, 200);
    const { total, peak } = await drainSamplingRss(res.body, server.child.pid, { every: 32 });
    assert.equal(total, BIG);
    return peak;
  };
  // Warm up: the realm, streams, the client and the engine's GC heap reach their working size
  // (the chunks are garbage the collector frees in batches; see docs/runtime-apis.md).
  await proxy();
  await proxy();
  const before = rssKiB(server.child.pid);
  const peak = Math.max(await proxy(), await proxy(), rssKiB(server.child.pid));
  const grown = peak - before;
  // Bounded by the queues (64 KiB chunks, 256 KiB of socket output), not by the body's size.
  if (!SANITIZED) assert.ok(grown < 16 * 1024, `RSS grew by ${grown} KiB while proxying 2 x 50 MB`);
});

test("a body the Worker reads whole arrives whole; a body nobody reads is dropped", async () => {
  // 20 MB: the body, its concatenation and the string must fit the 128 MiB memory limit.
  const all = await call("/read-all", `${originUrl}/big?size=20000000`);
  assert.equal(all.length, 20000000);
  const unread = await call("/unread", `${originUrl}/big`);
  assert.equal(unread.status, 200);
  // The server is still healthy.
  assert.equal((await call("/get", `${originUrl}/hello`)).status, 201);
});

test("redirects: follow (with 303 → GET), manual, error, too many", async () => {
  const follow = await call("/redirect?mode=follow", `${originUrl}/redir?to=/hello`);
  assert.equal(follow.status, 201);
  assert.match(follow.body, /^hello/);
  assert.equal(follow.url, `${originUrl}/hello`, "response.url is where it came from");
  assert.equal(follow.redirected, true);

  const post303 = await call("/redirect?mode=follow&method=POST", `${originUrl}/redir?code=303&to=/echo`);
  assert.equal(JSON.parse(post303.body).method, "GET");
  const post307 = await call("/redirect?mode=follow&method=POST", `${originUrl}/redir?code=307&to=/echo`);
  assert.equal(JSON.parse(post307.body).method, "POST");
  assert.equal(JSON.parse(post307.body).text, "payload");
  const post301 = await call("/redirect?mode=follow&method=POST", `${originUrl}/redir?code=301&to=/echo`);
  assert.equal(JSON.parse(post301.body).method, "GET");

  const manual = await call("/redirect?mode=manual", `${originUrl}/redir?to=/hello`);
  assert.equal(manual.status, 302);
  assert.equal(manual.location, "/hello");
  assert.equal(manual.body, "redirect body");
  assert.equal(manual.redirected, false);
  assert.equal(manual.url, `${originUrl}/redir?to=/hello`);

  const error = await call("/redirect?mode=error", `${originUrl}/redir?to=/hello`);
  assert.equal(error.uncaught.name, "TypeError");
  assert.match(error.uncaught.message, /redirect/);

  const loop = await call("/redirect?mode=follow", `${originUrl}/loop`);
  assert.equal(loop.uncaught.message, "Too many redirects.");
});

test("sequential fetches to one origin reuse one connection", async () => {
  const before = connections;
  const ports = await call("/seq", `${originUrl}/hello`);
  assert.equal(ports.length, 4);
  assert.equal(new Set(ports).size, 1, `remote ports ${ports}`);
  assert.ok(connections - before <= 1);
});

test("network failures reject with clear messages", async () => {
  const dns = await call("/err", "http://no-such-host.invalid/");
  assert.equal(dns.ok, false);
  assert.match(dns.error.message, /DNS lookup failed.*no-such-host\.invalid/);

  // A port nothing listens on.
  const probe = http.createServer();
  await new Promise((r) => probe.listen(0, "127.0.0.1", r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const refused = await call("/err", `http://127.0.0.1:${port}/`);
  assert.equal(refused.ok, false);
  assert.match(refused.error.message, /Could not connect to 127\.0\.0\.1:\d+/);

  const scheme = await call("/bad-scheme", "");
  assert.equal(scheme.ok, false);
  assert.equal(scheme.error.name, "TypeError");
});

test("a self-signed HTTPS origin is a TLS error, not a crash", async () => {
  const r = await call("/err", `${tlsUrl}/`);
  assert.equal(r.ok, false);
  assert.match(r.error.message, /TLS error talking to 127\.0\.0\.1/);
});

test("HTTPS works when the certificate is trusted (HEARTH_CA_FILE); HEARTH_FETCH_TIMEOUT_MS", async () => {
  const trusted = await startDev(worker(SOURCE), ["--threads", "1"], {
    env: { HEARTH_CA_FILE: path.join(tlsDir, "cert.pem"), HEARTH_FETCH_TIMEOUT_MS: "1500" },
  });
  try {
    const res = await trusted.fetch(`/err?u=${encodeURIComponent(`${tlsUrl}/`)}`);
    const r = await res.json();
    assert.deepEqual(r, { ok: true, status: 200, text: "secure hello" });
    // An origin that answers after 3 s: the request times out first.
    const late = await (await trusted.fetch(`/err?u=${encodeURIComponent(`${originUrl}/hang`)}`)).json();
    assert.equal(late.ok, false);
    assert.match(late.error.message, /timed out/);
  } finally {
    await trusted.stop();
  }
});

test("an upstream reset mid-body errors the Worker's stream", async () => {
  const r = await call("/read-stream", `${originUrl}/reset`);
  assert.equal(r.ok, false);
  assert.ok(r.n >= 0 && r.n < 1000000);
  assert.match(r.error.message, /Network connection lost/);
});

test("concurrent fetches, a failing request body, a cancelled response body", async () => {
  const par = await call("/parallel", `${originUrl}/hello`);
  assert.equal(par.length, 10);
  assert.ok(par.every((t) => t.startsWith("hello")));
  const bad = await call("/bad-body", `${originUrl}/echo`);
  assert.deepEqual(bad, { ok: false, error: { name: "Error", message: "producer broke" } });
  const cancel = await call("/cancel", `${originUrl}/big`);
  assert.equal(cancel.status, 201);
});

test("a 204 response has a null body", async () => {
  const r = await call("/err", `${originUrl}/nobody`);
  assert.deepEqual(r, { ok: true, status: 204, text: "" });
});

test("abort: before the head, while reading the body, and already aborted", async () => {
  const head = await call("/abort-head", `${originUrl}/hang`);
  assert.equal(head.skipped, undefined, "AbortController exists");
  assert.equal(head.ok, false);
  assert.equal(head.error.message, "gave up waiting");
  const mid = await call("/abort-body", `${originUrl}/slow-body`);
  assert.equal(mid.ok, false);
  assert.equal(mid.error.message, "stop reading");
  const early = await call("/abort-before", `${originUrl}/hello`);
  assert.equal(early.ok, false);
  assert.equal(early.error.message, "already");
});

test("the 1001st subrequest of one invocation fails with workerd's message", async () => {
  const r = await call("/limit", `${originUrl}/hello`);
  assert.deepEqual(r, { done: 1000, error: "Too many subrequests." });
});

test("fetch() at global scope throws the global-scope error", async () => {
  const r = await (await server.fetch("/global")).json();
  assert.match(r.globalScopeError, /^Disallowed operation called within global scope/);
});

test("a client that leaves while its Worker's fetch is in flight disturbs nothing", async () => {
  // The client gives up; the Worker's invocation is still waiting on /hang.
  const ac = new AbortController();
  const p = server.fetch(`/err?u=${encodeURIComponent(`${originUrl}/hang`)}`, { signal: ac.signal }).catch(() => null);
  await sleep(200 * SLOW);
  ac.abort();
  await p;
  assert.equal((await call("/get", `${originUrl}/hello`)).status, 201);
});
