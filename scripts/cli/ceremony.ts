/**
 * `tuf-edge ceremony`: root ceremonies opened on the service (online-key
 * rotations, root changes, root refreshes, emergencies): list, show, sign,
 * cancel, and the offline path: export (a ceremony file), sign FILE (on a
 * machine with no network), bytes (for a signer outside this CLI), submit.
 * Signing happens here, over the canonical bytes this machine computes from
 * the draft; the summary shown is computed here too, from the published
 * trusted root, and must agree with the service's.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { AdminClient } from "../lib/admin-client.ts";
import { signDraft } from "../lib/admin-client.ts";
import type { CeremonyView, PublishedVersions } from "../../src/repository-api.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { TufError } from "../../src/tuf/errors.ts";
import { type Envelope, parseEnvelope, type Signature } from "../../src/tuf/metadata.ts";
import { diffRoots } from "../../src/tuf/root-diff.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import {
  addExternalSignature,
  addSignatures,
  type CeremonyFile,
  type RootChangeFile,
  readCeremonyFile,
  type TargetsChangeFile,
  type TargetsFilePart,
  type VerifiedCeremony,
  type VerifiedRootChange,
  verifyCeremonyFile,
  writeCeremonyFile,
} from "./ceremony-file.ts";
import { adminClient, guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { CliError, EXIT, failed, keyError, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { loadSigner, readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { ceremonyIdArgument, collect, settingsOf } from "./options.ts";
import { color, info, out, outJson, shortId, table } from "./output.ts";
import { confirmOrAbort } from "./prompt.ts";
import { describeCeremony, summaryLines, trustedRootKeyids } from "./root-view.ts";
import { checkTargetsDraft, signTargetsDraft, targetsFingerprint } from "./targets-draft.ts";
import { checkExternalFlags, readExternalSignature, signs } from "./external-signature.ts";
import {
  addExternalTargetsSignature,
  addTargetsSignatures,
  type VerifiedTargets,
  targetsPartLines,
  verifyTargetsChangeFile,
  verifyTargetsPart,
} from "./targets-ceremony-file.ts";
import {
  ceremonyFileHeader,
  ceremonyFileKind,
  describeTargetsChange,
  exportTargetsChange,
  readTargetsChangeFile,
  signTargetsChangeFile,
  submitTargetsSignatures,
  targetsDraftBytesOf,
  targetsFilePart,
} from "./targets-ceremony.ts";

/** Root `version` as published, as an envelope, or null if not there. */
async function fetchRootEnvelope(settings: Settings, version: number): Promise<Envelope<Root> | null> {
  const response = await guardedFetch(requireUrl(settings))(`${repoBaseUrl(settings)}/metadata/${version}.root.json`);
  if (response.status === 404) return null;
  if (!response.ok) throw failed(`GET ${version}.root.json answered ${response.status}`);
  return parseEnvelope(new Uint8Array(await response.arrayBuffer()), "root") as Envelope<Root>;
}

/** Root `version` as published (its signed part), or null if not there. */
export async function fetchRoot(settings: Settings, version: number): Promise<Root | null> {
  const envelope = await fetchRootEnvelope(settings, version);
  return envelope ? parseRoot(envelope.signed) : null;
}

