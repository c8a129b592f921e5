// Blob, File, FormData and the bodies that use them, checked over real HTTP against the real
// binary: node's fetch/FormData upload multipart bodies to the Worker, the Worker parses them,
// builds its own and sends them back for node to parse. Expected values follow the File API,
// XHR and Fetch Standards, and workerd where it was checked (noted where hearth differs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startDev, worker } from "./lib/harness.mjs";

function routes() {
  async function caughtAsync(fn) {
    try {
      await fn();
      return null;
    } catch (e) {
      return { name: e?.name, message: e?.message };
    }
  }
  const caught = caughtAsync;
  async function describeForm(fd) {
    const out = [];
    for (const [name, value] of fd) {
      if (typeof value === "string") {
        out.push([name, value]);
        continue;
      }
      const bytes = new Uint8Array(await value.arrayBuffer());
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      out.push([
        name,
        {
          file: value instanceof File,
          blob: value instanceof Blob,
          name: value.name,
          type: value.type,
          size: value.size,
          sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
        },
      ]);
    }
    return out;
  }
  let shared = null;
  const multipart = (boundary, body) =>
    new Response(body, { headers: { "content-type": `multipart/form-data; boundary=${boundary}` } });

  return {
    "/globals": () => {
      const names = Object.getOwnPropertyNames(globalThis);
      const desc = Object.getOwnPropertyDescriptor(globalThis, "FormData");
      return {
        listed: ["Blob", "File", "FormData"].map((n) => names.includes(n)),
        enumerable: Object.keys(globalThis).filter((k) => ["Blob", "File", "FormData"].includes(k)),
        writable: desc.writable,
        configurable: desc.configurable,
        types: [typeof Blob, typeof File, typeof FormData],
        fileIsBlob: Object.getPrototypeOf(File) === Blob && new File([], "x") instanceof Blob,
      };
    },

    // ---- Blob and File -------------------------------------------------------------------
    "/blob/basics": async () => {
      const inner = new Blob(["xyz"]);
      const b = new Blob(["h\u00e9", new Uint8Array([0x21, 0x22]), new Uint16Array([0x4241]).buffer, inner, 12]);
      const view = new DataView(new Uint8Array([9, 65, 66, 9]).buffer, 1, 2);
      return {
        size: b.size,
        type: b.type,
        text: await b.text(),
        bytes: [...(await b.bytes())],
        bytesIsU8: (await b.bytes()) instanceof Uint8Array,
        arrayBuffer: (await b.arrayBuffer()) instanceof ArrayBuffer,
        dataView: await new Blob([view]).text(),
        empty: [new Blob().size, new Blob([]).type, await new Blob().text()],
        surrogate: await new Blob(["a\ud800b"]).text(),
        bom: await new Blob([new Uint8Array([0xef, 0xbb, 0xbf, 0x41])]).text(),
        invalidUtf8: await new Blob([new Uint8Array([0x41, 0xff, 0x42])]).text(),
        toStringTags: [String(b), String(new File([], "f"))],
        copiedAtConstruction: await (async () => {
          const src = new Uint8Array([1, 2, 3]);
          const blob = new Blob([src]);
          src[0] = 99;
          const out = await blob.bytes();
          out[1] = 77;
          return [...(await blob.bytes())];
        })(),
      };
    },
    "/blob/types": () => ({
      types: ["Text/Plain", "text/plain; charset=UTF-8", "caf\u00e9/x", "a\tb", "a\x7fb", "", " X "].map(
        (type) => new Blob([], { type }).type,
      ),
      endingsNative: new Blob(["a\r\nb\rc\nd"], { endings: "native" }).size,
      endingsTransparent: new Blob(["a\r\nb"], { endings: "transparent" }).size,
    }),
    "/blob/slice": async () => {
      const b = new Blob(["0123456789"], { type: "text/plain" });
      const cases = [[], [2], [-3], [2, -2], [-100, 100], [5, 2], [NaN, Infinity], ["3", "7"], [2, 5, "Image/PNG"], [2, 5, "bad\u00e9"]];
      const out = [];
      for (const args of cases) {
        const s = b.slice(...args);
        out.push([await s.text(), s.type, s.size]);
      }
      const nested = b.slice(2, 8).slice(1, -1);
      return { out, nested: await nested.text() };
    },
    "/blob/stream": async () => {
      const big = new Uint8Array(100000).map((_, i) => i & 0xff);
      const s = new Blob([big]).stream();
      const reader = s.getReader();
      let total = 0;
      let ok = true;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (let i = 0; i < value.length; i++) if (value[i] !== ((total + i) & 0xff)) ok = false;
        total += value.length;
      }
      const byob = new Blob(["abcdef"]).stream().getReader({ mode: "byob" });
      const first = await byob.read(new Uint8Array(4));
      const second = await byob.read(new Uint8Array(4));
      const third = await byob.read(new Uint8Array(4));
      return {
        isStream: s instanceof ReadableStream,
        total,
        ok,
        byob: [new TextDecoder().decode(first.value), new TextDecoder().decode(second.value), third.done],
        viaResponse: await new Response(new Blob(["streamed"]).stream()).text(),
        twoStreams: await (async () => {
          const b = new Blob(["again"]);
          return [await new Response(b.stream()).text(), await new Response(b.stream()).text()];
        })(),
      };
    },
    "/blob/errors": async () => ({
      notSequence: await caught(() => new Blob("abc")),
      nullParts: await caught(() => new Blob(null)),
      badEndings: await caught(() => new Blob([], { endings: "crlf" })),
      badOptions: await caught(() => new Blob([], 5)),
      sizeIllegal: await caught(() => Object.getOwnPropertyDescriptor(Blob.prototype, "size").get.call({})),
      textIllegal: await caught(() => Blob.prototype.text.call({})),
      fileOneArg: await caught(() => new File(["a"])),
      fileNameIllegal: await caught(() => Object.getOwnPropertyDescriptor(File.prototype, "name").get.call(new Blob())),
    }),
    "/file": async () => {
      const before = Date.now();
      const f = new File(["ab", new Uint8Array([99])], "r\u00e9sum\u00e9.txt", { type: "Text/X", lastModified: 1234 });
      const g = new File([], 42);
      const fromFile = new Blob([f]);
      return {
        f: [f.name, f.type, f.size, f.lastModified, await f.text()],
        g: [g.name, g.lastModified >= before && g.lastModified <= Date.now()],
        lastModifiedTruncated: new File([], "x", { lastModified: 12.7 }).lastModified,
        fromFile: [fromFile.size, fromFile instanceof File, await fromFile.text()],
        sliceIsBlob: f.slice(1) instanceof File,
      };
    },

    // ---- FormData ------------------------------------------------------------------------
    "/fd/api": async () => {
      const fd = new FormData();
      fd.append("a", "1");
      fd.append("b", "2");
      fd.append("a", "3");
      fd.append("n", 42);
      const state = () => [...fd];
      const log = { initial: state(), get: fd.get("a"), getAll: fd.getAll("a"), missing: fd.get("zz"), none: fd.getAll("zz") };
      log.has = [fd.has("a"), fd.has("zz")];
      fd.set("a", "4");
      log.afterSet = state();
      fd.set("c", "5");
      log.afterSetNew = state();
      fd.delete("b");
      log.afterDelete = state();
      log.keys = [...fd.keys()];
      log.values = [...fd.values()];
      log.entries = [...fd.entries()];
      const seen = [];
      fd.forEach(function (value, name, obj) {
        seen.push([name, value, obj === fd, this.tag]);
      }, { tag: "t" });
      log.forEach = seen;
      // Iteration is live: an entry appended during the loop is visited.
      const live = [];
      for (const [name] of fd) {
        live.push(name);
        if (name === "a") fd.append("late", "x");
      }
      log.live = live;
      const it = new FormData().entries();
      log.iterator = [Object.prototype.toString.call(it), typeof it[Symbol.iterator], it.next().done];
      log.surrogates = (() => {
        const f = new FormData();
        f.append("k\ud800", "v\udc00");
        return [...f];
      })();
      log.errors = {
        appendOne: await caught(() => fd.append("x")),
        getNone: await caught(() => fd.get()),
        illegal: await caught(() => FormData.prototype.append.call({}, "a", "b")),
        forEachNotFn: await caught(() => fd.forEach(5)),
      };
      // As in workerd: an argument to the constructor is ignored; so is a filename with a
      // string value.
      const ignored = new FormData({ a: 1 });
      ignored.append("s", "str", "name.txt");
      log.lenient = [...ignored];
      return log;
    },
    "/fd/files": async () => {
      const fd = new FormData();
      const blob = new Blob(["blob data"], { type: "Text/Plain" });
      const file = new File(["file data"], "orig.txt", { type: "a/b", lastModified: 5 });
      fd.append("blob", blob);
      fd.append("named", blob, "given.txt");
      fd.append("file", file);
      fd.append("renamed", file, "new.txt");
      fd.set("setBlob", new Blob(["x"]), "set.bin");
      const get = (n) => fd.get(n);
      return {
        blob: [get("blob") instanceof File, get("blob").name, get("blob").type, await get("blob").text()],
        named: [get("named").name, get("named").type],
        sameFile: get("file") === file,
        renamed: [get("renamed") === file, get("renamed").name, get("renamed").type, get("renamed").lastModified, await get("renamed").text()],
        setBlob: [get("setBlob").name, get("setBlob").size],
      };
    },

    // ---- bodies ----------------------------------------------------------------------------
    "/body/roundtrip": async () => {
      const fd = new FormData();
      fd.append("text", "h\u00e9llo\r\nworld");
      fd.append("bin", new Blob([new Uint8Array([0, 255, 13, 10, 45, 45])], { type: "application/x-bin" }), "bin.dat");
      fd.append("empty", new File([], "empty.txt"));
      fd.append("text", "second");
      const req = new Request("https://example.com/", { method: "POST", body: fd });
      const ct = req.headers.get("content-type");
      const res = new Response(fd);
      const back = await req.clone().formData();
      return {
        ct: ct.replace(/boundary=.*/, "boundary=…"),
        boundaryOk: /^multipart\/form-data; boundary=[0-9A-Za-z'()+_,\-./:=?]{1,70}$/.test(ct),
        resCt: res.headers.get("content-type").startsWith("multipart/form-data; boundary="),
        back: await describeForm(back),
        resBack: await describeForm(await res.formData()),
        usedAfter: [req.bodyUsed, res.bodyUsed],
        typeOfParsed: Object.prototype.toString.call(back),
        urlParams: await describeForm(await new Request("https://example.com/", { method: "POST", body: new URLSearchParams("a=1&b=%F0%9F%98%80+x") }).formData()),
      };
    },
    "/body/blob": async () => {
      const res = new Response(new Blob(["abc"], { type: "Image/PNG" }));
      const noType = new Response(new Blob(["abc"]));
      const override = new Response(new Blob(["abc"], { type: "a/b" }), { headers: { "content-type": "c/d" } });
      const req = new Request("https://example.com/", { method: "POST", body: new Blob(["xyz"], { type: "text/x" }) });
      const sliced = new Response(new Blob(["0123456789"]).slice(3, 6));
      return {
        res: [res.headers.get("content-type"), await res.text()],
        noType: [noType.headers.get("content-type"), await noType.text()],
        override: override.headers.get("content-type"),
        req: [req.headers.get("content-type"), await req.text()],
        sliced: await sliced.text(),
        blobs: await Promise.all(
          [undefined, "Text/Plain; Charset=UTF-8", 'text/x; a="q \\" v"; b=1; A=2', "not a type", "a/b; c"].map(async (type) => {
            const headers = type === undefined ? {} : { "content-type": type };
            const blob = await new Response(new Uint8Array([1, 2, 3]), { headers }).blob();
            return [blob.type, blob.size, blob instanceof Blob];
          }),
        ),
        textBlob: (await new Response("hi").blob()).type,
        reqBlob: await (async () => {
          const b = await new Request("https://example.com/", { method: "POST", body: "data" }).blob();
          return [b.type, await b.text()];
        })(),
        bodyOfBlob: await new Response(new Response(new Blob(["via body"])).body).text(),
        usedTwice: await caughtAsync(async () => {
          const r = new Response("x");
          await r.blob();
          await r.blob();
        }),
      };
    },
    "/body/malformed": async () => {
      const m = (body, boundary = "b") => caughtAsync(() => multipart(boundary, body).formData());
      const part = (headers, data) => `--b\r\n${headers}\r\n\r\n${data}\r\n`;
      return {
        empty: await m(""),
        garbage: await m("this is not multipart"),
        noClose: await m('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhi'),
        noName: await m(part('Content-Disposition: form-data; filename="x"', "hi") + "--b--\r\n"),
        noDisposition: await m(part("Content-Type: text/plain", "hi") + "--b--\r\n"),
        notFormData: await m(part('Content-Disposition: attachment; name="a"', "hi") + "--b--\r\n"),
        headersNoBlank: await m('--b\r\nContent-Disposition: form-data; name="a"\r\n--b--\r\n'),
        unterminatedQuote: await m(part('Content-Disposition: form-data; name="a', "hi") + "--b--\r\n"),
        noBoundary: await caughtAsync(() => new Response("x", { headers: { "content-type": "multipart/form-data" } }).formData()),
        badBoundary: await caughtAsync(() => new Response("x", { headers: { "content-type": "multipart/form-data; boundary=\"a{b\"" } }).formData()),
        noContentType: await caughtAsync(() => new Response(new Uint8Array([97])).formData()),
        wrongContentType: await caughtAsync(() => new Response("a=b").formData()),
        json: await caughtAsync(() => new Response("{}", { headers: { "content-type": "application/json" } }).formData()),
        usedAfterFailure: await (async () => {
          const r = multipart("b", "garbage");
          await r.formData().catch(() => {});
          return r.bodyUsed;
        })(),
      };
    },
    "/body/lenient": async () => {
      const f = async (body, boundary = "b") => describeForm(await multipart(boundary, body).formData());
      return {
        lfOnly: await f('--b\nContent-Disposition: form-data; name="a"\n\nhi\n--b--\n'),
        preambleEpilogue: await f('preamble\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhi\r\n--b--\r\nepilogue'),
        quotedBoundary: await describeForm(
          await new Response('--x y\r\nContent-Disposition: form-data; name="q"\r\n\r\nv\r\n--x y--\r\n', {
            headers: { "content-type": 'Multipart/Form-Data; charset=utf-8; boundary="x y"' },
          }).formData(),
        ),
        noFileType: await f('--b\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n\r\nhi\r\n--b--\r\n'),
        emptyFilename: await f('--b\r\nContent-Disposition: form-data; name="f"; filename=""\r\n\r\nhi\r\n--b--\r\n'),
        utf8Names: await f('--b\r\nContent-Disposition: form-data; name="n\u00e9"; filename="\u00e9t\u00e9.txt"\r\nContent-Type: Text/Plain\r\n\r\n\u00e9\r\n--b--\r\n'),
        emptyForm: await f("--b--\r\n"),
        urlencoded: await describeForm(
          await new Response("a=1&b=%20x+y&&c&=d&e=%FF", { headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" } }).formData(),
        ),
      };
    },
    // Parses the uploaded body (multipart or urlencoded) and describes it.
    "/upload": async (request) => {
      const fd = await request.formData();
      return { contentType: request.headers.get("content-type").split(";")[0], form: await describeForm(fd) };
    },
    // Parses the upload and sends the same form back as a new multipart body.
    "/echo": async (request) => new Response(await request.formData()),
    // A form built in the Worker, with a binary file, for node to parse.
    "/make": () => {
      const fd = new FormData();
      const bytes = new Uint8Array(256).map((_, i) => i);
      fd.append("field", "value \u00e9");
      fd.append("file", new File([bytes], "all-bytes.bin", { type: "application/octet-stream" }));
      fd.append("note", new Blob(["plain"], { type: "text/plain" }), "note.txt");
      return new Response(fd);
    },
    "/blob-response": () => new Response(new Blob(["<h1>hi</h1>"], { type: "text/html;charset=utf-8" })),
    "/blob-response-slice": () => new Response(new Blob(["0123456789"]).slice(-4)),
    // One Blob, kept across requests, sent as several bodies: sending must not consume it.
    "/blob-shared": async () => {
      shared ??= new Blob(["shared bytes"], { type: "text/plain" });
      const viaBody = await new Response(shared).body.getReader().read();
      return new Response(shared, { headers: { "x-size": String(shared.size), "x-body": String(viaBody.value.length) } });
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
    if (out instanceof Response) return out;
    return Response.json(out);
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

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const typeError = (message) => ({ name: "TypeError", message });

// ---- globals ---------------------------------------------------------------------------------

test("Blob, File and FormData are lazy, non-enumerable globals", async () => {
  assert.deepEqual(await json("/globals"), {
    listed: [true, true, true],
    enumerable: [],
    writable: true,
    configurable: true,
    types: ["function", "function", "function"],
    fileIsBlob: true,
  });
});

// ---- Blob and File ---------------------------------------------------------------------------

test("Blob: parts of every kind, reading as text, bytes and ArrayBuffer", async () => {
  const r = await json("/blob/basics");
  // "h\u00e9" (3 bytes) + 2 bytes + 2 bytes + "xyz" + "12"
  assert.equal(r.size, 12);
  assert.equal(r.type, "");
  assert.equal(r.text, "h\u00e9!\"ABxyz12");
  assert.deepEqual(r.bytes, [0x68, 0xc3, 0xa9, 0x21, 0x22, 0x41, 0x42, 0x78, 0x79, 0x7a, 0x31, 0x32]);
  assert.equal(r.bytesIsU8, true);
  assert.equal(r.arrayBuffer, true);
  assert.equal(r.dataView, "AB", "a view contributes only its own bytes");
  assert.deepEqual(r.empty, [0, "", ""]);
  assert.equal(r.surrogate, "a\ufffdb", "lone surrogates encode as U+FFFD");
  assert.equal(r.bom, "A", "text() strips a UTF-8 BOM");
  assert.equal(r.invalidUtf8, "A\ufffdB");
  assert.deepEqual(r.toStringTags, ["[object Blob]", "[object File]"]);
  assert.deepEqual(r.copiedAtConstruction, [1, 2, 3], "a Blob copies its parts and hands out copies");
});

test("Blob: type normalization and line endings", async () => {
  const r = await json("/blob/types");
  assert.deepEqual(r.types, ["text/plain", "text/plain; charset=utf-8", "", "", "", "", " x "]);
  assert.equal(r.endingsNative, 7, "native endings turn CRLF and CR into LF");
  assert.equal(r.endingsTransparent, 4);
});

test("Blob: slice() with negative, reversed, non-finite and string indexes and a content type", async () => {
  const r = await json("/blob/slice");
  assert.deepEqual(r.out, [
    ["0123456789", "", 10],
    ["23456789", "", 8],
    ["789", "", 3],
    ["234567", "", 6],
    ["0123456789", "", 10],
    ["", "", 0],
    ["", "", 0], // NaN and Infinity convert to 0 (WebIDL long long), as in workerd
    ["3456", "", 4],
    ["234", "image/png", 3],
    ["234", "", 3],
  ]);
  assert.equal(r.nested, "3456");
});

test("Blob: stream() gives a byte ReadableStream of the contents", async () => {
  const r = await json("/blob/stream");
  assert.equal(r.isStream, true);
  assert.equal(r.total, 100000);
  assert.equal(r.ok, true);
  assert.deepEqual(r.byob, ["abcd", "ef", true]);
  assert.equal(r.viaResponse, "streamed");
  assert.deepEqual(r.twoStreams, ["again", "again"]);
});

test("Blob and File: argument errors", async () => {
  const r = await json("/blob/errors");
  assert.deepEqual(r.notSequence, typeError("Failed to construct 'Blob': constructor parameter 1 is not of type 'Array'."));
  assert.deepEqual(r.nullParts, typeError("Failed to construct 'Blob': constructor parameter 1 is not of type 'Array'."));
  assert.equal(r.badEndings.name, "TypeError");
  assert.match(r.badEndings.message, /EndingType/);
  assert.equal(r.badOptions.name, "TypeError");
  assert.deepEqual(r.sizeIllegal, typeError("Illegal invocation"));
  assert.deepEqual(r.textIllegal, typeError("Illegal invocation"));
  assert.deepEqual(r.fileOneArg, typeError("Failed to construct 'File': 2 arguments required, but only 1 present."));
  assert.deepEqual(r.fileNameIllegal, typeError("Illegal invocation"));
});

test("File: name, type, lastModified", async () => {
  const r = await json("/file");
  assert.deepEqual(r.f, ["r\u00e9sum\u00e9.txt", "text/x", 3, 1234, "abc"]);
  assert.deepEqual(r.g, ["42", true]);
  assert.equal(r.lastModifiedTruncated, 12, "lastModified is a long long (workerd keeps 12.7)");
  assert.deepEqual(r.fromFile, [3, false, "abc"]);
  assert.equal(r.sliceIsBlob, false, "slice() of a File is a plain Blob");
});

// ---- FormData --------------------------------------------------------------------------------

test("FormData: append, set, get, getAll, has, delete, iteration in order", async () => {
  const r = await json("/fd/api");
  assert.deepEqual(r.initial, [["a", "1"], ["b", "2"], ["a", "3"], ["n", "42"]]);
  assert.equal(r.get, "1");
  assert.deepEqual(r.getAll, ["1", "3"]);
  assert.equal(r.missing, null);
  assert.deepEqual(r.none, []);
  assert.deepEqual(r.has, [true, false]);
  assert.deepEqual(r.afterSet, [["a", "4"], ["b", "2"], ["n", "42"]], "set() replaces the first and removes the rest");
  assert.deepEqual(r.afterSetNew, [["a", "4"], ["b", "2"], ["n", "42"], ["c", "5"]]);
  assert.deepEqual(r.afterDelete, [["a", "4"], ["n", "42"], ["c", "5"]]);
  assert.deepEqual(r.keys, ["a", "n", "c"]);
  assert.deepEqual(r.values, ["4", "42", "5"]);
  assert.deepEqual(r.entries, [["a", "4"], ["n", "42"], ["c", "5"]]);
  assert.deepEqual(r.forEach, [["a", "4", true, "t"], ["n", "42", true, "t"], ["c", "5", true, "t"]]);
  assert.deepEqual(r.live, ["a", "n", "c", "late"]);
  assert.deepEqual(r.iterator, ["[object FormData Iterator]", "function", true]);
  assert.deepEqual(r.surrogates, [["k\ufffd", "v\ufffd"]]);
  assert.deepEqual(r.errors.appendOne, typeError("Failed to execute 'append' on 'FormData': 2 arguments required, but only 1 present."));
  assert.deepEqual(r.errors.getNone, typeError("Failed to execute 'get' on 'FormData': 1 argument required, but only 0 present."));
  assert.deepEqual(r.errors.illegal, typeError("Illegal invocation"));
  assert.equal(r.errors.forEachNotFn.name, "TypeError");
  assert.deepEqual(r.lenient, [["s", "str"]]);
});

test("FormData: Blobs become Files; filenames rename", async () => {
  const r = await json("/fd/files");
  assert.deepEqual(r.blob, [true, "blob", "text/plain", "blob data"]);
  assert.deepEqual(r.named, ["given.txt", "text/plain"]);
  assert.equal(r.sameFile, true, "a File appended without a filename is stored as is");
  assert.deepEqual(r.renamed, [false, "new.txt", "a/b", 5, "file data"]);
  assert.deepEqual(r.setBlob, ["set.bin", 1]);
});

// ---- bodies ----------------------------------------------------------------------------------

test("Request/Response(formData): multipart serialization with a boundary, parsed back", async () => {
  const r = await json("/body/roundtrip");
  assert.equal(r.ct, "multipart/form-data; boundary=…");
  assert.equal(r.boundaryOk, true);
  assert.equal(r.resCt, true);
  const expected = [
    ["text", "h\u00e9llo\r\nworld"],
    ["bin", { file: true, blob: true, name: "bin.dat", type: "application/x-bin", size: 6, sha256: sha256(Buffer.from([0, 255, 13, 10, 45, 45])) }],
    // A file without a type is sent as application/octet-stream.
    ["empty", { file: true, blob: true, name: "empty.txt", type: "application/octet-stream", size: 0, sha256: sha256(Buffer.alloc(0)) }],
    ["text", "second"],
  ];
  assert.deepEqual(r.back, expected);
  assert.deepEqual(r.resBack, expected);
  assert.deepEqual(r.usedAfter, [false, true]);
  assert.equal(r.typeOfParsed, "[object FormData]");
  assert.deepEqual(r.urlParams, [["a", "1"], ["b", "\u{1F600} x"]]);
});

test("bodies of Blobs, and blob() on bodies", async () => {
  const r = await json("/body/blob");
  assert.deepEqual(r.res, ["image/png", "abc"]);
  assert.deepEqual(r.noType, [null, "abc"], "a Blob without a type sets no content-type");
  assert.equal(r.override, "c/d");
  assert.deepEqual(r.req, ["text/x", "xyz"]);
  assert.equal(r.sliced, "345");
  // blob()'s type is the Content-Type header parsed and serialized as a MIME type (workerd too).
  assert.deepEqual(r.blobs, [
    ["", 3, true],
    ["text/plain;charset=UTF-8", 3, true],
    ['text/x;a="q \\" v";b=1', 3, true],
    ["", 3, true],
    ["a/b", 3, true],
  ]);
  assert.equal(r.textBlob, "text/plain;charset=UTF-8");
  assert.deepEqual(r.reqBlob, ["text/plain;charset=UTF-8", "data"]);
  assert.equal(r.bodyOfBlob, "via body");
  assert.equal(r.usedTwice.name, "TypeError");
  assert.match(r.usedTwice.message, /already been used/);
});

test("formData(): malformed bodies and wrong content types are TypeErrors naming the problem", async () => {
  const r = await json("/body/malformed");
  const parse = (detail) => typeError(`Failed to parse body as FormData: ${detail}`);
  assert.deepEqual(r.empty, parse("the body is empty"));
  assert.deepEqual(r.garbage, parse("no boundary found in the body"));
  assert.deepEqual(r.noClose, parse("part 1: the body ends before the closing boundary"));
  assert.deepEqual(r.noName, parse("part 1: Content-Disposition has no name parameter"));
  assert.deepEqual(r.noDisposition, parse("part 1: missing Content-Disposition header"));
  assert.deepEqual(r.notFormData, parse('part 1: Content-Disposition is "attachment", not form-data'));
  assert.deepEqual(r.headersNoBlank, parse("part 1: the headers are not followed by an empty line"));
  assert.deepEqual(r.unterminatedQuote, parse("part 1: Content-Disposition: a quoted string is not terminated"));
  assert.deepEqual(r.noBoundary, parse("Content-Type has no boundary parameter"));
  assert.deepEqual(r.badBoundary, parse("the boundary contains '{', which RFC 2046 does not allow"));
  assert.deepEqual(r.noContentType, typeError("Parsing a Body as FormData requires a Content-Type header."));
  const unrecognized = typeError(
    "Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded",
  );
  assert.deepEqual(r.wrongContentType, unrecognized);
  assert.deepEqual(r.json, unrecognized);
  assert.equal(r.usedAfterFailure, true, "the body is read before it is parsed");
});

test("formData(): what real clients send (LF endings, preamble, quoted boundary, urlencoded)", async () => {
  const r = await json("/body/lenient");
  assert.deepEqual(r.lfOnly, [["a", "hi"]]);
  assert.deepEqual(r.preambleEpilogue, [["a", "hi"]]);
  assert.deepEqual(r.quotedBoundary, [["q", "v"]]);
  // As in workerd: a file part without Content-Type has type "", and an empty filename makes a
  // string entry.
  assert.deepEqual(r.noFileType, [["f", { file: true, blob: true, name: "x.txt", type: "", size: 2, sha256: sha256("hi") }]]);
  assert.deepEqual(r.emptyFilename, [["f", "hi"]]);
  assert.deepEqual(r.utf8Names, [["n\u00e9", { file: true, blob: true, name: "\u00e9t\u00e9.txt", type: "text/plain", size: 2, sha256: sha256("\u00e9") }]]);
  assert.deepEqual(r.emptyForm, []);
  assert.deepEqual(r.urlencoded, [["a", "1"], ["b", " x y"], ["c", ""], ["", "d"], ["e", "\ufffd"]]);
});

// A file whose bytes include every value, CR/LF runs and lines that look like delimiters.
function trickyBytes(size) {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  const fake = Buffer.from("\r\n--not-the-boundary\r\n\r\n--");
  fake.copy(out, Math.floor(size / 3));
  return out;
}

test("a real multipart upload from node's fetch and FormData", async () => {
  const small = trickyBytes(4096);
  const big = trickyBytes(1 << 20);
  const form = new FormData();
  form.append("title", "Quarterly r\u00e9sum\u00e9 \u{1F600}");
  form.append("doc", new Blob([small], { type: "application/pdf" }), "report.pdf");
  form.append("big", new Blob([big]), "big.bin");
  form.append("title", "again");
  form.append("empty", new Blob([]), "empty.txt");
  const r = await json("/upload", { method: "POST", body: form });
  assert.equal(r.contentType, "multipart/form-data");
  assert.deepEqual(r.form, [
    ["title", "Quarterly r\u00e9sum\u00e9 \u{1F600}"],
    ["doc", { file: true, blob: true, name: "report.pdf", type: "application/pdf", size: 4096, sha256: sha256(small) }],
    ["big", { file: true, blob: true, name: "big.bin", type: "application/octet-stream", size: big.length, sha256: sha256(big) }],
    ["title", "again"],
    ["empty", { file: true, blob: true, name: "empty.txt", type: "application/octet-stream", size: 0, sha256: sha256(Buffer.alloc(0)) }],
  ]);
});

test("an upload echoed back as multipart parses in node with the same contents", async () => {
  const bytes = trickyBytes(70000);
  const form = new FormData();
  form.append("a", "1");
  form.append("f", new Blob([bytes], { type: "image/png" }), "pic.png");
  form.append("b", "line\r\nbreak");
  const res = await server.fetch("/echo", { method: "POST", body: form });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^multipart\/form-data; boundary=/);
  const back = await res.formData();
  const entries = [...back];
  assert.deepEqual(entries.map(([k]) => k), ["a", "f", "b"]);
  assert.equal(back.get("a"), "1");
  assert.equal(back.get("b"), "line\r\nbreak");
  const f = back.get("f");
  assert.equal(f.name, "pic.png");
  assert.equal(f.type, "image/png");
  assert.equal(sha256(Buffer.from(await f.arrayBuffer())), sha256(bytes));
});

test("a form built in the Worker parses in node", async () => {
  const res = await server.fetch("/make");
  assert.equal(res.status, 200);
  const fd = await res.formData();
  assert.equal(fd.get("field"), "value \u00e9");
  const file = fd.get("file");
  assert.equal(file.name, "all-bytes.bin");
  assert.deepEqual([...new Uint8Array(await file.arrayBuffer())], Array.from({ length: 256 }, (_, i) => i));
  assert.equal(fd.get("note").name, "note.txt");
  assert.equal(fd.get("note").type, "text/plain");
  assert.equal(await fd.get("note").text(), "plain");
});

test("an urlencoded upload parses with formData()", async () => {
  const r = await json("/upload", { method: "POST", body: new URLSearchParams({ q: "a b&c", emoji: "\u{1F600}", empty: "" }) });
  assert.equal(r.contentType, "application/x-www-form-urlencoded");
  assert.deepEqual(r.form, [["q", "a b&c"], ["emoji", "\u{1F600}"], ["empty", ""]]);
});

test("a malformed upload is a TypeError the Worker sees (uncaught: a 500)", async () => {
  const res = await server.fetch("/upload", {
    method: "POST",
    headers: { "content-type": "multipart/form-data; boundary=xyz" },
    body: "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntruncated",
  });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.match(text, /Failed to parse body as FormData: part 1: the body ends before the closing boundary/);
});

test("Response(blob) on the wire: the blob's type and length", async () => {
  const res = await server.fetch("/blob-response");
  assert.equal(res.headers.get("content-type"), "text/html;charset=utf-8");
  assert.equal(res.headers.get("content-length"), "11");
  assert.equal(await res.text(), "<h1>hi</h1>");
  const sliced = await server.fetch("/blob-response-slice");
  assert.equal(sliced.headers.get("content-type"), null);
  assert.equal(sliced.headers.get("content-length"), "4");
  assert.equal(await sliced.text(), "6789");
});

test("a Blob kept across requests can be sent again and again", async () => {
  for (let i = 0; i < 3; i++) {
    const res = await server.fetch("/blob-shared");
    assert.equal(res.headers.get("x-size"), "12");
    assert.equal(res.headers.get("x-body"), "12");
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(await res.text(), "shared bytes");
  }
});
