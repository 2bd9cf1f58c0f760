/** Readable views of roots and of what a draft root changes. */
import type { CeremonyView } from "../../src/repository-api.ts";
import type { RootDiff } from "../../src/tuf/root-diff.ts";
import type { Root } from "../../src/tuf/root.ts";
import { color, humanDuration, shortId } from "./output.ts";

const ONLINE = ["targets", "snapshot", "timestamp"] as const;

export function expiresIn(expires: string, now = Date.now()): string {
  return `${expires} (${Date.parse(expires) - now < 0 ? "expired " : "in "}${humanDuration(Date.parse(expires) - now)})`;
}

/** The lines describing a root: its keys and thresholds. `labels` names keyids (e.g. by key file). */
export function describeRoot(root: Root, labels: Record<string, string> = {}): string[] {
  const lines = [`root v${root.version}, expires ${expiresIn(root.expires)}`];
  lines.push(`  root keys: threshold ${root.roles.root.threshold} of ${root.roles.root.keyids.length}`);
  for (const id of root.roles.root.keyids) {
    const key = root.keys[id]!;
    lines.push(`    ${id}  ${key.keytype}/${key.scheme}${labels[id] ? `  ${labels[id]}` : ""}`);
  }
  const online = [...new Set(ONLINE.flatMap((r) => root.roles[r].keyids))];
  for (const id of online) {
    const roles = ONLINE.filter((r) => root.roles[r].keyids.includes(id));
    lines.push(
      `  online key ${id}  ${root.keys[id]?.keytype ?? "?"} (held by the service) signs ${roles.join(", ")} and the hash bins`,
    );
  }
  return lines;
}

/** The lines describing a RootDiff: what changes if the draft is signed. */
export function describeDiff(diff: RootDiff): string[] {
  const lines = [`root v${diff.version.from} → v${diff.version.to}`];
  lines.push(
    `  expires: ${diff.expires.from} → ${diff.expires.to}${diff.expires.from === diff.expires.to ? " (unchanged)" : ""}`,
  );
  for (const k of diff.keysAdded) lines.push(color.green(`  + key ${k.keyid}  ${k.keytype}/${k.scheme}`));
  for (const k of diff.keysRemoved) lines.push(color.red(`  - key ${k.keyid}  ${k.keytype}/${k.scheme}`));
  for (const [role, change] of Object.entries(diff.roles)) {
    const parts: string[] = [];
    for (const id of change.keyidsAdded) parts.push(color.green(`+${shortId(id)}`));
    for (const id of change.keyidsRemoved) parts.push(color.red(`-${shortId(id)}`));
    if (change.threshold) parts.push(`threshold ${change.threshold.from} → ${change.threshold.to}`);
    if (parts.length) lines.push(`  role ${role}: ${parts.join(", ")}`);
  }
  if (diff.consistentSnapshot)
    lines.push(`  consistent_snapshot: ${diff.consistentSnapshot.from} → ${diff.consistentSnapshot.to}`);
  const rolesChanged = Object.values(diff.roles).some(
    (r) => r.keyidsAdded.length || r.keyidsRemoved.length || r.threshold,
  );
  if (!diff.keysAdded.length && !diff.keysRemoved.length && !rolesChanged)
    lines.push("  keys and thresholds unchanged");
  return lines;
}

/** The keyids of the root the draft must satisfy (the trusted root N-1), from the draft and its diff. */
export function trustedRootKeyids(view: Pick<CeremonyView, "draft" | "summary">): string[] {
  const { keyidsAdded, keyidsRemoved } = view.summary.roles.root;
  return [...view.draft.roles.root.keyids.filter((k) => !keyidsAdded.includes(k)), ...keyidsRemoved];
}

export function describeCeremony(view: CeremonyView): string[] {
  const { trustedRoot, draftRoot } = view.progress;
  const lines = [
    `ceremony ${view.id}: ${view.kind} to root v${view.rootVersion}, ${view.state}`,
    `  opened ${view.openedAt}; ${view.state === "awaiting-signatures" ? `the draft expires ${expiresIn(view.expiresAt)}` : `closed ${view.closedAt ?? "?"}`}`,
    `  signatures: ${trustedRoot.signed}/${trustedRoot.threshold} of root v${view.rootVersion - 1}'s keys, ${draftRoot.signed}/${draftRoot.threshold} of the draft's`,
    ...view.signatures.map((s) => `    signed by ${s.keyid}`),
    ...describeDiff(view.summary).map((l) => `  ${l}`),
  ];
  return lines;
}