/** JSON with object keys and array items in a fixed order, to compare two summaries. */
function normalized(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v))
      return v
        .map(walk)
        .map((x) => JSON.stringify(x))
        .sort();
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, walk((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(walk(value));
}

/**
 * Checks the draft locally: it parses, and the service's summary is what this
 * machine computes against the published root N. Returns root N.
 */
async function checkDraft(settings: Settings, view: CeremonyView): Promise<Root> {
  await checkTargetsDraft(settings, view);
  if (!view.draft) {
    // A ceremony that changes no root: its targets draft is signed under the root in force.
    const inForce = await fetchRoot(settings, view.rootVersion);
    if (!inForce) throw failed(`root v${view.rootVersion} is not published`);
    return inForce;
  }
  let draft: Root;
  try {
    draft = await parseRoot(view.draft);
  } catch (error) {
    if (error instanceof TufError) throw failed(`the draft root of ceremony ${view.id} is not valid: ${error.message}`);
    throw error;
  }
  const trusted = await fetchRoot(settings, view.rootVersion - 1);
  if (!trusted) throw failed(`root v${view.rootVersion - 1} is not published; cannot compare the draft with it`);
  const local = diffRoots(trusted, draft);
  if (normalized(local) !== normalized(view.summary)) {
    throw failed(
      `the service's summary of ceremony ${view.id} differs from what this machine computes against root v${trusted.version}; not signing`,
    );
  }
  return trusted;
}

export async function showCeremony(settings: Settings, view: CeremonyView, trusted?: Root): Promise<void> {
  for (const line of describeCeremony(view, trusted ?? (await checkDraft(settings, view)))) info(line);
  for (const line of await fingerprints(view)) info(line);
}

/** The canonical SHA-256 of each draft a ceremony carries, to compare across signers. */
async function fingerprints(view: CeremonyView): Promise<string[]> {
  const lines: string[] = [];
  if (view.draft)
    lines.push(`  canonical SHA-256 ${await sha256Hex(canonicalBytes(view.draft))}  (compare with the other signers)`);
  if (view.targets) lines.push(await targetsFingerprint(view.targets));
  return lines;
}

/**
 * The key files among `keyFiles` that have not signed yet; refuses (exit 5)
 * a key that is not in `eligible`, before any passphrase is asked.
 */
async function keysToSign(
  keyFiles: string[],
  eligible: Set<string>,
  signedBy: string[],
  where: string,
  notEligible: string,
): Promise<string[]> {
  const fresh: string[] = [];
  for (const file of keyFiles) {
    const { keyid } = await readPublicKey(file);
    if (!eligible.has(keyid)) throw keyError(`${file} (keyid ${keyid}) ${notEligible}; nothing was signed`);
    if (signedBy.includes(keyid))
      info(`${where} is already signed by ${file} (keyid ${shortId(keyid)}); not signing again`);
    else fresh.push(file);
  }
  return fresh;
}

/**
 * Signs an open ceremony with each key file and submits the signatures.
 * Refuses keys that are not root keys of the trusted root or of the draft
 * before asking for any passphrase; a key that already signed is skipped, saying so.
 */
export async function signCeremony(
  settings: Settings,
  client: AdminClient,
  view: CeremonyView,
  keyFiles: string[],
  flags: PassphraseOptions & { yes?: boolean; json?: boolean },
): Promise<CeremonyView> {
  if (view.state !== "awaiting-signatures")
    throw new CliError(EXIT.refused, `ceremony ${view.id} is ${view.state}; nothing to sign`);
  const rootKeys = new Set(view.draft ? [...trustedRootKeyids(view), ...view.draft.roles.root.keyids] : []);
  const targetsKeys = new Set(view.targets?.keyids ?? []);
  // A key has signed once it signed every draft it may sign.
  const done = (keyid: string) =>
    (!rootKeys.has(keyid) || view.signatures.some((s) => s.keyid === keyid)) &&
    (!targetsKeys.has(keyid) || (view.targets?.signatures ?? []).some((s) => s.keyid === keyid));
  const eligible = new Set([...rootKeys, ...targetsKeys]);
  const fresh = await keysToSign(
    keyFiles,
    eligible,
    [...eligible].filter(done),
    `ceremony ${view.id}`,
    view.targets
      ? `is not a key of this ceremony's signers (${view.draft ? `root keys of root v${view.rootVersion - 1} or of the draft, ` : ""}targets keys ${[...targetsKeys].map(shortId).join(" ")})`
      : `is not a root key of root v${view.rootVersion - 1} or of the draft v${view.rootVersion}`,
  );
  if (!fresh.length) return view;
  const trusted = await checkDraft(settings, view);
  if (!flags.json || !flags.yes) await showCeremony(settings, view, trusted);
  const what = [
    view.draft ? `root v${view.rootVersion}` : null,
    view.targets ? `targets v${view.targets.version}` : null,
  ];
  if (
    !(await confirmOrAbort(
      `Sign ${what.filter(Boolean).join(" and ")} (${view.kind}) with ${fresh.join(", ")}?`,
      flags.yes,
    ))
  ) {
    throw failed("cancelled; nothing was signed");
  }
  let current = view;
  for (const file of fresh) {
    const signer = await loadSigner(file, flags);
    const signatures: Signature[] = [];
    if (current.draft && rootKeys.has(signer.keyid) && !current.signatures.some((s) => s.keyid === signer.keyid))
      signatures.push(await signDraft(current as CeremonyView & { draft: object; canonical: string }, signer));
    const targets = current.targets;
    if (targets && targetsKeys.has(signer.keyid) && !targets.signatures.some((s) => s.keyid === signer.keyid))
      signatures.push(await signTargetsDraft(targets, signer));
    let versions: PublishedVersions | undefined;
    for (const signature of signatures) {
      ({ ceremony: current, versions } = await client.submitSignature(current.id, signature));
      if (current.state === "published") break;
    }
    info(`signed with ${file}: ${progressText(current.progress)}`);
    if (current.state === "published") {
      info(
        color.green(
          `${publishedText(current)}${versions ? ` (timestamp v${versions.timestamp})` : ""}`,
          process.stderr,
        ),
      );
      break;
    }
  }
  return current;
}

/** What a published ceremony published. */
function publishedText(view: CeremonyView): string {
  const what = [
    view.draft ? `root v${view.rootVersion}` : null,
    view.targets ? `targets v${view.targets.version}` : null,
  ];
  return `${what.filter(Boolean).join(" and ")} ${what.filter(Boolean).length > 1 ? "are" : "is"} published`;
}

function progressText(p: CeremonyView["progress"]): string {
  const parts: string[] = [];
  if (p.trustedRoot && p.draftRoot)
    parts.push(
      `${p.trustedRoot.signed} of ${p.trustedRoot.threshold} needed from the trusted root's keys, ${p.draftRoot.signed} of ${p.draftRoot.threshold} from the draft's`,
    );
  if (p.targets) parts.push(`${p.targets.signed} of ${p.targets.threshold} from the targets keys`);
  return parts.join("; ");
}

/** Writes an offline ceremony file for an open ceremony: the draft, its canonical bytes, roots 1..N, the summary. */
async function exportCeremony(
  settings: Settings,
  id: string,
  path: string,
): Promise<{ fingerprint: string; summary: string[] }> {
  const view = await adminClient(settings).ceremony(id);
  if (view.state !== "awaiting-signatures")
    throw new CliError(EXIT.refused, `ceremony ${id} is ${view.state}; nothing to sign`);
  const trusted = await checkDraft(settings, view);
  const rootChain: Envelope<Root>[] = [];
  for (let version = 1; version <= trusted.version; version++) {
    const envelope = await fetchRootEnvelope(settings, version);
    if (!envelope) throw failed(`root v${version} is not published; cannot export the root chain`);
    rootChain.push(envelope);
  }
  // A ceremony that changes only targets (protected-delegations mode): a targets-change file.
  if (!view.draft) return exportTargetsChange(settings, view, rootChain, path);
  const targets = await targetsFilePart(settings, view);
  const file: RootChangeFile = {
    ...ceremonyFileHeader(settings, view),
    kind: "root-change",
    rootChain,
    signed: view.draft as Root,
    canonical: view.canonical ?? "",
    summary: summaryLines(trusted, view.draft as Root),
    signatures: view.signatures,
    ...(targets ? { targets } : {}),
  };
  const verified = await verifyCeremonyFile(path, file);
  if (targets) await verifyTargetsPart(path, targets, trusted, verified.root);
  await writeCeremonyFile(path, file);
  return verified;
}

/** The key holder's own trusted root (--trusted-root), a root file or envelope. */
async function readPinnedRoot(path: string | undefined): Promise<Root | null> {
  if (!path) return null;
  let json: { signed?: unknown };
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw usageError(`trusted root ${path} does not exist`);
    throw usageError(`${path} is not a root file: ${(error as Error).message}`);
  }
  try {
    return await parseRoot(json?.signed ?? json);
  } catch (error) {
    if (error instanceof TufError) throw usageError(`${path} is not a valid root: ${error.message}`);
    throw error;
  }
}

