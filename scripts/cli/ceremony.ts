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
import { type Envelope, parseEnvelope } from "../../src/tuf/metadata.ts";
import { diffRoots } from "../../src/tuf/root-diff.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import {
  addExternalSignature,
  addSignatures,
  CEREMONY_FILE_FORMAT,
  type CeremonyFile,
  type RootChangeFile,
  readCeremonyFile,
  type VerifiedCeremony,
  type VerifiedRootChange,
  verifyCeremonyFile,
  writeCeremonyFile,
} from "./ceremony-file.ts";
import { adminClient, guardedFetch, repoBaseUrl, requireRepo, requireUrl, type Settings } from "./config.ts";
import { CliError, EXIT, failed, keyError, usageError } from "./exit.ts";
import { examples } from "./help.ts";
import { loadSigner, readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { ceremonyIdArgument, collect, settingsOf } from "./options.ts";
import { color, info, out, outJson, shortId, table } from "./output.ts";
import { confirmOrAbort } from "./prompt.ts";
import { describeCeremony, summaryLines, trustedRootKeyids } from "./root-view.ts";

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
  info(`  canonical SHA-256 ${await sha256Hex(canonicalBytes(view.draft))}  (compare with the other signers)`);
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
  const fresh = await keysToSign(
    keyFiles,
    new Set([...trustedRootKeyids(view), ...view.draft.roles.root.keyids]),
    view.signatures.map((s) => s.keyid),
    `ceremony ${view.id}`,
    `is not a root key of root v${view.rootVersion - 1} or of the draft v${view.rootVersion}`,
  );
  if (!fresh.length) return view;
  const trusted = await checkDraft(settings, view);
  if (!flags.json || !flags.yes) await showCeremony(settings, view, trusted);
  if (!(await confirmOrAbort(`Sign root v${view.rootVersion} (${view.kind}) with ${fresh.join(", ")}?`, flags.yes))) {
    throw failed("cancelled; nothing was signed");
  }
  let current = view;
  for (const file of fresh) {
    const signer = await loadSigner(file, flags);
    const signature = await signDraft(current, signer);
    const { ceremony, versions } = await client.submitSignature(current.id, signature);
    current = ceremony;
    info(`signed with ${file}: ${progressText(ceremony.progress)}`);
    if (ceremony.state === "published") {
      info(
        color.green(
          `root v${ceremony.rootVersion} is published${versions ? ` (timestamp v${versions.timestamp})` : ""}`,
          process.stderr,
        ),
      );
      break;
    }
  }
  return current;
}

function progressText(p: CeremonyView["progress"]): string {
  return `${p.trustedRoot.signed} of ${p.trustedRoot.threshold} needed from the trusted root's keys, ${p.draftRoot.signed} of ${p.draftRoot.threshold} from the draft's`;
}

