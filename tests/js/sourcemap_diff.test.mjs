// Differential tests for hearth's source map decoder (src/observe/sourcemap.c, driven through
// build/tests/sourcemap_query) against Mozilla's source-map (SourceMapConsumer
// .originalPositionFor with GREATEST_LOWER_BOUND): on maps esbuild writes for a multi-file
// TypeScript program and for a real npm package, minified and not, on an index map made of
// two of them, and on every valid map of the ECMA-426 conformance suite. For thousands of
// generated positions per map — every segment's column, the columns around it, lines without
// segments, random ones — both must give the same source, line, column and name.
//
// The last test runs the bundled program in hearth and rewrites the stacks of its errors
// through the map: the original files, lines and function names must come back.
//
// Needs `make tests` (the query tool and hearth) and the packages in tests/js/package.json
// (scripts/run-tests.sh installs them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const QUERY = process.env.HEARTH_SOURCEMAP_QUERY ?? path.join(ROOT, "build/tests/sourcemap_query");
const CONFORMANCE = path.join(process.env.HEARTH_CONFORMANCE_DIR ?? path.join(ROOT, "../shared/conformance"), "source-map-tests");
const require = createRequire(import.meta.url);

let esbuild, SourceMapConsumer;
try {
  esbuild = require("esbuild");
  ({ SourceMapConsumer } = require("source-map"));
} catch {
  // reported by the tests below
}
const missing = !esbuild
  ? "esbuild and source-map are not installed (npm ci in tests/js)"
  : !existsSync(QUERY)
    ? `${QUERY} is missing (make tests)`
    : false;

