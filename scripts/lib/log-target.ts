/**
 * What a package consumer asks of a repository's transparency log: the log's
 * verifier key as TUF delivers it (the target "tuf-edge/log-verifier-key.txt"
 * of the verified top-level targets), and a proof that the log records a
 * target's path, checked against a checkpoint signed with that key
 * (log-client.ts).
 *
 * Uses only fetch and WebCrypto, except {@link trustedLogVerifierKey} (tuf-js, Node).
 */
import { decodeEntry, type LogEntry } from "../../src/log/entry.ts";
import { leafHash, verifyInclusion } from "../../src/log/merkle.ts";
import { toHex } from "../../src/lib/bytes.ts";
import {
  type DownloadStats,
  type FetchLike,
  type InclusionProofResponse,
  LOG_VERIFIER_KEY_TARGET,
  LogClient,
  LogHttpError,
  LogVerificationError,
} from "./log-client.ts";

export interface InclusionForTargetOptions {
  baseUrl: string;
  repo: string;
  /** The log's verifier key, `<origin>+<key id>+<base64>` (see {@link trustedLogVerifierKey}). */
  verifierKey: string;
  /** The target path. */
  path: string;
  /** The expected checkpoint origin (default: the verifier key's name). */
  origin?: string;
  fetch?: FetchLike;
  stats?: DownloadStats;
}

export interface TargetInclusion {
  path: string;
  /** The latest log entry about the path (a target.add, or a later remove, yank or unyank; or an attestation). */
  entry: LogEntry;
  index: number;
  leafHash: string;
  /** The verified checkpoint the entry is included in. */
  checkpoint: { origin: string; size: number; rootHash: string; note: string };
  stats: DownloadStats;
}

/**
 * Proves that the log the repository signed records `path`: fetches and
 * verifies the checkpoint, asks for the inclusion proof of the latest entry
 * about the path in exactly that tree, checks the entry is about the path,
 * recomputes its leaf hash from its bytes and verifies the proof against the
 * checkpoint's root. Returns the decoded entry; throws a
 * {@link LogVerificationError} (or {@link LogHttpError}) saying what failed.
 */
export async function verifyInclusionForTarget(options: InclusionForTargetOptions): Promise<TargetInclusion> {
  const client = new LogClient(options);
  const checkpoint = await client.checkpoint(options.verifierKey, options.origin);
  if (checkpoint.size === 0)
    throw new LogVerificationError("not_in_log", `the log is empty: no entry about "${options.path}"`);
  let proof: InclusionProofResponse;
  try {
    proof = await client.inclusionProof({ path: options.path }, checkpoint.size);
  } catch (error) {
    if (error instanceof LogHttpError && error.status === 404) {
      throw new LogVerificationError(
        "not_in_log",
        `the log ${checkpoint.origin} has no entry about "${options.path}" in its first ${checkpoint.size} entries`,
        { cause: error },
      );
    }
    throw error;
  }
  if (proof.size !== checkpoint.size) {
    throw new LogVerificationError(
      "malformed_response",
      `asked for a proof in the tree of ${checkpoint.size} entries, got one for ${proof.size}`,
    );
  }
  let entry: LogEntry;
  try {
    entry = decodeEntry(proof.entry);
  } catch (cause) {
    throw new LogVerificationError(
      "malformed_response",
      `entry ${proof.index} is not a valid log entry: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!("path" in entry) || entry.path !== options.path) {
    throw new LogVerificationError(
      "malformed_response",
      `asked for an entry about "${options.path}", got entry ${proof.index} (${entry.type}${"path" in entry ? ` "${entry.path}"` : ""})`,
    );
  }
  const leaf = await leafHash(proof.entry);
  if (!(await verifyInclusion(leaf, proof.index, checkpoint.size, proof.proof, checkpoint.rootHash))) {
    throw new LogVerificationError(
      "inclusion_proof_failed",
      `the inclusion proof of entry ${proof.index} ("${options.path}") does not lead to the root of the signed checkpoint (size ${checkpoint.size}, root ${checkpoint.rootHashHex})`,
    );
  }
  return {
    path: options.path,
    entry,
    index: proof.index,
    leafHash: toHex(leaf),
    checkpoint: {
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: checkpoint.rootHashHex,
      note: checkpoint.note,
    },
    stats: client.stats,
  };
}

/** The log's origin and verifier key from (TUF-verified) top-level targets metadata's `signed` part. */
export function logVerifierKeyFromTargets(signed: unknown): { origin: string; verifierKey: string } {
  const target = (
    signed as { targets?: Record<string, { custom?: { tuf_edge_log?: { origin?: unknown; verifier_key?: unknown } } }> }
  )?.targets?.[LOG_VERIFIER_KEY_TARGET];
  const info = target?.custom?.tuf_edge_log;
  if (typeof info?.origin !== "string" || typeof info.verifier_key !== "string") {
    throw new Error(
      `the targets metadata does not list ${LOG_VERIFIER_KEY_TARGET} with custom.tuf_edge_log {origin, verifier_key}`,
    );
  }
  return { origin: info.origin, verifierKey: info.verifier_key };
}

/**
 * The log's verifier key as TUF delivers it: runs a tuf-js client from the
 * pinned root (`rootBytes`, e.g. root v1) against `metadataBaseUrl`, and reads
 * custom.tuf_edge_log of the target "tuf-edge/log-verifier-key.txt" in the
 * verified top-level targets. Node only.
 */
export async function trustedLogVerifierKey(options: {
  metadataBaseUrl: string;
  rootBytes: Uint8Array;
}): Promise<{ origin: string; verifierKey: string }> {
  const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { Updater } = await import("tuf-js");
  const metadataDir = await mkdtemp(join(tmpdir(), "tuf-edge-log-key-"));
  try {
    await writeFile(join(metadataDir, "root.json"), options.rootBytes);
    const updater = new Updater({
      metadataDir,
      metadataBaseUrl: options.metadataBaseUrl,
      config: { fetchRetry: false },
    });
    await updater.refresh();
    const info = await updater.getTargetInfo(LOG_VERIFIER_KEY_TARGET);
    if (!info) throw new Error(`the repository's targets do not list ${LOG_VERIFIER_KEY_TARGET}`);
    return logVerifierKeyFromTargets({ targets: { [LOG_VERIFIER_KEY_TARGET]: { custom: info.custom } } });
  } finally {
    await rm(metadataDir, { recursive: true, force: true });
  }
}