/** What every offline step shows: the ceremony, the summary, progress, the fingerprint, what is not signed. */
function describeFile(verified: VerifiedRootChange, pinned: Root | null, targets?: VerifiedTargets | null): string[] {
  const { file } = verified;
  const { trusted, draft } = verified.progress;
  const lines = [
    `ceremony ${file.ceremony.id}: ${file.ceremony.kind} to root v${file.ceremony.rootVersion} of "${file.repository}"`,
    `  the service's draft expires ${file.ceremony.expiresAt}; service ${file.url} (not signed: submit checks the ceremony there)`,
    ...summaryLines(verified.trusted, verified.root).map((l) => `  ${l}`),
    `  signatures so far: ${trusted.signed} of ${trusted.threshold} needed from root v${verified.trusted.version}'s ${trusted.of} root keys, ${draft.signed} of ${draft.threshold} from the draft's ${draft.of}`,
    ...verified.signedBy.map((k) => `    signed by ${k}`),
    pinned
      ? `  root chain checked from your trusted root v${pinned.version}`
      : `  root chain checked from the file's own root v1 (SHA-256 ${shortId(rootOneFingerprint(file))}); pass --trusted-root to check it from yours`,
    `  canonical SHA-256 ${verified.fingerprint}  (compare with the other signers)`,
    ...(targets ? targetsPartLines(targets) : []),
  ];
  return lines;
}

