/**
 * Root ceremonies (admin API): open, read, sign, cancel.
 *   GET  /{repo}/admin/ceremonies                  newest first
 *   POST /{repo}/admin/ceremonies                  {kind: online-key-rotation | root-change | root-refresh
 *                                                   | protect-delegations | targets-refresh, …}
 *   GET  /{repo}/admin/ceremonies/{id}             the draft, its canonical bytes, a summary, progress, events
 *   POST /{repo}/admin/ceremonies/{id}/signatures  {keyid, sig}: one key holder's signature (over the root
 *                                                   draft or the targets draft, whichever it verifies over)
 *   POST /{repo}/admin/ceremonies/{id}/cancel      {reason}
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "../http/problem.ts";
import { repositoryStub } from "../repository-stub.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import {
  CancelCeremonySchema,
  CeremonyIdSchema,
  OpenCeremonySchema,
  SubmitSignatureSchema,
} from "../schemas/ceremonies.ts";

function ceremonyId(raw: string): string {
  const id = CeremonyIdSchema.safeParse(raw);
  if (!id.success) throw new ProblemError(404, { code: "not_found", detail: "a ceremony id is 16 hex characters" });
  return id.data;
}

export const ceremonies = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ ceremonies: await repositoryStub(c.env, c.get("repo")).ceremonies() }))
  .post("/", validate("json", OpenCeremonySchema), async (c) => {
    const stub = repositoryStub(c.env, c.get("repo"));
    const body = c.req.valid("json");
    const open = () => {
      switch (body.kind) {
        case "online-key-rotation":
          return stub.openRotation({
            ...(body.reason ? { reason: body.reason } : {}),
            emergency: body.emergency ?? false,
          });
        case "root-change":
          return stub.openRootChange(body.signed);
        case "root-refresh":
          return stub.openRootRefresh();
        case "protect-delegations":
          return stub.openProtectDelegations({
            ...(body.keys ? { keys: body.keys } : {}),
            ...(body.threshold ? { threshold: body.threshold } : {}),
          });
        case "targets-refresh":
          return stub.openTargetsRefresh();
      }
    };
    const result = await open();
    return c.json(unwrap(result).ceremony, 201);
  })
  .get("/:id", async (c) => {
    const result = await repositoryStub(c.env, c.get("repo")).ceremony(ceremonyId(c.req.param("id")));
    return c.json(unwrap(result).ceremony);
  })
  .post("/:id/signatures", validate("json", SubmitSignatureSchema), async (c) => {
    const stub = repositoryStub(c.env, c.get("repo"));
    const { ceremony, versions } = unwrap(await stub.signCeremony(ceremonyId(c.req.param("id")), c.req.valid("json")));
    return c.json({ ceremony, ...(versions ? { versions } : {}) });
  })
  .post("/:id/cancel", validate("json", CancelCeremonySchema), async (c) => {
    const stub = repositoryStub(c.env, c.get("repo"));
    return c.json(
      unwrap(await stub.cancelCeremony(ceremonyId(c.req.param("id")), c.req.valid("json").reason)).ceremony,
    );
  });
