/**
 * Delegations, for operators (under /{repo}/admin, so the admin token is required):
 *   GET    /delegations          the delegations, in search order per parent
 *   POST   /delegations          {name, parent?, paths | path_hash_prefixes, terminating?, bins?, position?}:
 *                                add an online delegation; the targets it claims move into it
 *   POST   /delegations          with signing "offline", keys, threshold and metadata (version 1, signed by
 *                                the owners): an offline delegation, which the service never signs
 *   PUT    /delegations/{name}/metadata   an offline delegation's next version: the signed envelope's exact
 *                                bytes, checked (threshold of its keys, version +1, unexpired, paths it claims)
 *                                and served as they are
 *   GET    /delegations/{name}/draft        an offline delegation's next version as drafted by the
 *                                service: its published targets with the changes waiting for the owners
 *                                applied, the canonical bytes to sign, and the signatures collected
 *   POST   /delegations/{name}/signatures   {sha256, signature}: one owner's signature over that draft;
 *                                published once the threshold is met (a stale draft is refused)
 *   GET    /delegations/{name}/drafts       every draft of an offline delegation's roles its owners have to
 *                                sign: with hash bins inside it, one per bin with changes waiting
 *                                (?renew=true: every role, to re-sign before they expire)
 *   POST   /delegations/{name}/drafts/signatures   {signatures: [{role, sha256, signature}]}: one owner's
 *                                signatures over several of those drafts; those that meet the
 *                                threshold are published together, in one round
 *   DELETE /delegations/{name}   remove one (none may be nested under it); its targets move back
 * Each change answers once published, with the new versions. In protected-delegations mode
 * (top-level targets signed offline), adding or removing a delegation of `targets` is not
 * applied: it answers 202 with the ceremony that drafts the next targets; the change is
 * applied when the targets key holders' threshold signs it (POST /ceremonies/{id}/signatures).
 *   GET    /delegations          also says how targets is signed and which ceremony is pending
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "../http/problem.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import { repositoryStub } from "../repository-stub.ts";
import {
  DelegationNameSchema,
  DelegationSpecSchema,
  DraftSignatureSchema,
  DraftSignaturesSchema,
  DraftsQuerySchema,
  MAX_OFFLINE_ROLE_BYTES,
} from "../schemas/delegations.ts";
import { bodyCap } from "../http/body-limit.ts";
import type { OfflineDraftView } from "../repository-api.ts";

const MAX_BODY = 64 * 1024;

export const delegations = new Hono<AppEnv>()
  .get("/", async (c) => c.json(unwrap(await repositoryStub(c.env, c.get("repo")).delegationsOverview())))
  .post(
    "/",
    bodyCap(MAX_BODY, `a delegation is at most ${MAX_BODY} bytes of JSON`),
    validate("json", DelegationSpecSchema),
    async (c) => {
      const result = unwrap(await repositoryStub(c.env, c.get("repo")).addDelegation(c.req.valid("json")));
      if ("ceremony" in result) return c.json({ ceremony: result.ceremony }, 202);
      return c.json({ delegation: result.delegation, versions: result.versions }, 201);
    },
  )
  .put(
    "/:name/metadata",
    bodyCap(MAX_OFFLINE_ROLE_BYTES, `a role version is at most ${MAX_OFFLINE_ROLE_BYTES} bytes`),
    async (c) => {
      const name = delegationName(c.req.param("name"));
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const result = unwrap(await repositoryStub(c.env, c.get("repo")).submitDelegationMetadata(name, bytes));
      return c.json({ delegation: name, version: result.version, versions: result.versions });
    },
  )
  .get("/:name/draft", async (c) => {
    const name = delegationName(c.req.param("name"));
    const { draft } = unwrap(await repositoryStub(c.env, c.get("repo")).delegationDraft(name));
    return c.json({ draft: JSON.parse(draft) as OfflineDraftView });
  })
  .post(
    "/:name/signatures",
    bodyCap(8 * 1024, "a signature is at most 8 KiB of JSON"),
    validate("json", DraftSignatureSchema),
    async (c) => {
      const name = delegationName(c.req.param("name"));
      const { sha256, signature } = c.req.valid("json");
      const result = unwrap(await repositoryStub(c.env, c.get("repo")).signDelegationDraft(name, sha256, signature));
      return c.json({ draft: JSON.parse(result.draft) as OfflineDraftView, published: result.published });
    },
  )
  .get("/:name/drafts", validate("query", DraftsQuerySchema), async (c) => {
    const name = delegationName(c.req.param("name"));
    const { renew } = c.req.valid("query");
    const { drafts } = unwrap(await repositoryStub(c.env, c.get("repo")).delegationDrafts(name, renew === "true"));
    return c.json({ drafts: JSON.parse(drafts) as OfflineDraftView[] });
  })
  .post(
    "/:name/drafts/signatures",
    bodyCap(64 * 1024, "signatures are at most 64 KiB of JSON"),
    validate("json", DraftSignaturesSchema),
    async (c) => {
      const name = delegationName(c.req.param("name"));
      const { signatures } = c.req.valid("json");
      const result = unwrap(await repositoryStub(c.env, c.get("repo")).signDelegationDrafts(name, signatures));
      return c.json({ drafts: JSON.parse(result.drafts) as OfflineDraftView[], published: result.published });
    },
  )
  .delete("/:name", async (c) => {
    const name = delegationName(c.req.param("name"));
    const result = unwrap(await repositoryStub(c.env, c.get("repo")).removeDelegation(name));
    if ("ceremony" in result) return c.json({ ceremony: result.ceremony }, 202);
    return c.json({ removed: name, versions: result.versions });
  });

function delegationName(param: string): string {
  const name = DelegationNameSchema.safeParse(param);
  if (!name.success) throw new ProblemError(400, { code: "invalid_request", detail: "not a delegation name" });
  return name.data;
}
