/** The snapshot role (spec §4.4): the version of every targets metadata file. */
import { SPEC_VERSION } from "./metadata.ts";

export interface MetaFile {
  version: number;
  length?: number;
  hashes?: { sha256: string };
}

export interface Snapshot {
  _type: "snapshot";
  spec_version: string;
  version: number;
  expires: string;
  meta: Record<string, MetaFile>;
}

/**
 * `versions` maps role names ("targets", "bins-00", …) to versions. Only
 * versions are listed (spec: length and hashes are optional in snapshot),
 * which keeps a 16,384-bin snapshot small.
 */
export function snapshot(version: number, expires: string, versions: Iterable<[string, number]>): Snapshot {
  const meta: Record<string, MetaFile> = {};
  for (const [role, v] of versions) meta[`${role}.json`] = { version: v };
  return { _type: "snapshot", spec_version: SPEC_VERSION, version, expires, meta };
}
