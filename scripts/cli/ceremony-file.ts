/**
 * Offline ceremony files: everything a root key holder must see to sign a
 * new root on a machine with no network, carried there and back as one JSON
 * file. Three kinds:
 *   bootstrap       root v1 and the repository's settings (`bootstrap --out`)
 *   root-change     root N+1 of a ceremony opened on the service (`ceremony export`):
 *                   the draft, its canonical bytes, the published roots 1..N and
 *                   a summary of what changes (and, in protected-delegations
 *                   mode, the next top-level targets beside it)
 *   targets-change  the next top-level targets alone (checked in targets-ceremony-file.ts)
 * Whenever a file is read, everything in it is checked here, offline: every
 * signature over the canonical bytes this machine computes, the root chain
 * 1..N (each root signed by a threshold of the one before and of its own
 * keys), and the summary and the canonical text recomputed from the roots.
 * A file edited after it was signed is refused before anything is signed or
 * submitted. Bootstrap settings (bins, validities) are covered by a second
 * signature of each key holder, over a statement naming the repository, the
 * root's SHA-256 and the settings, so they cannot be changed after signing either.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { CeremonyKind } from "../../src/repository-api.ts";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromHex, fromUtf8, toHex } from "../../src/lib/bytes.ts";
import { sha256Hex } from "../../src/lib/digest.ts";
import { TufError } from "../../src/tuf/errors.ts";
import type { Key } from "../../src/tuf/key.ts";
import { type Envelope, type Signature, SignatureSchema, verifyThreshold } from "../../src/tuf/metadata.ts";
import { parseRoot, type Root, verifyRootSuccessor } from "../../src/tuf/root.ts";
import type { Signer } from "../../src/tuf/signer.ts";
import type { Targets } from "../../src/tuf/targets.ts";
import { verifySignature } from "../../src/tuf/verify.ts";
import { type ExternalSignature, requireSigns, withSignature } from "./external-signature.ts";
import { failed, usageError } from "./exit.ts";
import { summaryLines } from "./root-view.ts";

export const CEREMONY_FILE_FORMAT = "tuf-edge-ceremony/1";

interface CommonFields {
  format: typeof CEREMONY_FILE_FORMAT;
  /** The service the file came from (not signed: `submit` checks the repository's state there). */
  url: string;
  repository: string;
  created: string;
  /** The new root's signed part. */
  signed: Root;
  signatures: Signature[];
}

export interface BootstrapFile extends CommonFields {
  kind: "bootstrap";
  /** Repository settings sent with the bootstrap: covered by `settingsSignatures`. */
  settings: Record<string, unknown>;
  /** One per root signature: the same key over `settingsStatement(...)`. */
  settingsSignatures: Signature[];
}

export interface RootChangeFile extends CommonFields {
  kind: "root-change";
  ceremony: { id: string; kind: CeremonyKind; rootVersion: number; expiresAt: string };
  /** The published roots 1..N, as envelopes: the chain root N+1 continues. */
  rootChain: Envelope<Root>[];
  /** The exact bytes to sign: the canonical JSON of `signed`, as UTF-8 text. */
  canonical: string;
  /** What changes, for people reading the file; recomputed and compared whenever the file is read. */
  summary: string[];
  /** The next top-level targets the ceremony also publishes (protected-delegations mode; targets-ceremony-file.ts). */
  targets?: TargetsFilePart;
}

export interface TargetsFilePart {
  /** The exact bytes to sign: the canonical JSON of the draft's signed part, as UTF-8 text. */
  canonical: string;
  /** The published targets the draft was made against (null if none could be read). */
  base: Envelope<Targets> | null;
  /** What changes, for people reading the file; recomputed and compared whenever the file is read. */
  summary: string[];
  signatures: Signature[];
}

/** A ceremony that changes only top-level targets (delegation-change, targets-refresh). */
export interface TargetsChangeFile {
  format: typeof CEREMONY_FILE_FORMAT;
  kind: "targets-change";
  url: string;
  repository: string;
  created: string;
  ceremony: { id: string; kind: CeremonyKind; rootVersion: number; expiresAt: string };
  /** The published roots 1..N, N the root in force (whose targets keys sign the draft). */
  rootChain: Envelope<Root>[];
  targets: TargetsFilePart;
}

export type CeremonyFile = BootstrapFile | RootChangeFile;

export interface Progress {
  signed: number;
  threshold: number;
  of: number;
}

export interface VerifiedCeremony<F extends CeremonyFile = CeremonyFile> {
  file: F;
  /** The new root (the draft). */
  root: Root;
  /** Root N, the root the draft follows (root-change files only). */
  trusted: Root | null;
  /** Keyids whose signatures verified. */
  signedBy: string[];
  /** Signatures against root N's root keys (root-change) and against the draft's own. */
  progress: { trusted: Progress | null; draft: Progress };
  /** Both thresholds are met: the file can be submitted. */
  complete: boolean;
  /** SHA-256 of the canonical bytes: compare it across machines. */
  fingerprint: string;
  /** The summary of what changes (root-change files), as recomputed here. */
  summary: string[];
}

