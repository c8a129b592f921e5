// AbortController / AbortSignal: a slow job raced against AbortSignal.timeout, manual abort
// with a reason, AbortSignal.any, scheduler.wait with a signal, and event listeners.
function slowJob(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => resolve(`finished after ${ms}ms`), ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

// The messages of the runtime's own DOMExceptions are left out: the spec does not fix them and
// hearth's default abort reason says "The operation was aborted." where workerd has no period.
const describe = (e) => ({
  name: e?.name,
  message: e instanceof DOMException ? undefined : e instanceof Error ? e.message : String(e),
  isDOMException: e instanceof DOMException,
  code: e?.code,
});

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const work = Number(url.searchParams.get("work") ?? "10");
    const limit = Number(url.searchParams.get("limit") ?? "200");
    if (url.pathname === "/timeout") {
      try {
        const result = await slowJob(work, AbortSignal.timeout(limit));
        return Response.json({ ok: true, result });
      } catch (e) {
        return Response.json({ ok: false, error: describe(e) }, { status: 504 });
      }
    }
    if (url.pathname === "/manual") {
      const controller = new AbortController();
      const events = [];
      controller.signal.onabort = (ev) => events.push(`onabort:${ev.type}`);
      controller.signal.addEventListener("abort", (ev) => events.push(`listener:${ev.type}:${ev.target === controller.signal}`));
      setTimeout(() => controller.abort(new Error("user cancelled")), 5);
      try {
        await slowJob(1000, controller.signal);
        return Response.json({ ok: true });
      } catch (e) {
        controller.abort("again");
        let thrown;
        try {
          controller.signal.throwIfAborted();
        } catch (t) {
          thrown = describe(t);
        }
        return Response.json({ ok: false, error: describe(e), events, aborted: controller.signal.aborted, thrown });
      }
    }
    if (url.pathname === "/any") {
      const user = new AbortController();
      const signal = AbortSignal.any([user.signal, AbortSignal.timeout(limit)]);
      if (url.searchParams.has("cancel")) user.abort();
      try {
        await scheduler.wait(work, { signal });
        return Response.json({ waited: true });
      } catch (e) {
        return Response.json({ waited: false, error: describe(e) });
      }
    }
    if (url.pathname === "/already") {
      const s = AbortSignal.abort();
      return Response.json({ aborted: s.aborted, reason: describe(s.reason), custom: describe(AbortSignal.abort(new TypeError("t")).reason) });
    }
    return new Response("not found\n", { status: 404 });
  },
};
