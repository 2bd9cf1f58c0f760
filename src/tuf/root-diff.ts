/**
 * What changes between two roots, for people who must decide whether to sign
 * the second: keys added and removed, thresholds, expiry.
 */
import { type Root, TOP_LEVEL_ROLES, type TopLevelRole } from "./root.ts";

export interface RoleDiff {
  keyidsAdded: string[];
  keyidsRemoved: string[];
  threshold: { from: number; to: number } | null;
}

export interface RootDiff {
  version: { from: number; to: number };
  expires: { from: string; to: string };
  keysAdded: Array<{ keyid: string; keytype: string; scheme: string }>;
  keysRemoved: Array<{ keyid: string; keytype: string; scheme: string }>;
  roles: Record<TopLevelRole, RoleDiff>;
  consistentSnapshot: { from: boolean; to: boolean } | null;
}

export function diffRoots(from: Root, to: Root): RootDiff {
  const describe = (root: Root) => (keyid: string) => {
    const key = root.keys[keyid];
    if (!key) throw new TypeError(`root v${root.version} lists keyid ${keyid} without its key`);
    return { keyid, keytype: key.keytype, scheme: key.scheme };
  };
  const roles = {} as Record<TopLevelRole, RoleDiff>;
  for (const name of TOP_LEVEL_ROLES) {
    const a = from.roles[name];
    const b = to.roles[name];
    roles[name] = {
      keyidsAdded: b.keyids.filter((k) => !a.keyids.includes(k)),
      keyidsRemoved: a.keyids.filter((k) => !b.keyids.includes(k)),
      threshold: a.threshold === b.threshold ? null : { from: a.threshold, to: b.threshold },
    };
  }
  return {
    version: { from: from.version, to: to.version },
    expires: { from: from.expires, to: to.expires },
    keysAdded: Object.keys(to.keys)
      .filter((k) => !(k in from.keys))
      .map(describe(to)),
    keysRemoved: Object.keys(from.keys)
      .filter((k) => !(k in to.keys))
      .map(describe(from)),
    roles,
    consistentSnapshot:
      from.consistent_snapshot === to.consistent_snapshot
        ? null
        : { from: from.consistent_snapshot, to: to.consistent_snapshot },
  };
}
