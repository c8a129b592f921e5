// Cron triggers: scheduled() records what each run got (the cron expression, scheduledTime,
// the controller's shape, env) in module state, and fetch() shows the record. Runs come from
// GET /__scheduled?cron=<expr>&time=<ms> (hearth dev and wrangler dev; on workerd a driver
// calls Fetcher.scheduled(), see tests/e2e/lib/workerd.mjs).
const runs = [];
let failures = 0;

export default {
  async scheduled(controller, env, ctx) {
    const t = controller.scheduledTime;
    if (controller.cron === "fail now") {
      failures++;
      throw new Error("this cron always fails");
    }
    // A run without ?time= is scheduled "now": only check that it is close to the clock.
    const nearNow = Math.abs(Date.now() - t) < 60000;
    const fixed = !nearNow;
    runs.push({
      cron: controller.cron,
      scheduledTime: fixed ? t : "about now",
      nearNow,
      type: typeof t,
      integer: Number.isInteger(t),
      iso: fixed ? new Date(t).toISOString() : "about now",
      noRetry: typeof controller.noRetry,
      waitUntil: typeof ctx.waitUntil,
      label: env.LABEL,
    });
    await scheduler.wait(1);
  },

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/runs") return Response.json({ count: runs.length, failures, runs });
    if (url.pathname === "/last") {
      const last = runs.at(-1);
      return last ? Response.json(last) : new Response("no runs yet\n", { status: 404 });
    }
    return new Response("cron-log: GET /runs or /last\n", { status: 404 });
  },
};
