/**
 * The checks a root v1 must pass before a repository is bootstrapped with it.
 * Pure apart from signature verification; nothing is written here.
 */
import { failure, type Failure } from "../src/repository-api.ts";
import { TufError } from "../src/tuf/errors.ts";
import { type Envelope, EnvelopeSchema, verifyThreshold } from "../src/tuf/metadata.ts";
import { parseRoot, type Root } from "../src/tuf/root.ts";

const ONLINE_ROLES = ["targets", "snapshot", "timestamp"] as const;

export async function verifyBootstrapRoot(
  envelope: Envelope<unknown>,
  onlineKeyId: string,
  now: Date,
): Promise<{ ok: true; root: Root } | Failure> {
  const invalid = (detail: string) => failure(422, "invalid_root", detail);
  if (!EnvelopeSchema.safeParse(envelope).success) return invalid("root is not a signed metadata envelope");
  let root: Root;
  try {
    root = await parseRoot(envelope.signed);
  } catch (error) {
    if (error instanceof TufError) return invalid(error.message);
    throw error;
  }
  if (root.version !== 1) return invalid(`a repository starts at root version 1, not ${root.version}`);
  if (!root.consistent_snapshot)
    return invalid("consistent_snapshot must be true: tuf-edge serves consistent snapshots");
  if (Date.parse(root.expires) <= now.getTime()) return invalid(`root expired at ${root.expires}`);
  for (const role of ONLINE_ROLES) {
    const { keyids, threshold } = root.roles[role];
    if (keyids.length !== 1 || keyids[0] !== onlineKeyId || threshold !== 1) {
      return invalid(`role ${role} must name exactly this repository's online key ${onlineKeyId}, threshold 1`);
    }
  }
  if (root.roles.root.keyids.includes(onlineKeyId)) return invalid("the online key must not be a root key");
  try {
    await verifyThreshold(envelope, root.roles.root, root.keys, "root");
  } catch (error) {
    if (error instanceof TufError) return invalid(error.message);
    throw error;
  }
  return { ok: true, root };
}
