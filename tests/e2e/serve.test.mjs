// hearth serve: versions, deployments with traffic splits, version affinity and overrides,
// preview URLs, rollback, durability across restarts and kill -9, authentication, rejected
// uploads, metrics — through the control API and the data plane of the real binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startServe, sleep, SLOW } from "./lib/harness.mjs";

// A Worker reporting which version served it.
const reporter = (label) => `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/throw") throw new Error("boom from ${label}");
    return new Response("${label} " + env.VERSION.id + " " + env.VERSION.tag);
  },
};
`;

function form(metadata, modules) {
  const fd = new FormData();
  fd.append("metadata", new Blob([JSON.stringify(metadata)], { type: "application/json" }));
  for (const [name, [type, content]] of Object.entries(modules)) {
    fd.append(name, new Blob([content], { type }), name);
  }
  return fd;
}

const JS = "application/javascript+module";
const meta = (extra = {}) => ({
  main_module: "index.js",
  compatibility_date: "2024-09-23",
  bindings: [{ type: "version_metadata", name: "VERSION" }],
  ...extra,
});

async function upload(s, name, source, { tag, message, deploy = false, extraMeta = {}, modules = {} } = {}) {
  const annotations = {};
  if (tag) annotations["workers/tag"] = tag;
  if (message) annotations["workers/message"] = message;
  const body = form(meta({ annotations, ...extraMeta }), { "index.js": [JS, source], ...modules });
  const r = deploy
    ? await s.call("PUT", s.scriptPath(name), body)
    : await s.call("POST", s.scriptPath(name) + "/versions", body);
  assert.equal(r.success, true, JSON.stringify(r.errors));
  return r.result;
}

async function deploy(s, name, versions, message = "") {
  const r = await s.call("POST", s.scriptPath(name) + "/deployments", {
    strategy: "percentage",
    versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })),
    annotations: { "workers/message": message },
  });
  assert.equal(r.success, true, JSON.stringify(r.errors));
  return r.result;
}

// A data-plane request with a Host header (fetch cannot set Host). Keep-alive agent for speed.
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function get(s, host, path = "/", headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: s.port, path, agent, headers: { host, ...headers } }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      })
      .on("error", reject);
  });
}

let s;
let v1, v2;
before(async () => {
  s = await startServe(["--threads", "2"]);
  const first = await upload(s, "hello", reporter("one"), { tag: "t1", message: "first", deploy: true });
  v1 = first.version_id;
  v2 = (await upload(s, "hello", reporter("two"), { tag: "t2" })).id;
});
after(async () => {
  agent.destroy();
  await s?.stop();
});

test("authentication: missing token 401, wrong token 403, both in the error envelope", async () => {
  const missing = await s.call("GET", "/accounts", undefined, { token: null });
  assert.equal(missing.status, 401);
  assert.equal(missing.success, false);
  assert.equal(missing.errors[0].code, 10000);
  const wrong = await s.call("GET", "/accounts", undefined, { token: "nope" });
  assert.equal(wrong.status, 403);
  assert.match(wrong.errors[0].message, /not valid/);
  const verify = await s.call("GET", "/user/tokens/verify");
  assert.equal(verify.result.status, "active");
  const metrics = await fetch(`http://127.0.0.1:${s.adminPort}/metrics`);
  assert.equal(metrics.status, 200);
});

