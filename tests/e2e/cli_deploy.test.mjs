// The control API's command-line client against a real `hearth serve`: login, deploy,
// versions (upload, list, view, deploy), deployments, rollback and delete, with their --json
// outputs, interactive prompts on a pseudo-terminal, and every error path we can provoke —
// plus a fake server that answers nonsense, which the client must survive.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, existsSync, mkdirSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { run, runPty, project, startServe } from "./lib/harness.mjs";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let server;
let apiUrl; // what HEARTH_API_URL takes: the admin address without /client/v4

before(async () => {
  server = await startServe();
  apiUrl = server.api.replace(/\/client\/v4$/, "");
});

after(async () => {
  await server?.stop();
});

// An empty config home, so no test sees another's (or the user's) saved login.
function configHome() {
  return mkdtempSync(path.join(tmpdir(), "hearth-cfg-"));
}

// The environment of a command: settings from the environment unless told otherwise.
function envFor({ url = apiUrl, token = server.token, home = configHome() } = {}) {
  return {
    HEARTH_API_URL: url ?? undefined,
    HEARTH_API_TOKEN: token ?? undefined,
    XDG_CONFIG_HOME: home,
  };
}

function cli(args, { env = envFor(), cwd, input } = {}) {
  return run(args, { env, cwd, input });
}

function pty(args, steps, { env = envFor(), cwd } = {}) {
  return runPty(args, { steps, env, cwd });
}

// A Worker project named `name` whose fetch answers with `body` (and what it can see of env).
function workerProject(name, body = "hello", { toml = "", files = {} } = {}) {
  return project({
    "wrangler.toml": `name = "${name}"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n${toml}`,
    "src/index.js": `export default { fetch: (req, env) => new Response(${JSON.stringify(body)}) };\n`,
    ...files,
  });
}

// A request to the data plane for the Worker `name` (Host: name.localhost).
function dataPlane(name, pathname = "/", headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port: server.port, path: pathname, headers: { host: `${name}.localhost`, ...headers } },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body }));
      },
    );
    req.on("error", reject);
  });
}

function json(r) {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function deployJson(dir, extra = []) {
  return json(await cli(["deploy", dir, "--json", ...extra]));
}

async function uploadJson(dir, extra = []) {
  return json(await cli(["versions", "upload", dir, "--json", ...extra]));
}

// Uploads versions straight through the API (faster than the CLI when a test needs many).
async function apiUpload(name, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const fd = new FormData();
    fd.append("metadata", new Blob([JSON.stringify({ main_module: "index.js", compatibility_date: "2024-09-23" })], { type: "application/json" }));
    fd.append("index.js", new Blob([`export default { fetch: () => new Response("v${i}") };\n`], { type: "application/javascript+module" }), "index.js");
    const r = await server.call("POST", server.scriptPath(name) + "/versions", fd);
    assert.equal(r.status, 200, JSON.stringify(r));
    ids.push(r.result.id);
  }
  return ids;
}

// ---- help and usage ------------------------------------------------------------------------

