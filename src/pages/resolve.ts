/**
 * Follows the published metadata the way a client does, without checking
 * signatures (the page's script does that in the browser): timestamp →
 * snapshot → targets → the target's hash bin → its entry.
 */
import { HashBins } from "../tuf/hash-bins.ts";
import type { Snapshot } from "../tuf/snapshot.ts";
import type { TargetFile, Targets } from "../tuf/targets.ts";
import type { Timestamp } from "../tuf/timestamp.ts";
import type { Published } from "./published.ts";

export interface LogHeadClaim {
  origin: string;
  size: number;
  root_hash: string;
}

export interface TopLevel {
  timestamp: Timestamp;
  snapshot: Snapshot;
  targets: Targets;
  bins: HashBins;
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
  const succinct = targets?.delegations?.succinct_roles;
  if (!targets || !succinct) return null;
  return { timestamp, snapshot, targets, bins: new HashBins(succinct.bit_length, succinct.name_prefix) };
}

export async function resolveTarget(published: Published, top: TopLevel, path: string): Promise<ResolvedTarget | null> {
  const bin = await top.bins.binFor(path);
  const binVersion = top.snapshot.meta[`${bin}.json`]?.version;
  if (!binVersion) return null;
  const binTargets = await signed<Targets>(published, `${binVersion}.${bin}.json`);
  if (!binTargets) return null;
  return {
    bin,
    binVersion,
    binExpires: binTargets.expires,
    entry: Object.hasOwn(binTargets.targets, path) ? (binTargets.targets[path] ?? null) : null,
  };
}

export function logHeadClaim(timestamp: Timestamp): LogHeadClaim | null {
  const head = timestamp["x-tuf-edge-log"] as LogHeadClaim | undefined;
  return head && typeof head.size === "number" ? head : null;
}
