// `hearth logs` against a fake control API serving canned trace events: the pretty format
// (close to `wrangler tail`'s), JSON lines, filters turned into query parameters, relative
// and RFC 3339 times, version-id prefixes, usage and API errors, and control characters
// from the server never reaching the terminal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { run, project } from "./lib/harness.mjs";

const ACCOUNT = "a".repeat(32);
const T0 = 1795348800000; // 2026-11-22T12:00:00Z
const VERSION = "0f7e3a52-7bd4-4c5e-9a57-5a0d1b2c3d4e";

const ok = (result) => [200, { success: true, errors: [], messages: [], result }];

// A fake control API. `routes` maps "METHOD /path-suffix" (matched against the end of the
// path without its query) to [status, body] or to a function of the request giving one;
// /accounts answers properly unless overridden. Every request is recorded in `requests`.
async function fakeApi(routes) {
  const requests = [];
  const srv = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const url = new URL(req.url, "http://x");
      const pathname = url.pathname.replace(/^\/client\/v4/, "");
      requests.push({ method: req.method, path: pathname, query: url.searchParams, headers: req.headers });
      let answer;
      for (const [key, value] of Object.entries(routes)) {
        const [m, suffix] = key.split(" ");
        if (m === req.method && pathname.endsWith(suffix)) answer = value;
      }
      if (typeof answer === "function") answer = answer(url);
      if (!answer && pathname === "/accounts") answer = ok([{ id: ACCOUNT, name: "x" }]);
      const [status, out] = answer ?? [404, "not here"];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(typeof out === "string" ? out : JSON.stringify(out));
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    requests,
    logsRequests: () => requests.filter((r) => r.path.endsWith("/logs")),
    close: () => new Promise((r) => srv.close(r)),
  };
}

function env(fake) {
  return {
    HEARTH_API_URL: fake.url,
    HEARTH_API_TOKEN: "t",
    XDG_CONFIG_HOME: mkdtempSync(path.join(tmpdir(), "hearth-cfg-")),
    TZ: "UTC",
  };
}

// Runs `hearth logs args...` against a fake API with `routes`; returns the result and the
// fake (closed) for its recorded requests.
async function logs(args, routes, { cwd } = {}) {
  const fake = await fakeApi(routes);
  try {
    const r = await run(["logs", ...args], { env: env(fake), cwd });
    return { ...r, fake };
  } finally {
    await fake.close();
  }
}

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function event(over) {
  return {
    scriptName: "w",
    scriptVersion: { id: VERSION, tag: "", message: "" },
    entrypoint: "default",
    event: { request: { url: "https://example.com/", method: "GET", headers: {}, cf: {} }, response: { status: 200 } },
    eventTimestamp: T0,
    outcome: "ok",
    logs: [],
    exceptions: [],
    cpuTime: 1,
    wallTime: 2,
    truncated: false,
    ...over,
  };
}

// Newest first, as the API gives them.
const CANNED = [
  event({
    eventTimestamp: T0 + 5000,
    outcome: "exception",
    event: { request: { url: "https://example.com/boom", method: "post" }, response: { status: 500 } },
    logs: [{ level: "error", message: ["failed:", 42, { a: 1 }, null, true], timestamp: T0 + 5000 }],
    exceptions: [
      { name: "TypeError", message: "x is undefined", stack: "TypeError: x is undefined\n    at fetch (index.js:3:7)\n    at handle (index.js:9:1)", timestamp: T0 + 5000 },
      { name: "Error", message: "second", stack: "fetch@index.js:3:7\n@index.js:1:1\n", timestamp: T0 + 5000 },
    ],
  }),
  event({
    eventTimestamp: T0,
    event: { request: { url: "https://example.com/path?q=1", method: "GET" } },
    logs: [
      { level: "log", message: ["hello", "world"], timestamp: T0 },
      { level: "info", message: ["i"], timestamp: T0 },
      { level: "debug", message: ["d"], timestamp: T0 },
      { level: "warn", message: ["multi\nline"], timestamp: T0 },
    ],
  }),
  event({ eventTimestamp: T0 - 60000, outcome: "exceededCpu", event: { cron: "*/5 * * * *", scheduledTime: T0 - 60000 } }),
];

const CANNED_PRETTY = [
  `"*/5 * * * *" @ 11/22/2026, 11:59:00 AM - Exceeded CPU Limit`,
  `GET https://example.com/path?q=1 - Ok @ 11/22/2026, 12:00:00 PM`,
  `  (log) hello world`,
  `  (info) i`,
  `  (debug) d`,
  `  (warn) multi`,
  `line`,
  `POST https://example.com/boom - Exception Thrown @ 11/22/2026, 12:00:05 PM`,
  `  (error) failed: 42 {"a":1} null true`,
  `  ✘ TypeError: x is undefined`,
  `      at fetch (index.js:3:7)`,
  `      at handle (index.js:9:1)`,
  `  ✘ Error: second`,
  `      fetch@index.js:3:7`,
  `      @index.js:1:1`,
  ``,
].join("\n");

