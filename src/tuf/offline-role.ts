/**
 * Checks a version of an offline-signed delegated role that its owners
 * submit (durable-objects/offline-roles.ts stores it, the publisher serves it
 * byte for byte). Pure: what the repository knows is passed in.
 *
 * The bytes are accepted only if a client that trusts the delegation would
 * accept them too, and only as the role's next version:
 *   - a targets envelope whose `signed` part is canonicalisable (the
 *     signatures are over its canonical JSON, spec §4.2);
 *   - signatures by at least `threshold` distinct keys among the delegation's
 *     (spec §5.6.3, as for any delegated role);
 *   - version exactly `current + 1`, so no version is skipped or replayed
 *     (a client refuses a rollback, §5.6.4);
 *   - not expired at `now`;
 *   - (checked by the caller, against the repository's delegation tree at
 *     the moment it stores the bytes) every target path valid and claimed by
 *     this role: a path it lists but does not claim is one clients never look
 *     up there, refused rather than published as a dead entry;
 *   - no `delegations` of its own (the service does not publish named roles
 *     below an offline one), except, for a delegation with hash bins, exactly
 *     the owners' succinct bins and no targets of its own (offline-bins.ts).
 */
import { z } from "zod";
import { canonicalProblem } from "./canonical.ts";
import { TufError } from "./errors.ts";
import type { Key } from "./key.ts";
import { CommonSignedSchema, parseEnvelope, verifyThreshold } from "./metadata.ts";
import { HashesSchema, type TargetFile } from "./targets.ts";
import { type OwnersSuccinctDelegations, succinctProblem } from "./offline-bins.ts";

/** The most bytes one offline role version may have (it is kept in the repository's SQLite). */
export const MAX_OFFLINE_ROLE_BYTES = 512 * 1024;

const OfflineSignedSchema = z.looseObject({
  _type: z.literal("targets"),
  ...CommonSignedSchema,
  targets: z.record(
    z.string(),
    z.looseObject({
      length: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      hashes: HashesSchema,
      custom: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  delegations: z.unknown().optional(),
});

export interface OfflineRoleContext {
  name: string;
  keys: Readonly<Record<string, Key>>;
  threshold: number;
  /** The role's newest version, published or submitted (0 if none). */
  current: number;
  now: Date;
  /** Set when the role holds its targets in hash bins its owners sign (src/tuf/offline-bins.ts): the delegations it must list. */
  succinct?: OwnersSuccinctDelegations;
}

export interface CheckedOfflineRole {
  version: number;
  expires: string;
  targets: Record<string, TargetFile>;
}

/** Thrown when submitted bytes are not the role's next valid version; `code` says which rule. */
export class OfflineRoleError extends TufError {}

/** Checks `bytes` as the next version of the offline role `context.name`. */
export async function checkOfflineRole(bytes: Uint8Array, context: OfflineRoleContext): Promise<CheckedOfflineRole> {
  if (bytes.length > MAX_OFFLINE_ROLE_BYTES) {
    throw new OfflineRoleError("invalid_metadata", `a role version is at most ${MAX_OFFLINE_ROLE_BYTES} bytes`);
  }
  const envelope = parseEnvelope(bytes, "targets");
  const problem = canonicalProblem(envelope.signed, "signed");
  if (problem) throw new OfflineRoleError("invalid_metadata", problem);
  const parsed = OfflineSignedSchema.safeParse(envelope.signed);
  if (!parsed.success) {
    throw new OfflineRoleError("invalid_metadata", `${context.name}: ${z.prettifyError(parsed.error)}`);
  }
  const signed = parsed.data;
  const delegating = delegationsProblem(signed, context);
  if (delegating) throw new OfflineRoleError("invalid_metadata", `${context.name}: ${delegating}`);
  await verifyThreshold(
    envelope,
    { keyids: Object.keys(context.keys), threshold: context.threshold },
    context.keys,
    context.name,
  );
  if (signed.version !== context.current + 1) {
    throw new OfflineRoleError(
      "bad_version",
      `${context.name}: version ${signed.version} submitted, the next version is ${context.current + 1}`,
    );
  }
  if (Date.parse(signed.expires) <= context.now.getTime()) {
    throw new OfflineRoleError("expired", `${context.name}: expired at ${signed.expires}`);
  }
  return { version: signed.version, expires: signed.expires, targets: signed.targets as Record<string, TargetFile> };
}

/** Why the role's `delegations` (and, for a role with bins, its own targets) are not what `context` expects, or null. */
function delegationsProblem(
  signed: { delegations?: unknown; targets: Record<string, unknown> },
  context: OfflineRoleContext,
): string | null {
  if (!context.succinct) {
    return signed.delegations === undefined
      ? null
      : "an offline role submitted here does not delegate further (only a delegation added with bins lists them)";
  }
  if (Object.keys(signed.targets).length > 0) {
    return "a delegation with hash bins lists no targets of its own: its bins list them";
  }
  return succinctProblem(signed.delegations, context.succinct);
}
