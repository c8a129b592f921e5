// Answers with the version that served the request, from the version-metadata binding.
// Send `Cloudflare-Workers-Version-Key: <anything>` to keep hitting the same version.
export default {
  async fetch(request, env) {
    const { id, tag, timestamp } = env.VERSION;
    return Response.json({
      greeting: "Hello from greeter",
      version: { id, tag, uploaded: timestamp },
    });
  },
};