test("pretty output: like wrangler tail, oldest first", async () => {
  const r = await logs(["w"], { "GET /logs": ok({ events: CANNED }) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, CANNED_PRETTY);
  assert.equal(r.stderr, "");
  const [req] = r.fake.logsRequests();
  assert.equal(req.path, `/accounts/${ACCOUNT}/workers/scripts/w/logs`);
  assert.equal([...req.query.keys()].length, 0, "no filters: no parameters");
  assert.equal(req.headers.authorization, "Bearer t");
});

test("pretty output: every outcome, and events without a request or a time", async () => {
  const events = [
    event({ outcome: "ok" }),
    event({ outcome: "exception" }),
    event({ outcome: "exceededCpu" }),
    event({ outcome: "exceededMemory" }),
    event({ outcome: "canceled" }),
    event({ outcome: "somethingNew" }),
    event({ outcome: undefined }),
    event({ event: { request: {} } }),
    event({ event: { queue: "q" } }),
    event({ event: undefined }),
    event({ eventTimestamp: undefined, event: { request: { url: "https://x/" } } }),
    event({ eventTimestamp: "yesterday" }),
    event({ logs: [{ message: "not an array" }, { level: "log" }, 5, { level: 7, message: [] }], exceptions: [{}, 3, { name: "E" }] }),
    7,
    null,
    "text",
  ].reverse();
  const r = await logs(["--name", "w"], { "GET /logs": ok({ events }) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "GET https://example.com/ - Ok @ 11/22/2026, 12:00:00 PM",
      "GET https://example.com/ - Exception Thrown @ 11/22/2026, 12:00:00 PM",
      "GET https://example.com/ - Exceeded CPU Limit @ 11/22/2026, 12:00:00 PM",
      "GET https://example.com/ - Exceeded Memory @ 11/22/2026, 12:00:00 PM",
      "GET https://example.com/ - Canceled @ 11/22/2026, 12:00:00 PM",
      "GET https://example.com/ - Unknown @ 11/22/2026, 12:00:00 PM",
      "GET https://example.com/ - Unknown @ 11/22/2026, 12:00:00 PM",
      "[missing request] - Ok @ 11/22/2026, 12:00:00 PM",
      "Unknown Event - Ok @ 11/22/2026, 12:00:00 PM",
      "Unknown Event - Ok @ 11/22/2026, 12:00:00 PM",
      "GET https://x/ - Ok @ unknown time",
      "GET https://example.com/ - Ok @ unknown time",
      "GET https://example.com/ - Ok @ 11/22/2026, 12:00:00 PM",
      "  (log) not an array",
      "  (log)",
      "  (log)",
      "  ✘ Error",
      "  ✘ E",
      "",
    ].join("\n"),
  );
});

test("--format json: one event per line, oldest first", async () => {
  const r = await logs(["w", "--format", "json"], { "GET /logs": ok({ events: CANNED }) });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [...CANNED].reverse());
  const eq = await logs(["w", "--format=json"], { "GET /logs": ok({ events: [] }) });
  assert.equal(eq.code, 0, eq.stderr);
  assert.equal(eq.stdout, "");
  assert.equal(eq.stderr, "", "no chatter in JSON mode");
});

test("filters become query parameters", async () => {
  const search = `say "hi" & 100% ümlaut/?#+`;
  const r = await logs(
    ["w", "--since", "2026-11-22T13:00:00+01:00", "--until=2026-11-22T12:30:00.25Z", "--version-id", VERSION, "--outcome", "exception", "--search", search, "--limit", "7"],
    { "GET /logs": ok({ events: [] }) },
  );
  assert.equal(r.code, 0, r.stderr);
  const [req] = r.fake.logsRequests();
  assert.equal(req.query.get("since"), "2026-11-22T12:00:00.000Z");
  assert.equal(req.query.get("until"), "2026-11-22T12:30:00.250Z");
  assert.equal(req.query.get("version_id"), VERSION);
  assert.equal(req.query.get("outcome"), "exception");
  assert.equal(req.query.get("search"), search);
  assert.equal(req.query.get("limit"), "7");
  assert.equal(r.stderr, "No logs of w match.\n");

  // Every outcome is accepted; RFC 3339 variants too.
  for (const outcome of ["ok", "exception", "exceededCpu", "exceededMemory", "canceled"]) {
    const o = await logs(["w", "--outcome", outcome], { "GET /logs": ok({ events: [] }) });
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.fake.logsRequests()[0].query.get("outcome"), outcome);
  }
  for (const [given, sent] of [
    ["2026-11-22t12:00:00z", "2026-11-22T12:00:00.000Z"],
    ["2026-11-22 12:00:00Z", "2026-11-22T12:00:00.000Z"],
    ["2026-11-22T12:00:00.123456789Z", "2026-11-22T12:00:00.123Z"],
    ["2026-11-22T12:00:00.5-00:30", "2026-11-22T12:30:00.500Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
  ]) {
    const t = await logs(["w", "--since", given], { "GET /logs": ok({ events: [] }) });
    assert.equal(t.code, 0, `${given}: ${t.stderr}`);
    assert.equal(t.fake.logsRequests()[0].query.get("since"), sent, given);
  }
});

