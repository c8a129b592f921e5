// HTTP/1.1 server behaviour of `hearth dev`: keep-alive, pipelining, chunked bodies, HEAD,
// Expect: 100-continue, limits (431, 413, 408), idle close, malformed requests, shutdown.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, worker, rawExchange, parseResponses, sleep, SLOW } from "./lib/harness.mjs";

const SOURCE = `
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/echo") {
      const body = await request.text();
      return new Response(body, { headers: { "x-method": request.method, "x-length": String(body.length) } });
    }
    if (url.pathname === "/slow") {
      await new Promise((r) => setTimeout(r, Number(url.searchParams.get("ms") ?? 300)));
      return new Response("slow done");
    }
    if (url.pathname === "/big") return new Response("x".repeat(Number(url.searchParams.get("n"))));
    if (url.pathname === "/nocontent") return new Response(null, { status: 204 });
    if (url.pathname === "/header") return new Response(request.headers.get(url.searchParams.get("name")) ?? "none");
    return new Response("path:" + url.pathname);
  },
};
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE), [
    "--threads", "2",
    "--max-body-size", "100000",
    "--request-timeout", String(0.6 * SLOW),
    "--idle-timeout", String(1.2 * SLOW),
  ]);
});
after(async () => {
  await server.stop();
});

const get = (path, extra = "") => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;

test("keep-alive: sequential requests share one connection", async () => {
  const { data, closed } = await rawExchange(server.port, [get("/a"), get("/b")], { gapMs: 150, idle: 500 });
  const responses = parseResponses(data);
  assert.deepEqual(responses.map((r) => r.body), ["path:/a", "path:/b"]);
  assert.equal(closed, false, "connection stays open between requests");
});

test("pipelining: responses come back in request order", async () => {
  const batch = get("/slow?ms=100") + get("/two") + get("/three");
  const { data } = await rawExchange(server.port, batch, { idle: 1500 * SLOW });
  const responses = parseResponses(data);
  assert.deepEqual(responses.map((r) => r.body), ["slow done", "path:/two", "path:/three"]);
});

test("chunked request bodies are decoded", async () => {
  const req =
    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  const [res] = parseResponses((await rawExchange(server.port, req)).data);
  assert.equal(res.status, 200);
  assert.equal(res.body, "hello, world");
  assert.equal(res.headers["x-length"], "12");
});

test("HEAD responses carry the length but no body", async () => {
  const { data } = await rawExchange(server.port, "HEAD /big?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n" + get("/after"));
  const head = data.split("\r\n\r\n")[0];
  assert.match(head, /^HTTP\/1\.1 200 OK/);
  assert.match(head, /content-length: 1000/);
  // The next response follows immediately: no body bytes in between.
  const rest = data.slice(head.length + 4);
  assert.match(rest, /^HTTP\/1\.1 200 OK/);
  assert.ok(rest.endsWith("path:/after"));
});

test("204 responses have no body and no content-length", async () => {
  const [res] = parseResponses((await rawExchange(server.port, get("/nocontent"))).data);
  assert.equal(res.status, 204);
  assert.equal(res.headers["content-length"], undefined);
});

test("Expect: 100-continue gets an interim response before the body is sent", async () => {
  const head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n";
  const { data } = await rawExchange(server.port, [head, "body"], { gapMs: 200 });
  assert.match(data, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  assert.ok(data.endsWith("body"));
});

test("a header section over 128 KiB is rejected with 431", async () => {
  const req = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(130 * 1024)}\r\n\r\n`;
  const { data, closed } = await rawExchange(server.port, req);
  assert.match(data, /^HTTP\/1\.1 431 Request Header Fields Too Large/);
  assert.equal(closed, true);
});

test("a declared body over the limit is rejected with 413 before it is read", async () => {
  const req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n";
  const { data, closed } = await rawExchange(server.port, req);
  assert.match(data, /^HTTP\/1\.1 413 Payload Too Large/);
  assert.equal(closed, true);
});

