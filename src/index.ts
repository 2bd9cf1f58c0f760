/** tuf-edge Worker entry point: HTTP routes, the cron safety net and the site-documents queue's consumer. */
import { app } from "./app.ts";
import { consumeSiteDocuments } from "./pages/site-document-consumer.ts";
import { refreshSigstoreTrust, wakeRepositories } from "./scheduled.ts";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(wakeRepositories(env));
    ctx.waitUntil(refreshSigstoreTrust(env));
  },
  queue: consumeSiteDocuments,
} satisfies ExportedHandler<Env>;

export { Repository } from "../durable-objects/repository.ts";
export { SigstoreTrust } from "../durable-objects/sigstore-trust.ts";
