// Observability through the real daemon: trace events in stored logs (the logs API), Tail
// Workers, live tail sessions over WebSocket (filters, sampling notices, a slow client), and
// source-mapped stacks in all three, for a TypeScript Worker bundled and minified by esbuild.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import WebSocket from "ws";
import { startServe, run, sleep, SLOW } from "./lib/harness.mjs";

const require = createRequire(import.meta.url);

const JS = "application/javascript+module";

function form(metadata, modules) {
  const fd = new FormData();
  fd.append("metadata", new Blob([JSON.stringify(metadata)], { type: "application/json" }));
  for (const [name, [type, content]] of Object.entries(modules)) fd.append(name, new Blob([content], { type }), name);
  return fd;
}

async function deployScript(s, name, source, extra = {}, modules = {}) {
  const meta = { main_module: "index.js", compatibility_date: "2024-09-23", ...extra };
  const r = await s.call("PUT", s.scriptPath(name), form(meta, { "index.js": [JS, source], ...modules }));
  assert.equal(r.success, true, JSON.stringify(r.errors));
  return r.result;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
function get(s, host, pathname = "/", headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: s.port, path: pathname, agent, headers: { host, ...headers } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      })
      .on("error", reject);
  });
}

async function until(fn, what, timeout = 5000 * SLOW) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// A producer that logs and throws on /boom, and a Tail Worker that keeps what it receives.
const producer = `
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    console.log("handling", url.pathname, { n: 1 });
    console.warn("careful");
    if (url.pathname === "/boom") throw new TypeError("boom at " + url.pathname);
    if (url.pathname === "/big") for (let i = 0; i < 400; i++) console.log("x".repeat(1000));
    return new Response("ok " + url.pathname);
  },
};`;
const tailer = `
const seen = [];
export default {
  async fetch(request) { return Response.json(seen); },
  async tail(events, env, ctx) { for (const e of events) seen.push(e); },
};`;

let s;
before(async () => {
  s = await startServe(["--threads", "2"]);
  await deployScript(s, "tailer", tailer);
  await deployScript(s, "prod", producer, {
    observability: { enabled: true },
    tail_consumers: [{ service: "tailer" }],
    annotations: { "workers/tag": "v7", "workers/message": "the seventh" },
  });
});
after(async () => {
  agent.destroy();
  await s?.stop();
});

async function logs(query = "") {
  const r = await s.call("GET", s.scriptPath("prod") + "/logs" + query);
  assert.equal(r.success, true, JSON.stringify(r.errors));
  return r.result.events;
}

test("stored logs: one trace event per invocation, with logs, exceptions and the request", async () => {
  const marker = `/ok-${Date.now()}`;
  assert.equal((await get(s, "prod.localhost", marker, { authorization: "Bearer secret", cookie: "sid=1", "x-user": "42" })).body, `ok ${marker}`);
  assert.equal((await get(s, "prod.localhost", "/boom")).status, 500);
  const events = await until(async () => {
    const e = await logs(`?search=${encodeURIComponent(marker.slice(1))}`);
    return e.length ? e : null;
  }, "the event in the logs store");
  const ev = events[0];
  assert.equal(ev.scriptName, "prod");
  assert.equal(ev.scriptVersion.tag, "v7");
  assert.equal(ev.scriptVersion.message, "the seventh");
  assert.match(ev.scriptVersion.id, /^[0-9a-f-]{36}$/);
  assert.equal(ev.entrypoint, "fetch");
  assert.equal(ev.outcome, "ok");
  assert.equal(ev.event.request.method, "GET");
  assert.equal(ev.event.request.url, `http://prod.localhost${marker}`);
  assert.equal(ev.event.response.status, 200);
  // Credentials are redacted; other headers are kept.
  assert.equal(ev.event.request.headers.authorization, "REDACTED");
  assert.equal(ev.event.request.headers.cookie, "REDACTED");
  assert.equal(ev.event.request.headers["x-user"], "42");
  assert.deepEqual(ev.logs.map((l) => [l.level, l.message]), [
    ["log", ["handling", marker, { n: 1 }]],
    ["warn", ["careful"]],
  ]);
  assert.ok(ev.logs[0].timestamp >= ev.eventTimestamp);
  assert.deepEqual(ev.exceptions, []);
  assert.equal(typeof ev.cpuTime, "number");
  assert.equal(typeof ev.wallTime, "number");
  assert.equal(ev.truncated, false);

  const failed = await until(async () => {
    const e = await logs("?outcome=exception");
    return e.length ? e : null;
  }, "the exception event");
  const ex = failed[0].exceptions[0];
  assert.equal(failed[0].outcome, "exception");
  assert.equal(failed[0].event.response.status, 500);
  assert.equal(ex.name, "TypeError");
  assert.equal(ex.message, "boom at /boom");
  assert.match(ex.stack, /at fetch \(index\.js:7:\d+\)/);
  assert.doesNotMatch(ex.stack, /hearth:/, "the runtime's own frames are not shown");
});

