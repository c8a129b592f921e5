// The Rate Limiting API end to end: the announcement's example (examples/ratelimit) on both
// backends, limits shared by two hearth processes through one real memcached, memcached dying
// and coming back (fail open, fail closed), bad configs, bad uploads and bad calls.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { ROOT, startDev, startServe, project, worker, run as runHearth, sleep, SLOW } from "./lib/harness.mjs";

// run(), with stdout and stderr together as `output`.
const run = async (args, opts) => {
  const r = await runHearth(args, opts);
  return { ...r, output: r.stdout + r.stderr };
};

const EXAMPLE = path.join(ROOT, "examples/ratelimit");
const MEMCACHED = "/usr/bin/memcached";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

// A real memcached on a loopback port; resolves once it accepts connections.
const memcacheds = [];
async function startMemcached(port) {
  port ??= await freePort();
  const child = spawn(MEMCACHED, ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-t", "1", "-m", "16", "-u", "root"], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  memcacheds.push(child);
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return { port, url: `memcached://127.0.0.1:${port}`, stop: () => (child.kill("SIGKILL"), exited) };
    await sleep(25);
  }
  throw new Error(`memcached did not start on port ${port}`);
}
after(() => memcacheds.forEach((m) => m.kill("SIGKILL")));

async function statuses(server, pathname, n, init) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const r = await server.fetch(pathname, init);
    await r.text();
    out.push(r.status);
  }
  return out;
}

// GET with a Host header (fetch() cannot set one): resolves to the body.
function getText(port, host, pathname) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: pathname, headers: { host } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

const count = (list, status) => list.filter((s) => s === status).length;

// The announcement's promise: 100 requests to a path pass, the next get 429, other paths do not.
async function checkAnnouncementExample(server) {
  const first = await statuses(server, "/checkout", 100);
  assert.equal(count(first, 200), 100, `first 100: ${first}`);
  const r = await server.fetch("/checkout");
  assert.equal(r.status, 429);
  assert.equal(await r.text(), "429 Failure – rate limit exceeded for /checkout");
  assert.deepEqual(await statuses(server, "/checkout", 5), [429, 429, 429, 429, 429]);
  const other = await server.fetch("/other");
  assert.equal(other.status, 200);
  assert.equal(await other.text(), "Success!");
}

test("the announcement's example on the embedded backend", async () => {
  const s = await startDev(EXAMPLE);
  try {
    await checkAnnouncementExample(s);
  } finally {
    await s.stop();
  }
});

test("the announcement's example on the memcached backend", async () => {
  const mc = await startMemcached();
  const s = await startDev(EXAMPLE, ["--ratelimit", mc.url]);
  try {
    await checkAnnouncementExample(s);
  } finally {
    await s.stop();
    await mc.stop();
  }
});

test("hearth serve: deployed with the CLI, counted on /metrics, namespaces shared across Workers", async () => {
  const s = await startServe(["--default-worker", "ratelimit"]);
  try {
    const env = { HEARTH_API_URL: `http://127.0.0.1:${s.adminPort}`, HEARTH_API_TOKEN: s.token };
    const d = await run(["deploy", EXAMPLE, "-m", "rate limited"], { env });
    assert.equal(d.code, 0, d.output);
    await checkAnnouncementExample(s);
    // A second Worker bound to the same namespace_id shares the counters of /checkout.
    const other = project({
      "wrangler.toml": `name = "sharer"\nmain = "index.js"\n[[ratelimits]]\nname = "LIMITER"\nnamespace_id = "1001"\nsimple = { limit = 100, period = 60 }\n`,
      "index.js": `export default { async fetch(req, env) {
         const { success } = await env.LIMITER.limit({ key: new URL(req.url).pathname });
         return new Response(String(success));
       } }`,
    });
    const d2 = await run(["deploy", other], { env });
    assert.equal(d2.code, 0, d2.output);
    assert.equal(await getText(s.port, "sharer.localhost", "/checkout"), "false");
    assert.equal(await getText(s.port, "sharer.localhost", "/fresh"), "true");

    const metrics = await (await fetch(`http://127.0.0.1:${s.adminPort}/metrics`)).text();
    assert.match(metrics, /hearth_ratelimit_decisions_total\{namespace_id="1001",result="allowed"\} 102\n/);
    assert.match(metrics, /hearth_ratelimit_decisions_total\{namespace_id="1001",result="limited"\} 7\n/);
    assert.match(metrics, /hearth_ratelimit_keys 3\n/); // /checkout, /other, /fresh
  } finally {
    await s.stop();
  }
});

