// The `env` object handed to handlers, built from the version's bindings (the Cloudflare
// upload-metadata form: [{ type, name, ... }]).
import ops from "./ops.js";

export function buildEnv(bindings, facts) {
  const env = {};
  for (const b of bindings) {
    switch (b.type) {
      case "plain_text":
      case "secret_text":
        env[b.name] = b.text;
        break;
      case "json":
        env[b.name] = b.json;
        break;
      case "version_metadata":
        // The version serving the request: { id, tag, timestamp }.
        env[b.name] = Object.freeze({
          id: facts.version?.id ?? "",
          tag: facts.version?.tag ?? "",
          timestamp: facts.version?.timestamp ?? "",
        });
        break;
      case "ratelimit": {
        const { RateLimit } = ops.loadModule("ratelimit.js");
        env[b.name] = new RateLimit(b);
        break;
      }
      case "service": {
        const { makeService } = ops.loadModule("service.js");
        env[b.name] = makeService(b);
        break;
      }
      default:
        throw new Error(`binding "${b.name}" has type "${b.type}", which hearth does not support`);
    }
  }
  return env;
}
