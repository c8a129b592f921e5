// The same Worker as ../ratelimit without the limit() call: the baseline of scenario (g).
export default {
  async fetch(request) {
    const success = new URL(request.url).pathname !== "";
    return new Response(success ? "Hello World!" : "limited", { status: success ? 200 : 429 });
  },
};
