// Hot reload in `hearth dev`: edits are picked up without a restart; requests in flight finish
// on the code they started with; a broken edit keeps the previous version serving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, worker, writeFiles, sleep, SLOW } from "./lib/harness.mjs";

const version = (v, extra = "") => `
import { label } from "./label.js";
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/slow") await new Promise((r) => setTimeout(r, 800));
    return new Response("${v} " + label + " " + (env.MODE ?? "-"));
  },
};
${extra}`;

async function reloaded(s, count) {
  await s.waitFor(new RegExp(`(Reloaded test[^\\n]*\\n[^]*){${count}}`), 10000 * SLOW);
}

test("edits are served without a restart; in-flight requests finish on the old code", async () => {
  const dir = worker(version("v1"), { files: { "src/label.js": 'export const label = "a";\n' } });
  const s = await startDev(dir, ["--threads", "2"]);
  try {
    assert.equal(await (await s.fetch("/")).text(), "v1 a -");
    const inflight = s.fetch("/slow").then((r) => r.text());
    await sleep(200 * SLOW);
    writeFiles(dir, { "src/index.js": version("v2") });
    await reloaded(s, 1);
    assert.equal(await (await s.fetch("/")).text(), "v2 a -");
    assert.equal(await inflight, "v1 a -", "the request that started on v1 finishes on v1");

    // An imported module is watched too.
    writeFiles(dir, { "src/label.js": 'export const label = "b";\n' });
    await reloaded(s, 2);
    assert.equal(await (await s.fetch("/")).text(), "v2 b -");

    // The configuration is watched: a var changes env.
    writeFiles(dir, {
      "wrangler.toml": 'name = "test"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n[vars]\nMODE = "fast"\n',
    });
    await reloaded(s, 3);
    assert.equal(await (await s.fetch("/")).text(), "v2 b fast");

    // So are secrets in .dev.vars.
    writeFiles(dir, { ".dev.vars": "MODE=secret\n" });
    await reloaded(s, 4);
    assert.equal(await (await s.fetch("/")).text(), "v2 b secret");
  } finally {
    await s.stop();
  }
});

test("a broken edit is reported and the previous version keeps serving until it is fixed", async () => {
  const dir = worker(version("v1"), { files: { "src/label.js": 'export const label = "a";\n' } });
  const s = await startDev(dir, ["--threads", "1"]);
  try {
    const mark = s.output.length;
    writeFiles(dir, { "src/index.js": "export default { fetch() { return new Response(; } };\n" });
    await s.waitFor(/Reload of .* failed; still serving the previous version/, 10000 * SLOW, mark);
    assert.match(s.output.slice(mark), /SyntaxError: [^\n]*\n    at src\/index\.js:1:/);
    assert.equal(await (await s.fetch("/")).text(), "v1 a -");

    // An import of a file that does not exist yet: creating the file fixes it.
    const mark2 = s.output.length;
    writeFiles(dir, { "src/index.js": version("v3", 'import "./later.js";') });
    await s.waitFor(/Could not resolve "\.\/later\.js"/, 10000 * SLOW, mark2);
    assert.equal(await (await s.fetch("/")).text(), "v1 a -");
    writeFiles(dir, { "src/later.js": "export {};\n" });
    await reloaded(s, 1);
    assert.equal(await (await s.fetch("/")).text(), "v3 a -");

    // Top-level code that throws is a failed load, too.
    const mark3 = s.output.length;
    writeFiles(dir, { "src/later.js": 'throw new Error("exploded at load");\n' });
    await s.waitFor(/exploded at load/, 10000 * SLOW, mark3);
    assert.equal(await (await s.fetch("/")).text(), "v3 a -");
  } finally {
    await s.stop();
  }
});