test("relative times are turned into RFC 3339 on the client", async () => {
  const cases = [
    ["1h", 3600e3],
    ["30m", 30 * 60e3],
    ["2d", 2 * 86400e3],
    ["45s", 45e3],
    ["1w", 7 * 86400e3],
    ["1h30m", 90 * 60e3],
    ["now", 0],
  ];
  for (const [given, ago] of cases) {
    const before = Date.now();
    const r = await logs(["w", "--since", given, "--until", "now"], { "GET /logs": ok({ events: [] }) });
    const after = Date.now();
    assert.equal(r.code, 0, `${given}: ${r.stderr}`);
    const q = r.fake.logsRequests()[0].query;
    assert.match(q.get("since"), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const since = Date.parse(q.get("since"));
    assert.ok(since >= before - ago - 1000 && since <= after - ago + 1000, `${given}: ${q.get("since")}`);
    const until = Date.parse(q.get("until"));
    assert.ok(until >= before - 1000 && until <= after + 1000, `until now: ${q.get("until")}`);
  }
});

test("the Worker: argument, --name, or ./wrangler.toml; its name escaped in the path", async () => {
  const dir = project({ "wrangler.toml": `name = "from-toml"\nmain = "index.js"\n`, "index.js": "" });
  const routes = { "GET /logs": ok({ events: [] }) };
  const fromToml = await logs([], routes, { cwd: dir });
  assert.equal(fromToml.code, 0, fromToml.stderr);
  assert.equal(fromToml.fake.logsRequests()[0].path, `/accounts/${ACCOUNT}/workers/scripts/from-toml/logs`);
  const byName = await logs(["--name", "a b/c"], routes, { cwd: dir });
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(byName.fake.logsRequests()[0].path, `/accounts/${ACCOUNT}/workers/scripts/a%20b%2Fc/logs`);
  const none = await logs([], routes, { cwd: mkdtempSync(path.join(tmpdir(), "hearth-empty-")) });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /cannot tell which Worker/);
  assert.equal(none.fake.requests.length, 0);
});

test("--version-id takes a prefix only one version has", async () => {
  const other = "0f7e3a52-0000-4000-8000-000000000000";
  const routes = {
    "GET /versions": ok({ items: [{ id: VERSION, number: 2 }, { id: "9a9a9a9a-0000-4000-8000-000000000000", number: 1 }, { id: other, number: 3 }] }),
    "GET /logs": ok({ events: [] }),
  };
  const r = await logs(["w", "--version-id", "0f7e3a52-7", "--outcome", "ok"], routes);
  assert.equal(r.code, 0, r.stderr);
  const q = r.fake.logsRequests()[0].query;
  assert.equal(q.get("version_id"), VERSION);
  assert.equal(q.get("outcome"), "ok");
  const ambiguous = await logs(["w", "--version-id", "0f7e"], routes);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /0f7e/);
  assert.equal(ambiguous.fake.logsRequests().length, 0);
  const missing = await logs(["w", "--version-id", "ffff"], routes);
  assert.equal(missing.code, 1);
  assert.equal(missing.fake.logsRequests().length, 0);
});

