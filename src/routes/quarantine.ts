/**
 * Quarantine, for operators (under /{repo}/admin, so the admin token is required):
 *   GET  /quarantine                 quarantined targets: entry, reason, reference, who, when
 *   POST /quarantine                 {path, reason, reference?, by?}: take a listed target out of the metadata
 *   POST /quarantine/release         {path, by?}: list it again, with the same entry
 *   POST /quarantine/remove          {path, by?}: remove it for good (its kept bytes are deleted)
 *   GET  /quarantine/files/{path}    the kept bytes, for review
 * Registries do the same with `targets.quarantine` and `targets.release` events.
 * Each answers once published, like the other target changes.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "../http/problem.ts";
import { repositoryStub } from "../repository-stub.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import { QuarantineActionSchema, QuarantineSchema } from "../schemas/quarantine.ts";
import { TargetPathSchema } from "../schemas/target-path.ts";

export const quarantine = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ quarantined: await repositoryStub(c.env, c.get("repo")).quarantined() }))
  .post("/", validate("json", QuarantineSchema), async (c) => {
    const { by, ...event } = c.req.valid("json");
    const stub = repositoryStub(c.env, c.get("repo"));
    const { versions } = unwrap(await stub.changeQuarantine({ type: "targets.quarantine", ...event }, by));
    return c.json({ path: event.path, state: "quarantined", versions });
  })
  .post("/:action{release|remove}", validate("json", QuarantineActionSchema), async (c) => {
    const { path, by } = c.req.valid("json");
    const action = c.req.param("action") as "release" | "remove";
    const stub = repositoryStub(c.env, c.get("repo"));
    const { versions } = unwrap(await stub.changeQuarantine({ type: `targets.${action}`, path }, by));
    return c.json({ path, state: action === "release" ? "released" : "removed", versions });
  })
  .get("/files/:path{.+}", async (c) => {
    const path = TargetPathSchema.safeParse(c.req.param("path"));
    if (!path.success) throw new ProblemError(400, { code: "invalid_request", detail: "not a target path" });
    const body = await repositoryStub(c.env, c.get("repo")).quarantinedFile(path.data);
    if (!body) {
      throw new ProblemError(404, {
        code: "not_found",
        detail: `"${path.data}" is not quarantined, or tuf-edge does not hold its bytes`,
      });
    }
    return new Response(body, {
      headers: { "Content-Type": "application/octet-stream", "Cache-Control": "no-store" },
    });
  });
