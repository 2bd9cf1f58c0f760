/**
 * Delegations, for operators (under /{repo}/admin, so the admin token is required):
 *   GET    /delegations          the delegations, in search order per parent
 *   POST   /delegations          {name, parent?, paths | path_hash_prefixes, terminating?, bins?, position?}:
 *                                add an online delegation; the targets it claims move into it
 *   DELETE /delegations/{name}   remove one (none may be nested under it); its targets move back
 * Each change answers once published, with the new versions.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "../http/problem.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import { repositoryStub } from "../repository-stub.ts";
import { DelegationNameSchema, DelegationSpecSchema } from "../schemas/delegations.ts";
import { bodyCap } from "../http/body-limit.ts";

const MAX_BODY = 64 * 1024;

export const delegations = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ delegations: await repositoryStub(c.env, c.get("repo")).delegations() }))
  .post(
    "/",
    bodyCap(MAX_BODY, `a delegation is at most ${MAX_BODY} bytes of JSON`),
    validate("json", DelegationSpecSchema),
    async (c) => {
      const result = unwrap(await repositoryStub(c.env, c.get("repo")).addDelegation(c.req.valid("json")));
      return c.json({ delegation: result.delegation, versions: result.versions }, 201);
    },
  )
  .delete("/:name", async (c) => {
    const name = DelegationNameSchema.safeParse(c.req.param("name"));
    if (!name.success) throw new ProblemError(400, { code: "invalid_request", detail: "not a delegation name" });
    const { versions } = unwrap(await repositoryStub(c.env, c.get("repo")).removeDelegation(name.data));
    return c.json({ removed: name.data, versions });
  });
