// Resource limits and isolation: CPU time and memory limits reset the Worker's realm and the
// process keeps serving; Workers cannot see each other or the host.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startDev, worker, project } from "./lib/harness.mjs";

// fetch() cannot set Host; node:http can.
function getWithHost(port, host) {
  return new Promise((resolve, reject) => {
    http.get({ port, host: "127.0.0.1", path: "/", headers: { host } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
}

const SOURCE = `
function burn(ms) { const end = Date.now() + ms; while (Date.now() < end) {} }
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/count": globalThis.n = (globalThis.n ?? 0) + 1; return new Response(String(globalThis.n));
      case "/loop": for (;;) {}
      case "/sleep": await new Promise((r) => setTimeout(r, 300)); return new Response("slept");
      case "/split": {
        // 30 ms of spinning per callback, each under the 50 ms budget, over it only in total.
        // burn() spins on the wall clock; on a busy machine a callback gets less CPU than
        // that, so there are enough callbacks to pass the budget even at a quarter of a core.
        for (let i = 0; i < 10; i++) { await new Promise((r) => setTimeout(r, 1)); burn(30); }
        return new Response("finished");
      }
      case "/hog": { const keep = []; for (;;) keep.push(new Array(100000).fill(keep.length)); }
      case "/pending": await new Promise((r) => setTimeout(r, 1000)); return new Response("late");
      default: return new Response("?");
    }
  },
};
`;

test("CPU limit: the request gets 503, the realm is reset, the process keeps serving", async () => {
  const s = await startDev(worker(SOURCE, { toml: "[limits]\ncpu_ms = 50\n" }), ["--threads", "1"]);
  try {
    assert.equal(await (await s.fetch("/count")).text(), "1");
    assert.equal(await (await s.fetch("/count")).text(), "2");
    const res = await s.fetch("/loop");
    assert.equal(res.status, 503);
    assert.match(await res.text(), /exceeded its CPU time limit/);
    // A fresh realm: module state starts over.
    assert.equal(await (await s.fetch("/count")).text(), "1");
    assert.match(s.stderr, /GET \/loop: Worker exceeded its CPU time limit; its isolate was reset/);
  } finally {
    await s.stop();
  }
});

test("CPU limit counts CPU, not waiting; and adds up across an invocation's callbacks", async () => {
  const s = await startDev(worker(SOURCE, { toml: "[limits]\ncpu_ms = 50\n" }), ["--threads", "1"]);
  try {
    const sleep = await s.fetch("/sleep");
    assert.equal(sleep.status, 200);
    assert.equal(await sleep.text(), "slept");
    const split = await s.fetch("/split");
    assert.equal(split.status, 503);
  } finally {
    await s.stop();
  }
});

test("a breach fails the other requests running in the same realm, not other Workers", async () => {
  const s = await startDev(worker(SOURCE, { toml: "[limits]\ncpu_ms = 50\n" }), ["--threads", "1"]);
  try {
    const pending = s.fetch("/pending");
    await new Promise((r) => setTimeout(r, 100));
    const loop = await s.fetch("/loop");
    assert.equal(loop.status, 503);
    assert.equal((await pending).status, 503);
    assert.equal((await s.fetch("/count")).status, 200);
  } finally {
    await s.stop();
  }
});

test("memory limit: a runaway allocation gets 503 and a fresh realm; the process survives", async () => {
  const s = await startDev(worker(SOURCE), ["--threads", "1", "--memory-limit", "32"]);
  try {
    assert.equal(await (await s.fetch("/count")).text(), "1");
    const res = await s.fetch("/hog");
    assert.equal(res.status, 503);
    assert.match(await res.text(), /exceeded its memory limit/);
    assert.equal(await (await s.fetch("/count")).text(), "1");
  } finally {
    await s.stop();
  }
});

test("Workers do not see each other's globals, nor the host's facilities", async () => {
  const a = project({
    "wrangler.toml": 'name = "alpha"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n',
    "index.js": `globalThis.secret = "alpha-only";
export default { fetch: () => new Response(String(globalThis.secret)) };`,
  });
  const b = project({
    "wrangler.toml": 'name = "beta"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n',
    "index.js": `export default { async fetch() {
  const probes = {
    secret: typeof globalThis.secret,
    process: typeof process, require: typeof require, Deno: typeof Deno, Bun: typeof Bun,
    os: typeof os, read: typeof read, readFile: typeof readFile, load: typeof load,
    ops: typeof ops, hearthOps: typeof __hearth_ops,
  };
  try { await import("/etc/passwd"); probes.importFile = "loaded"; } catch (e) { probes.importFile = e.constructor.name; }
  return Response.json(probes);
} };`,
  });
  const s = await startDev([a, b], ["--threads", "2"]);
  try {
    assert.equal(await getWithHost(s.port, "alpha.localhost"), "alpha-only");
    const probes = JSON.parse(await getWithHost(s.port, `beta.localhost:${s.port}`));
    for (const [name, type] of Object.entries(probes)) {
      if (name === "importFile") assert.notEqual(type, "loaded");
      else assert.equal(type, "undefined", `${name} must not be visible to Workers`);
    }
    // The first Worker answers hosts that name no Worker.
    assert.equal(await (await fetch(s.url + "/")).text(), "alpha-only");
  } finally {
    await s.stop();
  }
});