const work = mkdtempSync(path.join(tmpdir(), "hearth-sourcemap-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------------
// The program: a small Worker in TypeScript, in several files.

const PROGRAM = {
  "src/index.ts": `import { parseBytes } from "./down";
import { Router } from "./router";
import { formatTable, Table } from "./table";
import { retry } from "./util/retry";

const router = new Router();
router.add("/down", (req: Request) => parseBytes(req.headers.get("x-bytes")));
router.add("/async", async (req: Request) => {
  await Promise.resolve();
  return parseBytes(null);
});
router.add("/table", async () => {
  const table = new Table(["name", "size"]);
  for (const [name, size] of [["a", 1], ["b", 22], ["c", 333]] as const) table.push([name, String(size)]);
  return new Response(formatTable(table));
});
router.add("/retry", () => retry(() => parseBytes(null), 2));

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      return await router.handle(request);
    } catch (e) {
      return new Response((e as Error).stack);
    }
  },
};
`,
  "src/down.ts": `export function parseBytes(value: string | null): Response {
  const n = checkedNumber(value);
  return new Response(String(n));
}

function checkedNumber(value: string | null): number {
  if (value === null) {
    throw new Error("Unexpected input value: " + value);
  }
  return Number(value);
}
`,
  "src/router.ts": `type Handler = (req: Request) => Response | Promise<Response>;

export class Router {
  private routes = new Map<string, Handler>();

  add(path: string, handler: Handler): void {
    this.routes.set(path, handler);
  }

  async handle(request: Request): Promise<Response> {
    const handler = this.lookupRoute(new URL(request.url).pathname);
    return handler(request);
  }

  lookupRoute(path: string): Handler {
    const h = this.routes.get(path);
    if (!h) throw new Error("no route " + path);
    return h;
  }
}
`,
  "src/table.ts": `export type Row = readonly string[];

export class Table {
  readonly rows: Row[] = [];
  constructor(readonly header: Row) {}
  push(row: Row): this {
    if (row.length !== this.header.length) throw new RangeError(\`expected \${this.header.length} cells\`);
    this.rows.push(row);
    return this;
  }
  widths(): number[] {
    return this.header.map((h, i) => Math.max(h.length, ...this.rows.map((r) => r[i].length)));
  }
}

export function formatTable(table: Table, separator = "  "): string {
  const widths = table.widths();
  const line = (row: Row) => row.map((cell, i) => cell.padEnd(widths[i])).join(separator).trimEnd();
  return [line(table.header), widths.map((w) => "-".repeat(w)).join(separator), ...table.rows.map(line)].join("\\n");
}
`,
  "src/util/retry.ts": `export function retry<T>(attempt: () => T, times: number): T {
  let lastError: unknown;
  for (let i = 0; i <= times; i++) {
    try {
      return attempt();
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
`,
};

function writeProgram(dir) {
  for (const [name, text] of Object.entries(PROGRAM)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

function bundle(entry, outfile, options) {
  esbuild.buildSync({ entryPoints: [entry], outfile, bundle: true, sourcemap: true, logLevel: "silent", ...options });
  return outfile + ".map";
}

// ------------------------------------------------------------------------------------------
// Comparing answers.

// A small deterministic generator, so that failures reproduce.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Positions (0-based line and column) around every segment of the map, plus random ones.
function positionsFor(consumer, seed, extra = 2000) {
  const seen = new Set();
  const out = [];
  const add = (line, column) => {
    if (line < 0 || column < 0) return;
    const key = `${line}:${column}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push([line, column]);
    }
  };
  let maxLine = 0;
  let maxColumn = 0;
  consumer.eachMapping((m) => {
    const line = m.generatedLine - 1;
    add(line, m.generatedColumn);
    add(line, m.generatedColumn - 1);
    add(line, m.generatedColumn + 1);
    add(line + 1, m.generatedColumn);
    maxLine = Math.max(maxLine, line);
    maxColumn = Math.max(maxColumn, m.generatedColumn);
  });
  const rnd = random(seed);
  for (let i = 0; i < extra; i++) add(Math.floor(rnd() * (maxLine + 3)), Math.floor(rnd() * (maxColumn + 20)));
  add(0, 0);
  add(maxLine + 5, 0);
  return out;
}

function hearthInfo(mapFile) {
  const r = spawnSync(QUERY, ["info", mapFile], { encoding: "utf8" });
  return JSON.parse(r.stdout);
}

function hearthLookups(mapFile, positions) {
  const input = positions.map(([l, c]) => `${l} ${c}`).join("\n") + "\n";
  const r = spawnSync(QUERY, ["lookup", mapFile], { input, encoding: "utf8", maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  const info = hearthInfo(mapFile);
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      if (line === "-") return { source: null, line: null, column: null, name: null };
      const [s, l, c, n] = line.split(" ").map(Number);
      return { source: info.sources[s], line: l + 1, column: c, name: n >= 0 ? info.names[n] : null };
    });
}

// Runs the comparison on one map; returns the number of positions compared.
async function compare(mapFile, seed) {
  const raw = JSON.parse(readFileSync(mapFile, "utf8"));
  const consumer = await new SourceMapConsumer(raw);
  try {
    const positions = positionsFor(consumer, seed);
    const ours = hearthLookups(mapFile, positions);
    assert.equal(ours.length, positions.length);
    const mismatches = [];
    positions.forEach(([line, column], i) => {
      const m = consumer.originalPositionFor({ line: line + 1, column, bias: SourceMapConsumer.GREATEST_LOWER_BOUND });
      const theirs = { source: m.source, line: m.line, column: m.column, name: m.name };
      if (JSON.stringify(theirs) !== JSON.stringify(ours[i])) mismatches.push({ line, column, theirs, ours: ours[i] });
    });
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} of ${positions.length} positions differ in ${mapFile}`);
    return positions.length;
  } finally {
    consumer.destroy();
  }
}

// ------------------------------------------------------------------------------------------

test("lookups agree with Mozilla's source-map on esbuild's maps", { skip: missing }, async () => {
  const dir = path.join(work, "program");
  writeProgram(dir);
  const entry = path.join(dir, "src/index.ts");
  const maps = [
    bundle(entry, path.join(dir, "dist/min/index.js"), { minify: true, format: "esm" }),
    bundle(entry, path.join(dir, "dist/plain/index.js"), { format: "esm" }),
    bundle(entry, path.join(dir, "dist/names/index.js"), { minifyIdentifiers: true, format: "esm", sourcesContent: false }),
    // A real package: Mozilla's source-map itself, bundled for node.
    bundle(require.resolve("source-map"), path.join(dir, "dist/pkg/sm.js"), { minify: true, platform: "node", format: "cjs" }),
    bundle(require.resolve("source-map"), path.join(dir, "dist/pkg-plain/sm.js"), { platform: "node", format: "cjs" }),
  ];
  let total = 0;
  for (const [i, map] of maps.entries()) total += await compare(map, 1000 + i);
  console.log(`# ${total} positions on ${maps.length} esbuild maps: identical`);
  assert.ok(total > 5000);
});

test("lookups agree on an index map whose second section starts mid-line", { skip: missing }, async () => {
  const dir = path.join(work, "index");
  writeProgram(dir);
  const a = JSON.parse(readFileSync(bundle(path.join(dir, "src/down.ts"), path.join(dir, "a.js"), { minify: true }), "utf8"));
  const b = JSON.parse(readFileSync(bundle(path.join(dir, "src/table.ts"), path.join(dir, "b.js"), { minify: true }), "utf8"));
  // The generated code of a ends on line 0 (minified); b starts 10 columns after its end.
  const aCode = readFileSync(path.join(dir, "a.js"), "utf8").split("\n")[0];
  const index = {
    version: 3,
    file: "ab.js",
    sections: [
      { offset: { line: 0, column: 0 }, map: a },
      { offset: { line: 0, column: aCode.length + 10 }, map: b },
      { offset: { line: 3, column: 0 }, map: a },
    ],
  };
  const file = path.join(dir, "ab.js.map");
  writeFileSync(file, JSON.stringify(index));
  const n = await compare(file, 7);
  console.log(`# ${n} positions on an index map: identical`);
});

test("lookups agree on the conformance suite's valid maps", { skip: missing || (!existsSync(CONFORMANCE) && "conformance suite not found") }, async () => {
  const tests = JSON.parse(readFileSync(path.join(CONFORMANCE, "source-map-spec-tests.json"), "utf8")).tests;
  let maps = 0;
  let total = 0;
  const skipped = [];
  for (const t of tests.filter((t) => t.sourceMapIsValid)) {
    const file = path.join(CONFORMANCE, "resources", t.sourceMapFile);
    const raw = JSON.parse(readFileSync(file, "utf8"));
    // Mozilla's consumer cannot take null sources; hearth's runner checks those maps.
    if ((raw.sources ?? []).includes(null)) {
      skipped.push(`${t.name} (null sources)`);
      continue;
    }
    let n;
    try {
      n = await compare(file, maps);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      // Mozilla's decoder rejects some maps the specification calls valid (VLQs of 2^31 - 1,
      // long runs of continuation digits): there is nothing to compare with.
      skipped.push(`${t.name} (source-map: ${e.message})`);
      continue;
    }
    total += n;
    maps++;
  }
  console.log(`# ${total} positions on ${maps} conformance maps: identical; not compared: ${skipped.join("; ")}`);
  assert.ok(maps > 15);
});

test("stacks of a bundled Worker come back to the TypeScript it was written in", { skip: missing }, async () => {
  const { startDev } = await import("../e2e/lib/harness.mjs");
  const dir = path.join(work, "worker");
  writeProgram(dir);
  writeFileSync(path.join(dir, "wrangler.toml"), 'name = "maps"\nmain = "dist/index.js"\ncompatibility_date = "2024-09-23"\n');
  bundle(path.join(dir, "src/index.ts"), path.join(dir, "dist/index.js"), { minify: true, format: "esm" });
  const server = await startDev(dir);
  const stacks = {};
  try {
    for (const route of ["/down", "/async", "/nope", "/retry"]) stacks[route] = await (await server.fetch(route)).text();
  } finally {
    await server.stop();
  }
  const rewrite = (stack) => {
    const r = spawnSync(QUERY, ["stack", `dist/index.js=${path.join(dir, "dist/index.js.map")}`], { input: stack, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  if (process.env.SHOW_STACKS) for (const s of Object.values(stacks)) console.log(s + "\n---\n" + rewrite(s));
  const frames = (stack) => rewrite(stack).split("\n").filter((l) => !l.includes("hearth:")).slice(1).map((l) => l.trim());
  assert.match(stacks["/down"], /at \w+ \(dist\/index\.js:1:\d+\)/, "the engine's stack is of the minified bundle");
  assert.deepEqual(frames(stacks["/down"]), [
    "at checkedNumber (src/down.ts:8:11)",
    "at parseBytes (src/down.ts:2:13)",
    "at src/index.ts:7:39",
    "at handle (src/router.ts:11:67)",
    "at fetch (src/index.ts:22:27)",
  ]);
  assert.deepEqual(frames(stacks["/async"]), [
    "at checkedNumber (src/down.ts:8:11)",
    "at parseBytes (src/down.ts:2:13)",
    "at src/index.ts:10:10",
    "at handle (src/router.ts:11:67)",
    "at fetch (src/index.ts:22:27)",
  ]);
  assert.deepEqual(frames(stacks["/nope"]), [
    "at lookupRoute (src/router.ts:17:19)",
    "at handle (src/router.ts:11:26)",
    "at fetch (src/index.ts:22:27)",
  ]);
  assert.equal(rewrite(stacks["/down"]).split("\n")[0], "Error: Unexpected input value: null", "the message line is kept");
  // The arrow function passed to retry() is named after the parameter it is called through.
  assert.deepEqual(frames(stacks["/retry"]), [
    "at checkedNumber (src/down.ts:8:11)",
    "at parseBytes (src/down.ts:2:13)",
    "at attempt (src/index.ts:17:40)",
    "at retry (src/util/retry.ts:5:14)",
    "at src/index.ts:17:28",
    "at handle (src/router.ts:11:67)",
    "at fetch (src/index.ts:22:27)",
  ]);
});