test("versions are immutable records; deployments list newest first", async () => {
  const list = await s.call("GET", s.scriptPath("hello") + "/versions");
  assert.deepEqual(list.result.items.map((v) => v.id), [v2, v1]);
  const one = list.result.items[1];
  assert.equal(one.number, 1);
  assert.equal(one.annotations["workers/tag"], "t1");
  assert.equal(one.annotations["workers/message"], "first");
  assert.equal(one.annotations["workers/triggered_by"], "create");
  assert.equal(list.result.items[0].annotations["workers/triggered_by"], "upload");
  assert.equal(one.resources.script.main_module, "index.js");
  assert.match(one.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const got = await s.call("GET", s.scriptPath("hello") + "/versions/" + v2);
  assert.equal(got.result.id, v2);
  const missing = await s.call("GET", s.scriptPath("hello") + "/versions/00000000-0000-4000-8000-000000000000");
  assert.equal(missing.status, 404);
  // The first deployment put v1 at 100%; v2 is uploaded but serves nothing yet.
  const r = await get(s, "hello.localhost");
  assert.equal(r.body, `one ${v1} t1`);
});

test("a 90/10 split sends about 10% of requests to the new version", async () => {
  await deploy(s, "hello", [[v1, 90], [v2, 10]], "canary");
  const n = 2000;
  let two = 0;
  const batch = 50;
  for (let i = 0; i < n; i += batch) {
    const rs = await Promise.all(Array.from({ length: batch }, () => get(s, "hello.localhost")));
    for (const r of rs) if (r.body.startsWith("two")) two++;
  }
  // Binomial(2000, 0.1): mean 200, sd 13.4; 5 sd either way.
  assert.ok(two > 133 && two < 267, `${two} of ${n} went to the 10% version`);
});

test("version keys are sticky and monotone as the new version's share grows", async () => {
  const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
  const where = async () => {
    const m = new Map();
    for (const k of keys) {
      const r = await get(s, "hello.localhost", "/", { "Cloudflare-Workers-Version-Key": k });
      m.set(k, r.body.split(" ")[0]);
    }
    return m;
  };
  await deploy(s, "hello", [[v1, 90], [v2, 10]]);
  const at10 = await where();
  assert.deepEqual(await where(), at10, "the same key always gets the same version");
  await deploy(s, "hello", [[v1, 50], [v2, 50]]);
  const at50 = await where();
  for (const k of keys) if (at10.get(k) === "two") assert.equal(at50.get(k), "two", `${k} moved back`);
  const onNew50 = [...at50.values()].filter((v) => v === "two").length;
  assert.ok(onNew50 > 100 && onNew50 < 200, `${onNew50} of 300 keys on the new version at 50%`);
  await deploy(s, "hello", [[v2, 100]]);
  const at100 = await where();
  assert.ok([...at100.values()].every((v) => v === "two"));
});

test("overrides select a version only if it is in the active deployment (even at 0%)", async () => {
  await deploy(s, "hello", [[v1, 100], [v2, 0]]);
  const o = (id) => ({ "Cloudflare-Workers-Version-Overrides": `hello="${id}"` });
  for (let i = 0; i < 20; i++) assert.ok((await get(s, "hello.localhost")).body.startsWith("one"));
  assert.ok((await get(s, "hello.localhost", "/", o(v2))).body.startsWith("two"), "0% version reachable by override");
  const v3 = (await upload(s, "hello", reporter("three"), { tag: "t3" })).id;
  assert.ok((await get(s, "hello.localhost", "/", o(v3))).body.startsWith("one"), "undeployed version ignored");
  const bad = { "Cloudflare-Workers-Version-Overrides": `hello=${v2}"oops` };
  assert.ok((await get(s, "hello.localhost", "/", bad)).body.startsWith("one"), "a malformed header is ignored");
  const other = { "Cloudflare-Workers-Version-Overrides": `someone-else="${v2}"` };
  assert.ok((await get(s, "hello.localhost", "/", other)).body.startsWith("one"), "another Worker's entry is ignored");
});

test("preview URLs reach any version, deployed or not", async () => {
  await deploy(s, "hello", [[v1, 100]]);
  const v4 = (await upload(s, "hello", reporter("four"), { tag: "t4" })).id;
  assert.equal((await get(s, `${v4.slice(0, 8)}-hello.localhost`)).body, `four ${v4} t4`);
  assert.equal((await get(s, `${v2.slice(0, 8)}-hello.localhost`)).body, `two ${v2} t2`);
  assert.equal((await get(s, "hello.localhost")).body, `one ${v1} t1`);
  assert.equal((await get(s, `deadbeef-hello.localhost`)).status, 404);
});

test("a version leaving the active deployment is unloaded once idle; a deployed one is kept", async () => {
  // One thread, so "the instance" is a single realm whose module state we can watch.
  const u = await startServe(["--threads", "1", "--unload-after", "0.4"]);
  try {
    const counter = (label) => `let n = 0;\nexport default { fetch() { n++; return new Response("${label} " + n); } };\n`;
    const a = (await upload(u, "count", counter("a"), { deploy: true })).version_id;
    const b = (await upload(u, "count", counter("b"))).id;
    const previewA = `${a.slice(0, 8)}-count.localhost`;
    assert.equal((await get(u, "count.localhost")).body, "a 1");
    assert.equal((await get(u, previewA)).body, "a 2"); // the preview shares the instance
    await sleep(1200);
    assert.equal((await get(u, "count.localhost")).body, "a 3", "a deployed version stays loaded");
    await deploy(u, "count", [[b, 100]]);
    assert.equal((await get(u, "count.localhost")).body, "b 1");
    assert.equal((await get(u, previewA)).body, "a 4", "in use: not unloaded yet");
    await sleep(1200);
    assert.equal((await get(u, previewA)).body, "a 1", "idle and undeployed: unloaded, then loaded afresh");
    assert.equal((await get(u, "count.localhost")).body, "b 2");
  } finally {
    await u.stop();
  }
});

test("rollback is a new deployment of an earlier version", async () => {
  await deploy(s, "hello", [[v2, 100]], "forward");
  assert.ok((await get(s, "hello.localhost")).body.startsWith("two"));
  const rb = await deploy(s, "hello", [[v1, 100]], "rollback");
  assert.ok((await get(s, "hello.localhost")).body.startsWith("one"));
  const list = await s.call("GET", s.scriptPath("hello") + "/deployments");
  assert.equal(list.result.deployments[0].id, rb.id, "the newest deployment is the active one");
  assert.equal(list.result.deployments[0].annotations["workers/message"], "rollback");
  const script = await s.call("GET", s.scriptPath("hello"));
  assert.equal(script.result.active_deployment_id, rb.id);
});

test("bad uploads are rejected with the reason and change nothing", async () => {
  const before = await s.call("GET", s.scriptPath("hello") + "/versions");
  const auditBefore = await s.call("GET", `/accounts/${s.account}/audit_logs`);
  const attempts = [
    [form(meta(), { "index.js": [JS, "export default { fetch() { return new Response(1 +); } };"] }), /index\.js:1:\d+.*SyntaxError|SyntaxError[^]*index\.js:1:/],
    [form(meta(), { "index.js": [JS, 'import x from "./missing.js"; export default { fetch: () => new Response(x) };'] }), /Could not resolve "\.\/missing\.js"/],
    [form(meta({ bindings: [{ type: "kv_namespace", name: "KV", namespace_id: "x" }] }), { "index.js": [JS, reporter("x")] }), /metadata\.bindings\[0\]\.type: unknown binding type "kv_namespace"/],
    [form(meta({ main_module: "nope.js" }), { "index.js": [JS, reporter("x")] }), /metadata\.main_module: no module part is named "nope\.js"/],
    [form(meta({ compatibility_date: "yesterday" }), { "index.js": [JS, reporter("x")] }), /metadata\.compatibility_date/],
    [form(meta(), { "index.js": [JS, 'throw new TypeError("at load"); export default {};'] }), /TypeError: at load/],
    [form({ bindings: [] }, { "index.js": [JS, reporter("x")] }), /metadata\.main_module: required/],
    [form(meta(), { "index.js": ["application/x-unknown", "x"] }), /module "index\.js": unsupported Content-Type/],
    [form(meta({ routes: ["example.com/*", "example.com/?page=1"] }), { "index.js": [JS, reporter("x")] }), /metadata\.routes\[1\]: route "example\.com\/\?page=1": a query or fragment is not allowed/],
  ];
  for (const [body, re] of attempts) {
    const r = await s.call("POST", s.scriptPath("hello") + "/versions", body);
    assert.equal(r.status, 400, JSON.stringify(r));
    assert.equal(r.success, false);
    assert.match(r.errors[0].message, re);
  }
  const notMultipart = await s.call("POST", s.scriptPath("hello") + "/versions", { main_module: "x" });
  assert.equal(notMultipart.status, 400);
  assert.match(notMultipart.errors[0].message, /multipart\/form-data/);
  const after = await s.call("GET", s.scriptPath("hello") + "/versions");
  assert.deepEqual(after.result.items.map((v) => v.id), before.result.items.map((v) => v.id));
  const auditAfter = await s.call("GET", `/accounts/${s.account}/audit_logs`);
  assert.equal(auditAfter.result.length, auditBefore.result.length);
});

test("bad deployments are rejected naming the field", async () => {
  const cases = [
    [{ strategy: "all-at-once", versions: [{ version_id: v1, percentage: 100 }] }, /^strategy/],
    [{ strategy: "percentage", versions: [{ version_id: v1, percentage: 60 }, { version_id: v2, percentage: 30 }] }, /add up to 90, not 100/],
    [{ strategy: "percentage", versions: [{ version_id: "00000000-0000-4000-8000-000000000000", percentage: 100 }] }, /versions\[0\]\.version_id: hello has no version/],
    [{ strategy: "percentage", versions: [{ version_id: v1, percentage: 101 }] }, /versions\[0\]\.percentage/],
    [{ strategy: "percentage", versions: [] }, /^versions:/],
    [{ strategy: "percentage", versions: [{ version_id: v1, percentage: 50 }, { version_id: v1, percentage: 50 }] }, /listed twice/],
  ];
  for (const [body, re] of cases) {
    const r = await s.call("POST", s.scriptPath("hello") + "/deployments", body);
    assert.equal(r.status, 400, JSON.stringify(r));
    assert.match(r.errors[0].message, re);
  }
  const notJson = await s.call("POST", s.scriptPath("hello") + "/deployments", "{nope");
  assert.equal(notJson.status, 400);
});

test("metrics count exactly the requests each version served", async () => {
  const m = await upload(s, "counted", reporter("c"), { deploy: true });
  for (let i = 0; i < 37; i++) assert.equal((await get(s, "counted.localhost")).status, 200);
  for (let i = 0; i < 5; i++) assert.equal((await get(s, "counted.localhost", "/throw")).status, 500);
  await sleep(100);
  const text = await (await fetch(`http://127.0.0.1:${s.adminPort}/metrics`)).text();
  const line = (outcome, status) =>
    new RegExp(`hearth_requests_total\\{worker="counted",version="${m.version_id}",outcome="${outcome}",status="${status}"\\} (\\d+)`).exec(text);
  assert.equal(Number(line("ok", "2xx")[1]), 37);
  assert.equal(Number(line("exception", "5xx")[1]), 5);
  assert.match(text, new RegExp(`hearth_exceptions_total\\{worker="counted",version="${m.version_id}"\\} 5`));
  assert.match(text, new RegExp(`hearth_request_wall_seconds_count\\{worker="counted",version="${m.version_id}"\\} 42`));
  const a = await s.call("GET", s.scriptPath("counted") + "/analytics");
  const points = a.result.versions.find((v) => v.version_id === m.version_id).points;
  assert.equal(points.reduce((n, p) => n + p.requests, 0), 42);
  assert.equal(points.reduce((n, p) => n + p.errors, 0), 5);
  assert.ok(points[0].wall_ms.p99 >= points[0].wall_ms.p50);
});

test("routes and the default Worker", async () => {
  const r = await upload(s, "api", reporter("api"), { deploy: true, extraMeta: { routes: ["api.example.com/*", "*.example.org/v1/*"] } });
  assert.ok((await get(s, "api.example.com", "/anything")).body.startsWith("api"));
  assert.ok((await get(s, "eu.example.org", "/v1/x")).body.startsWith("api"));
  assert.equal((await get(s, "eu.example.org", "/v2/x")).status, 404);
  const script = await s.call("GET", s.scriptPath("api"));
  assert.deepEqual(script.result.routes, ["api.example.com/*", "*.example.org/v1/*"]);
  assert.ok(r.version_id);
});

test("deleting a script stops it serving and is audited", async () => {
  await upload(s, "doomed", reporter("d"), { deploy: true });
  assert.equal((await get(s, "doomed.localhost")).status, 200);
  const d = await s.call("DELETE", s.scriptPath("doomed"));
  assert.equal(d.success, true);
  assert.equal((await get(s, "doomed.localhost")).status, 404);
  assert.equal((await s.call("GET", s.scriptPath("doomed") + "/versions")).status, 404);
  const audit = await s.call("GET", `/accounts/${s.account}/audit_logs?script=doomed`);
  assert.deepEqual(audit.result.map((e) => e.action.type), ["script.delete", "deployment.create", "version.upload", "script.create"]);
});

test("deploying under load drops no request", async () => {
  const a = (await upload(s, "busy", reporter("A"), { deploy: true })).version_id;
  const b = (await upload(s, "busy", reporter("B"))).id;
  let stop = false;
  let ok = 0;
  const failures = [];
  const worker = async () => {
    while (!stop) {
      try {
        const r = await get(s, "busy.localhost");
        if (r.status === 200 && /^[AB] /.test(r.body)) ok++;
        else failures.push(`${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  };
  const load = Array.from({ length: 12 }, worker);
  for (let i = 0; i < 20; i++) {
    await deploy(s, "busy", i % 2 ? [[a, 100]] : [[a, 50], [b, 50]], `deploy ${i}`);
    await sleep(25);
  }
  stop = true;
  await Promise.all(load);
  assert.deepEqual(failures, []);
  assert.ok(ok > 100, `${ok} requests succeeded during 20 deployments`);
});

test("state survives a restart and kill -9 right after a deployment", async () => {
  const t = await startServe(["--threads", "1"]);
  const a = (await upload(t, "durable", reporter("A"), { deploy: true })).version_id;
  const b = (await upload(t, "durable", reporter("B"))).id;
  await deploy(t, "durable", [[b, 100]], "just before the crash");
  t.child.kill("SIGKILL");
  await t.exited;
  const again = await startServe(["--threads", "1"], { dataDir: t.dataDir });
  try {
    assert.ok((await get(again, "durable.localhost")).body.startsWith("B"), "the acknowledged deployment is live after kill -9");
    const versions = await again.call("GET", again.scriptPath("durable") + "/versions");
    assert.deepEqual(versions.result.items.map((v) => v.id), [b, a]);
    assert.equal(again.account, t.account);
    await again.stop();
    const third = await startServe(["--threads", "1"], { dataDir: t.dataDir });
    assert.ok((await get(third, "durable.localhost")).body.startsWith("B"));
    await third.stop();
  } finally {
    if (again.child.exitCode === null) await again.stop();
  }
});

test("the first start prints an admin token once and stores only its hash", async () => {
  const t = await startServe(["--threads", "1"], { token: "" });
  try {
    const m = /Admin API token \(shown once, keep it\): ([0-9a-f]{48})/.exec(t.stderr);
    assert.ok(m, t.stderr);
    const { readFileSync } = await import("node:fs");
    const db = readFileSync(`${t.dataDir}/state.db`, "latin1") + readFileSync(`${t.dataDir}/state.db-wal`, "latin1");
    assert.ok(!db.includes(m[1]), "the token itself is not stored");
    const ok = await t.call("GET", "/user/tokens/verify", undefined, { token: m[1] });
    assert.equal(ok.status, 200);
  } finally {
    await t.stop();
  }
});
