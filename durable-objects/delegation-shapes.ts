/**
 * The signed part of each role the delegations shape, as the service signs
 * it with the online key: top-level `targets` once it lists delegations
 * (its delegations in order, then the catch-all `bins`), the catch-all
 * itself (TAP 15 `succinct_roles` over the hash bins), and each online
 * delegation (its own targets, and its nested delegations or its own bins).
 * An offline delegation is listed with its owners' keys and threshold; the
 * service never signs one.
 */
import type { DelegatedRole, RoleDelegations } from "../src/tuf/delegations.ts";
import type { HashBins } from "../src/tuf/hash-bins.ts";
import type { Key } from "../src/tuf/key.ts";
import { delegatingTargets, type TargetFile, type Targets } from "../src/tuf/targets.ts";
import type { Delegation, DelegationTree } from "./delegation-tree.ts";

/** The catch-all role through which `targets` delegates to the hash bins once it lists delegations. */
export const CATCH_ALL_ROLE = "bins";

const ALL_PREFIXES = [..."0123456789abcdef"];

/** What shaping a role reads: the tree, whether `targets` delegates through named roles yet, the top-level bins. */
export interface ShapeSource {
  tree: DelegationTree;
  active: () => boolean;
  topBins: () => HashBins;
}

/** A role to shape: its name, the version and expiry it gets, the online key, and its own target files. */
export type ShapeRequest = [
  name: string,
  version: number,
  expires: string,
  online: { keyid: string; key: Key },
  ownTargets: () => Record<string, TargetFile>,
];

/**
 * The signed part of role `name` if the delegations shape it, or null for
 * the roles the publisher builds itself (the hash bins, inner ones included,
 * and `targets` while it delegates to the bins directly).
 */
export function signedShape(
  source: ShapeSource,
  ...[name, version, expires, online, ownTargets]: ShapeRequest
): Targets | null {
  const { tree } = source;
  const keys = { [online.keyid]: online.key };
  const withOwners = (children: Delegation[]) => {
    const all: Record<string, Key> = { ...keys };
    for (const d of children) Object.assign(all, d.offline?.keys);
    return all;
  };
  if (name === "targets") {
    if (!source.active()) return null;
    const catchAll: DelegatedRole = {
      name: CATCH_ALL_ROLE,
      keyids: [online.keyid],
      threshold: 1,
      terminating: true,
      path_hash_prefixes: ALL_PREFIXES,
    };
    const children = tree.children("targets");
    const roles = [...children.map((d) => delegatedRole(d, online.keyid)), catchAll];
    return delegatingTargets(version, expires, ownTargets(), { keys: withOwners(children), roles });
  }
  if (name === CATCH_ALL_ROLE) {
    const bins = source.topBins();
    return delegatingTargets(
      version,
      expires,
      {},
      {
        keys,
        succinct_roles: {
          keyids: [online.keyid],
          threshold: 1,
          bit_length: bins.bitLength,
          name_prefix: bins.namePrefix,
        },
      },
    );
  }
  const delegation = tree.find(name);
  if (!delegation) return null;
  if (delegation.offline) throw new Error(`delegation "${name}" is offline: the service never signs it`);
  if (delegation.bins) {
    const { bitLength, namePrefix } = delegation.bins;
    return delegatingTargets(version, expires, ownTargets(), {
      keys,
      succinct_roles: { keyids: [online.keyid], threshold: 1, bit_length: bitLength, name_prefix: namePrefix },
    });
  }
  const children = tree.children(name);
  const delegations: RoleDelegations | undefined =
    children.length > 0
      ? { keys: withOwners(children), roles: children.map((d) => delegatedRole(d, online.keyid)) }
      : undefined;
  return delegatingTargets(version, expires, ownTargets(), delegations);
}

/** How a delegating role lists delegation `d`: the online key signs it, or its owners do. */
function delegatedRole(d: Delegation, keyid: string): DelegatedRole {
  const role: DelegatedRole = {
    name: d.name,
    keyids: d.offline ? Object.keys(d.offline.keys) : [keyid],
    threshold: d.offline?.threshold ?? 1,
    terminating: d.terminating,
  };
  if (d.paths) role.paths = d.paths;
  if (d.path_hash_prefixes) role.path_hash_prefixes = d.path_hash_prefixes;
  return role;
}
