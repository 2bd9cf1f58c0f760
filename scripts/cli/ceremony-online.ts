/**
 * A ceremony open on the service, as `tuf-edge ceremony` and `tuf-edge
 * rotate` see it: the published roots fetched, its draft checked against
 * them (the summary this machine computes must be the service's), signed
 * with local key files and submitted, or exported to a file for offline
 * signing (ceremony-offline.ts).
 */
import type { AdminClient } from "../lib/admin-client.ts";
import { signDraft } from "../lib/admin-client.ts";
import type { CeremonyView, PublishedVersions } from "../../src/repository-api.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { TufError } from "../../src/tuf/errors.ts";
import { type Envelope, parseEnvelope, type Signature } from "../../src/tuf/metadata.ts";
import { diffRoots } from "../../src/tuf/root-diff.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import { type RootChangeFile, verifyCeremonyFile, writeCeremonyFile } from "./ceremony-file.ts";
import { adminClient, guardedFetch, repoBaseUrl, requireUrl, type Settings } from "./config.ts";
import { CliError, EXIT, failed, keyError } from "./exit.ts";
import { loadSigner, readPublicKey, type PassphraseOptions } from "./keyfile.ts";
import { color, info, shortId } from "./output.ts";
import { confirmOrAbort } from "./prompt.ts";
import { describeCeremony, summaryLines, trustedRootKeyids } from "./root-view.ts";
import { checkTargetsDraft, signTargetsDraft, targetsFingerprint } from "./targets-draft.ts";
import { verifyTargetsPart } from "./targets-ceremony-file.ts";
import { ceremonyFileHeader, exportTargetsChange, targetsFilePart } from "./targets-ceremony.ts";

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
export async function checkDraft(settings: Settings, view: CeremonyView): Promise<Root> {
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
export async function fingerprints(view: CeremonyView): Promise<string[]> {
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
export async function keysToSign(
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
export function publishedText(view: CeremonyView): string {
  const what = [
    view.draft ? `root v${view.rootVersion}` : null,
    view.targets ? `targets v${view.targets.version}` : null,
  ];
  return `${what.filter(Boolean).join(" and ")} ${what.filter(Boolean).length > 1 ? "are" : "is"} published`;
}

export function progressText(p: CeremonyView["progress"]): string {
  const parts: string[] = [];
  if (p.trustedRoot && p.draftRoot)
    parts.push(
      `${p.trustedRoot.signed} of ${p.trustedRoot.threshold} needed from the trusted root's keys, ${p.draftRoot.signed} of ${p.draftRoot.threshold} from the draft's`,
    );
  if (p.targets) parts.push(`${p.targets.signed} of ${p.targets.threshold} from the targets keys`);
  return parts.join("; ");
}

/** Writes an offline ceremony file for an open ceremony: the draft, its canonical bytes, roots 1..N, the summary. */
export async function exportCeremony(
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
