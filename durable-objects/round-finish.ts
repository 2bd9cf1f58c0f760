/**
 * A round's finish (publisher.ts, steps 2 to 4), once its roles are staged:
 * the log's new entries hashed; the snapshot listing every role's version
 * signed, and stored with any new root and the log's tiles and checkpoint;
 * only then the timestamp that points at that snapshot and commits to that
 * log; and, in the same synchronous block as the timestamp's record, the
 * start of the commit that makes the round's versions current (step 5,
 * round-commit.ts). Each part is timed in the round's phases
 * (round-phases.ts).
 */
import { sha256Hex } from "../src/lib/digest.ts";
import { signAssembled, signJoined, versionMember } from "../src/tuf/assembled.ts";
import { expiresAt } from "../src/tuf/expiry.ts";
import { sign } from "../src/tuf/metadata.ts";
import type { Signer } from "../src/tuf/signer.ts";
import { snapshot } from "../src/tuf/snapshot.ts";
import { timestamp } from "../src/tuf/timestamp.ts";
import type { RepositoryBucket } from "../src/storage/repository-bucket.ts";
import type { RootHistory } from "./root-history.ts";
import type { Settings } from "./settings.ts";
import type { RoleTable, RoleVersion } from "./role-table.ts";
import type { RoundPhases } from "./round-phases.ts";
import type { SnapshotParts } from "./snapshot-parts.ts";
import type { LogHead, TransparencyLog } from "./transparency-log.ts";
import type { Turns } from "./turns.ts";
import { withWriteWindow } from "./write-window.ts";

/** What a round's finish uses of the repository (the publisher's dependencies include these: publisher.ts). */
export interface FinishSources {
  bucket: RepositoryBucket;
  roots: RootHistory;
  settings: () => Settings;
  signer: () => Promise<Signer>;
  now: () => Date;
  /** Drops a replaced file from the edge cache (best effort). */
  purge: (r2Key: string) => Promise<void>;
  /** The transparency log: every published file is recorded, and each timestamp commits to its head. */
  log: TransparencyLog;
}

/** A round's finish: the sources above, and the state of the publisher's round. */
export interface RoundFinishDeps extends FinishSources {
  roles: RoleTable;
  snapshotParts: SnapshotParts;
  phases: RoundPhases;
  /** The object's turns, their waits counted in the round's phases (publisher.ts). */
  turns: Pick<Turns, "next">;
  /** Step 5, called in the block that records the timestamp and starts the commit. */
  commit: () => Promise<void>;
}

/** The snapshot's signed part without its `meta` map. */
function snapshotHeader(version: number, expires: string): Record<string, unknown> {
  const { meta: _, ...header } = snapshot(version, expires, []);
  return header;
}

/** Snapshot, new roots, timestamp, then the commit that makes staged versions current. */
export async function finishRound(deps: RoundFinishDeps): Promise<void> {
  const { roles, phases } = deps;
  const signer = await deps.signer();
  // Snapshot and timestamp are signed in this one invocation: at the present.
  const now = deps.now();
  const { expiry } = deps.settings();
  await phases.time("logHash", async () => {
    await deps.turns.next();
    // The log's entries since the last round (its pushes' and the last round's files'), hashed a slice per
    // turn: the checkpoint's own hashing below is left with what arrived meanwhile.
    await deps.log.hashInTurns(() => deps.turns.next());
  });

  const snapshotVersion = roles.reserveVersion("snapshot");
  const snapshotExpires = expiresAt(expiry, "snapshot", now);
  // Every role's version, joined by SQLite in parts, of which the round rejoins those of the roles it staged
  // (snapshot-parts.ts); assembled here only if some role's name needs escaping. The bytes are the same
  // either way (test/worker/snapshot-meta.test.ts).
  const header = snapshotHeader(snapshotVersion, snapshotExpires);
  const { snapshotFile, snapshotSha } = await phases.time("snapshotSign", async () => {
    const joined = await deps.snapshotParts.joined(() => deps.turns.next());
    const snapshotFile =
      joined === null
        ? await signAssembled(
            header,
            "meta",
            [...roles.currentVersions()].map(([name, version]) => versionMember(`${name}.json`, version)),
            [signer],
          )
        : await signJoined(header, "meta", joined, [signer]);
    return { snapshotFile, snapshotSha: await sha256Hex(snapshotFile.bytes) };
  });
  // What the timestamp points to or commits to, stored at once (each wait of a round's is a wait behind
  // the object's other events): the snapshot; any new root, just before the timestamp signed under it, so
  // the moment a client can see one without the other is as short as it can be; and the log's tiles and
  // checkpoint, whose head the timestamp commits to. A failure is thrown once all three have ended.
  let log: LogHead | undefined;
  await phases.time("stores", () =>
    withWriteWindow(3, async (writes) => {
      await writes.add(async () => {
        await deps.bucket.putMetadata(`${snapshotVersion}.snapshot.json`, snapshotFile.bytes, snapshotSha);
        roles.recordStaged(
          "snapshot",
          {
            version: snapshotVersion,
            expires: snapshotExpires,
            length: snapshotFile.bytes.length,
            sha256: snapshotSha,
          },
          roles.seq("snapshot"),
        );
      });
      await writes.add(() => storeRoots(deps));
      await writes.add(async () => {
        log = await deps.log.publish(deps.bucket);
      });
    }),
  );
  if (!log) throw new Error("the log was not published");

  const head: LogHead = log;
  const snapshotMeta = { version: snapshotVersion, length: snapshotFile.bytes.length, sha256: snapshotSha };
  const stored = await phases.time("timestampStore", () => storeTimestamp(deps, snapshotMeta, head, signer, now));
  roles.recordStaged("timestamp", stored, roles.seq("timestamp"));
  // In the same block: the versions become current from here on, a part at a time, the first part at once.
  roles.startCommit();
  await deps.commit();
}

/** Stores root versions not yet in R2: a timestamp never precedes the root it is signed under. */
async function storeRoots(deps: Pick<RoundFinishDeps, "roots" | "bucket">): Promise<void> {
  for (const { version, bytes } of deps.roots.unstored()) {
    await deps.bucket.putMetadata(`${version}.root.json`, bytes, await sha256Hex(bytes));
    deps.roots.markStored(version);
  }
}

/**
 * Step 4: the timestamp, signed and stored once everything it points to is, and the edge's copy purged;
 * returns its version, for the caller to record in the block that starts the commit.
 */
async function storeTimestamp(
  deps: RoundFinishDeps,
  snapshotMeta: { version: number; length: number; sha256: string },
  log: LogHead,
  signer: Signer,
  now: Date,
): Promise<RoleVersion> {
  const version = deps.roles.reserveVersion("timestamp");
  const expires = expiresAt(deps.settings().expiry, "timestamp", now);
  const file = await sign(
    timestamp(version, expires, snapshotMeta, {
      "x-tuf-edge-log": { origin: log.origin, size: log.size, root_hash: log.rootHash },
    }),
    [signer],
  );
  const sha256 = await sha256Hex(file.bytes);
  // Everything the timestamp points to is stored: now, and only now, the timestamp.
  // It records the newest root stored, for the Worker's root visibility (src/routes/metadata.ts).
  await deps.bucket.putMetadata("timestamp.json", file.bytes, sha256, deps.roots.newestStored() ?? undefined);
  await deps.purge(deps.bucket.metadataKey("timestamp.json")).catch(() => undefined);
  return { version, expires, length: file.bytes.length, sha256 };
}
