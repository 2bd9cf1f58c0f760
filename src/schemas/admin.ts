/** Request bodies of the admin API. */
import { z } from "zod";
import { EnvelopeSchema } from "../tuf/metadata.ts";
import { HashesSchema, Sha256Hex } from "../tuf/targets.ts";
import { CustomSchema } from "./json-value.ts";
import { TargetPathSchema } from "./target-path.ts";

export const MAX_BATCH = 10_000;
/** 5 GiB: the largest single R2 upload. */
export const MAX_TARGET_LENGTH = 5 * 1024 ** 3;

export const TargetEntrySchema = z
  .object({
    path: TargetPathSchema,
    length: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    hashes: HashesSchema,
    custom: CustomSchema.optional(),
  })
  .strict();

export const TargetsChangeSchema = z
  .object({
    add: z.array(TargetEntrySchema).max(MAX_BATCH).optional(),
    remove: z.array(TargetPathSchema).max(MAX_BATCH).optional(),
    publish: z.enum(["now", "deferred"]).optional(),
  })
  .strict()
  .refine((c) => (c.add?.length ?? 0) + (c.remove?.length ?? 0) > 0, "a change adds or removes at least one target")
  .refine((c) => {
    const paths = [...(c.add ?? []).map((t) => t.path), ...(c.remove ?? [])];
    return new Set(paths).size === paths.length;
  }, "a change names each target path once");

export const BootstrapSchema = z
  .object({
    root: EnvelopeSchema,
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/**
 * An operator upload's query. The target path is named here as well as in the
 * URL path: URL paths are normalised before tuf-edge sees them (by the
 * client, by Cloudflare and by workerd: `dir/../x.txt` and `dir/%2e%2e/x.txt`
 * arrive as `x.txt`), so the URL alone cannot show that dot segments were
 * sent; the query is never normalised.
 */
export const UploadQuerySchema = z.object({
  sha256: Sha256Hex,
  path: z
    .string({ error: "name the target path in ?path= too: URL paths arrive normalised (dot segments removed)" })
    .pipe(TargetPathSchema),
});

/** An audit event's kind, as the audit log records it (e.g. publish-failed). */
export const EventKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, "an event kind is lower-case letters, digits and hyphens (e.g. publish-failed)");

/** The most events one read of the audit log returns. */
export const MAX_EVENTS = 1000;
const EVENTS_LIMIT = `limit is a whole number from 1 to ${MAX_EVENTS}`;

/** GET /{repo}/admin/events: how many of the newest events, and of which kind. */
export const EventsQuerySchema = z.object({
  limit: z.coerce
    .number({ error: EVENTS_LIMIT })
    .int(EVENTS_LIMIT)
    .min(1, EVENTS_LIMIT)
    .max(MAX_EVENTS, EVENTS_LIMIT)
    .default(100),
  kind: EventKindSchema.optional(),
});

const RESEND_FROM = "from is a log entry index, a whole number from 0";

/** POST /{repo}/admin/pages/resend: the log entry whose targets' documents are sent first (0: all). */
export const PagesResendQuerySchema = z.object({
  from: z.coerce
    .number({ error: RESEND_FROM })
    .int(RESEND_FROM)
    .min(0, RESEND_FROM)
    .max(Number.MAX_SAFE_INTEGER, RESEND_FROM)
    .default(0),
});

/** PUT /{repo}/admin/log/witnesses: the witnesses' verifier keys (C2SP vkeys) whose cosignatures the log collects. */
export const LogWitnessesSchema = z.object({ witnesses: z.array(z.string().max(512)).max(32) }).strict();