test("a chunked body that grows over the limit is rejected with 413", async () => {
  const chunk = (60000).toString(16) + "\r\n" + "z".repeat(60000) + "\r\n";
  const req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk;
  const { data } = await rawExchange(server.port, req);
  assert.match(data, /^HTTP\/1\.1 413 Payload Too Large/);
});

test("a body at the limit is accepted", async () => {
  const body = "y".repeat(100000);
  const res = await server.fetch("/echo", { method: "POST", body });
  assert.equal(res.status, 200);
  assert.equal((await res.text()).length, 100000);
});

test("a client that does not finish its request gets 408 and is closed", async () => {
  const started = Date.now();
  const { data, closed } = await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: x\r\n", { idle: 3000 * SLOW });
  assert.match(data, /^HTTP\/1\.1 408 Request Timeout/);
  assert.equal(closed, true);
  assert.ok(Date.now() - started >= 500 * SLOW);
});

test("an idle keep-alive connection is closed", async () => {
  const { data, closed } = await rawExchange(server.port, get("/idle"), { idle: 4000 * SLOW });
  assert.equal(parseResponses(data)[0].body, "path:/idle");
  assert.equal(closed, true);
});

test("malformed requests get 400 and the server keeps serving", async () => {
  const v = await rawExchange(server.port, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
  assert.match(v.data, /^HTTP\/1\.1 505 HTTP Version Not Supported/);
  for (const junk of ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                      "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]) {
    const { data, closed } = await rawExchange(server.port, junk);
    assert.match(data, /^HTTP\/1\.1 400 Bad Request/, `for ${JSON.stringify(junk)}`);
    assert.equal(closed, true);
  }
  assert.equal(await (await server.fetch("/still-alive")).text(), "path:/still-alive");
});

test("HTTP/1.0: closes by default, keeps alive when asked", async () => {
  const plain = await rawExchange(server.port, "GET /old HTTP/1.0\r\n\r\n");
  assert.equal(plain.closed, true);
  assert.equal(parseResponses(plain.data)[0].body, "path:/old");
  const ka = await rawExchange(server.port, "GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { idle: 400 });
  assert.match(ka.data, /connection: keep-alive/i);
  assert.equal(ka.closed, false);
});

test("Connection: close is honoured", async () => {
  const { data, closed } = await rawExchange(server.port, get("/bye", "Connection: close\r\n"));
  assert.match(data, /connection: close/);
  assert.equal(closed, true);
});

test("large response bodies arrive whole", async () => {
  const n = 5 * 1024 * 1024;
  const res = await server.fetch(`/big?n=${n}`);
  assert.equal(res.headers.get("content-length"), String(n));
  assert.equal((await res.arrayBuffer()).byteLength, n);
});

test("request headers reach the Worker; Host and the client address are set", async () => {
  assert.equal(await (await server.fetch("/header?name=x-test", { headers: { "X-Test": "  padded  " } })).text(), "padded");
  assert.equal(await (await server.fetch("/header?name=cf-connecting-ip")).text(), "127.0.0.1");
});

test("many concurrent connections are all answered", async () => {
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => server.fetch(`/c${i}`).then((r) => r.text())),
  );
  results.forEach((body, i) => assert.equal(body, `path:/c${i}`));
});

test("graceful shutdown: in-flight requests finish, then the process exits 0", async () => {
  const s = await startDev(worker(SOURCE), ["--threads", "1"]);
  const inflight = s.fetch("/slow?ms=600").then(async (r) => [r.status, await r.text()]);
  await sleep(150 * SLOW);
  s.child.kill("SIGTERM");
  assert.deepEqual(await inflight, [200, "slow done"]);
  const { code } = await s.exited;
  assert.equal(code, 0);
  assert.match(s.stderr, /Shutting down/);
  await assert.rejects(fetch(s.url + "/"), "no longer accepting connections");
});