test("two hearth processes sharing one memcached enforce one combined limit", async () => {
  const mc = await startMemcached();
  const dir = worker(
    `export default { async fetch(req, env) {
       const { success } = await env.LIMITER.limit({ key: "shared" });
       return new Response(null, { status: success ? 204 : 429 });
     } }`,
    { toml: `[[ratelimits]]\nname = "LIMITER"\nnamespace_id = "42"\nsimple = { limit = 60, period = 60 }\n` },
  );
  const a = await startDev(dir, ["--ratelimit", mc.url]);
  const b = await startDev(dir, ["--ratelimit", mc.url]);
  try {
    // Both at once, interleaved: 100 requests each. Alone, each would admit 60.
    const burst = (s) => Promise.all(Array.from({ length: 100 }, () => s.fetch("/").then((r) => r.status)));
    const [ra, rb] = await Promise.all([burst(a), burst(b)]);
    const admitted = count(ra, 204) + count(rb, 204);
    assert.ok(admitted >= 60 && admitted <= 60 * 1.05, `admitted ${admitted} of 200 (limit 60)`);
    assert.equal(count(ra, 429) + count(rb, 429), 200 - admitted);
  } finally {
    await a.stop();
    await b.stop();
    await mc.stop();
  }
});

test("memcached killed: requests are allowed (fail open) and it is logged once; limits return with it", async () => {
  const mc = await startMemcached();
  const s = await startDev(EXAMPLE, ["--ratelimit", mc.url]);
  try {
    assert.equal(count(await statuses(s, "/k", 101), 429), 1);
    await mc.stop();
    // Over the limit, but memcached is gone: allowed.
    const during = await statuses(s, "/k", 20);
    assert.deepEqual([...new Set(during)], [200]);
    await s.waitFor(/rate limit backend memcached:\/\/127\.0\.0\.1:\d+: .*; allowing requests/);
    assert.equal(s.stderr.match(/rate limit backend/g).length, 1, "logged once per interval");
    // memcached back on the same port (empty): after the reconnect, limits apply again.
    const again = await startMemcached(mc.port);
    let limited = false;
    for (let i = 0; i < 100 * SLOW && !limited; i++) {
      const st = await statuses(s, "/k2", 101);
      limited = st.includes(429);
      if (!limited) await sleep(100);
    }
    assert.ok(limited, "limits apply again once memcached is back");
    await again.stop();
  } finally {
    await s.stop();
  }
});

test("--ratelimit-fail closed: without memcached every call is refused", async () => {
  const port = await freePort(); // nothing listens there
  const s = await startDev(EXAMPLE, ["--ratelimit", `memcached://127.0.0.1:${port}`, "--ratelimit-fail", "closed"]);
  try {
    const st = await statuses(s, "/any", 5);
    assert.deepEqual(st, [429, 429, 429, 429, 429]);
    await s.waitFor(/rate limit backend memcached:\/\/127\.0\.0\.1:\d+: .*; refusing requests/);
  } finally {
    await s.stop();
  }
});

test("bad rate limit configs are refused naming the file, line, binding, field and what is expected", async () => {
  const cases = [
    [`[[ratelimits]]\nname = "L"\nnamespace_id = "1001"\nsimple = { limit = 100, period = 30 }\n`, /wrangler\.toml:7: error: rate limit binding "L": "ratelimits\[0\]\.simple\.period" must be 10 or 60 \(seconds\), got 30/],
    [`[[ratelimits]]\nname = "L"\nnamespace_id = 1001\nsimple = { limit = 100, period = 60 }\n`, /wrangler\.toml:6: error: rate limit binding "L": "ratelimits\[0\]\.namespace_id" must be a string holding a positive integer, e\.g\. "1001" \(got 1001\)/],
    [`[[ratelimits]]\nname = "L"\nnamespace_id = "1001"\nsimple = { limit = -5, period = 60 }\n`, /"ratelimits\[0\]\.simple\.limit" must be a positive integer .*got -5/],
    [`[[ratelimits]]\nname = "L"\nnamespace_id = "1001"\n`, /"ratelimits\[0\]\.simple" required/],
    [`[[ratelimits]]\nnamespace_id = "1001"\nsimple = { limit = 1, period = 60 }\n`, /"ratelimits\[0\]\.name" is required/],
    [`[[unsafe.bindings]]\nname = "L"\ntype = "queue"\n`, /"unsafe\.bindings\[0\]\.type": hearth supports only type = "ratelimit"/],
  ];
  for (const [toml, expected] of cases) {
    const dir = worker(`export default { fetch() { return new Response("x"); } }`, { toml });
    const r = await run(["dev", dir, "--port", "0"], { timeout: 15000 * SLOW });
    assert.notEqual(r.code, 0, toml);
    assert.match(r.output, expected, toml);
  }
  // JSON configs go through the same rules.
  const dir = worker(`export default { fetch() { return new Response("x"); } }`);
  const { writeFileSync, rmSync } = await import("node:fs");
  rmSync(path.join(dir, "wrangler.toml"));
  writeFileSync(
    path.join(dir, "wrangler.json"),
    JSON.stringify({ name: "j", main: "index.js", ratelimits: [{ name: "L", namespace_id: "7", simple: { limit: 10, period: 61 } }] }),
  );
  const r = await run(["dev", dir, "--port", "0"], { timeout: 15000 * SLOW });
  assert.notEqual(r.code, 0);
  assert.match(r.output, /"ratelimits\[0\]\.simple\.period" must be 10 or 60 \(seconds\), got 61/);
  // A bad backend is refused at startup.
  const bad = await run(["dev", EXAMPLE, "--port", "0", "--ratelimit", "memcached://nohost"], { timeout: 15000 * SLOW });
  assert.notEqual(bad.code, 0);
  assert.match(bad.output, /--ratelimit memcached:\/\/nohost: /);
  const bad2 = await run(["dev", EXAMPLE, "--port", "0", "--ratelimit-fail", "maybe"]);
  assert.equal(bad2.code, 2);
  assert.match(bad2.output, /--ratelimit-fail needs open or closed/);
});