test("usage errors exit 2 before calling the API", async () => {
  const cases = [
    [["w", "--since", "yesterday"], /--since needs a time/],
    [["w", "--until", "2026-13-01T00:00:00Z"], /--until needs a time/],
    [["w", "--since", "2026-11-22T12:00:00"], /--since needs a time/], // no offset
    [["w", "--since", "2025-02-29T00:00:00Z"], /--since needs a time/],
    [["w", "--since", "1x"], /--since needs a time/],
    [["w", "--since", "h"], /--since needs a time/],
    [["w", "--since", "\u001b[31m"], /--since needs a time: .* found " \[31m"/],
    [["w", "--since", "1h", "--until", "2h"], /--since is later than --until/],
    [["w", "--outcome", "error"], /--outcome is one of/],
    [["w", "--limit", "0"], /--limit needs a number from 1 to 1000/],
    [["w", "--limit", "1001"], /--limit needs a number/],
    [["w", "--limit", "ten"], /--limit needs a number/],
    [["w", "--format", "table"], /--format is pretty or json/],
    [["w", "--search"], /--search needs a value/],
    [["w", "--bogus"], /unknown option --bogus/],
    [["w", "x"], /give one Worker/],
    [["w", "--name", "x"], /give one Worker/],
  ];
  for (const [args, re] of cases) {
    const r = await logs(args, { "GET /logs": ok({ events: [] }) });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.match(r.stderr, /Usage: hearth logs/);
    assert.equal(r.fake.requests.length, 0, args.join(" "));
    assert.doesNotMatch(r.stderr, CONTROL);
  }
  const help = await run(["logs", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: hearth logs/);
  const top = await run(["--help"]);
  assert.match(top.stdout, /\n  logs \[NAME\] /);
});

test("API errors and answers that make no sense", async () => {
  const cases = [
    [{ "GET /logs": [404, { success: false, errors: [{ code: 10007, message: "script not found: w" }], messages: [], result: null }] }, /hearth: script not found: w \[code 10007\]\n  \(HTTP 404 from GET .*\/scripts\/w\/logs/],
    [{ "GET /logs": [400, { success: false, errors: [{ code: 10021, message: "since: not an RFC 3339 time" }] }] }, /since: not an RFC 3339 time \[code 10021\]/],
    [{ "GET /logs": [502, "<html>Bad Gateway</html>"] }, /not a JSON envelope: <html>Bad Gateway<\/html>/],
    [{ "GET /logs": ok({}) }, /no "events" array/],
    [{ "GET /logs": ok({ events: "many" }) }, /no "events" array/],
    [{ "GET /logs": ok(null) }, /no "events" array/],
    [{ "GET /logs": ok([]) }, /no "events" array/],
  ];
  for (const [routes, re] of cases) {
    const r = await logs(["w"], routes);
    assert.equal(r.code, 1, `${JSON.stringify(routes)}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, "");
  }
  const down = await run(["logs", "w"], { env: { HEARTH_API_URL: "http://127.0.0.1:1", HEARTH_API_TOKEN: "t", XDG_CONFIG_HOME: mkdtempSync(path.join(tmpdir(), "hearth-cfg-")) } });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the control API/);
});

test("a full page says how to see more", async () => {
  const events = Array.from({ length: 3 }, (_, i) => event({ eventTimestamp: T0 - i * 1000 }));
  const r = await logs(["w", "--limit", "3"], { "GET /logs": ok({ events }) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split("\n").length, 4);
  assert.match(r.stderr, /the newest 3 events; see earlier ones with --until, or more with --limit/);
  const fewer = await logs(["w", "--limit", "4"], { "GET /logs": ok({ events }) });
  assert.equal(fewer.stderr, "");
  const hundred = Array.from({ length: 100 }, () => event({}));
  const byDefault = await logs(["w"], { "GET /logs": ok({ events: hundred }) });
  assert.match(byDefault.stderr, /the newest 100 events/);
});

test("control characters from the server never reach the terminal", async () => {
  const esc = "\u001b[2J\u001b]0;owned\u0007\u009b31m\r\b\u007f";
  const evil = [
    event({
      outcome: esc,
      event: { request: { url: `https://x/${esc}`, method: `GET${esc}` } },
      logs: [{ level: `log${esc}`, message: [`msg${esc}`, { k: esc }, `tab\there`] }],
      exceptions: [{ name: `Err${esc}`, message: `m${esc}`, stack: `at f${esc}\n  at g (x.js:1:1)${esc}` }],
    }),
    event({ event: { cron: `* * ${esc}` } }),
  ];
  for (const format of ["pretty", "json"]) {
    const r = await logs(["w", "--format", format], { "GET /logs": ok({ events: evil }) });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, CONTROL, `${format}: ${JSON.stringify(r.stdout)}`);
    assert.doesNotMatch(r.stderr, CONTROL);
    if (format === "json") {
      // Still the same events once parsed.
      const lines = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines, [...evil].reverse());
    } else {
      const clean = esc.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
      assert.ok(r.stdout.includes(`  (log${clean}) msg${clean} {"k":`), r.stdout);
      assert.match(r.stdout, /tab\there/, "tabs in messages are kept");
    }
  }
});
