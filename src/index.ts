export default {
  async fetch(req, env) { return new Response("ok"); },
} satisfies ExportedHandler<Env>;
export { Repository } from "../durable-objects/repository.ts";
