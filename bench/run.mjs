// hearth's benchmarks, each measured side by side with workerd (npm, pinned in
// bench/package.json) in the same run, and reported as ratios hearth/workerd.
//
//   (a) hello world            wrk req/s, p50, p99, RSS
//   (b) JSON echo of a ~12 KB POST
//   (c) 100 distinct small Workers loaded at once: RSS
//   (d) `hearth serve` with a 50/50 split of two hello versions against `hearth dev` with one
//       (the cost of version choice and the platform's routing; the peer is hearth dev)
//   (e) deploy-to-live: from the deployment API call to the first response from the new
//       version, against workerd's only way to change code — restart it with the new config
//   (f) the cost of tracing: hello on `hearth serve` with its events stored ([observability]
//       enabled) and with a live tail session attached, against the same Worker unwatched
//   (g) the cost of rate limiting: a Worker calling env.LIMITER.limit() once per request on
//       the embedded backend, against the same Worker without the call
//   (i) a streaming proxy: a Worker that fetch()es a 16 KiB body from a local origin and
//       returns it as it streams, against the same Worker on workerd. The origin is
//       build/tools/origin (bench/origin.c, single-threaded epoll, a few µs per request), so
//       that the proxies, not the origin, are what is measured
//   (h) the memcached backend (a real memcached started here) against the embedded one, and
//       the commands/s hearth drives against a raw pipelined memcached client's (the
//       physical limit of that memcached on this machine)
//   (j) WebSocket echo: 100 connections to a Worker that echoes every message (WebSocketPair,
//       server.accept()), each keeping one 64-byte text message in flight, then 16 (pipelined);
//       messages/s, p50 and p99 round trip, server CPU per message, peak RSS; hearth with one
//       shard thread, like workerd's one event loop (see wsEchoScenario). The load client is
//       build/tools/wsload (bench/wsload.c). `make bench` builds both tools, and so does this
//       script, next to the hearth binary under test, when they are missing (WSLOAD_BIN and
//       ORIGIN_BIN override)
//   (k) service binding RPC: a Worker answering each request with one RPC call to another
//       Worker's WorkerEntrypoint, with an object argument and result, then with a 16 KiB
//       ReadableStream result returned as the response body
//
// The two servers never run at the same time. Usage: node bench/run.mjs [--duration S]
// [--only a,b,c,d,e,f,g,h,i,j,k] [--connections N] [--rounds N]. Prints a Markdown report and writes it to
// bench/out/report-<date>.md.
import { spawn, execFileSync } from "node:child_process";
import http from "node:http";
import { mkdirSync, writeFileSync, readFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const HEARTH = process.env.HEARTH_BIN ?? path.join(ROOT, "build/hearth");
const WORKERD = path.join(HERE, "node_modules/.bin/workerd");
const MEMCACHED_BENCH = path.join(ROOT, "build/tests/memcached_bench");
// Built next to the hearth binary under test (build/tools/wsload for build/hearth).
const WSLOAD = process.env.WSLOAD_BIN ?? path.join(path.dirname(HEARTH), "tools/wsload");
const ORIGIN = process.env.ORIGIN_BIN ?? path.join(path.dirname(HEARTH), "tools/origin");

// Builds a bench tool next to the hearth binary under test, when it is missing.
function ensureTool(bin, envName) {
  if (process.env[envName] || existsSync(bin)) return;
  execFileSync("make", ["-C", ROOT, "--no-print-directory", `BUILD=${path.relative(ROOT, path.dirname(HEARTH))}`, path.relative(ROOT, bin)], { stdio: "inherit" });
}
const OUT = path.join(HERE, "out");

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const DURATION = Number(opt("--duration", "10"));
const CONNECTIONS = Number(opt("--connections", "32"));
const ONLY = opt("--only", "a,b,c,d,e,f,g,h,i,j,k").split(",");
// (d) compares hearth with itself, so the machine's noise is the whole story: alternate.
const ROUNDS = Number(opt("--rounds", "3"));

mkdirSync(OUT, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- processes ---------------------------------------------------------------------------

function start(cmd, argv, readyRe, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const onData = (d) => {
      out += d;
      if (readyRe.test(out)) resolve(child);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${cmd} exited (${code}) before ready:\n${out}`)));
    setTimeout(() => reject(new Error(`${cmd} not ready:\n${out}`)), 30000);
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await Promise.race([new Promise((r) => child.on("exit", r)), sleep(15000)]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

// CPU seconds (user + system) the process has used so far.
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in ticks of 1/100 s
}

// wrk against a running server, adding the server's CPU time per request (steadier than
// req/s on a shared machine: it does not depend on how the load generator is scheduled).
function measure(child, url, wrkOpts = {}) {
  const before = cpuSeconds(child.pid);
  const r = wrk(url, wrkOpts);
  r.cpuUsPerReq = ((cpuSeconds(child.pid) - before) * 1e6) / (r.rps * DURATION);
  r.rssMiB = rssMiB(child.pid);
  return r;
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}

async function waitHttp(url, opts = {}) {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url, opts);
      await r.arrayBuffer();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} never answered`);
}

// ---- load --------------------------------------------------------------------------------

function wrk(url, { script, env } = {}) {
  const argv = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}s`, "--latency"];
  if (script) argv.push("-s", script);
  argv.push(url);
  const out = execFileSync("wrk", argv, { env: { ...process.env, ...env }, encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socketErrors = /Socket errors: (.*)/.exec(out);
  return { rps, p50: pct(50), p99: pct(99), non2xx: errors ? Number(errors[1]) : 0, socketErrors: socketErrors?.[1] ?? null };
}

// ---- servers -----------------------------------------------------------------------------

let nextPort = 19100;
const port = () => nextPort++;

async function startHearth(dirs, args = []) {
  const p = port();
  const child = await start(HEARTH, ["dev", ...dirs, "--port", String(p), "--no-access-log", ...args], /Ready on/);
  return { child, url: `http://127.0.0.1:${p}`, port: p };
}

const BENCH_TOKEN = "bench-token";

async function startServe() {
  const p = port();
  const admin = port();
  const data = mkdtempSync(path.join(tmpdir(), "hearth-bench-serve-"));
  const child = await start(
    HEARTH,
    ["serve", "--data", data, "--listen", `127.0.0.1:${p}`, "--admin", `127.0.0.1:${admin}`, "--default-worker", "hello"],
    /Serving on/,
    { env: { HEARTH_ADMIN_TOKEN: BENCH_TOKEN } },
  );
  const api = `http://127.0.0.1:${admin}/client/v4`;
  const call = async (method, pathname, body) => {
    const init = { method, headers: { authorization: `Bearer ${BENCH_TOKEN}` } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const r = await (await fetch(api + pathname, init)).json();
    if (!r.success) throw new Error(`${method} ${pathname}: ${JSON.stringify(r.errors)}`);
    return r.result;
  };
  const account = (await call("GET", "/accounts"))[0].id;
  const script = `/accounts/${account}/workers/scripts/hello`;
  // Uploads a version of hello from `source`; returns its id.
  const upload = async (source, extraMeta = {}) => {
    const fd = new FormData();
    const meta = { main_module: "index.js", compatibility_date: "2024-09-23", bindings: [{ type: "plain_text", name: "GREETING", text: "Hello" }], ...extraMeta };
    fd.append("metadata", new Blob([JSON.stringify(meta)], { type: "application/json" }));
    fd.append("index.js", new Blob([source], { type: "application/javascript+module" }), "index.js");
    return (await call("POST", `${script}/versions`, fd)).id;
  };
  const deploy = (versions) =>
    call("POST", `${script}/deployments`, { strategy: "percentage", versions: versions.map(([version_id, percentage]) => ({ version_id, percentage })) });
  const cleanup = () => rmSync(data, { recursive: true, force: true });
  return { child, url: `http://127.0.0.1:${p}`, port: p, upload, deploy, cleanup, call, script };
}

function capnpWorker(name, dir, file) {
  const src = readFileSync(path.join(dir, file), "utf8");
  writeFileSync(path.join(OUT, `${name}.js`), src);
  return `(name = "${name}", worker = (modules = [(name = "${file}", esModule = embed "${name}.js")], compatibilityDate = "2024-09-23"))`;
}

async function startWorkerd(workers) {
  return startWorkerdAt(workers);
}

// workers: [{ name, dir, file }] — each gets its own socket (workerd routes by socket); the
// first listens on `firstPort` when given.
async function startWorkerdAt(workers, firstPort) {
  const ports = workers.map((_, i) => (i === 0 && firstPort ? firstPort : port()));
  const services = workers.map((w) => capnpWorker(w.name, w.dir, w.file)).join(",\n    ");
  const sockets = workers
    .map((w, i) => `(name = "s${i}", address = "127.0.0.1:${ports[i]}", http = (), service = "${w.name}")`)
    .join(",\n    ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services}
  ],
  sockets = [
    ${sockets}
  ]
);
`;
  const file = path.join(OUT, `workerd-${workers.length}.capnp`);
  writeFileSync(file, config);
  const child = spawn(WORKERD, ["serve", file], { cwd: OUT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  child.on("exit", (code) => {
    if (code) console.error(log);
  });
  await waitHttp(`http://127.0.0.1:${ports[0]}/`, workers[0].probe);
  return { child, url: `http://127.0.0.1:${ports[0]}`, ports };
}

// ---- scenarios ---------------------------------------------------------------------------

const results = [];

// Runs `run("hearth")` then `run(peer)`, `rounds` times alternating, and keeps the median of
// each metric; the two never run at the same time.
async function scenario(label, run, peer = "workerd", rounds = 1) {
  process.stderr.write(`\n== ${label}\n`);
  const hs = [];
  const ws = [];
  for (let i = 0; i < rounds; i++) {
    hs.push(await run("hearth"));
    process.stderr.write(`   hearth:  ${JSON.stringify(hs.at(-1))}\n`);
    ws.push(await run(peer));
    process.stderr.write(`   ${peer}: ${JSON.stringify(ws.at(-1))}\n`);
  }
  const median = (list) => {
    const out = { ...list[0] };
    for (const k of Object.keys(out)) {
      if (typeof out[k] !== "number") continue;
      const v = list.map((x) => x[k]).sort((a, b) => a - b);
      out[k] = v[Math.floor(v.length / 2)];
    }
    return out;
  };
  results.push({ label: rounds > 1 ? `${label}, median of ${rounds} rounds` : label, peer, h: median(hs), w: median(ws) });
}

async function loadScenario(which, worker, wrkOpts, probe) {
  const dir = path.join(HERE, "workers", worker);
  const server =
    which === "hearth"
      ? await startHearth([dir])
      : await startWorkerd([{ name: worker, dir, file: "index.js", probe }]);
  try {
    await waitHttp(server.url + "/", probe);
    // Warm up (JIT, realm creation on every thread), then measure.
    const warm = DURATION;
    try {
      execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${Math.max(2, Math.round(warm / 3))}s`, ...(wrkOpts.script ? ["-s", wrkOpts.script] : []), server.url + "/"], { env: { ...process.env, ...wrkOpts.env }, stdio: "ignore" });
    } catch {}
    return measure(server.child, server.url + "/", wrkOpts);
  } finally {
    await stop(server.child);
  }
}

function makeJsonBody() {
  // ~12 KB of realistic JSON: a list of records with nested objects and strings.
  const items = [];
  for (let i = 0; items.length < 1000; i++) {
    items.push({ id: i, name: `item-${i}`, tags: ["a", "b", "c"].slice(0, i % 4), price: i * 1.25, ok: i % 2 === 0, meta: { created: "2024-09-23T10:00:00Z", score: i % 7 } });
    if (JSON.stringify({ items }).length > 12 * 1024) {
      items.pop();
      break;
    }
  }
  const body = JSON.stringify({ items });
  const file = path.join(OUT, "body.json");
  writeFileSync(file, body);
  return { file, size: body.length };
}

async function manyWorkersScenario(which) {
  const N = 100;
  const base = mkdtempSync(path.join(tmpdir(), "hearth-bench-100-"));
  const workers = [];
  for (let i = 0; i < N; i++) {
    const dir = path.join(base, `w${i}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, "wrangler.toml"), `name = "w${i}"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n`);
    // Distinct code per Worker, so nothing can be shared between them by accident.
    writeFileSync(
      path.join(dir, "index.js"),
      `const table = Array.from({ length: ${50 + i} }, (_, k) => k * ${i + 1});
export default {
  async fetch(request) {
    const url = new URL(request.url);
    return Response.json({ worker: ${i}, path: url.pathname, sum: table.reduce((a, b) => a + b, 0) });
  },
};
`,
    );
    workers.push({ name: `w${i}`, dir, file: "index.js" });
  }
  try {
    let server, hit;
    if (which === "hearth") {
      server = await startHearth(workers.map((w) => w.dir));
      hit = (i) =>
        new Promise((resolve, reject) => {
          http
            .get({ host: "127.0.0.1", port: server.port, path: "/", headers: { host: `w${i}.localhost` }, agent: false }, (res) => {
              res.resume();
              res.on("end", resolve);
            })
            .on("error", reject);
        });
    } else {
      server = await startWorkerd(workers);
      hit = (i) => fetch(`http://127.0.0.1:${server.ports[i]}/`).then((r) => r.arrayBuffer());
    }
    // Every Worker serves requests on every thread (new connections spread across them).
    for (let round = 0; round < 8; round++) await Promise.all(workers.map((_, i) => hit(i)));
    await sleep(500);
    const rss = rssMiB(server.child.pid);
    await stop(server.child);
    return { rssMiB: rss };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

// (d): the data plane of `hearth serve` splitting hello 50/50 over two versions, against
// `hearth dev` serving the same code as its only version.
async function splitScenario(which) {
  const hello = readFileSync(path.join(HERE, "workers/hello/index.js"), "utf8");
  if (which === "hearth dev") return loadScenario("hearth", "hello", {});
  const server = await startServe();
  try {
    const a = await server.upload(hello);
    const b = await server.upload(hello + "\n// second version\n");
    await server.deploy([[a, 50], [b, 50]]);
    await waitHttp(server.url + "/");
    try {
      execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${Math.max(2, Math.round(DURATION / 3))}s`, server.url + "/"], { stdio: "ignore" });
    } catch {}
    return measure(server.child, server.url + "/");
  } finally {
    await stop(server.child);
    server.cleanup();
  }
}

// (e): deploy-to-live. A client asks back to back on one keep-alive connection; the time is
// from the start of the change (hearth: the deployment API call; workerd: stopping the old
// process to start one with the new code) to the first response from the new code.
const DEPLOYS = 20;
const versionSource = (i) => `export default { fetch() { return new Response("v${i}"); } };\n`;

function poller(portNumber) {
  const agent = new (http.Agent)({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise((resolve) => {
      const req = http.get({ host: "127.0.0.1", port: portNumber, path: "/", agent }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(body));
      });
      req.on("error", () => resolve(null)); // a restarting peer refuses connections
    });
  let closed = false;
  return {
    async until(expected) {
      while (!closed) {
        const body = await get();
        if (body === expected) return performance.now();
        if (body === null) await sleep(1);
      }
      return NaN;
    },
    close: () => {
      closed = true;
      agent.destroy();
    },
  };
}

async function deployLatencyScenario(which) {
  const times = [];
  if (which === "hearth") {
    const server = await startServe();
    const poll = poller(server.port);
    try {
      await server.deploy([[await server.upload(versionSource(0)), 100]]);
      await poll.until("v0");
      for (let i = 1; i <= DEPLOYS; i++) {
        const id = await server.upload(versionSource(i));
        const t0 = performance.now();
        const [seen] = await Promise.all([poll.until(`v${i}`), server.deploy([[id, 100]])]);
        times.push(seen - t0);
      }
    } finally {
      poll.close();
      await stop(server.child);
      server.cleanup();
    }
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), "hearth-bench-redeploy-"));
    let server = null;
    const runVersion = async (i) => {
      writeFileSync(path.join(dir, "index.js"), versionSource(i));
      return startWorkerdAt([{ name: `v${i}`, dir, file: "index.js" }], fixedPort);
    };
    const fixedPort = port();
    const poll = poller(fixedPort);
    try {
      server = await runVersion(0);
      await poll.until("v0");
      for (let i = 1; i <= DEPLOYS; i++) {
        const t0 = performance.now();
        await stop(server.child);
        server = await runVersion(i);
        times.push((await poll.until(`v${i}`)) - t0);
      }
    } finally {
      poll.close();
      if (server) await stop(server.child);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  times.sort((x, y) => x - y);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { liveMedianMs: at(0.5), liveP90Ms: at(0.9), liveMaxMs: times[times.length - 1] };
}

// (f): what tracing costs a Worker. Three configurations of the same hello Worker, alternating:
// unwatched (no tail, logs not stored: the baseline), its events stored in the logs store, and
// a live tail session attached whose client reads everything it is sent.
async function tracingScenario(which) {
  const hello = readFileSync(path.join(HERE, "workers/hello/index.js"), "utf8");
  const server = await startServe();
  let tail = null;
  try {
    const meta = which === "stored logs" ? { observability: { enabled: true } } : {};
    await server.deploy([[await server.upload(hello, meta), 100]]);
    if (which === "tail attached") {
      const session = await server.call("POST", `${server.script}/tails`);
      tail = await startTailClient(session.url);
    }
    await waitHttp(server.url + "/");
    try {
      execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${Math.max(2, Math.round(DURATION / 3))}s`, server.url + "/"], { stdio: "ignore" });
    } catch {}
    const r = measure(server.child, server.url + "/");
    if (tail) r.tailEvents = await tail.finish();
    return r;
  } finally {
    tail?.child.kill();
    await stop(server.child);
    server.cleanup();
  }
}

