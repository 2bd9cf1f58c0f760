/**
 * Hash bins inside an offline delegation (docs/operators.md §12): the
 * owners' role delegates its whole namespace to TAP 15 `succinct_roles`
 * whose keys are the owners' own, so every bin, like the role, is signed by
 * them and never by the service. Pure: what the repository knows is passed in.
 *
 * The owners' role then lists no targets of its own and delegates exactly
 *   delegations: { keys: <the owners' keys>,
 *                  succinct_roles: { keyids: <the owners' keyids>, threshold: <theirs>,
 *                                    bit_length: k, name_prefix: "<name>.bins" } }
 * so a client that trusts the delegation trusts each bin `<name>.bins-XX`
 * with the same keys and threshold. Each bin is a plain targets role (the
 * rules of src/tuf/offline-role.ts apply to it), listing the paths of the
 * namespace whose SHA-256 starts with its k bits.
 *
 * Each bin is a signature the owners make whenever it changes (and before it
 * expires), so an offline delegation holds at most MAX_OFFLINE_BINS bins: a
 * namespace of that many versions of up to 512 KiB each.
 */
import { HashBins } from "./hash-bins.ts";
import type { Key } from "./key.ts";
import { SPEC_VERSION } from "./metadata.ts";

/** The most hash bins an offline delegation may hold (each is one more version its owners sign). */
export const MAX_OFFLINE_BINS = 16;

/** The owners of an offline role: their keys, by keyid, and how many must sign. */
export interface OfflineOwnerKeys {
  keys: Readonly<Record<string, Key>>;
  threshold: number;
}

/** The `delegations` of an offline role whose targets are in hash bins its owners sign. */
export interface OwnersSuccinctDelegations {
  keys: Record<string, Key>;
  succinct_roles: { keyids: string[]; threshold: number; bit_length: number; name_prefix: string };
}

/** The hash bins inside delegation `name`: `<name>.bins-XX` (a delegation's own name has no dot). */
export function delegationBins(name: string, bitLength: number): HashBins {
  return new HashBins(bitLength, `${name}.bins`);
}

/** The `delegations` the owners' role of `name` lists when its targets are in `bins`. */
export function ownersSuccinctDelegations(owners: OfflineOwnerKeys, bins: HashBins): OwnersSuccinctDelegations {
  const keyids = Object.keys(owners.keys).sort();
  const keys: Record<string, Key> = {};
  for (const keyid of keyids) {
    const { keytype, scheme, keyval } = owners.keys[keyid] as Key;
    keys[keyid] = { keytype, scheme, keyval: { public: keyval.public } };
  }
  return {
    keys,
    succinct_roles: { keyids, threshold: owners.threshold, bit_length: bins.bitLength, name_prefix: bins.namePrefix },
  };
}

/**
 * Why `delegations` (as the owners signed it) is not exactly the bins of
 * `expected` with the owners' keys and threshold, or null. Keyids are
 * compared as a set; every key must be the owners' key under its keyid.
 */
export function succinctProblem(delegations: unknown, expected: OwnersSuccinctDelegations): string | null {
  const want = expected.succinct_roles;
  const shape = `delegations {keys: the owners' keys, succinct_roles: {keyids: the owners' keyids, threshold: ${want.threshold}, bit_length: ${want.bit_length}, name_prefix: "${want.name_prefix}"}}`;
  if (typeof delegations !== "object" || delegations === null) return `the role lists ${shape}`;
  const { keys, succinct_roles: got, roles } = delegations as Record<string, unknown>;
  if (roles !== undefined) return `the role delegates to its hash bins only (no named roles): ${shape}`;
  if (typeof got !== "object" || got === null) return `the role lists ${shape}`;
  const { keyids, threshold, bit_length, name_prefix, ...rest } = got as Record<string, unknown>;
  if (Object.keys(rest).length > 0)
    return `succinct_roles has no other fields than keyids, threshold, bit_length and name_prefix`;
  if (bit_length !== want.bit_length || name_prefix !== want.name_prefix || threshold !== want.threshold) {
    return `succinct_roles is {bit_length: ${want.bit_length}, name_prefix: "${want.name_prefix}", threshold: ${want.threshold}}: the bins the delegation was added with, signed by its owners' threshold`;
  }
  const sortedIds = Array.isArray(keyids) ? [...keyids].sort() : null;
  if (!sortedIds || JSON.stringify(sortedIds) !== JSON.stringify(want.keyids)) {
    return "succinct_roles.keyids are exactly the owners' keyids (the bins are signed by the delegation's owners)";
  }
  if (typeof keys !== "object" || keys === null) return `the role lists ${shape}`;
  const listed = Object.keys(keys).sort();
  if (JSON.stringify(listed) !== JSON.stringify(want.keyids)) return "delegations.keys are exactly the owners' keys";
  for (const keyid of listed) {
    const key = (keys as Record<string, Key>)[keyid] as Key;
    const own = expected.keys[keyid] as Key;
    if (key?.keytype !== own.keytype || key.scheme !== own.scheme || key.keyval?.public !== own.keyval.public) {
      return `delegations.keys["${keyid}"] is the owner's key with that keyid`;
    }
  }
  return null;
}

/**
 * The signed parts of an offline delegation's first versions when its
 * targets are in bins: the role (no targets, delegating to the bins) and
 * each bin, empty, in bin order; for the owners to sign (`tuf-edge
 * delegation init`) and send with the request that adds the delegation.
 */
export function firstVersions(
  name: string,
  owners: OfflineOwnerKeys,
  binCount: number,
  expires: string,
): Array<{ role: string; signed: Record<string, unknown> }> {
  const bins = delegationBins(name, HashBins.bitLengthFor(binCount));
  const empty = (extra: Record<string, unknown> = {}) => ({
    _type: "targets",
    spec_version: SPEC_VERSION,
    version: 1,
    expires,
    targets: {},
    ...extra,
  });
  return [
    { role: name, signed: empty({ delegations: ownersSuccinctDelegations(owners, bins) }) },
    ...bins.names().map((role) => ({ role, signed: empty() })),
  ];
}
