/**
 * Finds a target the way a TUF client does: timestamp → snapshot → the
 * spec's preorder search through targets and its delegations
 * (src/tuf/delegations.ts searchTarget), checking every file's signatures
 * against its delegator's keys and threshold and its version against the
 * snapshot. Counts the requests and bytes, for tests and the bench. Runs in
 * Node and workerd (fetch-like access only).
 */
import { fromUtf8 } from "../../src/lib/bytes.ts";
import { delegatedRolesFor, type SearchResult, searchTarget } from "../../src/tuf/delegations.ts";
import { HashBins } from "../../src/tuf/hash-bins.ts";
import type { Key } from "../../src/tuf/key.ts";
import { type Envelope, parseEnvelope, type RoleKeys, verifyThreshold } from "../../src/tuf/metadata.ts";
import type { Root } from "../../src/tuf/root.ts";
import type { TargetFile, Targets } from "../../src/tuf/targets.ts";

/** Reads one metadata file by name ("timestamp.json", "3.snapshot.json"); null if there is none. */
export type ReadMetadata = (file: string) => Promise<Uint8Array | null>;

export interface Walk {
  found: SearchResult<TargetFile> | null;
  /** Metadata files read, in order, and their total bytes. */
  files: string[];
  bytes: number;
}

/** The keys and threshold a delegator gives `name`, or null if it delegates no such role. */
function authority(delegator: Targets, name: string): { role: RoleKeys; keys: Record<string, Key> } | null {
  const delegations = delegator.delegations;
  if (!delegations) return null;
  if (delegations.succinct_roles) {
    const { bit_length, name_prefix } = delegations.succinct_roles;
    if (new HashBins(bit_length, name_prefix).indexOf(name) < 0) return null;
    return { role: delegations.succinct_roles, keys: delegations.keys };
  }
  const role = delegations.roles?.find((r) => r.name === name);
  return role ? { role, keys: delegations.keys } : null;
}

export async function walkToTarget(read: ReadMetadata, root: Root, path: string): Promise<Walk> {
  const files: string[] = [];
  let bytes = 0;
  const open = async (file: string): Promise<Envelope<Record<string, unknown>>> => {
    const body = await read(file);
    if (!body) throw new Error(`${file} is not published`);
    files.push(file);
    bytes += body.length;
    return parseEnvelope(
      body,
      file === "timestamp.json" ? "timestamp" : file.endsWith(".snapshot.json") ? "snapshot" : "targets",
    );
  };
  const timestamp = await open("timestamp.json");
  await verifyThreshold(timestamp, root.roles.timestamp, root.keys, "timestamp");
  const snapshotVersion = (timestamp.signed as { meta: Record<string, { version: number }> }).meta["snapshot.json"]
    ?.version;
  const snapshot = await open(`${snapshotVersion}.snapshot.json`);
  await verifyThreshold(snapshot, root.roles.snapshot, root.keys, "snapshot");
  const meta = (snapshot.signed as { meta: Record<string, { version: number }> }).meta;

  const loaded = new Map<string, Targets>();
  const found = await searchTarget<TargetFile>(path, async (name, delegatorName) => {
    const version = meta[`${name}.json`]?.version;
    if (version === undefined) return null;
    const envelope = await open(`${version}.${name}.json`);
    if (name === "targets") {
      await verifyThreshold(envelope, root.roles.targets, root.keys, "targets");
    } else {
      const delegator = loaded.get(delegatorName);
      const granted = delegator && authority(delegator, name);
      if (!granted) return null;
      await verifyThreshold(envelope, granted.role, granted.keys, name);
    }
    const signed = envelope.signed as unknown as Targets;
    if (signed.version !== version) throw new Error(`${name}: version ${signed.version}, the snapshot says ${version}`);
    loaded.set(name, signed);
    return {
      targets: signed.targets,
      children: (target) => delegatedRolesFor(signed.delegations, target),
    };
  });
  return { found, files, bytes };
}

/** A ReadMetadata over an HTTP base URL (`…/{repo}/metadata`). */
export function httpMetadata(baseUrl: string, fetchFn: typeof fetch = fetch): ReadMetadata {
  return async (file) => {
    const response = await fetchFn(`${baseUrl}/${file}`);
    if (response.status === 404) return null;
    if (!response.ok)
      throw new Error(
        `${file}: HTTP ${response.status} ${fromUtf8(new Uint8Array(await response.arrayBuffer())).slice(0, 200)}`,
      );
    return new Uint8Array(await response.arrayBuffer());
  };
}
