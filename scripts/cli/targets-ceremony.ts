/**
 * `tuf-edge ceremony export|sign FILE|submit|bytes` for ceremonies that draft
 * top-level targets (protected-delegations mode, docs/operators.md §12): the
 * targets part of a ceremony file, and `targets-change` files (checked by
 * targets-ceremony-file.ts).
 */
import { readFileSync } from "node:fs";
import type { CeremonyView, PublishedVersions } from "../../src/repository-api.ts";
import type { Envelope, Signature } from "../../src/tuf/metadata.ts";
import type { Root } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import type { Targets } from "../../src/tuf/targets.ts";
import type { AdminClient } from "../lib/admin-client.ts";
import {
  CEREMONY_FILE_FORMAT,
  type TargetsChangeFile,
  type TargetsFilePart,
  writeCeremonyFile,
} from "./ceremony-file.ts";
import { requireRepo, requireUrl, type Settings } from "./config.ts";
import { failed } from "./exit.ts";
import { color, info, shortId } from "./output.ts";
import {
  addTargetsSignatures,
  targetsPartLines,
  targetsSummary,
  verifyTargetsChangeFile,
} from "./targets-ceremony-file.ts";
import { fetchTargetsEnvelope, targetsDraftOf } from "./targets-draft.ts";

/** What every file of an open ceremony starts with: where it came from, when, and which ceremony. */
export function ceremonyFileHeader(settings: Settings, view: CeremonyView) {
  return {
    format: CEREMONY_FILE_FORMAT,
    url: requireUrl(settings),
    repository: requireRepo(settings),
    created: new Date().toISOString(),
    ceremony: { id: view.id, kind: view.kind, rootVersion: view.rootVersion, expiresAt: view.expiresAt },
  } as const;
}

/** A file's kind, read before the file is checked as one kind or the other. */
export function ceremonyFileKind(path: string): string | null {
  try {
    return (JSON.parse(readFileSync(path, "utf8")) as { kind?: string })?.kind ?? null;
  } catch {
    return null;
  }
}

/** The targets part of an open ceremony's file: the draft, the published targets it follows, the summary. */
export async function targetsFilePart(settings: Settings, view: CeremonyView): Promise<TargetsFilePart | undefined> {
  const { targets } = view;
  if (!targets) return undefined;
  const base = await fetchTargetsEnvelope(settings, targets.baseVersion);
  return {
    canonical: targets.canonical,
    base,
    summary: targetsSummary(base?.signed ?? null, targetsDraftOf(targets)),
    signatures: targets.signatures,
  };
}

/** Writes a targets-change file for a ceremony with no root draft; returns its fingerprint and summary. */
export async function exportTargetsChange(
  settings: Settings,
  view: CeremonyView,
  rootChain: Envelope<Root>[],
  path: string,
): Promise<{ fingerprint: string; summary: string[] }> {
  const part = await targetsFilePart(settings, view);
  if (!part) throw failed(`ceremony ${view.id} drafts nothing to sign`);
  const file: TargetsChangeFile = {
    ...ceremonyFileHeader(settings, view),
    kind: "targets-change",
    rootChain,
    targets: part,
  };
  const verified = await verifyTargetsChangeFile(path, file, null);
  await writeCeremonyFile(path, file);
  return { fingerprint: verified.targets.fingerprint, summary: verified.targets.summary };
}

export function readTargetsChangeFile(path: string): TargetsChangeFile {
  const file = JSON.parse(readFileSync(path, "utf8")) as Partial<TargetsChangeFile>;
  const shaped =
    file?.format === CEREMONY_FILE_FORMAT &&
    file.kind === "targets-change" &&
    Array.isArray(file.rootChain) &&
    Boolean(file.ceremony) &&
    typeof file.targets?.canonical === "string" &&
    Array.isArray(file.targets?.signatures) &&
    Array.isArray(file.targets?.summary);
  if (!shaped) throw failed(`${path} is not a tuf-edge targets-change ceremony file (${CEREMONY_FILE_FORMAT})`);
  return file as TargetsChangeFile;
}

/** What every offline step shows of a targets-change file. */
export function describeTargetsChange(verified: Awaited<ReturnType<typeof verifyTargetsChangeFile>>): string[] {
  const { file, inForce, targets } = verified;
  return [
    `ceremony ${file.ceremony.id}: ${file.ceremony.kind} to targets v${targets.draft.version} of "${file.repository}" (root v${inForce.version} in force)`,
    `  the service's draft expires ${file.ceremony.expiresAt}; service ${file.url} (not signed: submit checks the ceremony there)`,
    ...targetsPartLines(targets),
  ];
}

/** `ceremony sign FILE` for a targets-change file (its keys checked by the caller: targets keys of the root in force). */
export async function signTargetsChangeFile(
  path: string,
  pinned: Root | null,
  signers: () => Promise<Signer[]>,
): Promise<TargetsChangeFile> {
  const verified = await verifyTargetsChangeFile(path, readTargetsChangeFile(path), pinned);
  const file = { ...verified.file, targets: await addTargetsSignatures(verified.file.targets, await signers()) };
  await verifyTargetsChangeFile(path, file, pinned);
  await writeCeremonyFile(path, file);
  return file;
}

/**
 * Submits the targets signatures in `part` that the service's ceremony does not
 * have yet, after checking it is the same targets draft. Returns the ceremony.
 */
export async function submitTargetsSignatures(
  client: AdminClient,
  path: string,
  view: CeremonyView,
  part: TargetsFilePart,
): Promise<{ view: CeremonyView; versions?: PublishedVersions; submitted: number }> {
  if (view.targets?.canonical !== part.canonical)
    throw failed(`ceremony ${view.id} on the service is not the targets draft in ${path}; nothing was submitted`);
  const onService = new Set(view.targets.signatures.map((s) => s.keyid));
  const fresh: Signature[] = part.signatures.filter((s) => !onService.has(s.keyid));
  let versions: PublishedVersions | undefined;
  let current = view;
  for (const signature of fresh) {
    ({ ceremony: current, versions } = await client.submitSignature(current.id, signature));
    info(
      `submitted the targets signature by ${shortId(signature.keyid)}: ${current.progress.targets?.signed} of ${current.progress.targets?.threshold}`,
    );
    if (current.state === "published") {
      info(color.green(`targets v${current.targets?.version} is published`, process.stderr));
      break;
    }
  }
  return { view: current, ...(versions ? { versions } : {}), submitted: fresh.length };
}

/** The signed part of a targets draft file, for `ceremony bytes`. */
export function targetsDraftBytesOf(part: TargetsFilePart): Targets {
  return JSON.parse(part.canonical) as Targets;
}
