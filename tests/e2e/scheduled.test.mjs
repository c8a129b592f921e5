// scheduled() and cron triggers: dev's /__scheduled endpoint (as wrangler dev has), the real
// minute timer on `hearth serve` (a version deployed with [triggers] crons runs on schedule),
// and bad cron expressions in configs and uploads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, startServe, project, worker, run as runHearth, sleep, SLOW } from "./lib/harness.mjs";

const run = async (args, opts) => {
  const r = await runHearth(args, opts);
  return { ...r, output: r.stdout + r.stderr };
};

const SCHEDULED = `
let runs = [];
export default {
  async scheduled(controller, env, ctx) {
    if (controller.cron === "boom") throw new Error("cron failed");
    runs.push({ cron: controller.cron, scheduledTime: controller.scheduledTime, noRetry: typeof controller.noRetry });
    ctx.waitUntil(Promise.resolve());
    console.log("scheduled ran: " + controller.cron);
  },
  fetch() { return Response.json(runs); },
};`;

test("hearth dev: /__scheduled runs scheduled() with the cron and time given", async () => {
  const s = await startDev(worker(SCHEDULED), ["--threads", "1"]);
  try {
    const r = await s.fetch("/__scheduled?cron=*/5+*+*+*+*&time=1700000000000");
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "Ran scheduled event");
    const before = Date.now();
    assert.equal((await s.fetch("/__scheduled?cron=0%2010%20*%20*%20MON")).status, 200);
    const runs = await (await s.fetch("/")).json();
    assert.deepEqual(runs[0], { cron: "*/5 * * * *", scheduledTime: 1700000000000, noRetry: "function" });
    assert.equal(runs[1].cron, "0 10 * * MON");
    assert.ok(Math.abs(runs[1].scheduledTime - before) < 5000, "without time=, now");
    await s.waitFor(/scheduled ran: \*\/5 \* \* \* \*/);
    // A throwing handler: 500 and the stack, as for fetch.
    const bad = await s.fetch("/__scheduled?cron=boom");
    assert.equal(bad.status, 500);
    await s.waitFor(/Error: cron failed\n\s+at scheduled/);
  } finally {
    await s.stop();
  }
});

test("hearth dev: /__scheduled on a Worker without scheduled() fails clearly", async () => {
  const s = await startDev(worker(`export default { fetch() { return new Response("x"); } }`));
  try {
    const r = await s.fetch("/__scheduled?cron=*+*+*+*+*");
    assert.equal(r.status, 500);
    await s.waitFor(/does not export a scheduled\(\) function/);
  } finally {
    await s.stop();
  }
});

test("bad cron expressions are refused naming the file, line and field", async () => {
  const dir = worker(`export default { scheduled() {} }`, { toml: `[triggers]\ncrons = ["* * * *", "61 * * * *", "0 0 * * 0"]\n` });
  const r = await run(["dev", dir, "--port", "0"], { timeout: 15000 * SLOW });
  assert.notEqual(r.code, 0);
  assert.match(r.output, /wrangler\.toml:5: error: "triggers\.crons\[0\]" \("\* \* \* \*"\): expected 5 fields/);
  assert.match(r.output, /"triggers\.crons\[1\]" \("61 \* \* \* \*"\): minute field: a value is outside 0-59/);
  assert.match(r.output, /"triggers\.crons\[2\]" \("0 0 \* \* 0"\): weekday field: weekdays are 1-7 with 1 = Sunday/);
});

test("hearth serve: a deployed version's crons run at the start of each minute", { timeout: 150000 * SLOW }, async () => {
  const s = await startServe(["--threads", "1", "--default-worker", "ticker"]);
  try {
    const env = { HEARTH_API_URL: `http://127.0.0.1:${s.adminPort}`, HEARTH_API_TOKEN: s.token };
    const dir = project({
      "wrangler.toml": `name = "ticker"\nmain = "index.js"\ncompatibility_date = "2024-09-23"\n[triggers]\ncrons = ["* * * * *", "0 0 1 1 *"]\n`,
      "index.js": SCHEDULED,
    });
    const d = await run(["deploy", dir], { env });
    assert.equal(d.code, 0, d.output);
    // The version records its triggers.
    const versions = await s.call("GET", `${s.scriptPath("ticker")}/versions`);
    const v = await s.call("GET", `${s.scriptPath("ticker")}/versions/${versions.result.items[0].id}`);
    assert.deepEqual(v.result.resources.script_runtime.triggers, { crons: ["* * * * *", "0 0 1 1 *"] });
    // Within a minute (and a little), the every-minute cron has run, at a whole minute.
    let runs = [];
    for (let i = 0; i < 140 && runs.length === 0; i++) {
      await sleep(500);
      runs = await (await s.fetch("/")).json();
    }
    assert.ok(runs.length >= 1, "scheduled() ran within a minute");
    assert.equal(runs[0].cron, "* * * * *");
    assert.equal(runs[0].scheduledTime % 60000, 0, "scheduledTime is the start of the minute");
    assert.ok(runs.every((r) => r.cron === "* * * * *"), "the yearly cron did not run");
    // A bad cron in an upload is refused, naming it.
    const fd = new FormData();
    fd.append("metadata", new Blob([JSON.stringify({ main_module: "index.js", triggers: { crons: ["* * * * MON#9"] } })], { type: "application/json" }));
    fd.append("index.js", new Blob(["export default { scheduled() {} }"], { type: "application/javascript+module" }), "index.js");
    const bad = await s.call("PUT", s.scriptPath("ticker2"), fd);
    assert.equal(bad.status, 400);
    assert.match(bad.errors[0].message, /^metadata\.triggers\.crons\[0\] \("\* \* \* \* MON#9"\): weekday field: "#" is followed by 1 to 5/);
  } finally {
    await s.stop();
  }
});
