/** Readable views of roots and of what a draft root changes. */
import type { CeremonyView } from "../../src/repository-api.ts";
import { diffRoots } from "../../src/tuf/root-diff.ts";
import type { Root } from "../../src/tuf/root.ts";
import { targetsDiffLines } from "../../src/tuf/targets-diff.ts";
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
    const key = root.keys[id];
    lines.push(
      `    ${id}  ${key ? `${key.keytype}/${key.scheme}` : "(no key listed)"}${labels[id] ? `  ${labels[id]}` : ""}`,
    );
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

/**
 * What changes if `draft` (root N+1) is signed, against `trusted` (root N),
 * in plain lines that do not depend on the clock or the terminal: written
 * into offline ceremony files and recomputed by every machine that reads one.
 */
export function summaryLines(trusted: Root, draft: Root): string[] {
  const diff = diffRoots(trusted, draft);
  const lines = [`root v${diff.version.from} → v${diff.version.to}`];
  lines.push(
    `  expires: ${diff.expires.from} → ${diff.expires.to}${diff.expires.from === diff.expires.to ? " (unchanged)" : ""}`,
  );
  const ofKeys = (root: Root) => `${root.roles.root.threshold} of ${root.roles.root.keyids.length}`;
  lines.push(
    `  root keys: threshold ${ofKeys(trusted)} → ${ofKeys(draft)}${ofKeys(trusted) === ofKeys(draft) ? " (unchanged)" : ""}`,
  );
  for (const k of diff.keysAdded) lines.push(`  + key ${k.keyid}  ${k.keytype}/${k.scheme}`);
  for (const k of diff.keysRemoved) lines.push(`  - key ${k.keyid}  ${k.keytype}/${k.scheme}`);
  for (const [role, change] of Object.entries(diff.roles)) {
    const parts: string[] = [];
    for (const id of change.keyidsAdded) parts.push(`+${shortId(id)}`);
    for (const id of change.keyidsRemoved) parts.push(`-${shortId(id)}`);
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
  lines.push(
    `  published once signed by ${ofKeys(trusted)} root keys of root v${trusted.version} and ${ofKeys(draft)} of root v${draft.version}`,
  );
  return lines;
}

/** `summaryLines`, with added keys in green and removed ones in red on a terminal. */
export function describeChange(trusted: Root, draft: Root): string[] {
  return summaryLines(trusted, draft).map((line) =>
    line.startsWith("  + ") ? color.green(line) : line.startsWith("  - ") ? color.red(line) : line,
  );
}

/** The keyids of the root the draft must satisfy (the trusted root N-1), from the draft and its diff. */
export function trustedRootKeyids(view: Pick<CeremonyView, "draft" | "summary">): string[] {
  if (!view.draft || !view.summary) return [];
  const { keyidsAdded, keyidsRemoved } = view.summary.roles.root;
  return [...view.draft.roles.root.keyids.filter((k) => !keyidsAdded.includes(k)), ...keyidsRemoved];
}

/** A ceremony opened on the service, with what its draft changes against `trusted` (root N). */
export function describeCeremony(view: CeremonyView, trusted: Root): string[] {
  const { trustedRoot, draftRoot, targets } = view.progress;
  const to = [
    view.draft ? `root v${view.rootVersion}` : null,
    view.targets ? `targets v${view.targets.version}` : null,
  ];
  const lines = [
    `ceremony ${view.id}: ${view.kind} to ${to.filter(Boolean).join(" and ")}, ${view.state}`,
    `  opened ${view.openedAt}; ${view.state === "awaiting-signatures" ? `the draft expires ${expiresIn(view.expiresAt)}` : `closed ${view.closedAt ?? "?"}`}`,
  ];
  if (view.draft && trustedRoot && draftRoot) {
    lines.push(
      `  root signatures: ${trustedRoot.signed} of ${trustedRoot.threshold} needed from root v${view.rootVersion - 1}'s keys, ${draftRoot.signed} of ${draftRoot.threshold} from the draft's`,
      ...view.signatures.map((s) => `    signed by ${s.keyid}`),
      ...describeChange(trusted, view.draft as Root).map((l) => `  ${l}`),
    );
  }
  if (view.targets && targets) {
    lines.push(
      `  targets: ${view.targets.change}`,
      `  targets signatures: ${targets.signed} of ${targets.threshold} needed from the targets keys (${view.targets.keyids.map(shortId).join(" ")})`,
      ...view.targets.signatures.map((s) => `    signed by ${s.keyid}`),
      ...targetsDiffLines(view.targets.summary).map((l) =>
        l.startsWith("  + ") ? color.green(`  ${l}`) : l.startsWith("  - ") ? color.red(`  ${l}`) : `  ${l}`,
      ),
    );
  }
  return lines;
}
