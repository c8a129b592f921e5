// One limit() per request (the limit is never reached: the benchmark measures the call).
export default {
  async fetch(request, env) {
    const { success } = await env.LIMITER.limit({ key: new URL(request.url).pathname });
    return new Response(success ? "Hello World!" : "limited", { status: success ? 200 : 429 });
  },
};
