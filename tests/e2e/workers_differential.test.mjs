// Differential test (issue 6): every Worker in tests/workers/ runs on hearth (`hearth dev` with
// all of them at once, routed by Host `<name>.corpus.test`) and on workerd (one process, one
// socket per Worker); the requests each lists in its requests.json go to both, and the
// responses must agree on status, body bytes and the response headers the file names.
//
// requests.json: {
//   "compareHeaders": ["content-type", ...],        // for every request (optional)
//   "requests": [{
//     "method": "POST", "path": "/x?y=1",            // method defaults to GET
//     "headers": { "name": "value" },                // optional
//     "body": "text" | "bodyBase64": "AAEC",         // optional
//     "compareHeaders": ["etag"],                    // added to the file's list (optional)
//     "compare": "status" | "gunzip",                // only the status (e.g. error pages), or
//                                                    // the body gunzipped (gzip bytes differ
//                                                    // between zlib builds; both must gunzip)
//     "why": "...",                                  // a comment, for the reader
//     "todo": "hearth bug: ..."                      // a known difference: reported as a todo
//                                                    // subtest (runs, but does not fail the
//                                                    // suite); drop it once hearth agrees
//   }, {
//     "websocket": {                                 // a WebSocket scenario, in its turn
//       "clients": ["/chat?name=a", ...],            // each client's path (client i = clients[i])
//       "compareHeaders": ["x-name"],                // of each 101 (optional)
//       "script": [                                  // steps, one at a time:
//         [0, "open"],                               //  connect (waits for the 101 or refusal)
//         [0, "send", "text"], [0, "sendBase64", "AAEC"],
//         [1, "wait", 3],                            //  until client 1 has had 3 messages
//         [0, "close", 1000, "reason"],              //  start the closing handshake
//         [0, "closed"]                              //  until client 0's socket has closed
//       ]
//     }
//   }]
// }
// A scenario's outcome is each client's transcript (the upgrade's status and headers, then the
// messages and the close code and reason, in order); a wait that times out fails the test.
// DIFF_VERBOSE=1 prints every exchange, matching or not; CORPUS_ONLY=a,b runs only those
// Workers (and the Workers their [[services]] name).
// "{{ORIGIN_PORT}}" in a path or header value becomes the port of a local origin server this
// test runs (see `origin` below), for Workers that call fetch().
// Requests to one Worker go in order (some Workers keep state between requests): hearth runs
// with one thread, so that, as on this workerd, one isolate serves all of them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import WebSocket from "ws";
import { ROOT, startDev, SLOW } from "./lib/harness.mjs";
import { startWorkerd, workerdInstalled, readWranglerToml, WORKERD } from "./lib/workerd.mjs";

const CORPUS = path.join(ROOT, "tests/workers");
const NEVER = new Set(["date", "server", "cf-ray"]);

const corpus = readdirSync(CORPUS)
  .filter((d) => existsSync(path.join(CORPUS, d, "wrangler.toml")))
  .sort()
  .map((d) => {
    const dir = path.join(CORPUS, d);
    const toml = readWranglerToml(path.join(dir, "wrangler.toml"));
    const spec = JSON.parse(readFileSync(path.join(dir, "requests.json"), "utf8"));
    return { dir, name: toml.name, spec, uses: toml.services.map((s) => s.service) };
  });

function selected() {
  if (!process.env.CORPUS_ONLY) return corpus;
  const names = new Set(process.env.CORPUS_ONLY.split(","));
  for (let grew = true; grew; ) {
    grew = false;
    for (const w of corpus) {
      if (!names.has(w.name)) continue;
      for (const u of w.uses) {
        if (!names.has(u)) {
          names.add(u);
          grew = true;
        }
      }
    }
  }
  return corpus.filter((w) => names.has(w.name));
}
const workers = selected();

