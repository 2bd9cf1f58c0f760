/** Reads what the log page shows from R2: the checkpoint, its signatures checked, and one entry proven from tiles. */
import { CosignatureV1Verifier, parseCheckpoint, verifierFromKey, verifyCosignatures } from "../log/checkpoint.ts";
import { openNote, parseNote } from "../log/note.ts";
import { fromUtf8, toHex } from "../lib/bytes.ts";
import type { LogEntryView, LogPageProps } from "./log-page.tsx";
import { proveFromTiles } from "./log-proof.ts";
import type { Published } from "./published.ts";
import type { TopLevel } from "./resolve.ts";

export const LOG_VERIFIER_TARGET = "tuf-edge/log-verifier-key.txt";

/** The log's verifier key, as the signed top-level targets metadata lists it. */
export function logVerifierKey(top: TopLevel | null): string | null {
  const custom = top?.targets.targets[LOG_VERIFIER_TARGET]?.custom as
    | { tuf_edge_log?: { verifier_key?: unknown } }
    | undefined;
  const key = custom?.tuf_edge_log?.verifier_key;
  return typeof key === "string" ? key : null;
}

export async function checkpointView(
  text: string,
  verifierKey: string | null,
  witnesses: string[],
): Promise<NonNullable<LogPageProps["checkpoint"]>> {
  const note = parseNote(text);
  const checkpoint = parseCheckpoint(note.text);
  let logSignature: "verified" | "failed" | "no key" = "no key";
  if (verifierKey) {
    logSignature = await openNote(text, [await verifierFromKey(verifierKey)]).then(
      () => "verified" as const,
      () => "failed" as const,
    );
  }
  const witnessVerifiers = await Promise.all(witnesses.map((k) => CosignatureV1Verifier.fromKey(k)));
  const verified = await verifyCosignatures(note, witnessVerifiers).catch(() => []);
  const logName = checkpoint.origin;
  return {
    text,
    origin: checkpoint.origin,
    size: checkpoint.size,
    rootHash: toHex(checkpoint.rootHash),
    logSignature,
    cosignatures: note.signatures
      .filter((s) => s.name !== logName)
      .map((s) => ({
        name: s.name,
        keyId: s.keyId.toString(16).padStart(8, "0"),
        verified: verified.some((v) => v.name === s.name && v.keyId === s.keyId),
      })),
  };
}

export async function entryView(
  published: Published,
  index: number,
  size: number,
  rootHash: Uint8Array,
): Promise<LogEntryView> {
  const proven = await proveFromTiles(
    async (path) => {
      const file = await published.log(path, false);
      if (!file) throw new Error(`the log has no ${path}`);
      return file.bytes;
    },
    index,
    size,
    rootHash,
  );
  const entry = fromUtf8(proven.entry);
  const parsed = JSON.parse(entry) as { path?: unknown };
  return {
    index,
    entry,
    path: typeof parsed.path === "string" ? parsed.path : null,
    leafHash: proven.leafHash,
    proof: proven.proof,
    verified: proven.verified,
  };
}
