/**
 * What the target page's script checks, with tuf-edge's own pure TUF and
 * Merkle code (src/tuf, src/log; WebCrypto underneath), against the same
 * files any client downloads:
 *   1. root 1 has the pinned SHA-256 and signs itself; each later root is
 *      signed by a threshold of the previous root's keys and of its own;
 *   2. timestamp → snapshot (length and SHA-256) → targets → the spec's
 *      preorder search through its delegations (named roles, hash bins) to
 *      the role that lists the target, each signed by a threshold of the
 *      keys its delegator names, at the version its parent names, and not expired;
 *   3. that role's entry is what the page shows (length, digests, yank state);
 *   4. the log checkpoint is signed by the log key the signed targets
 *      metadata names, and is consistent with the log head the timestamp
 *      signed;
 *   5. each log entry about the target is included in that checkpoint, and
 *      the latest one has the signed digests;
 *   6. each attestation the entry lists has the listed SHA-256.
 * Every step is reported; the first failure stops the check with its reason.
 */
import { openCheckpoint, verifierFromKey } from "../log/checkpoint.ts";
import { decodeEntry } from "../log/entry.ts";
import { consistencyProof, verifyConsistency } from "../log/merkle.ts";
import { subtreeHashesFromTiles, type Tile } from "../log/tiles.ts";
import { proveFromTiles } from "../pages/log-proof.ts";
import { fromHex } from "../lib/bytes.ts";
import { sha256Hex } from "../lib/digest.ts";
import { delegatedRolesFor, searchTarget } from "../tuf/delegations.ts";
import { type Envelope, parseEnvelope, type RoleType, verifyThreshold } from "../tuf/metadata.ts";
import { parseRoot, type Root, verifyRootSuccessor } from "../tuf/root.ts";
import type { TargetFile, Targets } from "../tuf/targets.ts";

export interface Step {
  check: string;
  ok: boolean;
  detail: string;
}

export interface TargetClaims {
  /** "/<repo>": where the repository's files are. */
  base: string;
  path: string;
  pinnedRootSha256: string;
  length: number | null;
  hashes: Record<string, string> | null;
  yanked: boolean;
  logIndexes: number[];
}

/** Fetches a file's bytes; null when it does not exist (404). */
export type Fetcher = (url: string) => Promise<Uint8Array<ArrayBuffer> | null>;

export class CheckFailed extends Error {
  override name = "CheckFailed";
}

const LOG_KEY_TARGET = "tuf-edge/log-verifier-key.txt";
const MAX_ROOTS = 1000;

