// The WPT URL parser tests (urltestdata.json, urlencoded-parser-data.json) run THROUGH THE
// ENGINE: the cases are POSTed to a Worker that runs `new URL(input, base)` / `new
// URLSearchParams(input)` inside hearth and returns what the getters say; the comparison
// happens here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, startDev, worker } from "./lib/harness.mjs";

const candidates = [
  process.env.HEARTH_CONFORMANCE_DIR && path.join(process.env.HEARTH_CONFORMANCE_DIR, "wpt-url"),
  path.join(ROOT, "..", "shared", "conformance", "wpt-url"),
].filter(Boolean);
const DATA_DIR = candidates.find((d) => existsSync(path.join(d, "urltestdata.json")));

const FIELDS = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];

// Worker code: its source text is what hearth runs.
function workerFetch() {
  return async function fetch(request) {
    const { pathname } = new URL(request.url);
    const cases = await request.json();
    if (pathname === "/url") {
      const fields = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];
      return Response.json(
        cases.map(({ input, base }) => {
          const canParse = base === null || base === undefined ? URL.canParse(input) : URL.canParse(input, base);
          let u;
          try {
            u = base === null || base === undefined ? new URL(input) : new URL(input, base);
          } catch (e) {
            return { threw: true, errorName: e.name, errorType: e.constructor.name, canParse };
          }
          const out = { threw: false, canParse, searchParams: u.searchParams.toString() };
          for (const f of fields) out[f] = u[f];
          // Reparsing the serialization gives the same URL (the URL Standard's idempotence).
          try {
            out.reparsed = new URL(u.href).href;
          } catch (e) {
            out.reparsed = "threw " + e.name;
          }
          return out;
        }),
      );
    }
    if (pathname === "/urlencoded") {
      return Response.json(cases.map(({ input }) => {
        const params = new URLSearchParams(input);
        return { pairs: [...params], size: params.size };
      }));
    }
    return new Response("no route", { status: 404 });
  };
}

const SOURCE = `export default { fetch: (${workerFetch.toString()})() };\n`;

let server;
before(async () => {
  if (!DATA_DIR) return;
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});
after(async () => {
  if (server) await server.stop();
});

function skipped(t) {
  const msg = `SKIPPED — conformance data not found (looked in: ${candidates.join(", ")})`;
  console.log(`\n!!!!!!!! wpt-url: ${msg} !!!!!!!!\n`);
  t.skip(msg);
}

const show = (s) => JSON.stringify(s);

test("WPT urltestdata.json through new URL() in hearth", async (t) => {
  if (!DATA_DIR) return skipped(t);
  const cases = JSON.parse(readFileSync(path.join(DATA_DIR, "urltestdata.json"), "utf8")).filter((c) => typeof c === "object");
  assert.equal(cases.length, 601, "the data set holds 601 cases");
  const res = await server.fetch("/url", { method: "POST", body: JSON.stringify(cases.map(({ input, base }) => ({ input, base }))) });
  assert.equal(res.status, 200);
  const results = await res.json();
  assert.equal(results.length, cases.length);

  const failures = [];
  cases.forEach((c, i) => {
    const r = results[i];
    const name = `new URL(${show(c.input)}${c.base === null || c.base === undefined ? "" : `, ${show(c.base)}`})`;
    const problems = [];
    if (c.failure) {
      if (!r.threw) problems.push(`should throw, gave ${show(r.href)}`);
      else if (r.errorName !== "TypeError" || r.errorType !== "TypeError") problems.push(`threw ${r.errorType}/${r.errorName}, not TypeError`);
      if (r.canParse !== false) problems.push("URL.canParse said true");
    } else if (r.threw) {
      problems.push(`threw ${r.errorName}; expected ${show(c.href)}`);
    } else {
      for (const f of FIELDS) if (r[f] !== c[f]) problems.push(`${f}: ${show(r[f])} ≠ ${show(c[f])}`);
      if (c.origin !== undefined && r.origin !== c.origin) problems.push(`origin: ${show(r.origin)} ≠ ${show(c.origin)}`);
      if (c.searchParams !== undefined && r.searchParams !== c.searchParams) {
        problems.push(`searchParams: ${show(r.searchParams)} ≠ ${show(c.searchParams)}`);
      }
      if (r.canParse !== true) problems.push("URL.canParse said false");
      if (r.reparsed !== r.href) problems.push(`reparsing the href gave ${show(r.reparsed)}`);
    }
    if (problems.length) failures.push(`${name}\n      ${problems.join("\n      ")}`);
  });
  const passed = cases.length - failures.length;
  console.log(`wpt-url (in hearth): ${passed}/${cases.length} passed`);
  for (const f of failures) console.log(`  FAIL ${f}`);
  assert.equal(failures.length, 0, `${failures.length} WPT URL cases failed:\n${failures.join("\n")}`);
});

test("WPT urlencoded-parser-data.json through new URLSearchParams() in hearth", async (t) => {
  if (!DATA_DIR) return skipped(t);
  const cases = JSON.parse(readFileSync(path.join(DATA_DIR, "urlencoded-parser-data.json"), "utf8")).filter((c) => typeof c === "object");
  assert.ok(cases.length > 0);
  const res = await server.fetch("/urlencoded", { method: "POST", body: JSON.stringify(cases) });
  assert.equal(res.status, 200);
  const results = await res.json();
  const failures = [];
  cases.forEach((c, i) => {
    const r = results[i];
    try {
      assert.deepEqual(r.pairs, c.output);
      assert.equal(r.size, c.output.length);
    } catch {
      failures.push(`new URLSearchParams(${show(c.input)}): ${show(r.pairs)} ≠ ${show(c.output)}`);
    }
  });
  console.log(`wpt-urlencoded (in hearth): ${cases.length - failures.length}/${cases.length} passed`);
  for (const f of failures) console.log(`  FAIL ${f}`);
  assert.equal(failures.length, 0, failures.join("\n"));
});