function rootOneFingerprint(file: RootChangeFile): string {
  return createHash("sha256").update(canonicalBytes(file.rootChain[0]?.signed)).digest("hex");
}

async function readRootChangeFile(path: string, pinned: Root | null): Promise<VerifiedRootChange> {
  return asRootChange(path, await verifyCeremonyFile(path, readCeremonyFile(path), pinned));
}

function asRootChange(path: string, verified: VerifiedCeremony): VerifiedRootChange {
  if (verified.file.kind !== "root-change" || !verified.trusted || !verified.progress.trusted)
    throw usageError(`${path} is a bootstrap ceremony file: use \`tuf-edge bootstrap sign ${path}\``);
  return verified as VerifiedRootChange;
}

interface FileSignFlags extends PassphraseOptions {
  key: string[];
  trustedRoot?: string;
  signature?: string;
  publicKey?: string;
  yes?: boolean;
  json?: boolean;
}

/** `ceremony sign FILE`: offline, with no service: verifies the file, signs, writes it back. */
async function signFile(path: string, flags: FileSignFlags): Promise<void> {
  const pinned = await readPinnedRoot(flags.trustedRoot);
  if (ceremonyFileKind(path) === "targets-change") return signTargetsFile(path, pinned, flags);
  const verified = await readRootChangeFile(path, pinned);
  const { file } = verified;
  const targets = await verifiedTargetsOf(path, verified);
  let updated: CeremonyFile;
  if (flags.signature) {
    checkExternalFlags(flags);
    const external = await readExternalSignature(flags.signature, flags.publicKey as string);
    // A targets key's signature over the targets part (`ceremony bytes --targets`), else one over root N+1.
    const overTargets =
      file.targets &&
      targets?.keyids.includes(external.keyid) &&
      (await signs(external, canonicalBytes(targetsDraftBytesOf(file.targets))));
    updated =
      file.targets && overTargets
        ? { ...file, targets: await addExternalTargetsSignature(path, file.targets, external) }
        : await addExternalSignature(path, verified, external);
  } else {
    if (!flags.key.length) throw usageError("--key is required (or --signature with --public-key)");
    const rootKeys = new Set([...verified.trusted.roles.root.keyids, ...verified.root.roles.root.keyids]);
    const targetsKeys = new Set(targets?.keyids ?? []);
    // A key has signed once it signed every draft it may sign.
    const done = [...rootKeys, ...targetsKeys].filter(
      (k) =>
        (!rootKeys.has(k) || verified.signedBy.includes(k)) && (!targetsKeys.has(k) || !!targets?.signedBy.includes(k)),
    );
    const fresh = await keysToSign(
      flags.key,
      new Set([...rootKeys, ...targetsKeys]),
      done,
      path,
      targets
        ? `is not a root key of root v${verified.trusted.version} or of the draft v${verified.root.version}, nor a targets key`
        : `is not a root key of root v${verified.trusted.version} or of the draft v${verified.root.version}`,
    );
    if (!fresh.length) return reportFile(path, verified, flags, targets);
    if (!flags.json || !flags.yes) for (const line of describeFile(verified, pinned, targets)) info(line);
    const what = `root v${file.ceremony.rootVersion}${targets ? ` and targets v${targets.draft.version}` : ""}`;
    if (!(await confirmOrAbort(`Sign ${what} (${file.ceremony.kind}) with ${fresh.join(", ")}?`, flags.yes)))
      throw failed("cancelled; nothing was signed");
    const signers: Signer[] = [];
    for (const keyFile of fresh) signers.push(await loadSigner(keyFile, flags));
    const rootSigners = signers.filter((x) => rootKeys.has(x.keyid) && !verified.signedBy.includes(x.keyid));
    updated = await addSignatures(verified, rootSigners);
    const targetsSigners = signers.filter((x) => targetsKeys.has(x.keyid) && !targets?.signedBy.includes(x.keyid));
    if (file.targets && updated.kind === "root-change")
      updated = { ...updated, targets: await addTargetsSignatures(file.targets, targetsSigners) };
  }
  await writeCeremonyFile(path, updated);
  const after = asRootChange(path, await verifyCeremonyFile(path, updated, pinned));
  if (!flags.json) info(`Signed ${path}.`);
  reportFile(path, after, flags, await verifiedTargetsOf(path, after));
}

