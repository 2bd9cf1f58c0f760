/** Request bodies of the ceremony endpoints. */
import { z } from "zod";
import { SignatureSchema } from "../tuf/metadata.ts";
import { SafeString } from "./safe-string.ts";

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
]);

export const SubmitSignatureSchema = SignatureSchema.strict();

export const CancelCeremonySchema = z.object({ reason: SafeString.min(1).max(500) }).strict();
