/** tuf-edge Worker entry point: HTTP routes and the cron safety net. */
import { app } from "./app.ts";
import { wakeRepositories } from "./scheduled.ts";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(wakeRepositories(env));
  },
} satisfies ExportedHandler<Env>;

export { Repository } from "../durable-objects/repository.ts";