/** A verified root-change file: root N and the progress against its keys are known. */
export type VerifiedRootChange = VerifiedCeremony<RootChangeFile> & {
  trusted: Root;
  progress: { trusted: Progress; draft: Progress };
};

export const ALTERED_HINT =
  "get an unaltered copy from the machine that wrote it, or start the ceremony again; nothing was signed or submitted";

export function readCeremonyFile(path: string): CeremonyFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw usageError(`ceremony file ${path} does not exist`);
    throw failed(`${path} is not a ceremony file: ${(error as Error).message}`);
  }
  const file = json as Partial<CeremonyFile>;
  const shaped =
    file?.format === CEREMONY_FILE_FORMAT &&
    (file.kind === "bootstrap" || file.kind === "root-change") &&
    Boolean(file.signed) &&
    Array.isArray(file.signatures) &&
    (file.kind !== "root-change" ||
      (Array.isArray(file.rootChain) && typeof file.canonical === "string" && Boolean(file.ceremony))) &&
    (file.kind !== "bootstrap" || Array.isArray(file.settingsSignatures));
  if (!shaped) throw failed(`${path} is not a tuf-edge ceremony file (${CEREMONY_FILE_FORMAT})`);
  return file as CeremonyFile;
}

export async function writeCeremonyFile(path: string, file: CeremonyFile | TargetsChangeFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
}

/** The bytes a bootstrap signer signs besides root v1: the repository, root v1's SHA-256 and the settings. */
export function settingsStatement(repository: string, fingerprint: string, settings: Record<string, unknown>) {
  return canonicalBytes({ _type: "tuf-edge-bootstrap-settings", repository, root_sha256: fingerprint, settings });
}

async function parseOrRefuse(path: string, signed: unknown, what: string): Promise<Root> {
  try {
    return await parseRoot(signed);
  } catch (error) {
    if (error instanceof TufError) throw failed(`${path}: ${what} is not a valid root: ${error.message}`);
    throw error;
  }
}

export async function verifies(key: Key | undefined, sig: string, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  if (!key) return false;
  try {
    return await verifySignature(key, fromHex(sig), message);
  } catch {
    return false;
  }
}

/**
 * Root N from the file's chain 1..N: root v1 signed by a threshold of its own
 * keys, each later root by a threshold of the one before and of its own. With
 * `pinned` (a root the key holder already trusts), the chain must contain it,
 * byte for byte in its signed part, and is walked from there.
 */
export async function verifyChain(
  path: string,
  rootChain: Envelope<Root>[],
  pinned: Root | null,
  endVersion: number,
): Promise<Root> {
  const [head, ...rest] = rootChain;
  if (!head) throw failed(`${path}: the root chain is empty`, ALTERED_HINT);
  const first = await parseOrRefuse(path, head.signed, "root v1 of the chain");
  let trusted: Root;
  try {
    await verifyThreshold(head, first.roles.root, first.keys, "root v1");
    trusted = first;
    for (const next of rest) {
      if (pinned && trusted.version === pinned.version) break;
      trusted = await verifyRootSuccessor(trusted, next);
    }
  } catch (error) {
    if (error instanceof TufError)
      throw failed(`${path}: the root chain in the file does not verify: ${error.message}`, ALTERED_HINT);
    throw error;
  }
  if (pinned) {
    if (trusted.version !== pinned.version || fromUtf8(canonicalBytes(trusted)) !== fromUtf8(canonicalBytes(pinned)))
      throw failed(
        `${path}: the root chain does not contain your trusted root v${pinned.version}; this file is not for the repository you trust`,
        ALTERED_HINT,
      );
    for (const next of rootChain.slice(pinned.version)) {
      try {
        trusted = await verifyRootSuccessor(trusted, next);
      } catch (error) {
        if (error instanceof TufError)
          throw failed(
            `${path}: the root chain does not verify from your trusted root: ${error.message}`,
            ALTERED_HINT,
          );
        throw error;
      }
    }
  }
  if (trusted.version !== endVersion)
    throw failed(`${path}: the chain ends at root v${trusted.version}, but the ceremony follows root v${endVersion}`);
  return trusted;
}

/**
 * Checks everything in the file (see the module comment); throws (exit 1) if
 * anything was altered. `pinned` is the key holder's own trusted root, if given.
 */
