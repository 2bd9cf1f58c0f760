/**
 * An offline bootstrap ceremony file: root v1's signed part, the signatures
 * collected so far and the repository settings, carried between an online
 * machine and air-gapped ones. Every signature is verified locally whenever
 * the file is read: a file whose root was edited after it was signed is
 * refused before anything is signed or submitted.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { canonicalBytes } from "../../src/tuf/canonical.ts";
import { fromHex, sha256Hex } from "../../src/tuf/encoding.ts";
import { TufError } from "../../src/tuf/errors.ts";
import { type Signature, SignatureSchema } from "../../src/tuf/metadata.ts";
import { parseRoot, type Root } from "../../src/tuf/root.ts";
import { verifySignature } from "../../src/tuf/verify.ts";
import { failed, usageError } from "./exit.ts";

export const CEREMONY_FILE_FORMAT = "tuf-edge-ceremony/1";

export interface CeremonyFile {
  format: typeof CEREMONY_FILE_FORMAT;
  kind: "bootstrap";
  url: string;
  repository: string;
  created: string;
  /** Repository settings sent with the bootstrap (not signed: review them before submitting). */
  settings: Record<string, unknown>;
  /** Root v1's signed part. */
  signed: Root;
  signatures: Signature[];
}

export interface VerifiedCeremony {
  file: CeremonyFile;
  root: Root;
  /** Keyids whose signatures verified. */
  signedBy: string[];
  threshold: number;
  /** SHA-256 of the canonical bytes: compare it across machines. */
  fingerprint: string;
}

export function readCeremonyFile(path: string): CeremonyFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw usageError(`ceremony file ${path} does not exist`);
    throw failed(`${path} is not a ceremony file: ${(error as Error).message}`);
  }
  const file = json as Partial<CeremonyFile>;
  if (
    file?.format !== CEREMONY_FILE_FORMAT ||
    file.kind !== "bootstrap" ||
    !file.signed ||
    !Array.isArray(file.signatures)
  ) {
    throw failed(`${path} is not a tuf-edge bootstrap ceremony file (${CEREMONY_FILE_FORMAT})`);
  }
  return file as CeremonyFile;
}

/** Checks the root and every signature in the file; throws (exit 1) if anything was altered. */
export async function verifyCeremonyFile(path: string, file: CeremonyFile): Promise<VerifiedCeremony> {
  let root: Root;
  try {
    root = await parseRoot(file.signed);
  } catch (error) {
    if (error instanceof TufError) throw failed(`${path}: the draft root is not valid: ${error.message}`);
    throw error;
  }
  if (root.version !== 1) throw failed(`${path}: a bootstrap root is version 1, not ${root.version}`);
  const message = canonicalBytes(file.signed);
  const seen = new Set<string>();
  for (const signature of file.signatures) {
    if (!SignatureSchema.safeParse(signature).success)
      throw failed(`${path}: a signature entry is malformed; the file was altered`);
    if (seen.has(signature.keyid)) throw failed(`${path}: two signatures by ${signature.keyid}; the file was altered`);
    seen.add(signature.keyid);
    const key = root.keys[signature.keyid];
    if (!key || !root.roles.root.keyids.includes(signature.keyid)) {
      throw failed(
        `${path}: a signature by ${signature.keyid}, which is not one of the root keys; the file was altered`,
      );
    }
    let ok = false;
    try {
      ok = await verifySignature(key, fromHex(signature.sig), message);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw failed(
        `${path} was altered after it was signed: the signature by ${signature.keyid} does not verify over the root it carries`,
        "get an unaltered copy from the machine that wrote it, or start the ceremony again; nothing was signed or submitted",
      );
    }
  }
  return {
    file,
    root,
    signedBy: [...seen],
    threshold: root.roles.root.threshold,
    fingerprint: await sha256Hex(message),
  };
}

export async function writeCeremonyFile(path: string, file: CeremonyFile): Promise<void> {
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
}
