/**
 * Versions of offline roles as the object receives them: the owners' keys
 * listed by keyid, and signed bytes checked as a role's next version
 * (src/tuf/offline-role.ts) or turned into the refusal that says why not.
 */
import { utf8 } from "../src/lib/bytes.ts";
import { failure, type DelegationSpec, type Failure } from "../src/repository-api.ts";
import { TufError } from "../src/tuf/errors.ts";
import { type Key, keyId } from "../src/tuf/key.ts";
import { HashBins } from "../src/tuf/hash-bins.ts";
import { delegationBins, type OwnersSuccinctDelegations, ownersSuccinctDelegations } from "../src/tuf/offline-bins.ts";
import { checkOfflineRole } from "../src/tuf/offline-role.ts";
import type { OfflineOwners } from "./delegation-tree.ts";
import type { OfflineVersion } from "./offline-roles.ts";

/** `keys` by their keyids (public parts only), or null if one is listed twice. */
export async function keysById(keys: readonly Key[]): Promise<Record<string, Key> | null> {
  const byId: Record<string, Key> = {};
  for (const key of keys) {
    const { keytype, scheme, keyval } = key;
    byId[await keyId(key)] = { keytype, scheme, keyval: { public: keyval.public } };
  }
  return Object.keys(byId).length === keys.length ? byId : null;
}

/**
 * `bytes` checked as the next version (after `current`) of offline role `name`, or the refusal;
 * `succinct`: the bins its owners' role delegates to, for a delegation with bins (src/tuf/offline-bins.ts).
 */
export async function checkedOffline(
  name: string,
  owners: OfflineOwners,
  bytes: Uint8Array,
  current: number,
  succinct?: OwnersSuccinctDelegations,
): Promise<Failure | OfflineVersion> {
  try {
    const checked = await checkOfflineRole(bytes, {
      name,
      ...owners,
      current,
      now: new Date(),
      ...(succinct ? { succinct } : {}),
    });
    return { checked, bytes };
  } catch (error) {
    if (!(error instanceof TufError)) throw error;
    if (error.code === "bad_version") return failure(409, "bad_version", error.message);
    const code = error.code === "threshold_not_met" || error.code === "expired" ? error.code : "invalid_metadata";
    return failure(422, code, error.message);
  }
}

/**
 * An offline delegation's owners (keyids computed) and its version 1, checked, and, with bins, each
 * bin's version 1 (`spec.binsMetadata`, in bin order; the role delegating to them: offline-bins.ts); or why not.
 */
export async function offlineFirst(
  spec: DelegationSpec,
): Promise<Failure | { owners: OfflineOwners; first: OfflineVersion; bins?: OfflineVersion[] }> {
  const keys = spec.keys ? await keysById(spec.keys) : null;
  if (!keys) return failure(422, "invalid_request", "each of an offline delegation's keys is listed once");
  const owners = { keys, threshold: spec.threshold ?? 1 };
  const bins = spec.bins ? delegationBins(spec.name, HashBins.bitLengthFor(spec.bins)) : null;
  const succinct = bins ? ownersSuccinctDelegations(owners, bins) : undefined;
  const first = await checkedOffline(spec.name, owners, utf8(spec.metadata ?? ""), 0, succinct);
  if ("ok" in first) return first;
  if (!bins) return { owners, first };
  const versions: OfflineVersion[] = [];
  for (const [i, text] of (spec.binsMetadata ?? []).entries()) {
    const bin = await checkedOffline(bins.name(i), owners, utf8(text), 0);
    if ("ok" in bin) return bin;
    versions.push(bin);
  }
  return { owners, first, bins: versions };
}