test("stored logs: filters, order, limits and bad queries", async () => {
  for (let i = 0; i < 5; i++) await get(s, "prod.localhost", `/seq-${i}`);
  const seq = await until(async () => {
    const e = await logs("?search=seq-&limit=3");
    return e.length === 3 ? e : null;
  }, "three events");
  assert.deepEqual(seq.map((e) => new URL(e.event.request.url).pathname), ["/seq-4", "/seq-3", "/seq-2"], "newest first");
  const future = new Date(Date.now() + 3600e3).toISOString();
  assert.deepEqual(await logs(`?since=${future}`), []);
  const versionId = seq[0].scriptVersion.id;
  assert.ok((await logs(`?version_id=${versionId}&search=seq-`)).length >= 3);
  assert.deepEqual(await logs(`?version_id=00000000-0000-4000-8000-000000000000`), []);
  for (const [q, re] of [
    ["?limit=0", /limit/],
    ["?limit=abc", /limit/],
    ["?outcome=weird", /outcome/],
    ["?since=yesterday", /since/],
  ]) {
    const r = await s.call("GET", s.scriptPath("prod") + "/logs" + q);
    assert.equal(r.status, 400, q);
    assert.match(r.errors[0].message, re);
  }
});

test("a Worker that logs a lot gets a truncated event", async () => {
  await get(s, "prod.localhost", "/big");
  const big = await until(async () => {
    const e = await logs("?search=%2Fbig");
    return e.length ? e[0] : null;
  }, "the /big event");
  assert.equal(big.truncated, true);
  const bytes = big.logs.reduce((n, l) => n + JSON.stringify(l.message).length, 0);
  assert.ok(bytes <= 256 * 1024 + 2048, `${bytes} bytes of logs kept`);
  assert.ok(big.logs.length > 100 && big.logs.length < 400);
});

test("Tail Workers receive the producer's events after its invocation", async () => {
  await get(s, "prod.localhost", "/for-the-tail");
  await get(s, "prod.localhost", "/boom");
  const seen = await until(async () => {
    // Either shard may have run the consumer: ask until both events were seen by some realm.
    const all = [];
    for (let i = 0; i < 6; i++) all.push(...JSON.parse((await get(s, "tailer.localhost")).body));
    const urls = new Set(all.map((e) => e.event.request.url));
    return urls.has("http://prod.localhost/for-the-tail") && urls.has("http://prod.localhost/boom") ? all : null;
  }, "the Tail Worker's events");
  const ok = seen.find((e) => e.event.request.url.endsWith("/for-the-tail"));
  assert.equal(ok.scriptName, "prod");
  assert.equal(ok.outcome, "ok");
  assert.deepEqual(ok.logs[0].message, ["handling", "/for-the-tail", { n: 1 }]);
  const boom = seen.find((e) => e.event.request.url.endsWith("/boom"));
  assert.equal(boom.outcome, "exception");
  assert.equal(boom.exceptions[0].name, "TypeError");
  // The tail Worker's own invocations produce no events for anyone.
  assert.ok(seen.every((e) => e.scriptName === "prod"));
});

