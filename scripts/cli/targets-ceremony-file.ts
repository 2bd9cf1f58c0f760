/**
 * The top-level targets draft in offline ceremony files (protected-delegations
 * mode, docs/operators.md §12). A ceremony that publishes a new root and a new
 * targets (protect-delegations, an online-key rotation in that mode) carries
 * it as the `targets` part of its root-change file; one that changes only
 * targets (delegation-change, targets-refresh) is a `targets-change` file:
 * the published roots 1..N (N the root in force) and the targets part.
 *
 * Whenever a file is read, the part is checked here, offline: its canonical
 * text is the canonical JSON of what it parses to; the published targets it
 * was drafted against is signed by the targets keys of the root in force; the
 * summary is recomputed from the two; every signature is by a targets key of
 * the root that will be in force and verifies over the canonical bytes.
 */
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromUtf8, toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { TufError } from "../../src/tuf/errors.ts";
import { SignatureSchema, verifyThreshold } from "../../src/tuf/metadata.ts";
import type { Root } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import { diffTargets, targetsDiffLines } from "../../src/tuf/targets-diff.ts";
import type { Targets } from "../../src/tuf/targets.ts";
import {
  ALTERED_HINT,
  type Progress,
  type TargetsChangeFile,
  type TargetsFilePart,
  verifies,
  verifyChain,
} from "./ceremony-file.ts";
import { failed } from "./exit.ts";
import { type ExternalSignature, requireSigns, withSignature } from "./external-signature.ts";

export interface VerifiedTargets {
  draft: Targets;
  /** Keyids whose signatures verified. */
  signedBy: string[];
  /** The targets keys that may sign, and the progress against their threshold. */
  keyids: string[];
  progress: Progress;
  complete: boolean;
  /** SHA-256 of the canonical bytes: compare it across machines. */
  fingerprint: string;
  summary: string[];
}

/** The summary lines of a draft against the published targets. */
export function targetsSummary(base: Targets | null, draft: Targets): string[] {
  return targetsDiffLines(diffTargets(base, draft));
}

/**
 * Checks a targets part (see the module comment). `inForce` is the root the
 * published targets was signed under; `signing` the root whose targets keys
 * sign the draft (the draft root, or the root in force if there is none).
 */
export async function verifyTargetsPart(
  path: string,
  part: TargetsFilePart,
  inForce: Root,
  signing: Root,
): Promise<VerifiedTargets> {
  let draft: Targets;
  try {
    draft = JSON.parse(part.canonical) as Targets;
  } catch {
    throw failed(`${path}: the targets draft is not JSON; the file was altered`, ALTERED_HINT);
  }
  const message = canonicalBytes(draft);
  if (draft?._type !== "targets" || fromUtf8(message) !== part.canonical)
    throw failed(
      `${path} was altered: the targets draft's bytes are not canonical JSON of a targets role`,
      ALTERED_HINT,
    );
  if (part.base) {
    try {
      await verifyThreshold(part.base, inForce.roles.targets, inForce.keys, "targets");
    } catch (error) {
      if (error instanceof TufError)
        throw failed(`${path}: the published targets in the file does not verify: ${error.message}`, ALTERED_HINT);
      throw error;
    }
  }
  const summary = targetsSummary(part.base?.signed ?? null, draft);
  if (JSON.stringify(summary) !== JSON.stringify(part.summary))
    throw failed(`${path} was altered: its targets summary is not what the draft changes`, ALTERED_HINT);
  const role = signing.roles.targets;
  const seen = new Set<string>();
  for (const signature of part.signatures) {
    if (!SignatureSchema.safeParse(signature).success || seen.has(signature.keyid))
      throw failed(`${path}: a targets signature entry is malformed or repeated; the file was altered`, ALTERED_HINT);
    seen.add(signature.keyid);
    if (!role.keyids.includes(signature.keyid))
      throw failed(`${path}: a targets signature by ${signature.keyid}, which is not a targets key here`, ALTERED_HINT);
    if (!(await verifies(signing.keys[signature.keyid], signature.sig, message)))
      throw failed(
        `${path} was altered after it was signed: the targets signature by ${signature.keyid} does not verify`,
        ALTERED_HINT,
      );
  }
  const progress = { signed: seen.size, threshold: role.threshold, of: role.keyids.length };
  return {
    draft,
    signedBy: [...seen],
    keyids: role.keyids,
    progress,
    complete: progress.signed >= progress.threshold,
    fingerprint: await sha256Hex(message),
    summary,
  };
}

/** A targets-change file, checked: its root chain (from `pinned`, if given) and its targets part. */
export async function verifyTargetsChangeFile(path: string, file: TargetsChangeFile, pinned: Root | null) {
  const inForce = await verifyChain(path, file.rootChain, pinned, file.ceremony.rootVersion);
  return { file, inForce, targets: await verifyTargetsPart(path, file.targets, inForce, inForce) };
}

/** Adds `signers`' signatures over the targets draft (replacing their earlier ones). */
export async function addTargetsSignatures(part: TargetsFilePart, signers: Signer[]): Promise<TargetsFilePart> {
  const message = canonicalBytes(JSON.parse(part.canonical));
  const signatures = part.signatures.filter((s) => !signers.some((x) => x.keyid === s.keyid));
  for (const signer of signers) signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  return { ...part, signatures };
}

/** Adds a signature made elsewhere (a hardware token, over `ceremony bytes` output) over the targets draft, checked first. */
export async function addExternalTargetsSignature(
  path: string,
  part: TargetsFilePart,
  external: ExternalSignature,
): Promise<TargetsFilePart> {
  await requireSigns(external, canonicalBytes(JSON.parse(part.canonical)), `the targets draft in ${path}`);
  return { ...part, signatures: withSignature(part.signatures, external.signature) };
}

/** What every offline step shows of the targets draft. */
export function targetsPartLines(verified: VerifiedTargets): string[] {
  const { progress } = verified;
  return [
    `  targets v${verified.draft.version}: ${progress.signed} of ${progress.threshold} signatures needed from its ${progress.of} targets keys`,
    ...verified.signedBy.map((k) => `    signed by ${k}`),
    ...verified.summary.map((l) => `  ${l}`),
    `  targets canonical SHA-256 ${verified.fingerprint}  (compare with the other signers)`,
  ];
}
