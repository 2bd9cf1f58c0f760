/**
 * The admin API: bootstrap, the online key, target changes and uploads, and
 * status. Authenticated with the ADMIN_TOKEN bearer token; every body is
 * validated and size-capped before it reaches the repository's Durable Object.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { adminAuth } from "../http/admin-auth.ts";
import { bodyCap } from "../http/body-limit.ts";
import { prefersRespondAsync } from "../http/prefer.ts";
import { ProblemError } from "../http/problem.ts";
import { forgetAbsence } from "../http/repository-param.ts";
import { repositoryStub } from "../repository-stub.ts";
import { validate } from "../http/validate.ts";
import { stageUpload } from "../http/stage-upload.ts";
import { unwrap } from "../http/unwrap.ts";
import {
  BootstrapSchema,
  EventsQuerySchema,
  LogWitnessesSchema,
  MAX_TARGET_LENGTH,
  PagesResendQuerySchema,
  TargetsChangeSchema,
  UploadQuerySchema,
} from "../schemas/admin.ts";
import { ceremonies } from "./ceremonies.ts";
import { delegations } from "./delegations.ts";
import { repositoryKek } from "./kek.ts";
import { quarantine } from "./quarantine.ts";
import { repositoryMetrics } from "./metrics.ts";
import { registries } from "./registries.ts";

const MAX_JSON_BODY = 8 * 1024 * 1024;

const jsonLimit = bodyCap(MAX_JSON_BODY, `request bodies are at most ${MAX_JSON_BODY} bytes`);

export const admin = new Hono<AppEnv>()
  .use(adminAuth({ token: (env) => env.ADMIN_TOKEN }))
  .get("/online-key", async (c) => {
    // The call that creates a repository (it enters the directory of repositories).
    const key = await repositoryStub(c.env, c.get("repo")).onlineKey();
    await forgetAbsence(c.get("repo"));
    return c.json(key);
  })
  .get("/status", async (c) => c.json(await repositoryStub(c.env, c.get("repo")).status()))
  .get("/events", validate("query", EventsQuerySchema), async (c) => {
    const { limit, kind } = c.req.valid("query");
    return c.json({ events: await repositoryStub(c.env, c.get("repo")).events(limit, kind) });
  })
  .post("/refresh", async (c) => c.json(await repositoryStub(c.env, c.get("repo")).refresh()))
  .get("/attestation-policy", async (c) => c.json(await repositoryStub(c.env, c.get("repo")).attestationPolicy()))
  .put("/attestation-policy", jsonLimit, async (c) => {
    const body = await c.req.json().catch(() => {
      throw new ProblemError(400, { code: "invalid_request", detail: "the body is not JSON" });
    });
    return c.json(unwrap(await repositoryStub(c.env, c.get("repo")).setAttestationPolicy(body)).policy);
  })
  .get("/log", async (c) => c.json(await repositoryStub(c.env, c.get("repo")).logWitnesses()))
  .put("/log/witnesses", validate("json", LogWitnessesSchema), async (c) =>
    c.json(unwrap(await repositoryStub(c.env, c.get("repo")).setLogWitnesses(c.req.valid("json").witnesses))),
  )
  .route("/ceremonies", ceremonies)
  .route("/delegations", delegations)
  .route("/kek", repositoryKek)
  .route("/quarantine", quarantine)
  .route("/metrics", repositoryMetrics)
  .route("/registries", registries)
  .post("/bootstrap", jsonLimit, validate("json", BootstrapSchema), async (c) => {
    const { versions } = unwrap(await repositoryStub(c.env, c.get("repo")).bootstrap(c.req.valid("json")));
    await forgetAbsence(c.get("repo"));
    return c.json({ versions }, 201);
  })
  .post("/targets", jsonLimit, validate("json", TargetsChangeSchema), async (c) => {
    // "Prefer: respond-async": answer once the change is stored, not published (bulk imports).
    const wait = !prefersRespondAsync(c.req.header("Prefer"));
    const change = c.req.valid("json");
    // An import's batch waits for the import's end to be published; only an answer that does not wait for it can.
    const deferred = change.publish === "deferred";
    if (deferred && wait) {
      throw new ProblemError(400, {
        code: "invalid_request",
        detail: '"publish": "deferred" needs "Prefer: respond-async": a deferred batch is answered once stored',
      });
    }
    const stub = repositoryStub(c.env, c.get("repo"));
    const { versions, removed, pending, awaitingOwners, publishBy } = unwrap(
      await stub.changeTargets(change, { wait, deferred }),
    );
    if (pending) c.header("Preference-Applied", "respond-async");
    // Changes for offline roles wait for their owners' signatures (listed), and are accepted, not published: 202.
    const accepted = pending || awaitingOwners.length > 0;
    return c.json(
      {
        versions,
        removed,
        pending,
        ...(publishBy ? { publishBy } : {}),
        ...(awaitingOwners.length ? { awaitingOwners } : {}),
      },
      accepted ? 202 : 200,
    );
  })
  // The pages' target documents sent again from a log entry (all by default): they follow as an import's do.
  .post("/pages/resend", validate("query", PagesResendQuerySchema), async (c) => {
    const { from } = c.req.valid("query");
    const { from: start, behind } = unwrap(await repositoryStub(c.env, c.get("repo")).resendPages(from));
    return c.json({ from: start, behind }, 202);
  })
  // An import's end: what its deferred batches stored is published now.
  .post("/publish", async (c) => {
    const { versions, pending } = unwrap(await repositoryStub(c.env, c.get("repo")).publishNow());
    return c.json({ versions, pending }, pending ? 202 : 200);
  })
  .put("/targets/:path{.+}", validate("query", UploadQuerySchema), async (c) => {
    const { sha256, path } = c.req.valid("query");
    if (c.req.param("path") !== path) {
      throw new ProblemError(400, {
        code: "invalid_request",
        detail: `the URL's target path "${c.req.param("path")}" is not ?path= "${path}": URL paths are normalised before they arrive (dot segments removed), so an upload names its path in both`,
      });
    }
    const length = Number(c.req.header("Content-Length"));
    if (!c.req.header("Content-Length") || !Number.isSafeInteger(length) || length < 0) {
      throw new ProblemError(411, { code: "length_required", detail: "an upload needs a Content-Length" });
    }
    if (length > MAX_TARGET_LENGTH) {
      throw new ProblemError(413, { code: "body_too_large", detail: `a target is at most ${MAX_TARGET_LENGTH} bytes` });
    }
    const stub = repositoryStub(c.env, c.get("repo"));
    // Refused before any byte is stored: not bootstrapped, or a published path with another length or hashes.
    const { upload } = unwrap(await stub.reserveUpload({ path: path, length, sha256 }));
    await stageUpload(c, stub, upload);
    const result = unwrap(await stub.completeReservedUpload(upload.id));
    const { versions, awaitingOwners } = result;
    // An upload into an offline role's namespace is stored and waits for the owners' signatures: 202.
    if (awaitingOwners.length) return c.json({ path, length, hashes: { sha256 }, versions, awaitingOwners }, 202);
    return c.json({ path: path, length, hashes: { sha256 }, versions }, 201);
  });
