/**
 * The offline path of `tuf-edge ceremony`: a ceremony file (from `ceremony
 * export`) signed on a key holder's machine with no network, with key files
 * or with a signature made elsewhere over `ceremony bytes` output, then
 * submitted from any machine. Every step checks the whole file first
 * (ceremony-file.ts, targets-ceremony-file.ts), from the key holder's own
 * trusted root when given one.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { AdminClient } from "../lib/admin-client.ts";
import type { PublishedVersions } from "../../src/repository-api.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { TufError } from "../../src/tuf/errors.ts";
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
import { keysToSign, progressText, publishedText } from "./ceremony-online.ts";
import { adminClient } from "./config.ts";
import { CliError, EXIT, failed, keyError, usageError } from "./exit.ts";
import { checkExternalFlags, readExternalSignature, signs } from "./external-signature.ts";
import { loadSigner, readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { settingsOf } from "./options.ts";
import { color, info, out, outJson, shortId } from "./output.ts";
import { confirmOrAbort } from "./prompt.ts";
import { summaryLines } from "./root-view.ts";
import {
  addExternalTargetsSignature,
  addTargetsSignatures,
  type VerifiedTargets,
  targetsPartLines,
  verifyTargetsChangeFile,
  verifyTargetsPart,
} from "./targets-ceremony-file.ts";
import {
  ceremonyFileKind,
  describeTargetsChange,
  readTargetsChangeFile,
  signTargetsChangeFile,
  submitTargetsSignatures,
  targetsDraftBytesOf,
} from "./targets-ceremony.ts";

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

export interface FileSignFlags extends PassphraseOptions {
  key: string[];
  trustedRoot?: string;
  signature?: string;
  publicKey?: string;
  yes?: boolean;
  json?: boolean;
}

/** `ceremony sign FILE`: offline, with no service: verifies the file, signs, writes it back. */
export async function signFile(path: string, flags: FileSignFlags): Promise<void> {
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
export async function submitFile(path: string, flags: { json?: boolean }, command: Command): Promise<void> {
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

export interface BytesFlags {
  out: string;
  trustedRoot?: string;
  targets?: boolean;
}

/** `ceremony bytes FILE`: the exact bytes a signer outside this CLI signs, written once the file is checked. */
export async function writeCeremonyBytes(path: string, flags: BytesFlags): Promise<void> {
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
  out(`Wrote ${flags.out}: the canonical bytes of root v${verified.root.version} (SHA-256 ${verified.fingerprint})`);
}
