// URL, URLSearchParams, TextEncoder/TextDecoder, atob/btoa, structuredClone, crypto and the
// global scope as a Worker sees them, checked through real HTTP against the real binary. Each
// route computes facts inside the runtime and returns them as JSON; the tests compare them with
// the WHATWG specs, WebCrypto and what the Workers runtime does (node:crypto gives reference
// digests).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startDev, worker } from "./lib/harness.mjs";

// The Worker's code (its source text is what the Worker runs).
function routes() {
  function caught(fn) {
    try {
      fn();
      return null;
    } catch (e) {
      return describe(e);
    }
  }
  async function caughtAsync(fn) {
    try {
      await fn();
      return null;
    } catch (e) {
      return describe(e);
    }
  }
  function describe(e) {
    return { name: e?.name, message: e?.message, type: e?.constructor?.name, dom: e instanceof DOMException, code: e?.code };
  }
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const urlParts = (u) => ({
    href: u.href,
    origin: u.origin,
    protocol: u.protocol,
    username: u.username,
    password: u.password,
    host: u.host,
    hostname: u.hostname,
    port: u.port,
    pathname: u.pathname,
    search: u.search,
    hash: u.hash,
  });

  return {
    // ---- URL ----------------------------------------------------------------------------
    "/url/parse": () => ({
      full: urlParts(new URL("HTTPS://user:p%40ss@EXAMPLE.com:8080/a/../b/./c d?x=1&y=ü#frag ment")),
      relative: new URL("../d?y#z", "https://example.com/a/b/c").href,
      relativeToUrl: new URL("/root", new URL("http://h.example/deep/path")).href,
      schemeRelative: new URL("//other.example/p", "https://example.com/").href,
      defaultPort: new URL("https://example.com:443/").port,
      idna: new URL("https://münchen.DE/").hostname,
      ipv4: new URL("http://0x7f.1/").hostname,
      ipv6: new URL("http://[0:0:0:0:0:0:0:1]:81/").host,
      file: new URL("file:///C:/dir/../file.txt").href,
      opaque: urlParts(new URL("mailto:someone@example.com?subject=hi")),
      blobOrigin: new URL("blob:https://example.com:444/uuid").origin,
      noBase: caught(() => new URL("/just/a/path")),
      garbage: caught(() => new URL("http://exa mple.com")),
      badPort: caught(() => new URL("http://example.com:99999/")),
      badBase: caught(() => new URL("x", "not a base")),
      noArgs: caught(() => new URL()),
      toStringJSON: (() => {
        const u = new URL("https://example.com/p?q");
        return [String(u), u.toString(), u.toJSON(), JSON.stringify({ u })];
      })(),
      tag: Object.prototype.toString.call(new URL("https://example.com/")),
    }),
    "/url/setters": () => {
      const u = new URL("https://example.com/start?x=1#h");
      const steps = [];
      const step = (what, fn) => {
        fn();
        steps.push([what, u.href]);
      };
      step("protocol", () => (u.protocol = "http:"));
      step("protocol to special-less (ignored)", () => (u.protocol = "mailto"));
      step("host", () => (u.host = "other.example:8081"));
      step("hostname", () => (u.hostname = "third.example"));
      step("port", () => (u.port = "80"));
      step("port 1234", () => (u.port = "1234"));
      step("port junk", () => (u.port = "99abc"));
      step("pathname", () => (u.pathname = "/a b/ü"));
      step("search", () => (u.search = "q=a b"));
      step("hash", () => (u.hash = "sec tion"));
      step("username", () => (u.username = "me@home"));
      step("password", () => (u.password = "sec:ret"));
      step("empty search", () => (u.search = ""));
      step("empty hash", () => (u.hash = ""));
      step("href", () => (u.href = "https://new.example/fresh?k=v"));
      const badHref = caught(() => (u.href = "not a url"));
      return { steps, badHref, after: u.href };
    },
    "/url/searchparams": () => {
      const u = new URL("https://example.com/p?a=1&b=2");
      const sp = u.searchParams;
      const out = { same: u.searchParams === sp, initial: [...sp] };
      sp.append("c", "x y");
      out.afterAppend = u.href;
      sp.set("a", "one");
      out.afterSet = u.search;
      sp.delete("b");
      out.afterDelete = u.search;
      u.search = "?z=9&z=10";
      out.fromSearch = [sp.get("z"), sp.getAll("z"), sp.has("a"), sp.size];
      u.href = "https://example.com/q?h=ref";
      out.fromHref = [...sp];
      sp.delete("h");
      out.emptied = [u.href, u.search];
      u.search = "";
      out.emptySearch = [...sp];
      u.hash = "keep";
      sp.append("k", "v");
      out.withHash = u.href;
      sp.sort();
      const s = new URL("https://example.com/?c=3&a=1&b=2&a=0");
      s.searchParams.sort();
      out.sorted = s.search;
      const opaque = new URL("data:text/plain,hi   ?q=1");
      opaque.searchParams.delete("q");
      out.opaque = opaque.href;
      return out;
    },
    "/url/canparse": () => ({
      abs: URL.canParse("https://example.com/"),
      rel: URL.canParse("/path"),
      relBase: URL.canParse("/path", "https://example.com/"),
      bad: URL.canParse("http://[::1"),
      badBase: URL.canParse("/p", "nope"),
      parse: typeof URL.parse === "function" ? [URL.parse("/x", "https://e.example/")?.href, URL.parse("nope")] : "missing",
      canParseNoArgs: caught(() => URL.canParse()),
      parseNoArgs: caught(() => URL.parse()),
      canParseUndefined: URL.canParse(undefined),
    }),
    "/usp": () => {
      const p = new URLSearchParams("?a=1&b=x+y&a=2&c=%26%3D&d&=e");
      const out = {
        entries: [...p],
        get: [p.get("a"), p.get("b"), p.get("c"), p.get("d"), p.get(""), p.get("missing")],
        getAll: p.getAll("a"),
        has: [p.has("a"), p.has("missing"), p.has("a", "2"), p.has("a", "3")],
        size: p.size,
        str: p.toString(),
      };
      p.delete("a", "1");
      out.deleteValue = p.getAll("a");
      p.set("a", "only");
      p.append("z", "ü €&=+ /");
      out.afterSet = p.toString();
      p.sort();
      out.sorted = [...p.keys()];
      const each = [];
      p.forEach((v, k, obj) => each.push([k, v, obj === p]));
      out.forEach = each;
      out.fromObject = new URLSearchParams({ x: "1", y: "two words" }).toString();
      out.fromPairs = new URLSearchParams([["p", "1"], ["p", "2"]]).toString();
      out.fromParams = new URLSearchParams(new URLSearchParams("k=v")).toString();
      out.badPair = caught(() => new URLSearchParams([["one", "two", "three"]]));
      out.values = [...new URLSearchParams("a=1&b=2").values()];
      out.tag = Object.prototype.toString.call(p);
      return out;
    },

    // ---- TextEncoder / TextDecoder --------------------------------------------------------
    "/encoding/encoder": () => {
      const enc = new TextEncoder();
      const into = (s, n) => {
        const dest = new Uint8Array(n);
        const r = enc.encodeInto(s, dest);
        return { read: r.read, written: r.written, bytes: [...dest] };
      };
      return {
        encoding: enc.encoding,
        ascii: [...enc.encode("abc")],
        multi: [...enc.encode("é€😀")],
        empty: [...enc.encode()],
        lone: [...enc.encode("a\ud800b")],
        isU8: enc.encode("x") instanceof Uint8Array,
        intoFits: into("é€", 8),
        intoSplit: into("a€b", 3), // "€" needs 3 bytes: only "a" fits, then stop
        intoEmoji: into("😀😀", 6),
        intoExact: into("abc", 3),
        intoBadDest: caught(() => enc.encodeInto("x", new Uint16Array(2))),
      };
    },
    "/encoding/decoder": () => {
      const dec = new TextDecoder();
      const bytes = (...b) => new Uint8Array(b);
      const streamed = (chunks, opts) => {
        const d = new TextDecoder("utf-8", opts);
        const parts = chunks.map((c) => d.decode(new Uint8Array(c), { stream: true }));
        parts.push(d.decode());
        return parts;
      };
      return {
        props: [dec.encoding, dec.fatal, dec.ignoreBOM],
        basic: dec.decode(bytes(0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80)),
        arrayBuffer: dec.decode(bytes(0x61, 0x62).buffer),
        dataView: dec.decode(new DataView(bytes(0x78, 0x61, 0x62, 0x79).buffer, 1, 2)),
        subarray: dec.decode(bytes(0x78, 0x61, 0x62, 0x79).subarray(1, 3)),
        none: dec.decode(),
        bom: dec.decode(bytes(0xef, 0xbb, 0xbf, 0x41)),
        bomKept: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes(0xef, 0xbb, 0xbf, 0x41)),
        replacement: dec.decode(bytes(0x61, 0xff, 0x62, 0xc3)),
        overlong: dec.decode(bytes(0xc0, 0xaf)),
        surrogate: dec.decode(bytes(0xed, 0xa0, 0x80)),
        fatalProps: new TextDecoder("utf-8", { fatal: true }).fatal,
        fatal: caught(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes(0x61, 0xff))),
        fatalTruncated: caught(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes(0xe2, 0x82))),
        fatalOk: new TextDecoder("utf-8", { fatal: true }).decode(bytes(0xe2, 0x82, 0xac)),
        streamEuro: streamed([[0xe2], [0x82], [0xac, 0x21]]),
        streamEmoji: streamed([[0x41, 0xf0, 0x9f], [0x98], [0x80, 0x42]]),
        streamBomSplit: streamed([[0xef, 0xbb], [0xbf, 0x43]]),
        streamBomOnlyAtStart: streamed([[0xef, 0xbb, 0xbf, 0x31], [0xef, 0xbb, 0xbf, 0x32]]),
        streamTruncatedEnd: streamed([[0x61, 0xe2, 0x82]]),
        streamFatalEnd: caught(() => streamed([[0x61, 0xe2, 0x82]], { fatal: true })),
        // After a complete (non-streaming) decode the decoder starts afresh: BOM stripped again.
        reuse: (() => {
          const d = new TextDecoder();
          return [d.decode(bytes(0xef, 0xbb, 0xbf, 0x61)), d.decode(bytes(0xef, 0xbb, 0xbf, 0x62))];
        })(),
        labels: ["utf8", " UTF-8 ", "unicode-1-1-utf-8", "Utf-8"].map((l) => new TextDecoder(l).encoding),
        badLabel: caught(() => new TextDecoder("bogus-encoding")),
        // Only ASCII whitespace (tab, LF, FF, CR, space) is stripped from a label.
        asciiWhitespaceLabel: caught(() => new TextDecoder("\t\n\f\r utf-8 \r\n")),
        nbspLabel: caught(() => new TextDecoder("\u00a0utf-8")),
        vtLabel: caught(() => new TextDecoder("utf-8\v")),
        ideographicSpaceLabel: caught(() => new TextDecoder("\u3000utf-8")),
        badInput: caught(() => dec.decode("a string")),
      };
    },

    // ---- atob / btoa ----------------------------------------------------------------------
    "/base64": () => {
      const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
      return {
        btoa: [btoa(""), btoa("f"), btoa("fo"), btoa("foo"), btoa("hello"), btoa("\xff\xfe\x00")],
        atob: [atob(""), atob("Zg=="), atob("Zm8="), atob("aGVsbG8="), atob("aGVsbG8"), atob(" aGVs\tbG8=\n"), atob("//4A")],
        roundTrip: atob(btoa(all)) === all,
        btoaAll: btoa(all),
        btoaUnicode: caught(() => btoa("snow ☃")),
        atobBadChar: caught(() => atob("aGVs*bG8=")),
        atobBadLength: caught(() => atob("a")),
        atobBadPadding: caught(() => atob("aGVsbG8===")),
        atobUnicode: caught(() => atob("☃")),
        btoaNoArgs: caught(() => btoa()),
        btoaCoerce: btoa(12),
      };
    },

    // ---- structuredClone ------------------------------------------------------------------
    "/structured-clone": () => {
      const date = new Date(1700000000123);
      const inner = { deep: [1, { two: 2 }] };
      const map = new Map([["k", inner], [1, date]]);
      const set = new Set([1, "a", inner]);
      const u8 = new Uint8Array([1, 2, 255]);
      const f64 = new Float64Array([1.5, -0.25]);
      const o = { map, set, date, inner, nested: { arr: [1, [2, [3]]] }, u8, f64, re: /ab+c/gi, big: 10n ** 20n, undef: undefined, nul: null, str: "s", neg0: -0, nan: NaN };
      o.self = o;
      o.list = [o, map];
      const c = structuredClone(o);
      class Point {
        constructor() {
          this.x = 1;
        }
        get y() {
          return 2;
        }
      }
      const p = structuredClone(new Point());
      const buf = new ArrayBuffer(8);
      const moved = structuredClone(buf, { transfer: [buf] });
      return {
        notSame: c !== o,
        cycle: c.self === c && c.list[0] === c,
        mapIsMap: c.map instanceof Map && c.map !== map,
        mapShared: c.map.get("k") === c.inner && c.list[1] === c.map,
        mapValue: c.map.get("k"),
        mapDate: c.map.get(1) instanceof Date && c.map.get(1).getTime(),
        setIsSet: c.set instanceof Set && c.set.has(1) && c.set.has("a") && c.set.has(c.inner),
        date: c.date instanceof Date && c.date !== date && c.date.getTime(),
        nested: c.nested,
        u8: c.u8 instanceof Uint8Array && c.u8.buffer !== u8.buffer && [...c.u8],
        f64: c.f64 instanceof Float64Array && [...c.f64],
        re: c.re instanceof RegExp && [c.re.source, c.re.flags],
        big: c.big === 10n ** 20n,
        undef: "undef" in c && c.undef === undefined,
        nul: c.nul,
        neg0: Object.is(c.neg0, -0),
        nan: Number.isNaN(c.nan),
        classInstance: [Object.getPrototypeOf(p) === Object.prototype, p.x, "y" in p],
        transfer: [buf.byteLength, moved.byteLength],
        primitive: [structuredClone(5), structuredClone("x"), structuredClone(null)],
        fn: caught(() => structuredClone(() => 1)),
        fnInside: caught(() => structuredClone({ a: { f() {} } })),
        symbol: caught(() => structuredClone(Symbol("s"))),
        noArgs: caught(() => structuredClone()),
        transferPrimitive: caught(() => structuredClone(1, { transfer: [5] })),
        transferNotIterable: caught(() => structuredClone(1, { transfer: {} })),
        transferPlainObject: caught(() => structuredClone(1, { transfer: [{}] })),
        transferTwice: caught(() => {
          const b = new ArrayBuffer(1);
          structuredClone(b, { transfer: [b, b] });
        }),
        optionsNotObject: caught(() => structuredClone(1, 5)),
        optionsNull: caught(() => structuredClone(1, null)),
      };
    },
    "/structured-clone-errors": () => {
      const out = {};
      for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
        try {
          const c = structuredClone(new E("msg " + E.name));
          out[E.name] = [Object.getPrototypeOf(c) === E.prototype, c.name, c.message];
        } catch (e) {
          out[E.name] = "threw " + e.name + ": " + e.message;
        }
      }
      return out;
    },

    // ---- crypto ---------------------------------------------------------------------------
    "/crypto/random": () => {
      const a = new Uint8Array(64);
      const ret = crypto.getRandomValues(a);
      const u32 = crypto.getRandomValues(new Uint32Array(16));
      const big = crypto.getRandomValues(new BigUint64Array(4));
      const max = new Uint8Array(65536);
      crypto.getRandomValues(max);
      const distinctMax = new Set(max).size;
      const view = new Uint8Array(16);
      crypto.getRandomValues(view.subarray(4, 8));
      const uuids = Array.from({ length: 200 }, () => crypto.randomUUID());
      return {
        sameArray: ret === a,
        filled: a.some((b) => b !== 0),
        differs: hex(crypto.getRandomValues(new Uint8Array(16))) !== hex(crypto.getRandomValues(new Uint8Array(16))),
        u32: u32.some((x) => x > 0xffff),
        big: big.some((x) => x > 0n),
        distinctMax,
        subarray: [view.slice(0, 4).every((b) => b === 0), view.slice(8).every((b) => b === 0), view.slice(4, 8).some((b) => b !== 0)],
        tooBig: caught(() => crypto.getRandomValues(new Uint8Array(65537))),
        tooBig32: caught(() => crypto.getRandomValues(new Uint32Array(16385))),
        float32: caught(() => crypto.getRandomValues(new Float32Array(4))),
        float64: caught(() => crypto.getRandomValues(new Float64Array(4))),
        dataView: caught(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4)))),
        uuids,
        uuidType: typeof uuids[0],
        tags: [Object.prototype.toString.call(crypto), Object.prototype.toString.call(crypto.subtle)],
      };
    },
    "/crypto/digest": async (request) => {
      const input = new Uint8Array(await request.arrayBuffer());
      const out = {};
      for (const alg of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
        const d = await crypto.subtle.digest(alg, input);
        out[alg] = { isArrayBuffer: d instanceof ArrayBuffer, hex: hex(d) };
      }
      out.lowerName = hex(await crypto.subtle.digest("sha-256", input));
      out.objectName = hex(await crypto.subtle.digest({ name: "SHA-256" }, input.buffer));
      const padded = new Uint8Array(input.length + 10);
      padded.set(input, 5);
      out.view = hex(await crypto.subtle.digest("SHA-256", padded.subarray(5, 5 + input.length)));
      out.dataView = hex(await crypto.subtle.digest("SHA-256", new DataView(padded.buffer, 5, input.length)));
      out.unknown = await caughtAsync(() => crypto.subtle.digest("SHA-3", input));
      out.badData = await caughtAsync(() => crypto.subtle.digest("SHA-256", "a string"));
      out.returnsPromise = (() => {
        const p = crypto.subtle.digest("SHA-256", input);
        p.catch(() => {});
        return p instanceof Promise;
      })();
      out.rejectsNotThrows = (() => {
        try {
          const p = crypto.subtle.digest("NOPE", input);
          p.catch(() => {});
          return p instanceof Promise;
        } catch {
          return false;
        }
      })();
      return out;
    },

    // ---- the global scope ------------------------------------------------------------------
    "/globals": () => {
      const names = Object.getOwnPropertyNames(globalThis);
      const kinds = {};
      for (const n of ["Request", "Response", "Headers", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "atob", "btoa",
        "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "structuredClone", "DOMException",
        "crypto", "console", "navigator", "Crypto", "SubtleCrypto", "WebAssembly"]) {
        kinds[n] = typeof globalThis[n];
      }
      const d = new DOMException("msg", "InvalidCharacterError");
      return {
        userAgent: navigator.userAgent,
        selfIsGlobal: self === globalThis && globalThis.self === self,
        opsType: typeof ops,
        hearthOpsType: typeof __hearth_ops,
        opsOnGlobal: "ops" in globalThis || "__hearth_ops" in globalThis,
        leakedNames: names.filter((n) => /ops|hearth/i.test(n)),
        enumerableGlobals: Object.keys(globalThis),
        kinds,
        domException: [d.name, d.message, d.code, d instanceof Error, Object.prototype.toString.call(d)],
        domExceptionDefault: [new DOMException().name, new DOMException("m").message],
      };
    },
  };
}

