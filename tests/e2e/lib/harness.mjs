// Test harness for end-to-end tests: starts the real hearth binary on a port it picks itself
// (--port 0, read back from the "Ready on" line), writes throwaway Worker projects, and talks
// HTTP over real sockets (including raw bytes for malformed-request tests).
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const HEARTH = process.env.HEARTH_BIN ? path.resolve(process.env.HEARTH_BIN) : path.join(ROOT, "build/hearth");
// Sanitizer builds are several times slower (tests scale their waits by SLOW), and ASan keeps
// freed memory in quarantine, so RSS says nothing about leaks there.
export const SANITIZED = Boolean(process.env.HEARTH_BIN && process.env.HEARTH_BIN.includes("asan"));
export const SLOW = SANITIZED ? 4 : 1;

const made = [];
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

// Writes { "relative/path": contents } into a new temporary directory and returns its path.
export function project(files) {
  const dir = mkdtempSync(path.join(tmpdir(), "hearth-test-"));
  made.push(dir);
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir, files) {
  for (const [name, contents] of Object.entries(files)) {
    const full = path.join(dir, name);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, contents);
  }
}

// A minimal project: wrangler.toml plus src/index.js with the given source.
export function worker(source, { toml = "", files = {} } = {}) {
  return project({
    "wrangler.toml": `name = "test"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n${toml}`,
    "src/index.js": source,
    ...files,
  });
}

// Runs `hearth args...` to completion: { code, signal, stdout, stderr }. `input`, when given,
// is written to its stdin, which is then closed; `cwd` is its working directory.
export function run(args, { timeout = 30000 * SLOW, env = {}, cwd, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(HEARTH, args, { env: { ...process.env, ...env }, cwd });
    if (input !== undefined) child.stdin.end(input);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hearth ${args.join(" ")} did not exit within ${timeout}ms\n${stderr}`));
    }, timeout);
    // "close", not "exit": output may still be in the pipes when the process exits.
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// Runs `hearth args...` on a pseudo-terminal (util-linux `script`), answering its prompts:
// `steps` is a list of [regexp, answer]; each answer is typed once the output (after the
// previous match) matches its regexp. Resolves { code, output } (stdout and stderr together,
// as the terminal showed them, with "\n" line ends).
export function runPty(args, { steps = [], env = {}, cwd, timeout = 30000 * SLOW } = {}) {
  const quote = (a) => `'${String(a).replaceAll("'", `'\\''`)}'`;
  const command = [HEARTH, ...args].map(quote).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, ...env }, cwd });
    let output = "";
    let from = 0;
    let step = 0;
    const advance = () => {
      while (step < steps.length) {
        const [re, answer] = steps[step];
        const m = re.exec(output.slice(from));
        if (!m) return;
        from += m.index + m[0].length;
        step++;
        child.stdin.write(answer);
      }
    };
    const onData = (d) => {
      output += d.toString().replace(/\r\n/g, "\n");
      advance();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hearth ${args.join(" ")} (on a terminal) did not finish within ${timeout}ms; ` +
        `answered ${step} of ${steps.length} prompts\n${output}`));
    }, timeout);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, answered: step });
    });
  });
}

// Starts `hearth dev DIR... args` and resolves once it is ready.
export async function startDev(dirs, args = [], { env = {}, readyTimeout = 20000 * SLOW } = {}) {
  const list = Array.isArray(dirs) ? dirs : [dirs];
  const child = spawn(HEARTH, ["dev", ...list, "--port", "0", ...args], {
    env: { ...process.env, ...env },
  });
  const server = new DevServer(child);
  await server.waitFor(/Ready on http:\/\/[^:]+:(\d+)/, readyTimeout);
  const m = /Ready on http:\/\/([^\s]+):(\d+)/.exec(server.stderr);
  server.port = Number(m[2]);
  server.url = `http://127.0.0.1:${server.port}`;
  return server;
}

// Starts `hearth serve` with a fresh (or the given) data directory and a known admin token.
// Resolves once both planes listen: { url, port, api, adminPort, token, dataDir, account, ... }.
export async function startServe(args = [], { dataDir, token = "test-token", env = {}, readyTimeout = 20000 * SLOW } = {}) {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), "hearth-serve-"));
  if (!dataDir) made.push(dir);
  const child = spawn(HEARTH, ["serve", "--data", dir, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", ...args], {
    env: { ...process.env, HEARTH_ADMIN_TOKEN: token, ...env },
  });
  const server = new DevServer(child);
  await server.waitFor(/Serving on http:\/\/[^:]+:(\d+)/, readyTimeout);
  server.port = Number(/Serving on http:\/\/[^\s]+:(\d+)/.exec(server.stderr)[1]);
  server.adminPort = Number(/Control API on http:\/\/[^\s]+:(\d+)/.exec(server.stderr)[1]);
  server.url = `http://127.0.0.1:${server.port}`;
  server.api = `http://127.0.0.1:${server.adminPort}/client/v4`;
  // Without a token given, use the one the first start prints.
  server.token = token || /Admin API token \(shown once, keep it\): (\S+)/.exec(server.stderr)?.[1];
  server.dataDir = dir;
  const accounts = await (await fetch(server.api + "/accounts", { headers: { authorization: `Bearer ${server.token}` } })).json();
  server.account = accounts.result[0].id;
  return server;
}

