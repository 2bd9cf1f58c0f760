/**
 * One update of a TUF client's trusted metadata (spec §5.3–§5.6) and the
 * download of a target file (§5.7), over a caller-supplied way to fetch
 * files: this module performs no I/O itself. Every file that verifies is
 * handed to `persist` at once (§5.3.7, §5.4.5, §5.5.7, §5.6.6), so a later
 * failure never undoes the rollback protection an earlier step gained.
 */
import { InvalidMetadataError } from "../errors.ts";
import { rolesForTarget, searchTarget } from "../delegations.ts";
import { checkLengthAndHashes } from "./file-check.ts";
import type { MetaFile, TargetInfo } from "./remote-roles.ts";
import { type TrustedFiles, TrustedMetadata } from "./trusted-metadata.ts";

type Bytes = Uint8Array<ArrayBuffer>;

/**
 * Fetches a file of the repository: a metadata file by name ("15.root.json",
 * "timestamp.json", a delegated role's "8.registry.npmjs.org.json"; one URL
 * segment, whatever characters the name has) or a target file by its path
 * under the targets URL (its directories kept). At
 * most `maxLength` bytes are read (a longer file is refused); null when the
 * file does not exist.
 */
export type FetchFile = (kind: "metadata" | "target", name: string, maxLength: number) => Promise<Bytes | null>;

/** Upper bounds for files whose length nothing signed names yet (python-tuf's defaults). */
export const MAX_LENGTH = { root: 512_000, timestamp: 16_384, snapshot: 2_000_000, targets: 5_000_000 } as const;

/** Root versions taken in one update (§5.3.2 "more than Y root files"); the next update continues. */
export const MAX_ROOT_ROTATIONS = 32;

export interface UpdateReport {
  rootVersion: number;
  timestampVersion: number;
  snapshotVersion: number;
  targetsVersion: number;
  /** Which files this update newly trusted. */
  changed: Array<"root" | "timestamp" | "snapshot" | "targets">;
}

export async function updateMetadata(
  trusted: TrustedFiles,
  now: Date,
  fetchFile: FetchFile,
  persist: (files: TrustedFiles) => Promise<void> | void,
): Promise<{ state: TrustedMetadata; report: UpdateReport }> {
  const state = await TrustedMetadata.load(trusted, now);
  const changed: UpdateReport["changed"] = [];
  const took = async (role: UpdateReport["changed"][number]) => {
    changed.push(role);
    await persist(state.files());
  };
  // §5.3.1–§5.3.8: walk the root chain while N+1 exists.
  for (let i = 0; i < MAX_ROOT_ROTATIONS; i++) {
    const bytes = await fetchFile("metadata", `${state.root.version + 1}.root.json`, MAX_LENGTH.root);
    if (!bytes) break;
    await state.updateRoot(bytes);
    await took("root");
  }
  // §5.3.10 (freeze) is checked by updateTimestamp; §5.3.12: file names follow consistent_snapshot.
  const consistent = state.root.consistent_snapshot;
  const need = async (name: string, maxLength: number): Promise<Bytes> => {
    const bytes = await fetchFile("metadata", name, maxLength);
    if (!bytes) throw new InvalidMetadataError(`the repository has no ${name}`);
    return bytes;
  };
  const versioned = (role: "snapshot" | "targets", meta: MetaFile) =>
    need(consistent ? `${meta.version}.${role}.json` : `${role}.json`, meta.length ?? MAX_LENGTH[role]);
  if (await state.updateTimestamp(await need("timestamp.json", MAX_LENGTH.timestamp))) await took("timestamp");
  const snapshotMeta = state.snapshotToFetch();
  if (snapshotMeta) {
    await state.updateSnapshot(await versioned("snapshot", snapshotMeta));
    await took("snapshot");
  }
  const targetsMeta = state.targetsToFetch();
  if (targetsMeta) {
    await state.updateTargets(await versioned("targets", targetsMeta));
    await took("targets");
  }
  return {
    state,
    report: {
      rootVersion: state.root.version,
      timestampVersion: state.timestamp?.version ?? 0,
      snapshotVersion: state.snapshot?.version ?? 0,
      targetsVersion: state.targets?.version ?? 0,
      changed,
    },
  };
}

/**
 * §5.6.7: the target info for `path`, found by the spec's preorder
 * depth-first search from the top-level targets through named delegations
 * (python-tuf's order and limits, src/tuf/delegations.ts). Delegated roles
 * are downloaded and verified as the search reaches them, and persisted.
 * Null when no role lists the path.
 */
export async function findTarget(
  state: TrustedMetadata,
  path: string,
  fetchFile: FetchFile,
  persist: (files: TrustedFiles) => Promise<void> | void,
): Promise<TargetInfo | null> {
  const consistent = state.root.consistent_snapshot;
  const found = await searchTarget<TargetInfo>(path, async (name, delegator) => {
    const meta = name === "targets" ? null : state.delegatedToFetch(name);
    if (meta) {
      const file = consistent ? `${meta.version}.${name}.json` : `${name}.json`;
      const bytes = await fetchFile("metadata", file, meta.length ?? MAX_LENGTH.targets);
      if (!bytes) throw new InvalidMetadataError(`the repository has no ${file}`);
      await state.updateDelegatedTargets(bytes, name, delegator);
      await persist(state.files());
    }
    const role = state.trustedTargets(name);
    if (!role) throw new InvalidMetadataError(`no trusted ${name}`);
    return {
      targets: role.targets,
      children: async (p) => (role.delegations ? rolesForTarget(role.delegations, p) : []),
    };
  });
  return found?.target ?? null;
}

/**
 * §5.7: downloads a target file and returns its bytes once their length and
 * hashes are those `info` lists. With consistent snapshots the file is
 * fetched by its hash (`dir/<sha256>.<name>`).
 */
export async function downloadTarget(
  state: TrustedMetadata,
  path: string,
  info: TargetInfo,
  fetchFile: FetchFile,
): Promise<Bytes> {
  const slash = path.lastIndexOf("/");
  const hash = info.hashes.sha256 ?? Object.values(info.hashes)[0];
  const name =
    state.root.consistent_snapshot && hash ? `${path.slice(0, slash + 1)}${hash}.${path.slice(slash + 1)}` : path;
  const bytes = await fetchFile("target", name, info.length);
  if (!bytes) throw new InvalidMetadataError(`the repository has no target ${name}`);
  await checkLengthAndHashes(path, bytes, info);
  return bytes;
}
