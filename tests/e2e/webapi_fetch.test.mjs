// Request, Response and Headers as a Worker sees them, checked over real HTTP against the real
// binary. The Worker's routes compute facts inside the runtime and return them as JSON; the
// tests compare them with what the Fetch Standard and the Workers runtime (workerd) do.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, worker, rawExchange, parseResponses, sleep, SLOW } from "./lib/harness.mjs";

// The Worker's code, written as a function so that it is plain, syntax-checked JavaScript;
// its source text is what the Worker runs.
function routes() {
  // Runs fn and describes what it threw (or null when it did not throw).
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
    return { name: e?.name, message: e?.message, type: e?.constructor?.name, dom: e instanceof DOMException };
  }
  const headersOf = (h) => [...h];
  const U = "https://example.com/path?q=1";

  return {
    // ---- Request ------------------------------------------------------------------------
    "/req/construct": async () => {
      const r = new Request(U);
      const noInit = { url: r.url, method: r.method, body: r.body, bodyUsed: r.bodyUsed, redirect: r.redirect, headers: headersOf(r.headers) };
      const base = new Request("https://example.com/base", {
        method: "POST",
        headers: { "X-A": "1", "Content-Type": "text/custom" },
        body: "original body",
      });
      const over = new Request(base, { method: "PUT", headers: { "X-B": "2" }, body: "new body" });
      const overridden = {
        url: over.url,
        method: over.method,
        headers: headersOf(over.headers),
        text: await over.text(),
        baseUsed: base.bodyUsed,
      };
      const copied = new Request(base);
      const copy = {
        url: copied.url,
        method: copied.method,
        headers: headersOf(copied.headers),
        text: await copied.text(),
        baseUsedAfter: base.bodyUsed,
      };
      const withUrlObject = new Request(new URL("https://example.org/x?y=z")).url;
      return { noInit, overridden, copy, withUrlObject };
    },
    "/req/methods": () => {
      const m = (method) => new Request(U, { method }).method;
      return {
        get: m("get"),
        post: m("post"),
        put: m("Put"),
        del: m("delete"),
        head: m("head"),
        options: m("options"),
        patch: m("patch"),
        PATCH: m("PATCH"),
        custom: m("PropFind"),
      };
    },
    "/req/errors": () => ({
      badMethod: caught(() => new Request(U, { method: "bad method" })),
      emptyMethod: caught(() => new Request(U, { method: "" })),
      badUrl: caught(() => new Request("not a url")),
      relativeUrl: caught(() => new Request("/relative/path")),
      noArgs: caught(() => new Request()),
      getWithBody: caught(() => new Request(U, { method: "GET", body: "x" })),
      headWithBody: caught(() => new Request(U, { method: "HEAD", body: "x" })),
      defaultGetWithBody: caught(() => new Request(U, { body: "x" })),
      getWithNullBody: caught(() => new Request(U, { method: "GET", body: null })),
    }),
    "/req/from-request-errors": async () => {
      const post = () => new Request(U, { method: "POST", body: "has a body" });
      const used = post();
      await used.text();
      return {
        toGet: caught(() => new Request(post(), { method: "GET" })),
        toHead: caught(() => new Request(post(), { method: "HEAD" })),
        toGetNullBody: caught(() => new Request(post(), { method: "GET", body: null })),
        fromUsed: caught(() => new Request(used)),
        fromUsedNewBody: caught(() => new Request(used, { body: "replacement" })),
      };
    },
    "/req/raw-url": (request) => {
      const u = new URL(request.url);
      return { pathname: u.pathname, search: u.search, searchParam: u.searchParams.get("q") };
    },
    "/req/clone": async () => {
      const a = new Request(U, { method: "POST", headers: { "x-a": "1" }, body: "cloned body" });
      const b = a.clone();
      b.headers.set("x-a", "changed");
      b.headers.set("x-b", "only in clone");
      const result = {
        cloneIsRequest: b instanceof Request,
        method: b.method,
        url: b.url,
        aText: await a.text(),
        bText: await b.text(),
        aHeaders: headersOf(a.headers),
        bHeaders: headersOf(b.headers),
      };
      result.cloneUsed = caught(() => a.clone());
      return result;
    },
    "/req/read-once": async () => {
      const out = {};
      for (const kind of ["text", "json", "arrayBuffer", "bytes"]) {
        const r = new Request(U, { method: "POST", body: '{"k":[1,2]}' });
        const before = r.bodyUsed;
        const value = await r[kind]();
        const after = r.bodyUsed;
        const shape =
          kind === "arrayBuffer" ? [value instanceof ArrayBuffer, value.byteLength, new TextDecoder().decode(value)]
          : kind === "bytes" ? [value instanceof Uint8Array, value.byteLength, new TextDecoder().decode(value)]
          : value;
        const again = await caughtAsync(() => r.text());
        const againKind = await caughtAsync(() => r[kind]());
        out[kind] = { before, after, value: shape, again, againKind };
      }
      const badJson = new Request(U, { method: "POST", body: "{not json" });
      out.badJson = await caughtAsync(() => badJson.json());
      const empty = new Request(U, { method: "POST" });
      out.emptyText = await empty.text();
      out.emptyBody = empty.body;
      return out;
    },
    "/req/incoming": async (request) => {
      const body = await request.text();
      const h = request.headers;
      return {
        url: request.url,
        method: request.method,
        body,
        bodyUsed: request.bodyUsed,
        custom: h.get("x-custom"),
        customUpper: h.get("X-CUSTOM"),
        cfType: typeof request.cf,
        cfNull: request.cf === null,
        isRequest: request instanceof Request,
        set: caught(() => h.set("x-new", "1")),
        append: caught(() => h.append("x-new", "1")),
        del: caught(() => h.delete("x-custom")),
        stillThere: h.get("x-custom"),
        again: await caughtAsync(() => request.text()),
      };
    },
    "/req/incoming-clone": async (request) => {
      const c = request.clone();
      c.headers.set("x-added", "yes"); // a clone's headers are its own, and mutable
      return { original: await request.text(), clone: await c.text(), added: c.headers.get("x-added"), originalAdded: request.headers.get("x-added") };
    },
    "/req/incoming-json": async (request) => {
      const data = await request.json();
      return { got: data, type: Array.isArray(data) ? "array" : typeof data };
    },
    "/req/incoming-bytes": async (request) => {
      const bytes = await request.bytes();
      return { length: bytes.length, first: bytes[0], last: bytes[bytes.length - 1], sum: bytes.reduce((a, b) => a + b, 0) };
    },

    // ---- Response -----------------------------------------------------------------------
    "/res/body": (request) => {
      const kind = new URL(request.url).searchParams.get("kind");
      switch (kind) {
        case "string":
          return new Response("héllo");
        case "arraybuffer":
          return new Response(new TextEncoder().encode("array buffer").buffer);
        case "uint8array":
          return new Response(new Uint8Array([104, 105, 0, 255]));
        case "dataview":
          return new Response(new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3));
        case "usp":
          return new Response(new URLSearchParams({ a: "1", b: "x y&z" }));
        case "null":
          return new Response(null);
        case "none":
          return new Response();
        case "explicit-type":
          return new Response("<p>hi</p>", { headers: { "content-type": "text/html; charset=utf-8" } });
        default:
          return new Response("unknown kind", { status: 400 });
      }
    },
    "/res/construct": () => {
      const types = {};
      for (const [k, body] of Object.entries({
        string: "s",
        arraybuffer: new ArrayBuffer(2),
        uint8array: new Uint8Array(2),
        usp: new URLSearchParams("a=1"),
        null: null,
      })) {
        types[k] = new Response(body).headers.get("content-type");
      }
      const r = new Response("x", { status: 201, statusText: "Made It", headers: { "X-One": "1" } });
      return {
        types,
        defaults: (() => {
          const d = new Response();
          return { status: d.status, statusText: d.statusText, ok: d.ok, body: d.body, type: d.type, redirected: d.redirected };
        })(),
        status: r.status,
        statusText: r.statusText,
        ok: r.ok,
        header: r.headers.get("x-one"),
        notOk: new Response("x", { status: 404 }).ok,
        range: {
          s199: caught(() => new Response("x", { status: 199 })),
          s600: caught(() => new Response("x", { status: 600 })),
          s0: caught(() => new Response(null, { status: 0 })),
          s200: caught(() => new Response("x", { status: 200 })),
          s599: caught(() => new Response("x", { status: 599 })),
        },
        nullBody: {
          s204: caught(() => new Response("x", { status: 204 })),
          s205: caught(() => new Response("x", { status: 205 })),
          s304: caught(() => new Response("x", { status: 304 })),
          s204null: caught(() => new Response(null, { status: 204 })),
        },
        badStatusText: caught(() => new Response("x", { statusText: "bad\ntext" })),
        // WebIDL `unsigned short status`: a fractional number is truncated, a numeric string converted.
        fractional: (() => {
          try {
            return new Response("x", { status: 200.5 }).status;
          } catch (e) {
            return e.name + ": " + e.message;
          }
        })(),
        numericString: new Response("x", { status: "201" }).status,
      };
    },
    "/res/json": () => Response.json({ a: 1, list: [true, null, "s"] }),
    "/res/json-init": () => Response.json({ b: 2 }, { status: 201, headers: { "X-Extra": "yes" } }),
    "/res/json-type": () => Response.json([1], { headers: { "Content-Type": "application/vnd.api+json" } }),
    "/res/json-info": async () => {
      const r = Response.json({ x: "y" });
      return {
        type: r.headers.get("content-type"),
        text: await r.text(),
        unserializable: caught(() => Response.json(undefined)),
        cyclic: caught(() => {
          const o = {};
          o.o = o;
          Response.json(o);
        }),
      };
    },
    "/res/redirect": (request) => {
      const p = new URL(request.url).searchParams;
      const status = p.get("status");
      return status === null ? Response.redirect(p.get("to")) : Response.redirect(p.get("to"), Number(status));
    },
    "/res/redirect-errors": () => {
      const r = Response.redirect("https://example.com/a b", 307);
      return {
        location: r.headers.get("location"),
        status: r.status,
        immutable: caught(() => r.headers.set("x", "y")),
        s200: caught(() => Response.redirect("https://example.com/", 200)),
        s304: caught(() => Response.redirect("https://example.com/", 304)),
        relative: caught(() => Response.redirect("/relative")),
        garbage: caught(() => Response.redirect("http://[bad")),
      };
    },
    "/res/error": () => Response.error(),
    "/res/error-info": () => {
      const e = Response.error();
      return { type: e.type, status: e.status, ok: e.ok, immutable: caught(() => e.headers.set("a", "b")) };
    },
    "/res/clone": async () => {
      const r = new Response("clone me", { status: 202, statusText: "Accepted-ish", headers: { "x-a": "1" } });
      const c = r.clone();
      const original = await r.text();
      const afterRead = caught(() => r.clone());
      c.headers.set("x-from-clone", "yes");
      return new Response(JSON.stringify({ original, afterRead, cloneUsed: c.bodyUsed, cloneStatus: c.status, originalHasCloneHeader: r.headers.has("x-from-clone") }), {
        headers: c.headers,
        status: c.status,
      });
    },
    "/res/clone-sent": () => {
      const r = new Response("sent clone", { status: 203, headers: { "x-c": "3" } });
      return r.clone();
    },
    "/res/read-once": async () => {
      const r = new Response("once");
      const first = await r.text();
      return { first, used: r.bodyUsed, again: await caughtAsync(() => r.arrayBuffer()) };
    },
    "/res/send-used": async () => {
      const r = new Response("already read");
      await r.text();
      return r;
    },
    "/res/not-response": () => "a string, not a Response",
    "/res/not-response-object": async () => ({ status: 200, body: "plain object" }),
    "/res/undefined": () => undefined,
    "/res/cookies": () => {
      const h = new Headers();
      h.append("Set-Cookie", "a=1; Path=/");
      h.append("Set-Cookie", "b=2; HttpOnly");
      h.append("set-cookie", "c=3, with comma; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
      return new Response("cookies", { headers: h });
    },
    "/res/teapot": () => new Response("short and stout", { status: 418, statusText: "I'm a teapot" }),
    "/res/status": (request) => {
      const p = new URL(request.url).searchParams;
      const init = { status: Number(p.get("code")) };
      if (p.has("text")) init.statusText = p.get("text");
      return new Response("status " + p.get("code"), init);
    },
    "/res/headers": () => {
      const r = new Response("with headers", { headers: { "X-Custom": "custom value", "Cache-Control": "no-store" } });
      r.headers.append("X-Multi", "one");
      r.headers.append("X-Multi", "two");
      r.headers.set("X-Late", "set after construction");
      return r;
    },
    "/res/bytes-body": () => {
      const bytes = new Uint8Array(256);
      for (let i = 0; i < 256; i++) bytes[i] = i;
      return new Response(bytes);
    },

    // ---- Headers ------------------------------------------------------------------------
    "/headers/basic": () => {
      const h = new Headers({ "Content-Type": "text/plain", "X-Mixed-Case": "v" });
      const out = {};
      out.getLower = h.get("content-type");
      out.getUpper = h.get("CONTENT-TYPE");
      out.hasMixed = h.has("x-MIXED-case");
      out.missing = h.get("nope");
      out.hasMissing = h.has("nope");
      h.append("Accept", "text/html");
      h.append("accept", "application/json");
      out.combined = h.get("ACCEPT");
      h.set("accept", "*/*");
      out.afterSet = h.get("accept");
      h.delete("X-MIXED-CASE");
      out.afterDelete = h.has("x-mixed-case");
      h.set("x-trim", "  \t padded value \t ");
      out.trimmed = h.get("x-trim");
      h.set("x-empty", "");
      out.empty = h.get("x-empty");
      out.hasEmpty = h.has("x-empty");
      return out;
    },
    "/headers/order": () => {
      const h = new Headers([["Zeta", "z"], ["alpha", "a"], ["Beta", "b1"], ["beta", "b2"], ["set-cookie", "s1"], ["Set-Cookie", "s2"], ["Content-Type", "c"]]);
      const forEach = [];
      h.forEach((value, name, obj) => forEach.push([name, value, obj === h]));
      return {
        entries: [...h.entries()],
        keys: [...h.keys()],
        values: [...h.values()],
        spread: [...h],
        forEach,
        getSetCookie: h.getSetCookie(),
        getCookie: h.get("set-cookie"),
        noCookies: new Headers({ a: "b" }).getSetCookie(),
      };
    },
    "/headers/init": () => {
      const src = new Headers({ a: "1" });
      src.append("a", "2");
      const fromHeaders = new Headers(src);
      src.set("a", "changed");
      return {
        fromObject: [...new Headers({ B: "2", a: "1" })],
        fromPairs: [...new Headers([["x", "1"], ["X", "2"]])],
        fromHeaders: [...fromHeaders],
        fromMap: [...new Headers(new Map([["m", "v"]]))],
        badPair: caught(() => new Headers([["only-name"]])),
        badInit: caught(() => new Headers("string")),
      };
    },
    "/headers/no-forbidden-names": () => {
      // Workers has no "forbidden header names": a Worker proxies Cookie, Host, etc.
      const q = new Request(U, { headers: { Host: "h.example", Cookie: "a=1", Origin: "o", "Content-Length": "5" } });
      q.headers.set("Set-Cookie", "s=1");
      const r = new Response("x");
      r.headers.set("Set-Cookie", "t=2");
      return { request: headersOf(q.headers), response: r.headers.get("set-cookie") };
    },
    "/body/usvstring": async () => ({
      response: await new Response("a\ud800b\udc00").text(),
      request: await new Request(U, { method: "POST", body: "\udfffz" }).text(),
    }),
    "/body/usvstring-wire": () => new Response("a\ud800b\udc00"),
    "/headers/invalid": () => {
      const h = new Headers();
      return {
        spaceName: caught(() => h.set("bad name", "v")),
        colonName: caught(() => h.append("bad:name", "v")),
        emptyName: caught(() => h.set("", "v")),
        newlineValue: caught(() => h.set("x", "a\nb")),
        crValue: caught(() => h.set("x", "a\rb")),
        nulValue: caught(() => h.set("x", "a\0b")),
        nonLatin1Value: caught(() => h.set("x", "snow☃man")),
        nonLatin1Name: caught(() => h.get("nämé☃")),
        getBad: caught(() => h.get("bad name")),
        hasBad: caught(() => h.has("bad name")),
        deleteBad: caught(() => h.delete("bad name")),
        ctorBad: caught(() => new Headers({ "bad name": "v" })),
        stillEmpty: [...h],
        latin1Ok: caught(() => h.set("x-latin", "caf\u00e9")),
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
    if (out instanceof Response || pathname.startsWith("/res/not-response") || pathname === "/res/undefined") return out;
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

// Waits until server[stream] ("stdout" or "stderr"), from offset `from` on, matches re.
async function waitIn(stream, re, from = 0, timeout = 10000 * SLOW) {
  const end = Date.now() + timeout;
  while (!re.test(server[stream].slice(from))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${re} on ${stream}\n--- ${stream} ---\n${server[stream].slice(from)}`);
    if (server.child.exitCode !== null) throw new Error(`hearth exited while waiting for ${re}\n${server.output}`);
    await sleep(10);
  }
}

async function json(path, init) {
  const res = await server.fetch(path, init);
  const text = await res.text();
  assert.equal(res.status, 200, `${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

// A thrown error as the Worker described it.
const typeError = (message) => ({ name: "TypeError", type: "TypeError", dom: false, ...(message ? { message } : {}) });
function assertThrew(actual, expected, what) {
  assert.ok(actual, `${what}: expected a ${expected.name}, nothing was thrown`);
  for (const [k, v] of Object.entries(expected)) {
    if (v instanceof RegExp) assert.match(actual[k], v, `${what}: ${k}`);
    else assert.equal(actual[k], v, `${what}: ${k} (got ${JSON.stringify(actual)})`);
  }
}

// ---- Request ------------------------------------------------------------------------------

test("Request: constructed from a URL string", async () => {
  const { noInit, withUrlObject } = await json("/req/construct");
  assert.deepEqual(noInit, {
    url: "https://example.com/path?q=1",
    method: "GET",
    body: null,
    bodyUsed: false,
    redirect: "follow",
    headers: [],
  });
  assert.equal(withUrlObject, "https://example.org/x?y=z");
});

test("Request: constructed from a Request, init overriding method, headers and body", async () => {
  const { overridden, copy } = await json("/req/construct");
  assert.equal(overridden.url, "https://example.com/base");
  assert.equal(overridden.method, "PUT");
  // init.headers replaces the source's headers; the new body implies its content type.
  assert.deepEqual(overridden.headers, [["content-type", "text/plain;charset=UTF-8"], ["x-b", "2"]]);
  assert.equal(overridden.text, "new body");
  assert.equal(overridden.baseUsed, false, "a body given in init leaves the source's body alone");
  // Without init, everything is copied and the body moves to the new request.
  assert.equal(copy.url, "https://example.com/base");
  assert.equal(copy.method, "POST");
  assert.deepEqual(copy.headers, [["content-type", "text/custom"], ["x-a", "1"]]);
  assert.equal(copy.text, "original body");
  assert.equal(copy.baseUsedAfter, true, "the source's body was taken (Fetch: input becomes disturbed)");
});

test("Request: method normalisation", async () => {
  assert.deepEqual(await json("/req/methods"), {
    get: "GET",
    post: "POST",
    put: "PUT",
    del: "DELETE",
    head: "HEAD",
    options: "OPTIONS",
    patch: "patch", // the Fetch Standard normalises only DELETE, GET, HEAD, OPTIONS, POST, PUT
    PATCH: "PATCH",
    custom: "PropFind",
  });
});

test("Request: invalid method, invalid URL, and GET/HEAD with a body throw TypeError", async () => {
  const e = await json("/req/errors");
  assertThrew(e.badMethod, typeError(), "method 'bad method'");
  assertThrew(e.emptyMethod, typeError(), "empty method");
  assertThrew(e.badUrl, { ...typeError(), message: /not a url/ }, "URL 'not a url'");
  assertThrew(e.relativeUrl, typeError(), "relative URL (no base in a Worker)");
  assertThrew(e.noArgs, typeError(), "new Request()");
  assertThrew(e.getWithBody, typeError(), "GET with body");
  assertThrew(e.headWithBody, typeError(), "HEAD with body");
  assertThrew(e.defaultGetWithBody, typeError(), "default method (GET) with body");
  assert.equal(e.getWithNullBody, null, "a null body is no body");
});

test("Request: from a Request with a body, GET/HEAD or a used body is a TypeError", async () => {
  const r = await json("/req/from-request-errors");
  // Fetch: "If either init[body] exists and is non-null or inputBody is non-null, and request's
  // method is GET or HEAD, then throw a TypeError."
  assertThrew(r.toGet, typeError(), "new Request(postWithBody, { method: 'GET' })");
  assertThrew(r.toHead, typeError(), "new Request(postWithBody, { method: 'HEAD' })");
  assertThrew(r.toGetNullBody, typeError(), "new Request(postWithBody, { method: 'GET', body: null })");
  assertThrew(r.fromUsed, typeError(), "new Request(usedRequest)");
  assert.equal(r.fromUsedNewBody, null, "a used request is fine when init gives a new body");
});

test("Request: duplicate incoming headers are combined with ', '", async () => {
  const req = "GET /req/incoming HTTP/1.1\r\nHost: localhost\r\nX-Custom: one\r\nX-Custom: two\r\nConnection: close\r\n\r\n";
  const [res] = parseResponses((await rawExchange(server.port, req)).data);
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).custom, "one, two");
});

test("Request: a request target with raw UTF-8 bytes parses to the percent-encoded URL", async () => {
  // curl, for one, sends non-ASCII URLs as raw UTF-8 bytes.
  const raw = Buffer.concat([Buffer.from("GET /req/raw-url?q="), Buffer.from("é€"), Buffer.from(" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")]);
  const [res] = parseResponses((await rawExchange(server.port, raw)).data);
  assert.equal(res.status, 200);
  const body = JSON.parse(Buffer.from(res.body, "latin1").toString("utf8"));
  assert.deepEqual(body, { pathname: "/req/raw-url", search: "?q=%C3%A9%E2%82%AC", searchParam: "é€" });
});

test("Request: clone() copies method, URL, headers and body; the copies are independent", async () => {
  const c = await json("/req/clone");
  assert.equal(c.cloneIsRequest, true);
  assert.equal(c.method, "POST");
  assert.equal(c.url, "https://example.com/path?q=1");
  assert.equal(c.aText, "cloned body");
  assert.equal(c.bText, "cloned body");
  assert.deepEqual(c.aHeaders, [["content-type", "text/plain;charset=UTF-8"], ["x-a", "1"]]);
  assert.deepEqual(c.bHeaders, [["content-type", "text/plain;charset=UTF-8"], ["x-a", "changed"], ["x-b", "only in clone"]]);
  assertThrew(c.cloneUsed, typeError(), "clone() of a used request");
});

test("Request: a body is read once; then 'Body has already been used' (TypeError)", async () => {
  const r = await json("/req/read-once");
  assert.deepEqual(r.text.value, '{"k":[1,2]}');
  assert.deepEqual(r.json.value, { k: [1, 2] });
  assert.deepEqual(r.arrayBuffer.value, [true, 11, '{"k":[1,2]}']);
  assert.deepEqual(r.bytes.value, [true, 11, '{"k":[1,2]}']);
  for (const kind of ["text", "json", "arrayBuffer", "bytes"]) {
    assert.equal(r[kind].before, false, `${kind}: bodyUsed before reading`);
    assert.equal(r[kind].after, true, `${kind}: bodyUsed after reading`);
    assertThrew(r[kind].again, { ...typeError(), message: /Body has already been used/ }, `text() after ${kind}()`);
    assertThrew(r[kind].againKind, { ...typeError(), message: /Body has already been used/ }, `${kind}() twice`);
  }
  assertThrew(r.badJson, { name: "SyntaxError" }, "json() of invalid JSON");
  assert.equal(r.emptyText, "");
  assert.equal(r.emptyBody, null);
});

test("Request: the incoming request has an absolute URL with the query", async () => {
  const r = await json("/req/incoming?a=1&b=two%20words&c", { headers: { "X-Custom": "Hello" } });
  assert.equal(r.url, `${server.url}/req/incoming?a=1&b=two%20words&c`);
  assert.equal(r.method, "GET");
  assert.equal(r.body, "");
  assert.equal(r.custom, "Hello");
  assert.equal(r.customUpper, "Hello");
  assert.equal(r.isRequest, true);
});

test("Request: request.method and body for POST, PUT, DELETE and PATCH", async () => {
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const r = await json("/req/incoming", { method, body: `payload for ${method} ✓` });
    assert.equal(r.method, method);
    assert.equal(r.body, `payload for ${method} ✓`);
    assert.equal(r.bodyUsed, true);
    assertThrew(r.again, { ...typeError(), message: /Body has already been used/ }, `${method}: second read`);
  }
});

test("Request: incoming headers are immutable", async () => {
  const r = await json("/req/incoming", { headers: { "x-custom": "kept" } });
  const immutable = { ...typeError(), message: "Can't modify immutable headers." };
  assertThrew(r.set, immutable, "set");
  assertThrew(r.append, immutable, "append");
  assertThrew(r.del, immutable, "delete");
  assert.equal(r.stillThere, "kept");
});

test("Request: request.cf is an object", async () => {
  const r = await json("/req/incoming");
  assert.equal(r.cfType, "object");
  assert.equal(r.cfNull, false);
});

test("Request: an incoming request can be cloned and both bodies read", async () => {
  const r = await json("/req/incoming-clone", { method: "POST", body: "twice" });
  assert.deepEqual(r, { original: "twice", clone: "twice", added: "yes", originalAdded: null });
});

test("Request: incoming bodies as JSON and as bytes", async () => {
  const j = await json("/req/incoming-json", { method: "POST", body: JSON.stringify([{ n: 1 }, "ü"]), headers: { "content-type": "application/json" } });
  assert.deepEqual(j, { got: [{ n: 1 }, "ü"], type: "array" });
  const bytes = new Uint8Array(1000).map((_, i) => i % 256);
  const b = await json("/req/incoming-bytes", { method: "PUT", body: bytes });
  assert.deepEqual(b, { length: 1000, first: 0, last: 999 % 256, sum: bytes.reduce((a, x) => a + x, 0) });
});

// ---- Response -----------------------------------------------------------------------------

test("Response: each body kind reaches the client with the content type it implies", async () => {
  const cases = {
    string: ["text/plain;charset=UTF-8", Buffer.from("héllo")],
    arraybuffer: [null, Buffer.from("array buffer")],
    uint8array: [null, Buffer.from([104, 105, 0, 255])],
    dataview: [null, Buffer.from([2, 3, 4])],
    usp: ["application/x-www-form-urlencoded;charset=UTF-8", Buffer.from("a=1&b=x+y%26z")],
    null: [null, Buffer.alloc(0)],
    none: [null, Buffer.alloc(0)],
    "explicit-type": ["text/html; charset=utf-8", Buffer.from("<p>hi</p>")],
  };
  for (const [kind, [type, bytes]] of Object.entries(cases)) {
    const res = await server.fetch(`/res/body?kind=${kind}`);
    assert.equal(res.status, 200, kind);
    assert.equal(res.headers.get("content-type"), type, `${kind}: content-type`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes, `${kind}: body`);
    assert.equal(res.headers.get("content-length"), String(bytes.length), `${kind}: content-length`);
  }
});

test("Response: constructor defaults, status, statusText, ok and implied content types", async () => {
  const r = await json("/res/construct");
  assert.deepEqual(r.types, {
    string: "text/plain;charset=UTF-8",
    arraybuffer: null,
    uint8array: null,
    usp: "application/x-www-form-urlencoded;charset=UTF-8",
    null: null,
  });
  assert.deepEqual(r.defaults, { status: 200, statusText: "", ok: true, body: null, type: "default", redirected: false });
  assert.equal(r.status, 201);
  assert.equal(r.statusText, "Made It");
  assert.equal(r.ok, true);
  assert.equal(r.header, "1");
  assert.equal(r.notOk, false);
});

test("Response: a status outside 200-599 is a RangeError", async () => {
  const { range } = await json("/res/construct");
  for (const k of ["s199", "s600", "s0"]) assertThrew(range[k], { name: "RangeError", type: "RangeError" }, k);
  assert.equal(range.s200, null);
  assert.equal(range.s599, null);
});

test("Response: status is converted as a WebIDL unsigned short", async () => {
  const r = await json("/res/construct");
  assert.equal(r.numericString, 201);
  assert.equal(r.fractional, 200);
});

test("Response: a body with a null-body status (204, 205, 304) is a TypeError", async () => {
  const { nullBody, badStatusText } = await json("/res/construct");
  for (const k of ["s204", "s205", "s304"]) assertThrew(nullBody[k], typeError(), k);
  assert.equal(nullBody.s204null, null);
  assertThrew(badStatusText, typeError(), "statusText with a newline");
});

test("Response.json: application/json, custom status and headers", async () => {
  let res = await server.fetch("/res/json");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(await res.json(), { a: 1, list: [true, null, "s"] });

  res = await server.fetch("/res/json-init");
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-extra"), "yes");
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(await res.json(), { b: 2 });

  res = await server.fetch("/res/json-type");
  assert.equal(res.headers.get("content-type"), "application/vnd.api+json", "a given content-type wins");
  assert.deepEqual(await res.json(), [1]);

  const info = await json("/res/json-info");
  assert.equal(info.type, "application/json");
  assert.equal(info.text, '{"x":"y"}');
  assertThrew(info.unserializable, typeError(), "Response.json(undefined)");
  assertThrew(info.cyclic, typeError(), "Response.json(cyclic)");
});

test("Response.redirect: Location header and 301/302/307/308", async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    const res = await server.fetch(`/res/redirect?status=${status}&to=${encodeURIComponent("https://example.com/target?x=1")}`, { redirect: "manual" });
    assert.equal(res.status, status);
    assert.equal(res.headers.get("location"), "https://example.com/target?x=1");
    assert.equal((await res.arrayBuffer()).byteLength, 0);
  }
  const res = await server.fetch(`/res/redirect?to=${encodeURIComponent("https://example.com/default")}`, { redirect: "manual" });
  assert.equal(res.status, 302, "the default status is 302");
  assert.equal(res.headers.get("location"), "https://example.com/default");
});

test("Response.redirect: bad status is a RangeError, a relative URL a TypeError", async () => {
  const r = await json("/res/redirect-errors");
  assert.equal(r.location, "https://example.com/a%20b", "the Location is the parsed, serialized URL");
  assert.equal(r.status, 307);
  assertThrew(r.immutable, typeError(), "redirect headers are immutable");
  assertThrew(r.s200, { name: "RangeError", type: "RangeError" }, "status 200");
  assertThrew(r.s304, { name: "RangeError", type: "RangeError" }, "status 304");
  assertThrew(r.relative, typeError(), "relative URL");
  assertThrew(r.garbage, typeError(), "unparsable URL");
});

test("Response.error(): an error response; returned from fetch it becomes a 500", async () => {
  const info = await json("/res/error-info");
  assert.equal(info.type, "error");
  assert.equal(info.status, 0);
  assert.equal(info.ok, false);
  assertThrew(info.immutable, typeError(), "Response.error() headers are immutable");
  const from = server.stderr.length;
  const res = await server.fetch("/res/error");
  assert.equal(res.status, 500);
  await res.arrayBuffer();
  await waitIn("stderr", /Response\.error\(\)/, from);
});

test("Response: clone() copies status, headers and body; both can be read", async () => {
  const res = await server.fetch("/res/clone");
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("x-a"), "1");
  assert.equal(res.headers.get("x-from-clone"), "yes");
  const body = await res.json();
  assert.equal(body.original, "clone me");
  assert.equal(body.cloneUsed, false);
  assert.equal(body.cloneStatus, 202);
  assert.equal(body.originalHasCloneHeader, false);
  assertThrew(body.afterRead, typeError(), "clone() after the body was read");

  const sent = await server.fetch("/res/clone-sent");
  assert.equal(sent.status, 203);
  assert.equal(sent.headers.get("x-c"), "3");
  assert.equal(sent.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert.equal(await sent.text(), "sent clone");
});

test("Response: a body is read once", async () => {
  const r = await json("/res/read-once");
  assert.equal(r.first, "once");
  assert.equal(r.used, true);
  assertThrew(r.again, { ...typeError(), message: /Body has already been used/ }, "second read");
});

test("Response: returning a Response whose body was already read is a 500", async () => {
  const from = server.stderr.length;
  const res = await server.fetch("/res/send-used");
  assert.equal(res.status, 500);
  await res.arrayBuffer();
  await waitIn("stderr", /Body has already been used/, from);
});

test("Response: returning something that is not a Response is the Worker's uncaught error (500)", async () => {
  for (const path of ["/res/not-response", "/res/not-response-object", "/res/undefined"]) {
    const from = server.stderr.length;
    const res = await server.fetch(path);
    assert.equal(res.status, 500, path);
    const body = await res.text();
    assert.match(body, /Worker threw exception/, path);
    await waitIn("stderr", /Incorrect type for Promise: the Promise did not resolve to 'Response'/, from);
  }
});

test("Response: several Set-Cookie headers reach the client as separate header lines", async () => {
  const { data } = await rawExchange(server.port, "GET /res/cookies HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  const head = data.split("\r\n\r\n")[0];
  const cookies = head.split("\r\n").filter((l) => /^set-cookie:/i.test(l)).map((l) => l.slice(l.indexOf(":") + 1).trim());
  assert.deepEqual(cookies, ["a=1; Path=/", "b=2; HttpOnly", "c=3, with comma; Expires=Wed, 21 Oct 2015 07:28:00 GMT"]);
  // And fetch() in Node sees them the same way.
  const res = await server.fetch("/res/cookies");
  assert.deepEqual(res.headers.getSetCookie(), cookies);
});

test("Response: a custom status code and statusText reach the client", async () => {
  const { data } = await rawExchange(server.port, "GET /res/teapot HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  const [res] = parseResponses(data);
  assert.equal(res.status, 418);
  assert.equal(res.raw, "HTTP/1.1 418 I'm a teapot");
  assert.equal(res.body, "short and stout");
});

test("Response: statusText given by the Worker is the reason phrase on the wire", async () => {
  const { data } = await rawExchange(server.port, "GET /res/status?code=299&text=Custom%20Reason HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  const [res] = parseResponses(data);
  assert.equal(res.raw, "HTTP/1.1 299 Custom Reason");
});

test("Response: unusual status codes without statusText get through", async () => {
  for (const code of [201, 226, 299, 404, 451, 503, 599]) {
    const res = await server.fetch(`/res/status?code=${code}`);
    assert.equal(res.status, code);
    assert.equal(await res.text(), `status ${code}`);
  }
});

test("Response: headers set by the Worker reach the client", async () => {
  const res = await server.fetch("/res/headers");
  assert.equal(res.headers.get("x-custom"), "custom value");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-multi"), "one, two");
  assert.equal(res.headers.get("x-late"), "set after construction");
  assert.equal(res.headers.get("content-type"), "text/plain;charset=UTF-8");
  assert.equal(await res.text(), "with headers");
});

test("Response: binary bodies arrive byte for byte", async () => {
  const res = await server.fetch("/res/bytes-body");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(bytes.length, 256);
  bytes.forEach((b, i) => assert.equal(b, i));
});

// ---- Headers ------------------------------------------------------------------------------

test("Headers: case-insensitive get/has/set/append/delete; values combined with ', '", async () => {
  assert.deepEqual(await json("/headers/basic"), {
    getLower: "text/plain",
    getUpper: "text/plain",
    hasMixed: true,
    missing: null,
    hasMissing: false,
    combined: "text/html, application/json",
    afterSet: "*/*",
    afterDelete: false,
    trimmed: "padded value",
    empty: "",
    hasEmpty: true,
  });
});

test("Headers: iteration is sorted by lowercase name; Set-Cookie values stay separate", async () => {
  const r = await json("/headers/order");
  const expected = [
    ["alpha", "a"],
    ["beta", "b1, b2"],
    ["content-type", "c"],
    ["set-cookie", "s1"],
    ["set-cookie", "s2"],
    ["zeta", "z"],
  ];
  assert.deepEqual(r.entries, expected);
  assert.deepEqual(r.spread, expected);
  assert.deepEqual(r.keys, expected.map((e) => e[0]));
  assert.deepEqual(r.values, expected.map((e) => e[1]));
  assert.deepEqual(r.forEach, expected.map((e) => [...e, true]));
  assert.deepEqual(r.getSetCookie, ["s1", "s2"]);
  assert.equal(r.getCookie, "s1, s2");
  assert.deepEqual(r.noCookies, []);
});

test("Headers: constructed from an object, pairs, another Headers and a Map", async () => {
  const r = await json("/headers/init");
  assert.deepEqual(r.fromObject, [["a", "1"], ["b", "2"]]);
  assert.deepEqual(r.fromPairs, [["x", "1, 2"]]);
  assert.deepEqual(r.fromHeaders, [["a", "1, 2"]], "a copy, not a live view");
  assert.deepEqual(r.fromMap, [["m", "v"]]);
  assertThrew(r.badPair, typeError(), "a pair with one item");
  assertThrew(r.badInit, typeError(), "a string init");
});

test("Headers: no forbidden header names (Cookie, Host, Set-Cookie can be set)", async () => {
  assert.deepEqual(await json("/headers/no-forbidden-names"), {
    request: [["content-length", "5"], ["cookie", "a=1"], ["host", "h.example"], ["origin", "o"], ["set-cookie", "s=1"]],
    response: "t=2",
  });
});

test("string bodies are USVStrings: lone surrogates become U+FFFD", async () => {
  const wire = Buffer.from(await (await server.fetch("/body/usvstring-wire")).arrayBuffer());
  assert.deepEqual(wire, Buffer.from("a\ufffdb\ufffd"), "on the wire");
  assert.deepEqual(await json("/body/usvstring"), { response: "a\ufffdb\ufffd", request: "\ufffdz" }, "read back with text()");
});

test("Headers: invalid names and values throw TypeError", async () => {
  const r = await json("/headers/invalid");
  for (const k of ["spaceName", "colonName", "emptyName", "newlineValue", "crValue", "nulValue", "nonLatin1Value", "nonLatin1Name", "getBad", "hasBad", "deleteBad", "ctorBad"]) {
    assertThrew(r[k], typeError(), k);
  }
  assert.deepEqual(r.stillEmpty, []);
  assert.equal(r.latin1Ok, null, "Latin-1 values are valid ByteStrings");
});
