// Runs Worker directories (wrangler.toml + modules) on workerd, Cloudflare's open-source Workers
// runtime, so that end-to-end tests can compare hearth with it. workerd comes from bench/'s npm
// dependencies (scripts/run-tests.sh installs them). One workerd process serves every Worker,
// each as its own service on its own socket (workerd routes by socket, not by Host).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "./harness.mjs";

export const WORKERD = process.env.WORKERD_BIN ? path.resolve(process.env.WORKERD_BIN) : path.join(ROOT, "bench/node_modules/.bin/workerd");

export function workerdInstalled() {
  return existsSync(WORKERD);
}

// The few parts of wrangler.toml the corpus uses: top-level `name`, `main`,
// `compatibility_date`, `compatibility_flags`, `[vars]` (strings, numbers, booleans, arrays
// written as JSON, and `[vars.NAME]` tables of such values), `[[services]]` (`binding`,
// `service`, `entrypoint`) and `[triggers] crons`.
export function readWranglerToml(file) {
  const out = { vars: {}, compatibility_flags: [], services: [], crons: [] };
  let table = "";
  let entry = null; // the current [[services]] element
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/^\s+|\s+$/g, "");
    if (!line || line.startsWith("#")) continue;
    const arrayTable = /^\[\[([^\]]+)\]\]$/.exec(line);
    if (arrayTable) {
      table = arrayTable[1].trim();
      if (table !== "services") throw new Error(`${file}: array of tables [[${table}]] is not supported by lib/workerd.mjs`);
      out.services.push((entry = {}));
      continue;
    }
    const t = /^\[([^\]]+)\]$/.exec(line);
    if (t) {
      table = t[1].trim();
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`${file}: unsupported line: ${raw}`);
    const value = JSON.parse(kv[2].replace(/\s+#.*$/, ""));
    if (table === "") out[kv[1]] = value;
    else if (table === "vars") out.vars[kv[1]] = value;
    else if (table.startsWith("vars.")) (out.vars[table.slice(5)] ??= {})[kv[1]] = value;
    else if (table === "services" && ["binding", "service", "entrypoint"].includes(kv[1])) entry[kv[1]] = value;
    else if (table === "triggers" && kv[1] === "crons") out.crons = value;
    else throw new Error(`${file}: ${table}.${kv[1]} is not supported by lib/workerd.mjs`);
  }
  for (const [i, s] of out.services.entries()) {
    if (typeof s.binding !== "string" || typeof s.service !== "string") throw new Error(`${file}: services[${i}] needs binding and service`);
  }
  return out;
}

// wrangler's default module rules (docs/config.md), as workerd module kinds.
function moduleKind(file) {
  if (/\.(m?js)$/.test(file)) return "esModule";
  if (/\.wasm$/.test(file)) return "wasm";
  if (/\.(txt|html)$/.test(file)) return "text";
  if (/\.bin$/.test(file)) return "data";
  if (/\.json$/.test(file)) return "json";
  return null;
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, base));
    else out.push(path.relative(base, full).split(path.sep).join("/"));
  }
  return out;
}

const capnpString = (s) => JSON.stringify(String(s));

// The capnp service for one Worker directory; its modules are copied under `into/<name>/`.
// `serviceOf` maps a Worker's `name` (in wrangler.toml) to its capnp service, for [[services]].
function capnpService(service, dir, into, serviceOf) {
  const toml = readWranglerToml(path.join(dir, "wrangler.toml"));
  const mainDir = path.dirname(path.join(dir, toml.main));
  const main = path.basename(toml.main);
  const copy = path.join(into, service);
  cpSync(mainDir, copy, { recursive: true });
  const files = listFiles(mainDir).filter((f) => moduleKind(f));
  files.sort((a, b) => (a === main ? -1 : b === main ? 1 : 0));
  const modules = files.map((f) => `(name = ${capnpString(f)}, ${moduleKind(f)} = embed ${capnpString(`${service}/${f}`)})`);
  const bindings = Object.entries(toml.vars).map(([k, v]) =>
    typeof v === "string" ? `(name = ${capnpString(k)}, text = ${capnpString(v)})` : `(name = ${capnpString(k)}, json = ${capnpString(JSON.stringify(v))})`,
  );
  for (const s of toml.services) {
    const target = serviceOf[s.service];
    if (!target) throw new Error(`${dir}: [[services]] ${s.binding} names "${s.service}", which is not one of the Workers given`);
    const entry = s.entrypoint ? `, entrypoint = ${capnpString(s.entrypoint)}` : "";
    bindings.push(`(name = ${capnpString(s.binding)}, service = (name = ${capnpString(target)}${entry}))`);
  }
  const flags = toml.compatibility_flags.map(capnpString).join(", ");
  return `(name = ${capnpString(service)}, worker = (
      modules = [${modules.join(", ")}],
      bindings = [${bindings.join(", ")}],
      compatibilityDate = ${capnpString(toml.compatibility_date)},
      compatibilityFlags = [${flags}]))`;
}

