/** tuf-edge Worker entry point: HTTP routes and the cron safety net. */
import { app } from "./app.ts";
import { refreshSigstoreTrust, wakeRepositories } from "./scheduled.ts";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(wakeRepositories(env));
    ctx.waitUntil(refreshSigstoreTrust(env));
  },
} satisfies ExportedHandler<Env>;

export { Repository } from "../durable-objects/repository.ts";
export { SigstoreTrust } from "../durable-objects/sigstore-trust.ts";