export async function checkTarget(claims: TargetClaims, fetchBytes: Fetcher, now = new Date()): Promise<Step[]> {
  const steps: Step[] = [];
  const pass = (check: string, detail: string) => steps.push({ check, ok: true, detail });
  // Each file is fetched once; the files every check needs are asked for at
  // once, so their round trips overlap (the checks still run in order).
  const fetched = new Map<string, Promise<Uint8Array<ArrayBuffer> | null>>();
  const get = (url: string) => {
    const file = fetched.get(url) ?? fetchBytes(url);
    fetched.set(url, file);
    return file;
  };
  for (const file of ["metadata/1.root.json", "metadata/2.root.json", "metadata/timestamp.json", "log/checkpoint"])
    get(`${claims.base}/${file}`).catch(() => null);
  const need = async (url: string): Promise<Uint8Array<ArrayBuffer>> => {
    const bytes = await get(url);
    if (!bytes) throw new CheckFailed(`${url} is missing`);
    return bytes;
  };
  const notExpired = (name: string, signed: { expires: string }) => {
    if (Date.parse(signed.expires) <= now.getTime()) throw new CheckFailed(`${name} expired at ${signed.expires}`);
  };
  const open = async <T>(
    file: string,
    type: RoleType,
    role: { keyids: string[]; threshold: number },
    keys: Root["keys"],
    name: string,
    version?: number,
  ): Promise<{ envelope: Envelope<T>; bytes: Uint8Array<ArrayBuffer> }> => {
    const bytes = await need(`${claims.base}/metadata/${file}`);
    const envelope = parseEnvelope(bytes, type) as Envelope<T & { version: number; expires: string }>;
    await verifyThreshold(envelope, role, keys, name);
    if (version !== undefined && envelope.signed.version !== version)
      throw new CheckFailed(`${name} is version ${envelope.signed.version}, its parent names ${version}`);
    notExpired(name, envelope.signed);
    return { envelope, bytes };
  };

  try {
    // 1. The root chain from the pinned root.
    const first = await need(`${claims.base}/metadata/1.root.json`);
    const firstSha = await sha256Hex(first);
    if (firstSha !== claims.pinnedRootSha256)
      throw new CheckFailed(`root 1 has SHA-256 ${firstSha}, not the pinned ${claims.pinnedRootSha256}`);
    const firstEnvelope = parseEnvelope(first, "root");
    let root = await parseRoot(firstEnvelope.signed);
    await verifyThreshold(firstEnvelope, root.roles.root, root.keys, "root 1");
    for (let v = 2; v <= MAX_ROOTS; v++) {
      const next = await get(`${claims.base}/metadata/${v}.root.json`);
      if (!next) break;
      get(`${claims.base}/metadata/${v + 1}.root.json`).catch(() => null);
      root = await verifyRootSuccessor(root, parseEnvelope(next, "root"));
    }
    notExpired(`root ${root.version}`, root);
    pass("Root chain", `root 1 has the pinned SHA-256; roots 1 to ${root.version} each signed by a threshold`);

    // 2. timestamp → snapshot → targets → the delegations to the role that lists it.
    const ts = await open<{
      meta: { "snapshot.json": { version: number; length: number; hashes: { sha256: string } } };
    }>("timestamp.json", "timestamp", root.roles.timestamp, root.keys, "timestamp");
    const tsSigned = ts.envelope.signed as unknown as Record<string, unknown> & {
      version: number;
      meta: { "snapshot.json": { version: number; length: number; hashes: { sha256: string } } };
    };
    const snapMeta = tsSigned.meta["snapshot.json"];
    pass("Timestamp", `version ${tsSigned.version}, signed by the root's timestamp key(s), not expired`);
    const snapshot = await open<{ meta: Record<string, { version: number }> }>(
      `${snapMeta.version}.snapshot.json`,
      "snapshot",
      root.roles.snapshot,
      root.keys,
      "snapshot",
      snapMeta.version,
    );
    if (snapshot.bytes.length !== snapMeta.length || (await sha256Hex(snapshot.bytes)) !== snapMeta.hashes.sha256)
      throw new CheckFailed("the snapshot's length or SHA-256 is not what the timestamp signed");
    pass("Snapshot", `version ${snapMeta.version}: length and SHA-256 as the timestamp says, signed, not expired`);
    const meta = snapshot.envelope.signed.meta;
    const targetsVersion = meta["targets.json"]?.version;
    if (!targetsVersion) throw new CheckFailed("the snapshot lists no targets.json");
    const targets = await open<Targets>(
      `${targetsVersion}.targets.json`,
      "targets",
      root.roles.targets,
      root.keys,
      "targets",
      targetsVersion,
    );
    const top = targets.envelope.signed;
    if (!top.delegations) throw new CheckFailed("targets delegates to no roles");
    pass(
      "Targets",
      `version ${targetsVersion}, signed, delegates to ${top.delegations.succinct_roles ? "hash bins" : "named roles, then hash bins"}`,
    );
    // The spec's preorder search; each role signed by a threshold of the keys its delegator names.
    const loaded = new Map<string, Targets>([["targets", top]]);
    let bin = "targets";
    const found = await searchTarget<TargetFile>(claims.path, async (name, delegatorName) => {
      if (name === "targets") return { targets: {}, children: (p) => delegatedRolesFor(top.delegations, p) };
      const delegations = loaded.get(delegatorName)?.delegations;
      const role = delegations?.succinct_roles ?? delegations?.roles?.find((r) => r.name === name);
      const version = meta[`${name}.json`]?.version;
      if (!delegations || !role) throw new CheckFailed(`${delegatorName} does not delegate to ${name}`);
      if (!version) throw new CheckFailed(`the snapshot lists no ${name}.json`);
      const file = await open<Targets>(`${version}.${name}.json`, "targets", role, delegations.keys, name, version);
      const signed = file.envelope.signed;
      loaded.set(name, signed);
      bin = name;
      const isBin = delegations.succinct_roles !== undefined;
      pass(
        isBin ? "Hash bin" : "Delegation",
        `${name} version ${version}, signed by a threshold of the keys ${delegatorName} delegates to`,
      );
      return { targets: signed.targets, children: (p) => delegatedRolesFor(signed.delegations, p) };
    });

    // 3. The entry is what the page shows.
    const entry: TargetFile | undefined = found?.target;
    if (!entry) {
      if (claims.length !== null) throw new CheckFailed(`${bin} does not list this path, but the page shows it`);
      pass("Entry", `${bin} does not list this path, as the page says`);
    } else {
      if (claims.length === null) throw new CheckFailed(`${bin} lists this path, but the page says it does not`);
      if (entry.length !== claims.length)
        throw new CheckFailed(`the page shows ${claims.length} bytes, the signed entry says ${entry.length}`);
      for (const alg of Object.keys({ ...entry.hashes, ...claims.hashes })) {
        if ((entry.hashes as Record<string, string>)[alg] !== claims.hashes?.[alg])
          throw new CheckFailed(`the page's ${alg} is not the signed entry's`);
      }
      const yanked = (entry.custom as { yanked?: unknown } | undefined)?.yanked === true;
      if (yanked !== claims.yanked)
        throw new CheckFailed(`the page says ${claims.yanked ? "yanked" : "available"}, the signed entry does not`);
      pass("Entry", `size, ${Object.keys(entry.hashes).join(" and ")} and yank state as shown, signed in ${bin}`);
    }

    // 4. The log checkpoint, by the key the signed targets metadata names.
    const vkey = (
      targets.envelope.signed.targets[LOG_KEY_TARGET]?.custom as { tuf_edge_log?: { verifier_key?: string } }
    )?.tuf_edge_log?.verifier_key;
    if (!vkey) throw new CheckFailed("the signed targets metadata names no log key");
    const note = new TextDecoder().decode(await need(`${claims.base}/log/checkpoint`));
    const { checkpoint } = await openCheckpoint(note, await verifierFromKey(vkey));
    const logFiles = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
    const readLog = (path: string) => {
      const file = logFiles.get(path) ?? need(`${claims.base}/log/${path}`);
      logFiles.set(path, file);
      return file;
    };
    const head = tsSigned["x-tuf-edge-log"] as { size: number; root_hash: string } | undefined;
    if (head && head.size > 0) {
      if (head.size > checkpoint.size)
        throw new CheckFailed(`the checkpoint (size ${checkpoint.size}) is older than the timestamp's log head`);
      const source = subtreeHashesFromTiles(checkpoint.size, (_t: Tile, path: string) => readLog(path));
      const proof = head.size === checkpoint.size ? [] : await consistencyProof(source, head.size, checkpoint.size);
      if (!(await verifyConsistency(head.size, checkpoint.size, proof, fromHex(head.root_hash), checkpoint.rootHash)))
        throw new CheckFailed("the checkpoint is not consistent with the log head the timestamp signed");
    }
    pass(
      "Log checkpoint",
      `size ${checkpoint.size}, signed by the log key from targets, consistent with the timestamp`,
    );

    // 5. The target's log entries are in it.
    let latestTarget: { hashes: Record<string, string> } | null = null;
    const attested = new Set<string>();
    const proven = await Promise.all(
      claims.logIndexes.map((index) => {
        if (index >= checkpoint.size) throw new CheckFailed(`log entry ${index} is beyond the checkpoint`);
        return proveFromTiles(readLog, index, checkpoint.size, checkpoint.rootHash);
      }),
    );
    for (const { index, verified, entry: bytes } of proven) {
      if (!verified) throw new CheckFailed(`log entry ${index} is not included in the checkpoint`);
      const logged = decodeEntry(bytes);
      if (!("path" in logged) || logged.path !== claims.path)
        throw new CheckFailed(`log entry ${index} is not about this target`);
      if (logged.type === "attestation.add") attested.add(logged.bundle_sha256);
      else latestTarget = { hashes: logged.hashes as Record<string, string> };
    }
    if (entry && latestTarget) {
      for (const [alg, hex] of Object.entries(latestTarget.hashes)) {
        if ((entry.hashes as Record<string, string>)[alg] !== hex)
          throw new CheckFailed(`the latest log entry's ${alg} is not the signed entry's`);
      }
    }
    pass(
      "Log entries",
      `${claims.logIndexes.length} entr${claims.logIndexes.length === 1 ? "y" : "ies"} about this target included in the checkpoint`,
    );

    // 6. Attestations by digest.
    const listed = (
      (entry?.custom as { attestations?: Array<{ sha256: string }> } | undefined)?.attestations ?? []
    ).map((a) => a.sha256);
    await Promise.all(
      listed.map(async (sha) => {
        const bytes = await need(`${claims.base}/attestation-bundles/${sha}.json`);
        if ((await sha256Hex(bytes)) !== sha) throw new CheckFailed(`attestation ${sha.slice(0, 12)}… has other bytes`);
        if (claims.logIndexes.length > 0 && !attested.has(sha))
          throw new CheckFailed(`attestation ${sha.slice(0, 12)}… has no log entry`);
      }),
    );
    pass("Attestations", `${listed.length} listed in the signed entry, each with the listed SHA-256`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    steps.push({ check: "Failed", ok: false, detail: reason });
  }
  return steps;
}