/** `ceremony bytes`: writes a targets draft's canonical bytes, for a signer outside this CLI. */
async function writeTargetsBytes(file: string, part: TargetsFilePart, targets: VerifiedTargets): Promise<void> {
  await writeFile(file, canonicalBytes(targetsDraftBytesOf(part)));
  out(`Wrote ${file}: the canonical bytes of targets v${targets.draft.version} (SHA-256 ${targets.fingerprint})`);
}

/** The targets part of a root-change file, checked against its roots (null if it has none). */
async function verifiedTargetsOf(path: string, verified: VerifiedRootChange): Promise<VerifiedTargets | null> {
  const part = verified.file.targets;
  return part ? verifyTargetsPart(path, part, verified.trusted, verified.root) : null;
}

/**
 * `ceremony sign FILE` for a targets-change file (a delegation change or
 * targets refresh): with key files, or with a signature made elsewhere over
 * `ceremony bytes` output (`--signature`, `--public-key`), checked first.
 */
async function signTargetsFile(path: string, pinned: Root | null, flags: FileSignFlags): Promise<void> {
  checkExternalFlags(flags);
  if (!flags.signature && !flags.key.length) throw usageError("--key is required (or --signature with --public-key)");
  const verified = await verifyTargetsChangeFile(path, readTargetsChangeFile(path), pinned);
  const requireTargetsKey = (file: string, keyid: string) => {
    if (!verified.targets.keyids.includes(keyid))
      throw keyError(
        `${file} (keyid ${keyid}) is not a targets key of root v${verified.inForce.version}; nothing was signed`,
      );
  };
  let file: TargetsChangeFile;
  if (flags.signature) {
    const external = await readExternalSignature(flags.signature, flags.publicKey as string);
    requireTargetsKey(external.publicKeyFile, external.keyid);
    if (!flags.json) for (const line of describeTargetsChange(verified)) info(line);
    file = { ...verified.file, targets: await addExternalTargetsSignature(path, verified.file.targets, external) };
    await verifyTargetsChangeFile(path, file, pinned);
    await writeCeremonyFile(path, file);
  } else {
    for (const f of flags.key) requireTargetsKey(f, (await readPublicKey(f)).keyid);
    if (!flags.json || !flags.yes) for (const line of describeTargetsChange(verified)) info(line);
    const question = `Sign targets v${verified.targets.draft.version} (${verified.file.ceremony.kind}) with ${flags.key.join(", ")}?`;
    if (!(await confirmOrAbort(question, flags.yes))) throw failed("cancelled; nothing was signed");
    file = await signTargetsChangeFile(path, pinned, async () => {
      const signers: Signer[] = [];
      for (const f of flags.key) signers.push(await loadSigner(f, flags)); // one passphrase prompt at a time
      return signers;
    });
  }
  const after = await verifyTargetsChangeFile(path, file, pinned);
  const { progress, complete } = after.targets;
  if (flags.json)
    return outJson({
      ceremonyFile: path,
      fingerprint: after.targets.fingerprint,
      signedBy: after.targets.signedBy,
      progress,
      complete,
    });
  out(
    `${path}: ${progress.signed} of ${progress.threshold} needed from the targets keys${complete ? "; ready to submit" : ""}`,
  );
}

function reportFile(
  path: string,
  verified: VerifiedRootChange,
  flags: { json?: boolean },
  targets: VerifiedTargets | null = null,
): void {
  const { trusted, draft } = verified.progress;
  const complete = verified.complete && (!targets || targets.complete);
  if (flags.json) {
    outJson({
      ceremonyFile: path,
      fingerprint: verified.fingerprint,
      signedBy: verified.signedBy,
      progress: { ...verified.progress, ...(targets ? { targets: targets.progress } : {}) },
      complete,
    });
    return;
  }
  const targetsText = targets
    ? `, ${targets.progress.signed} of ${targets.progress.threshold} from the targets keys`
    : "";
  out(
    `${path}: ${trusted.signed} of ${trusted.threshold} needed from the trusted root's keys, ${draft.signed} of ${draft.threshold} from the draft's${targetsText}${complete ? "; ready to submit" : ""}`,
  );
}