// The origin server the proxy Workers fetch from: deterministic answers only.
function origin(req, res) {
  const url = new URL(req.url, "http://origin");
  const chunks = [];
  req.on("data", (d) => chunks.push(d));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (url.pathname === "/json") {
      res.writeHead(200, { "content-type": "application/json", etag: '"v1"', "x-internal": "secret", "x-origin": "yes" });
      res.end(JSON.stringify({ hello: "origin", list: [1, 2, 3] }));
    } else if (url.pathname.startsWith("/echo")) {
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) if (k.startsWith("x-") || k === "content-type") headers[k] = v;
      res.writeHead(200, { "content-type": "application/json", "x-origin": "yes" });
      res.end(JSON.stringify({ method: req.method, path: url.pathname, query: [...url.searchParams], headers, body, hasBody: chunks.length > 0 }));
    } else if (url.pathname === "/redirect") {
      res.writeHead(302, { location: `http://127.0.0.1:${req.socket.localPort}${url.searchParams.get("to")}` });
      res.end("moved\n");
    } else if (status) {
      res.writeHead(Number(status[1]), { "content-type": "text/plain" });
      res.end(`status ${status[1]}\n`);
    } else if (url.pathname === "/cookies") {
      res.setHeader("set-cookie", ["a=1; Path=/", "b=2; HttpOnly"]);
      res.setHeader("content-type", "text/plain");
      res.end("two cookies\n");
    } else if (url.pathname === "/stream") {
      res.writeHead(200, { "content-type": "text/plain" });
      let i = 0;
      const next = () => (i < 5 ? res.write(`line ${i++} of the stream\n`, () => setTimeout(next, 5)) : res.end("end\n"));
      next();
    } else if (url.pathname === "/gzip") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-encoding": "gzip" });
      res.end(zlib.gzipSync("gzip from the origin, ✓ decoded by fetch()\n".repeat(3)));
    } else if (url.pathname === "/text") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.end("plain text ✓\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("origin: not found\n");
    }
  });
}

const substitute = (v, port) => (typeof v === "string" ? v.replaceAll("{{ORIGIN_PORT}}", String(port)) : v);

// One HTTP exchange over a new connection (Host set by hand, which fetch() forbids).
// Resolves { status, headers: { name: [values...] }, body: Buffer, aborted }.
function send(port, host, req) {
  return new Promise((resolve, reject) => {
    const body = req.bodyBase64 !== undefined ? Buffer.from(req.bodyBase64, "base64") : req.body !== undefined ? Buffer.from(req.body) : null;
    const headers = { host, ...(req.headers ?? {}) };
    if (body) headers["content-length"] = String(body.length);
    const r = http.request({ host: "127.0.0.1", port, method: req.method ?? "GET", path: req.path, headers, agent: false }, (res) => {
      const chunks = [];
      const done = (aborted) => {
        const h = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i].toLowerCase();
          (h[name] ??= []).push(res.rawHeaders[i + 1]);
        }
        resolve({ status: res.statusCode, headers: h, body: Buffer.concat(chunks), aborted });
      };
      res.on("data", (d) => chunks.push(d));
      res.on("end", () => done(false));
      // A body cut short (the Worker's stream errored) is an outcome to compare, not a failure.
      res.on("aborted", () => done(true));
      res.on("error", () => done(true));
    });
    r.on("error", (e) => (e.code === "ECONNRESET" ? resolve({ status: "connection reset", headers: {}, body: Buffer.alloc(0), aborted: true }) : reject(e)));
    r.setTimeout(15000 * SLOW, () => r.destroy(new Error("no response within 15 s")));
    if (body) r.write(body);
    r.end();
  });
}

// A header's value for comparison: all its field lines, in order (set-cookie stays a list;
// others are joined as one combined value).
function headerValue(res, name) {
  const v = res.headers[name];
  if (v === undefined) return null;
  return name === "set-cookie" ? v : v.join(", ");
}

function show(res) {
  const text = res.body.toString("utf8");
  const printable = /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/.test(text);
  const body = printable ? JSON.stringify(text.length > 2000 ? text.slice(0, 2000) + "…" : text) : `<${res.body.length} bytes> ${res.body.subarray(0, 64).toString("hex")}`;
  return `  status ${res.status}${res.aborted ? " (body cut short)" : ""}\n  headers ${JSON.stringify(res.headers)}\n  body ${body}`;
}