// A live tail client in its own process, so that it keeps reading while wrk runs (this script
// waits for wrk synchronously). finish() returns how many events it received.
async function startTailClient(url) {
  const code = `
    const { default: WebSocket } = await import(${JSON.stringify(path.join(HERE, "node_modules/ws/wrapper.mjs"))});
    const ws = new WebSocket(process.argv[1], "trace-v1", { headers: { authorization: "Bearer ${BENCH_TOKEN}" } });
    let events = 0;
    ws.on("message", (m) => {
      const msg = JSON.parse(m);
      if (msg.type === "filters") process.stdout.write("ready\\n");
      else if (!msg.type) events++;
    });
    ws.on("open", () => ws.send(JSON.stringify({ filters: [] })));
    process.stdin.on("data", () => { process.stdout.write("events " + events + "\\n"); process.exit(0); });
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code, url], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const seen = async (re) => {
    for (let i = 0; i < 200; i++) {
      const m = out.match(re);
      if (m) return m;
      if (child.exitCode !== null && i > 0) break;
      await sleep(50);
    }
    throw new Error(`tail client: expected ${re}, got ${JSON.stringify(out)}`);
  };
  await seen(/ready/);
  return {
    child,
    finish: async () => {
      child.stdin.write("x");
      return Number((await seen(/events (\d+)/))[1]);
    },
  };
}

// Runs the three configurations of (f) in alternating rounds and records two pairs.
async function tracingScenarios() {
  const configs = ["unwatched", "stored logs", "tail attached"];
  const runs = Object.fromEntries(configs.map((c) => [c, []]));
  process.stderr.write(`\n== (f) tracing overhead\n`);
  for (let i = 0; i < ROUNDS; i++) {
    for (const c of configs) {
      runs[c].push(await tracingScenario(c));
      process.stderr.write(`   ${c}: ${JSON.stringify(runs[c].at(-1))}\n`);
    }
  }
  const median = (list) => {
    const out = { ...list[0] };
    for (const k of Object.keys(out)) {
      if (typeof out[k] !== "number") continue;
      const v = list.map((x) => x[k]).sort((a, b) => a - b);
      out[k] = v[Math.floor(v.length / 2)];
    }
    return out;
  };
  const base = median(runs.unwatched);
  const suffix = ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : "";
  results.push({ label: `(f) hello, events stored vs unwatched${suffix}`, peer: "hearth serve unwatched", h: median(runs["stored logs"]), w: base });
  results.push({ label: `(f) hello, tail attached vs unwatched${suffix}`, peer: "hearth serve unwatched", h: median(runs["tail attached"]), w: base });
}

// (g), (h): rate limiting. One Worker directory per configuration; hearth dev on each.
async function rateLimitScenario(worker, args = []) {
  const server = await startHearth([path.join(HERE, "workers", worker)], args);
  try {
    await waitHttp(server.url + "/");
    try {
      execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${Math.max(2, Math.round(DURATION / 3))}s`, server.url + "/"], { stdio: "ignore" });
    } catch {}
    return measure(server.child, server.url + "/");
  } finally {
    await stop(server.child);
  }
}