/** `ceremony submit FILE`: verifies the file, checks the service's ceremony is the same draft, submits new signatures. */
async function submitFile(path: string, flags: { json?: boolean }, command: Command): Promise<void> {
  if (ceremonyFileKind(path) === "targets-change") return submitTargetsFile(path, flags, command);
  const verified = await readRootChangeFile(path, null);
  const { file } = verified;
  await verifiedTargetsOf(path, verified);
  const client = fileClient(path, file, command);
  let view = await client.ceremony(file.ceremony.id);
  if (view.canonical !== file.canonical)
    throw failed(`ceremony ${view.id} on the service is not the draft in ${path}; nothing was submitted`);
  const fresh = file.signatures.filter((s) => !view.signatures.some((x) => x.keyid === s.keyid));
  if (fresh.length && view.state !== "awaiting-signatures")
    throw new CliError(EXIT.refused, `ceremony ${view.id} is ${view.state}; nothing was submitted`);
  let versions: PublishedVersions | undefined;
  for (const signature of fresh) {
    ({ ceremony: view, versions } = await client.submitSignature(view.id, signature));
    info(`submitted the signature by ${shortId(signature.keyid)}: ${progressText(view.progress)}`);
    if (view.state === "published") break;
  }
  let submitted = fresh.length;
  if (file.targets && view.state === "awaiting-signatures") {
    const targets = await submitTargetsSignatures(client, path, view, file.targets);
    view = targets.view;
    versions = targets.versions ?? versions;
    submitted += targets.submitted;
  }
  if (!submitted) info(`every signature in ${path} is already on the service`);
  if (flags.json)
    return outJson({
      id: view.id,
      state: view.state,
      rootVersion: view.rootVersion,
      progress: view.progress,
      submitted,
    });
  if (view.state === "published")
    out(color.green(`${publishedText(view)}${versions ? ` (timestamp v${versions.timestamp})` : ""}`));
  else out(`ceremony ${view.id}: ${view.state} (${progressText(view.progress)})`);
}

/** The admin client for the service and repository a ceremony file names (the command line may name them too). */
function fileClient(path: string, file: { repository: string; url: string }, command: Command): AdminClient {
  const settings = settingsOf(command);
  const repo = settings.repo ?? file.repository;
  if (repo !== file.repository) throw usageError(`${path} is for repository "${file.repository}", not "${repo}"`);
  return adminClient({ ...settings, repo, url: settings.url ?? file.url });
}

/** `ceremony submit FILE` for a targets-change file. */
async function submitTargetsFile(path: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const { file } = await verifyTargetsChangeFile(path, readTargetsChangeFile(path), null);
  const client = fileClient(path, file, command);
  const before = await client.ceremony(file.ceremony.id);
  const { view, versions, submitted } = await submitTargetsSignatures(client, path, before, file.targets);
  if (!submitted) info(`every signature in ${path} is already on the service`);
  if (flags.json) return outJson({ id: view.id, state: view.state, progress: view.progress, submitted });
  if (view.state === "published")
    out(color.green(`${publishedText(view)}${versions ? ` (timestamp v${versions.timestamp})` : ""}`));
  else out(`ceremony ${view.id}: ${view.state} (${progressText(view.progress)})`);
}

/** Signatures against each threshold, for the list: "1/2, 1/2" (root), "+ targets 1/2". */
function signedColumn(p: CeremonyView["progress"]): string {
  const parts: string[] = [];
  if (p.trustedRoot && p.draftRoot)
    parts.push(`${p.trustedRoot.signed}/${p.trustedRoot.threshold}, ${p.draftRoot.signed}/${p.draftRoot.threshold}`);
  if (p.targets) parts.push(`targets ${p.targets.signed}/${p.targets.threshold}`);
  return parts.join(", ");
}

