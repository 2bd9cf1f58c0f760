/** tuf-edge Worker entry point. */
import { app } from "./app.ts";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;

export { Repository } from "../durable-objects/repository.ts";
