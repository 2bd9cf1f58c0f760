/** Request bodies of the ceremony endpoints. */
import { z } from "zod";
import { SignatureSchema } from "../tuf/metadata.ts";
import { SafeString } from "./safe-string.ts";
import { SigningKeysSchema } from "./delegations.ts";

export const CeremonyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, "a ceremony id is 16 hex characters");

export const OpenCeremonySchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("online-key-rotation"),
      reason: SafeString.max(500).optional(),
      /** Cancel any open ceremony and rotate now (suspected key compromise). */
      emergency: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("root-change"),
      /** The draft root's `signed` part. */
      signed: z.record(z.string(), z.unknown()),
    })
    .strict(),
  z.object({ kind: z.literal("root-refresh") }).strict(),
  z
    .object({
      /** Protected-delegations mode: root N+1 hands top-level targets to offline keys (docs/operators.md §12). */
      kind: z.literal("protect-delegations"),
      /** The keys that sign targets from then on (default: the root keys, with the root's threshold). */
      keys: SigningKeysSchema.optional(),
      threshold: z.number().int().min(1).max(32).optional(),
    })
    .strict()
    .refine((b) => (b.keys === undefined) === (b.threshold === undefined), "keys and threshold come together")
    .refine((b) => b.threshold === undefined || b.threshold <= (b.keys?.length ?? 0), {
      message: "the threshold is at most the number of keys",
    }),
  /** Protected mode: the same targets with a later expiry, signed by its key holders. */
  z.object({ kind: z.literal("targets-refresh") }).strict(),
]);

export const SubmitSignatureSchema = SignatureSchema.strict();

export const CancelCeremonySchema = z.object({ reason: SafeString.min(1).max(500) }).strict();
