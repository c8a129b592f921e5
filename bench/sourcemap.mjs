// Source maps: hearth's decoder (src/observe/sourcemap.c, through build/tests/sourcemap_query)
// side by side with @jridgewell/trace-mapping in node (the decoder behind most of the
// JavaScript ecosystem's stack-trace tools), in the same run, on the same map and positions.
//
// The map: mathjs's `mathjs/number` entry point (mathjs and its dependencies, pinned in
// package.json: 651 source files) bundled and minified by esbuild with a source map, sources
// included — about 1.9 MB of JSON, 81,000 segments. The positions: 1,000,000 random generated
// positions (line and column), the same for both, from a fixed seed.
//
// Measured: decoding (JSON text to lookup-ready structure: hearth's parse; trace-mapping's
// `new TraceMap` + `decodedMappings`, which it otherwise defers to the first lookup), best of
// 10; looking up every position (greatest lower bound; both sides fold each answer into a
// checksum, which must agree), best of 3 passes. Usage: node bench/sourcemap.mjs. Prints a
// Markdown table and writes it to bench/out/sourcemap-<date>.md.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const QUERY = process.env.HEARTH_SOURCEMAP_QUERY ?? path.join(ROOT, "build/tests/sourcemap_query");
const OUT = path.join(HERE, "out/sourcemap");
const LOOKUPS = 1_000_000;
const require = createRequire(import.meta.url);
const esbuild = require("esbuild");
const { TraceMap, decodedMappings, originalPositionFor } = require("@jridgewell/trace-mapping");

if (!existsSync(QUERY)) {
  console.error(`${QUERY} is missing: make build/tests/sourcemap_query`);
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });

// ---- the map and the positions ------------------------------------------------------------

const entry = path.join(OUT, "entry.js");
writeFileSync(entry, 'export * from "mathjs/number";\n');
const bundleFile = path.join(OUT, "mathjs.js");
esbuild.buildSync({ entryPoints: [entry], outfile: bundleFile, bundle: true, minify: true, format: "esm", sourcemap: true, logLevel: "silent", nodePaths: [path.join(HERE, "node_modules")] });
const mapFile = bundleFile + ".map";
const text = readFileSync(mapFile, "utf8");

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

// Random lines of the bundle, random columns up to a little past each line's last segment.
const lines = decodedMappings(new TraceMap(text));
const segments = lines.reduce((n, l) => n + l.length, 0);
const rnd = random(426);
const positions = new Uint32Array(2 * LOOKUPS);
for (let i = 0; i < LOOKUPS; i++) {
  const line = Math.floor(rnd() * lines.length);
  const segs = lines[line];
  const last = segs.length ? segs[segs.length - 1][0] : 0;
  positions[2 * i] = line;
  positions[2 * i + 1] = Math.floor(rnd() * (last + 10));
}
const positionsFile = path.join(OUT, "positions.bin");
writeFileSync(positionsFile, positions);

// ---- trace-mapping -------------------------------------------------------------------------

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

let decodeJs = Infinity;
let map;
for (let round = 0; round < 10; round++) {
  const t0 = process.hrtime.bigint();
  map = new TraceMap(text);
  decodedMappings(map);
  decodeJs = Math.min(decodeJs, ms(t0));
}

let lookupJs = Infinity;
let js = {};
for (let round = 0; round < 3; round++) {
  let checksum = 0;
  let found = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < LOOKUPS; i++) {
    const r = originalPositionFor(map, { line: positions[2 * i] + 1, column: positions[2 * i + 1] });
    if (r.line !== null) {
      checksum += r.line - 1 + r.column;
      found++;
    }
  }
  lookupJs = Math.min(lookupJs, (ms(t0) * 1e6) / LOOKUPS);
  js = { checksum, found };
}

// ---- hearth ---------------------------------------------------------------------------------

const c = JSON.parse(execFileSync(QUERY, ["bench", mapFile, positionsFile, "10"], { encoding: "utf8" }));
const same = c.found === js.found && c.checksum === js.checksum;

// ---- report ---------------------------------------------------------------------------------

const fmt = (n, d = 1) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const perSec = (ns) => fmt(1e9 / ns / 1e6, 2) + " M/s";
const ratio = (theirs, ours) => (theirs >= ours ? `${fmt(theirs / ours, 1)}× faster` : `${fmt(ours / theirs, 1)}× slower`);
const totalC = c.decodeMs + (c.lookupNs * LOOKUPS) / 1e6;
const totalJs = decodeJs + (lookupJs * LOOKUPS) / 1e6;
const md = [
  `### Source maps: hearth vs @jridgewell/trace-mapping (${new Date().toISOString().slice(0, 10)})`,
  "",
  `Map: mathjs/number bundled and minified by esbuild — ${fmt(text.length / 1e6, 2)} MB, ${segments.toLocaleString("en-US")} segments, ${c.sources} sources, ${c.names.toLocaleString("en-US")} names. ${LOOKUPS.toLocaleString("en-US")} random lookups (${js.found.toLocaleString("en-US")} mapped).`,
  "",
  "| | hearth (C) | trace-mapping (node) | hearth / trace-mapping |",
  "|---|---|---|---|",
  `| decode (best of 10) | ${fmt(c.decodeMs, 1)} ms | ${fmt(decodeJs, 1)} ms | ${ratio(decodeJs, c.decodeMs)} |`,
  `| lookup (best of 3 passes) | ${fmt(c.lookupNs, 1)} ns (${perSec(c.lookupNs)}) | ${fmt(lookupJs, 1)} ns (${perSec(lookupJs)}) | ${ratio(lookupJs, c.lookupNs)} |`,
  `| decode + ${LOOKUPS.toLocaleString("en-US")} lookups | ${fmt(totalC, 1)} ms | ${fmt(totalJs, 1)} ms | ${ratio(totalJs, totalC)} |`,
  "",
  same ? "Answers identical (same mapped count and checksum of original line + column)." : `**Answers differ**: hearth found ${c.found} (checksum ${c.checksum}), trace-mapping ${js.found} (checksum ${js.checksum}).`,
  "",
].join("\n");
console.log(md);
writeFileSync(path.join(HERE, "out", `sourcemap-${new Date().toISOString().slice(0, 10)}.md`), md);
if (!same) process.exit(1);
