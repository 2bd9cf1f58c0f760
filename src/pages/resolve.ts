/**
 * Follows the published metadata the way a client does, without checking
 * signatures (the page's script does that in the browser): timestamp →
 * snapshot → targets → the spec's preorder search through its delegations
 * (the hash bins, or named delegations and then the bins) → the entry.
 */
import { delegatedRolesFor, searchTarget } from "../tuf/delegations.ts";
import type { Snapshot } from "../tuf/snapshot.ts";
import type { TargetFile, Targets } from "../tuf/targets.ts";
import type { Timestamp } from "../tuf/timestamp.ts";
import type { Published } from "./published.ts";

export interface TopLevel {
  timestamp: Timestamp;
  snapshot: Snapshot;
  targets: Targets;
}

export interface ResolvedTarget {
  bin: string;
  binVersion: number;
  binExpires: string;
  entry: TargetFile | null;
}

async function signed<T>(published: Published, file: string): Promise<T | null> {
  const envelope = await published.json<{ signed: T }>(published.metadata(file));
  return envelope?.signed ?? null;
}

/** The served timestamp, snapshot and targets; null before the first publish. */
export async function topLevel(published: Published): Promise<TopLevel | null> {
  const timestamp = await signed<Timestamp>(published, "timestamp.json");
  if (!timestamp) return null;
  const snapshot = await signed<Snapshot>(published, `${timestamp.meta["snapshot.json"].version}.snapshot.json`);
  const targetsVersion = snapshot?.meta["targets.json"]?.version;
  if (!snapshot || !targetsVersion) return null;
  const targets = await signed<Targets>(published, `${targetsVersion}.targets.json`);
  if (!targets?.delegations) return null;
  return { timestamp, snapshot, targets };
}

/**
 * The role that lists `path` and its entry; if none does, the last role the
 * search read (where the path would be listed) with no entry.
 */
export async function resolveTarget(published: Published, top: TopLevel, path: string): Promise<ResolvedTarget | null> {
  let last: Omit<ResolvedTarget, "entry"> | null = null;
  const found = await searchTarget<TargetFile>(path, async (name) => {
    if (name === "targets") return { targets: {}, children: (p) => delegatedRolesFor(top.targets.delegations, p) };
    const version = top.snapshot.meta[`${name}.json`]?.version;
    const role = version ? await signed<Targets>(published, `${version}.${name}.json`) : null;
    if (!version || !role) return null;
    last = { bin: name, binVersion: version, binExpires: role.expires };
    return { targets: role.targets, children: (p) => delegatedRolesFor(role.delegations, p) };
  });
  const at = last as Omit<ResolvedTarget, "entry"> | null;
  return at ? { ...at, entry: found?.target ?? null } : null;
}