// Runs one WebSocket scenario (see the top of this file) against `port` with Host `host`.
// Resolves { clients: [transcript...], problems: [...] } (problems: waits that timed out).
async function runScenario(port, host, scenario) {
  const limit = 5000 * SLOW;
  const problems = [];
  const clients = scenario.clients.map((p) => ({ path: p, events: [], upgrade: null, ws: null, closed: false, waiters: [] }));
  const notify = (c) => {
    for (const w of c.waiters.splice(0)) w();
  };
  const until = (c, ready, what) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        problems.push(`${what}: timed out after ${limit} ms (had ${JSON.stringify(c.events)})`);
        resolve();
      }, limit);
      const check = () => {
        if (ready()) {
          clearTimeout(timer);
          resolve();
        } else c.waiters.push(check);
      };
      check();
    });
  const names = (scenario.compareHeaders ?? []).map((n) => n.toLowerCase());
  const pick = (headers) => Object.fromEntries(names.map((n) => [n, headers[n] ?? null]));
  for (const [i, action, ...args] of scenario.script) {
    const c = clients[i];
    const what = `client ${i} (${c.path}) ${action}${args.length ? " " + JSON.stringify(args) : ""}`;
    if (action === "open") {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${c.path}`, { headers: { host }, handshakeTimeout: limit });
      c.ws = ws;
      ws.on("upgrade", (res) => (c.upgrade = { status: res.statusCode, headers: pick(res.headers) }));
      ws.on("unexpected-response", (req, res) => {
        const chunks = [];
        res.on("data", (d) => chunks.push(d));
        res.on("end", () => {
          c.upgrade = { status: res.statusCode, headers: pick(res.headers), body: Buffer.concat(chunks).toString("utf8") };
          c.closed = true;
          notify(c);
          req.destroy();
        });
      });
      ws.on("message", (data, isBinary) => {
        c.events.push(isBinary ? { binary: Buffer.from(data).toString("hex") } : String(data));
        notify(c);
      });
      ws.on("close", (code, reason) => {
        c.events.push({ close: code, reason: String(reason) });
        c.closed = true;
        notify(c);
      });
      ws.on("error", (e) => {
        if (!c.upgrade) c.upgrade = { error: e.message };
        notify(c);
      });
      await until(c, () => c.upgrade || c.closed, what);
    } else if (action === "send") {
      c.ws.send(args[0]);
    } else if (action === "sendBase64") {
      c.ws.send(Buffer.from(args[0], "base64"), { binary: true });
    } else if (action === "wait") {
      await until(c, () => c.events.filter((e) => !e?.close).length >= args[0] || c.closed, what);
      const got = c.events.filter((e) => !e?.close).length;
      if (got < args[0] && c.closed) problems.push(`${what}: the socket closed after ${got} messages`);
    } else if (action === "close") {
      c.ws.close(...args);
    } else if (action === "closed") {
      await until(c, () => c.closed, what);
    } else {
      throw new Error(`unknown WebSocket step ${JSON.stringify([i, action, ...args])}`);
    }
  }
  // Anything that arrives late (or was not waited for) shows in the transcripts too.
  await new Promise((r) => setTimeout(r, 100 * SLOW));
  for (const c of clients) if (c.ws && !c.closed) c.ws.terminate();
  return { clients: clients.map((c) => ({ path: c.path, upgrade: c.upgrade, events: c.events })), problems };
}

function gunzip(buf) {
  try {
    return zlib.gunzipSync(buf);
  } catch (e) {
    return `not gzip (${e.message})`;
  }
}

let hearth;
let workerd;
let originServer;
const skip = !workerdInstalled();

before(async () => {
  if (skip) {
    console.error(`\n*** SKIPPING the workerd differential test: workerd not installed (${WORKERD}): run npm ci in bench/ ***\n`);
    return;
  }
  originServer = http.createServer(origin);
  await new Promise((r) => originServer.listen(0, "127.0.0.1", r));
  // workerd first: its ports are picked free and then bound, and hearth's --port 0 could take
  // one of them in between.
  workerd = await startWorkerd(workers.map((w) => w.dir));
  hearth = await startDev(workers.map((w) => w.dir), ["--threads", "1"]);
});

after(async () => {
  await Promise.all([hearth?.stop(), workerd?.stop(), originServer && new Promise((r) => originServer.close(r))]);
});

test("the corpus has at least 15 Workers", () => {
  assert.ok(corpus.length >= 15, `${corpus.length} Workers in tests/workers`);
});

for (const w of workers) {
  test(`${w.name}: hearth answers as workerd does`, async (t) => {
    if (skip) {
      t.skip("workerd not installed: run npm ci in bench/");
      return;
    }
    assert.equal(workerd.child.exitCode, null, `workerd has exited:\n${workerd.log()}`);
    const host = `${w.name}.corpus.test`;
    const failures = [];
    const todos = [];
    const port = originServer.address().port;
    for (const [i, spec] of w.spec.requests.entries()) {
      if (spec.websocket) {
        const a = await runScenario(hearth.port, host, spec.websocket);
        const b = await runScenario(workerd.ports[w.dir], host, spec.websocket);
        const ta = JSON.stringify(a.clients, null, 1);
        const tb = JSON.stringify(b.clients, null, 1);
        if (process.env.DIFF_VERBOSE) console.error(`${w.name} WebSocket scenario ${i}\n hearth:\n${ta}\n workerd:\n${tb}`);
        const problems = [...a.problems.map((p) => `hearth: ${p}`), ...b.problems.map((p) => `workerd: ${p}`)];
        if (ta !== tb) problems.push("transcripts differ");
        if (problems.length) failures.push(`request ${i}: WebSocket scenario\n ${problems.join("\n ")}\n hearth:\n${ta}\n workerd:\n${tb}`);
        continue;
      }
      const req = { ...spec, path: substitute(spec.path, port) };
      if (spec.headers) req.headers = Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, substitute(v, port)]));
      const a = await send(hearth.port, host, req);
      const b = await send(workerd.ports[w.dir], host, req);
      if (process.env.DIFF_VERBOSE) console.error(`${w.name} ${req.method ?? "GET"} ${req.path}\n hearth:\n${show(a)}\n workerd:\n${show(b)}`);
      const problems = [];
      if (a.status !== b.status) problems.push("status");
      if (a.aborted !== b.aborted) problems.push("whether the body was cut short");
      if (req.compare === "gunzip") {
        const [ga, gb] = [gunzip(a.body), gunzip(b.body)];
        if (typeof ga === "string" || typeof gb === "string" || !ga.equals(gb)) {
          problems.push(`body, gunzipped: hearth ${typeof ga === "string" ? ga : `${ga.length} bytes`}, workerd ${typeof gb === "string" ? gb : `${gb.length} bytes`}`);
        }
      }
      if (req.compare !== "status") {
        if (req.compare !== "gunzip" && !a.body.equals(b.body)) problems.push("body");
        const names = [...(w.spec.compareHeaders ?? []), ...(req.compareHeaders ?? [])].map((n) => n.toLowerCase());
        for (const name of names) {
          if (NEVER.has(name)) throw new Error(`${w.name}: requests.json must not compare ${name}`);
          if (JSON.stringify(headerValue(a, name)) !== JSON.stringify(headerValue(b, name))) {
            problems.push(`header ${name}: hearth ${JSON.stringify(headerValue(a, name))}, workerd ${JSON.stringify(headerValue(b, name))}`);
          }
        }
      }
      if (spec.todo) {
        todos.push({ i, req, todo: spec.todo, problem: problems.length ? `differs in: ${problems.join("; ")}\n hearth:\n${show(a)}\n workerd:\n${show(b)}` : null });
      } else if (problems.length) {
        failures.push(
          `request ${i}: ${req.method ?? "GET"} ${req.path} ${JSON.stringify(req.headers ?? {})}` +
            `${req.body !== undefined ? ` body ${JSON.stringify(req.body.slice(0, 300))}` : req.bodyBase64 !== undefined ? " (base64 body)" : ""}\n` +
            ` differs in: ${problems.join("; ")}\n hearth:\n${show(a)}\n workerd:\n${show(b)}`,
        );
      }
    }
    for (const { i, req, todo, problem } of todos) {
      await t.test(`request ${i}: ${req.method ?? "GET"} ${req.path}`, { todo }, () => {
        if (problem) assert.fail(problem);
      });
    }
    if (failures.length) {
      const logs = `--- hearth log (tail) ---\n${hearth.output.slice(-3000)}\n--- workerd log (tail) ---\n${workerd.log().slice(-3000)}`;
      assert.fail(`${w.name} (${path.relative(ROOT, w.dir)}): ${failures.length} of ${w.spec.requests.length} requests differ\n${failures.join("\n\n")}\n${logs}`);
    }
  });
}