/** Writes an offline ceremony file for an open ceremony: the draft, its canonical bytes, roots 1..N, the summary. */
async function exportCeremony(settings: Settings, id: string, path: string): Promise<VerifiedCeremony> {
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
  const file: RootChangeFile = {
    format: CEREMONY_FILE_FORMAT,
    kind: "root-change",
    url: requireUrl(settings),
    repository: requireRepo(settings),
    created: new Date().toISOString(),
    ceremony: { id: view.id, kind: view.kind, rootVersion: view.rootVersion, expiresAt: view.expiresAt },
    rootChain,
    signed: view.draft as Root,
    canonical: view.canonical,
    summary: summaryLines(trusted, view.draft as Root),
    signatures: view.signatures,
  };
  const verified = await verifyCeremonyFile(path, file);
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
function describeFile(verified: VerifiedRootChange, pinned: Root | null): string[] {
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
  const verified = await readRootChangeFile(path, pinned);
  const { file } = verified;
  let updated: CeremonyFile;
  if (flags.signature) {
    if (flags.key.length || !flags.publicKey)
      throw usageError("--signature needs --public-key (the key that made it) and no --key");
    const { keyid } = await readPublicKey(flags.publicKey);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(flags.signature));
    } catch (error) {
      throw usageError(`cannot read --signature: ${(error as Error).message}`);
    }
    updated = await addExternalSignature(path, verified, keyid, bytes);
  } else {
    if (!flags.key.length) throw usageError("--key is required (or --signature with --public-key)");
    const fresh = await keysToSign(
      flags.key,
      new Set([...verified.trusted.roles.root.keyids, ...verified.root.roles.root.keyids]),
      verified.signedBy,
      path,
      `is not a root key of root v${verified.trusted.version} or of the draft v${verified.root.version}`,
    );
    if (!fresh.length) return reportFile(path, verified, flags);
    if (!flags.json || !flags.yes) for (const line of describeFile(verified, pinned)) info(line);
    if (
      !(await confirmOrAbort(
        `Sign root v${file.ceremony.rootVersion} (${file.ceremony.kind}) with ${fresh.join(", ")}?`,
        flags.yes,
      ))
    )
      throw failed("cancelled; nothing was signed");
    const signers: Signer[] = [];
    for (const keyFile of fresh) signers.push(await loadSigner(keyFile, flags));
    updated = await addSignatures(verified, signers);
  }
  await writeCeremonyFile(path, updated);
  const after = asRootChange(path, await verifyCeremonyFile(path, updated, pinned));
  if (!flags.json) info(`Signed ${path}.`);
  reportFile(path, after, flags);
}

function reportFile(path: string, verified: VerifiedRootChange, flags: { json?: boolean }): void {
  const { trusted, draft } = verified.progress;
  if (flags.json) {
    outJson({
      ceremonyFile: path,
      fingerprint: verified.fingerprint,
      signedBy: verified.signedBy,
      progress: verified.progress,
      complete: verified.complete,
    });
    return;
  }
  out(
    `${path}: ${trusted.signed} of ${trusted.threshold} needed from the trusted root's keys, ${draft.signed} of ${draft.threshold} from the draft's${verified.complete ? "; ready to submit" : ""}`,
  );
}

/** `ceremony submit FILE`: verifies the file, checks the service's ceremony is the same draft, submits new signatures. */
async function submitFile(path: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const { file } = await readRootChangeFile(path, null);
  const settings = settingsOf(command);
  const repo = settings.repo ?? file.repository;
  if (repo !== file.repository) throw usageError(`${path} is for repository "${file.repository}", not "${repo}"`);
  const effective = { ...settings, repo, url: settings.url ?? file.url };
  const client = adminClient(effective);
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
  if (!fresh.length) info(`every signature in ${path} is already on the service`);
  if (flags.json)
    return outJson({
      id: view.id,
      state: view.state,
      rootVersion: view.rootVersion,
      progress: view.progress,
      submitted: fresh.length,
    });
  if (view.state === "published")
    out(color.green(`root v${view.rootVersion} is published${versions ? ` (timestamp v${versions.timestamp})` : ""}`));
  else out(`ceremony ${view.id}: ${view.state} (${progressText(view.progress)})`);
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
            `${c.progress.trustedRoot.signed}/${c.progress.trustedRoot.threshold}, ${c.progress.draftRoot.signed}/${c.progress.draftRoot.threshold}`,
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
      out(`  canonical SHA-256 ${await sha256Hex(canonicalBytes(view.draft))}`);
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
      "offline: add a signature made elsewhere (e.g. a hardware token) over `ceremony bytes` output; DER for ECDSA",
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
    .addHelpText(
      "after",
      examples([
        "tuf-edge ceremony bytes ceremony.json --out draft.bin --trusted-root packages.1.root.json",
        "openssl dgst -sha256 -sign root-hw.pem -out sig.der draft.bin",
        "tuf-edge ceremony sign ceremony.json --signature sig.der --public-key root-hw.pub.json",
      ]),
    )
    .action(async (path: string, flags: { out: string; trustedRoot?: string }) => {
      const pinned = await readPinnedRoot(flags.trustedRoot);
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