export async function verifyCeremonyFile(
  path: string,
  file: CeremonyFile,
  pinned: Root | null = null,
): Promise<VerifiedCeremony> {
  const root = await parseOrRefuse(path, file.signed, "the draft root");
  const message = canonicalBytes(file.signed);
  const fingerprint = await sha256Hex(message);
  let trusted: Root | null = null;
  let summary: string[] = [];
  if (file.kind === "bootstrap") {
    if (root.version !== 1) throw failed(`${path}: a bootstrap root is version 1, not ${root.version}`);
  } else {
    if (fromUtf8(message) !== file.canonical)
      throw failed(`${path} was altered: its canonical bytes are not those of the draft it carries`, ALTERED_HINT);
    trusted = await verifyChain(path, file.rootChain, pinned, file.signed.version - 1);
    summary = summaryLines(trusted, root);
    if (JSON.stringify(summary) !== JSON.stringify(file.summary))
      throw failed(`${path} was altered: its summary is not what the draft changes`, ALTERED_HINT);
  }
  const keys = { ...trusted?.keys, ...root.keys };
  const eligible = new Set([...(trusted?.roles.root.keyids ?? []), ...root.roles.root.keyids]);
  const seen = new Set<string>();
  for (const signature of file.signatures) {
    if (!SignatureSchema.safeParse(signature).success)
      throw failed(`${path}: a signature entry is malformed; the file was altered`, ALTERED_HINT);
    if (seen.has(signature.keyid))
      throw failed(`${path}: two signatures by ${signature.keyid}; the file was altered`, ALTERED_HINT);
    seen.add(signature.keyid);
    if (!eligible.has(signature.keyid))
      throw failed(`${path}: a signature by ${signature.keyid}, which is not a root key here; the file was altered`);
    if (!(await verifies(keys[signature.keyid], signature.sig, message)))
      throw failed(
        `${path} was altered after it was signed: the signature by ${signature.keyid} does not verify over the root it carries`,
        ALTERED_HINT,
      );
  }
  if (file.kind === "bootstrap") await verifySettingsSignatures(path, file, root, fingerprint);
  const count = (roleRoot: Root) => {
    const ids = roleRoot.roles.root.keyids;
    return {
      signed: [...seen].filter((k) => ids.includes(k)).length,
      threshold: roleRoot.roles.root.threshold,
      of: ids.length,
    };
  };
  const progress = { trusted: trusted ? count(trusted) : null, draft: count(root) };
  const met = (p: Progress | null) => !p || p.signed >= p.threshold;
  return {
    file,
    root,
    trusted,
    signedBy: [...seen],
    progress,
    complete: met(progress.trusted) && met(progress.draft),
    fingerprint,
    summary,
  };
}

/** Every root signature of a bootstrap file comes with the same key's signature over the settings. */
async function verifySettingsSignatures(path: string, file: BootstrapFile, root: Root, fingerprint: string) {
  const statement = settingsStatement(file.repository, fingerprint, file.settings);
  for (const { keyid } of file.signatures) {
    const signature = file.settingsSignatures.find((s) => s.keyid === keyid);
    if (!signature || !(await verifies(root.keys[keyid], signature.sig, statement)))
      throw failed(
        `${path} was altered after it was signed: the repository settings (bins, validities) or its repository name are not what ${keyid} signed`,
        ALTERED_HINT,
      );
  }
}

/** Adds `signers`' signatures (replacing their earlier ones) to a verified file. */
export async function addSignatures(verified: VerifiedCeremony, signers: Signer[]): Promise<CeremonyFile> {
  const { file, fingerprint } = verified;
  const message = canonicalBytes(file.signed);
  const keep = (list: Signature[]) => list.filter((s) => !signers.some((x) => x.keyid === s.keyid));
  const signatures = keep(file.signatures);
  for (const signer of signers) signatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(message)) });
  if (file.kind !== "bootstrap") return { ...file, signatures };
  const statement = settingsStatement(file.repository, fingerprint, file.settings);
  const settingsSignatures = keep(file.settingsSignatures);
  for (const signer of signers)
    settingsSignatures.push({ keyid: signer.keyid, sig: toHex(await signer.sign(statement)) });
  return { ...file, signatures, settingsSignatures };
}

/**
 * Adds a signature made elsewhere (a hardware token, another tool) over the
 * file's canonical bytes, after checking it with the holder's public key.
 * ECDSA signatures are DER, as `openssl dgst -sha256 -sign` and PKCS#11 tools
 * with a DER option write them; Ed25519 signatures are the raw 64 bytes.
 */
export async function addExternalSignature(
  path: string,
  verified: VerifiedCeremony,
  external: ExternalSignature,
): Promise<CeremonyFile> {
  const { file, root, trusted } = verified;
  if (file.kind === "bootstrap")
    throw usageError(
      "a bootstrap file also needs a signature over its settings; sign it with a key file, or bootstrap with --public-key keys and a root-change ceremony later",
    );
  const key = root.keys[external.keyid] ?? trusted?.keys[external.keyid];
  if (!key) throw usageError(`${external.keyid} is not a key of this ceremony's roots`);
  await requireSigns({ ...external, key }, canonicalBytes(file.signed), path);
  return { ...file, signatures: withSignature(file.signatures, external.signature) };
}