export function registerCeremony(program: Command): void {
  const ceremony = program.command("ceremony").description("root ceremonies on the service: list, show, sign, cancel");
  ceremony.addHelpText(
    "after",
    examples([
      "tuf-edge ceremony list",
      "tuf-edge ceremony show 0123456789abcdef",
      "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
    ]),
  );

  ceremony
    .command("list")
    .description("ceremonies, newest first")
    .option("--json", "print them as JSON")
    .addHelpText("after", examples(["tuf-edge ceremony list", "tuf-edge ceremony list --json | jq '.[0].id'"]))
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { ceremonies } = await adminClient(settingsOf(command)).ceremonies();
      if (flags.json) return outJson(ceremonies.map(({ draft: _d, canonical: _c, events: _e, ...rest }) => rest));
      if (!ceremonies.length) return out("no ceremonies");
      out(
        table(
          ["ID", "KIND", "ROOT", "STATE", "SIGNED", "OPENED", "EXPIRES/CLOSED"],
          ceremonies.map((c) => [
            c.id,
            c.kind,
            `v${c.rootVersion}`,
            c.state,
            signedColumn(c.progress),
            c.openedAt,
            c.state === "awaiting-signatures" ? c.expiresAt : (c.closedAt ?? ""),
          ]),
        ),
      );
    });

  ceremony
    .command("show")
    .description(
      "what a ceremony's draft changes (keys added and removed, thresholds, expiry), its signatures and events",
    )
    .argument("<id>", "the ceremony id (16 hex characters)")
    .option("--json", "print the ceremony as JSON (draft, canonical bytes, summary, progress, events)")
    .addHelpText(
      "after",
      examples(["tuf-edge ceremony show 0123456789abcdef", "tuf-edge ceremony show 0123456789abcdef --json"]),
    )
    .action(async (id: string, flags: { json?: boolean }, command: Command) => {
      const settings = settingsOf(command);
      const view = await adminClient(settings).ceremony(ceremonyIdArgument(id));
      if (flags.json) return outJson(view);
      for (const line of describeCeremony(view, await checkDraft(settings, view))) out(line);
      for (const line of await fingerprints(view)) out(line);
      if (view.events.length) {
        out("  events:");
        for (const e of view.events)
          out(`    ${e.at}  ${e.kind}${e.keyid ? `  ${e.keyid.slice(0, 16)}…` : ""}  ${e.detail}`);
      }
    });

  ceremony
    .command("export")
    .description(
      "write an open ceremony to a file for offline signing: the draft, its canonical bytes, roots 1..N and what changes",
    )
    .argument("<id>", "the ceremony id")
    .option("--out <file>", "the ceremony file to write (default ceremony-<id>.json)")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony export 0123456789abcdef --out ceremony.json",
        "tuf-edge ceremony sign ceremony.json --key root-a.json --trusted-root packages.1.root.json   # offline",
        "tuf-edge ceremony submit ceremony.json",
      ]),
    )
    .action(async (id: string, flags: { out?: string; json?: boolean }, command: Command) => {
      const path = flags.out ?? `ceremony-${id}.json`;
      const verified = await exportCeremony(settingsOf(command), ceremonyIdArgument(id), path);
      if (flags.json)
        return outJson({ ceremonyFile: path, id, fingerprint: verified.fingerprint, summary: verified.summary });
      out(`Wrote ${path}: ceremony ${id}, canonical SHA-256 ${verified.fingerprint}`);
      out(
        `Next: on each key holder's machine   tuf-edge ceremony sign ${path} --key KEY.json --trusted-root ROOT.json`,
      );
      out(`Then, from any machine:              tuf-edge ceremony submit ${path}`);
    });

  ceremony
    .command("sign")
    .description(
      "sign a ceremony: by id on the service, or a ceremony file offline (no network needed); over canonical bytes computed here",
    )
    .argument("<id-or-file>", "the ceremony id (16 hex characters), or a file from `ceremony export`")
    .option("--key <file>", "a root key file (repeatable)", collect, [])
    .option("--passphrase-file <file>", "passphrase for the key files (else TUF_EDGE_PASSPHRASE, else prompts)")
    .option(
      "--trusted-root <file>",
      "offline: your own copy of a trusted root; the file's root chain must start from it",
    )
    .option(
      "--signature <file>",
      "offline: add a signature made elsewhere (e.g. a hardware token) over `ceremony bytes` output (a root draft, or a targets draft: a targets-change file, or `--targets` of a root-change file); DER for ECDSA",
    )
    .option(
      "--public-key <file>",
      "with --signature: the public key (key file or `keys show --json` output) that made it",
    )
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony sign 0123456789abcdef --key root-a.json",
        "tuf-edge ceremony sign 0123456789abcdef --key a.json --key b.json --yes",
        "tuf-edge ceremony sign ceremony.json --key root-a.json --trusted-root packages.1.root.json   # offline",
        "tuf-edge ceremony sign ceremony.json --signature sig.der --public-key root-hw.pub.json       # offline",
        "tuf-edge ceremony sign acme-change.json --signature sig.der --public-key sec-hw.pub.json     # a targets draft",
      ]),
    )
    .action(async (target: string, flags: FileSignFlags, command: Command) => {
      if (!/^[0-9a-f]{16}$/.test(target) || existsSync(target)) return signFile(target, flags);
      if (!flags.key.length) throw usageError("--key is required");
      if (flags.signature || flags.trustedRoot)
        throw usageError("--signature and --trusted-root are for ceremony files (`ceremony export`)");
      for (const file of flags.key) await readPublicKey(file); // a missing key file is a usage error, before any request
      const settings = settingsOf(command);
      const client = adminClient(settings);
      const view = await signCeremony(settings, client, await client.ceremony(target), flags.key, flags);
      if (flags.json)
        return outJson({ id: view.id, state: view.state, rootVersion: view.rootVersion, progress: view.progress });
      out(`ceremony ${view.id}: ${view.state}`);
    });

  ceremony
    .command("submit")
    .description("submit the signatures in a ceremony file (checked locally first) to the ceremony on the service")
    .argument("<file>", "the ceremony file")
    .option("--json", "print the ceremony as JSON")
    .addHelpText("after", examples(["tuf-edge ceremony submit ceremony.json"]))
    .action(async (path: string, flags: { json?: boolean }, command: Command) => submitFile(path, flags, command));

  ceremony
    .command("bytes")
    .description(
      "write the exact bytes to sign (checked first) from a ceremony file, for a signer outside this CLI (a hardware token)",
    )
    .argument("<file>", "the ceremony file")
    .requiredOption("--out <file>", "where to write the bytes")
    .option("--trusted-root <file>", "your own copy of a trusted root; the file's root chain must start from it")
    .option(
      "--targets",
      "a root-change file with a targets part: write the targets draft's bytes (for a targets key), not root N+1's",
    )
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony bytes ceremony.json --out draft.bin --trusted-root packages.1.root.json",
        "openssl dgst -sha256 -sign root-hw.pem -out sig.der draft.bin",
        "tuf-edge ceremony sign ceremony.json --signature sig.der --public-key root-hw.pub.json",
        "tuf-edge ceremony bytes rekey.json --targets --out targets.bin   # the targets part, for a targets key",
      ]),
    )
    .action(async (path: string, flags: { out: string; trustedRoot?: string; targets?: boolean }) => {
      const pinned = await readPinnedRoot(flags.trustedRoot);
      if (flags.targets && ceremonyFileKind(path) === "root-change") {
        const verified = await readRootChangeFile(path, pinned);
        const targets = await verifiedTargetsOf(path, verified);
        if (!targets || !verified.file.targets)
          throw usageError(`${path} drafts no targets: leave out --targets to write root v${verified.root.version}`);
        for (const line of describeFile(verified, pinned, targets)) info(line);
        return writeTargetsBytes(flags.out, verified.file.targets, targets);
      }
      if (ceremonyFileKind(path) === "targets-change") {
        const targets = await verifyTargetsChangeFile(path, readTargetsChangeFile(path), pinned);
        for (const line of describeTargetsChange(targets)) info(line);
        return writeTargetsBytes(flags.out, targets.file.targets, targets.targets);
      }
      const verified = await readRootChangeFile(path, pinned);
      for (const line of describeFile(verified, pinned)) info(line);
      await writeFile(flags.out, canonicalBytes(verified.file.signed));
      out(
        `Wrote ${flags.out}: the canonical bytes of root v${verified.root.version} (SHA-256 ${verified.fingerprint})`,
      );
    });

  ceremony
    .command("cancel")
    .description("cancel an open ceremony (nothing is published; a key generated for it is destroyed)")
    .argument("<id>", "the ceremony id")
    .requiredOption("--reason <text>", "why (recorded in the audit log)")
    .option("--json", "print the ceremony as JSON")
    .addHelpText(
      "after",
      examples(['tuf-edge ceremony cancel 0123456789abcdef --reason "wrong threshold in the draft"']),
    )
    .action(async (id: string, flags: { reason: string; json?: boolean }, command: Command) => {
      const view = await adminClient(settingsOf(command)).cancelCeremony(ceremonyIdArgument(id), flags.reason);
      if (flags.json) return outJson({ id: view.id, state: view.state });
      out(`ceremony ${view.id}: ${view.state}`);
    });
}