const SOURCE = `
const routes = (${routes.toString()})();
export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    if (!route) return new Response("no route " + pathname, { status: 404 });
    const out = await route(request, env, ctx);
    return out instanceof Response ? out : Response.json(out);
  },
};
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});
after(async () => {
  await server.stop();
});

async function json(path, init) {
  const res = await server.fetch(path, init);
  const text = await res.text();
  assert.equal(res.status, 200, `${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

function assertThrew(actual, expected, what) {
  assert.ok(actual, `${what}: expected a ${expected.name}, nothing was thrown`);
  for (const [k, v] of Object.entries(expected)) {
    if (v instanceof RegExp) assert.match(actual[k], v, `${what}: ${k}`);
    else assert.equal(actual[k], v, `${what}: ${k} (got ${JSON.stringify(actual)})`);
  }
}
const TYPE_ERROR = { name: "TypeError", type: "TypeError", dom: false };
const domError = (name, code) => ({ name, type: "DOMException", dom: true, ...(code === undefined ? {} : { code }) });

// ---- URL ----------------------------------------------------------------------------------

test("URL: parsing and the getters", async () => {
  const r = await json("/url/parse");
  assert.deepEqual(r.full, {
    href: "https://user:p%40ss@example.com:8080/b/c%20d?x=1&y=%C3%BC#frag%20ment",
    origin: "https://example.com:8080",
    protocol: "https:",
    username: "user",
    password: "p%40ss",
    host: "example.com:8080",
    hostname: "example.com",
    port: "8080",
    pathname: "/b/c%20d",
    search: "?x=1&y=%C3%BC",
    hash: "#frag%20ment",
  });
  assert.equal(r.relative, "https://example.com/a/d?y#z");
  assert.equal(r.relativeToUrl, "http://h.example/root");
  assert.equal(r.schemeRelative, "https://other.example/p");
  assert.equal(r.defaultPort, "", "the default port is omitted");
  assert.equal(r.idna, "xn--mnchen-3ya.de");
  assert.equal(r.ipv4, "127.0.0.1");
  assert.equal(r.ipv6, "[::1]:81");
  assert.equal(r.file, "file:///C:/file.txt");
  assert.deepEqual(r.opaque, {
    href: "mailto:someone@example.com?subject=hi",
    origin: "null",
    protocol: "mailto:",
    username: "",
    password: "",
    host: "",
    hostname: "",
    port: "",
    pathname: "someone@example.com",
    search: "?subject=hi",
    hash: "",
  });
  assert.equal(r.blobOrigin, "https://example.com:444");
  for (const k of ["noBase", "garbage", "badPort", "badBase", "noArgs"]) assertThrew(r[k], TYPE_ERROR, k);
  assert.match(r.noBase.message, /\/just\/a\/path/, "the message names the input");
  const href = "https://example.com/p?q";
  assert.deepEqual(r.toStringJSON, [href, href, href, `{"u":"${href}"}`]);
  assert.equal(r.tag, "[object URL]");
});

test("URL: setters", async () => {
  const r = await json("/url/setters");
  assert.deepEqual(r.steps, [
    ["protocol", "http://example.com/start?x=1#h"],
    ["protocol to special-less (ignored)", "http://example.com/start?x=1#h"],
    ["host", "http://other.example:8081/start?x=1#h"],
    ["hostname", "http://third.example:8081/start?x=1#h"],
    ["port", "http://third.example/start?x=1#h"],
    ["port 1234", "http://third.example:1234/start?x=1#h"],
    ["port junk", "http://third.example:99/start?x=1#h"],
    ["pathname", "http://third.example:99/a%20b/%C3%BC?x=1#h"],
    ["search", "http://third.example:99/a%20b/%C3%BC?q=a%20b#h"],
    ["hash", "http://third.example:99/a%20b/%C3%BC?q=a%20b#sec%20tion"],
    ["username", "http://me%40home@third.example:99/a%20b/%C3%BC?q=a%20b#sec%20tion"],
    ["password", "http://me%40home:sec%3Aret@third.example:99/a%20b/%C3%BC?q=a%20b#sec%20tion"],
    ["empty search", "http://me%40home:sec%3Aret@third.example:99/a%20b/%C3%BC#sec%20tion"],
    ["empty hash", "http://me%40home:sec%3Aret@third.example:99/a%20b/%C3%BC"],
    ["href", "https://new.example/fresh?k=v"],
  ]);
  assertThrew(r.badHref, TYPE_ERROR, "href = 'not a url'");
  assert.equal(r.after, "https://new.example/fresh?k=v", "a failed href set changes nothing");
});

test("URL: searchParams is a live view, both ways", async () => {
  const r = await json("/url/searchparams");
  assert.equal(r.same, true, "the same object every time");
  assert.deepEqual(r.initial, [["a", "1"], ["b", "2"]]);
  assert.equal(r.afterAppend, "https://example.com/p?a=1&b=2&c=x+y");
  assert.equal(r.afterSet, "?a=one&b=2&c=x+y");
  assert.equal(r.afterDelete, "?a=one&c=x+y");
  assert.deepEqual(r.fromSearch, ["9", ["9", "10"], false, 2]);
  assert.deepEqual(r.fromHref, [["h", "ref"]]);
  assert.deepEqual(r.emptied, ["https://example.com/q", ""], "an emptied list removes the '?'");
  assert.deepEqual(r.emptySearch, []);
  assert.equal(r.withHash, "https://example.com/q?k=v#keep");
  assert.equal(r.sorted, "?a=1&a=0&b=2&c=3", "sort() is stable");
  // URL Standard (2025): a space of an opaque path just before "?" or "#" is stored as "%20", so
  // removing the query keeps the path as it was.
  assert.equal(r.opaque, "data:text/plain,hi  %20");
});

test("URL.canParse and URL.parse", async () => {
  const r = await json("/url/canparse");
  assert.deepEqual(
    { abs: r.abs, rel: r.rel, relBase: r.relBase, bad: r.bad, badBase: r.badBase, parse: r.parse, canParseUndefined: r.canParseUndefined },
    { abs: true, rel: false, relBase: true, bad: false, badBase: false, parse: ["https://e.example/x", null], canParseUndefined: false },
  );
  assertThrew(r.canParseNoArgs, TYPE_ERROR, "URL.canParse() — the url argument is required");
  assertThrew(r.parseNoArgs, TYPE_ERROR, "URL.parse() — the url argument is required");
});

test("URLSearchParams: parsing, methods, serialization", async () => {
  const r = await json("/usp");
  assert.deepEqual(r.entries, [["a", "1"], ["b", "x y"], ["a", "2"], ["c", "&="], ["d", ""], ["", "e"]]);
  assert.deepEqual(r.get, ["1", "x y", "&=", "", "e", null]);
  assert.deepEqual(r.getAll, ["1", "2"]);
  assert.deepEqual(r.has, [true, false, true, false]);
  assert.equal(r.size, 6);
  assert.equal(r.str, "a=1&b=x+y&a=2&c=%26%3D&d=&=e");
  assert.deepEqual(r.deleteValue, ["2"], "delete(name, value) removes only that pair");
  // set() replaces the first remaining "a" (after "b", since "a=1" was deleted) in place.
  assert.equal(r.afterSet, "b=x+y&a=only&c=%26%3D&d=&=e&z=%C3%BC+%E2%82%AC%26%3D%2B+%2F");
  assert.deepEqual(r.sorted, ["", "a", "b", "c", "d", "z"]);
  assert.deepEqual(r.forEach.map((e) => e[0]), ["", "a", "b", "c", "d", "z"]);
  assert.ok(r.forEach.every((e) => e[2] === true));
  assert.equal(r.fromObject, "x=1&y=two+words");
  assert.equal(r.fromPairs, "p=1&p=2");
  assert.equal(r.fromParams, "k=v");
  assertThrew(r.badPair, TYPE_ERROR, "a three-item pair");
  assert.deepEqual(r.values, ["1", "2"]);
  assert.equal(r.tag, "[object URLSearchParams]");
});

// ---- TextEncoder / TextDecoder ------------------------------------------------------------

test("TextEncoder: encode and encodeInto", async () => {
  const r = await json("/encoding/encoder");
  assert.equal(r.encoding, "utf-8");
  assert.deepEqual(r.ascii, [97, 98, 99]);
  assert.deepEqual(r.multi, [...Buffer.from("é€😀")]);
  assert.deepEqual(r.empty, []);
  assert.deepEqual(r.lone, [0x61, 0xef, 0xbf, 0xbd, 0x62], "a lone surrogate becomes U+FFFD");
  assert.equal(r.isU8, true);
  assert.deepEqual(r.intoFits, { read: 2, written: 5, bytes: [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0, 0, 0] });
  assert.deepEqual(r.intoSplit, { read: 1, written: 1, bytes: [0x61, 0, 0] }, "never a partial code point");
  assert.deepEqual(r.intoEmoji, { read: 2, written: 4, bytes: [0xf0, 0x9f, 0x98, 0x80, 0, 0] }, "read counts UTF-16 units");
  assert.deepEqual(r.intoExact, { read: 3, written: 3, bytes: [97, 98, 99] });
  assertThrew(r.intoBadDest, TYPE_ERROR, "encodeInto(…, Uint16Array)");
});

test("TextDecoder: decode, BOM handling, fatal mode", async () => {
  const r = await json("/encoding/decoder");
  assert.deepEqual(r.props, ["utf-8", false, false]);
  assert.equal(r.basic, "hé€😀");
  assert.equal(r.arrayBuffer, "ab");
  assert.equal(r.dataView, "ab");
  assert.equal(r.subarray, "ab");
  assert.equal(r.none, "");
  assert.equal(r.bom, "A", "the BOM is stripped");
  assert.equal(r.bomKept, "\ufeffA", "ignoreBOM keeps it");
  assert.equal(r.replacement, "a\ufffdb\ufffd");
  assert.equal(r.overlong, "\ufffd\ufffd");
  assert.equal(r.surrogate, "\ufffd\ufffd\ufffd");
  assert.equal(r.fatalProps, true);
  assertThrew(r.fatal, TYPE_ERROR, "fatal decode of 0xff");
  assertThrew(r.fatalTruncated, TYPE_ERROR, "fatal decode of a truncated sequence");
  assert.equal(r.fatalOk, "€");
  assert.deepEqual(r.reuse, ["a", "b"]);
  assert.deepEqual(r.labels, ["utf-8", "utf-8", "utf-8", "utf-8"]);
  assertThrew(r.badLabel, { name: "RangeError", type: "RangeError" }, "label 'bogus-encoding'");
  assert.equal(r.asciiWhitespaceLabel, null, "ASCII whitespace around a label is ignored");
  for (const k of ["nbspLabel", "vtLabel", "ideographicSpaceLabel"]) {
    assertThrew(r[k], { name: "RangeError", type: "RangeError" }, `${k}: not ASCII whitespace, so not a known label`);
  }
  assertThrew(r.badInput, TYPE_ERROR, "decode('a string')");
});

test("TextDecoder: streaming decode across split multi-byte sequences", async () => {
  const r = await json("/encoding/decoder");
  assert.deepEqual(r.streamEuro, ["", "", "€!", ""]);
  assert.deepEqual(r.streamEmoji, ["A", "", "😀B", ""]);
  assert.deepEqual(r.streamBomSplit, ["", "C", ""], "a BOM split across chunks is still stripped");
  assert.deepEqual(r.streamBomOnlyAtStart, ["1", "\ufeff2", ""], "only the stream's first BOM is stripped");
  assert.deepEqual(r.streamTruncatedEnd, ["a", "\ufffd"], "an incomplete sequence at the end is U+FFFD");
  assertThrew(r.streamFatalEnd, TYPE_ERROR, "fatal: incomplete sequence at the end of the stream");
});

// ---- atob / btoa --------------------------------------------------------------------------

test("atob and btoa", async () => {
  const r = await json("/base64");
  assert.deepEqual(r.btoa, ["", "Zg==", "Zm8=", "Zm9v", "aGVsbG8=", "//4A"]);
  assert.deepEqual(r.atob, ["", "f", "fo", "hello", "hello", "hello", "\xff\xfe\x00"]);
  assert.equal(r.roundTrip, true);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.equal(r.btoaAll, all.toString("base64"));
  assert.equal(r.btoaCoerce, "MTI=");
  assertThrew(r.btoaNoArgs, TYPE_ERROR, "btoa()");
});

test("atob and btoa: InvalidCharacterError is a DOMException", async () => {
  const r = await json("/base64");
  for (const k of ["btoaUnicode", "atobBadChar", "atobBadLength", "atobBadPadding", "atobUnicode"]) {
    assertThrew(r[k], domError("InvalidCharacterError", 5), k);
  }
});

// ---- structuredClone ----------------------------------------------------------------------

test("structuredClone: Map, Set, Date, nested objects, cycles, typed arrays", async () => {
  const r = await json("/structured-clone");
  assert.equal(r.notSame, true);
  assert.equal(r.cycle, true, "cycles are preserved");
  assert.equal(r.mapIsMap, true);
  assert.equal(r.mapShared, true, "shared references stay shared");
  assert.deepEqual(r.mapValue, { deep: [1, { two: 2 }] });
  assert.equal(r.mapDate, 1700000000123);
  assert.equal(r.setIsSet, true);
  assert.equal(r.date, 1700000000123);
  assert.deepEqual(r.nested, { arr: [1, [2, [3]]] });
  assert.deepEqual(r.u8, [1, 2, 255]);
  assert.deepEqual(r.f64, [1.5, -0.25]);
  assert.deepEqual(r.re, ["ab+c", "gi"]);
  assert.equal(r.big, true);
  assert.equal(r.undef, true);
  assert.equal(r.nul, null);
  assert.equal(r.neg0, true);
  assert.equal(r.nan, true);
  assert.deepEqual(r.classInstance, [true, 1, false], "class instances become plain objects");
  assert.deepEqual(r.transfer, [0, 8], "a transferred buffer is detached");
  assert.deepEqual(r.primitive, [5, "x", null]);
});

test("structuredClone: DataCloneError for functions and symbols", async () => {
  const r = await json("/structured-clone");
  for (const k of ["fn", "fnInside", "symbol"]) assertThrew(r[k], domError("DataCloneError", 25), k);
  assertThrew(r.noArgs, TYPE_ERROR, "structuredClone()");
});

test("structuredClone: the transfer option is checked (WebIDL sequence<object>, transferable objects)", async () => {
  const r = await json("/structured-clone");
  assertThrew(r.transferPrimitive, TYPE_ERROR, "transfer: [5]");
  assertThrew(r.transferNotIterable, TYPE_ERROR, "transfer: {}");
  assertThrew(r.optionsNotObject, TYPE_ERROR, "options: 5");
  assert.equal(r.optionsNull, null, "options: null is an empty dictionary");
  assertThrew(r.transferPlainObject, domError("DataCloneError", 25), "transfer: [{}]");
  assertThrew(r.transferTwice, domError("DataCloneError", 25), "the same buffer twice");
});

// HTML's StructuredSerialize handles Error objects (name and message; the prototype is chosen
// by name); workerd (V8) clones them.
test("structuredClone: Error objects are cloned", async () => {
  const r = await json("/structured-clone-errors");
  for (const name of ["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"]) {
    assert.deepEqual(r[name], [true, name, `msg ${name}`], name);
  }
});

// ---- crypto -------------------------------------------------------------------------------

test("crypto.getRandomValues fills integer arrays in place", async () => {
  const r = await json("/crypto/random");
  assert.equal(r.sameArray, true, "returns its argument");
  assert.equal(r.filled, true);
  assert.equal(r.differs, true);
  assert.equal(r.u32, true);
  assert.equal(r.big, true);
  assert.equal(r.distinctMax, 256, "65536 random bytes take every value");
  assert.deepEqual(r.subarray, [true, true, true], "only the view's bytes are written");
});

test("crypto.getRandomValues: QuotaExceededError over 65536 bytes, TypeMismatchError for floats", async () => {
  const r = await json("/crypto/random");
  assertThrew(r.tooBig, domError("QuotaExceededError", 22), "65537 bytes");
  assertThrew(r.tooBig32, domError("QuotaExceededError", 22), "16385 Uint32s");
  assertThrew(r.float32, domError("TypeMismatchError", 17), "Float32Array");
  assertThrew(r.float64, domError("TypeMismatchError", 17), "Float64Array");
  assertThrew(r.dataView, domError("TypeMismatchError", 17), "DataView");
  assert.deepEqual(r.tags, ["[object Crypto]", "[object SubtleCrypto]"]);
});

test("crypto.randomUUID: v4 format, unique", async () => {
  const r = await json("/crypto/random");
  assert.equal(r.uuidType, "string");
  for (const u of r.uuids) assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(r.uuids).size, r.uuids.length);
});

