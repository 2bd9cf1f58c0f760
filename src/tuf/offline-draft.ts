/**
 * The next version of an offline-signed delegated role, drafted by the
 * service for its owners to sign (durable-objects/offline-queue.ts keeps the
 * changes, offline-drafts.ts the draft). Pure: the role's published `signed` part and the
 * changes accepted for its paths since then are passed in.
 *
 * The draft is the published `signed` part with every field the owners put
 * there kept, `version` one more, `expires` as given, and `targets` the
 * published targets with the changes applied in the order they were accepted:
 *   - targets.add      lists the entry (length, hashes, custom as pushed);
 *   - targets.remove   drops it (nothing, if it is not listed);
 *   - targets.yank     marks it `custom.yanked: true` with `yanked_reason`;
 *   - targets.unyank   drops those two fields again;
 *   - attestations.add appends `{predicate_type, sha256}` to the entry's
 *                      `custom.attestations` (src/tuf/target-attestations.ts),
 *                      as the service does for the targets it signs; nothing,
 *                      if the path is not listed (removed meanwhile).
 * Its canonical JSON is what the owners sign (spec §4.2); the envelope built
 * from their signatures serves that `signed` part as JSON.
 */
import { dictionary } from "../lib/dictionary.ts";
import { canonicalBytes } from "./canonical.ts";
import type { Hashes, TargetFile } from "./targets.ts";
import { withAttestation } from "./target-attestations.ts";

/** A change to one path of an offline role, accepted by the service and not yet signed by its owners. */
export type PendingChange =
  | { type: "targets.add"; path: string; length: number; hashes: Hashes; custom?: Record<string, unknown> }
  | { type: "targets.remove"; path: string }
  | { type: "targets.yank"; path: string; reason: string }
  | { type: "targets.unyank"; path: string }
  | {
      type: "attestations.add";
      path: string;
      /** The bundle's SHA-256 (stored at its content address when accepted) and predicate type, as the entry lists them. */
      sha256: string;
      predicate_type: string | null;
      /** What the service records once the owners publish it (durable-objects/attestations.ts). */
      media_type: string;
      publisher: Record<string, unknown>;
    };

export const PENDING_CHANGE_TYPES: ReadonlySet<string> = new Set([
  "targets.add",
  "targets.remove",
  "targets.yank",
  "targets.unyank",
  "attestations.add",
]);

/** A copy of `targets` as a dictionary (paths are outside input). */
export function targetsDictionary(targets: Readonly<Record<string, TargetFile>>): Record<string, TargetFile> {
  const copy = dictionary<TargetFile>();
  for (const [path, entry] of Object.entries(targets)) copy[path] = entry;
  return copy;
}

/** Applies `change` to `targets` (a dictionary, changed in place). */
export function applyPendingChange(targets: Record<string, TargetFile>, change: PendingChange): void {
  const listed = Object.hasOwn(targets, change.path) ? targets[change.path] : undefined;
  switch (change.type) {
    case "targets.add": {
      const entry: TargetFile = { length: change.length, hashes: change.hashes };
      if (change.custom && Object.keys(change.custom).length > 0) entry.custom = change.custom;
      targets[change.path] = entry;
      return;
    }
    case "targets.remove":
      delete targets[change.path];
      return;
    case "targets.yank":
    case "targets.unyank": {
      if (!listed) return;
      const { yanked: _y, yanked_reason: _r, ...custom } = listed.custom ?? {};
      const next = change.type === "targets.yank" ? { ...custom, yanked: true, yanked_reason: change.reason } : custom;
      const { custom: _c, ...rest } = listed;
      targets[change.path] = Object.keys(next).length > 0 ? { ...rest, custom: next } : rest;
      return;
    }
    case "attestations.add":
      if (listed)
        targets[change.path] = withAttestation(listed, {
          predicate_type: change.predicate_type ?? "",
          sha256: change.sha256,
        });
      return;
  }
}

/** The targets `published` lists with `changes` applied in order. */
export function withChanges(
  published: Readonly<Record<string, TargetFile>>,
  changes: readonly PendingChange[],
): Record<string, TargetFile> {
  const targets = targetsDictionary(published);
  for (const change of changes) applyPendingChange(targets, change);
  return targets;
}

export interface OfflineDraft {
  signed: Record<string, unknown> & { version: number; expires: string; targets: Record<string, TargetFile> };
  /** The canonical JSON of `signed`: what the owners sign. */
  canonical: Uint8Array<ArrayBuffer>;
}

/** The draft of the version after `published` (a role's signed part), listing `targets`, expiring at `expires`. */
export function draftNextVersion(
  published: Readonly<Record<string, unknown>> & { version: number },
  targets: Record<string, TargetFile>,
  expires: string,
): OfflineDraft {
  const signed = { ...published, version: published.version + 1, expires, targets };
  return { signed, canonical: canonicalBytes(signed) };
}