test("bad uploads are refused naming the binding and the field; nothing changes", async () => {
  const s = await startServe();
  try {
    const meta = (b) => {
      const fd = new FormData();
      fd.append("metadata", new Blob([JSON.stringify({ main_module: "index.js", bindings: [b] })], { type: "application/json" }));
      fd.append("index.js", new Blob(["export default { fetch() { return new Response('x') } }"], { type: "application/javascript+module" }), "index.js");
      return fd;
    };
    const bad = [
      [{ type: "ratelimit", name: "L", namespace_id: "1", simple: { limit: 5, period: 15 } }, "metadata.bindings[0].simple.period: must be 10 or 60 (seconds), got 15 (binding \"L\")"],
      [{ type: "ratelimit", name: "L", namespace_id: "x1", simple: { limit: 5, period: 10 } }, "metadata.bindings[0].namespace_id: must be a string holding a positive integer"],
      [{ type: "ratelimit", name: "L", namespace_id: "1", simple: { limit: 0, period: 10 } }, "metadata.bindings[0].simple.limit: must be a positive integer"],
      [{ type: "ratelimit", name: "L", namespace_id: "1" }, "metadata.bindings[0].simple: required"],
    ];
    for (const [binding, message] of bad) {
      const r = await s.call("PUT", s.scriptPath("bad"), meta(binding));
      assert.equal(r.status, 400, JSON.stringify(r));
      assert.ok(r.errors[0].message.startsWith(message), r.errors[0].message);
    }
    const list = await s.call("GET", `/accounts/${s.account}/workers/scripts`);
    assert.equal(list.result.length, 0, "no script was created");
    const ok = await s.call("PUT", s.scriptPath("good"), meta({ type: "ratelimit", name: "L", namespace_id: "1", simple: { limit: 5, period: 10 } }));
    assert.equal(ok.success, true, JSON.stringify(ok.errors));
  } finally {
    await s.stop();
  }
});

test("bad calls: limit() without options or with a non-string key throws a TypeError", async () => {
  const dir = worker(
    `export default { async fetch(req, env) {
       const out = [];
       for (const args of [[], [null], ["k"], [{}], [{ key: 5 }], [{ key: null }]]) {
         try { await env.L.limit(...args); out.push("ok"); }
         catch (e) { out.push(e.constructor.name + ": " + e.message); }
       }
       out.push(JSON.stringify(await env.L.limit({ key: "" })));
       out.push(typeof env.L.limit({ key: "p" }).then);
       return Response.json(out);
     } }`,
    { toml: `[[ratelimits]]\nname = "L"\nnamespace_id = "5"\nsimple = { limit = 10, period = 10 }\n` },
  );
  const s = await startDev(dir);
  try {
    const out = await (await s.fetch("/")).json();
    assert.deepEqual(out, [
      'TypeError: limit() expects an object such as { key: "..." }, got nothing',
      'TypeError: limit() expects an object such as { key: "..." }, got null',
      'TypeError: limit() expects an object such as { key: "..." }, got string',
      'TypeError: limit(): "key" must be a string, got nothing',
      'TypeError: limit(): "key" must be a string, got number',
      'TypeError: limit(): "key" must be a string, got null',
      '{"success":true}',
      "function",
    ]);
  } finally {
    await s.stop();
  }
});