test("a failing or slow Tail Worker never affects the producer", async () => {
  await deployScript(s, "bad-tail", `
export default {
  async fetch() { return new Response("bad-tail"); },
  async tail(events) {
    const end = Date.now() + 300;
    while (Date.now() < end) {} // slow
    throw new Error("the tail worker failed");
  },
};`);
  await deployScript(s, "watched", `export default { async fetch() { return new Response("watched ok"); } };`, {
    tail_consumers: [{ service: "bad-tail" }, { service: "not-deployed" }],
  });
  const t0 = Date.now();
  for (let i = 0; i < 5; i++) {
    const r = await get(s, "watched.localhost", `/w${i}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, "watched ok");
  }
  await until(() => /Tail Worker bad-tail: Uncaught \(in tail\) Error: the tail worker failed/.test(s.stderr), "the consumer's error on stderr");
  assert.ok(Date.now() - t0 < 60000);
});

test("bad observability metadata is rejected naming the field", async () => {
  for (const [extra, re] of [
    [{ observability: { enabled: "yes" } }, /metadata\.observability/],
    [{ observability: { enabled: true, head_sampling_rate: 2 } }, /head_sampling_rate/],
    [{ tail_consumers: [{ name: "x" }] }, /metadata\.tail_consumers\[0\]\.service/],
    [{ tail_consumers: "tailer" }, /metadata\.tail_consumers/],
  ]) {
    const meta = { main_module: "index.js", ...extra };
    const r = await s.call("POST", s.scriptPath("prod") + "/versions", form(meta, { "index.js": [JS, producer] }));
    assert.equal(r.status, 400);
    assert.match(r.errors[0].message, re);
  }
});

// ---- live tail --------------------------------------------------------------------------

async function openTail(filters) {
  const r = await s.call("POST", s.scriptPath("prod") + "/tails");
  assert.equal(r.success, true, JSON.stringify(r.errors));
  assert.match(r.result.url, /^ws:\/\/127\.0\.0\.1:\d+\/client\/v4\/accounts\/[0-9a-f]+\/workers\/scripts\/prod\/tails\/[0-9a-f]{32}$/);
  const ws = new WebSocket(r.result.url, "trace-v1", { headers: { authorization: `Bearer ${s.token}` } });
  const messages = [];
  ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  // Events flow once the filters are applied; the server acknowledges them.
  ws.send(JSON.stringify({ filters: filters ?? [], debug: false }));
  await until(() => messages.some((m) => m.type === "filters"), "the filters acknowledgement");
  const events = () => messages.filter((m) => m.scriptName);
  const notices = () => messages.filter((m) => m.type === "notice");
  const closed = new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, id: r.result.id, messages, events, notices, closed };
}

test("live tail: events arrive as they happen, filtered on the producer's side", async () => {
  const t = await openTail([{ outcome: ["exception"] }]);
  await get(s, "prod.localhost", "/tail-ok");
  await get(s, "prod.localhost", "/boom");
  await until(() => t.events().length >= 1, "the exception event");
  await sleep(200);
  assert.deepEqual(t.events().map((e) => [e.outcome, new URL(e.event.request.url).pathname]), [["exception", "/boom"]]);
  assert.equal(t.events()[0].exceptions[0].message, "boom at /boom");

  // New filters replace the old: a header and a text search.
  t.messages.length = 0;
  t.ws.send(JSON.stringify({ filters: [{ header: { key: "x-team", query: "blue" } }, { query: "needle" }] }));
  await until(() => t.messages.some((m) => m.type === "filters"), "the new filters' acknowledgement");
  await get(s, "prod.localhost", "/needle-1", { "x-team": "blue-2" });
  await get(s, "prod.localhost", "/needle-2", { "x-team": "red" });
  await get(s, "prod.localhost", "/haystack", { "x-team": "blue" });
  await until(() => t.events().length >= 1, "the matching event");
  await sleep(200);
  assert.deepEqual(t.events().map((e) => new URL(e.event.request.url).pathname), ["/needle-1"]);

  // Bad filters are answered with an error message; the session goes on.
  t.ws.send(JSON.stringify({ filters: [{ colour: ["red"] }] }));
  await until(() => t.messages.some((m) => m.type === "error"), "the error message");
  assert.match(t.messages.find((m) => m.type === "error").message, /unknown filter "colour"/);

  // Deleting the session closes the connection.
  const del = await s.call("DELETE", s.scriptPath("prod") + "/tails/" + t.id);
  assert.equal(del.success, true);
  assert.equal((await t.closed).code, 1000);
  const list = await s.call("GET", s.scriptPath("prod") + "/tails");
  assert.equal(list.result.length, 0);
});

test("live tail: over 100 events a second are sampled, and the client is told", async () => {
  const t = await openTail(null);
  const start = Date.now();
  let sent = 0;
  const load = async () => {
    while (Date.now() - start < 2500) {
      await get(s, "prod.localhost", "/flood");
      sent++;
    }
  };
  await Promise.all(Array.from({ length: 12 }, load));
  await until(() => t.notices().length >= 1, "a sampling notice");
  const seconds = (Date.now() - start) / 1000;
  const got = t.events().length;
  assert.ok(sent > 400, `the load produced only ${sent} requests`);
  assert.ok(got <= 100 * (seconds + 1), `${got} events in ${seconds.toFixed(1)} s`);
  assert.ok(got >= 50, `${got} events: sampling kept too few`);
  const n = t.notices()[0];
  assert.ok(n.sampled_out > 0);
  assert.match(n.message, /sampling/);
  t.ws.close();
  await t.closed;
});

test("live tail: a client that does not read loses events, never slows the Worker", async () => {
  const t = await openTail([{ query: "/big" }]);
  t.ws._socket.pause(); // stop reading: the server's queues fill
  const times = [];
  for (let i = 0; i < 60; i++) {
    const t0 = Date.now();
    const r = await get(s, "prod.localhost", "/big");
    times.push(Date.now() - t0);
    assert.equal(r.status, 200);
  }
  t.ws._socket.resume();
  await until(() => t.notices().some((n) => n.dropped > 0), "a notice about dropped events", 10000 * SLOW);
  const got = t.events().length;
  assert.ok(got < 60, `${got} of 60 events of ~260 KB each reached a client that stopped reading`);
  times.sort((a, b) => a - b);
  // Not a timing threshold on hearth's speed: the Worker kept answering while nobody read.
  assert.equal(times.length, 60);
  t.ws.close();
  await t.closed;
});

test("live tail: authentication, unknown sessions, one client per session", async () => {
  const r = await s.call("POST", s.scriptPath("prod") + "/tails");
  const url = r.result.url;
  const noAuth = new WebSocket(url);
  const status = await new Promise((resolve) => noAuth.once("unexpected-response", (req, res) => resolve(res.statusCode)));
  assert.equal(status, 401);
  const first = new WebSocket(url, { headers: { authorization: `Bearer ${s.token}` } });
  await new Promise((resolve) => first.once("open", resolve));
  const second = new WebSocket(url, { headers: { authorization: `Bearer ${s.token}` } });
  assert.equal(await new Promise((resolve) => second.once("unexpected-response", (req, res) => resolve(res.statusCode))), 409);
  first.close();
  const missing = await s.call("GET", s.scriptPath("prod") + "/tails/00112233445566778899aabbccddeeff");
  assert.equal(missing.status, 404);
});

test("hearth tail prints events live, pretty or as JSON, with filters", async () => {
  const env = { HEARTH_API_URL: `http://127.0.0.1:${s.adminPort}`, HEARTH_API_TOKEN: s.token };
  const { spawn } = await import("node:child_process");
  const start = (args) => {
    const child = spawn(process.env.HEARTH_BIN ?? path.resolve("build/hearth"), ["tail", "prod", ...args], { env: { ...process.env, ...env } });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    return { child, out: () => out, err: () => err };
  };
  const pretty = start(["--status", "error"]);
  const json = start(["--format", "json", "--method", "GET", "--search", "cli-json"]);
  await until(() => /Connected to prod/.test(pretty.err()) && /Connected to prod/.test(json.err()), "both tails to connect");
  await get(s, "prod.localhost", "/cli-json");
  await get(s, "prod.localhost", "/boom");
  await until(() => /Exception Thrown/.test(pretty.out()) && json.out().includes("cli-json"), "the events");
  assert.match(pretty.out(), /^GET http:\/\/prod\.localhost\/boom - Exception Thrown @ /m);
  assert.match(pretty.out(), /✘ TypeError: boom at \/boom/);
  assert.doesNotMatch(pretty.out(), /cli-json/, "--status error leaves ok events out");
  const lines = json.out().trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => new URL(e.event.request.url).pathname), ["/cli-json"]);
  for (const p of [pretty, json]) p.child.kill("SIGINT");
  const codes = await Promise.all([pretty, json].map((p) => new Promise((resolve) => p.child.on("close", resolve))));
  assert.deepEqual(codes, [0, 0]);
  const list = await s.call("GET", s.scriptPath("prod") + "/tails");
  assert.equal(list.result.length, 0, "Ctrl-C ended both sessions");
});

