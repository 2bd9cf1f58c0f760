/**
 * What changes between two versions of a delegating targets role, for the
 * people who must decide whether to sign the second (like root-diff.ts for
 * roots): delegated roles added and removed, and for a role in both its keys,
 * threshold, claims and terminating flag; the order a client's search meets
 * them; keys the role lists; version and expiry.
 */
import { fromUtf8 } from "../lib/bytes.ts";
import { canonicalBytes } from "./canonical.ts";
import type { DelegatedRole } from "./delegations.ts";
import type { Targets } from "./targets.ts";

/** A delegated role as the diff shows it (a succinct delegation too, named after its bins). */
export type DelegatedRoleSummary = Pick<
  DelegatedRole,
  "name" | "keyids" | "threshold" | "terminating" | "paths" | "path_hash_prefixes"
>;

export interface DelegatedRoleChange {
  name: string;
  keyidsAdded: string[];
  keyidsRemoved: string[];
  threshold: { from: number; to: number } | null;
  claims: { from: string[]; to: string[] } | null;
  terminating: { from: boolean; to: boolean } | null;
}

export interface TargetsDiff {
  version: { from: number; to: number };
  expires: { from: string; to: string };
  rolesAdded: DelegatedRoleSummary[];
  rolesRemoved: DelegatedRoleSummary[];
  rolesChanged: DelegatedRoleChange[];
  /** The delegated roles in the order a client's search meets them, if that order changes. */
  order: { from: string[]; to: string[] } | null;
  /** Target files the role lists itself whose entries are added, removed or changed. */
  targetsChanged: string[];
}

function rolesOf(targets: Targets | null): DelegatedRole[] {
  const delegations = targets?.delegations as { roles?: DelegatedRole[] } | undefined;
  return delegations?.roles ?? [];
}

/** A succinct (hash-bin) delegation is summarised as one role named after its name prefix. */
function succinctOf(targets: Targets | null): DelegatedRoleSummary | null {
  const succinct = (targets?.delegations as { succinct_roles?: Record<string, unknown> } | undefined)?.succinct_roles;
  if (!succinct) return null;
  const s = succinct as { keyids: string[]; threshold: number; bit_length: number; name_prefix: string };
  return {
    name: `${s.name_prefix}-* (${2 ** s.bit_length} hash bins)`,
    keyids: s.keyids,
    threshold: s.threshold,
    terminating: true,
  };
}

function summary(role: DelegatedRole): DelegatedRoleSummary {
  return {
    name: role.name,
    keyids: role.keyids,
    threshold: role.threshold,
    terminating: role.terminating,
    ...(role.paths ? { paths: role.paths } : {}),
    ...(role.path_hash_prefixes ? { path_hash_prefixes: role.path_hash_prefixes } : {}),
  };
}

const claims = (r: DelegatedRoleSummary) =>
  r.paths ? r.paths : (r.path_hash_prefixes ?? []).map((prefix) => `hash prefix ${prefix}`);

/** `from` is the published version (null if none can be read); `to` the draft. */
export function diffTargets(from: Targets | null, to: Targets): TargetsDiff {
  const before = rolesOf(from).map(summary);
  const after = rolesOf(to).map(summary);
  const succinctBefore = succinctOf(from);
  const succinctAfter = succinctOf(to);
  if (succinctBefore) before.push(succinctBefore);
  if (succinctAfter) after.push(succinctAfter);
  const byName = (list: DelegatedRoleSummary[]) => new Map(list.map((r) => [r.name, r]));
  const was = byName(before);
  const now = byName(after);
  const rolesChanged: DelegatedRoleChange[] = [];
  for (const role of after) {
    const old = was.get(role.name);
    if (!old) continue;
    const change: DelegatedRoleChange = {
      name: role.name,
      keyidsAdded: role.keyids.filter((k) => !old.keyids.includes(k)),
      keyidsRemoved: old.keyids.filter((k) => !role.keyids.includes(k)),
      threshold: old.threshold === role.threshold ? null : { from: old.threshold, to: role.threshold },
      claims:
        JSON.stringify(claims(old)) === JSON.stringify(claims(role)) ? null : { from: claims(old), to: claims(role) },
      terminating: old.terminating === role.terminating ? null : { from: old.terminating, to: role.terminating },
    };
    const changed =
      change.keyidsAdded.length + change.keyidsRemoved.length > 0 ||
      change.threshold !== null ||
      change.claims !== null ||
      change.terminating !== null;
    if (changed) rolesChanged.push(change);
  }
  const names = (list: DelegatedRoleSummary[]) => list.map((r) => r.name);
  const fromTargets = from?.targets ?? {};
  const toTargets = to.targets;
  // Entries compare by their canonical form: a draft read back from its canonical text has its keys sorted.
  const canonical = (entry: unknown) => (entry === undefined ? "" : fromUtf8(canonicalBytes(entry)));
  const targetsChanged = [...new Set([...Object.keys(fromTargets), ...Object.keys(toTargets)])]
    .filter((path) => canonical(fromTargets[path]) !== canonical(toTargets[path]))
    .sort();
  return {
    version: { from: from?.version ?? 0, to: to.version },
    expires: { from: from?.expires ?? "", to: to.expires },
    rolesAdded: after.filter((r) => !was.has(r.name)),
    rolesRemoved: before.filter((r) => !now.has(r.name)),
    rolesChanged,
    order:
      JSON.stringify(names(before)) === JSON.stringify(names(after)) ? null : { from: names(before), to: names(after) },
    targetsChanged,
  };
}

/** The diff as lines for people (the CLI prints these before anyone signs). */
export function targetsDiffLines(diff: TargetsDiff): string[] {
  const short = (keyid: string) => keyid.slice(0, 12);
  const describe = (r: DelegatedRoleSummary) =>
    `${r.name}: ${claims(r).join(" ")}; ${r.threshold} of ${r.keyids.length} key(s) ${r.keyids.map(short).join(" ")}${r.terminating ? "; terminating" : ""}`;
  const lines = [`targets v${diff.version.from} → v${diff.version.to}, expires ${diff.expires.to}`];
  for (const r of diff.rolesAdded) lines.push(`  + delegation ${describe(r)}`);
  for (const r of diff.rolesRemoved) lines.push(`  - delegation ${describe(r)}`);
  for (const c of diff.rolesChanged) {
    const parts: string[] = [];
    if (c.keyidsAdded.length) parts.push(`keys added ${c.keyidsAdded.map(short).join(" ")}`);
    if (c.keyidsRemoved.length) parts.push(`keys removed ${c.keyidsRemoved.map(short).join(" ")}`);
    if (c.threshold) parts.push(`threshold ${c.threshold.from} → ${c.threshold.to}`);
    if (c.claims) parts.push(`claims ${c.claims.from.join(" ")} → ${c.claims.to.join(" ")}`);
    if (c.terminating) parts.push(`terminating ${c.terminating.from} → ${c.terminating.to}`);
    lines.push(`  ~ delegation ${c.name}: ${parts.join("; ")}`);
  }
  if (diff.order) lines.push(`  search order ${diff.order.from.join(", ")} → ${diff.order.to.join(", ")}`);
  for (const path of diff.targetsChanged) lines.push(`  target file ${path} changes`);
  if (lines.length === 1) lines.push("  no delegation changes (a new version with a later expiry)");
  return lines;
}