test("crypto.subtle.digest: SHA-1/256/384/512 match node:crypto", async () => {
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
  for (const input of [Buffer.alloc(0), Buffer.from("abc"), Buffer.from("héllo wörld ✓"), big]) {
    const r = await json("/crypto/digest", { method: "POST", body: input });
    for (const [alg, node] of [["SHA-1", "sha1"], ["SHA-256", "sha256"], ["SHA-384", "sha384"], ["SHA-512", "sha512"]]) {
      assert.deepEqual(r[alg], { isArrayBuffer: true, hex: createHash(node).update(input).digest("hex") }, `${alg} of ${input.length} bytes`);
    }
    const sha256 = createHash("sha256").update(input).digest("hex");
    assert.equal(r.lowerName, sha256, "algorithm names are case-insensitive");
    assert.equal(r.objectName, sha256, "{ name } form, ArrayBuffer input");
    assert.equal(r.view, sha256, "a view into a larger buffer");
    assert.equal(r.dataView, sha256, "a DataView");
  }
  // Known vector (FIPS 180-2): SHA-256("abc").
  const abc = await json("/crypto/digest", { method: "POST", body: "abc" });
  assert.equal(abc["SHA-256"].hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("crypto.subtle.digest: unknown algorithms and bad data reject", async () => {
  const r = await json("/crypto/digest", { method: "POST", body: "x" });
  assertThrew(r.unknown, domError("NotSupportedError", 9), "SHA-3");
  assertThrew(r.badData, TYPE_ERROR, "a string as data");
  assert.equal(r.returnsPromise, true);
  assert.equal(r.rejectsNotThrows, true, "errors are rejections, not synchronous throws");
});

// ---- the global scope ---------------------------------------------------------------------

test("globals: navigator.userAgent, self, the Web API constructors", async () => {
  const r = await json("/globals");
  assert.equal(r.userAgent, "Cloudflare-Workers");
  assert.equal(r.selfIsGlobal, true);
  for (const [name, kind] of Object.entries(r.kinds)) {
    const expected = ["crypto", "console", "navigator", "WebAssembly"].includes(name) ? "object" : "function";
    assert.equal(kind, expected, name);
  }
  assert.deepEqual(r.enumerableGlobals, [], "Web API globals are not enumerable");
  assert.deepEqual(r.domException, ["InvalidCharacterError", "msg", 5, true, "[object DOMException]"]);
  assert.deepEqual(r.domExceptionDefault, ["Error", "m"]);
});

test("globals: the runtime's ops are not visible to Worker code", async () => {
  const r = await json("/globals");
  assert.equal(r.opsType, "undefined");
  assert.equal(r.hearthOpsType, "undefined");
  assert.equal(r.opsOnGlobal, false);
  assert.deepEqual(r.leakedNames, []);
});
