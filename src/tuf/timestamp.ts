/** The timestamp role (spec §4.6): the current snapshot, pinned by hash and length. */
import { SPEC_VERSION } from "./metadata.ts";
import type { MetaFile } from "./snapshot.ts";

export interface Timestamp {
  _type: "timestamp";
  spec_version: string;
  version: number;
  expires: string;
  meta: { "snapshot.json": Required<MetaFile> };
  /** Extension fields ("x-" prefixed): clients keep and sign over them as unrecognised fields. */
  [extension: `x-${string}`]: unknown;
}

export function timestamp(
  version: number,
  expires: string,
  snapshotFile: { version: number; length: number; sha256: string },
  extensions: Record<`x-${string}`, unknown> = {},
): Timestamp {
  return {
    ...extensions,
    _type: "timestamp",
    spec_version: SPEC_VERSION,
    version,
    expires,
    meta: {
      "snapshot.json": {
        version: snapshotFile.version,
        length: snapshotFile.length,
        hashes: { sha256: snapshotFile.sha256 },
      },
    },
  };
}
