/** Bodies of registry pushes: a batch of target events, and an upload manifest. */
import { z } from "zod";
import { REGISTRY_NAME, RegistryNameSchema } from "./registry-name.ts";
import { REPOSITORY_NAME } from "./repository-name.ts";
import { HashesSchema, Sha256Hex } from "../tuf/targets.ts";
import { MAX_TARGET_LENGTH } from "./admin.ts";
import { CustomSchema } from "./json-value.ts";
import { SafeString } from "./safe-string.ts";
import { TargetPathSchema } from "./target-path.ts";

export const MAX_EVENTS = 1000;
export const MAX_WEBHOOK_BODY = 1024 * 1024;
export const MAX_BUNDLE_BYTES = 256 * 1024;

const Length = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Reason = SafeString.min(1, "a reason is required").max(500);

export const TargetEventSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("targets.add"),
      path: TargetPathSchema,
      length: Length,
      hashes: HashesSchema,
      custom: CustomSchema.optional(),
    })
    .strict(),
  z.object({ type: z.literal("targets.remove"), path: TargetPathSchema }).strict(),
  z.object({ type: z.literal("targets.yank"), path: TargetPathSchema, reason: Reason }).strict(),
  z.object({ type: z.literal("targets.unyank"), path: TargetPathSchema }).strict(),
  z
    .object({
      type: z.literal("targets.quarantine"),
      path: TargetPathSchema,
      reason: Reason,
      /** Where the case is tracked (a report id or URL). */
      reference: SafeString.min(1).max(500).optional(),
    })
    .strict(),
  z.object({ type: z.literal("targets.release"), path: TargetPathSchema }).strict(),
  z
    .object({
      type: z.literal("attestations.add"),
      path: TargetPathSchema,
      /** The attestation's JSON text, exactly as signed and to be served: a Sigstore bundle or a PEP 740 attestation. */
      bundle: SafeString.min(2).max(MAX_BUNDLE_BYTES, `an attestation is at most ${MAX_BUNDLE_BYTES} bytes`),
    })
    .strict(),
]);

export type TargetEvent = z.infer<typeof TargetEventSchema>;

export const WebhookBodySchema = z
  .object({
    /** The repository the batch is for; must be the one in the URL. */
    repository: z.string().regex(REPOSITORY_NAME, "not a repository name"),
    events: z.array(TargetEventSchema).min(1, "a batch has at least one event").max(MAX_EVENTS),
  })
  .strict()
  .superRefine((b, ctx) => {
    // A batch changes each target path once (attestations may be added beside): events in one
    // batch are checked against the state before it, so a later event cannot build on an earlier one.
    const first = new Map<string, number>();
    for (const [i, e] of b.events.entries()) {
      if (e.type === "attestations.add") continue;
      const earlier = first.get(e.path);
      if (earlier === undefined) {
        first.set(e.path, i);
        continue;
      }
      ctx.addIssue({
        code: "custom",
        path: ["events", i],
        message: `events.${earlier} (${b.events[earlier]?.type}) and events.${i} (${e.type}) both change "${e.path}": a batch changes each target path once (attestations may be added beside); send the ${e.type} in a later batch`,
      });
    }
  });

export type WebhookBody = z.infer<typeof WebhookBodySchema>;

export const UploadManifestSchema = z
  .object({
    repository: z.string().regex(REPOSITORY_NAME, "not a repository name"),
    /** The registry that signed it: only its credentials are tried (required when the repository has several). */
    registry: RegistryNameSchema.optional(),
    path: TargetPathSchema,
    length: z.number().int().min(0).max(MAX_TARGET_LENGTH),
    sha256: Sha256Hex,
    custom: CustomSchema.optional(),
  })
  .strict();

export type UploadManifest = z.infer<typeof UploadManifestSchema>;

/**
 * The registry an upload manifest names, read before the manifest is
 * authenticated (to choose whose credentials to try); null if it names none.
 */
export function manifestRegistry(manifest: string): string | null {
  try {
    const registry = (JSON.parse(manifest) as { registry?: unknown } | null)?.registry;
    return typeof registry === "string" && REGISTRY_NAME.test(registry) ? registry : null;
  } catch {
    return null;
  }
}

/** The headers every signed push carries. */
export const WebhookHeadersSchema = z.object({
  "webhook-id": z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
  "webhook-timestamp": z.string().regex(/^\d{1,12}$/, "seconds since the epoch"),
  "webhook-signature": z.string().min(1).max(4096),
});