// ---- source-mapped stacks ---------------------------------------------------------------

// A TypeScript Worker in two files, bundled and minified by esbuild with a source map, the way
// wrangler builds one. parseBytes throws on the line marked THROW.
const DOWN_TS = `// Parsing byte sizes such as "10kb".
export interface Size { bytes: number }

const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

export function parseBytes(text: string): Size {
  const m = /^(\\d+)(b|kb|mb)$/.exec(text.trim().toLowerCase());
  if (!m) throw new RangeError(\`cannot parse "\${text}" as a size\`); // THROW
  return { bytes: Number(m[1]) * units[m[2]] };
}
`;
const INDEX_TS = `import { parseBytes } from "./down";

export default {
  async fetch(request: Request): Promise<Response> {
    const size = new URL(request.url).searchParams.get("size") ?? "";
    const parsed = parseBytes(size); // CALL
    return Response.json(parsed);
  },
};
`;

function positionOf(source, marker, needle) {
  const lines = source.split("\n");
  const line = lines.findIndex((l) => l.includes(marker));
  return { line: line + 1, column: lines[line].indexOf(needle) + 1 };
}

async function buildTypeScriptWorker(extraToml) {
  const dir = mkdtempSync(path.join(tmpdir(), "hearth-ts-"));
  mkdirSync(path.join(dir, "src"));
  writeFileSync(path.join(dir, "src/down.ts"), DOWN_TS);
  writeFileSync(path.join(dir, "src/index.ts"), INDEX_TS);
  const esbuild = require("esbuild");
  await esbuild.build({
    entryPoints: [path.join(dir, "src/index.ts")],
    bundle: true,
    minify: true,
    format: "esm",
    sourcemap: true,
    outfile: path.join(dir, "dist/index.js"),
    logLevel: "silent",
  });
  writeFileSync(
    path.join(dir, "wrangler.toml"),
    `name = "sized"\nmain = "dist/index.js"\ncompatibility_date = "2024-09-23"\nupload_source_maps = true\n${extraToml}`,
  );
  assert.ok(!readFileSync(path.join(dir, "dist/index.js"), "utf8").includes("parseBytes"), "the bundle is minified");
  return dir;
}