async function startMemcached() {
  const p = port();
  const child = spawn("memcached", ["-l", "127.0.0.1", "-p", String(p), "-U", "0", "-t", "1", "-m", "64", "-u", "root"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${p}`], { stdio: "ignore" });
      return { child, port: p };
    } catch {
      await sleep(50);
    }
  }
  throw new Error("memcached did not start");
}

// The raw limit: memcached_bench's own pipelined client (and hearth's client library alone).
function memcachedBench(p, extra = []) {
  const out = execFileSync(MEMCACHED_BENCH, [`127.0.0.1:${p}`, "--seconds", String(Math.max(3, Math.round(DURATION / 2))), ...extra], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").at(-1));
}

// (i): a streaming proxy. The origin runs in its own process (wrk blocks this one).
async function startOrigin() {
  ensureTool(ORIGIN, "ORIGIN_BIN");
  const p = port();
  const child = await start(ORIGIN, [String(p), "16384"], /listening/);
  return { child, url: `http://127.0.0.1:${p}` };
}

async function proxyScenario(which, origin) {
  const dir = mkdtempSync(path.join(tmpdir(), "hearth-bench-proxy-"));
  const source = `export default { fetch() { return fetch("${origin.url}/data"); } };\n`;
  writeFileSync(path.join(dir, "index.js"), source);
  writeFileSync(path.join(dir, "wrangler.toml"), `name = "proxy"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n`);
  let server;
  if (which === "hearth") {
    server = await startHearth([dir]);
  } else {
    const p = port();
    writeFileSync(path.join(OUT, "proxy.js"), source);
    const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "proxy", worker = (modules = [(name = "index.js", esModule = embed "proxy.js")], compatibilityDate = "2024-09-23", globalOutbound = "internet")),
    (name = "internet", network = (allow = ["public", "private", "local"]))
  ],
  sockets = [(name = "s0", address = "127.0.0.1:${p}", http = (), service = "proxy")]
);
`;
    writeFileSync(path.join(OUT, "workerd-proxy.capnp"), config);
    const child = spawn(WORKERD, ["serve", path.join(OUT, "workerd-proxy.capnp")], { cwd: OUT, stdio: ["ignore", "pipe", "pipe"] });
    server = { child, url: `http://127.0.0.1:${p}` };
  }
  try {
    await waitHttp(server.url + "/");
    try {
      execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${Math.max(2, Math.round(DURATION / 3))}s`, server.url + "/"], { stdio: "ignore" });
    } catch {}
    return measure(server.child, server.url + "/");
  } finally {
    await stop(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// (k): service binding RPC. `front` answers each request with the result of one RPC call to
// `back`'s WorkerEntrypoint: an object argument, an object result (kind=object), or a
// ReadableStream result of 16 KiB that front returns as its body (kind=stream).
const RPC_FRONT = `export default {
  async fetch(request, env) {
    const kind = new URL(request.url).searchParams.get("kind") ?? "object";
    if (kind === "stream") return new Response(await env.BACK.bytes(16384));
    const found = await env.BACK.lookup({ id: 42, fields: ["name", "tags"], at: Date.now() });
    return Response.json(found);
  },
};
`;
const RPC_BACK = `import { WorkerEntrypoint } from "cloudflare:workers";
const chunk = new Uint8Array(16384).fill(120);
export default class extends WorkerEntrypoint {
  lookup(q) {
    return { id: q.id, name: "item-" + q.id, tags: ["a", "b", "c"], price: 12.5, seen: q.at > 0 };
  }
  bytes(n) {
    let left = n;
    return new ReadableStream({
      type: "bytes",
      pull(c) {
        const piece = chunk.slice(0, Math.min(left, chunk.length));
        left -= piece.length;
        c.enqueue(piece);
        if (left === 0) c.close();
      },
    });
  }
}
`;

async function rpcScenario(which, kind) {
  const base = mkdtempSync(path.join(tmpdir(), "hearth-bench-rpc-"));
  const front = path.join(base, "front");
  const back = path.join(base, "back");
  mkdirSync(front);
  mkdirSync(back);
  writeFileSync(path.join(front, "index.js"), RPC_FRONT);
  writeFileSync(path.join(back, "index.js"), RPC_BACK);
  writeFileSync(path.join(front, "wrangler.toml"), `name = "front"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n[[services]]\nbinding = "BACK"\nservice = "back"\n`);
  writeFileSync(path.join(back, "wrangler.toml"), `name = "back"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n`);
  const url = (server) => `${server.url}/?kind=${kind}`;
  let server;
  if (which === "hearth") {
    server = await startHearth([front, back]);
  } else {
    const p = port();
    writeFileSync(path.join(OUT, "rpc-front.js"), RPC_FRONT);
    writeFileSync(path.join(OUT, "rpc-back.js"), RPC_BACK);
    const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "front", worker = (modules = [(name = "index.js", esModule = embed "rpc-front.js")], compatibilityDate = "2024-09-23", bindings = [(name = "BACK", service = "back")])),
    (name = "back", worker = (modules = [(name = "index.js", esModule = embed "rpc-back.js")], compatibilityDate = "2024-09-23"))
  ],
  sockets = [(name = "s0", address = "127.0.0.1:${p}", http = (), service = "front")]
);
`;
    writeFileSync(path.join(OUT, "workerd-rpc.capnp"), config);
    const child = spawn(WORKERD, ["serve", path.join(OUT, "workerd-rpc.capnp")], { cwd: OUT, stdio: ["ignore", "pipe", "pipe"] });
    server = { child, url: `http://127.0.0.1:${p}` };
  }
  try {
    await waitHttp(url(server));
    try {
      execFileSync("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${Math.max(2, Math.round(DURATION / 3))}s`, url(server)], { stdio: "ignore" });
    } catch {}
    return measure(server.child, url(server));
  } finally {
    await stop(server.child);
    rmSync(base, { recursive: true, force: true });
  }
}

// (j): WebSocket echo. wsload runs in its own process (spawned, so that this one can sample the
// server's RSS while the 100 connections are open); a warm-up run first, then the measured one.
const WS_CONNECTIONS = 100;
const WS_SIZE = 64;

function wsload(portNumber, seconds, inflight) {
  return new Promise((resolve, reject) => {
    const argv = ["--port", String(portNumber), "--connections", String(WS_CONNECTIONS), "--inflight", String(inflight), "--size", String(WS_SIZE), "--seconds", String(seconds)];
    const child = spawn(WSLOAD, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`wsload exited (${code}): ${err}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)));
    });
  });
}

async function wsEchoScenario(which, inflight) {
  const dir = path.join(HERE, "workers", "ws-echo");
  // One shard thread, as workerd has one event loop: the load generator needs one of the two
  // CPUs, and with two shard threads the three busy threads time-slice, which adds a
  // scheduling tail (p99 ~4.5 ms instead of ~2 ms at the same messages/s).
  const server =
    which === "hearth" ? await startHearth([dir], ["--threads", "1"]) : await startWorkerd([{ name: "ws-echo", dir, file: "index.js" }]);
  const serverPort = which === "hearth" ? server.port : server.ports[0];
  try {
    await waitHttp(server.url + "/");
    await wsload(serverPort, Math.max(2, Math.round(DURATION / 3)), inflight);
    const before = cpuSeconds(server.child.pid);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.child.pid))), 250);
    let r;
    try {
      r = await wsload(serverPort, DURATION, inflight);
    } finally {
      clearInterval(sampler);
    }
    const cpu = cpuSeconds(server.child.pid) - before;
    return {
      mps: r.msgs_per_sec,
      p50: r.p50_us / 1000,
      p99: r.p99_us / 1000,
      cpuUsPerMsg: (cpu * 1e6) / r.messages,
      rssMiB: Math.max(peak, rssMiB(server.child.pid)),
      wsErrors: r.errors,
      wsConnections: r.connections,
    };
  } finally {
    await stop(server.child);
  }
}

// ---- main --------------------------------------------------------------------------------

const hearthVersion = execFileSync(HEARTH, ["--version"], { encoding: "utf8" }).trim();
const workerdVersion = execFileSync(WORKERD, ["--version"], { encoding: "utf8" }).trim();

if (ONLY.includes("a")) await scenario("(a) hello world", (which) => loadScenario(which, "hello", {}));
if (ONLY.includes("b")) {
  const body = makeJsonBody();
  const probe = { method: "POST", body: readFileSync(body.file) };
  await scenario(`(b) JSON echo, ${(body.size / 1024).toFixed(1)} KB POST`, (which) =>
    loadScenario(which, "echo", { script: path.join(HERE, "post.lua"), env: { BENCH_BODY: body.file } }, probe),
  );
}
if (ONLY.includes("c")) await scenario("(c) 100 Workers loaded", manyWorkersScenario);
if (ONLY.includes("d")) await scenario("(d) hello, serve 50/50 split vs dev", splitScenario, "hearth dev", ROUNDS);
if (ONLY.includes("e")) await scenario(`(e) deploy to live, ${DEPLOYS} deploys`, deployLatencyScenario);
if (ONLY.includes("f")) await tracingScenarios();
if (ONLY.includes("g"))
  await scenario("(g) limit() per request, embedded", (which) => rateLimitScenario(which === "hearth" ? "ratelimit" : "ratelimit-none"), "hearth, no limit() call", ROUNDS);
if (ONLY.includes("i")) {
  const origin = await startOrigin();
  try {
    await scenario("(i) streaming proxy, 16 KiB from a local origin", (which) => proxyScenario(which, origin), "workerd", ROUNDS);
  } finally {
    await stop(origin.child);
  }
}
if (ONLY.includes("j")) {
  ensureTool(WSLOAD, "WSLOAD_BIN");
  for (const inflight of [1, 16])
    await scenario(
      `(j) WebSocket echo, ${WS_CONNECTIONS} connections × ${inflight} in flight, ${WS_SIZE} B text`,
      (which) => wsEchoScenario(which, inflight),
      "workerd",
      ROUNDS,
    );
}
if (ONLY.includes("k")) {
  await scenario("(k) service binding RPC, object argument and result", (which) => rpcScenario(which, "object"), "workerd", ROUNDS);
  await scenario("(k) service binding RPC, 16 KiB ReadableStream result returned as the body", (which) => rpcScenario(which, "stream"), "workerd", ROUNDS);
}
let rawMemcached = null;
if (ONLY.includes("h")) {
  const mc = await startMemcached();
  try {
    await scenario(
      "(h) limit() per request, memcached backend",
      (which) => rateLimitScenario("ratelimit", which === "hearth" ? ["--ratelimit", `memcached://127.0.0.1:${mc.port}`] : []),
      "hearth, embedded backend",
      ROUNDS,
    );
    rawMemcached = { raw: memcachedBench(mc.port), client: memcachedBench(mc.port, ["--client"]) };
    process.stderr.write(`   memcached_bench: ${JSON.stringify(rawMemcached)}\n`);
  } finally {
    mc.child.kill("SIGKILL");
  }
}

// ---- report ------------------------------------------------------------------------------

const fmt = (v, d = 1) => (v === undefined ? "—" : v.toFixed(d));
const ratio = (a, b) => (a === undefined || b === undefined ? "—" : (a / b).toFixed(2) + "×");
const date = new Date().toISOString().slice(0, 10);
let md = `### ${date} — \`node bench/run.mjs --duration ${DURATION} --connections ${CONNECTIONS}\`\n\n`;
md += `${hearthVersion} vs ${workerdVersion}; ${cpus().length} CPUs (${cpus()[0].model}); wrk -t1 -c${CONNECTIONS} -d${DURATION}s, same machine as the servers.\n\n`;
md += "| scenario | metric | hearth | peer | hearth/peer |\n|---|---|---:|---:|---:|\n";
const METRICS = [
  ["rps", "req/s", 0],
  ["mps", "messages/s", 0],
  ["p50", "p50 ms", 2],
  ["p99", "p99 ms", 2],
  ["cpuUsPerReq", "server CPU µs/req", 1],
  ["cpuUsPerMsg", "server CPU µs/message", 1],
  ["rssMiB", "RSS MiB", 1],
  ["liveMedianMs", "to live, median ms", 1],
  ["liveP90Ms", "to live, p90 ms", 1],
  ["liveMaxMs", "to live, max ms", 1],
];
for (const { label, peer, h, w } of results) {
  let first = true;
  for (const [key, name, digits] of METRICS) {
    if (h[key] === undefined) continue;
    md += `| ${first ? `${label} (peer: ${peer})` : ""} | ${name} | ${fmt(h[key], digits)} | ${fmt(w[key], digits)} | ${ratio(h[key], w[key])} |\n`;
    first = false;
  }
  if (h.wsErrors || w.wsErrors) md += `| | WebSocket errors | ${h.wsErrors} | ${w.wsErrors} | |\n`;
  if (h.non2xx || w.non2xx) md += `| | non-2xx | ${h.non2xx} | ${w.non2xx} | |\n`;
}
if (rawMemcached) {
  const h = results.find((r) => r.label.startsWith("(h)")).h;
  const drove = 2 * h.rps; // each limit() is two memcached commands (read the previous window, add to this one)
  md += `\nmemcached commands/s: hearth (h) ${Math.round(drove)} (2 per limit()); hearth's client alone (memcached_bench --client) ${Math.round(rawMemcached.client.ops_per_sec)}; raw pipelined client (memcached_bench) ${Math.round(rawMemcached.raw.ops_per_sec)} — hearth at ${(drove / rawMemcached.raw.ops_per_sec).toFixed(2)}× of the raw limit, the client alone at ${(rawMemcached.client.ops_per_sec / rawMemcached.raw.ops_per_sec).toFixed(2)}×.\n`;
}
const file = path.join(OUT, `report-${date}.md`);
writeFileSync(file, md);
console.log(md);
console.error(`(written to ${path.relative(ROOT, file)})`);
