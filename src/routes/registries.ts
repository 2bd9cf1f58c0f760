/**
 * Registries and their webhook credentials (admin API):
 *   GET    /{repo}/admin/registries
 *   POST   /{repo}/admin/registries/{name}/credentials   {kind: "hmac"} → a new whsec_ secret, shown once
 *                                                         {kind: "ed25519", publicKey: "whpk_…"}
 *                                                         older credentials stay valid for overlapSeconds
 *   DELETE /{repo}/admin/registries/{name}/credentials/{id}
 *   DELETE /{repo}/admin/registries/{name}
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ProblemError } from "../http/problem.ts";
import { repositoryStub } from "../repository-stub.ts";
import { unwrap } from "../http/unwrap.ts";
import { validate } from "../http/validate.ts";
import { RegistryNameSchema } from "../schemas/registry-name.ts";

const DEFAULT_OVERLAP = 86_400;

/** How long older credentials stay valid after a new one is added: at most 30 days. */
const OverlapSeconds = z
  .number()
  .int()
  .min(0)
  .max(30 * 86_400)
  .optional();

const CredentialSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("hmac"),
      overlapSeconds: OverlapSeconds,
    })
    .strict(),
  z
    .object({
      kind: z.literal("ed25519"),
      publicKey: z.string().regex(/^whpk_[A-Za-z0-9+/]{43}=$/, "an Ed25519 public key is whpk_ and 32 bytes of base64"),
      overlapSeconds: OverlapSeconds,
    })
    .strict(),
]);

export function registryName(raw: string): string {
  const name = RegistryNameSchema.safeParse(raw);
  if (!name.success)
    throw new ProblemError(404, { code: "not_found", detail: name.error.issues[0]?.message ?? "not a registry name" });
  return name.data;
}

export const registries = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ registries: await repositoryStub(c.env, c.get("repo")).registries() }))
  .post("/:name/credentials", validate("json", CredentialSchema), async (c) => {
    const { overlapSeconds, ...credential } = c.req.valid("json");
    const stub = repositoryStub(c.env, c.get("repo"));
    const added = unwrap(
      await stub.addRegistryCredential(
        registryName(c.req.param("name")),
        credential,
        overlapSeconds ?? DEFAULT_OVERLAP,
      ),
    );
    c.header("Cache-Control", "no-store");
    return c.json({ credential: added.credential, ...(added.secret ? { secret: added.secret } : {}) }, 201);
  })
  .delete("/:name/credentials/:id", async (c) => {
    const stub = repositoryStub(c.env, c.get("repo"));
    return c.json(unwrap(await stub.revokeRegistryCredential(registryName(c.req.param("name")), c.req.param("id"))));
  })
  .delete("/:name", async (c) =>
    c.json(unwrap(await repositoryStub(c.env, c.get("repo")).removeRegistry(registryName(c.req.param("name"))))),
  );