test("stacks name the original TypeScript file, line, column and function everywhere", async () => {
  const dir = await buildTypeScriptWorker('tail_consumers = [{ service = "tailer" }]\n[observability]\nenabled = true\n');
  const env = { HEARTH_API_URL: `http://127.0.0.1:${s.adminPort}`, HEARTH_API_TOKEN: s.token };
  const deployed = await run(["deploy", dir], { env });
  assert.equal(deployed.code, 0, deployed.stderr);
  const version = await s.call("GET", s.scriptPath("sized") + "/versions");
  assert.ok(version.result.items[0].resources.script.modules.includes("dist/index.js.map"));

  const t = await (async () => {
    const r = await s.call("POST", s.scriptPath("sized") + "/tails");
    const ws = new WebSocket(r.result.url, { headers: { authorization: `Bearer ${s.token}` } });
    const messages = [];
    ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(JSON.stringify({ filters: [] }));
    await until(() => messages.some((m) => m.type === "filters"), "the tail session");
    return { ws, messages };
  })();

  const r = await get(s, "sized.localhost", "/?size=lots");
  assert.equal(r.status, 500);
  const throwAt = positionOf(DOWN_TS, "THROW", "new RangeError");
  const callAt = positionOf(INDEX_TS, "CALL", "parseBytes");
  const expectFrames = (stack, where) => {
    assert.match(stack, /^RangeError: cannot parse "lots" as a size/, where);
    const frames = stack.split("\n").slice(1).map((l) => l.trim());
    assert.equal(frames[0], `at parseBytes (src/down.ts:${throwAt.line}:${throwAt.column})`, `${where}: ${stack}`);
    assert.equal(frames[1], `at fetch (src/index.ts:${callAt.line}:${callAt.column})`, `${where}: ${stack}`);
    assert.doesNotMatch(stack, /dist\/index\.js|\.\.\//, where);
  };

  // 1. live tail
  const tailEvent = await until(() => t.messages.find((m) => m.scriptName === "sized"), "the tail event");
  expectFrames(tailEvent.exceptions[0].stack, "tail");
  t.ws.close();
  // 2. the Tail Worker's event
  const consumed = await until(async () => {
    for (let i = 0; i < 6; i++) {
      const seen = JSON.parse((await get(s, "tailer.localhost")).body);
      const e = seen.find((x) => x.scriptName === "sized");
      if (e) return e;
    }
    return null;
  }, "the Tail Worker's event");
  expectFrames(consumed.exceptions[0].stack, "Tail Worker");
  // 3. stored logs
  const stored = await until(async () => {
    const r = await s.call("GET", s.scriptPath("sized") + "/logs?outcome=exception");
    return r.result.events[0];
  }, "the stored event");
  expectFrames(stored.exceptions[0].stack, "stored logs");
  // 4. the server's stderr
  await until(() => s.stderr.includes(`at parseBytes (src/down.ts:${throwAt.line}:${throwAt.column})`), "the mapped stack on stderr");
});

test("hearth dev maps stacks through the map next to the bundle", async () => {
  const dir = await buildTypeScriptWorker("");
  const { startDev } = await import("./lib/harness.mjs");
  const dev = await startDev(dir, ["--port", "0"]);
  try {
    const r = await dev.fetch("/?size=lots");
    assert.equal(r.status, 500);
    const page = await r.text();
    const throwAt = positionOf(DOWN_TS, "THROW", "new RangeError");
    assert.ok(page.includes(`at parseBytes (src/down.ts:${throwAt.line}:${throwAt.column})`), page);
    await until(() => dev.stderr.includes(`at parseBytes (src/down.ts:${throwAt.line}:${throwAt.column})`), "stderr");
  } finally {
    await dev.stop();
  }
});

test("an upload with a source map that does not decode is rejected naming it", async () => {
  const cases = [
    ['{"version":3,"sources":["a.ts"],"names":[],"mappings":"!!"}', /source map "index\.js\.map": mappings/],
    ['{"version":2,"sources":[],"names":[],"mappings":""}', /source map "index\.js\.map": version/],
    ["not json", /source map "index\.js\.map"/],
  ];
  for (const [map, re] of cases) {
    const meta = { main_module: "index.js" };
    const body = form(meta, { "index.js": [JS, producer], "index.js.map": ["application/source-map", map] });
    const r = await s.call("POST", s.scriptPath("prod") + "/versions", body);
    assert.equal(r.status, 400, map);
    assert.match(r.errors[0].message, re);
  }
  const orphan = form({ main_module: "index.js" }, { "index.js": [JS, producer], "other.js.map": ["application/source-map", "{}"] });
  const r = await s.call("POST", s.scriptPath("prod") + "/versions", orphan);
  assert.equal(r.status, 400);
  assert.match(r.errors[0].message, /source map "other\.js\.map": no module "other\.js"/);
});