// workerd has no endpoint that runs a cron trigger, so a Worker with [triggers] crons gets this
// one in front of it (on its socket): `GET /__scheduled?cron=<expr>&time=<Unix ms>` runs its
// scheduled() through a service binding (Fetcher.scheduled(), behind the experimental
// compatibility flag service_binding_extra_handlers) and answers as hearth dev and wrangler dev
// do; every other request goes on to its fetch() unchanged.
const CRON_DRIVER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/__scheduled") return env.TARGET.fetch(request);
    const options = { cron: url.searchParams.get("cron") ?? "" };
    const time = url.searchParams.get("time");
    if (time) options.scheduledTime = new Date(Number(time));
    const result = await env.TARGET.scheduled(options);
    if (result.outcome !== "ok") return new Response(\`scheduled() ended with \${result.outcome}\\n\`, { status: 500 });
    return new Response("Ran scheduled event", { headers: { "content-type": "text/plain;charset=UTF-8" } });
  },
};
`;

function capnpCronDriver(service, target, compatibilityDate, into) {
  writeFileSync(path.join(into, `${service}.js`), CRON_DRIVER);
  return `(name = ${capnpString(service)}, worker = (
      modules = [(name = "driver.js", esModule = embed ${capnpString(`${service}.js`)})],
      bindings = [(name = "TARGET", service = ${capnpString(target)})],
      compatibilityDate = ${capnpString(compatibilityDate)},
      compatibilityFlags = ["service_binding_extra_handlers"]))`;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    sock.on("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });
}

// Starts one workerd serving each of `dirs` (Worker directories) on a port of its own.
// Resolves { child, ports: { [dir]: port }, log(), stop() }. The ports are found free and
// then bound by workerd, so another process may take one in between: then it tries again.
export async function startWorkerd(dirs, options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startWorkerdOnce(dirs, options);
    } catch (e) {
      if (attempt === 3 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

async function startWorkerdOnce(dirs, { readyTimeout = 30000 } = {}) {
  const work = mkdtempSync(path.join(tmpdir(), "hearth-workerd-"));
  const services = [];
  const sockets = [];
  const ports = {};
  const tomls = dirs.map((dir) => readWranglerToml(path.join(dir, "wrangler.toml")));
  const serviceOf = Object.fromEntries(tomls.map((t, i) => [t.name, `w${i}`]));
  for (const [i, dir] of dirs.entries()) {
    const name = `w${i}`;
    ports[dir] = await freePort();
    services.push(capnpService(name, dir, work, serviceOf));
    let front = name;
    if (tomls[i].crons.length) {
      front = `${name}-cron`;
      services.push(capnpCronDriver(front, name, tomls[i].compatibility_date, work));
    }
    sockets.push(`(name = "s${i}", address = "127.0.0.1:${ports[dir]}", http = (), service = "${front}")`);
  }
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")},
    # fetch() goes out through the service named "internet"; this one may reach 127.0.0.1
    # (the tests' local origins), which workerd's default one refuses.
    (name = "internet", network = (allow = ["public", "private", "local"]))
  ],
  sockets = [
    ${sockets.join(",\n    ")}
  ]
);
`;
  writeFileSync(path.join(work, "config.capnp"), config);
  // --experimental: the cron driver's compatibility flag is an experimental one.
  const child = spawn(WORKERD, ["serve", "--experimental", "config.capnp"], { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const server = {
    child,
    ports,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
      rmSync(work, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + readyTimeout;
  for (const port of Object.values(ports)) {
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`workerd did not start:\n${log}\n--- config ---\n${config}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  // workerd opens its sockets before it has compiled every Worker; one that fails to load
  // makes it exit a moment later.
  await new Promise((r) => setTimeout(r, 200));
  if (child.exitCode !== null || child.signalCode !== null) {
    await server.stop();
    throw new Error(`workerd exited after starting:\n${log}`);
  }
  return server;
}
