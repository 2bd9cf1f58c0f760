/**
 * The shapes of the timestamp, snapshot and targets files a client reads from
 * another repository (spec §4.4–§4.6). Looser than what tuf-edge signs: hash
 * algorithms other than sha256 may be listed, and fields a client does not
 * need (delegations, custom) pass through unread.
 */
import { z } from "zod";
import { DelegatedRoleSchema } from "../delegations.ts";
import { KeySchema } from "../key.ts";
import { CommonSignedSchema } from "../metadata.ts";

const HexDigest = z.string().regex(/^[0-9a-f]{32,128}$/, "a digest is lower-case hex");

export const MetaFileSchema = z.looseObject({
  version: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  length: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  hashes: z.record(z.string().min(1).max(32), HexDigest).optional(),
});
export type MetaFile = z.infer<typeof MetaFileSchema>;

export const RemoteTimestampSchema = z.looseObject({
  _type: z.literal("timestamp"),
  ...CommonSignedSchema,
  meta: z.looseObject({ "snapshot.json": MetaFileSchema }),
});
export type RemoteTimestamp = z.infer<typeof RemoteTimestampSchema>;

export const RemoteSnapshotSchema = z.looseObject({
  _type: z.literal("snapshot"),
  ...CommonSignedSchema,
  meta: z.record(z.string().min(1).max(1024), MetaFileSchema),
});
export type RemoteSnapshot = z.infer<typeof RemoteSnapshotSchema>;

export const TargetInfoSchema = z.looseObject({
  length: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  hashes: z.record(z.string().min(1).max(32), HexDigest).refine((h) => Object.keys(h).length > 0, "no hashes"),
});
export type TargetInfo = z.infer<typeof TargetInfoSchema>;

/**
 * Named delegations (spec §4.5). TAP 15's succinct_roles are not followed:
 * a target only a succinct role lists is not found.
 */
export const RemoteDelegationsSchema = z.looseObject({
  keys: z.record(z.string().min(1).max(128), KeySchema),
  roles: z.array(DelegatedRoleSchema).max(1024).default([]),
});

export const RemoteTargetsSchema = z.looseObject({
  _type: z.literal("targets"),
  ...CommonSignedSchema,
  targets: z.record(z.string().min(1).max(1024), TargetInfoSchema),
  delegations: RemoteDelegationsSchema.optional(),
});
export type RemoteTargets = z.infer<typeof RemoteTargetsSchema>;