test("help lists the client commands; each has its own usage", async () => {
  const help = await run(["--help"]);
  for (const cmd of ["login", "deploy", "versions", "deployments", "rollback", "delete"])
    assert.match(help.stdout, new RegExp(`\\n  ${cmd}\\b`));
  for (const args of [["login", "--help"], ["deploy", "--help"], ["versions", "--help"], ["versions", "upload", "--help"],
    ["versions", "list", "--help"], ["versions", "view", "--help"], ["versions", "deploy", "--help"],
    ["deployments", "--help"], ["rollback", "--help"], ["delete", "--help"]]) {
    const r = await run(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.match(r.stdout, /^Usage: hearth /, args.join(" "));
  }
});

test("usage errors exit 2", async () => {
  const cases = [
    [["versions"], /which versions command/],
    [["versions", "frob"], /unknown versions command "frob"/],
    [["deployments", "frob"], /unknown deployments command "frob"/],
    [["deploy", "--bogus"], /unknown option --bogus/],
    [["deploy", "a", "b"], /unexpected argument b/],
    [["deploy", "-m"], /--message needs a value/],
    [["versions", "view"], /which version\?/],
    [["versions", "list", "--name"], /--name needs a value/],
    [["delete", "a", "b", "-y"], /give one Worker to delete/],
    [["login", "--token"], /--token needs a value/],
    [["rollback", "a", "b"], /unexpected argument b/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

// ---- login and settings --------------------------------------------------------------------

test("login checks the token and saves URL, token and account (mode 0600)", async () => {
  const home = configHome();
  const env = envFor({ url: null, token: null, home });
  const r = await cli(["login", "--api-url", apiUrl, "--token", server.token], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Logged in to ${apiUrl} \\(account ${server.account}\\)`));
  const file = path.join(home, "hearth/config.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), { api_url: apiUrl, token: server.token, account_id: server.account });

  // The other commands now work without environment settings.
  const dir = workerProject("login-uses-config");
  const d = await cli(["deploy", dir], { env });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /Deployed login-uses-config/);
});

test("login without XDG_CONFIG_HOME writes ~/.config/hearth/config.json", async () => {
  const home = mkdtempSync(path.join(tmpdir(), "hearth-home-"));
  const env = { HOME: home, XDG_CONFIG_HOME: undefined, HEARTH_API_URL: undefined, HEARTH_API_TOKEN: undefined };
  const r = await cli(["login", "--api-url", apiUrl + "/", "--token", server.token], { env });
  assert.equal(r.code, 0, r.stderr);
  const saved = JSON.parse(readFileSync(path.join(home, ".config/hearth/config.json"), "utf8"));
  assert.equal(saved.api_url, apiUrl); // the trailing slash is dropped
});

test("login reads the token from stdin", async () => {
  const home = configHome();
  const r = await cli(["login", "--api-url", apiUrl], { env: envFor({ url: null, token: null, home }), input: `  ${server.token}\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(path.join(home, "hearth/config.json"), "utf8")).token, server.token);
  const empty = await cli(["login", "--api-url", apiUrl], { env: envFor({ url: null, token: null }), input: "" });
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no API token was given/);
});

test("login on a terminal asks for the token without echoing it", async () => {
  const home = configHome();
  const r = await pty(["login", "--api-url", apiUrl], [[/API token: /, server.token + "\n"]], { env: envFor({ url: null, token: null, home }) });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /API token: /);
  assert.doesNotMatch(r.output, new RegExp(server.token));
  assert.match(r.output, /Logged in to/);
  assert.equal(JSON.parse(readFileSync(path.join(home, "hearth/config.json"), "utf8")).token, server.token);
});

test("login with a wrong token shows the API's 403 message and saves nothing", async () => {
  const home = configHome();
  const r = await cli(["login", "--api-url", apiUrl, "--token", "wrong"], { env: envFor({ url: null, token: null, home }) });
  assert.equal(r.code, 1);
  const verify = await server.call("GET", "/user/tokens/verify", undefined, { token: "wrong" });
  assert.equal(verify.status, 403);
  assert.ok(r.stderr.includes(verify.errors[0].message), r.stderr);
  assert.match(r.stderr, /\[code 10000\]/);
  assert.match(r.stderr, /HTTP 403/);
  assert.match(r.stderr, /run `hearth login`, or set HEARTH_API_TOKEN/);
  assert.equal(existsSync(path.join(home, "hearth/config.json")), false);
});

test("login refuses a URL that is not http(s)", async () => {
  const r = await cli(["login", "--api-url", "ftp://x", "--token", "t"], { env: envFor({ url: null, token: null }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /must start with http:\/\/ or https:\/\//);
});

test("without a login or settings, commands say how to log in", async () => {
  for (const args of [["versions", "list", "--name", "x"], ["deploy", workerProject("nologin")], ["deployments", "list", "--name", "x"]]) {
    const r = await cli(args, { env: envFor({ url: null, token: null }) });
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, /no API token: run `hearth login` .*or set HEARTH_API_TOKEN/);
  }
});

test("a config file that is not JSON is reported with its path", async () => {
  const home = configHome();
  mkdirSync(path.join(home, "hearth"));
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(home, "hearth/config.json"), "{nope");
  const r = await cli(["versions", "list", "--name", "x"], { env: envFor({ url: null, token: null, home }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /hearth\/config\.json: not a usable hearth config file/);
});

test("environment settings win over the config file", async () => {
  const home = configHome();
  // A saved login pointing nowhere useful...
  mkdirSync(path.join(home, "hearth"));
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(home, "hearth/config.json"), JSON.stringify({ api_url: "http://127.0.0.1:1", token: "old", account_id: "0".repeat(32) }));
  // ...is overridden by HEARTH_API_URL / HEARTH_API_TOKEN (the account is asked for).
  const dir = workerProject("env-wins");
  const r = await cli(["deploy", dir], { env: envFor({ home }) });
  assert.equal(r.code, 0, r.stderr);
  // And the config file alone is used when the environment says nothing.
  const c = await cli(["versions", "list", dir], { env: envFor({ url: null, token: null, home }) });
  assert.equal(c.code, 1);
  assert.match(c.stderr, /cannot reach the control API at http:\/\/127\.0\.0\.1:1: /);
});

test("a wrong token in the environment gives the 403 message", async () => {
  const r = await cli(["versions", "list", "--name", "x"], { env: envFor({ token: "nope" }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[code 10000\]/);
  assert.match(r.stderr, /HTTP 403 from GET .*\/client\/v4\/accounts/);
});

test("an unreachable API is reported as such", async () => {
  const r = await cli(["deployments", "status", "--name", "x"], { env: envFor({ url: "http://127.0.0.1:1" }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hearth: cannot reach the control API at http:\/\/127\.0\.0\.1:1: .+/m);
});

// ---- deploy and versions upload ------------------------------------------------------------

test("deploy uploads every module kind, vars, version metadata and routes, and serves it", async () => {
  const dir = project({
    "wrangler.toml": [
      'name = "full"', 'main = "src/index.js"', 'compatibility_date = "2024-09-23"',
      'compatibility_flags = ["nodejs_compat"]', "upload_source_maps = true",
      'routes = ["full.example.com/*", { pattern = "api.example.com/full/*", zone_name = "example.com" }]',
      "[vars]", 'GREETING = "hi"', "COUNT = 3", "[limits]", "cpu_ms = 500", "[version_metadata]", 'binding = "VM"', "",
    ].join("\n"),
    ".dev.vars": "SECRET=s3\n",
    "src/index.js": [
      'import { helper } from "./lib/helper.js";', 'import text from "./note.txt";', 'import data from "./blob.bin";',
      'import cfg from "./cfg.json";', 'import wasm from "./empty.wasm";',
      "export default { fetch: (req, env) => Response.json({ h: helper(), text, bytes: data.byteLength, cfg,",
      "  w: wasm instanceof WebAssembly.Module,",
      "  g: env.GREETING, n: env.COUNT, s: env.SECRET, vm: env.VM.id }) };",
      "//# sourceMappingURL=index.js.map", "",
    ].join("\n"),
    "src/index.js.map": '{"version":3,"sources":["index.ts"],"mappings":""}',
    "src/lib/helper.js": "export const helper = () => 42;\n",
    "src/note.txt": "a note",
    "src/blob.bin": "12345",
    "src/cfg.json": '{"k":1}',
    "src/empty.wasm": Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  });
  const r = await cli(["deploy", dir, "-m", "first deploy", "--tag", "v1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Total Upload: \d+\.\d\d KiB \(6 modules, 1 source map\)\n/);
  assert.match(r.stdout, /\nUploaded full \(\d+\.\d\d sec\)\n/);
  assert.match(r.stdout, /\nDeployed full\n  full\.example\.com\/\*\n  api\.example\.com\/full\/\*\n/);
  const id = new RegExp(`Current Version ID: (${UUID.source})\\n$`).exec(r.stdout)[1];
  assert.doesNotMatch(r.stderr, /routes|version_metadata/); // no "not supported" warnings

  const served = await dataPlane("full");
  assert.equal(served.status, 200, served.body);
  assert.deepEqual(JSON.parse(served.body), { h: 42, text: "a note", bytes: 5, cfg: { k: 1 }, w: true, g: "hi", n: 3, s: "s3", vm: id });
  // The route patterns reach the Worker too.
  const routed = await new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: server.port, path: "/full/x", headers: { host: "api.example.com" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    }).on("error", reject);
  });
  assert.equal(routed, 200);

  const v = json(await cli(["versions", "view", id, "--name", "full", "--json"]));
  assert.equal(v.id, id);
  assert.equal(v.annotations["workers/message"], "first deploy");
  assert.equal(v.annotations["workers/tag"], "v1");
  assert.equal(v.annotations["workers/triggered_by"], "create");
  assert.equal(v.resources.script.main_module, "src/index.js");
  assert.deepEqual([...v.resources.script.modules].sort(), ["src/blob.bin", "src/cfg.json", "src/empty.wasm", "src/index.js", "src/index.js.map", "src/lib/helper.js", "src/note.txt"]);
  assert.equal(v.resources.script_runtime.compatibility_date, "2024-09-23");
  assert.deepEqual(v.resources.script_runtime.compatibility_flags, ["nodejs_compat"]);
  assert.equal(v.resources.script_runtime.limits.cpu_ms, 500);
  const types = Object.fromEntries(v.resources.bindings.map((b) => [b.name, b.type]));
  assert.deepEqual(types, { GREETING: "plain_text", COUNT: "json", VM: "version_metadata", SECRET: "secret_text" });
});

test("deploy --json prints the API result; a second deploy makes a new version", async () => {
  const dir = workerProject("deploy-json", "one");
  const first = await deployJson(dir);
  assert.match(first.version_id, UUID);
  assert.match(first.deployment_id, UUID);
  assert.equal(first.id, "deploy-json");
  assert.equal(first.active_deployment_id, first.deployment_id);
  assert.equal((await dataPlane("deploy-json")).body, "one");
  const again = await deployJson(workerProject("deploy-json", "two"));
  assert.notEqual(again.version_id, first.version_id);
  assert.equal((await dataPlane("deploy-json")).body, "two");
});

test("--env deploys [env.NAME] as its own Worker, <name>-<env>, with only its own bindings", async () => {
  const toml = `[vars]\nSTAGE = "top"\n[env.staging.vars]\nSTAGE = "staging"\n[env.production]\nname = "envs-live"\nvars = { STAGE = "production" }\n`;
  const dir = project({
    "wrangler.toml": `name = "envs"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n${toml}`,
    "src/index.js": `export default { fetch: (req, env) => new Response(String(env.STAGE)) };\n`,
  });
  const top = await deployJson(dir);
  assert.equal(top.id, "envs");
  const staging = await deployJson(dir, ["--env", "staging"]);
  assert.equal(staging.id, "envs-staging");
  const live = await deployJson(dir, ["-e", "production"]);
  assert.equal(live.id, "envs-live");
  assert.equal((await dataPlane("envs")).body, "top");
  assert.equal((await dataPlane("envs-staging")).body, "staging");
  assert.equal((await dataPlane("envs-live")).body, "production");
  // The commands that take the Worker's name from wrangler.toml take the environment's.
  const listed = json(await cli(["versions", "list", "--env=staging", "--json"], { cwd: dir }));
  assert.deepEqual(listed.items.map((v) => v.id), [staging.version_id]);
  // An environment the file does not have, and --env without a name.
  const missing = await cli(["deploy", dir, "--env", "qa"]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /--env qa: there is no \[env\.qa\] section \(the environments are: staging, production\)/);
  const bare = await cli(["deploy", dir, "--env"]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /--env needs the name of an environment/);
});

test("deploy reports configuration and compile errors without calling the API", async () => {
  const bad = project({ "wrangler.toml": 'name = "bad"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\nroutes = [5]\n', "src/index.js": "export default {};\n" });
  const r = await cli(["deploy", bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrangler\.toml:4: error: "routes" must hold route patterns/);
  assert.match(r.stderr, /was not uploaded/);
  const syntax = workerProject("syntax");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(syntax, "src/index.js"), "export default {\n  fetch() { return new Response(1 +); }\n};\n");
  const s = await cli(["deploy", syntax]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /SyntaxError: .*\n    at src\/index\.js:2:/);
  const none = await cli(["deploy", path.join(syntax, "nowhere")]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no wrangler\.toml/);
});

test("deploy shows the API's validation errors", async () => {
  const dir = project({ "wrangler.toml": 'name = "throws"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n', "index.js": "throw new Error('boom at load');\n" });
  const r = await cli(["deploy", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^hearth: .*boom at load.*/m);
  assert.match(r.stderr, /\[code 10021\]/);
  assert.match(r.stderr, /HTTP 400 from PUT .*\/workers\/scripts\/throws\)/);
  const long = await cli(["versions", "upload", workerProject("long-message"), "-m", "x".repeat(1001)]);
  assert.equal(long.code, 1);
  assert.match(long.stderr, /workers\/message.*\[code 10021\]/);
  assert.match(long.stderr, /HTTP 400 from POST /);
});

test("versions upload stores a version without deploying it", async () => {
  const dir = workerProject("upload-only", "v1");
  const first = await deployJson(dir);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(dir, "src/index.js"), 'export default { fetch: () => new Response("v2") };\n');
  const r = await cli(["versions", "upload", dir, "-m", "second", "--tag", "t2"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Total Upload: .*\nUploaded upload-only \(\d+\.\d\d sec\)\nWorker Version ID: [0-9a-f-]{36}\n$/);
  const id = /Worker Version ID: (\S+)/.exec(r.stdout)[1];
  assert.equal((await dataPlane("upload-only")).body, "v1"); // still the deployed one
  const status = json(await cli(["deployments", "status", "--name", "upload-only", "--json"]));
  assert.deepEqual(status.versions, [{ version_id: first.version_id, percentage: 100 }]);
  const v = await uploadJson(dir, ["--tag", "t3"]);
  assert.equal(v.annotations["workers/triggered_by"], "upload");
  assert.equal(v.annotations["workers/tag"], "t3");
  assert.notEqual(v.id, id);
  assert.equal(v.number, 3);
});

// ---- versions list and view ----------------------------------------------------------------

test("versions list: a table newest first, from DIR or --name, and --json", async () => {
  const dir = workerProject("listing");
  const a = await deployJson(dir, ["-m", "first one", "--tag", "alpha"]);
  const b = await uploadJson(dir, ["-m", "second\tone"]);
  const r = await cli(["versions", "list"], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^VERSION ID +NUMBER +CREATED +TAG +MESSAGE +SOURCE$/);
  assert.equal(lines.length, 3);
  assert.ok(lines[1].startsWith(b.id) && lines[2].startsWith(a.version_id));
  assert.match(lines[1], /  2  +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  +-  +second one  +api \(upload\)$/);
  assert.match(lines[2], /  1  +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  +alpha  +first one  +api \(create\)$/);
  // Columns line up: every row's CREATED starts where the header's does.
  const col = lines[0].indexOf("CREATED");
  for (const l of lines.slice(1)) assert.match(l.slice(col), /^\d{4}-/);
  const byName = await cli(["versions", "list", "--name", "listing"]);
  assert.equal(byName.stdout, r.stdout);
  const byDir = await cli(["versions", "list", dir]);
  assert.equal(byDir.stdout, r.stdout);
  const j = json(await cli(["versions", "list", dir, "--json"]));
  assert.deepEqual(j.items.map((v) => v.id), [b.id, a.version_id]);
});

test("versions list of an unknown Worker shows the API's 404", async () => {
  const r = await cli(["versions", "list", "--name", "no-such-worker"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[code 10007\]/);
  assert.match(r.stderr, /HTTP 404/);
  const noName = await cli(["versions", "list"], { cwd: tmpdir() });
  assert.equal(noName.code, 1);
  assert.match(noName.stderr, /give --name NAME/);
});

test("versions view: by prefix, human and --json", async () => {
  const dir = workerProject("viewing", "x", { toml: '[vars]\nA = "b"\n[version_metadata]\nbinding = "META"\n' });
  const d = await deployJson(dir, ["-m", "hello there", "--tag", "tg"]);
  const r = await cli(["versions", "view", d.version_id.slice(0, 8)], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Version ID: +${d.version_id}\n`));
  assert.match(r.stdout, /\nNumber: +1\n/);
  assert.match(r.stdout, /\nSource: +api \(create\)\n/);
  assert.match(r.stdout, /\nTag: +tg\n/);
  assert.match(r.stdout, /\nMessage: +hello there\n/);
  assert.match(r.stdout, /\nMain module: +src\/index\.js\n/);
  assert.match(r.stdout, /\nCompatibility date: +2024-09-23\n/);
  assert.match(r.stdout, /\nBindings:\n  NAME +TYPE +VALUE\n  A +plain_text +b\n  META +version_metadata +-\n/);
  const j = json(await cli(["versions", "view", d.version_id, "--name", "viewing", "--json"]));
  assert.equal(j.id, d.version_id);
  const unknown = await cli(["versions", "view", "ffffffff", "--name", "viewing"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no version of viewing has an id starting with "ffffffff"; its most recent versions are:\n  [0-9a-f-]{36}  #1/);
  const unknownFull = await cli(["versions", "view", "00000000-0000-4000-8000-000000000000", "--name", "viewing"]);
  assert.equal(unknownFull.code, 1);
  assert.match(unknownFull.stderr, /\[code 10007\]/);
});

// ---- versions deploy -----------------------------------------------------------------------

test("versions deploy splits traffic between two versions given by prefix", async () => {
  const dir = workerProject("split", "old");
  const a = await deployJson(dir);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(dir, "src/index.js"), 'export default { fetch: () => new Response("new") };\n');
  const b = await uploadJson(dir, ["--tag", "canary"]);
  const r = await cli(["versions", "deploy", `${a.version_id.slice(0, 6)}@90`, `${b.id.slice(0, 6)}@10%`, "-m", "canary 10%", "-y"], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Deployed split\n  PERCENT +VERSION ID +NUMBER +CREATED +TAG +MESSAGE\n/);
  assert.match(r.stdout, new RegExp(`\\n  90% +${a.version_id}  +1  `));
  assert.match(r.stdout, new RegExp(`\\n  10% +${b.id}  +2  .*canary`));
  assert.match(r.stdout, /\nCurrent Deployment ID: [0-9a-f-]{36}\n$/);
  const status = json(await cli(["deployments", "status", "--name", "split", "--json"]));
  assert.equal(status.annotations["workers/message"], "canary 10%");
  assert.deepEqual(status.versions.map((v) => [v.version_id, v.percentage]), [[a.version_id, 90], [b.id, 10]]);
  // The override header reaches either version of the deployment.
  const viaOverride = await dataPlane("split", "/", { "cloudflare-workers-version-overrides": `split="${b.id}"` });
  assert.equal(viaOverride.body, "new");
  // A version without a percentage gets what is left; --json prints the deployment.
  const j = json(await cli(["versions", "deploy", `${a.version_id}@25`, b.id.slice(0, 8), "--name", "split", "-y", "--json"]));
  assert.deepEqual(j.versions.map((v) => v.percentage), [25, 75]);
  assert.match(j.id, UUID);
  const one = json(await cli(["versions", "deploy", b.id.slice(0, 8), "--name", "split", "-y", "--json"]));
  assert.deepEqual(one.versions, [{ version_id: b.id, percentage: 100 }]);
  assert.equal((await dataPlane("split")).body, "new");
});

test("versions deploy checks percentages before calling the API", async () => {
  const offline = envFor({ url: "http://127.0.0.1:1" });
  const cases = [
    [["a@90", "b@20"], /the percentages add up to 110%; they must add up to 100%/],
    [["a@50"], /the percentages add up to 50%/],
    [["a@33.3", "b@66.6"], /add up to 99\.9%/],
    [["a@abc"], /bad percentage in "a@abc"/],
    [["a@101"], /bad percentage in "a@101"/],
    [["a@-5"], /bad percentage in "a@-5"/],
    [["a@"], /bad percentage in "a@"/],
    [["a@nan"], /bad percentage/],
  ];
  for (const [specs, re] of cases) {
    const r = await cli(["versions", "deploy", ...specs, "--name", "x", "-y"], { env: offline });
    assert.equal(r.code, 2, `${specs}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /cannot reach/);
  }
  const none = await cli(["versions", "deploy", "--name", "x", "-y"], { env: offline });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give the versions to deploy as <version-id>@<percentage>/);
});

test("versions deploy: unknown and ambiguous prefixes list the candidates", async () => {
  // 17 versions: two of them must share their first hex digit.
  const ids = await apiUpload("prefixes", 17);
  const byFirst = {};
  for (const id of ids) (byFirst[id[0]] ??= []).push(id);
  const [shared, group] = Object.entries(byFirst).find(([, g]) => g.length > 1);
  const amb = await cli(["versions", "deploy", `${shared}@100`, "--name", "prefixes", "-y"]);
  assert.equal(amb.code, 1);
  assert.match(amb.stderr, new RegExp(`"${shared}" is ambiguous: ${group.length} versions of prefixes have ids starting with it:`));
  for (const id of group) assert.ok(amb.stderr.includes(id));
  assert.match(amb.stderr, /Give more characters of the id\./);
  const unknown = await cli(["versions", "deploy", "zzzz@100", "--name", "prefixes", "-y"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no version of prefixes has an id starting with "zzzz"; its most recent versions are:/);
  assert.equal(unknown.stderr.match(/^  [0-9a-f-]{36}  #\d+/gm).length, 10);
  assert.ok(unknown.stderr.includes(ids[16]));
  const twice = await cli(["versions", "deploy", `${ids[0]}@50`, `${ids[0].slice(0, 10)}@50`, "--name", "prefixes", "-y"]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /is given twice/);
  // The API's own rules: three versions are refused with its message naming the field.
  const three = await cli(["versions", "deploy", `${ids[0]}@40`, `${ids[1]}@30`, `${ids[2]}@30`, "--name", "prefixes", "-y"]);
  assert.equal(three.code, 1);
  assert.match(three.stderr, /versions.*\[code 10021\]/);
  assert.match(three.stderr, /HTTP 400 from POST .*\/deployments/);
});

test("versions deploy refuses without a terminal and without -y", async () => {
  const dir = workerProject("notty");
  const d = await deployJson(dir);
  const r = await cli(["versions", "deploy", `${d.version_id}@100`], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not deploying: stdin is not a terminal.*pass -y \(--yes\)/);
  const none = await cli(["versions", "deploy"], { cwd: dir });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give the versions to deploy/);
});

test("versions deploy on a terminal shows the deployment and asks first", async () => {
  const dir = workerProject("confirm", "a");
  const a = await deployJson(dir);
  const b = await uploadJson(dir, ["-m", "the canary"]);
  const no = await pty(["versions", "deploy", `${a.version_id.slice(0, 8)}@70`, `${b.id.slice(0, 8)}@30`, "-m", "go"], [[/Deploy\? \(y\/N\) /, "n\n"]], { cwd: dir });
  assert.equal(no.code, 1, no.output);
  assert.match(no.output, /New deployment of confirm:\n  PERCENT +VERSION ID +NUMBER +CREATED +TAG +MESSAGE\n  70% +[0-9a-f-]{36}  +1 .*\n  30% +[0-9a-f-]{36}  +2 .*the canary\n  Message: go\nDeploy\? \(y\/N\) /);
  assert.match(no.output, /Not deployed\./);
  const before = json(await cli(["deployments", "list", "--name", "confirm", "--json"]));
  assert.equal(before.deployments.length, 1);
  const yes = await pty(["versions", "deploy", `${a.version_id.slice(0, 8)}@70`, `${b.id.slice(0, 8)}@30`], [[/Deploy\? \(y\/N\) /, "y\n"]], { cwd: dir });
  assert.equal(yes.code, 0, yes.output);
  assert.match(yes.output, /Deployed confirm\n/);
  const after = json(await cli(["deployments", "status", "--name", "confirm", "--json"]));
  assert.deepEqual(after.versions.map((v) => v.percentage), [70, 30]);
  // -y on a terminal does not ask.
  const quiet = await pty(["versions", "deploy", `${a.version_id}@100`, "-y", "--name", "confirm"], []);
  assert.equal(quiet.code, 0, quiet.output);
  assert.doesNotMatch(quiet.output, /Deploy\?/);
});

test("versions deploy on a terminal without versions asks which ones and how to split", async () => {
  const dir = workerProject("chooser", "a");
  const a = await deployJson(dir, ["--tag", "first"]);
  const b = await uploadJson(dir, ["--tag", "second"]);
  const c = await uploadJson(dir, ["--tag", "third"]);
  const r = await pty(["versions", "deploy"], [
    [/Versions to deploy .*: /, "x9\n"], // not on the list, not an id
    [/Versions to deploy .*: /, "1 2 3\n"], // too many
    [/Versions to deploy .*: /, `1 ${a.version_id.slice(0, 8)}\n`],
    [/Percentage of traffic for .*: /, "150\n"],
    [/Percentage of traffic for .*: /, "20\n"],
    [/Deployment message .*: /, "picked by hand\n"],
    [/Deploy\? \(y\/N\) /, "yes\n"],
  ], { cwd: dir });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /Recent versions of chooser:\n  # +VERSION ID +NUMBER +CREATED +TAG +MESSAGE\n  1 +\S+ +3 .*third.*\n  2 +\S+ +2 .*second.*\n  3 +\S+ +1 .*first/);
  assert.match(r.output, /no version of chooser has an id starting with "x9"/);
  assert.match(r.output, /at most two versions/);
  assert.match(r.output, /Give a number from 0 to 100\./);
  assert.match(r.output, /Message: picked by hand/);
  const status = json(await cli(["deployments", "status", "--name", "chooser", "--json"]));
  assert.deepEqual(status.versions, [{ version_id: c.id, percentage: 20 }, { version_id: a.version_id, percentage: 80 }]);
  assert.equal(status.annotations["workers/message"], "picked by hand");
  assert.ok(b.id);
  // One version gets 100% and the message can be skipped; end of input cancels.
  const one = await pty(["versions", "deploy", "--json"], [[/Versions to deploy .*: /, "2\n"], [/Deployment message .*: /, "\n"], [/Deploy\? /, "y\n"]], { cwd: dir });
  assert.equal(one.code, 0, one.output);
  const dep = JSON.parse(one.output.slice(one.output.indexOf("{")));
  assert.deepEqual(dep.versions, [{ version_id: b.id, percentage: 100 }]);
  assert.equal(dep.annotations?.["workers/message"], undefined);
});

// ---- deployments ---------------------------------------------------------------------------

test("deployments list and status", async () => {
  const dir = workerProject("deps", "a");
  const a = await deployJson(dir, ["-m", "one"]);
  const b = await uploadJson(dir, ["--tag", "bee"]);
  json(await cli(["versions", "deploy", `${a.version_id}@60`, `${b.id}@40`, "-m", "split it", "-y", "--json"], { cwd: dir }));
  const list = await cli(["deployments", "list"], { cwd: dir });
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split("\n");
  assert.match(lines[0], /^DEPLOYMENT ID +CREATED +AUTHOR +SOURCE +VERSIONS +MESSAGE$/);
  assert.equal(lines.length, 3);
  assert.match(lines[1], new RegExp(`admin +api +60% ${a.version_id}, 40% ${b.id} +split it$`));
  assert.match(lines[2], new RegExp(`100% ${a.version_id} +one$`));
  const j = json(await cli(["deployments", "list", "--name", "deps", "--json"]));
  assert.equal(j.deployments.length, 2);
  const status = await cli(["deployments", "status", "--name", "deps"]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^Deployment ID: +${j.deployments[0].id}\n`));
  assert.match(status.stdout, /\nMessage: +split it\nVersions:\n  PERCENT +VERSION ID +NUMBER +CREATED +TAG +MESSAGE\n  60% .* 1  .*\n  40% .* 2  .*bee/);
  const sj = json(await cli(["deployments", "status", "--name", "deps", "--json"]));
  assert.deepEqual(sj, j.deployments[0]);
});

test("deployments of a Worker with versions but no deployment", async () => {
  await apiUpload("undeployed", 1);
  const list = await cli(["deployments", "list", "--name", "undeployed"]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout, "undeployed has no deployments.\n");
  const status = await cli(["deployments", "status", "--name", "undeployed"]);
  assert.equal(status.stdout, "undeployed has no deployments.\n");
  const sj = await cli(["deployments", "status", "--name", "undeployed", "--json"]);
  assert.equal(sj.stdout, "null\n");
});

// ---- rollback ------------------------------------------------------------------------------

test("rollback goes back to the version the previous deployment served most", async () => {
  const dir = workerProject("rb", "one");
  const a = await deployJson(dir);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(dir, "src/index.js"), 'export default { fetch: () => new Response("two") };\n');
  const b = await deployJson(dir);
  assert.equal((await dataPlane("rb")).body, "two");
  const r = await cli(["rollback", "-y"], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Deployed rb\n.*\n  100% +${a.version_id}  +1 `));
  assert.equal((await dataPlane("rb")).body, "one");
  const status = json(await cli(["deployments", "status", "--name", "rb", "--json"]));
  assert.equal(status.annotations["workers/message"], "Rollback to version 1");
  // A split: the previous deployment's larger share wins.
  json(await cli(["versions", "deploy", `${a.version_id}@30`, `${b.version_id}@70`, "-y", "--name", "rb", "--json"]));
  json(await cli(["versions", "deploy", `${a.version_id}@100`, "-y", "--name", "rb", "--json"]));
  const back = json(await cli(["rollback", "--name", "rb", "-y", "--json", "-m", "undo"]));
  assert.deepEqual(back.versions, [{ version_id: b.version_id, percentage: 100 }]);
  assert.equal(back.annotations["workers/message"], "undo");
  // An explicit version, by prefix.
  const to = json(await cli(["rollback", a.version_id.slice(0, 7), "--name", "rb", "-y", "--json"]));
  assert.deepEqual(to.versions, [{ version_id: a.version_id, percentage: 100 }]);
});

test("rollback errors: nothing to roll back to, unknown version, no terminal", async () => {
  const dir = workerProject("rb-errors");
  await deployJson(dir);
  const none = await cli(["rollback", "-y"], { cwd: dir });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /rb-errors has no earlier deployment to roll back to/);
  const unknown = await cli(["rollback", "abcdefab", "-y"], { cwd: dir });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no version of rb-errors has an id starting with "abcdefab"/);
  const notty = await cli(["rollback"], { cwd: dir });
  assert.equal(notty.code, 2);
  assert.match(notty.stderr, /not rolling back: stdin is not a terminal/);
});

test("rollback on a terminal asks first", async () => {
  const dir = workerProject("rb-tty", "one");
  const a = await deployJson(dir);
  await deployJson(dir);
  const no = await pty(["rollback"], [[/Deploy\? \(y\/N\) /, "\n"]], { cwd: dir });
  assert.equal(no.code, 1, no.output);
  assert.match(no.output, new RegExp(`New deployment of rb-tty:\n  PERCENT .*\n  100% +${a.version_id} .*\n  Message: Rollback to version 1\n`));
  assert.match(no.output, /Not deployed\./);
  const yes = await pty(["rollback"], [[/Deploy\? \(y\/N\) /, "y\n"]], { cwd: dir });
  assert.equal(yes.code, 0, yes.output);
  assert.equal((await dataPlane("rb-tty")).body, "one");
});

// ---- delete --------------------------------------------------------------------------------

test("delete: by argument, --name or wrangler.toml; confirmation and --json", async () => {
  const dir = workerProject("doomed", "here");
  await deployJson(dir);
  assert.equal((await dataPlane("doomed")).status, 200);
  const notty = await cli(["delete"], { cwd: dir });
  assert.equal(notty.code, 2);
  assert.match(notty.stderr, /not deleting: stdin is not a terminal/);
  const no = await pty(["delete"], [[/\(y\/N\) /, "n\n"]], { cwd: dir });
  assert.equal(no.code, 1, no.output);
  assert.match(no.output, /Delete doomed with all its versions and deployments\? It stops serving at once\. \(y\/N\) /);
  assert.match(no.output, /Not deleted\./);
  assert.equal((await dataPlane("doomed")).status, 200);
  const yes = await pty(["delete"], [[/\(y\/N\) /, "y\n"]], { cwd: dir });
  assert.equal(yes.code, 0, yes.output);
  assert.match(yes.output, /Deleted doomed\n/);
  assert.notEqual((await dataPlane("doomed")).body, "here");
  const gone = await cli(["versions", "list", "--name", "doomed"]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /\[code 10007\]/);

  await deployJson(workerProject("doomed2"));
  const byArg = await cli(["delete", "doomed2", "-y", "--json"]);
  assert.equal(byArg.code, 0, byArg.stderr);
  assert.equal(byArg.stdout, "null\n");
  await deployJson(workerProject("doomed3"));
  const byName = await cli(["delete", "--name", "doomed3", "--yes"]);
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(byName.stdout, "Deleted doomed3\n");
  const again = await cli(["delete", "doomed3", "-y"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /\[code 10007\]/);
});

// ---- a server that answers nonsense --------------------------------------------------------

// A fake control API: `routes` maps "METHOD /path-suffix" (matched against the end of the
// path) to [status, body]; /accounts answers properly unless overridden.
async function fakeApi(routes) {
  const srv = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const url = req.url.replace(/^\/client\/v4/, "");
      let answer = routes[`${req.method} ${url}`];
      if (!answer) {
        for (const [key, value] of Object.entries(routes)) {
          const [m, suffix] = key.split(" ");
          if (m === req.method && url.endsWith(suffix)) answer = value;
        }
      }
      if (!answer && url === "/accounts") answer = [200, { success: true, errors: [], result: [{ id: "a".repeat(32), name: "x" }] }];
      const [status, out] = answer ?? [404, "not here"];
      res.writeHead(status, { "content-type": "application/json" });
      res.end(typeof out === "string" ? out : JSON.stringify(out));
    });
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

test("the client survives any answer: non-JSON, missing fields, wrong types", async () => {
  const ok = (result) => [200, { success: true, errors: [], messages: [], result }];
  const weirdVersion = { id: 5, number: "x", metadata: [], annotations: { "workers/message": "\u001b[31mred\u001b[0m\u0007", "workers/tag": 7 }, resources: { bindings: [1, { name: 2 }, { type: "json", name: "J" }], script: { modules: [1, "m.js"] }, script_runtime: { compatibility_flags: "no", limits: { cpu_ms: "fast" } } } };
  const cases = [
    // [routes, args, expected exit, stderr pattern, stdout pattern]
    [{ "GET /accounts": [502, "<html>Bad Gateway</html>"] }, ["versions", "list", "--name", "w"], 1, /answered HTTP 502 to GET .* with something that is not a JSON envelope: <html>Bad Gateway<\/html>/],
    [{ "GET /accounts": [200, ""] }, ["versions", "list", "--name", "w"], 1, /not a JSON envelope \(an empty body\)/],
    [{ "GET /accounts": ok([]) }, ["versions", "list", "--name", "w"], 1, /lists no account/],
    [{ "GET /accounts": ok([{ id: 5 }]) }, ["versions", "list", "--name", "w"], 1, /lists no account/],
    [{ "GET /accounts": [200, "[1,2]"] }, ["versions", "list", "--name", "w"], 1, /not a JSON envelope/],
    [{ "GET /versions": [200, { success: true }] }, ["versions", "list", "--name", "w"], 1, /has no "items" array/],
    [{ "GET /versions": ok({ items: [weirdVersion, 7, null, {}] }) }, ["versions", "list", "--name", "w"], 0, /^$/, /VERSION ID/],
    [{ "GET /versions": ok({ items: "no" }) }, ["versions", "view", "abc", "--name", "w"], 1, /has no "items" array/],
    [{ "GET /versions": ok({ items: [{ id: "abc" }] }), "GET /versions/abc": ok(weirdVersion) }, ["versions", "view", "ab", "--name", "w"], 0, /^$/, /Version ID: +-\n[^]*Bindings:\n/],
    [{ "GET /versions/00000000-0000-4000-8000-000000000000": ok(null) }, ["versions", "view", "00000000-0000-4000-8000-000000000000", "--name", "w"], 0, /^$/, /Version ID: +-/],
    [{ "GET /versions": [400, { success: false, errors: [1, { message: 5 }, { message: "x.y: bad\u001b[2J", code: "abc" }, { code: 3 }] }] }, ["versions", "list", "--name", "w"], 1, /hearth: x\.y: bad \[2J\n/],
    [{ "GET /versions": [500, { success: false }] }, ["versions", "list", "--name", "w"], 1, /refused the request without saying why\n  \(HTTP 500/],
    [{ "GET /versions": [200, { success: false, errors: [{ code: 1, message: "nope" }] }] }, ["versions", "list", "--name", "w"], 1, /hearth: nope \[code 1\]/],
    [{ "GET /versions": [404, { success: true, result: { items: [] } }] }, ["versions", "list", "--name", "w"], 1, /HTTP 404/],
    [{ "GET /deployments": ok({ deployments: [{ versions: "nope" }, 3, { id: [], versions: [{ percentage: "x" }, 4] }] }) }, ["deployments", "list", "--name", "w"], 0, /^$/, /DEPLOYMENT ID/],
    [{ "GET /deployments": ok({ deployments: [{ versions: "nope" }, 3] }), "GET /versions": ok({ items: [] }) }, ["rollback", "--name", "w", "-y"], 1, /the previous deployment of w lists no versions/],
    [{ "GET /deployments": ok({ deployments: [5] }), "GET /versions": ok({ items: [5] }) }, ["deployments", "status", "--name", "w"], 0, /^$/, /Deployment ID: +-\n/],
    [{ "GET /deployments": ok({}) }, ["deployments", "status", "--name", "w"], 1, /has no "deployments" array/],
    [{ "GET /versions": ok({ items: [{ id: "abcd" }] }), "POST /deployments": ok("weird") }, ["versions", "deploy", "abcd@100", "--name", "w", "-y"], 0, /^$/, /Deployed w\n[^]*Current Deployment ID: -\n/],
    [{ "PUT /scripts/hello": ok(42) }, ["deploy", null], 0, /^$/, /Current Version ID: -\n/],
    [{ "POST /versions": ok([]) }, ["versions", "upload", null], 0, /^$/, /Worker Version ID: -\n/],
    [{ "DELETE /scripts/w": ok({ any: "thing" }) }, ["delete", "w", "-y", "--json"], 0, /^$/, /"any": "thing"/],
    [{ "GET /user/tokens/verify": ok({ status: "disabled" }) }, ["login", "--token", "t"], 1, /the API token is not active \(its status is "disabled"\)/],
    [{ "GET /user/tokens/verify": ok("yes") }, ["login", "--token", "t"], 0, /^$/, /Logged in/],
  ];
  const dir = workerProject("hello");
  for (const [routes, args, code, errRe, outRe] of cases) {
    const fake = await fakeApi(routes);
    const argv = args.map((a) => (a === null ? dir : a));
    const login = argv[0] === "login";
    const env = login ? { ...envFor({ url: null, token: null }) } : envFor({ url: fake.url, token: "t" });
    if (login) argv.push("--api-url", fake.url);
    const r = await cli(argv, { env });
    await fake.close();
    const what = `${JSON.stringify(routes).slice(0, 120)} ${argv.join(" ")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    assert.equal(r.signal, null, what);
    assert.equal(r.code, code, what);
    assert.match(r.stderr, errRe, what);
    if (outRe) assert.match(r.stdout, outRe, what);
    assert.doesNotMatch(r.stdout + r.stderr, /[\u0000-\u0008\u000b-\u001f\u007f]/, `control characters reach the terminal: ${what}`);
  }
});