class DevServer {
  constructor(child) {
    this.child = child;
    this.stdout = "";
    this.stderr = "";
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    this.waiters = [];
    const onData = () => {
      for (const w of [...this.waiters]) w.check();
    };
    child.stdout.on("data", (d) => {
      this.stdout += d;
      onData();
    });
    child.stderr.on("data", (d) => {
      this.stderr += d;
      onData();
    });
    child.on("exit", () => {
      for (const w of [...this.waiters]) w.exit();
    });
  }

  get output() {
    return this.stdout + this.stderr;
  }

  // Resolves when stdout+stderr (from `from` on) match re; rejects on timeout or exit.
  waitFor(re, timeout = 10000 * SLOW, from = 0) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const m = re.exec(this.output.slice(from));
          if (m) {
            done();
            resolve(m);
          }
        },
        exit: () => {
          done();
          reject(new Error(`hearth exited while waiting for ${re}\n${this.output}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${re}\n--- output ---\n${this.output}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      this.waiters.push(waiter);
      waiter.check();
    });
  }

  fetch(pathname, init) {
    return fetch(this.url + pathname, init);
  }

  // A control API call (serve): resolves to the parsed envelope plus the HTTP status.
  async call(method, pathname, body, { token = this.token, headers = {} } = {}) {
    const init = { method, headers: { ...headers } };
    if (token !== null) init.headers.authorization = `Bearer ${token}`;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers["content-type"] = "application/json";
    }
    const res = await fetch(this.api + pathname, init);
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    json.status = res.status;
    return json;
  }

  scriptPath(name) {
    return `/accounts/${this.account}/workers/scripts/${name}`;
  }

  async stop(signal = "SIGTERM") {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const res = await this.exited;
    if (process.env.HEARTH_BIN?.includes("asan") && /ERROR: (Address|Leak)Sanitizer|runtime error:/.test(this.stderr)) {
      throw new Error(`sanitizer report:\n${this.stderr}`);
    }
    return res;
  }
}

// Sends raw bytes on a new connection and collects everything received until the server
// closes the connection or `idle` ms pass without data. Resolves { data, closed }.
export function rawExchange(port, chunks, { idle = 1000 * SLOW, gapMs = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let timer;
    const finish = (closed) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: data.toString("latin1"), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), idle);
    };
    sock.on("data", (d) => {
      data = Buffer.concat([data, d]);
      arm();
    });
    sock.on("end", () => finish(true));
    sock.on("close", () => finish(true));
    sock.on("error", (e) => (e.code === "ECONNRESET" ? finish(true) : reject(e)));
    sock.on("connect", async () => {
      arm();
      for (const c of Array.isArray(chunks) ? chunks : [chunks]) {
        sock.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

// Splits a byte string holding several HTTP/1.1 responses into { status, headers, body }.
export function parseResponses(text) {
  const out = [];
  let rest = text;
  while (rest.length) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const head = rest.slice(0, end).split("\r\n");
    const status = Number(head[0].split(" ")[1]);
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = "";
    if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      body = rest.slice(0, n);
      rest = rest.slice(n);
    } else if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const nl = rest.indexOf("\r\n");
        const size = parseInt(rest.slice(0, nl), 16);
        rest = rest.slice(nl + 2);
        if (size === 0) {
          rest = rest.slice(rest.indexOf("\r\n") + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    }
    out.push({ status, headers, body, raw: head[0] });
  }
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The resident set size of process `pid`, in KiB (for tests that bound memory growth).
export function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

// Starts `server` (a node http, https or net server, e.g. a test's origin) on a free loopback
// port → the port.
export function listenLoopback(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

// Stops such a server, dropping its keep-alive connections rather than waiting for them.
export function closeServer(server) {
  server?.closeAllConnections?.();
  server?.close();
}

// Reads a body (an async iterable of chunks) to its end, sampling process `pid`'s RSS before,
// every `every` chunks and after: → { total bytes, peak KiB }.
export async function drainSamplingRss(body, pid, { every = 64 } = {}) {
  let total = 0;
  let n = 0;
  let peak = rssKiB(pid);
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (++n % every === 0) peak = Math.max(peak, rssKiB(pid));
  }
  return { total, peak: Math.max(peak, rssKiB(pid)) };
}

// An origin's answer of `size` generated bytes with their Content-Length, written as the
// client takes them (node's backpressure); onWrite(total) after each piece, to count them.
export function sendGenerated(res, size, { chunkSize = 64 * 1024, onWrite = () => {} } = {}) {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
  const chunk = Buffer.alloc(chunkSize, 120);
  let sent = 0;
  const more = () => {
    while (sent < size) {
      const piece = size - sent >= chunk.length ? chunk : chunk.subarray(0, size - sent);
      sent += piece.length;
      onWrite(sent);
      if (!res.write(piece)) {
        res.once("drain", more);
        return;
      }
    }
    res.end();
  };
  more();
}
